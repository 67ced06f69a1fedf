import Foundation
import MuseKernels

/// A decoder-only transformer whose weights stay quantized in the memory-mapped GGUF file (or
/// in the safetensors of a Hugging Face folder: any `WeightSource`).
public final class TransformerModel: @unchecked Sendable {
  public let file: any WeightSource
  public let config: TransformerConfig
  let tokenEmbedding: TensorView
  let layers: [DecoderLayerWeights]
  let outputNorm: FloatBuffer
  let output: TensorView
  /// Muse Glimmer's norm of the token embeddings (nil weight: scale-less).
  let embeddingNormWeight: FloatBuffer?

  /// Loads the model `file` describes. `progress` is told the fraction of weights paged in.
  public init(
    file: any WeightSource, options: ModelOptions = ModelOptions(), progress: ((Double) -> Void)? = nil
  ) throws {
    let name = file.architecture ?? "(none)"
    guard let definition = Architectures.definition(for: name) else {
      throw ModelError.unknownArchitecture(
        file: file.path, architecture: name, supported: Architectures.supportedNames)
    }
    let config = try definition.config(from: file, architecture: name, options: options)
    self.file = file
    self.config = config
    let d = config.embeddingLength
    tokenEmbedding = try file.tensor("token_embd.weight", shape: [d, config.vocabularySize])
    let loader = LayerLoader(file: file, config: config)
    var layers: [DecoderLayerWeights] = []
    for i in 0..<config.layerCount {
      layers.append(try loader.layer(i))
    }
    self.layers = layers
    outputNorm = try loader.floats("output_norm.weight", count: d)
    embeddingNormWeight =
      config.embeddingNorm ? try loader.optionalFloats("token_embd_norm.weight", count: d) : nil
    // Models with tied embeddings (SmolLM2, Qwen small sizes) have no separate output matrix.
    output = try file.optionalTensor("output.weight", shape: [d, config.vocabularySize]) ?? tokenEmbedding
    if let progress { file.pageIn(progress: progress) }
  }

  /// Runs `tokens` at positions `start ..< start + tokens.count`, storing their keys and values
  /// in `cache`. Returns the logits of the last position, or of every position (row-major
  /// [tokens × vocabulary]) when `allLogits`.
  public func forward(
    _ tokens: [Int], start: Int, cache: KeyValueStore, pool: ThreadPool, allLogits: Bool = false
  ) throws -> [Float] {
    let c = config
    let n = tokens.count
    guard n > 0 else { return [] }
    guard start + n <= min(cache.capacity, c.contextLength) else {
      throw ModelError.contextOverflow(tokens: start + n, contextLength: min(cache.capacity, c.contextLength))
    }
    for t in tokens where !(0..<c.vocabularySize).contains(t) {
      throw ModelError.tokenOutOfRange(token: t, vocabularySize: c.vocabularySize)
    }
    let d = c.embeddingLength
    let x = FloatBuffer(count: n * d)
    for (i, t) in tokens.enumerated() {
      dequantizeRow(tokenEmbedding.type, tokenEmbedding.row(t), x.row(i, width: d), count: d)
    }
    if c.embeddingNorm { normRows(x, weight: embeddingNormWeight, into: x, rows: n) }
    let normed = FloatBuffer(count: n * d)
    let sublayer = FloatBuffer(count: n * d)
    for (l, layer) in layers.enumerated() {
      normRows(x, weight: layer.attentionNorm, into: normed, rows: n)
      AttentionBlock(config: c, layer: l)(
        layer.attention, input: normed.pointer, tokens: n, start: start, cache: cache,
        output: sublayer.pointer, pool: pool)
      addResidual(sublayer, postNorm: layer.postAttentionNorm, into: x, rows: n)
      normRows(x, weight: layer.feedForwardNorm, into: normed, rows: n)
      switch layer.feedForward {
      case .dense(let ffn):
        ffn(normed.pointer, tokens: n, output: sublayer.pointer, activation: c.activation, pool: pool)
      case .mixture(let moe):
        MixtureOfExpertsBlock(config: c)(
          moe, input: normed.pointer, tokens: n, output: sublayer.pointer, pool: pool)
      }
      addResidual(sublayer, postNorm: layer.postFeedForwardNorm, into: x, rows: n)
    }
    let first = allLogits ? 0 : n - 1
    let rows = n - first
    normRows(x, weight: outputNorm, into: normed, rows: n)
    var logits = [Float](repeating: 0, count: rows * c.vocabularySize)
    logits.withUnsafeMutableBufferPointer { out in
      matmul(output, input: normed.pointer + first * d, tokens: rows, output: out.baseAddress!, pool: pool)
    }
    if c.logitScale != 1 || c.finalLogitSoftcap > 0 {
      let cap = c.finalLogitSoftcap
      for i in logits.indices {
        let l = logits[i] * c.logitScale
        logits[i] = cap > 0 ? cap * tanh(l / cap) : l
      }
    }
    return logits
  }

  private func normRows(
    _ x: FloatBuffer, weight: FloatBuffer?, into out: FloatBuffer, rows: Int, epsilon: Float? = nil
  ) {
    let d = config.embeddingLength
    for r in 0..<rows {
      rmsNorm(
        x.row(r, width: d), weight: weight?.pointer, epsilon: epsilon ?? config.rmsEpsilon, count: d,
        output: out.row(r, width: d))
    }
  }

  /// x += sublayer, with the sub-layer's output normalised first when the layer has a post-norm.
  private func addResidual(_ sublayer: FloatBuffer, postNorm: FloatBuffer?, into x: FloatBuffer, rows: Int) {
    if let postNorm {
      normRows(sublayer, weight: postNorm, into: sublayer, rows: rows, epsilon: config.postNormEpsilon)
    }
    add(x.pointer, sublayer.pointer, count: rows * config.embeddingLength)
  }
}
