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
    // Paged in before the layers are read, since repacking drops the pages it has copied.
    if let progress { file.pageIn(progress: progress) }
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
    // Tied embeddings stay as they are for lookups; the output head reads a repacked copy
    // (the embedding's size again, for a kernel several times faster than the row one).
    output =
      try file.hasTensor("output.weight")
      ? loader.matmulWeight("output.weight", shape: [d, config.vocabularySize])
      : InterleavedWeights.interleaved(tokenEmbedding, into: loader.arena)
  }

  /// Block sizes of paged key/value stores must be multiples of this, so attention tiles the
  /// cache the same way whatever store holds it (see `AttentionBlock.tile`).
  public static let blockSizeMultiple = AttentionBlock.tile

  /// Runs `tokens` at positions `start ..< start + tokens.count`, storing their keys and values
  /// in `cache`. Returns the logits of the last position, or of every position (row-major
  /// [tokens × vocabulary]) when `allLogits`.
  public func forward(
    _ tokens: [Int], start: Int, cache: KeyValueStore, pool: ThreadPool, allLogits: Bool = false
  ) throws -> [Float] {
    guard !tokens.isEmpty else { return [] }
    let segment = BatchSegment(tokens: tokens, start: start, cache: cache, logits: allLogits ? .all : .last)
    return try forward(batch: [segment], pool: pool)[0]
  }

  /// One step for many sequences at once. The rows of all segments are concatenated, so every
  /// weight matrix is read once for the whole step; attention runs per segment over its own
  /// store. Returns each segment's logits as its `logits` asks (empty for `.none`). `hidden`,
  /// when given, sees for each segment that gets logits the rows they come from: the final
  /// norm's output ([logit rows × embedding width], the model's last hidden state).
  public func forward(
    batch: [BatchSegment], pool: ThreadPool,
    hidden: ((_ segment: Int, _ rows: UnsafeBufferPointer<Float>) -> Void)? = nil
  ) throws -> [[Float]] {
    let c = config
    var layout: [SegmentRows] = []
    var n = 0
    for segment in batch {
      let end = segment.start + segment.tokens.count
      guard end <= min(segment.cache.capacity, c.contextLength) else {
        throw ModelError.contextOverflow(
          tokens: end, contextLength: min(segment.cache.capacity, c.contextLength))
      }
      for t in segment.tokens where !(0..<c.vocabularySize).contains(t) {
        throw ModelError.tokenOutOfRange(token: t, vocabularySize: c.vocabularySize)
      }
      layout.append(
        SegmentRows(firstRow: n, count: segment.tokens.count, start: segment.start, cache: segment.cache))
      n += segment.tokens.count
    }
    guard n > 0 else { return batch.map { _ in [] } }
    let d = c.embeddingLength
    let x = FloatBuffer(count: n * d)
    for (segment, rows) in zip(batch, layout) {
      for (i, t) in segment.tokens.enumerated() {
        dequantizeRow(
          tokenEmbedding.type, tokenEmbedding.row(t), x.row(rows.firstRow + i, width: d), count: d)
      }
    }
    if c.embeddingNorm { normRows(x, weight: embeddingNormWeight, into: x, rows: n) }
    let normed = FloatBuffer(count: n * d)
    let sublayer = FloatBuffer(count: n * d)
    let scratch = AttentionScratch(
      config: c, rows: n, gated: layers.contains { $0.attention.outputGate != nil })
    for (l, layer) in layers.enumerated() {
      normRows(x, weight: layer.attentionNorm, into: normed, rows: n)
      AttentionBlock(config: c, layer: l)(
        layer.attention, input: normed.pointer, rows: n, segments: layout, scratch: scratch,
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
    // Only the rows whose logits are wanted go through the output head, gathered contiguously.
    let wanted = batch.reduce(0) { $0 + $1.logitRows }
    guard wanted > 0 else { return batch.map { _ in [] } }
    let heads = FloatBuffer(count: wanted * d)
    var row = 0
    for (segment, rows) in zip(batch, layout) {
      let first = rows.firstRow + rows.count - segment.logitRows
      for r in first..<rows.firstRow + rows.count {
        rmsNorm(
          x.row(r, width: d), weight: outputNorm.pointer, epsilon: c.rmsEpsilon, count: d,
          output: heads.row(row, width: d))
        row += 1
      }
    }
    if let hidden {
      row = 0
      for (index, segment) in batch.enumerated() where segment.logitRows > 0 {
        hidden(index, UnsafeBufferPointer(start: heads.row(row, width: d), count: segment.logitRows * d))
        row += segment.logitRows
      }
    }
    let vocabulary = c.vocabularySize
    var logits = [Float](repeating: 0, count: wanted * vocabulary)
    logits.withUnsafeMutableBufferPointer { out in
      matmul(output, input: heads.pointer, tokens: wanted, output: out.baseAddress!, pool: pool)
    }
    if c.logitScale != 1 || c.finalLogitSoftcap > 0 {
      let cap = c.finalLogitSoftcap
      for i in logits.indices {
        let l = logits[i] * c.logitScale
        logits[i] = cap > 0 ? cap * tanh(l / cap) : l
      }
    }
    var results: [[Float]] = []
    row = 0
    for segment in batch {
      let count = segment.logitRows
      results.append(Array(logits[row * vocabulary..<(row + count) * vocabulary]))
      row += count
    }
    return results
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
