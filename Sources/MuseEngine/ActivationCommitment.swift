import Foundation
import MuseKernels
import MuseModels

/// A compact commitment to what the model computed while generating, after TOPLOC (Ong et al.,
/// ICML 2025): every 32 generated tokens, the 64 largest-magnitude entries of the last hidden
/// state (the final norm's output) of the step that chose the chunk's last token, as indices and
/// f16 values: 256 bytes per 32 tokens. Whoever has the weights recomputes those rows with one
/// prefill pass over the prompt and the generated tokens (`LanguageModel.activationCommitment`)
/// and compares (`check`): another model, another quantization or another prompt gives other
/// rows, while the same model on another batch or thread count gives the same ones.
public struct ActivationCommitment: Sendable, Equatable {
  public static let tokensPerChunk = 32
  public static let topK = 64
  static let version: UInt8 = 1

  public struct Chunk: Sendable, Equatable {
    /// Indices into the hidden state, largest magnitude first (ties: lower index first).
    public var indices: [UInt16]
    /// Their values as IEEE half-precision bits.
    public var values: [UInt16]

    /// The top `topK` entries of `row`.
    public init(row: UnsafeBufferPointer<Float>) {
      let k = min(ActivationCommitment.topK, row.count)
      let order = row.indices.sorted { a, b in
        let (x, y) = (abs(row[a]), abs(row[b]))
        return x != y ? x > y : a < b
      }.prefix(k)
      indices = order.map { UInt16(truncatingIfNeeded: $0) }
      values = order.map { floatToHalf(row[$0]) }
    }

    init(indices: [UInt16], values: [UInt16]) {
      self.indices = indices
      self.values = values
    }
  }

  /// Generated tokens committed to.
  public var tokens: Int
  public var chunks: [Chunk]

  public init(tokens: Int, chunks: [Chunk]) {
    self.tokens = tokens
    self.chunks = chunks
  }

  /// The generated-token indices whose choosing rows are committed: the last of each chunk.
  public static func committedTokens(count: Int) -> [Int] {
    guard count > 0 else { return [] }
    return stride(from: tokensPerChunk - 1, to: count, by: tokensPerChunk).map { $0 }
      + (count % tokensPerChunk == 0 ? [] : [count - 1])
  }

  /// Version, chunk size, k, tokens and chunk count, then per chunk k little-endian u16
  /// indices and k f16 values.
  public var encoded: [UInt8] {
    var out: [UInt8] = [Self.version, UInt8(Self.tokensPerChunk)]
    func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { out += $0 } }
    append(UInt16(Self.topK))
    append(UInt32(clamping: tokens))
    append(UInt32(clamping: chunks.count))
    for chunk in chunks {
      for i in 0..<Self.topK { append(i < chunk.indices.count ? chunk.indices[i] : 0) }
      for i in 0..<Self.topK { append(i < chunk.values.count ? chunk.values[i] : 0) }
    }
    return out
  }

  /// Reads `encoded`; nil when the bytes are not one (wrong version, sizes or length).
  public init?(encoded bytes: [UInt8]) {
    guard bytes.count >= 12, bytes[0] == Self.version, Int(bytes[1]) == Self.tokensPerChunk else {
      return nil
    }
    func read16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    func read32(_ at: Int) -> Int { Int(read16(at)) | Int(read16(at + 2)) << 16 }
    guard Int(read16(2)) == Self.topK else { return nil }
    let tokens = read32(4)
    let count = read32(8)
    let chunkBytes = 4 * Self.topK
    guard count == Self.committedTokens(count: tokens).count, bytes.count == 12 + count * chunkBytes else {
      return nil
    }
    var chunks: [Chunk] = []
    for c in 0..<count {
      let base = 12 + c * chunkBytes
      chunks.append(
        Chunk(
          indices: (0..<Self.topK).map { read16(base + 2 * $0) },
          values: (0..<Self.topK).map { read16(base + 2 * Self.topK + 2 * $0) }))
    }
    self.init(tokens: tokens, chunks: chunks)
  }

  /// How one claimed chunk compares with the verifier's recomputed one.
  public struct ChunkCheck: Sendable, Equatable {
    /// Of the claimed indices, the share that are also in the recomputed top k.
    public var overlap: Double
    /// Mean |claimed − recomputed| over the claimed indices, relative to the mean magnitude.
    public var relativeError: Double
    public var passes: Bool {
      overlap >= ActivationCommitment.minimumOverlap
        && relativeError <= ActivationCommitment.maximumRelativeError
    }
  }

  /// Thresholds a recomputation must meet, per chunk. Calibrated on the fixture models
  /// (ActivationCommitmentTests): the same weights recomputed by prefill give the committed
  /// values exactly (the kernels are batch-invariant) and with an f32 instead of an f16 cache
  /// differ by 2e-4 (f16 rounding); the same weights in F16 instead of Q8_0 differ by 0.009–0.015,
  /// in Q4_0 by more, and another model or prompt shares few of the top indices.
  public static let minimumOverlap = 0.9
  public static let maximumRelativeError = 0.003

  /// Compares this (claimed) commitment with `recomputed`, whose rows are the verifier's
  /// (`rows`: the full recomputed hidden rows, one per chunk). Nil when the shapes differ.
  public func check(rows: [[Float]]) -> [ChunkCheck]? {
    guard rows.count == chunks.count else { return nil }
    return zip(chunks, rows).map { chunk, row in
      let top = row.withUnsafeBufferPointer { Set(Chunk(row: $0).indices) }
      var common = 0
      var error = 0.0
      var magnitude = 0.0
      for (index, bits) in zip(chunk.indices, chunk.values) {
        if top.contains(index) { common += 1 }
        let claimed = Double(halfToFloat(bits))
        let actual = Int(index) < row.count ? Double(row[Int(index)]) : .infinity
        error += abs(claimed - actual)
        magnitude += abs(actual)
      }
      let n = Double(max(chunk.indices.count, 1))
      return ChunkCheck(
        overlap: Double(common) / n, relativeError: magnitude > 0 ? error / magnitude : .infinity)
    }
  }
}

