import Foundation
import MuseKernels

/// Buffers one forward step's attention reuses across its layers, sized to the step's rows.
final class AttentionScratch {
  let q: FloatBuffer
  let k: FloatBuffer
  let v: FloatBuffer
  let out: FloatBuffer
  let gate: FloatBuffer?
  /// Each row's RoPE cos/sin, computed by the first layer that rotates and read by the rest
  /// (every RoPE layer shares the config's table; per layer it was ~1 % of a batched step).
  var rope: [(cos: [Float], sin: [Float])?]

  init(config c: TransformerConfig, rows: Int, gated: Bool) {
    rope = Array(repeating: nil, count: rows)
    q = FloatBuffer(count: rows * c.queryWidth)
    k = FloatBuffer(count: rows * c.keyWidth)
    v = FloatBuffer(count: rows * c.valueWidth)
    out = FloatBuffer(count: rows * c.headCount * c.valueHeadDim)
    gate = gated ? FloatBuffer(count: rows * c.headCount * c.valueHeadDim) : nil
  }
}

/// Causal multi-head attention with grouped-query heads over key/value stores, with the
/// per-layer choices the config makes: sliding window or full context, RoPE or none (NoPE),
/// QK-norm, attention sinks and an output gate. The rows of several sequences run together:
/// the projections see all rows, and each row attends over its own sequence's store.
struct AttentionBlock {
  let config: TransformerConfig
  let layer: Int
  /// Cached positions scored at once, in tiles aligned to multiples of 16 positions so that a
  /// row's arithmetic is the same whatever store holds it (blocks hold whole tiles): batched
  /// and paged output then equals the single-sequence output bit for bit.
  static let tile = attendTile

