// Sixteen weight rows at a time against activations quantised to 16 or 24 bits: the decode
// and prefill path for Q4_0, Q8_0, Q4_1, Q4_K and Q6_K weights on CPUs with AVX2, AVX-VNNI or
// AVX-512 VNNI (the 256-bit levels are in interleaved_dot_kernels.h, the AVX-512 K-quants in
// interleaved_dot_kquants.c).
//
// Why this layout: the row-at-a-time kernels (float_dot.c, int8_dot.c) spend most of their
// time on per-block work — unpacking, a horizontal sum, a scale — not on reading memory. With
// the weights of 16 rows interleaved 4 bytes at a time (InterleavedWeights.swift), one 64-byte
// load holds 4 values of each of 16 rows, one vpdpbusd multiplies them with 4 activation bytes
// broadcast from memory, and the 16 int32 lanes are the 16 rows' partial sums: no horizontal
// sums, no per-row scale broadcasts, and one 16-float store per token at the end.
//
// Why 16- and 24-bit activations: int8 activations (llama.cpp's Q8_0) move SmolLM2's logits by
// ~3 % of the largest (outlier channels up to 286× the mean), which changes greedy answers.
// Each activation here is q = round(x · L / max|block|) split into signed bytes, and the
// kernels run vpdpbusd once per byte. 4-bit weights take 16 bits (L = 127 · 256, q = 256 h + l):
// every Q4 fixture stays within the golden tolerance and the weights' own rounding is ~10^4×
// larger. Q8_0 takes 24 bits (L = 127 · 65536, q = 65536 h + 256 m + l): with 16 bits the
// Glimmer Q8_0 fixture's logits moved by 3e-4 of the largest, 3× the golden tolerance (the
// numpy reference with the same rounding agrees, Scripts/bench/emulate_activation_rounding.py), at 24
// bits by 1e-6. The third byte costs ~30 % of Q4_0's decode speed, so the Q4 formats do not pay it.
//
// A group of 16 rows, per 32-value block (bytes):
//   Q4_0 (288): 16 f16 scales d, then 4 chunks of 64: chunk j, lane r = row r's qs[4j ..< 4j+4]
//               (low nibbles: values 4j ..< 4j+4, high nibbles: values 16+4j ..< 16+4j+4)
//   Q4_1 (320): 16 f16 d, 16 f16 m, then the Q4_0 chunks
//   Q8_0 (544): 16 f16 d, then 8 chunks of 64: chunk j, lane r = row r's q[4j ..< 4j+4] + 128
// and per 256-value super-block (the bytes of ggml's block_q4_K, permuted):
//   Q4_K (2304): 16 f16 d, 16 f16 dmin, the rows' 12 scale bytes as three 64-byte runs of one
//               32-bit word per row (run w, lane r = row r's scales[4w ..< 4w+4]: still packed
//               6-bit, so the layout keeps the file's size), then 32 chunks of 64: chunk k,
//               lane r = row r's qs[4k ..< 4k+4] (chunk 8p + j: sub-block 2p's values 4j ..< 4j+4
//               in the low nibbles, sub-block 2p+1's in the high ones)
//               (Its kernels: interleaved_dot_kernels.h, 256-bit, and interleaved_dot_kquants.c,
//               AVX-512 VNNI, as Q6_K's, whose layout interleaved_dot_kernels.h gives.)
// Activations, per token (SplitActivations.swift): blocks × 32 codes per digit (h, then m for
// 24 bits, then l), then per block the float scale, int32 Σ h, int32 Σ of the lower digits'
// value (l, or 256 m + l), float Σ x and int32 Σ q of its first 16 values
// (interleaved_activations.h).

#include "MuseKernelsC.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#include "interleaved_activations.h"

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni"))), apply_to = function)

#define AI static inline __attribute__((always_inline))

