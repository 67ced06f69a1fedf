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
}

/// A SwiGLU feed-forward network: down(silu(gate x) * up x).
public struct FeedForwardWeights: @unchecked Sendable {
  public let gate: TensorView
  public let up: TensorView
  public let down: TensorView
}

/// A mixture-of-experts FFN with experts stored merged (`ffn_*_exps`, one matrix per expert).
public struct MixtureOfExpertsWeights: @unchecked Sendable {
  public let router: TensorView
  public let experts: FeedForwardWeights
  /// Qwen2-MoE's always-on expert, scaled by sigmoid(sharedGate · x).
  public let shared: FeedForwardWeights?
  public let sharedGate: FloatBuffer?
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
}

/// Reads the standard llama.cpp tensor names (`blk.N.attn_q.weight` ...) of one layer.
struct LayerLoader {
  let file: GGUFFile
  let config: TransformerConfig

  func floats(_ name: String, count: Int) throws -> FloatBuffer {
    let view = try file.tensor(name, shape: [count])
    let buffer = FloatBuffer(count: count)
    dequantizeRow(view.type, view.data, buffer.pointer, count: count)
    return buffer
  }

  func optionalFloats(_ name: String, count: Int) throws -> FloatBuffer? {
    file.tensors[name] == nil ? nil : try floats(name, count: count)
  }

  func linear(_ name: String, inputs: Int, outputs: Int, bias: Bool) throws -> Linear {
    let weight = try file.tensor(name + ".weight", shape: [inputs, outputs])
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
      }
    let attention = AttentionWeights(
      query: try linear(p + "attn_q", inputs: d, outputs: c.queryWidth, bias: c.attentionBias),
      key: try linear(p + "attn_k", inputs: d, outputs: c.keyWidth, bias: c.attentionBias),
      value: try linear(p + "attn_v", inputs: d, outputs: c.valueWidth, bias: c.attentionBias),
      output: try linear(p + "attn_output", inputs: c.headCount * c.valueHeadDim, outputs: d, bias: false),
      queryNorm: try normSizes.map { try floats(p + "attn_q_norm.weight", count: $0.0) },
      keyNorm: try normSizes.map { try floats(p + "attn_k_norm.weight", count: $0.1) })
    return DecoderLayerWeights(
      attentionNorm: try floats(p + "attn_norm.weight", count: d),
      attention: attention,
      feedForwardNorm: try floats(p + "ffn_norm.weight", count: d),
      feedForward: try feedForward(prefix: p))
  }

  private func feedForward(prefix p: String) throws -> FeedForwardBlock {
    let c = config
    let d = c.embeddingLength
    guard c.isMixtureOfExperts else {
      let f = c.feedForwardLength
      return .dense(
        FeedForwardWeights(
          gate: try file.tensor(p + "ffn_gate.weight", shape: [d, f]),
          up: try file.tensor(p + "ffn_up.weight", shape: [d, f]),
          down: try file.tensor(p + "ffn_down.weight", shape: [f, d])))
    }
    let e = c.expertCount
    let f = c.expertFeedForwardLength
    let experts = FeedForwardWeights(
      gate: try file.tensor(p + "ffn_gate_exps.weight", shape: [d, f, e]),
      up: try file.tensor(p + "ffn_up_exps.weight", shape: [d, f, e]),
      down: try file.tensor(p + "ffn_down_exps.weight", shape: [f, d, e]))
    var shared: FeedForwardWeights?
    var sharedGate: FloatBuffer?
    if c.sharedExpertFeedForwardLength > 0 {
      let s = c.sharedExpertFeedForwardLength
      shared = FeedForwardWeights(
        gate: try file.tensor(p + "ffn_gate_shexp.weight", shape: [d, s]),
        up: try file.tensor(p + "ffn_up_shexp.weight", shape: [d, s]),
        down: try file.tensor(p + "ffn_down_shexp.weight", shape: [s, d]))
      sharedGate = try optionalFloats(p + "ffn_gate_inp_shexp.weight", count: d)
    }
    return .mixture(
      MixtureOfExpertsWeights(
        router: try file.tensor(p + "ffn_gate_inp.weight", shape: [d, e]),
        experts: experts, shared: shared, sharedGate: sharedGate))
  }
}
