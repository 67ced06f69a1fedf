// The 16-row interleaved kernels of interleaved_dot.c (the layout and the 16/24-bit split
// activations are described there) for arm64 NEON with the dot product extension
// (FEAT_DotProd: sdot, Arm Cortex-A76 / Neoverse N1 and later, Apple M1 and later), and the
// activation splitter.
//
// sdot multiplies signed bytes, four per int32 lane: `vdotq_laneq_s32(acc, codes, x, j)` adds,
// for each of 4 rows (one lane each), the row's 4 codes times activation bytes 4j ..< 4j + 4 of
// x. A 128-bit vector holds 4 of a group's 16 rows, so each kernel makes four passes over a
// group's blocks, rows 0–3, 4–7, 8–11, then 12–15, each pass reading 16 of every 64 bytes of a
// chunk (the AVX2 kernels' two passes, halved again).
//
// Every sum is exact in int32, and the float operations are the portable loop's
// (InterleavedWeights.portableDot) in its order — s converted once, acc = fma(s, d · dx, acc),
// then Q4_1's acc = fma(m, Σx, acc); Q8_0's s = fma(top, 65536, lower) — so the results are
// bitwise those of the portable loop and of every x86 level:
//   Q4_0, Q4_1: codes 0...15 are non-negative signed bytes; Q4_0's offset is taken off with the
//     stored digit sums, as on x86.
//   Q8_0: the stored byte is u = q + 128; u ^ 0x80 is q as a signed byte, so the sums are Σ q x
//     directly. The portable loop computes Σ u x - 128 Σ x with the stored digit sums, which
//     the splitter writes as the sums of the very digits stored (SplitActivations), so both
//     are the same int32 (wrapping arithmetic is exact modulo 2^32 and neither wraps: |Σ q h|
//     ≤ 32 · 128 · 128, |256 Σ q m + Σ q l| < 2^28).
//   Q4_K, Q6_K: per 32- or 16-value sub-block, as interleaved_dot_kernels.h; Q6_K's codes go in
//     as q - 32, so its sums need no correction.
// Tested under QEMU user emulation against a scalar reference and a Double one
// (Scripts/neon/test_neon.sh); their speed has not been measured on ARM hardware.

#include "MuseKernelsC.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#include <string.h>

#pragma clang attribute push(__attribute__((target("dotprod"))), apply_to = function)

#define AI static inline __attribute__((always_inline))

/// Four f16 at p as floats (exact).
AI float32x4_t half4(const uint8_t *p) { return vcvt_f32_f16(vreinterpret_f16_u8(vld1_u8(p))); }

/// Token t's activations for block b with P digits (interleaved_dot.c's layout): digit j's 32
/// codes, the block's float scale, int32 Σ of the top digit, int32 Σ of the lower digits'
/// value, float Σ x.
#define XDIGIT(t, b, j) (x + (size_t)(t) * xstride + (size_t)blocks * 32 * (j) + (size_t)(b) * 32)
AI float tail_f(const int8_t *x, size_t xstride, int blocks, int t, int b, int P, int k) {
  float v;
  memcpy(&v, x + (size_t)t * xstride + (size_t)blocks * (32 * P + 4 * k) + 4 * (size_t)b, 4);
  return v;
}
AI int32_t tail_i(const int8_t *x, size_t xstride, int blocks, int t, int b, int P, int k) {
  int32_t v;
  memcpy(&v, x + (size_t)t * xstride + (size_t)blocks * (32 * P + 4 * k) + 4 * (size_t)b, 4);
  return v;
}

/// acc + Σ over the 4 chunks c[0..3] of codes times activation bytes 4j ..< 4j + 4 of x, per
/// row lane (the lane index of vdotq_laneq_s32 must be a constant, hence no loop).
AI int32x4_t dot4(int32x4_t acc, const int8x16_t c[4], int8x16_t x) {
  acc = vdotq_laneq_s32(acc, c[0], x, 0);
  acc = vdotq_laneq_s32(acc, c[1], x, 1);
  acc = vdotq_laneq_s32(acc, c[2], x, 2);
  return vdotq_laneq_s32(acc, c[3], x, 3);
}

