// Q4_0 and Q4_1 (ggml-common.h `block_q4_0`, `block_q4_1`): 32 values as 16 bytes of
// nibbles after the scale(s). Byte j holds value j in its low nibble and value j + 16 in its
// high nibble. Q4_0: f16 d, value = (q - 8) * d (18 bytes). Q4_1: f16 d, f16 m,
// value = q * d + m (20 bytes).

let q4_0BlockBytes = 18
let q4_1BlockBytes = 20

/// The low and high nibbles of 16 bytes as floats 0...15 (values 0..<16 and 16..<32).
@inline(__always)
private func nibbles(_ bytes: SIMD16<UInt8>) -> (low: SIMD16<Float>, high: SIMD16<Float>) {
  (SIMD16<Float>(bytes & 0x0F), SIMD16<Float>(bytes &>> 4))
}

@inline(__always)
func dequantizeQ4_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
  for b in 0..<blocks {
    let block = src + b * q4_0BlockBytes
    let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
    let q = nibbles(block.loadUnaligned(fromByteOffset: 2, as: SIMD16<UInt8>.self))
    let out = UnsafeMutableRawPointer(dst + b * 32)
    out.storeBytes(of: d * (q.low - 8), as: SIMD16<Float>.self)
    out.storeBytes(of: d * (q.high - 8), toByteOffset: 64, as: SIMD16<Float>.self)
  }
}

@inline(__always)
func dotQ4_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
  var acc = SIMD16<Float>()
  for b in 0..<blocks {
    let block = row + b * q4_0BlockBytes
    let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
    let q = nibbles(block.loadUnaligned(fromByteOffset: 2, as: SIMD16<UInt8>.self))
    let xs = UnsafeRawPointer(x + b * 32)
    let x0 = xs.loadUnaligned(as: SIMD16<Float>.self)
    let x1 = xs.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
    acc += d * ((q.low - 8) * x0 + (q.high - 8) * x1)
  }
  return acc.sum()
}

@inline(__always)
func dequantizeQ4_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
  for b in 0..<blocks {
    let block = src + b * q4_1BlockBytes
    let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
    let m = halfToFloat(block.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
    let q = nibbles(block.loadUnaligned(fromByteOffset: 4, as: SIMD16<UInt8>.self))
    let out = UnsafeMutableRawPointer(dst + b * 32)
    out.storeBytes(of: d * q.low + m, as: SIMD16<Float>.self)
    out.storeBytes(of: d * q.high + m, toByteOffset: 64, as: SIMD16<Float>.self)
  }
}

@inline(__always)
func dotQ4_1(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
  var acc = SIMD16<Float>()
  for b in 0..<blocks {
    let block = row + b * q4_1BlockBytes
    let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
    let m = halfToFloat(block.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
    let q = nibbles(block.loadUnaligned(fromByteOffset: 4, as: SIMD16<UInt8>.self))
    let xs = UnsafeRawPointer(x + b * 32)
    let x0 = xs.loadUnaligned(as: SIMD16<Float>.self)
    let x1 = xs.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
    // Σ (d q + m) x = d Σ q x + m Σ x
    acc += d * (q.low * x0 + q.high * x1) + m * (x0 + x1)
  }
  return acc.sum()
}
