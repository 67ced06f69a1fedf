// e^d for 8 floats at once, AVX2 + FMA: exp_kernel.h's reduction and Taylor series (within ~1
// ulp of expf), with 2^k built in the exponent bits since AVX2 has no scalef. Included by
// gelu.c and exp.c inside their target attribute.

#ifndef MUSE_EXP8_KERNEL_H
#define MUSE_EXP8_KERNEL_H

/// e^d for d ≤ 88 (0 below -87, and for NaN).
static inline __attribute__((always_inline)) __m256 muse_exp8(__m256 d) {
  const __m256 lo = _mm256_set1_ps(-87.0f);
  const __m256 live = _mm256_cmp_ps(d, lo, _CMP_GE_OQ);
  const __m256 v = _mm256_max_ps(d, lo);
  const __m256 k = _mm256_round_ps(_mm256_mul_ps(v, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f),
                                    _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), v));
  const __m256 one = _mm256_set1_ps(1.0f);
  __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(1.0f / 720), r, _mm256_set1_ps(1.0f / 120));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 2));
  p = _mm256_fmadd_ps(p, r, one);
  p = _mm256_fmadd_ps(p, r, one);
  // -126 ≤ k ≤ 127 here, so 2^k is a normal float: biased exponent 1 ... 254.
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
  return _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(bits)), live);
}

// e^d for any d: as muse_exp8 up to 88, +inf above (where e^d is within 2^-0.5 of FLT_MAX
// anyway; the callers divide by it).
static inline __attribute__((always_inline)) __m256 muse_exp8_unbounded(__m256 d) {
  const __m256 hi = _mm256_set1_ps(88.0f);
  const __m256 over = _mm256_cmp_ps(d, hi, _CMP_GT_OQ);
  return _mm256_blendv_ps(muse_exp8(_mm256_min_ps(d, hi)), _mm256_set1_ps(__builtin_inff()), over);
}

#endif
