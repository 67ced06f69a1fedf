import Foundation
import MuseKernels

/// Causal multi-head attention with grouped-query heads over a key/value store, with the
/// per-layer choices the config makes: sliding window or full context, RoPE or none (NoPE),
/// QK-norm, attention sinks and an output gate.
struct AttentionBlock {
  let config: TransformerConfig
  let layer: Int

  /// `input`: [tokens × d] normalised hidden states at positions `start ..< start + tokens`.
  /// Writes the projected attention output, [tokens × d], to `output`.
  func callAsFunction(
    _ w: AttentionWeights, input: UnsafePointer<Float>, tokens: Int, start: Int,
    cache: KeyValueStore, output: UnsafeMutablePointer<Float>, pool: ThreadPool
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
    let rotate = c.usesRoPE(layer: layer)
    for t in 0..<tokens {
      let qt = q.row(t, width: c.queryWidth)
      let kt = k.row(t, width: c.keyWidth)
      normalise(qt, heads: c.headCount, weight: w.queryNorm)
      normalise(kt, heads: c.kvHeadCount, weight: w.keyNorm)
      if rotate {
        let (cos, sin) = c.rope.table(position: start + t)
        c.rope.apply(qt, heads: c.headCount, headDim: c.headDim, cos: cos, sin: sin)
        c.rope.apply(kt, heads: c.kvHeadCount, headDim: c.headDim, cos: cos, sin: sin)
      }
      (keys + (start + t) * c.keyWidth).update(from: kt, count: c.keyWidth)
      (values + (start + t) * c.valueWidth).update(from: v.row(t, width: c.valueWidth), count: c.valueWidth)
    }

    let outWidth = c.headCount * c.valueHeadDim
    let out = FloatBuffer(count: tokens * outWidth)
    let scale = c.attentionScale ?? 1 / Float(c.headDim).squareRoot()
    let group = c.headCount / c.kvHeadCount
    let window = c.isSlidingWindow(layer: layer) ? c.slidingWindow : Int.max
    let sinks = w.sinks
    pool.parallelFor(tokens * c.headCount) { item in
      let t = item / c.headCount
      let h = item % c.headCount
      let position = start + t
      let first = max(0, position - window + 1)
      let length = position + 1 - first
      let query = q.pointer + t * c.queryWidth + h * c.headDim
      let kvHead = h / group
      withUnsafeTemporaryAllocation(of: Float.self, capacity: length) { scores in
        let s = scores.baseAddress!
        for p in 0..<length {
          s[p] = dot(query, keys + (first + p) * c.keyWidth + kvHead * c.headDim, count: c.headDim) * scale
        }
        if let sinks {
          softmaxWithSink(s, count: length, sink: sinks[h])
        } else {
          softmax(s, count: length)
        }
        let o = out.pointer + t * outWidth + h * c.valueHeadDim
        o.update(repeating: 0, count: c.valueHeadDim)
        for p in 0..<length {
          let row = values + (first + p) * c.valueWidth + kvHead * c.valueHeadDim
          scaleAdd(o, row, scale: s[p], count: c.valueHeadDim)
        }
      }
    }
    if let gate = w.outputGate {
      let g = FloatBuffer(count: tokens * outWidth)
      gate(input, tokens: tokens, output: g.pointer, pool: pool)
      for i in 0..<tokens * outWidth { out[i] *= 1 / (1 + exp(-g[i])) }
    }
    w.output(out.pointer, tokens: tokens, output: output, pool: pool)
  }

  /// Softmax whose denominator also holds exp(sink): the sink takes probability mass without
  /// contributing a value (gpt-oss; transformers appends the sink logit, softmaxes, drops it).
  private func softmaxWithSink(_ x: UnsafeMutablePointer<Float>, count: Int, sink: Float) {
    var maximum = sink
    for i in 0..<count where x[i] > maximum { maximum = x[i] }
    var sum = expf(sink - maximum)
    for i in 0..<count {
      x[i] = expf(x[i] - maximum)
      sum += x[i]
    }
    for i in 0..<count { x[i] /= sum }
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
