import Foundation
import MuseKernels

/// Causal multi-head attention with grouped-query heads over a key/value store.
struct AttentionBlock {
  let config: TransformerConfig
  let layer: Int

  /// `input`: [tokens × d] normalised hidden states at positions `start ..< start + tokens`.
  /// Adds the attention output into `residual`.
  func callAsFunction(
    _ w: AttentionWeights, input: UnsafePointer<Float>, tokens: Int, start: Int,
    cache: KeyValueStore, residual: UnsafeMutablePointer<Float>, pool: ThreadPool
  ) {
    let c = config
    let q = FloatBuffer(count: tokens * c.queryWidth)
    let k = FloatBuffer(count: tokens * c.keyWidth)
    let v = FloatBuffer(count: tokens * c.valueWidth)
    w.query(input, tokens: tokens, output: q.pointer, pool: pool)
    w.key(input, tokens: tokens, output: k.pointer, pool: pool)
    w.value(input, tokens: tokens, output: v.pointer, pool: pool)

    let keys = cache.keys(layer: layer)
    let values = cache.values(layer: layer)
    for t in 0..<tokens {
      let qt = q.row(t, width: c.queryWidth)
      let kt = k.row(t, width: c.keyWidth)
      normalise(qt, heads: c.headCount, weight: w.queryNorm)
      normalise(kt, heads: c.kvHeadCount, weight: w.keyNorm)
      let (cos, sin) = c.rope.table(position: start + t)
      c.rope.apply(qt, heads: c.headCount, headDim: c.headDim, cos: cos, sin: sin)
      c.rope.apply(kt, heads: c.kvHeadCount, headDim: c.headDim, cos: cos, sin: sin)
      (keys + (start + t) * c.keyWidth).update(from: kt, count: c.keyWidth)
      (values + (start + t) * c.valueWidth).update(from: v.row(t, width: c.valueWidth), count: c.valueWidth)
    }

    let outWidth = c.headCount * c.valueHeadDim
    let out = FloatBuffer(count: tokens * outWidth)
    let scale = 1 / Float(c.headDim).squareRoot()
    let group = c.headCount / c.kvHeadCount
    pool.parallelFor(tokens * c.headCount) { item in
      let t = item / c.headCount
      let h = item % c.headCount
      let length = start + t + 1
      let query = q.pointer + t * c.queryWidth + h * c.headDim
      let kvHead = h / group
      withUnsafeTemporaryAllocation(of: Float.self, capacity: length) { scores in
        let s = scores.baseAddress!
        for p in 0..<length {
          s[p] = dot(query, keys + p * c.keyWidth + kvHead * c.headDim, count: c.headDim) * scale
        }
        softmax(s, count: length)
        let o = out.pointer + t * outWidth + h * c.valueHeadDim
        o.update(repeating: 0, count: c.valueHeadDim)
        for p in 0..<length {
          scaleAdd(o, values + p * c.valueWidth + kvHead * c.valueHeadDim, scale: s[p], count: c.valueHeadDim)
        }
      }
    }
    let projected = FloatBuffer(count: tokens * c.embeddingLength)
    w.output(out.pointer, tokens: tokens, output: projected.pointer, pool: pool)
    add(residual, projected.pointer, count: tokens * c.embeddingLength)
  }

  private func normalise(_ x: UnsafeMutablePointer<Float>, heads: Int, weight: FloatBuffer?) {
    guard let weight else { return }
    switch config.qkNorm {
    case .none:
      return
    case .perHead:
      for h in 0..<heads {
        let head = x + h * config.headDim
        rmsNorm(head, weight: weight.pointer, epsilon: config.rmsEpsilon, count: config.headDim, output: head)
      }
    case .wholeProjection:
      rmsNorm(x, weight: weight.pointer, epsilon: config.rmsEpsilon, count: weight.count, output: x)
    }
  }
}