AI __m512i bcast4(const int8_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

/// Σ over one block of 16 rows' unsigned codes q[0..7] (values 4k ..< 4k+4 in chunk k) times a
/// token's 16-bit activations q = 256 h + l, less `off` × Σ q (the format's code offset); exact
/// in int32 for 4-bit codes (|Σ| ≤ 15 · 32512 · 32 < 2^24, so the conversion is exact too).
AI __m512 dot_block2(const __m512i q[8], const int8_t *h, const int8_t *l, int32_t sum_q,
                     int32_t off) {
  __m512i h0 = _mm512_setzero_si512(), h1 = _mm512_setzero_si512();
  __m512i l0 = _mm512_setzero_si512(), l1 = _mm512_setzero_si512();
  for (int k = 0; k < 8; k += 2) {
    h0 = _mm512_dpbusd_epi32(h0, q[k], bcast4(h + 4 * k));
    l0 = _mm512_dpbusd_epi32(l0, q[k], bcast4(l + 4 * k));
    h1 = _mm512_dpbusd_epi32(h1, q[k + 1], bcast4(h + 4 * k + 4));
    l1 = _mm512_dpbusd_epi32(l1, q[k + 1], bcast4(l + 4 * k + 4));
  }
  __m512i s = _mm512_add_epi32(_mm512_slli_epi32(_mm512_add_epi32(h0, h1), 8), _mm512_add_epi32(l0, l1));
  if (off) s = _mm512_sub_epi32(s, _mm512_set1_epi32(off * sum_q));
  return _mm512_cvtepi32_ps(s);
}

/// The same for 24-bit activations q = 65536 h + 256 m + l (8-bit codes): the h part and the
/// m·l part are exact in int32 with the offset subtracted from each (Σ h and Σ (256 m + l)
/// given), joined by one float fma.
AI __m512 dot_block3(const __m512i q[8], const int8_t *h, const int8_t *m, const int8_t *l,
                     int32_t sum_h, int32_t sum_ml, int32_t off) {
  __m512i h0 = _mm512_setzero_si512(), h1 = _mm512_setzero_si512();
  __m512i m0 = _mm512_setzero_si512(), m1 = _mm512_setzero_si512();
  __m512i l0 = _mm512_setzero_si512(), l1 = _mm512_setzero_si512();
  for (int k = 0; k < 8; k += 2) {
    h0 = _mm512_dpbusd_epi32(h0, q[k], bcast4(h + 4 * k));
    m0 = _mm512_dpbusd_epi32(m0, q[k], bcast4(m + 4 * k));
    l0 = _mm512_dpbusd_epi32(l0, q[k], bcast4(l + 4 * k));
    h1 = _mm512_dpbusd_epi32(h1, q[k + 1], bcast4(h + 4 * k + 4));
    m1 = _mm512_dpbusd_epi32(m1, q[k + 1], bcast4(m + 4 * k + 4));
    l1 = _mm512_dpbusd_epi32(l1, q[k + 1], bcast4(l + 4 * k + 4));
  }
  __m512i sh = _mm512_add_epi32(h0, h1);
  __m512i sml = _mm512_add_epi32(_mm512_slli_epi32(_mm512_add_epi32(m0, m1), 8), _mm512_add_epi32(l0, l1));
  sh = _mm512_sub_epi32(sh, _mm512_set1_epi32(off * sum_h));
  sml = _mm512_sub_epi32(sml, _mm512_set1_epi32(off * sum_ml));
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(sh), _mm512_set1_ps(65536.0f), _mm512_cvtepi32_ps(sml));
}

#define DOT2(t, b, off) dot_block2(q, XDIGIT(t, b, 0), XDIGIT(t, b, 1), 256 * XI(t, b, 2, 1) + XI(t, b, 2, 2), off)
#define DOT3(t, b, off)                                                                         \
  dot_block3(q, XDIGIT(t, b, 0), XDIGIT(t, b, 1), XDIGIT(t, b, 2), XI(t, b, 3, 1), XI(t, b, 3, 2), off)

AI void unpack_nibbles(const uint8_t *p, __m512i q[8]) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  for (int j = 0; j < 4; j++) {
    const __m512i v = _mm512_loadu_si512((const void *)(p + 64 * j));
    q[j] = _mm512_and_si512(v, m4);
    q[j + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
  }
}