  /// `input`: [rows × d] normalised hidden states, laid out as `segments` say.
  /// Writes the projected attention output, [rows × d], to `output`.
  func callAsFunction(
    _ w: AttentionWeights, input: UnsafePointer<Float>, rows: Int, segments: [SegmentRows],
    scratch: AttentionScratch, output: UnsafeMutablePointer<Float>, pool: ThreadPool
  ) {
    let c = config
    let q = scratch.q
    let k = scratch.k
    let v = scratch.v
    matmul(
      [w.query.weight, w.key.weight, w.value.weight], input: input, tokens: rows,
      outputs: [q.pointer, k.pointer, v.pointer], pool: pool)
    w.query.addBias(q.pointer, tokens: rows)
    w.key.addBias(k.pointer, tokens: rows)
    w.value.addBias(v.pointer, tokens: rows)

    let rotate = c.usesRoPE(layer: layer)
    // Per segment, the pointers of its blocks for this layer (keys, then values), looked up
    // once and read by every row and head of the segment.
    let blockCounts = segments.map { ($0.start + $0.count + $0.cache.blockSize - 1) / $0.cache.blockSize }
    let tableSize = 2 * blockCounts.reduce(0, +)
    let table = UnsafeMutablePointer<UnsafeRawPointer?>.allocate(capacity: max(tableSize, 1))
    defer { table.deallocate() }
    var tableStart: [Int] = []
    var next = 0
    for (s, segment) in segments.enumerated() {
      tableStart.append(next)
      for b in 0..<blockCounts[s] {
        table[next + b] = UnsafeRawPointer(segment.cache.keys(layer: layer, block: b))
        table[next + blockCounts[s] + b] = UnsafeRawPointer(segment.cache.values(layer: layer, block: b))
      }
      next += 2 * blockCounts[s]
    }
    var rowSegment = [Int](repeating: 0, count: rows)
    for (s, segment) in segments.enumerated() {
      for i in 0..<segment.count {
        rowSegment[segment.firstRow + i] = s
        if rotate && scratch.rope[segment.firstRow + i] == nil {
          scratch.rope[segment.firstRow + i] = c.rope.table(position: segment.start + i)
        }
      }
    }
    let ropes = scratch.rope
    // Normalise, rotate and cache row t's keys and values. Each key's store touches 32 cache
    // lines per head (keys are cached [dim × 16]), mostly cold after a step's weights streamed
    // through, so the rows of a batch go to the pool: serial, SmolLM2's 8 streams spent ~0.97 ms
    // of a ~13.5 ms step here, with the pool's two threads ~0.75 ms.
    func prepare(_ t: Int) {
      let s = rowSegment[t]
      let segment = segments[s]
      let blockSize = segment.cache.blockSize
      let type = segment.cache.elementType
      let position = segment.start + t - segment.firstRow
      let qt = q.row(t, width: c.queryWidth)
      let kt = k.row(t, width: c.keyWidth)
      normalise(qt, heads: c.headCount, weight: w.queryNorm)
      normalise(kt, heads: c.kvHeadCount, weight: w.keyNorm)
      if rotate, let (cos, sin) = ropes[t] {
        c.rope.apply(qt, heads: c.headCount, headDim: c.headDim, cos: cos, sin: sin)
        c.rope.apply(kt, heads: c.kvHeadCount, headDim: c.headDim, cos: cos, sin: sin)
      }
      let keys = UnsafeMutableRawPointer(mutating: table[tableStart[s] + position / blockSize]!)
      let values = UnsafeMutableRawPointer(
        mutating: table[tableStart[s] + blockCounts[s] + position / blockSize]!)
      let offset = position % blockSize
      let vt = v.row(t, width: c.valueWidth)
      for head in 0..<c.kvHeadCount {
        let key =
          head * blockSize * c.headDim + CachedHead.keyIndex(position: offset, element: 0, dim: c.headDim)
        storeCached(
          kt + head * c.headDim, to: keys + key * type.byteWidth, count: c.headDim, stride: 16, type: type)
        let value = (head * blockSize + offset) * c.valueHeadDim
        storeCached(
          vt + head * c.valueHeadDim, to: values + value * type.byteWidth, count: c.valueHeadDim, stride: 1,
          type: type)
      }
    }
    if rows >= 4 {
      pool.parallelFor(rows, prepare)
    } else {
      for t in 0..<rows { prepare(t) }
    }

    let outWidth = c.headCount * c.valueHeadDim
    let out = scratch.out
    let scale = c.attentionScale ?? 1 / Float(c.headDim).squareRoot()
    let group = c.headCount / c.kvHeadCount
    let window = c.isSlidingWindow(layer: layer) ? c.slidingWindow : Int.max
    // A row's query heads that share a key/value head run together (each tile of keys and
    // values is read once for all of them), unless that leaves too few items for the pool.
    let pairs = rows * c.kvHeadCount
    let split = min(
      group, max((4 * pool.threadCount + pairs - 1) / pairs, (group + attendMaxHeads - 1) / attendMaxHeads))
    let perItem = (group + split - 1) / split
    let sinks = w.sinks
    pool.parallelFor(pairs * split) { item in
      let t = item / (c.kvHeadCount * split)
      let kvHead = item / split % c.kvHeadCount
      let firstHead = kvHead * group + item % split * perItem
      let heads = min(perItem, (kvHead + 1) * group - firstHead)
      guard heads > 0 else { return }
      let s = rowSegment[t]
      let segment = segments[s]
      let blockSize = segment.cache.blockSize
      let position = segment.start + t - segment.firstRow
      let head = CachedHead(
        keyBlocks: table + tableStart[s], valueBlocks: table + tableStart[s] + blockCounts[s],
        keyOffset: kvHead * blockSize * c.headDim, valueOffset: kvHead * blockSize * c.valueHeadDim,
        blockSize: blockSize, type: segment.cache.elementType)
      attend(
        q.pointer + t * c.queryWidth + firstHead * c.headDim, heads: heads, dim: c.headDim,
        valueDim: c.valueHeadDim, cache: head, first: max(0, position - window + 1), last: position,
        scale: scale, sinks: sinks.map { $0.pointer + firstHead },
        out: out.pointer + t * outWidth + firstHead * c.valueHeadDim)
    }
    if let gate = w.outputGate, let g = scratch.gate {
      gate(input, tokens: rows, output: g.pointer, pool: pool)
      for i in 0..<rows * outWidth { out[i] *= 1 / (1 + exp(-g[i])) }
    }
    w.output(out.pointer, tokens: rows, output: output, pool: pool)
  }

  private func normalise(_ x: UnsafeMutablePointer<Float>, heads: Int, weight: FloatBuffer?) {
    switch config.qkNorm {
    case .none:
      return
    case .perHead, .perHeadUnweighted:
      for h in 0..<heads {
        let head = x + h * config.headDim
        rmsNorm(
          head, weight: weight?.pointer, epsilon: config.rmsEpsilon, count: config.headDim, output: head)
      }
    case .wholeProjection:
      guard let weight else { return }
      rmsNorm(x, weight: weight.pointer, epsilon: config.rmsEpsilon, count: weight.count, output: x)
    }
  }
}
