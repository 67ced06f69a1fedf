// MXFP4 (ggml-common.h `block_mxfp4`, OCP Microscaling Formats v1.0): 32 values as one E8M0
// scale byte then 16 bytes of 4-bit E2M1 codes — byte j holds value j in its low nibble and
// value j + 16 in its high nibble, as Q4_0. ggml stores the E2M1 values doubled (0, 1, 2, 3,
// 4, 6, 8, 12 and their negatives) and halves the scale to match: value = kvalue * 2^(e - 128)
// (`ggml_e8m0_to_fp32_half`; gguf-py's `MXFP4.dequantize_blocks`).

let mxfp4BlockBytes = 17

/// E2M1 code → doubled value (`kvalues_mxfp4`).
private let mxfp4Values = SIMD16<Float>(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12)

/// 2^(e - 128): the E8M0 scale, halved; e < 2 gives the subnormals ggml's bit trick gives.
@inline(__always)
func e8m0HalfToFloat(_ e: UInt8) -> Float {
  e < 2 ? Float(bitPattern: UInt32(0x0020_0000) << UInt32(e)) : Float(bitPattern: UInt32(e - 1) << 23)
}

/// The 32 values of one block, unscaled (kvalues), as two halves: values 0..<16 and 16..<32.
@inline(__always)
private func mxfp4Codes(_ block: UnsafeRawPointer) -> (low: SIMD16<Float>, high: SIMD16<Float>) {
  let q = block.loadUnaligned(fromByteOffset: 1, as: SIMD16<UInt8>.self)
  var low = SIMD16<Float>()
  var high = SIMD16<Float>()
  for j in 0..<16 {
    low[j] = mxfp4Values[Int(q[j] & 0x0F)]
    high[j] = mxfp4Values[Int(q[j] >> 4)]
  }
  return (low, high)
}

@inline(__always)
func dequantizeMXFP4(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
  for b in 0..<blocks {
    let block = src + b * mxfp4BlockBytes
    let d = e8m0HalfToFloat(block.load(as: UInt8.self))
    let q = mxfp4Codes(block)
    let out = UnsafeMutableRawPointer(dst + b * 32)
    out.storeBytes(of: d * q.low, as: SIMD16<Float>.self)
    out.storeBytes(of: d * q.high, toByteOffset: 64, as: SIMD16<Float>.self)
  }
}

@inline(__always)
func dotMXFP4(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
  var acc = SIMD16<Float>()
  for b in 0..<blocks {
    let block = row + b * mxfp4BlockBytes
    let d = e8m0HalfToFloat(block.load(as: UInt8.self))
    let q = mxfp4Codes(block)
    let xs = UnsafeRawPointer(x + b * 32)
    let x0 = xs.loadUnaligned(as: SIMD16<Float>.self)
    let x1 = xs.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
    acc += d * (q.low * x0 + q.high * x1)
  }
  return acc.sum()
}
