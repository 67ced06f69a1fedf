// exp(x[i] - shift) for a vocabulary of logits at once, and their sum: the sampler's softmax.
// Why C: glibc's exp per logit (49k for SmolLM2) cost ~0.4 ms per sequence per step, ~9 % of
// a batched step at 8 streams; this loop does 16 at a time with scalef, ~1 ulp like expf.

#include "MuseKernelsC.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>

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

#endif
