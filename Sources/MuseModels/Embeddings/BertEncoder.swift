import Foundation
import MuseKernels

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One post-LN transformer layer of a BERT encoder; Linear weights stay mapped views.
struct BertLayer {
  let query: TensorView, key: TensorView, value: TensorView, attentionOutput: TensorView
  let queryBias: [Float], keyBias: [Float], valueBias: [Float], attentionOutputBias: [Float]
  let attentionNormWeight: [Float], attentionNormBias: [Float]
  let intermediate: TensorView, intermediateBias: [Float]
  let output: TensorView, outputBias: [Float]
  let outputNormWeight: [Float], outputNormBias: [Float]
}

/// A BERT-style encoder (Hugging Face `BertModel`) and the sentence-transformers head used by
/// all-MiniLM-L6-v2 and its kin: word + position + token-type embeddings → LayerNorm → N
/// post-LN layers (bidirectional multi-head self-attention with biases, dense + residual +
/// LayerNorm, intermediate dense + GELU + output dense + residual + LayerNorm) → mean pooling
/// over the tokens → L2 normalisation. One sequence runs at a time, so no padding mask is needed.
public final class BertEncoder: @unchecked Sendable {
  public let config: BertConfig
  public let folder: String
  let weights: BertWeights
  let wordEmbeddings: TensorView
  let positionEmbeddings: TensorView
  let typeEmbeddings: TensorView
  let embeddingNormWeight: [Float]
  let embeddingNormBias: [Float]
  let layers: [BertLayer]
  let pool: ThreadPool

  /// Loads `folder/config.json` (see `BertConfig(folder:)`) and `folder/model.safetensors`.
  /// Tensor names may carry a `bert.` prefix (checkpoints saved from a task model).
  public init(folder: String, pool: ThreadPool = .shared) throws {
    let config = try BertConfig(folder: folder)
    let weightsPath = folder + "/model.safetensors"
    guard FileManager.default.fileExists(atPath: weightsPath) else {
      throw BertEncoderError.missingFile(folder: folder, file: "model.safetensors")
    }
    let weights = try BertWeights(path: weightsPath)
    let prefix =
      !weights.contains("embeddings.word_embeddings.weight")
        && weights.contains("bert.embeddings.word_embeddings.weight") ? "bert." : ""
    let h = config.hiddenSize
    let ff = config.intermediateSize
    func matrix(_ name: String, _ shape: [Int]) throws -> TensorView {
      try weights.tensor(prefix + name, shape: shape)
    }
    func vector(_ name: String, _ count: Int) throws -> [Float] {
      try weights.floats(prefix + name, count: count)
    }

    wordEmbeddings = try matrix("embeddings.word_embeddings.weight", [config.vocabularySize, h])
    positionEmbeddings = try matrix("embeddings.position_embeddings.weight", [config.maxPositions, h])
    typeEmbeddings = try matrix("embeddings.token_type_embeddings.weight", [config.typeVocabularySize, h])
    embeddingNormWeight = try vector("embeddings.LayerNorm.weight", h)
    embeddingNormBias = try vector("embeddings.LayerNorm.bias", h)
    var layers: [BertLayer] = []
    for i in 0..<config.layers {
      let p = "encoder.layer.\(i)."
      layers.append(
        BertLayer(
          query: try matrix(p + "attention.self.query.weight", [h, h]),
          key: try matrix(p + "attention.self.key.weight", [h, h]),
          value: try matrix(p + "attention.self.value.weight", [h, h]),
          attentionOutput: try matrix(p + "attention.output.dense.weight", [h, h]),
          queryBias: try vector(p + "attention.self.query.bias", h),
          keyBias: try vector(p + "attention.self.key.bias", h),
          valueBias: try vector(p + "attention.self.value.bias", h),
          attentionOutputBias: try vector(p + "attention.output.dense.bias", h),
          attentionNormWeight: try vector(p + "attention.output.LayerNorm.weight", h),
          attentionNormBias: try vector(p + "attention.output.LayerNorm.bias", h),
          intermediate: try matrix(p + "intermediate.dense.weight", [ff, h]),
          intermediateBias: try vector(p + "intermediate.dense.bias", ff),
          output: try matrix(p + "output.dense.weight", [h, ff]),
          outputBias: try vector(p + "output.dense.bias", h),
          outputNormWeight: try vector(p + "output.LayerNorm.weight", h),
          outputNormBias: try vector(p + "output.LayerNorm.bias", h)))
    }
    self.layers = layers
    self.config = config
    self.folder = folder
    self.weights = weights
    self.pool = pool
  }