// Q4_0 (value d (q - 8)) and Q4_1 (value d q + m), 16-bit activations q = 256 h + l.
AI void iq4(const uint8_t *group, int blocks, const int8_t *x, size_t xstride, int nt, float *y,
            size_t ystride, int q4_1) {
  const size_t block_bytes = q4_1 ? 320 : 288, header = q4_1 ? 64 : 32;
  const uint32_t off = q4_1 ? 0 : 8;
  const uint8x16_t m4 = vdupq_n_u8(0x0F);
  for (int quad = 0; quad < 4; quad++) {
    float32x4_t acc[4] = {vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0)};
    const uint8_t *w = group;
    for (int b = 0; b < blocks; b++, w += block_bytes) {
      // Chunk j: low nibbles are values 4j ..< 4j + 4, high nibbles 16 + 4j ..< 16 + 4j + 4.
      int8x16_t lo[4], hi[4];
      for (int j = 0; j < 4; j++) {
        const uint8x16_t raw = vld1q_u8(w + header + 64 * j + 16 * quad);
        lo[j] = vreinterpretq_s8_u8(vandq_u8(raw, m4));
        hi[j] = vreinterpretq_s8_u8(vshrq_n_u8(raw, 4));
      }
      const float32x4_t d = half4(w + 8 * quad);
      const float32x4_t m = q4_1 ? half4(w + 32 + 8 * quad) : vdupq_n_f32(0);
      for (int t = 0; t < nt; t++) {
        const int8_t *h = XDIGIT(t, b, 0), *l = XDIGIT(t, b, 1);
        // Two chains per digit (low and high nibbles), as on x86.
        const int32x4_t sh = vaddq_s32(dot4(vdupq_n_s32(0), lo, vld1q_s8(h)), dot4(vdupq_n_s32(0), hi, vld1q_s8(h + 16)));
        const int32x4_t sl = vaddq_s32(dot4(vdupq_n_s32(0), lo, vld1q_s8(l)), dot4(vdupq_n_s32(0), hi, vld1q_s8(l + 16)));
        int32x4_t s = vaddq_s32(vshlq_n_s32(sh, 8), sl);
        if (off) {
          // off · Σ q in wrapping arithmetic, as the portable loop's &* and &+.
          const uint32_t sum_q = 256u * (uint32_t)tail_i(x, xstride, blocks, t, b, 2, 1) +
                                 (uint32_t)tail_i(x, xstride, blocks, t, b, 2, 2);
          s = vsubq_s32(s, vdupq_n_s32((int32_t)(off * sum_q)));
        }
        const float dx = tail_f(x, xstride, blocks, t, b, 2, 0);
        acc[t] = vfmaq_f32(acc[t], vcvtq_f32_s32(s), vmulq_f32(d, vdupq_n_f32(dx)));
        if (q4_1) acc[t] = vfmaq_f32(acc[t], m, vdupq_n_f32(tail_f(x, xstride, blocks, t, b, 2, 3)));
      }
    }
    for (int t = 0; t < nt; t++) vst1q_f32(y + (size_t)t * ystride + 4 * quad, acc[t]);
  }
}

// Q8_0: value d q, stored as q + 128; 24-bit activations q = 65536 h + 256 m + l.
AI void iq8_0(const uint8_t *group, int blocks, const int8_t *x, size_t xstride, int nt, float *y,
              size_t ystride) {
  const uint8x16_t flip = vdupq_n_u8(0x80);
  for (int quad = 0; quad < 4; quad++) {
    float32x4_t acc[4] = {vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0)};
    const uint8_t *w = group;
    for (int b = 0; b < blocks; b++, w += 544) {
      // Chunks 0–3 hold values 0 ..< 16, chunks 4–7 values 16 ..< 32.
      int8x16_t q[8];
      for (int k = 0; k < 8; k++) q[k] = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(w + 32 + 64 * k + 16 * quad), flip));
      const float32x4_t d = half4(w + 8 * quad);
      for (int t = 0; t < nt; t++) {
        int32x4_t s[3];
        for (int j = 0; j < 3; j++) {
          const int8_t *xj = XDIGIT(t, b, j);
          s[j] = vaddq_s32(dot4(vdupq_n_s32(0), q, vld1q_s8(xj)), dot4(vdupq_n_s32(0), q + 4, vld1q_s8(xj + 16)));
        }
        const int32x4_t lower = vaddq_s32(vshlq_n_s32(s[1], 8), s[2]);
        const float32x4_t dot = vfmaq_f32(vcvtq_f32_s32(lower), vcvtq_f32_s32(s[0]), vdupq_n_f32(65536.0f));
        const float dx = tail_f(x, xstride, blocks, t, b, 3, 0);
        acc[t] = vfmaq_f32(acc[t], dot, vmulq_f32(d, vdupq_n_f32(dx)));
      }
    }
    for (int t = 0; t < nt; t++) vst1q_f32(y + (size_t)t * ystride + 4 * quad, acc[t]);
  }
}

