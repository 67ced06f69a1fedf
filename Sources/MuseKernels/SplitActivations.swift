import MuseKernelsC

/// Activations quantised per block of 32 to 16 or 24 bits for the interleaved kernels
/// (Sources/MuseKernelsC/interleaved_dot.c says why, and which weights take which):
/// q = round(x · L / max|block|) with L = 127 · 256^(digits - 1), stored as `digits` signed
/// bytes in base 256 (q = 256 h + l, or 65536 h + 256 m + l; h in -127...127, the lower digits
/// in -128...127) because vpdpbusd multiplies bytes. The rounding error is at most 1/(2L) of the
/// block's largest value.
///
/// Token t occupies `tokenStride` bytes from `base + t * tokenStride`: `blocks` × 32 codes per
/// digit, top digit first, then per block: float scale (max / L), int32 Σ of the top digit,
/// int32 Σ of the lower digits' value, float Σ q · scale, int32 Σ q of the block's first 16
/// values (Q6_K's scales cover 16 values).
struct SplitActivations {
  let base: UnsafeMutableRawPointer
  let blocks: Int
  let digits: Int
  let tokenStride: Int

  /// The digits the kernel for `type` reads.
  static func digits(for type: GGMLType) -> Int { type == .q8_0 ? 3 : 2 }

  static func levels(digits: Int) -> Double { digits == 3 ? 8_323_072 : 32_512 }

  /// A block whose largest |x| is below this is split as zeros (MUSE_SPLIT_NEGLIGIBLE in C):
  /// its scale L / max|x| would overflow a float for 16-bit digits below ~9.6e-35.
  static let negligible = Float(MUSE_SPLIT_NEGLIGIBLE)

  static func tokenStride(columns: Int, digits: Int) -> Int { (columns / 32 * (32 * digits + 20) + 63) & ~63 }

  /// Quantises `tokens` rows of `columns` floats into the calling thread's scratch `slot`,
  /// valid until this thread uses that slot again.
  init(
    _ x: UnsafePointer<Float>, columns: Int, tokens: Int, digits: Int, slot: ThreadScratch.Slot,
    level: KernelDispatch.Level = KernelDispatch.current
  ) {
    precondition(columns % 32 == 0, "quantised rows hold whole blocks of 32 values")
    blocks = columns / 32
    self.digits = digits
    tokenStride = Self.tokenStride(columns: columns, digits: digits)
    base = ThreadScratch.buffer(bytes: tokens * tokenStride, slot: slot)
    #if arch(x86_64)
      if level != .portable {
        let split = level == .avx512vnni ? muse_split_activations_vnni : muse_split_activations_avx2
        for t in 0..<tokens {
          split(
            x + t * columns, (base + t * tokenStride).assumingMemoryBound(to: Int8.self), Int32(blocks),
            Int32(digits))
        }
        return
      }
    #elseif arch(arm64)
      if level == .neon {
        for t in 0..<tokens {
          muse_split_activations_neon(
            x + t * columns, (base + t * tokenStride).assumingMemoryBound(to: Int8.self), Int32(blocks),
            Int32(digits))
        }
        return
      }
    #endif
    for t in 0..<tokens {
      splitActivations(x + t * columns, into: base + t * tokenStride, blocks: blocks, digits: digits)
    }
  }

  /// Room for `tokens` rows in the calling thread's scratch `slot`, for the caller to fill.
  init(capacityFor tokens: Int, columns: Int, digits: Int, slot: ThreadScratch.Slot) {
    blocks = columns / 32
    self.digits = digits
    tokenStride = Self.tokenStride(columns: columns, digits: digits)
    base = ThreadScratch.buffer(bytes: tokens * tokenStride, slot: slot)
  }

  private init(base: UnsafeMutableRawPointer, blocks: Int, digits: Int, tokenStride: Int) {
    self.base = base
    self.blocks = blocks
    self.digits = digits
    self.tokenStride = tokenStride
  }

