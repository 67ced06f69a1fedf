// exp(x[i] - shift) for a vocabulary of logits at once, and their sum: the sampler's softmax.
// Why C: glibc's exp per logit (49k for SmolLM2) cost ~0.4 ms per sequence per step, ~9 % of
// a batched step at 8 streams; this loop does 16 at a time with scalef, ~1 ulp like expf.

#include "MuseKernelsC.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <string.h>

#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#include "exp_kernel.h"

double muse_exp_shifted_vnni(const float *x, float shift, float *out, long n) {
  const __m512 s = _mm512_set1_ps(shift);
  __m512d sum0 = _mm512_setzero_pd(), sum1 = _mm512_setzero_pd();
  long i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 e = muse_exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), s));
    _mm512_storeu_ps(out + i, e);
    sum0 = _mm512_add_pd(sum0, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
    sum1 = _mm512_add_pd(sum1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
  }
  double total = _mm512_reduce_add_pd(_mm512_add_pd(sum0, sum1));
  for (; i < n; i++) {
    const float d = x[i] - shift;
    out[i] = d >= -87.0f ? expf(d) : 0;
    total += out[i];
  }
  return total;
}

// gate[i] = gate[i] / (1 + e^-gate[i]) · up[i], the SwiGLU activation: expf per element had been
// ~6 % of a single-threaded step at 8 streams. The tail goes through the same vector code under a
// mask, so an element's result does not depend on where it falls (batch invariance).
void muse_swiglu_vnni(float *gate, const float *up, long n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (long i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
    const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
    const __m512 u = _mm512_maskz_loadu_ps(m, up + i);
    const __m512 e = muse_exp16_unbounded(_mm512_sub_ps(_mm512_setzero_ps(), g));
    _mm512_mask_storeu_ps(gate + i, m, _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(one, e)), u));
  }
}

#pragma clang attribute pop

// The same two for AVX2 (exp8_kernel.h, 8 at a time); the sampler's sum is taken in Double as
// above, and the tails go through the vector code via a padded copy.
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "exp8_kernel.h"

double muse_exp_shifted_avx2(const float *x, float shift, float *out, long n) {
  const __m256 s = _mm256_set1_ps(shift);
  __m256d sum0 = _mm256_setzero_pd(), sum1 = _mm256_setzero_pd();
  long i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = muse_exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
    _mm256_storeu_ps(out + i, e);
    sum0 = _mm256_add_pd(sum0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
    sum1 = _mm256_add_pd(sum1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
  }
  double lanes[4];
  _mm256_storeu_pd(lanes, _mm256_add_pd(sum0, sum1));
  double total = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  if (i < n) {
    float tail[8];
    for (int j = 0; j < 8; j++) tail[j] = i + j < n ? x[i + j] : -INFINITY;
    _mm256_storeu_ps(tail, muse_exp8(_mm256_sub_ps(_mm256_loadu_ps(tail), s)));
    for (long j = i; j < n; j++) {
      out[j] = tail[j - i];
      total += out[j];
    }
  }
  return total;
}

void muse_swiglu_avx2(float *gate, const float *up, long n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  for (long i = 0; i < n; i += 8) {
    float g8[8] = {0}, u8[8] = {0};
    const long m = n - i >= 8 ? 8 : n - i;
    const int full = m == 8;
    if (!full) {
      memcpy(g8, gate + i, (size_t)m * sizeof(float));
      memcpy(u8, up + i, (size_t)m * sizeof(float));
    }
    const __m256 g = _mm256_loadu_ps(full ? gate + i : g8);
    const __m256 u = _mm256_loadu_ps(full ? up + i : u8);
    const __m256 e = muse_exp8_unbounded(_mm256_sub_ps(_mm256_setzero_ps(), g));
    const __m256 r = _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), u);
    if (full) {
      _mm256_storeu_ps(gate + i, r);
    } else {
      _mm256_storeu_ps(g8, r);
      memcpy(gate + i, g8, (size_t)m * sizeof(float));
    }
  }
}

#pragma clang attribute pop

#endif