// Q4_K (interleaved_dot.c's layout; arithmetic as interleaved_dot_kernels.h's iq4_K and the
// portable loop): in sub-block s of 32 values, value = d sc_s q - dmin m_s. Per sub-block and
// token the exact Σ q (256 h + l), then acc = fma(Σ, d sc_s · xd, acc) and acc -= dmin m_s Σx,
// fused.
AI void iq4_K(const uint8_t *group, int blocks, const int8_t *x, size_t xstride, int nt, float *y,
              size_t ystride) {
  const uint8x16_t m4 = vdupq_n_u8(0x0F), m6 = vdupq_n_u8(0x3F), top2 = vdupq_n_u8(0x30);
  for (int quad = 0; quad < 4; quad++) {
    float32x4_t acc[4] = {vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0)};
    const uint8_t *w = group;
    for (int sb = 0; sb < blocks / 8; sb++, w += 2304) {
      const float32x4_t d = half4(w + 8 * quad), dmin = half4(w + 32 + 8 * quad);
      // The 4 rows' scale words, one row per 32-bit lane (ggml's get_scale_min_k4): byte k of
      // sc[0] / mn[0] is sub-block k's scale / min, of sc[1] / mn[1] sub-block 4 + k's.
      const uint8x16_t low = vld1q_u8(w + 64 + 16 * quad), high = vld1q_u8(w + 128 + 16 * quad);
      const uint8x16_t packed = vld1q_u8(w + 192 + 16 * quad);
      const uint32x4_t sc[2] = {
          vreinterpretq_u32_u8(vandq_u8(low, m6)),
          vreinterpretq_u32_u8(vorrq_u8(vandq_u8(packed, m4), vandq_u8(vshrq_n_u8(low, 2), top2)))};
      const uint32x4_t mn[2] = {
          vreinterpretq_u32_u8(vandq_u8(high, m6)),
          vreinterpretq_u32_u8(vorrq_u8(vshrq_n_u8(packed, 4), vandq_u8(vshrq_n_u8(high, 2), top2)))};
      for (int s = 0; s < 8; s++) {
        const int b = 8 * sb + s;
        const uint32x4_t scale = vandq_u32(vshlq_u32(sc[s / 4], vdupq_n_s32(-8 * (s % 4))), vdupq_n_u32(0xFF));
        const uint32x4_t minimum = vandq_u32(vshlq_u32(mn[s / 4], vdupq_n_s32(-8 * (s % 4))), vdupq_n_u32(0xFF));
        const float32x4_t ds = vmulq_f32(d, vcvtq_f32_u32(scale)), dm = vmulq_f32(dmin, vcvtq_f32_u32(minimum));
        // Run s / 2 holds sub-block s in its low (s even) or high nibbles; chunk j values 4j ..< 4j + 4.
        int8x16_t q[8];
        for (int j = 0; j < 8; j++) {
          const uint8x16_t raw = vld1q_u8(w + 256 + 512 * (s / 2) + 64 * j + 16 * quad);
          q[j] = vreinterpretq_s8_u8(s % 2 ? vshrq_n_u8(raw, 4) : vandq_u8(raw, m4));
        }
        for (int t = 0; t < nt; t++) {
          const int8_t *h = XDIGIT(t, b, 0), *l = XDIGIT(t, b, 1);
          const int32x4_t sh = vaddq_s32(dot4(vdupq_n_s32(0), q, vld1q_s8(h)), dot4(vdupq_n_s32(0), q + 4, vld1q_s8(h + 16)));
          const int32x4_t sl = vaddq_s32(dot4(vdupq_n_s32(0), q, vld1q_s8(l)), dot4(vdupq_n_s32(0), q + 4, vld1q_s8(l + 16)));
          const float dx = tail_f(x, xstride, blocks, t, b, 2, 0), sum = tail_f(x, xstride, blocks, t, b, 2, 3);
          acc[t] = vfmaq_f32(acc[t], vcvtq_f32_s32(vaddq_s32(vshlq_n_s32(sh, 8), sl)), vmulq_f32(ds, vdupq_n_f32(dx)));
          acc[t] = vfmsq_f32(acc[t], dm, vdupq_n_f32(sum));
        }
      }
    }
    for (int t = 0; t < nt; t++) vst1q_f32(y + (size_t)t * ystride + 4 * quad, acc[t]);
  }
}