// Software prefetch ahead of the blocks being read. With several tokens a group's blocks arrive
// slower than the hardware prefetcher expects a stream to: fetching 4 KB ahead took 4 tokens ×
// 32768 × 2048 Q4_0 on 2 threads from 2.7 to 1.6 ms (then vpdpbusd-bound). One token fetches
// 8 KB ahead: on a Zen 5 EPYC, one thread, OLMoE-shaped MoE decode (each expert's matrices a
// short stream of their own) went from 47.7 to 52.3 tok/s (Q4_0) and 22.5 to 29.1 (Q8_0) with
// 8 KB, against none (2 KB: 48.1 / 24.2, 4 KB: 49.8 / 27.6, 16 KB: 49.5 / 26.4).
#define PREFETCH(nt, p, n)                                                                      \
  for (int pf = 0; pf < (n); pf += 64)                                                          \
  _mm_prefetch((const char *)(p) + ((nt) > 1 ? 4096 : 8192) + pf, _MM_HINT_T0)

AI void store(__m512 acc[4], int nt, float *y, size_t ystride) {
  for (int t = 0; t < nt; t++) _mm512_storeu_ps(y + t * ystride, acc[t]);
}

// Q4_0: value = d (q - 8); Σ (q - 8) x = Σ q x - 8 Σ x.
AI void iq4_0(const uint8_t *w, int blocks, const int8_t *x, size_t xstride, int nt, float *y,
              size_t ystride) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                   _mm512_setzero_ps()};
  for (int b = 0; b < blocks; b++, w += 288) {
    PREFETCH(nt, w, 288);
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)w));
    __m512i q[8];
    unpack_nibbles(w + 32, q);
    for (int t = 0; t < nt; t++)
      acc[t] = _mm512_fmadd_ps(DOT2(t, b, 8), _mm512_mul_ps(d, _mm512_set1_ps(XD(t, b, 2))), acc[t]);
  }
  store(acc, nt, y, ystride);
}

// Q4_1: value = d q + m; Σ = d Σ q x + m Σ x.
AI void iq4_1(const uint8_t *w, int blocks, const int8_t *x, size_t xstride, int nt, float *y,
              size_t ystride) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                   _mm512_setzero_ps()};
  for (int b = 0; b < blocks; b++, w += 320) {
    PREFETCH(nt, w, 320);
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)w));
    const __m512 m = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w + 32)));
    __m512i q[8];
    unpack_nibbles(w + 64, q);
    for (int t = 0; t < nt; t++) {
      acc[t] = _mm512_fmadd_ps(DOT2(t, b, 0), _mm512_mul_ps(d, _mm512_set1_ps(XD(t, b, 2))), acc[t]);
      acc[t] = _mm512_fmadd_ps(m, _mm512_set1_ps(XSUM(t, b, 2)), acc[t]);
    }
  }
  store(acc, nt, y, ystride);
}

// Q8_0: value = d q, stored as q + 128; Σ q x = Σ (q + 128) x - 128 Σ x.
AI void iq8_0(const uint8_t *w, int blocks, const int8_t *x, size_t xstride, int nt, float *y,
              size_t ystride) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                   _mm512_setzero_ps()};
  for (int b = 0; b < blocks; b++, w += 544) {
    PREFETCH(nt, w, 544);
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)w));
    __m512i q[8];
    for (int k = 0; k < 8; k++) q[k] = _mm512_loadu_si512((const void *)(w + 32 + 64 * k));
    for (int t = 0; t < nt; t++)
      acc[t] = _mm512_fmadd_ps(DOT3(t, b, 128), _mm512_mul_ps(d, _mm512_set1_ps(XD(t, b, 3))), acc[t]);
  }
  store(acc, nt, y, ystride);
}