  /// The same activations from token `t` on.
  func dropping(tokens t: Int) -> SplitActivations {
    SplitActivations(base: base + t * tokenStride, blocks: blocks, digits: digits, tokenStride: tokenStride)
  }

  @inline(__always) func token(_ t: Int) -> UnsafePointer<Int8> {
    UnsafePointer((base + t * tokenStride).assumingMemoryBound(to: Int8.self))
  }
}

/// One token's `blocks` × 32 floats to the layout above at `dst`. One quantiser for every
/// dispatch level, so results do not depend on it; SIMD16 lanes (four SSE2 registers each), as
/// it runs for every matmul input.
func splitActivations(_ x: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int, digits: Int)
{
  let tail = dst + blocks * 32 * digits
  let levels = SplitActivations.levels(digits: digits)
  let source = UnsafeRawPointer(x)
  for b in 0..<blocks {
    let halves = (
      source.loadUnaligned(fromByteOffset: b * 128, as: SIMD16<Float>.self),
      source.loadUnaligned(fromByteOffset: b * 128 + 64, as: SIMD16<Float>.self)
    )
    let amax = pointwiseMax(absolute(halves.0), absolute(halves.1)).max()
    let scale = amax < SplitActivations.negligible ? 0 : levels / Double(amax)
    var sumTop: Int32 = 0
    var sumRest: Int32 = 0
    var sum: Int32 = 0
    var firstHalf: Int32 = 0
    func split(_ v: SIMD16<Float>, half: Int) {
      // Adding 1.5 · 2^23 (Float, |v| < 2^22: 16 bits) or 1.5 · 2^52 (Double, 24 bits) rounds
      // to the nearest integer (ties to even) in the low mantissa bits, without SSE4.1's
      // roundps or a libm call.
      let q: SIMD16<Int32>
      if digits == 2 {
        let r = v * Float(scale) + 12_582_912
        q = unsafeBitCast(r, to: SIMD16<Int32>.self) &- 0x4B40_0000
      } else {
        let r = SIMD16<Double>(v) * scale + 6_755_399_441_055_744
        q = SIMD16<Int32>(truncatingIfNeeded: unsafeBitCast(r, to: SIMD16<Int64>.self))
      }
      // Balanced base-256 digits, lowest first: each lower digit in -128...127.
      var rest = q
      var place: Int32 = 1
      var lower = SIMD16<Int32>()
      for j in stride(from: digits - 1, to: 0, by: -1) {
        let up = (rest &+ 128) &>> 8
        let digit = rest &- (up &<< 8)
        (dst + (j * blocks + b) * 32 + half * 16).storeBytes(
          of: SIMD16<Int8>(truncatingIfNeeded: digit), as: SIMD16<Int8>.self)
        lower &+= digit &* place
        place <<= 8
        rest = up
      }
      (dst + b * 32 + half * 16).storeBytes(of: SIMD16<Int8>(truncatingIfNeeded: rest), as: SIMD16<Int8>.self)
      sumTop &+= rest.wrappedSum()
      sumRest &+= lower.wrappedSum()
      sum &+= q.wrappedSum()
    }
    split(halves.0, half: 0)
    firstHalf = sum
    split(halves.1, half: 1)
    let d = Float(Double(amax) / levels)
    tail.storeBytes(of: d, toByteOffset: 4 * b, as: Float.self)
    tail.storeBytes(of: sumTop, toByteOffset: 4 * (blocks + b), as: Int32.self)
    tail.storeBytes(of: sumRest, toByteOffset: 4 * (2 * blocks + b), as: Int32.self)
    tail.storeBytes(of: Float(Double(sum) * Double(d)), toByteOffset: 4 * (3 * blocks + b), as: Float.self)
    tail.storeBytes(of: firstHalf, toByteOffset: 4 * (4 * blocks + b), as: Int32.self)
  }
}

@inline(__always)
private func absolute(_ v: SIMD16<Float>) -> SIMD16<Float> {
  unsafeBitCast(unsafeBitCast(v, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: SIMD16<Float>.self)
}
