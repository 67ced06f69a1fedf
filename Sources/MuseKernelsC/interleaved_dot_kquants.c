// The K-quants (Q4_K, Q6_K) on the 16-row interleaved layout with AVX-512 VNNI: one 512-bit
// vector holds 4 values of all 16 rows, so each chunk is read once for the whole group, where
// the 256-bit kernels (interleaved_dot_kernels.h) take the group in two passes of 8 rows. The
// arithmetic is theirs — the same exact int32 sums, the same float operations in the same
// order — so every level gives the same bits. Layouts: interleaved_dot.c (Q4_K) and
// interleaved_dot_kernels.h (Q6_K). On a Zen 5 EPYC, one thread, 32768 × 2048 matrices, one
// token: Q4_K 22.6 → 36.5 GB/s and Q6_K 13.5 → 27.5 GB/s against the AVX-VNNI kernels
// (MatMulBenchmarks.interleavedDecode; BENCHMARKS.md).

#include "MuseKernelsC.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#include "interleaved_activations.h"

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni"))), apply_to = function)

#define AI static inline __attribute__((always_inline))
// Software prefetch 8 KB ahead, spread over the sub-blocks (each fetches the lines 8 KB past
// its own) rather than a whole super-block at once: OLMoE-shaped Q4_K_M decode on Zen 5, one
// thread, went from 35.1 tok/s (2 super-blocks ahead in one burst per super-block; 1 / 3 / 4:
// 32.1 / 34.3 / 32.3) to 47.4 (93 % of the roofline; 4608 bytes: 42.8, 12 KB: 47.5), prefill
// 100 → 112.
#define KQ_DIST 8192

AI __m512i kbcast4(const int8_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// One token's four digit sums over chunks q[0..n) (values 4k ..< 4k + 4 in chunk k) against the
// 16-bit activations h, l: (Σ q h) · 256 + Σ q l, exact in int32, two chains per digit.
AI __m512i kdot(const __m512i *q, int n, const int8_t *h, const int8_t *l) {
  __m512i h0 = _mm512_setzero_si512(), h1 = _mm512_setzero_si512();
  __m512i l0 = _mm512_setzero_si512(), l1 = _mm512_setzero_si512();
  for (int k = 0; k < n; k += 2) {
    h0 = _mm512_dpbusd_epi32(h0, q[k], kbcast4(h + 4 * k));
    l0 = _mm512_dpbusd_epi32(l0, q[k], kbcast4(l + 4 * k));
    h1 = _mm512_dpbusd_epi32(h1, q[k + 1], kbcast4(h + 4 * k + 4));
    l1 = _mm512_dpbusd_epi32(l1, q[k + 1], kbcast4(l + 4 * k + 4));
  }
  return _mm512_add_epi32(_mm512_slli_epi32(_mm512_add_epi32(h0, h1), 8), _mm512_add_epi32(l0, l1));
}

AI void kstore(const __m512 acc[4], int nt, float *y, size_t ystride) {
  for (int t = 0; t < nt; t++) _mm512_storeu_ps(y + t * ystride, acc[t]);
}

// A 6-bit field (byte k of each 32-bit lane, masked) times f, as the 256-bit scale_lanes does.
AI __m512 kscale(__m512 f, __m512i v, int k) {
  return _mm512_mul_ps(f, _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(v, 8 * k), _mm512_set1_epi32(0xFF))));
}

// Q4_K: iq4_K of interleaved_dot_kernels.h on all 16 rows at once.
AI void kq4_K(const uint8_t *w, int blocks, const int8_t *x, size_t xstride, int nt, float *y,
              size_t ystride) {
  const __m512i m4 = _mm512_set1_epi8(0x0F), m6 = _mm512_set1_epi8(0x3F), top2 = _mm512_set1_epi8(0x30);
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  for (int sb = 0; sb < blocks / 8; sb++, w += 2304) {
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)w));
    const __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w + 32)));
    const __m512i low = _mm512_loadu_si512((const void *)(w + 64));
    const __m512i high = _mm512_loadu_si512((const void *)(w + 128));
    const __m512i packed = _mm512_loadu_si512((const void *)(w + 192));
    const __m512i sc[2] = {_mm512_and_si512(low, m6),
                           _mm512_or_si512(_mm512_and_si512(packed, m4),
                                           _mm512_and_si512(_mm512_srli_epi32(low, 2), top2))};
    const __m512i mn[2] = {_mm512_and_si512(high, m6),
                           _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(packed, 4), m4),
                                           _mm512_and_si512(_mm512_srli_epi32(high, 2), top2))};
    for (int s = 0; s < 8; s++) {
      for (int pf = 0; pf < 320; pf += 64) _mm_prefetch((const char *)w + KQ_DIST + 288 * s + pf, _MM_HINT_T0);
      const int b = 8 * sb + s;
      const __m512 ds = kscale(d, sc[s / 4], s % 4), dm = kscale(dmin, mn[s / 4], s % 4);
      __m512i q[8];
      for (int j = 0; j < 8; j++) {
        const __m512i raw = _mm512_loadu_si512((const void *)(w + 256 + 512 * (s / 2) + 64 * j));
        q[j] = _mm512_and_si512(s % 2 ? _mm512_srli_epi16(raw, 4) : raw, m4);
      }
      for (int t = 0; t < nt; t++) {
        const __m512i sum = kdot(q, 8, XDIGIT(t, b, 0), XDIGIT(t, b, 1));
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(ds, _mm512_set1_ps(XD(t, b, 2))), acc[t]);
        acc[t] = _mm512_fnmadd_ps(dm, _mm512_set1_ps(XSUM(t, b, 2)), acc[t]);
      }
    }
  }
  kstore(acc, nt, y, ystride);
}