// SplitActivations.swift's quantiser (its layout and its rounding: the product x · scale in
// float for 16 bits, in double for 24, rounded to nearest even), for the VNNI level: it runs
// for every matmul input, on the calling thread while the others wait, and Swift compiled for
// baseline x86-64 packs int32 lanes to bytes with long shuffle sequences.
void muse_split_activations_vnni(const float *x, int8_t *dst, int blocks, int digits) {
  const double levels = digits == 3 ? 8323072.0 : 32512.0;
  const int32_t top_place = digits == 3 ? 65536 : 256;
  uint8_t *tail = (uint8_t *)dst + (size_t)blocks * 32 * digits;
  for (int b = 0; b < blocks; b++) {
    const __m512 v[2] = {_mm512_loadu_ps(x + 32 * b), _mm512_loadu_ps(x + 32 * b + 16)};
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v[0]), _mm512_abs_ps(v[1])));
    const double scale = amax < MUSE_SPLIT_NEGLIGIBLE ? 0 : levels / (double)amax;
    // Both halves' codes and top digits summed as vectors, then one reduction each: the lower
    // digits' value is q less the top digit's, so its sum needs no third.
    __m512i q_sum = _mm512_setzero_si512(), top_sum = _mm512_setzero_si512();
    int32_t first_half = 0;
    for (int half = 0; half < 2; half++) {
      __m512i q;
      if (digits == 2) {
        q = _mm512_cvtps_epi32(_mm512_mul_ps(v[half], _mm512_set1_ps((float)scale)));
      } else {
        const __m512d sd = _mm512_set1_pd(scale);
        const __m256i lo = _mm512_cvtpd_epi32(_mm512_mul_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(v[half])), sd));
        const __m256i hi = _mm512_cvtpd_epi32(
            _mm512_mul_pd(_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v[half]), 1))), sd));
        q = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
      }
      __m512i rest = q;
      for (int j = digits - 1; j > 0; j--) {
        const __m512i up = _mm512_srai_epi32(_mm512_add_epi32(rest, _mm512_set1_epi32(128)), 8);
        const __m512i digit = _mm512_sub_epi32(rest, _mm512_slli_epi32(up, 8));
        _mm_storeu_si128((__m128i *)(dst + ((size_t)j * blocks + b) * 32 + 16 * half), _mm512_cvtepi32_epi8(digit));
        rest = up;
      }
      _mm_storeu_si128((__m128i *)(dst + (size_t)b * 32 + 16 * half), _mm512_cvtepi32_epi8(rest));
      if (half == 0) first_half = _mm512_reduce_add_epi32(q);
      q_sum = _mm512_add_epi32(q_sum, q);
      top_sum = _mm512_add_epi32(top_sum, rest);
    }
    const int32_t sum = _mm512_reduce_add_epi32(q_sum), sum_top = _mm512_reduce_add_epi32(top_sum);
    const int32_t sum_rest = sum - top_place * sum_top;
    const float d = (float)((double)amax / levels);
    const float xsum = (float)((double)sum * (double)d);
    memcpy(tail + 4 * b, &d, 4);
    memcpy(tail + 4 * ((size_t)blocks + b), &sum_top, 4);
    memcpy(tail + 4 * (2 * (size_t)blocks + b), &sum_rest, 4);
    memcpy(tail + 4 * (3 * (size_t)blocks + b), &xsum, 4);
    memcpy(tail + 4 * (4 * (size_t)blocks + b), &first_half, 4);
  }
}

// One specialisation per token count, so the loops over tokens unroll.
#define DEFINE_IDOT(fmt)                                                                        \
  MUSE_IDOT(muse_idot_##fmt##_vnni) {                                                          \
    switch (ntok) {                                                                            \
    case 1: i##fmt((const uint8_t *)w, blocks, x, xstride, 1, y, ystride); break;                               \
    case 2: i##fmt((const uint8_t *)w, blocks, x, xstride, 2, y, ystride); break;                               \
    case 3: i##fmt((const uint8_t *)w, blocks, x, xstride, 3, y, ystride); break;                               \
    default: i##fmt((const uint8_t *)w, blocks, x, xstride, 4, y, ystride); break;                              \
    }                                                                                          \
  }

DEFINE_IDOT(q4_0)
DEFINE_IDOT(q4_1)
DEFINE_IDOT(q8_0)

#pragma clang attribute pop

// The same kernels on 256-bit vectors for CPUs without AVX-512 (interleaved_dot_kernels.h).
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#define SUFFIX avx2
#define CODE_PLANES 2
#define DIGIT_ZERO _mm256_setzero_si256()
#define DIGIT_ADD(a, q, x) _mm256_add_epi16((a), _mm256_maddubs_epi16((q), (x)))
#define DIGIT_JOIN(a, b) _mm256_add_epi16((a), (b))
#define DIGIT_WIDEN(a, s) _mm256_madd_epi16((a), _mm256_set1_epi16((short)(1 << (s))))
#include "interleaved_dot_kernels.h"
#undef SUFFIX
#undef CODE_PLANES
#undef DIGIT_ADD
#undef DIGIT_JOIN
#undef DIGIT_WIDEN
#pragma clang attribute pop

