// Unquantised rows: F32, F16 and BF16 (one value per "block", so any length is valid).

@inline(__always)
func dequantizeF16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
  var i = 0
  while i + 8 <= count {
    let h = src.loadUnaligned(fromByteOffset: i * 2, as: SIMD8<UInt16>.self)
    UnsafeMutableRawPointer(dst + i).storeBytes(of: halfToFloat(h), as: SIMD8<Float>.self)
    i += 8
  }
  while i < count {
    dst[i] = halfToFloat(src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
    i += 1
  }
}

@inline(__always)
func dequantizeBF16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
  var i = 0
  while i + 8 <= count {
    let h = src.loadUnaligned(fromByteOffset: i * 2, as: SIMD8<UInt16>.self)
    UnsafeMutableRawPointer(dst + i).storeBytes(of: bf16ToFloat(h), as: SIMD8<Float>.self)
    i += 8
  }
  while i < count {
    dst[i] = bf16ToFloat(src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
    i += 1
  }
}

@inline(__always)
func dotF16(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
  var acc0 = SIMD8<Float>()
  var acc1 = SIMD8<Float>()
  let xs = UnsafeRawPointer(x)
  var i = 0
  while i + 16 <= count {
    let h0 = row.loadUnaligned(fromByteOffset: i * 2, as: SIMD8<UInt16>.self)
    let h1 = row.loadUnaligned(fromByteOffset: i * 2 + 16, as: SIMD8<UInt16>.self)
    acc0 += halfToFloat(h0) * xs.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
    acc1 += halfToFloat(h1) * xs.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
    i += 16
  }
  var sum = (acc0 + acc1).sum()
  while i < count {
    sum += halfToFloat(row.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) * x[i]
    i += 1
  }
  return sum
}

@inline(__always)
func dotBF16(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
  var acc0 = SIMD8<Float>()
  var acc1 = SIMD8<Float>()
  let xs = UnsafeRawPointer(x)
  var i = 0
  while i + 16 <= count {
    let h0 = row.loadUnaligned(fromByteOffset: i * 2, as: SIMD8<UInt16>.self)
    let h1 = row.loadUnaligned(fromByteOffset: i * 2 + 16, as: SIMD8<UInt16>.self)
    acc0 += bf16ToFloat(h0) * xs.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
    acc1 += bf16ToFloat(h1) * xs.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
    i += 16
  }
  var sum = (acc0 + acc1).sum()
  while i < count {
    sum += bf16ToFloat(row.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) * x[i]
    i += 1
  }
  return sum
}