// Q6_K sub-block i = 8n + 2v + g (q6_K_sub of interleaved_dot_kernels.h, 16 rows at once).
AI void kq6_K_sub(const uint8_t *w, __m512 d, int sb, int n, const int v, const int g, const int8_t *x,
                  size_t xstride, int blocks, int nt, __m512 acc[4]) {
  const __m512i m4 = _mm512_set1_epi8(0x0F), top2 = _mm512_set1_epi8(0x30);
  for (int pf = 0; pf < 256; pf += 64)
    _mm_prefetch((const char *)w + KQ_DIST + 210 * (8 * n + 4 * g + v) + pf, _MM_HINT_T0);
  const int b = 8 * sb + 4 * n + v, byte = 2 * (v % 2) + g;
  const __m512i scv = _mm512_loadu_si512((const void *)(w + 32 + 64 * (2 * n + v / 2)));
  const __m512 ds =
      _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(scv, 24 - 8 * byte), 24)));
  __m512i q[4];
  for (int k = 0; k < 4; k++) {
    const int j = 4 * g + k;
    const __m512i lo = _mm512_loadu_si512((const void *)(w + 288 + 64 * (16 * n + 8 * (v & 1) + j)));
    const __m512i hb = _mm512_loadu_si512((const void *)(w + 2336 + 64 * (8 * n + j)));
    const __m512i nib = _mm512_and_si512(v & 2 ? _mm512_srli_epi16(lo, 4) : lo, m4);
    const __m512i top = v == 0   ? _mm512_slli_epi16(hb, 4)
                        : v == 1 ? _mm512_slli_epi16(hb, 2)
                        : v == 2 ? hb
                                 : _mm512_srli_epi16(hb, 2);
    q[k] = _mm512_or_si512(nib, _mm512_and_si512(top, top2));
  }
  for (int t = 0; t < nt; t++) {
    __m512i s = kdot(q, 4, XDIGIT(t, b, 0) + 16 * g, XDIGIT(t, b, 1) + 16 * g);
    s = _mm512_sub_epi32(s, _mm512_set1_epi32(32 * XSUM16(t, b, g)));
    acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(ds, _mm512_set1_ps(XD(t, b, 2))), acc[t]);
  }
}

AI void kq6_K(const uint8_t *w, int blocks, const int8_t *x, size_t xstride, int nt, float *y,
              size_t ystride) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  for (int sb = 0; sb < blocks / 8; sb++, w += 3360) {
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)w));
    for (int n = 0; n < 2; n++) {  // sub-blocks in the 256-bit kernel's order (n, g, v)
#define Q6_K_SUB(v, g) kq6_K_sub(w, d, sb, n, v, g, x, xstride, blocks, nt, acc)
      Q6_K_SUB(0, 0); Q6_K_SUB(1, 0); Q6_K_SUB(2, 0); Q6_K_SUB(3, 0);
      Q6_K_SUB(0, 1); Q6_K_SUB(1, 1); Q6_K_SUB(2, 1); Q6_K_SUB(3, 1);
#undef Q6_K_SUB
    }
  }
  kstore(acc, nt, y, ystride);
}

// One specialisation per token count, so the loops over tokens unroll.
#define DEFINE_KIDOT(fmt)                                                                       \
  MUSE_IDOT(muse_idot_##fmt##_vnni) {                                                           \
    const uint8_t *g = (const uint8_t *)w;                                                      \
    switch (ntok) {                                                                             \
    case 1: k##fmt(g, blocks, x, xstride, 1, y, ystride); break;                                \
    case 2: k##fmt(g, blocks, x, xstride, 2, y, ystride); break;                                \
    case 3: k##fmt(g, blocks, x, xstride, 3, y, ystride); break;                                \
    default: k##fmt(g, blocks, x, xstride, 4, y, ystride); break;                               \
    }                                                                                           \
  }
DEFINE_KIDOT(q4_K)
DEFINE_KIDOT(q6_K)

#pragma clang attribute pop
#endif
