// Q6_K (ggml-common.h `block_q6_K`): 256 values as 128 bytes `ql` (low 4 bits), 64 bytes `qh`
// (high 2 bits), 16 int8 sub-block scales (one per 16 values), then f16 d (210 bytes).
// value = d * scale * (q - 32). Each half of 128 values uses 64 bytes of ql, 32 of qh and 8
// scales: for l in 0..<32, ql[l] low/high nibbles give values l and l + 64, ql[l + 32] give
// l + 32 and l + 96, and bits 0-1, 2-3, 4-5, 6-7 of qh[l] extend values l, l+32, l+64, l+96.

let q6_KBlockBytes = 210

/// The four 16-value groups of 6-bit codes (minus 32) that share lane l = 16c ..< 16c + 16.
@inline(__always)
private func codes(_ ql: UnsafeRawPointer, _ qh: UnsafeRawPointer, chunk c: Int)
  -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)
{
  let l0 = ql.loadUnaligned(fromByteOffset: 16 * c, as: SIMD16<UInt8>.self)
  let l1 = ql.loadUnaligned(fromByteOffset: 32 + 16 * c, as: SIMD16<UInt8>.self)
  let h = qh.loadUnaligned(fromByteOffset: 16 * c, as: SIMD16<UInt8>.self)
  let q1 = (l0 & 0x0F) | ((h & 0x03) &<< 4)
  let q2 = (l1 & 0x0F) | ((h & 0x0C) &<< 2)
  let q3 = (l0 &>> 4) | (h & 0x30)
  let q4 = (l1 &>> 4) | ((h & 0xC0) &>> 2)
  return (
    SIMD16<Float>(q1) - 32, SIMD16<Float>(q2) - 32, SIMD16<Float>(q3) - 32, SIMD16<Float>(q4) - 32
  )
}

@inline(__always)
func dequantizeQ6_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
  for b in 0..<blocks {
    let block = src + b * q6_KBlockBytes
    let d = halfToFloat(block.loadUnaligned(fromByteOffset: 208, as: UInt16.self))
    for half in 0..<2 {
      let ql = block + 64 * half
      let qh = block + 128 + 32 * half
      let sc = block + 192 + 8 * half
      let out = UnsafeMutableRawPointer(dst + b * 256 + 128 * half)
      for c in 0..<2 {
        let (q1, q2, q3, q4) = codes(ql, qh, chunk: c)
        // Scale index for lane l is l / 16, so chunk c uses scales c, c + 2, c + 4, c + 6.
        // Multiply (d * scale) first, then q, in the same order as ggml and gguf-py.
        let s1 = d * Float(sc.load(fromByteOffset: c, as: Int8.self))
        let s2 = d * Float(sc.load(fromByteOffset: c + 2, as: Int8.self))
        let s3 = d * Float(sc.load(fromByteOffset: c + 4, as: Int8.self))
        let s4 = d * Float(sc.load(fromByteOffset: c + 6, as: Int8.self))
        out.storeBytes(of: s1 * q1, toByteOffset: 64 * c, as: SIMD16<Float>.self)
        out.storeBytes(of: s2 * q2, toByteOffset: 64 * c + 128, as: SIMD16<Float>.self)
        out.storeBytes(of: s3 * q3, toByteOffset: 64 * c + 256, as: SIMD16<Float>.self)
        out.storeBytes(of: s4 * q4, toByteOffset: 64 * c + 384, as: SIMD16<Float>.self)
      }
    }
  }
}

@inline(__always)
func dotQ6_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
  var acc = SIMD16<Float>()
  for b in 0..<blocks {
    let block = row + b * q6_KBlockBytes
    let d = halfToFloat(block.loadUnaligned(fromByteOffset: 208, as: UInt16.self))
    var blockAcc = SIMD16<Float>()
    for half in 0..<2 {
      let ql = block + 64 * half
      let qh = block + 128 + 32 * half
      let sc = block + 192 + 8 * half
      let xs = UnsafeRawPointer(x + b * 256 + 128 * half)
      for c in 0..<2 {
        let (q1, q2, q3, q4) = codes(ql, qh, chunk: c)
        let s1 = Float(sc.load(fromByteOffset: c, as: Int8.self))
        let s2 = Float(sc.load(fromByteOffset: c + 2, as: Int8.self))
        let s3 = Float(sc.load(fromByteOffset: c + 4, as: Int8.self))
        let s4 = Float(sc.load(fromByteOffset: c + 6, as: Int8.self))
        let offset = 64 * c
        blockAcc += s1 * (q1 * xs.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self))
        blockAcc += s2 * (q2 * xs.loadUnaligned(fromByteOffset: offset + 128, as: SIMD16<Float>.self))
        blockAcc += s3 * (q3 * xs.loadUnaligned(fromByteOffset: offset + 256, as: SIMD16<Float>.self))
        blockAcc += s4 * (q4 * xs.loadUnaligned(fromByteOffset: offset + 384, as: SIMD16<Float>.self))
      }
    }
    acc += d * blockAcc
  }
  return acc.sum()
}