/// Collects a sequence's commitment step by step: the row that chose each accepted token is
/// kept until the chunk it ends, or the generation, is over.
struct ActivationRecorder {
  private var lastRow: [Float] = []
  private var chunks: [ActivationCommitment.Chunk] = []

  /// `row` chose the token that made the count `tokens`.
  mutating func accepted(row: [Float], tokens: Int) {
    if tokens % ActivationCommitment.tokensPerChunk == 0 {
      chunks.append(row.withUnsafeBufferPointer { ActivationCommitment.Chunk(row: $0) })
      lastRow = []
    } else {
      lastRow = row
    }
  }

  func commitment(tokens: Int) -> ActivationCommitment {
    var all = chunks
    if tokens % ActivationCommitment.tokensPerChunk != 0, !lastRow.isEmpty {
      all.append(lastRow.withUnsafeBufferPointer { ActivationCommitment.Chunk(row: $0) })
    }
    return ActivationCommitment(tokens: tokens, chunks: all)
  }
}

extension LanguageModel {
  /// The hidden rows a commitment to `generated` (after `prompt`) is made of, recomputed by
  /// prefill: the prompt and generated tokens cut into pieces that each end at a committed row,
  /// and consecutive pieces run together as segments of one forward pass over one cache (each
  /// attends to the keys the earlier ones store in the same layer), so the weights are read once
  /// per pass rather than once per 32 tokens. Rows do not depend on their batch, so the rows
  /// are those of one piece per pass. `rowsPerPass`: the most rows one pass takes (a longer
  /// piece, a long prompt, goes alone).
  public func committedRows(
    prompt: [Int], generated: [Int], kvCacheType: KVCacheType? = nil, rowsPerPass: Int = 512
  ) throws -> [[Float]] {
    guard !prompt.isEmpty else { throw SchedulerError.emptyPrompt }
    let sequence = prompt + generated
    let cache = KVCache(config: config, capacity: sequence.count, type: kvCacheType ?? self.kvCacheType)
    var rows: [[Float]] = []
    var pieces: [BatchSegment] = []
    var pending = 0
    func run() throws {
      guard !pieces.isEmpty else { return }
      var found = [[Float]](repeating: [], count: pieces.count)
      _ = try forward(batch: pieces, hidden: { segment, hidden in found[segment] = Array(hidden) })
      rows += found
      pieces = []
      pending = 0
    }
    var filled = 0
    for token in ActivationCommitment.committedTokens(count: generated.count) {
      // The row that chose generated[token] is the one at the token before it.
      let end = prompt.count + token
      if pending > 0, pending + end - filled > rowsPerPass { try run() }
      pieces.append(
        BatchSegment(tokens: Array(sequence[filled..<end]), start: filled, cache: cache, logits: .last))
      pending += end - filled
      filled = end
    }
    try run()
    return rows
  }

  /// The commitment `committedRows` gives: what an honest server would have sent.
  public func activationCommitment(prompt: [Int], generated: [Int], kvCacheType: KVCacheType? = nil) throws
    -> ActivationCommitment
  {
    let rows = try committedRows(prompt: prompt, generated: generated, kvCacheType: kvCacheType)
    return ActivationCommitment(
      tokens: generated.count, chunks: rows.map { row in row.withUnsafeBufferPointer { .init(row: $0) } })
  }
}
