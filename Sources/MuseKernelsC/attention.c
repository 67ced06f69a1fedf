// Attention over cached keys and values (Sources/MuseModels/Blocks/Attention.swift): one row's
// query heads that share a key/value head, over a run of its sequence's positions, with an
// online softmax. Why C: Swift compiled for baseline x86-64 runs SIMD16<Float> as four SSE
// registers; and why keys in tiles of [dim × 16]: 16 keys' scores are 16 lanes of one vector,
// so a score is a chain of fmas with no horizontal sum (a 64-wide dot product spent more on its
// reduction than on its fmas). The loop (attention_kernels.h) is compiled once per level,
// chosen by KernelDispatch.

#include "MuseKernelsC.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni"))), apply_to = function)
#include "exp_kernel.h"
#define SUFFIX vnni
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
#include "attention_kernels.h"
#undef SUFFIX
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
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#define SUFFIX avx2
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
#include "attention_kernels.h"
#pragma clang attribute pop

#endif
