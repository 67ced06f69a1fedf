#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Activations quantised once per `matmul` call for the integer kernels, in blocks of 32 as
/// ggml's Q8_0 (`quantize_row_q8_0`: d = max|x| / 127, q = round(x / d)) but with a float scale
/// and each block's code sum Σ q alongside (ggml's Q8_1 `s`), which the Q4_0, Q4_1 and Q4_K
/// kernels need for their offset and min terms. K-quant weights use the same per-32 scales
/// (finer than ggml's per-256 Q8_K, so no less accurate).
///
/// Token t occupies `tokenStride` bytes from `base + t * tokenStride`: `blocks` × 32 int8
/// codes, then `blocks` float scales, then `blocks` int32 code sums. The C kernels read this
/// layout (Sources/MuseKernelsC/include/MuseKernelsC.h).
struct QuantizedActivations {
  let base: UnsafeMutableRawPointer
  let blocks: Int
  let tokenStride: Int

  /// Bytes for one token of `columns` values (a multiple of 32), rounded up to whole cache lines.
  static func tokenStride(columns: Int) -> Int {
    (columns / 32 * 40 + 63) & ~63
  }

  /// Quantises `tokens` rows of `columns` floats into the calling thread's scratch buffer,
  /// which stays valid until this thread quantises again.
  init(_ x: UnsafePointer<Float>, columns: Int, tokens: Int, slot: ThreadScratch.Slot = .matmul) {
    precondition(columns % 32 == 0, "quantised rows hold whole blocks of 32 values")
    blocks = columns / 32
    tokenStride = Self.tokenStride(columns: columns)
    base = ThreadScratch.buffer(bytes: tokens * tokenStride, slot: slot)
    for t in 0..<tokens {
      quantizeActivations(x + t * columns, into: base + t * tokenStride, blocks: blocks)
    }
  }

  private init(base: UnsafeMutableRawPointer, blocks: Int, tokenStride: Int) {
    self.base = base
    self.blocks = blocks
    self.tokenStride = tokenStride
  }

  /// The same activations from token `t` on.
  func dropping(tokens t: Int) -> QuantizedActivations {
    QuantizedActivations(base: base + t * tokenStride, blocks: blocks, tokenStride: tokenStride)
  }

  @inline(__always) func codes(_ t: Int) -> UnsafePointer<Int8> {
    UnsafePointer((base + t * tokenStride).assumingMemoryBound(to: Int8.self))
  }
  @inline(__always) func scales(_ t: Int) -> UnsafePointer<Float> {
    UnsafePointer((base + t * tokenStride + blocks * 32).assumingMemoryBound(to: Float.self))
  }
  @inline(__always) func sums(_ t: Int) -> UnsafePointer<Int32> {
    UnsafePointer((base + t * tokenStride + blocks * 36).assumingMemoryBound(to: Int32.self))
  }
}

/// One token's `blocks` × 32 floats to codes, scales and sums at `dst` (the layout above).
/// Scalar loops over fixed-size blocks, which the compiler vectorises; the result must not
/// depend on the dispatch level, so there is one quantiser for every level.
func quantizeActivations(_ x: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, blocks: Int) {
  let codes = dst.assumingMemoryBound(to: Int8.self)
  let scales = (dst + blocks * 32).assumingMemoryBound(to: Float.self)
  let sums = (dst + blocks * 36).assumingMemoryBound(to: Int32.self)
  for b in 0..<blocks {
    let xs = x + b * 32
    var amax: Float = 0
    for i in 0..<32 { amax = max(amax, abs(xs[i])) }
    let d = amax / 127
    let id: Float = d == 0 ? 0 : 1 / d
    var sum: Int32 = 0
    let q = codes + b * 32
    for i in 0..<32 {
      // Adding 1.5 · 2^23 rounds |v| < 2^22 to the nearest integer (ties to even) in the low
      // mantissa bits — rounding without SSE4.1's roundps or a libm call. |x · id| ≤ 127
      // (up to rounding of id), so the code fits Int8.
      let code = Int32(bitPattern: (xs[i] * id + 12_582_912).bitPattern) &- 0x4B40_0000
      q[i] = Int8(truncatingIfNeeded: code)
      sum &+= code
    }
    scales[b] = d
    sums[b] = sum
  }
}
