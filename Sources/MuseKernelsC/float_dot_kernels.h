// The kernel bodies of float_dot.c, included once per instruction-set level. The includer
// defines SUFFIX and wraps the include in a `#pragma clang attribute` that sets the target
// features. Formats follow ggml-common.h; see the Swift Block*.swift files.
//
// Every token's result goes through the same instruction sequence whatever `ntok` is and
// wherever the token sits in the call, so a row of the output is bitwise independent of the
// batch (continuous batching and prefix caching rely on it).

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define FN(name) CAT(name, SUFFIX)
#define AI static inline __attribute__((always_inline))

AI float FN(fhalf)(const uint8_t *p) {
  uint16_t h;
  memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

AI float FN(fhsum)(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/// Eight bytes at p, zero- or sign-extended, as floats.
AI __m256 FN(u8f)(const uint8_t *p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p)));
}

/// Σ over the block's four 8-float vectors of w[k] · x[k]; the order is fixed.
AI __m256 FN(dot4)(const __m256 w[4], const float *x) {
  __m256 s = _mm256_mul_ps(w[0], _mm256_loadu_ps(x));
  s = _mm256_fmadd_ps(w[1], _mm256_loadu_ps(x + 8), s);
  s = _mm256_fmadd_ps(w[2], _mm256_loadu_ps(x + 16), s);
  return _mm256_fmadd_ps(w[3], _mm256_loadu_ps(x + 24), s);
}

/// Σ x over 32 floats, in 8 lanes.
AI __m256 FN(sum4)(const float *x) {
  return _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(x), _mm256_loadu_ps(x + 8)),
                       _mm256_add_ps(_mm256_loadu_ps(x + 16), _mm256_loadu_ps(x + 24)));
}

#define FDEFINE_DISPATCH(fmt)                                                                  \
  MUSE_FDOT(CAT(muse_fdot_##fmt##_, SUFFIX)) {                                                 \
    switch (ntok) {                                                                            \
    case 1: FN(f##fmt)(w, blocks, x, xstride, 1, y, ystride); break;                           \
    case 2: FN(f##fmt)(w, blocks, x, xstride, 2, y, ystride); break;                           \
    case 3: FN(f##fmt)(w, blocks, x, xstride, 3, y, ystride); break;                           \
    default: FN(f##fmt)(w, blocks, x, xstride, 4, y, ystride); break;                          \
    }                                                                                          \
  }

#define ZERO4 {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()}

// Q8_0: value = d q. Even and odd blocks go to two accumulators per token: with one, its fma
// chain (4–5 cycles per 34 bytes) bounded the kernel; on the AVX2 EPYC (one thread streaming
// 640 MB of rows, medians of 6 alternating runs under load) one token went from 5.9 to 7.6 GB/s
// and four from 4.5 to 5.3 (weight bytes per second).
AI void FN(q8_0_block)(const uint8_t *p, const float *x, size_t xstride, const int nt, __m256 acc[4]) {
  const __m256 d = _mm256_set1_ps(FN(fhalf)(p));
  __m256 q[4];
  for (int k = 0; k < 4; k++)
    q[k] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p + 2 + 8 * k))));
  for (int t = 0; t < nt; t++) acc[t] = _mm256_fmadd_ps(FN(dot4)(q, x + t * xstride), d, acc[t]);
}

AI void FN(fq8_0)(const void *w, int blocks, const float *x, size_t xstride, const int nt,
                  float *y, size_t ystride) {
  __m256 even[4] = ZERO4, odd[4] = ZERO4;
  const uint8_t *p = w;
  int b = 0;
  for (; b + 1 < blocks; b += 2, p += 68) {
    // 8 KB ahead: OLMoE-shaped Q8_0 (Zen 5, AVX2 level, one thread) prefilled 8 tokens at 27.8
    // tok/s without, 32.8 with 4 KB and 36.3 with 8 KB, and decoded 17.2 / 17.6 / 18.4.
    _mm_prefetch((const char *)p + 8192, _MM_HINT_T0);
    FN(q8_0_block)(p, x + b * 32, xstride, nt, even);
    FN(q8_0_block)(p + 34, x + b * 32 + 32, xstride, nt, odd);
  }
  if (b < blocks) FN(q8_0_block)(p, x + b * 32, xstride, nt, even);
  for (int t = 0; t < nt; t++) y[t * ystride] = FN(fhsum)(_mm256_add_ps(even[t], odd[t]));
}
FDEFINE_DISPATCH(q8_0)

/// The 32 nibbles of a Q4 block (16 bytes at p: value j low, j + 16 high) minus `offset`, as
/// four 8-float vectors.
AI void FN(nibbles)(const uint8_t *p, int offset, __m256 q[4]) {
  const __m256i m4 = _mm256_set1_epi32(0x0F);
  const __m256i off = _mm256_set1_epi32(offset);
  const __m256i a = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
  const __m256i b = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + 8)));
  q[0] = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_and_si256(a, m4), off));
  q[1] = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_and_si256(b, m4), off));
  q[2] = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(a, 4), off));
  q[3] = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(b, 4), off));
}

