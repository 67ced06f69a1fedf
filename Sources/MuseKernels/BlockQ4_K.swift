// Q4_K (ggml-common.h `block_q4_K`): 256 values in 8 sub-blocks of 32. Layout: f16 d,
// f16 dmin, 12 bytes of 6-bit sub-block scales and mins, 128 bytes of nibbles (144 bytes).
// Sub-block j has value = d * scale[j] * q - dmin * min[j]. Nibble bytes come in four runs of
// 32: run p holds sub-block 2p in its low nibbles and sub-block 2p + 1 in its high nibbles.

let q4_KBlockBytes = 144

/// The eight 6-bit sub-block scales and mins, unpacked as ggml's `get_scale_min_k4`:
/// sub-blocks 0–3 keep scale and min in the low 6 bits of bytes 0–3 and 4–7; sub-blocks 4–7
/// keep their low 4 bits in the nibbles of bytes 8–11 and their top 2 bits in the spare high
/// bits of bytes 0–3 (scales) and 4–7 (mins). Done four bytes at a time, as ggml's SIMD code.
@inline(__always)
func q4_KScalesAndMins(_ s: UnsafeRawPointer) -> (scales: SIMD8<Float>, mins: SIMD8<Float>) {
  q4_KScalesAndMins(
    low: s.loadUnaligned(as: UInt32.self), high: s.loadUnaligned(fromByteOffset: 4, as: UInt32.self),
    packed: s.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
}

/// The same from the 12 bytes as three little-endian words (bytes 0–3, 4–7, 8–11), which the
/// interleaved layout keeps apart (InterleavedWeights).
@inline(__always)
func q4_KScalesAndMins(low: UInt32, high: UInt32, packed: UInt32) -> (
  scales: SIMD8<Float>, mins: SIMD8<Float>
) {
  let scales = SIMD2<UInt32>(low & 0x3F3F_3F3F, (packed & 0x0F0F_0F0F) | ((low >> 2) & 0x3030_3030))
  let mins = SIMD2<UInt32>(
    high & 0x3F3F_3F3F, ((packed >> 4) & 0x0F0F_0F0F) | ((high >> 2) & 0x3030_3030))
  return (
    SIMD8<Float>(unsafeBitCast(scales, to: SIMD8<UInt8>.self)),
    SIMD8<Float>(unsafeBitCast(mins, to: SIMD8<UInt8>.self))
  )
}

@inline(__always)
func dequantizeQ4_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
  for b in 0..<blocks {
    let block = src + b * q4_KBlockBytes
    let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
    let dmin = halfToFloat(block.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
    let (scales, mins) = q4_KScalesAndMins(block + 4)
    let qs = block + 16
    let out = UnsafeMutableRawPointer(dst + b * 256)
    for p in 0..<4 {
      let d0 = d * scales[2 * p]
      let d1 = d * scales[2 * p + 1]
      let min0 = dmin * mins[2 * p]
      let min1 = dmin * mins[2 * p + 1]
      for half in 0..<2 {
        let q = qs.loadUnaligned(fromByteOffset: p * 32 + half * 16, as: SIMD16<UInt8>.self)
        let low = d0 * SIMD16<Float>(q & 0x0F) - min0
        let high = d1 * SIMD16<Float>(q &>> 4) - min1
        out.storeBytes(of: low, toByteOffset: (p * 64 + half * 16) * 4, as: SIMD16<Float>.self)
        out.storeBytes(of: high, toByteOffset: (p * 64 + 32 + half * 16) * 4, as: SIMD16<Float>.self)
      }
    }
  }
}

@inline(__always)
func dotQ4_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
  var acc = SIMD16<Float>()
  for b in 0..<blocks {
    let block = row + b * q4_KBlockBytes
    let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
    let dmin = halfToFloat(block.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
    let (scales, mins) = q4_KScalesAndMins(block + 4)
    let ds = d * scales
    let dmins = dmin * mins
    let qs = block + 16
    let xs = UnsafeRawPointer(x + b * 256)
    for p in 0..<4 {
      let qa = qs.loadUnaligned(fromByteOffset: p * 32, as: SIMD16<UInt8>.self)
      let qb = qs.loadUnaligned(fromByteOffset: p * 32 + 16, as: SIMD16<UInt8>.self)
      let xa0 = xs.loadUnaligned(fromByteOffset: p * 256, as: SIMD16<Float>.self)
      let xa1 = xs.loadUnaligned(fromByteOffset: p * 256 + 64, as: SIMD16<Float>.self)
      let xb0 = xs.loadUnaligned(fromByteOffset: p * 256 + 128, as: SIMD16<Float>.self)
      let xb1 = xs.loadUnaligned(fromByteOffset: p * 256 + 192, as: SIMD16<Float>.self)
      let low = SIMD16<Float>(qa & 0x0F) * xa0 + SIMD16<Float>(qb & 0x0F) * xa1
      let high = SIMD16<Float>(qa &>> 4) * xb0 + SIMD16<Float>(qb &>> 4) * xb1
      // Σ (d s q - dmin m) x = d s Σ q x - dmin m Σ x, per sub-block.
      let scaled: SIMD16<Float> = ds[2 * p] * low + ds[2 * p + 1] * high
      let offsets: SIMD16<Float> = dmins[2 * p] * (xa0 + xa1) + dmins[2 * p + 1] * (xb0 + xb1)
      acc += scaled - offsets
    }
  }
  return acc.sum()
}
