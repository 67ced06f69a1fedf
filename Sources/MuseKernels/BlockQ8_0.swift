// Q8_0 (ggml-common.h `block_q8_0`): 32 values as an f16 scale `d` then 32 int8 `qs`;
// value = d * q. 34 bytes per block.

let q8_0BlockBytes = 34

@inline(__always)
func dequantizeQ8_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
  for b in 0..<blocks {
    let block = src + b * q8_0BlockBytes
    let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
    let q0 = SIMD16<Float>(block.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int8>.self))
    let q1 = SIMD16<Float>(block.loadUnaligned(fromByteOffset: 18, as: SIMD16<Int8>.self))
    let out = UnsafeMutableRawPointer(dst + b * 32)
    out.storeBytes(of: d * q0, as: SIMD16<Float>.self)
    out.storeBytes(of: d * q1, toByteOffset: 64, as: SIMD16<Float>.self)
  }
}

@inline(__always)
func dotQ8_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
  var acc = SIMD16<Float>()
  for b in 0..<blocks {
    let block = row + b * q8_0BlockBytes
    let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
    let q0 = SIMD16<Float>(block.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int8>.self))
    let q1 = SIMD16<Float>(block.loadUnaligned(fromByteOffset: 18, as: SIMD16<Int8>.self))
    let xs = UnsafeRawPointer(x + b * 32)
    let x0 = xs.loadUnaligned(as: SIMD16<Float>.self)
    let x1 = xs.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
    acc += d * (q0 * x0 + q1 * x1)
  }
  return acc.sum()
}

/// Quantises `count` floats (a multiple of 32) to Q8_0 exactly as ggml's
/// `quantize_row_q8_0_ref`: d = max|x| / 127, q = round-half-away-from-zero(x / d).
public func quantizeRowQ8_0(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int) {
  precondition(count % 32 == 0, "Q8_0 rows hold whole blocks of 32 values")
  for b in 0..<count / 32 {
    let xs = UnsafeRawPointer(src + b * 32)
    let x0 = xs.loadUnaligned(as: SIMD16<Float>.self)
    let x1 = xs.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
    let amax = max(magnitude(x0).max(), magnitude(x1).max())
    let d = amax / 127
    // ggml multiplies by the reciprocal rather than dividing; keep that for bit-exact codes.
    let id: Float = d == 0 ? 0 : 1 / d
    let q0 = SIMD16<Int8>((x0 * id).rounded(.toNearestOrAwayFromZero), rounding: .towardZero)
    let q1 = SIMD16<Int8>((x1 * id).rounded(.toNearestOrAwayFromZero), rounding: .towardZero)
    let block = dst + b * q8_0BlockBytes
    block.storeBytes(of: floatToHalf(d), as: UInt16.self)
    block.storeBytes(of: q0, toByteOffset: 2, as: SIMD16<Int8>.self)
    block.storeBytes(of: q1, toByteOffset: 18, as: SIMD16<Int8>.self)
  }
}

/// |v| lane by lane, clearing the sign bit so -0 becomes +0 (ggml's fabsf; a zero block must
/// store d = +0, not -0).
@inline(__always)
private func magnitude(_ v: SIMD16<Float>) -> SIMD16<Float> {
  unsafeBitCast(unsafeBitCast(v, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: SIMD16<Float>.self)
}
