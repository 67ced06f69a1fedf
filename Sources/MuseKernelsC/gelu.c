// The exact (erf) GELU of BERT encoders, 0.5 x (1 + erf(x / √2)), 8 floats at a time with AVX2:
// glibc's erff per element was 11 % of the moderation classifier's CPU time (perf, 200-character
// prompts through all-MiniLM-L6-v2). erf by Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7),
// computed as erfc(|u|) = t P(t) e^(-u²) so that 1 + erf(u) for negative u is formed without
// cancellation; e^d for d ≤ 0 by exp_kernel.h's reduction and Taylor series, 2^k built in the
// exponent bits. The tail goes through the same vector code via a padded copy, so an element's
// result does not depend on where it falls.

#include "MuseKernelsC.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

#define AI static inline __attribute__((always_inline))

/// e^d for d ≤ 0 (0 below -87, and for NaN).
AI __m256 exp8_nonpositive(__m256 d) {
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
  // k ≥ -126 here, so 2^k is a normal float: biased exponent k + 127 ≥ 1.
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
  return _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(bits)), live);
}

AI __m256 gelu8(__m256 x) {
  const __m256 u = _mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f));
  const __m256 a = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), u);
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), a, one));
  __m256 poly = _mm256_fmadd_ps(_mm256_set1_ps(1.061405429f), t, _mm256_set1_ps(-1.453152027f));
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(1.421413741f));
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(-0.284496736f));
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(0.254829592f));
  poly = _mm256_mul_ps(poly, t);
  // erfc(|u|); 1 + erf(u) is 2 - erfc(|u|) for u ≥ 0 and erfc(|u|) below.
  const __m256 erfc = _mm256_mul_ps(poly, exp8_nonpositive(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(a, a))));
  const __m256 positive = _mm256_cmp_ps(u, _mm256_setzero_ps(), _CMP_GE_OQ);
  const __m256 onePlusErf = _mm256_blendv_ps(erfc, _mm256_sub_ps(_mm256_set1_ps(2.0f), erfc), positive);
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), onePlusErf);
}

void muse_gelu_erf_avx2(float *x, long n) {
  long i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, gelu8(_mm256_loadu_ps(x + i)));
  if (i < n) {
    float tail[8] = {0};
    memcpy(tail, x + i, (size_t)(n - i) * sizeof(float));
    _mm256_storeu_ps(tail, gelu8(_mm256_loadu_ps(tail)));
    memcpy(x + i, tail, (size_t)(n - i) * sizeof(float));
  }
}

#pragma clang attribute pop

#endif
