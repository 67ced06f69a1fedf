import MuseKernels

/// A projection y = W x (+ b), with W left quantized in the mapped file.
public struct Linear: @unchecked Sendable {
  public let weight: TensorView
  public let bias: FloatBuffer?

  public var inputs: Int { weight.columns }
  public var outputs: Int { weight.rows }

  /// `output[t]` = W · `input[t]` (+ b) for `tokens` rows.
  public func callAsFunction(
    _ input: UnsafePointer<Float>, tokens: Int, output: UnsafeMutablePointer<Float>, pool: ThreadPool
  ) {
    matmul(weight, input: input, tokens: tokens, output: output, pool: pool)
    addBias(output, tokens: tokens)
  }

  /// Adds the bias (if any) to `tokens` rows of this projection's output.
  public func addBias(_ output: UnsafeMutablePointer<Float>, tokens: Int) {
    if let bias {
      for t in 0..<tokens { add(output + t * outputs, bias.pointer, count: outputs) }
    }
  }
}

public struct AttentionWeights: @unchecked Sendable {
  public let query: Linear
  public let key: Linear
  public let value: Linear
  public let output: Linear
  public let queryNorm: FloatBuffer?
  public let keyNorm: FloatBuffer?
  /// Muse Glimmer's output gate: attention output *= sigmoid(outputGate x).
  public var outputGate: Linear? = nil
  /// gpt-oss: one learned logit per query head added to the softmax denominator.
  public var sinks: FloatBuffer? = nil
}

/// A SwiGLU feed-forward network: down(silu(gate x) * up x).
public struct FeedForwardWeights: @unchecked Sendable {
  public let gate: TensorView
  public let up: TensorView
  public let down: TensorView
  public var biases: FeedForwardBiases? = nil
}

/// Biases of one SwiGLU network's three projections (gpt-oss experts).
public struct FeedForwardBiases: @unchecked Sendable {
  public let gate: FloatBuffer
  public let up: FloatBuffer
  public let down: FloatBuffer
}

/// A mixture-of-experts FFN with experts stored merged (`ffn_*_exps`, one matrix per expert).
public struct MixtureOfExpertsWeights: @unchecked Sendable {
  public let router: TensorView
  public let experts: FeedForwardWeights
  /// Qwen2-MoE's always-on expert, scaled by sigmoid(sharedGate · x).
  public let shared: FeedForwardWeights?
  public let sharedGate: FloatBuffer?
  /// gpt-oss: router bias, and one set of biases per expert.
  public var routerBias: FloatBuffer? = nil
  public var expertBiases: [FeedForwardBiases]? = nil
}

public enum FeedForwardBlock: @unchecked Sendable {
  case dense(FeedForwardWeights)
  case mixture(MixtureOfExpertsWeights)
}

public struct DecoderLayerWeights: @unchecked Sendable {
  public let attentionNorm: FloatBuffer
  public let attention: AttentionWeights
  public let feedForwardNorm: FloatBuffer
  public let feedForward: FeedForwardBlock
  /// Gemma-2-style norms of each sub-layer's output, before the residual add.
  public var postAttentionNorm: FloatBuffer? = nil
  public var postFeedForwardNorm: FloatBuffer? = nil
}

/// Reads the standard llama.cpp tensor names (`blk.N.attn_q.weight` ...) of one layer.
struct LayerLoader {
  let file: any WeightSource
  let config: TransformerConfig
  /// Holds the weights repacked for the CPU's kernels.
  let arena = WeightArena()

  func floats(_ name: String, count: Int) throws -> FloatBuffer {
    try floats(name, shape: [count])
  }

  /// A small tensor (norm, bias) dequantized whole, in ggml order.
  func floats(_ name: String, shape: [Int]) throws -> FloatBuffer {
    let view = try file.tensor(name, shape: shape)
    let count = shape.reduce(1, *)
    let buffer = FloatBuffer(count: count)
    dequantizeRow(view.type, view.data, buffer.pointer, count: count)
    return buffer
  }

  func optionalFloats(_ name: String, count: Int) throws -> FloatBuffer? {
    !file.hasTensor(name) ? nil : try floats(name, count: count)
  }

  /// A weight only `matmul` reads, repacked for the fastest kernel the CPU has
  /// (InterleavedWeights); its pages in the file are then dropped from memory.
  func matmulWeight(_ name: String, shape: [Int]) throws -> TensorView {
    let view = try file.tensor(name, shape: shape)
    let repacked = InterleavedWeights.interleaved(view, into: arena)
    if repacked.layout != view.layout { file.release(view) }
    return repacked
  }