// Q6_K (interleaved_dot_kernels.h's layout and order): in sub-block i = 8n + 2v + g of 16
// values, value = d sc_i (q - 32). sdot multiplies signed bytes, so the codes go in as q - 32
// (-32...31) and Σ (q - 32)(256 h + l) needs no correction (the x86 kernels subtract 32 Σx
// from Σ q x: the same int32). Then acc = fma(Σ, d sc_i · xd, acc).
AI void q6_K_sub(const uint8_t *w, int quad, float32x4_t d, int sb, int n, int v, int g, const int8_t *x,
                 size_t xstride, int blocks, int nt, float32x4_t acc[4]) {
  const uint8x16_t m4 = vdupq_n_u8(0x0F), m2 = vdupq_n_u8(0x03);
  const int b = 8 * sb + 4 * n + v, byte = 2 * (v % 2) + g;
  const int32x4_t field = vreinterpretq_s32_u8(vld1q_u8(w + 32 + 64 * (2 * n + v / 2) + 16 * quad));
  const int32x4_t sc = vshlq_s32(vshlq_s32(field, vdupq_n_s32(24 - 8 * byte)), vdupq_n_s32(-24));
  const float32x4_t ds = vmulq_f32(d, vcvtq_f32_s32(sc));
  int8x16_t q[4];
  for (int k = 0; k < 4; k++) {
    const int j = 4 * g + k;
    const uint8x16_t lo = vld1q_u8(w + 288 + 64 * (16 * n + 8 * (v & 1) + j) + 16 * quad);
    const uint8x16_t hb = vld1q_u8(w + 2336 + 64 * (8 * n + j) + 16 * quad);
    const uint8x16_t nib = v & 2 ? vshrq_n_u8(lo, 4) : vandq_u8(lo, m4);
    const uint8x16_t top = vandq_u8(vshlq_u8(hb, vdupq_n_s8((int8_t)(-2 * v))), m2);
    q[k] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(nib, vshlq_n_u8(top, 4))), vdupq_n_s8(32));
  }
  for (int t = 0; t < nt; t++) {
    const int32x4_t sh = dot4(vdupq_n_s32(0), q, vld1q_s8(XDIGIT(t, b, 0) + 16 * g));
    const int32x4_t sl = dot4(vdupq_n_s32(0), q, vld1q_s8(XDIGIT(t, b, 1) + 16 * g));
    const float dx = tail_f(x, xstride, blocks, t, b, 2, 0);
    acc[t] = vfmaq_f32(acc[t], vcvtq_f32_s32(vaddq_s32(vshlq_n_s32(sh, 8), sl)), vmulq_f32(ds, vdupq_n_f32(dx)));
  }
}

AI void iq6_K(const uint8_t *group, int blocks, const int8_t *x, size_t xstride, int nt, float *y,
              size_t ystride) {
  for (int quad = 0; quad < 4; quad++) {
    float32x4_t acc[4] = {vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0)};
    const uint8_t *w = group;
    for (int sb = 0; sb < blocks / 8; sb++, w += 3360) {
      const float32x4_t d = half4(w + 8 * quad);
      for (int n = 0; n < 2; n++)
        for (int g = 0; g < 2; g++)
          for (int v = 0; v < 4; v++) q6_K_sub(w, quad, d, sb, n, v, g, x, xstride, blocks, nt, acc);
    }
    for (int t = 0; t < nt; t++) vst1q_f32(y + (size_t)t * ystride + 4 * quad, acc[t]);
  }
}

// One specialisation per token count, so the loops over tokens unroll; each token gets the
// same instructions whatever the count, so results do not depend on the batch.
#define DEFINE_IDOT(fmt, call)                                                                  \
  MUSE_IDOT(muse_idot_##fmt##_neon) {                                                           \
    const uint8_t *g = (const uint8_t *)w;                                                      \
    switch (ntok) {                                                                             \
    case 1: call(g, blocks, x, xstride, 1, y, ystride); break;                                  \
    case 2: call(g, blocks, x, xstride, 2, y, ystride); break;                                  \
    case 3: call(g, blocks, x, xstride, 3, y, ystride); break;                                  \
    default: call(g, blocks, x, xstride, 4, y, ystride); break;                                 \
    }                                                                                           \
  }
