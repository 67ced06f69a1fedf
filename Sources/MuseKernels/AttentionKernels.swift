import MuseKernelsC

// The inner loops of attention over cached head rows: C with AVX2 / AVX-512 where the CPU has
// them (Sources/MuseKernelsC/attention.c), Swift SIMD loops elsewhere.

/// scores[i] = scale · query · keys[i · stride ..< i · stride + dim] for i < count.
@inline(__always)
public func attentionScores(
  _ query: UnsafePointer<Float>, keys: UnsafePointer<Float>, stride: Int, count: Int, dim: Int, scale: Float,
  into scores: UnsafeMutablePointer<Float>
) {
  #if arch(x86_64)
    switch KernelDispatch.current {
    case .avx512vnni:
      return muse_attn_scores_vnni(query, keys, stride, Int32(count), Int32(dim), scale, scores)
    case .avx2: return muse_attn_scores_avx2(query, keys, stride, Int32(count), Int32(dim), scale, scores)
    case .portable: break
    }
  #endif
  for i in 0..<count { scores[i] = headDot(query, keys + i * stride, count: dim) * scale }
}

/// out[j] += Σ_i weights[i] · values[i · stride + j] for j < dim, i < count.
@inline(__always)
public func attentionAccumulate(
  _ out: UnsafeMutablePointer<Float>, values: UnsafePointer<Float>, stride: Int,
  weights: UnsafePointer<Float>,
  count: Int, dim: Int
) {
  #if arch(x86_64)
    switch KernelDispatch.current {
    case .avx512vnni: return muse_attn_accumulate_vnni(out, values, stride, weights, Int32(count), Int32(dim))
    case .avx2: return muse_attn_accumulate_avx2(out, values, stride, weights, Int32(count), Int32(dim))
    case .portable: break
    }
  #endif
  for i in 0..<count { headScaleAdd(out, values + i * stride, scale: weights[i], count: dim) }
}

/// Starts loading `count` floats at `p` into cache (a hint; no effect on results).
@inline(__always)
public func prefetch(_ p: UnsafePointer<Float>, count: Int) {
  muse_prefetch(p, count * MemoryLayout<Float>.size)
}

/// Σ a[i] · b[i].
@inline(__always)
func headDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
  var sum = SIMD16<Float>()
  var i = 0
  while i + 16 <= count {
    sum +=
      UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self)
      * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
    i += 16
  }
  var total = sum.sum()
  while i < count {
    total += a[i] * b[i]
    i += 1
  }
  return total
}

/// y[i] += x[i] · scale.
@inline(__always)
func headScaleAdd(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, scale: Float, count: Int) {
  var i = 0
  while i + 16 <= count {
    let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
    let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
    UnsafeMutableRawPointer(y + i).storeBytes(of: yv + xv * scale, as: SIMD16<Float>.self)
    i += 16
  }
  while i < count {
    y[i] += x[i] * scale
    i += 1
  }
}
