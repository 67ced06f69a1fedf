// Vector loops of attention over cached head rows: 16 lanes at a time, which the compiler
// turns into AVX-512 (or two AVX2) operations.

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

/// y[i] = y[i] · keep + x[i] · scale.
@inline(__always)
func headScaleAdd(
  _ y: UnsafeMutablePointer<Float>, keep: Float, _ x: UnsafePointer<Float>, scale: Float, count: Int
) {
  var i = 0
  while i + 16 <= count {
    let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
    let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
    UnsafeMutableRawPointer(y + i).storeBytes(of: yv * keep + xv * scale, as: SIMD16<Float>.self)
    i += 16
  }
  while i < count {
    y[i] = y[i] * keep + x[i] * scale
    i += 1
  }
}