// Q4_0: value = d (q - 8).
AI void FN(fq4_0)(const void *w, int blocks, const float *x, size_t xstride, const int nt,
                  float *y, size_t ystride) {
  __m256 acc[4] = ZERO4;
  const uint8_t *p = w;
  for (int b = 0; b < blocks; b++, p += 18) {
    const __m256 d = _mm256_set1_ps(FN(fhalf)(p));
    __m256 q[4];
    FN(nibbles)(p + 2, 8, q);
    for (int t = 0; t < nt; t++)
      acc[t] = _mm256_fmadd_ps(FN(dot4)(q, x + t * xstride + b * 32), d, acc[t]);
  }
  for (int t = 0; t < nt; t++) y[t * ystride] = FN(fhsum)(acc[t]);
}
FDEFINE_DISPATCH(q4_0)

// Q4_1: value = d q + m; Σ = d Σ q x + m Σ x.
AI void FN(fq4_1)(const void *w, int blocks, const float *x, size_t xstride, const int nt,
                  float *y, size_t ystride) {
  __m256 acc[4] = ZERO4;
  __m256 mins[4] = ZERO4;
  const uint8_t *p = w;
  for (int b = 0; b < blocks; b++, p += 20) {
    const __m256 d = _mm256_set1_ps(FN(fhalf)(p));
    const __m256 m = _mm256_set1_ps(FN(fhalf)(p + 2));
    __m256 q[4];
    FN(nibbles)(p + 4, 0, q);
    for (int t = 0; t < nt; t++) {
      const float *xb = x + t * xstride + b * 32;
      acc[t] = _mm256_fmadd_ps(FN(dot4)(q, xb), d, acc[t]);
      mins[t] = _mm256_fmadd_ps(FN(sum4)(xb), m, mins[t]);
    }
  }
  for (int t = 0; t < nt; t++) y[t * ystride] = FN(fhsum)(_mm256_add_ps(acc[t], mins[t]));
}
FDEFINE_DISPATCH(q4_1)

// Q4_K: sub-block j of 32 has value = d sc[j] q - dmin m[j] (scales unpacked as ggml's
// get_scale_min_k4). Each 32-byte run r holds sub-block 2r (low nibbles) and 2r + 1 (high).
AI void FN(fq4_K)(const void *w, int blocks, const float *x, size_t xstride, const int nt,
                  float *y, size_t ystride) {
  const __m256i m4 = _mm256_set1_epi32(0x0F);
  __m256 acc[4] = ZERO4;
  __m256 mins[4] = ZERO4;
  const uint8_t *p = w;
  for (int b = 0; b < blocks; b++, p += 144) {
    const float d = FN(fhalf)(p);
    const float dmin = FN(fhalf)(p + 2);
    const uint8_t *s = p + 4;
    float sc[8], mn[8];
    for (int j = 0; j < 4; j++) {
      sc[j] = d * (float)(s[j] & 63);
      mn[j] = dmin * (float)(s[j + 4] & 63);
      sc[j + 4] = d * (float)((s[j + 8] & 0x0F) | ((s[j] >> 6) << 4));
      mn[j + 4] = dmin * (float)((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4));
    }
    for (int r = 0; r < 4; r++) {
      const uint8_t *qs = p + 16 + 32 * r;
      __m256 lo[4], hi[4];
      for (int k = 0; k < 4; k++) {
        const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(qs + 8 * k)));
        lo[k] = _mm256_cvtepi32_ps(_mm256_and_si256(v, m4));
        hi[k] = _mm256_cvtepi32_ps(_mm256_srli_epi32(v, 4));
      }
      const __m256 s0 = _mm256_set1_ps(sc[2 * r]), s1 = _mm256_set1_ps(sc[2 * r + 1]);
      const __m256 n0 = _mm256_set1_ps(mn[2 * r]), n1 = _mm256_set1_ps(mn[2 * r + 1]);
      for (int t = 0; t < nt; t++) {
        const float *xb = x + t * xstride + b * 256 + 64 * r;
        acc[t] = _mm256_fmadd_ps(FN(dot4)(lo, xb), s0, acc[t]);
        acc[t] = _mm256_fmadd_ps(FN(dot4)(hi, xb + 32), s1, acc[t]);
        mins[t] = _mm256_fmadd_ps(FN(sum4)(xb), n0, mins[t]);
        mins[t] = _mm256_fmadd_ps(FN(sum4)(xb + 32), n1, mins[t]);
      }
    }
  }
  for (int t = 0; t < nt; t++) y[t * ystride] = FN(fhsum)(_mm256_sub_ps(acc[t], mins[t]));
}
FDEFINE_DISPATCH(q4_K)