  /// The last layer's hidden states for `tokens` (already with [CLS]/[SEP]), token-major:
  /// `tokens.count * hiddenSize` values.
  public func hiddenStates(_ tokens: [Int]) throws -> [Float] {
    try layerStates(tokens, layers: [config.layers])[0]
  }

  /// The hidden states after each layer in `layers` (0: the embeddings after their LayerNorm;
  /// i: the output of layer i, 1-based; `config.layers`: the last), in that order, each as
  /// `hiddenStates` lays them out. One forward pass, however many are asked for.
  public func layerStates(_ tokens: [Int], layers wanted: [Int]) throws -> [[Float]] {
    if let bad = wanted.first(where: { $0 < 0 || $0 > config.layers }) {
      throw BertEncoderError.badInput(reason: "layer \(bad): the model has layers 0...\(config.layers)")
    }
    let t = tokens.count
    guard t > 0 else { throw BertEncoderError.badInput(reason: "no tokens") }
    guard t <= config.maxPositions else {
      throw BertEncoderError.badInput(
        reason: "\(t) tokens, the model has \(config.maxPositions) positions (truncate first)")
    }
    if let bad = tokens.first(where: { $0 < 0 || $0 >= config.vocabularySize }) {
      throw BertEncoderError.badInput(
        reason: "token id \(bad) is outside the vocabulary of \(config.vocabularySize)")
    }
    let h = config.hiddenSize
    let x = FloatBuffer(count: t * h)
    let row = FloatBuffer(count: h)
    let typeRow = FloatBuffer(count: h)
    dequantizeRow(typeEmbeddings.type, typeEmbeddings.row(0), typeRow.pointer, count: h)
    for (i, id) in tokens.enumerated() {
      let xi = x.row(i, width: h)
      dequantizeRow(wordEmbeddings.type, wordEmbeddings.row(id), xi, count: h)
      dequantizeRow(positionEmbeddings.type, positionEmbeddings.row(i), row.pointer, count: h)
      add(xi, row.pointer, count: h)
      add(xi, typeRow.pointer, count: h)
      layerNorm(xi, weight: embeddingNormWeight, bias: embeddingNormBias, count: h)
    }
    let scratch = Scratch(tokens: t, hidden: h, intermediate: config.intermediateSize, heads: config.heads)
    var states: [Int: [Float]] = [:]
    if wanted.contains(0) { states[0] = x.array }
    for (i, layer) in layers.enumerated() {
      forward(layer, x: x, tokens: t, scratch: scratch)
      if wanted.contains(i + 1) { states[i + 1] = x.array }
    }
    return wanted.map { states[$0] ?? [] }
  }

  /// The sentence embedding of `tokens`: mean of the last hidden states, L2-normalised.
  public func embed(_ tokens: [Int]) throws -> [Float] {
    let states = try hiddenStates(tokens)
    let h = config.hiddenSize
    var mean = [Float](repeating: 0, count: h)
    for i in 0..<tokens.count {
      for j in 0..<h { mean[j] += states[i * h + j] }
    }
    let inverse = 1 / Float(tokens.count)
    var norm: Float = 0
    for j in 0..<h {
      mean[j] *= inverse
      norm += mean[j] * mean[j]
    }
    let scale = 1 / max(norm.squareRoot(), 1e-12)
    return mean.map { $0 * scale }
  }

  final class Scratch {
    let q: FloatBuffer, k: FloatBuffer, v: FloatBuffer, context: FloatBuffer, projected: FloatBuffer
    let intermediate: FloatBuffer
    /// Each head's attention probabilities (tokens × tokens) and transposed values (head size × tokens).
    let scores: FloatBuffer, valuesT: FloatBuffer

    init(tokens: Int, hidden: Int, intermediate: Int, heads: Int) {
      scores = FloatBuffer(count: heads * tokens * tokens)
      valuesT = FloatBuffer(count: tokens * hidden)
      q = FloatBuffer(count: tokens * hidden)
      k = FloatBuffer(count: tokens * hidden)
      v = FloatBuffer(count: tokens * hidden)
      context = FloatBuffer(count: tokens * hidden)
      projected = FloatBuffer(count: tokens * hidden)
      self.intermediate = FloatBuffer(count: tokens * intermediate)
    }
  }

