// The inner loops of attention over cached key and value rows (Sources/MuseModels/Blocks/
// Attention.swift): a tile of query·key scores and the weighted sum of a tile of value rows.
// Why C: Swift compiled for baseline x86-64 runs SIMD16<Float> as four SSE registers with a
// shuffle-heavy horizontal sum per score; these take 9 % of OLMoE-shaped decode time at 128–256
// cached positions. One function per level, chosen by KernelDispatch; head widths that are not a
// multiple of the vector width finish in scalar code.

#include "MuseKernelsC.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni"))), apply_to = function)

void muse_attn_scores_vnni(const float *q, const float *k, size_t kstride, int n, int dim, float scale,
                           float *scores) {
  for (int i = 0; i < n; i++) {
    const float *key = k + (size_t)i * kstride;
    __m512 acc = _mm512_setzero_ps();
    int j = 0;
    for (; j + 16 <= dim; j += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + j), _mm512_loadu_ps(key + j), acc);
    float s = _mm512_reduce_add_ps(acc);
    for (; j < dim; j++) s += q[j] * key[j];
    scores[i] = s * scale;
  }
}

void muse_attn_accumulate_vnni(float *o, const float *v, size_t vstride, const float *w, int n, int dim) {
  int j = 0;
  for (; j + 16 <= dim; j += 16) {
    __m512 acc = _mm512_loadu_ps(o + j);
    for (int i = 0; i < n; i++) acc = _mm512_fmadd_ps(_mm512_set1_ps(w[i]), _mm512_loadu_ps(v + (size_t)i * vstride + j), acc);
    _mm512_storeu_ps(o + j, acc);
  }
  for (; j < dim; j++) {
    float acc = o[j];
    for (int i = 0; i < n; i++) acc += w[i] * v[(size_t)i * vstride + j];
    o[j] = acc;
  }
}

#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

static inline float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

void muse_attn_scores_avx2(const float *q, const float *k, size_t kstride, int n, int dim, float scale,
                           float *scores) {
  for (int i = 0; i < n; i++) {
    const float *key = k + (size_t)i * kstride;
    __m256 acc = _mm256_setzero_ps();
    int j = 0;
    for (; j + 8 <= dim; j += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + j), _mm256_loadu_ps(key + j), acc);
    float s = hsum256(acc);
    for (; j < dim; j++) s += q[j] * key[j];
    scores[i] = s * scale;
  }
}

void muse_attn_accumulate_avx2(float *o, const float *v, size_t vstride, const float *w, int n, int dim) {
  int j = 0;
  for (; j + 8 <= dim; j += 8) {
    __m256 acc = _mm256_loadu_ps(o + j);
    for (int i = 0; i < n; i++) acc = _mm256_fmadd_ps(_mm256_set1_ps(w[i]), _mm256_loadu_ps(v + (size_t)i * vstride + j), acc);
    _mm256_storeu_ps(o + j, acc);
  }
  for (; j < dim; j++) {
    float acc = o[j];
    for (int i = 0; i < n; i++) acc += w[i] * v[(size_t)i * vstride + j];
    o[j] = acc;
  }
}

#pragma clang attribute pop

#endif