#define IQ4_0(...) iq4(__VA_ARGS__, 0)
#define IQ4_1(...) iq4(__VA_ARGS__, 1)
DEFINE_IDOT(q4_0, IQ4_0)
DEFINE_IDOT(q4_1, IQ4_1)
DEFINE_IDOT(q8_0, iq8_0)
DEFINE_IDOT(q4_K, iq4_K)
DEFINE_IDOT(q6_K, iq6_K)

/// Eight int32x4 (32 values, each in -128...127) to 32 bytes at dst, truncating.
AI void store_digits(int8_t *dst, const int32x4_t v[8]) {
  for (int i = 0; i < 2; i++) {
    const int16x8_t a = vcombine_s16(vmovn_s32(v[4 * i]), vmovn_s32(v[4 * i + 1]));
    const int16x8_t b = vcombine_s16(vmovn_s32(v[4 * i + 2]), vmovn_s32(v[4 * i + 3]));
    vst1q_s8(dst + 16 * i, vcombine_s8(vmovn_s16(a), vmovn_s16(b)));
  }
}

// SplitActivations.swift's quantiser (its layout and its rounding: the product x · scale in
// float for 16 bits, in double for 24, rounded to nearest even — fcvtns), as the x86 twins in
// interleaved_dot.c.
void muse_split_activations_neon(const float *x, int8_t *dst, int blocks, int digits) {
  const double levels = digits == 3 ? 8323072.0 : 32512.0;
  const int32_t top_place = digits == 3 ? 65536 : 256;
  uint8_t *tail = (uint8_t *)dst + (size_t)blocks * 32 * digits;
  for (int b = 0; b < blocks; b++) {
    float32x4_t v[8];
    float32x4_t m = vdupq_n_f32(0);
    for (int i = 0; i < 8; i++) {
      v[i] = vld1q_f32(x + 32 * (size_t)b + 4 * i);
      m = vmaxq_f32(m, vabsq_f32(v[i]));
    }
    const float amax = vmaxvq_f32(m);
    const double scale = amax < MUSE_SPLIT_NEGLIGIBLE ? 0 : levels / (double)amax;
    int32x4_t q[8], rest[8];
    for (int i = 0; i < 8; i++) {
      if (digits == 2) {
        q[i] = vcvtnq_s32_f32(vmulq_f32(v[i], vdupq_n_f32((float)scale)));
      } else {
        const float64x2_t sd = vdupq_n_f64(scale);
        const int64x2_t lo = vcvtnq_s64_f64(vmulq_f64(vcvt_f64_f32(vget_low_f32(v[i])), sd));
        const int64x2_t hi = vcvtnq_s64_f64(vmulq_f64(vcvt_high_f64_f32(v[i]), sd));
        q[i] = vcombine_s32(vmovn_s64(lo), vmovn_s64(hi));
      }
      rest[i] = q[i];
    }
    // Balanced base-256 digits, lowest first: each lower digit in -128...127.
    for (int j = digits - 1; j > 0; j--) {
      int32x4_t digit[8];
      for (int i = 0; i < 8; i++) {
        const int32x4_t up = vshrq_n_s32(vaddq_s32(rest[i], vdupq_n_s32(128)), 8);
        digit[i] = vsubq_s32(rest[i], vshlq_n_s32(up, 8));
        rest[i] = up;
      }
      store_digits(dst + ((size_t)j * blocks + b) * 32, digit);
    }
    store_digits(dst + (size_t)b * 32, rest);
    int32x4_t q_sum = vdupq_n_s32(0), top_sum = vdupq_n_s32(0);
    int32_t first_half = 0;
    for (int i = 0; i < 8; i++) {
      q_sum = vaddq_s32(q_sum, q[i]);
      top_sum = vaddq_s32(top_sum, rest[i]);
      if (i == 3) first_half = vaddvq_s32(q_sum);
    }
    const int32_t sum = vaddvq_s32(q_sum), sum_top = vaddvq_s32(top_sum);
    const int32_t sum_rest = (int32_t)((uint32_t)sum - (uint32_t)top_place * (uint32_t)sum_top);
    const float d = (float)((double)amax / levels);
    const float xsum = (float)((double)sum * (double)d);
    memcpy(tail + 4 * (size_t)b, &d, 4);
    memcpy(tail + 4 * ((size_t)blocks + b), &sum_top, 4);
    memcpy(tail + 4 * (2 * (size_t)blocks + b), &sum_rest, 4);
    memcpy(tail + 4 * (3 * (size_t)blocks + b), &xsum, 4);
    memcpy(tail + 4 * (4 * (size_t)blocks + b), &first_half, 4);
  }
}

#pragma clang attribute pop

#endif