// The quantiser again for AVX2 (the same bytes as SplitActivations.swift and the VNNI twin):
// AVX2 has no int32 → int8 narrowing, so four vectors of 8 codes are packed with saturating
// packs (every digit is in -128...127, so none saturates) and put back in order with one
// cross-lane permute.
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
AI __m256i pack32(const __m256i v[4]) {
  const __m256i ab = _mm256_packs_epi32(v[0], v[1]), cd = _mm256_packs_epi32(v[2], v[3]);
  return _mm256_permutevar8x32_epi32(_mm256_packs_epi16(ab, cd), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

AI int32_t hsum8(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

void muse_split_activations_avx2(const float *x, int8_t *dst, int blocks, int digits) {
  const double levels = digits == 3 ? 8323072.0 : 32512.0;
  const int32_t top_place = digits == 3 ? 65536 : 256;
  uint8_t *tail = (uint8_t *)dst + (size_t)blocks * 32 * digits;
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int b = 0; b < blocks; b++) {
    __m256 v[4];
    for (int i = 0; i < 4; i++) v[i] = _mm256_loadu_ps(x + 32 * b + 8 * i);
    __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v[0]), _mm256_andnot_ps(sign, v[1])),
                             _mm256_max_ps(_mm256_andnot_ps(sign, v[2]), _mm256_andnot_ps(sign, v[3])));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    const double scale = amax < MUSE_SPLIT_NEGLIGIBLE ? 0 : levels / (double)amax;
    __m256i q[4], rest[4];
    for (int i = 0; i < 4; i++) {
      if (digits == 2) {
        q[i] = _mm256_cvtps_epi32(_mm256_mul_ps(v[i], _mm256_set1_ps((float)scale)));
      } else {
        const __m256d sd = _mm256_set1_pd(scale);
        const __m128i lo = _mm256_cvtpd_epi32(_mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v[i])), sd));
        const __m128i hi = _mm256_cvtpd_epi32(_mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v[i], 1)), sd));
        q[i] = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
      }
      rest[i] = q[i];
    }
    for (int j = digits - 1; j > 0; j--) {
      __m256i digit[4];
      for (int i = 0; i < 4; i++) {
        const __m256i up = _mm256_srai_epi32(_mm256_add_epi32(rest[i], _mm256_set1_epi32(128)), 8);
        digit[i] = _mm256_sub_epi32(rest[i], _mm256_slli_epi32(up, 8));
        rest[i] = up;
      }
      _mm256_storeu_si256((__m256i *)(dst + ((size_t)j * blocks + b) * 32), pack32(digit));
    }
    _mm256_storeu_si256((__m256i *)(dst + (size_t)b * 32), pack32(rest));
    const int32_t first_half = hsum8(_mm256_add_epi32(q[0], q[1]));
    const int32_t sum = first_half + hsum8(_mm256_add_epi32(q[2], q[3]));
    const int32_t sum_top =
        hsum8(_mm256_add_epi32(_mm256_add_epi32(rest[0], rest[1]), _mm256_add_epi32(rest[2], rest[3])));
    const int32_t sum_rest = sum - top_place * sum_top;
    const float d = (float)((double)amax / levels);
    const float xsum = (float)((double)sum * (double)d);
    memcpy(tail + 4 * b, &d, 4);
    memcpy(tail + 4 * ((size_t)blocks + b), &sum_top, 4);
    memcpy(tail + 4 * (2 * (size_t)blocks + b), &sum_rest, 4);
    memcpy(tail + 4 * (3 * (size_t)blocks + b), &xsum, 4);
    memcpy(tail + 4 * (4 * (size_t)blocks + b), &first_half, 4);
  }
}
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avxvnni"))), apply_to = function)
#define SUFFIX avxvnni
#define CODE_PLANES 1
#define DIGIT_ADD(a, q, x) _mm256_dpbusd_avx_epi32((a), (q), (x))
#define DIGIT_JOIN(a, b) _mm256_add_epi32((a), (b))
#define DIGIT_WIDEN(a, s) ((s) ? _mm256_slli_epi32((a), (s)) : (a))
#include "interleaved_dot_kernels.h"
#undef SUFFIX
#undef CODE_PLANES
#undef DIGIT_ADD
#undef DIGIT_JOIN
#undef DIGIT_WIDEN
#pragma clang attribute pop

#endif