  func linear(_ name: String, inputs: Int, outputs: Int, bias: Bool) throws -> Linear {
    let weight = try matmulWeight(name + ".weight", shape: [inputs, outputs])
    let b =
      bias ? try floats(name + ".bias", count: outputs) : try optionalFloats(name + ".bias", count: outputs)
    return Linear(weight: weight, bias: b)
  }

  func layer(_ i: Int) throws -> DecoderLayerWeights {
    let p = "blk.\(i)."
    let c = config
    let d = c.embeddingLength
    let normSizes: (Int, Int)? =
      switch c.qkNorm {
      case .none: nil
      case .perHead: (c.headDim, c.headDim)
      case .wholeProjection: (c.queryWidth, c.keyWidth)
      case .perHeadUnweighted: nil
      }
    let attentionOutput = c.headCount * c.valueHeadDim
    var attention = AttentionWeights(
      query: try linear(p + "attn_q", inputs: d, outputs: c.queryWidth, bias: c.attentionBias),
      key: try linear(p + "attn_k", inputs: d, outputs: c.keyWidth, bias: c.attentionBias),
      value: try linear(p + "attn_v", inputs: d, outputs: c.valueWidth, bias: c.attentionBias),
      output: try linear(p + "attn_output", inputs: attentionOutput, outputs: d, bias: false),
      queryNorm: try normSizes.map { try floats(p + "attn_q_norm.weight", count: $0.0) },
      keyNorm: try normSizes.map { try floats(p + "attn_k_norm.weight", count: $0.1) })
    if c.attentionOutputGate {
      attention.outputGate = try linear(p + "attn_gate", inputs: d, outputs: attentionOutput, bias: false)
    }
    if c.attentionSinks {
      attention.sinks = try floats(p + "attn_sinks.weight", count: c.headCount)
    }
    var layer = DecoderLayerWeights(
      attentionNorm: try floats(p + "attn_norm.weight", count: d),
      attention: attention,
      feedForwardNorm: try floats(p + c.feedForwardNormTensor + ".weight", count: d),
      feedForward: try feedForward(prefix: p))
    if c.postNorms {
      layer.postAttentionNorm = try floats(p + "post_attention_norm.weight", count: d)
      layer.postFeedForwardNorm = try floats(p + "post_ffw_norm.weight", count: d)
    }
    return layer
  }

  private func feedForward(prefix p: String) throws -> FeedForwardBlock {
    let c = config
    let d = c.embeddingLength
    guard c.isMixtureOfExperts else {
      let f = c.feedForwardLength
      return .dense(
        FeedForwardWeights(
          gate: try matmulWeight(p + "ffn_gate.weight", shape: [d, f]),
          up: try matmulWeight(p + "ffn_up.weight", shape: [d, f]),
          down: try matmulWeight(p + "ffn_down.weight", shape: [f, d])))
    }
    let e = c.expertCount
    let f = c.expertFeedForwardLength
    let experts = FeedForwardWeights(
      gate: try matmulWeight(p + "ffn_gate_exps.weight", shape: [d, f, e]),
      up: try matmulWeight(p + "ffn_up_exps.weight", shape: [d, f, e]),
      down: try matmulWeight(p + "ffn_down_exps.weight", shape: [f, d, e]))
    var shared: FeedForwardWeights?
    var sharedGate: FloatBuffer?
    if c.sharedExpertFeedForwardLength > 0 {
      let s = c.sharedExpertFeedForwardLength
      shared = FeedForwardWeights(
        gate: try matmulWeight(p + "ffn_gate_shexp.weight", shape: [d, s]),
        up: try matmulWeight(p + "ffn_up_shexp.weight", shape: [d, s]),
        down: try matmulWeight(p + "ffn_down_shexp.weight", shape: [s, d]))
      sharedGate = try optionalFloats(p + "ffn_gate_inp_shexp.weight", count: d)
    }
    var moe = MixtureOfExpertsWeights(
      router: try file.tensor(p + "ffn_gate_inp.weight", shape: [d, e]),
      experts: experts, shared: shared, sharedGate: sharedGate)
    if c.expertBias {
      moe.routerBias = try floats(p + "ffn_gate_inp.bias", count: e)
      let gate = try floats(p + "ffn_gate_exps.bias", shape: [f, e])
      let up = try floats(p + "ffn_up_exps.bias", shape: [f, e])
      let down = try floats(p + "ffn_down_exps.bias", shape: [d, e])
      moe.expertBiases = (0..<e).map { x in
        FeedForwardBiases(
          gate: FloatBuffer(count: f, copying: gate.pointer + x * f),
          up: FloatBuffer(count: f, copying: up.pointer + x * f),
          down: FloatBuffer(count: d, copying: down.pointer + x * d))
      }
    }
    return .mixture(moe)
  }
}