// Q6_K: value = d sc[i / 16] (q - 32). Per half of 128 values, run k of 32 values: k = 0:
// ql[l] low | qh bits 0-1, k = 1: ql[l + 32] low | bits 2-3, k = 2: ql[l] high | bits 4-5,
// k = 3: ql[l + 32] high | bits 6-7. Vectors 0-1 of a run take scale 2k, vectors 2-3 2k + 1.
AI void FN(fq6_K)(const void *w, int blocks, const float *x, size_t xstride, const int nt,
                  float *y, size_t ystride) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i m2 = _mm256_set1_epi8(0x03);
  const __m256i m32 = _mm256_set1_epi8(32);
  __m256 acc[4] = ZERO4;
  const uint8_t *p = w;
  for (int b = 0; b < blocks; b++, p += 210) {
    const float d = FN(fhalf)(p + 208);
    for (int half = 0; half < 2; half++) {
      const __m256i l0 = _mm256_loadu_si256((const __m256i *)(p + 64 * half));
      const __m256i l1 = _mm256_loadu_si256((const __m256i *)(p + 64 * half + 32));
      const __m256i h = _mm256_loadu_si256((const __m256i *)(p + 128 + 32 * half));
      const int8_t *sc = (const int8_t *)(p + 192 + 8 * half);
      __m256i q[4];
      q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4),
                             _mm256_slli_epi16(_mm256_and_si256(h, m2), 4));
      q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), m2), 4));
      q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), m2), 4));
      q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), m2), 4));
      for (int k = 0; k < 4; k++) {
        const __m256i qs = _mm256_sub_epi8(q[k], m32);
        const __m128i lo = _mm256_castsi256_si128(qs), hi = _mm256_extracti128_si256(qs, 1);
        __m256 f[4];
        f[0] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo));
        f[1] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_unpackhi_epi64(lo, lo)));
        f[2] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi));
        f[3] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_unpackhi_epi64(hi, hi)));
        const __m256 sa = _mm256_set1_ps(d * (float)sc[2 * k]);
        const __m256 sb = _mm256_set1_ps(d * (float)sc[2 * k + 1]);
        for (int t = 0; t < nt; t++) {
          const float *xb = x + t * xstride + b * 256 + 128 * half + 32 * k;
          const __m256 a = _mm256_fmadd_ps(f[1], _mm256_loadu_ps(xb + 8),
                                           _mm256_mul_ps(f[0], _mm256_loadu_ps(xb)));
          const __m256 c = _mm256_fmadd_ps(f[3], _mm256_loadu_ps(xb + 24),
                                           _mm256_mul_ps(f[2], _mm256_loadu_ps(xb + 16)));
          acc[t] = _mm256_fmadd_ps(c, sb, _mm256_fmadd_ps(a, sa, acc[t]));
        }
      }
    }
  }
  for (int t = 0; t < nt; t++) y[t * ystride] = FN(fhsum)(acc[t]);
}
FDEFINE_DISPATCH(q6_K)

#undef ZERO4
#undef FDEFINE_DISPATCH
#undef FN
#undef AI
#undef CAT
#undef CAT2
