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
  /// row's arithmetic is the same whatever store holds it (paged blocks are multiples of 16):
  /// batched and paged output then equals the single-sequence output bit for bit.
  static let tile = 16

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
    var rowSegment = [Int](repeating: 0, count: rows)
    // Per segment, the pointers of its blocks for this layer: looked up once, read by every row.
    var keyBlocks: [[UnsafeMutablePointer<Float>]] = []
    var valueBlocks: [[UnsafeMutablePointer<Float>]] = []
    for (s, segment) in segments.enumerated() {
      let cache = segment.cache
      let blockSize = cache.blockSize
      let blocks = (segment.start + segment.count + blockSize - 1) / blockSize
      keyBlocks.append((0..<blocks).map { cache.keys(layer: layer, block: $0) })
      valueBlocks.append((0..<blocks).map { cache.values(layer: layer, block: $0) })
      for i in 0..<segment.count {
        let t = segment.firstRow + i
        rowSegment[t] = s
        let position = segment.start + i
        let qt = q.row(t, width: c.queryWidth)
        let kt = k.row(t, width: c.keyWidth)
        normalise(qt, heads: c.headCount, weight: w.queryNorm)
        normalise(kt, heads: c.kvHeadCount, weight: w.keyNorm)
        if rotate {
          let (cos, sin) = scratch.rope[t] ?? c.rope.table(position: position)
          scratch.rope[t] = (cos, sin)
          c.rope.apply(qt, heads: c.headCount, headDim: c.headDim, cos: cos, sin: sin)
          c.rope.apply(kt, heads: c.kvHeadCount, headDim: c.headDim, cos: cos, sin: sin)
        }
        let block = position / blockSize
        let offset = position % blockSize
        let vt = v.row(t, width: c.valueWidth)
        for head in 0..<c.kvHeadCount {
          (keyBlocks[s][block] + (head * blockSize + offset) * c.headDim).update(
            from: kt + head * c.headDim, count: c.headDim)
          (valueBlocks[s][block] + (head * blockSize + offset) * c.valueHeadDim).update(
            from: vt + head * c.valueHeadDim, count: c.valueHeadDim)
        }
      }
    }

    let outWidth = c.headCount * c.valueHeadDim
    let out = scratch.out
    let scale = c.attentionScale ?? 1 / Float(c.headDim).squareRoot()
    let group = c.headCount / c.kvHeadCount
    let window = c.isSlidingWindow(layer: layer) ? c.slidingWindow : Int.max
    let sinks = w.sinks
    let tile = Self.tile
    pool.parallelFor(rows * c.headCount) { item in
      let t = item / c.headCount
      let h = item % c.headCount
      let s = rowSegment[t]
      let segment = segments[s]
      let blockSize = segment.cache.blockSize
      let position = segment.start + t - segment.firstRow
      let query = q.pointer + t * c.queryWidth + h * c.headDim
      let kvHead = h / group
      let o = out.pointer + t * outWidth + h * c.valueHeadDim
      o.update(repeating: 0, count: c.valueHeadDim)
      // Online softmax (Milakov & Gimelshein 2018): one pass over the cache, no score buffer
      // of the context's length. A sink starts the denominator at exp(sink - max).
      var maximum = sinks.map { $0[h] } ?? -Float.infinity
      var denominator: Float = sinks == nil ? 0 : 1
      withUnsafeTemporaryAllocation(of: Float.self, capacity: tile) { buffer in
        let scores = buffer.baseAddress!
        // The tile starting at position p: its keys and values of this head, and its length.
        func tileAt(_ p: Int) -> (
          keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>, count: Int
        ) {
          let block = p / blockSize
          let offset = p % blockSize
          return (
            keyBlocks[s][block] + (kvHead * blockSize + offset) * c.headDim,
            valueBlocks[s][block] + (kvHead * blockSize + offset) * c.valueHeadDim,
            min(tile - p % tile, blockSize - offset, position + 1 - p)
          )
        }
        var p = max(0, position - window + 1)
        var current = tileAt(p)
        while p <= position {
          let n = current.count
          // The next tile's rows load while this one computes: measured 2× on attention
          // at 8 streams (each tile is one short contiguous run per head).
          let next = p + n <= position ? tileAt(p + n) : nil
          if let next {
            prefetch(next.keys, count: next.count * c.headDim)
            prefetch(next.values, count: next.count * c.valueHeadDim)
          }
          attentionScores(
            query, keys: current.keys, stride: c.headDim, count: n, dim: c.headDim, scale: scale, into: scores
          )
          var tileMax = -Float.infinity
          for i in 0..<n { tileMax = max(tileMax, scores[i]) }
          if tileMax > maximum {
            let correction = expf(maximum - tileMax)
            denominator *= correction
            for j in 0..<c.valueHeadDim { o[j] *= correction }
            maximum = tileMax
          }
          for i in 0..<n {
            scores[i] = expf(scores[i] - maximum)
            denominator += scores[i]
          }
          attentionAccumulate(
            o, values: current.values, stride: c.valueHeadDim, weights: scores, count: n, dim: c.valueHeadDim)
          p += n
          if let next { current = next }
        }
      }
      let inverse = 1 / denominator
      for j in 0..<c.valueHeadDim { o[j] *= inverse }
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
