// The inner loops of attention over cached key and value rows (Sources/MuseModels/Blocks/
// Attention.swift): a tile of query·key scores and the weighted sum of a tile of value rows.
// Why C: Swift compiled for baseline x86-64 runs SIMD16<Float> as four SSE registers with a
// shuffle-heavy horizontal sum per score; these took 9 % of OLMoE-shaped decode time at 128–256
// cached positions. The loops (attention_kernels.h) are compiled once per level, chosen by
// KernelDispatch; head widths that are not a multiple of the vector width finish in scalar code.

#include "MuseKernelsC.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni"))), apply_to = function)
#define SUFFIX vnni
#define W 16
#define VEC __m512
#define VZERO _mm512_setzero_ps()
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, v) _mm512_storeu_ps((p), (v))
#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define VSET1(x) _mm512_set1_ps(x)
#define VHSUM(v) _mm512_reduce_add_ps(v)
#include "attention_kernels.h"
#undef SUFFIX
#undef W
#undef VEC
#undef VZERO
#undef VLOAD
#undef VSTORE
#undef VFMA
#undef VSET1
#undef VHSUM
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
static inline float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
#define SUFFIX avx2
#define W 8
#define VEC __m256
#define VZERO _mm256_setzero_ps()
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VSET1(x) _mm256_set1_ps(x)
#define VHSUM(v) hsum256(v)
#include "attention_kernels.h"
#pragma clang attribute pop

#endif