  func forward(_ layer: BertLayer, x: FloatBuffer, tokens t: Int, scratch s: Scratch) {
    let h = config.hiddenSize
    let heads = config.heads
    let d = config.headSize
    linear(layer.query, bias: layer.queryBias, input: x.pointer, tokens: t, output: s.q.pointer)
    linear(layer.key, bias: layer.keyBias, input: x.pointer, tokens: t, output: s.k.pointer)
    linear(layer.value, bias: layer.valueBias, input: x.pointer, tokens: t, output: s.v.pointer)
    let scale = 1 / Float(d).squareRoot()
    let q = s.q.pointer
    let k = s.k.pointer
    let v = s.v.pointer
    let context = s.context.pointer
    // Per head, two GEMMs: scores = Q Kᵀ (the keys as weight rows), then context = P V (the
    // transposed values as weight rows, P's rows as tokens).
    pool.parallelFor(heads) { head in
      let scores = s.scores.pointer + head * t * t
      let valuesT = s.valuesT.pointer + head * d * t
      floatGemm(
        weights: k + head * d, rowStride: h, rows: t, input: q + head * d, tokenStride: h, tokens: t,
        columns: d, output: scores, outputStride: t)
      for i in 0..<t {
        let row = scores + i * t
        for j in 0..<t { row[j] *= scale }
        softmax(row, count: t)
      }
      for j in 0..<t {
        for c in 0..<d { valuesT[c * t + j] = v[j * h + head * d + c] }
      }
      floatGemm(
        weights: valuesT, rowStride: t, rows: d, input: scores, tokenStride: t, tokens: t, columns: t,
        output: context + head * d, outputStride: h)
    }
    linear(
      layer.attentionOutput, bias: layer.attentionOutputBias, input: context, tokens: t,
      output: s.projected.pointer)
    addAndNormalize(
      x, s.projected, tokens: t, weight: layer.attentionNormWeight, bias: layer.attentionNormBias)
    let ff = config.intermediateSize
    linear(
      layer.intermediate, bias: layer.intermediateBias, input: x.pointer, tokens: t,
      output: s.intermediate.pointer)
    let activation = config.activation
    let inter = s.intermediate.pointer
    pool.parallelFor(t) { i in Self.activate(inter + i * ff, count: ff, activation) }
    linear(layer.output, bias: layer.outputBias, input: inter, tokens: t, output: s.projected.pointer)
    addAndNormalize(x, s.projected, tokens: t, weight: layer.outputNormWeight, bias: layer.outputNormBias)
  }

  /// x ← LayerNorm(x + residual) for every token, tokens spread over the pool.
  func addAndNormalize(_ x: FloatBuffer, _ residual: FloatBuffer, tokens: Int, weight: [Float], bias: [Float])
  {
    let h = config.hiddenSize
    pool.parallelFor(tokens) { i in
      let xi = x.row(i, width: h)
      add(xi, residual.row(i, width: h), count: h)
      layerNorm(xi, weight: weight, bias: bias, count: h)
    }
  }

  /// y = W x + b for every token.
  func linear(
    _ w: TensorView, bias: [Float], input: UnsafePointer<Float>, tokens: Int,
    output: UnsafeMutablePointer<Float>
  ) {
    matmul(w, input: input, tokens: tokens, output: output, pool: pool)
    let rows = w.rows
    bias.withUnsafeBufferPointer { b in
      for i in 0..<tokens { add(output + i * rows, b.baseAddress!, count: rows) }
    }
  }

  /// The activation in place over `count` values.
  static func activate(_ x: UnsafeMutablePointer<Float>, count: Int, _ kind: BertActivation) {
    switch kind {
    case .gelu: geluErf(x, count: count)
    case .geluTanh:
      for i in 0..<count {
        let v = x[i]
        x[i] = 0.5 * v * (1 + tanhf(0.797_884_56 * (v + 0.044_715 * v * v * v)))
      }
    case .relu: for i in 0..<count { x[i] = max(x[i], 0) }
    }
  }

  /// In-place LayerNorm over `count` values: (x − mean) / sqrt(var + ε) · weight + bias, with
  /// the biased variance as PyTorch computes it; sums in Double.
  func layerNorm(_ x: UnsafeMutablePointer<Float>, weight: [Float], bias: [Float], count: Int) {
    var sum: Double = 0
    for i in 0..<count { sum += Double(x[i]) }
    let mean = sum / Double(count)
    var squares: Double = 0
    for i in 0..<count {
      let c = Double(x[i]) - mean
      squares += c * c
    }
    let inverse = Float(1 / (squares / Double(count) + Double(config.layerNormEpsilon)).squareRoot())
    let m = Float(mean)
    for i in 0..<count { x[i] = (x[i] - m) * inverse * weight[i] + bias[i] }
  }
}
