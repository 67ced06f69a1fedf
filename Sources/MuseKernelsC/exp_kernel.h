// e^d for 16 floats at once, AVX-512F (included by exp.c and attention.c inside their target
// attribute). e^x = 2^n · e^r with n = round(x / ln 2), r = x - n ln 2 in [-ln2/2, ln2/2] (ln 2
// split in two for an exact product), e^r by its Taylor series to r^6 (error < 1.2e-7 relative
// there, ~1 ulp like expf). Below -87, and for -inf or NaN, the result is 0: a masked-out logit
// or key gets no weight.

#ifndef MUSE_EXP_KERNEL_H
#define MUSE_EXP_KERNEL_H

static inline __attribute__((always_inline)) __m512 muse_exp16(__m512 d) {
  const __m512 lo = _mm512_set1_ps(-87.0f);
  const __mmask16 live = _mm512_cmp_ps_mask(d, lo, _CMP_GE_OQ);
  const __m512 v = _mm512_max_ps(d, lo);
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(v, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f),
                                    _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), v));
  const __m512 one = _mm512_set1_ps(1.0f);
  __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(1.0f / 720), r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 2));
  p = _mm512_fmadd_ps(p, r, one);
  p = _mm512_fmadd_ps(p, r, one);
  return _mm512_maskz_mov_ps(live, _mm512_scalef_ps(p, k));
}

// e^d for any d: as muse_exp16 down to -87 (0 below), and +inf above ~88.7 (scalef
// overflows), where muse_exp16 is meant for d <= 0.
static inline __attribute__((always_inline)) __m512 muse_exp16_unbounded(__m512 d) {
  const __m512 hi = _mm512_set1_ps(89.0f);
  const __mmask16 over = _mm512_cmp_ps_mask(d, hi, _CMP_GT_OQ);
  return _mm512_mask_mov_ps(muse_exp16(_mm512_min_ps(d, hi)), over, _mm512_set1_ps(INFINITY));
}

#endif
