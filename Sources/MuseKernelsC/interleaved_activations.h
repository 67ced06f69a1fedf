// What the x86 interleaved kernels (interleaved_dot.c, interleaved_dot_kernels.h,
// interleaved_dot_kquants.c) share about split activations (SplitActivations.swift), per token:
// blocks × 32 codes per digit (h, then m for 24 bits, then l), then per block the float scale,
// int32 Σ of the top digit, int32 Σ of the lower digits' value (l, or 256 m + l), float Σ x.
// The macros read `x`, `xstride` and `blocks` from the function they are used in.
#ifndef MUSE_INTERLEAVED_ACTIVATIONS_H
#define MUSE_INTERLEAVED_ACTIVATIONS_H
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

// Token t's codes of digit j for block b, and block b's tail fields with P digits.
#define XDIGIT(t, b, j) (x + (t) * xstride + (size_t)blocks * 32 * (j) + (size_t)(b) * 32)
#define XF(t, b, P, k) (((const float *)(x + (t) * xstride + (size_t)blocks * (32 * (P) + 4 * (k))))[b])
#define XI(t, b, P, k) (((const int32_t *)(x + (t) * xstride + (size_t)blocks * (32 * (P) + 4 * (k))))[b])
#define XD(t, b, P) XF(t, b, P, 0)
#define XSUM(t, b, P) XF(t, b, P, 3)

// Q6_K's kernels take Σ (256 h + l) over each 16 values (its sub-blocks; the tail has them per
// 32) once per call, for at most Q6_K_CHUNK super-blocks at a time (8 KB on the stack).
#define Q6_K_CHUNK 32

__attribute__((target("ssse3"))) static inline __attribute__((always_inline)) int32_t muse_hsum4(__m128i v) {
  v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0x4E));
  return _mm_cvtsi128_si32(_mm_add_epi32(v, _mm_shuffle_epi32(v, 0xB1)));
}

// sums[(t · count + b - first) · 2 + g] = Σ (256 h + l) over values 16g ..< 16g + 16 of block b,
// for the 16-bit activations of nt tokens and blocks first ..< first + count.
__attribute__((target("ssse3"))) static inline __attribute__((always_inline)) void
muse_q6_K_sums(const int8_t *x, size_t xstride, int nt, int blocks, int first, int count, int32_t *sums) {
  const __m128i ones8 = _mm_set1_epi8(1), ones16 = _mm_set1_epi16(1);
  for (int t = 0; t < nt; t++)
    for (int b = first; b < first + count; b++) {
      const __m128i h = _mm_loadu_si128((const __m128i *)XDIGIT(t, b, 0));
      const __m128i l = _mm_loadu_si128((const __m128i *)XDIGIT(t, b, 1));
      const int32_t low = 256 * muse_hsum4(_mm_madd_epi16(_mm_maddubs_epi16(ones8, h), ones16)) +
                          muse_hsum4(_mm_madd_epi16(_mm_maddubs_epi16(ones8, l), ones16));
      int32_t *out = sums + 2 * ((size_t)t * count + b - first);
      out[0] = low;
      out[1] = 256 * XI(t, b, 2, 1) + XI(t, b, 2, 2) - low;
    }
}
#endif
