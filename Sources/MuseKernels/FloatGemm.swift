import MuseKernelsC

/// y[t * outputStride + r] = row r of `w` · token t of `x`, for rows r < `rows` (row r at
/// w + r * rowStride) and tokens t < `tokens` (token t at x + t * tokenStride), `columns`
/// floats each, on the calling thread. F32 weights take this in `matmul`; attention uses it
/// for scores (keys as rows) and for the weighted sum of values (transposed values as rows).
///
/// Several rows by several tokens per step (float_gemm.c at the AVX2 and AVX-512 levels, a
/// 2 × 2 tile of SIMD8 accumulators in Swift at the portable one). Every output gets the same
/// arithmetic whatever the shape of the call, so a token's result is bitwise independent of
/// how many tokens share it (batch invariance); the two C levels give the same bits.
public func floatGemm(
  weights w: UnsafePointer<Float>, rowStride: Int, rows: Int, input x: UnsafePointer<Float>, tokenStride: Int,
  tokens: Int, columns: Int, output y: UnsafeMutablePointer<Float>, outputStride: Int
) {
  floatGemm(
    weights: w, rowStride: rowStride, rows: rows, input: x, tokenStride: tokenStride, tokens: tokens,
    columns: columns, output: y, outputStride: outputStride, level: KernelDispatch.current)
}

func floatGemm(
  weights w: UnsafePointer<Float>, rowStride: Int, rows: Int, input x: UnsafePointer<Float>, tokenStride: Int,
  tokens: Int, columns: Int, output y: UnsafeMutablePointer<Float>, outputStride: Int,
  level: KernelDispatch.Level
) {
  guard rows > 0, tokens > 0 else { return }
  precondition(
    columns >= 0 && columns <= Int(Int32.max) && rows <= Int(Int32.max) && tokens <= Int(Int32.max))
  #if arch(x86_64)
    if level != .portable {
      let (r, t, c) = (Int32(rows), Int32(tokens), Int32(columns))
      if level == .avx512vnni {
        muse_sgemm_vnni(w, rowStride, r, x, tokenStride, t, c, y, outputStride)
      } else {
        muse_sgemm_avx2(w, rowStride, r, x, tokenStride, t, c, y, outputStride)
      }
      return
    }
  #endif
  var r = 0
  while r < rows {
    let second = r + 1 < rows
    var t = 0
    while t < tokens {
      portableTile(
        w + r * rowStride, second ? w + (r + 1) * rowStride : nil, x + t * tokenStride,
        t + 1 < tokens ? x + (t + 1) * tokenStride : nil, columns: columns, y + t * outputStride + r,
        outputStride: outputStride)
      t += 2
    }
    r += 2
  }
}

/// Two rows × two tokens (a missing row or token is computed on the first one's data and not
/// stored, so every output has the same arithmetic): one SIMD8 accumulator per output over
/// the columns in order, the last partial 8 zero-padded, then summed across lanes.
@inline(__always)
private func portableTile(
  _ w0: UnsafePointer<Float>, _ w1: UnsafePointer<Float>?, _ x0: UnsafePointer<Float>,
  _ x1: UnsafePointer<Float>?,
  columns: Int, _ y: UnsafeMutablePointer<Float>, outputStride: Int
) {
  let (rw0, rw1) = (UnsafeRawPointer(w0), UnsafeRawPointer(w1 ?? w0))
  let (rx0, rx1) = (UnsafeRawPointer(x0), UnsafeRawPointer(x1 ?? x0))
  var (a00, a01, a10, a11) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
  var c = 0
  while c + 8 <= columns {
    let o = c * 4
    let v0 = rw0.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
    let v1 = rw1.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
    let u0 = rx0.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
    let u1 = rx1.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
    a00 += v0 * u0
    a01 += v0 * u1
    a10 += v1 * u0
    a11 += v1 * u1
    c += 8
  }
  if c < columns {
    var v0 = SIMD8<Float>()
    var v1 = SIMD8<Float>()
    var u0 = SIMD8<Float>()
    var u1 = SIMD8<Float>()
    for i in 0..<(columns - c) {
      v0[i] = w0[c + i]
      v1[i] = (w1 ?? w0)[c + i]
      u0[i] = x0[c + i]
      u1[i] = (x1 ?? x0)[c + i]
    }
    a00 += v0 * u0
    a01 += v0 * u1
    a10 += v1 * u0
    a11 += v1 * u1
  }
  y[0] = a00.sum()
  if w1 != nil { y[1] = a10.sum() }
  if x1 != nil {
    y[outputStride] = a01.sum()
    if w1 != nil { y[outputStride + 1] = a11.sum() }
  }
}
