// Attention over cached keys and values (Sources/MuseModels/Blocks/Attention.swift): one row's
// query heads that share a key/value head, over a run of its sequence's positions, with an
// online softmax. Why C: Swift compiled for baseline x86-64 runs SIMD16<Float> as four SSE
// registers; and why keys in tiles of [dim × 16]: 16 keys' scores are 16 lanes of one vector,
// so a score is a chain of fmas with no horizontal sum (a 64-wide dot product spent more on its
// reduction than on its fmas). The loop (attention_kernels.h) is compiled once per level,
// chosen by KernelDispatch. The cache holds f32 or f16 elements (`muse serve --kv-cache-type`);
// f16 halves the bytes attention reads, which at 8 streams or a long context is most of its time.

#include "MuseKernelsC.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni"))), apply_to = function)
#include "exp_kernel.h"
#define W 16
#define VEC __m512
#define VZERO _mm512_setzero_ps()
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, v) _mm512_storeu_ps((p), (v))
#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm512_add_ps((a), (b))
#define VMUL(a, b) _mm512_mul_ps((a), (b))
#define VSET1(x) _mm512_set1_ps(x)
#define EXP_TILE(s, m, w) _mm512_store_ps((w), muse_exp16(_mm512_sub_ps(_mm512_load_ps(s), _mm512_set1_ps(m))))
static inline float mask_max_vnni(float *s, int lo, int hi) {
  const __mmask16 live = (__mmask16)((0xFFFFu >> (15 - hi)) & (0xFFFFu << lo));
  const __m512 v = _mm512_mask_blend_ps(live, _mm512_set1_ps(-INFINITY), _mm512_load_ps(s));
  _mm512_store_ps(s, v);
  return _mm512_reduce_max_ps(v);
}
#define MASK_MAX(s, lo, hi) mask_max_vnni((s), (lo), (hi))
#define TILE_SUM(w) _mm512_reduce_add_ps(_mm512_load_ps(w))
#define SUFFIX vnni_f32
#define ETYPE float
#define ELOAD(p) _mm512_loadu_ps(p)
#define EGET(p) (*(p))
#include "attention_kernels.h"
#undef SUFFIX
#undef ETYPE
#undef ELOAD
#undef EGET
#define SUFFIX vnni_f16
#define ETYPE uint16_t
#define ELOAD(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p)))
#define EGET(p) _cvtsh_ss(*(p))
#include "attention_kernels.h"
#undef SUFFIX
#undef ETYPE
#undef ELOAD
#undef EGET
MUSE_ATTEND(vnni) {
  (f16 ? attend_vnni_f16 : attend_vnni_f32)(q, heads, dim, vdim, kblocks, vblocks, koffset, voffset, block_size,
                                            first, last, scale, sinks, out);
}
#undef W
#undef VEC
#undef VZERO
#undef VLOAD
#undef VSTORE
#undef VFMA
#undef VADD
#undef VMUL
#undef VSET1
#undef EXP_TILE
#undef MASK_MAX
#undef TILE_SUM
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#define W 8
#define VEC __m256
#define VZERO _mm256_setzero_ps()
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm256_add_ps((a), (b))
#define VMUL(a, b) _mm256_mul_ps((a), (b))
#define VSET1(x) _mm256_set1_ps(x)
#define EXP_TILE(s, m, w)                                                                       \
  for (int e = 0; e < 16; e++) (w)[e] = (s)[e] == -INFINITY ? 0 : expf((s)[e] - (m))
static inline float mask_max_avx2(float *s, int lo, int hi) {
  float m = -INFINITY;
  for (int i = 0; i < 16; i++) {
    if (i < lo || i > hi) s[i] = -INFINITY;
    m = s[i] > m ? s[i] : m;
  }
  return m;
}
static inline float tile_sum_avx2(const float *w) {
  const __m256 v = _mm256_add_ps(_mm256_load_ps(w), _mm256_load_ps(w + 8));
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  return _mm_cvtss_f32(_mm_add_ss(x, _mm_movehdup_ps(x)));
}
#define MASK_MAX(s, lo, hi) mask_max_avx2((s), (lo), (hi))
#define TILE_SUM(w) tile_sum_avx2(w)
#define SUFFIX avx2_f32
#define ETYPE float
#define ELOAD(p) _mm256_loadu_ps(p)
#define EGET(p) (*(p))
#include "attention_kernels.h"
#undef SUFFIX
#undef ETYPE
#undef ELOAD
#undef EGET
#define SUFFIX avx2_f16
#define ETYPE uint16_t
#define ELOAD(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
#define EGET(p) _cvtsh_ss(*(p))
#include "attention_kernels.h"
MUSE_ATTEND(avx2) {
  (f16 ? attend_avx2_f16 : attend_avx2_f32)(q, heads, dim, vdim, kblocks, vblocks, koffset, voffset, block_size,
                                            first, last, scale, sinks, out);
}

// Keys and values into the cache: n floats from src to dst (element stride `stride`), as f16
// (round to nearest even, what F16C's conversion does) or f32.
void muse_kv_store_f16c(const float *src, void *dst, int n, long stride, int f16) {
  if (!f16) {
    for (int i = 0; i < n; i++) ((float *)dst)[i * stride] = src[i];
    return;
  }
  uint16_t *h = (uint16_t *)dst;
  if (stride == 1) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
      _mm_storeu_si128((__m128i *)(h + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) h[i] = _cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT);
    return;
  }
  for (int i = 0; i < n; i++) h[i * stride] = _cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT);
}
#pragma clang attribute pop

#endif
