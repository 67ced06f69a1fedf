// The kernel bodies of int8_dot.c, included once per instruction-set level. The includer
// defines SUFFIX (the name suffix), DOT_U8S8(u, s) (unsigned × signed bytes, each run of four
// products summed into an int32 lane) and wraps the include in a `#pragma clang attribute`
// that sets the target features. Formats follow ggml-common.h; see the Swift Block*.swift files.

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define FN(name) CAT(name, SUFFIX)
#define AI static inline __attribute__((always_inline))

AI float FN(half)(const uint8_t *p) {
  uint16_t h;
  memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

AI float FN(hsum)(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/// Signed × signed via |w| × (x with w's sign), as ggml's mul_sum_i8_pairs.
AI __m256i FN(dot_s8s8)(__m256i w, __m256i x) {
  return DOT_U8S8(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
}

/// Scale, code sum and codes of activation block j of token t.
#define XQ(t, j) _mm256_loadu_si256((const __m256i *)(x + (t) * xstride + (size_t)(j) * 32))
#define XD(t, j) (((const float *)(x + (t) * xstride + (size_t)xblocks * 32))[j])
#define XS(t, j) (((const int32_t *)(x + (t) * xstride + (size_t)xblocks * 36))[j])

#define DEFINE_DISPATCH(fmt)                                                                   \
  MUSE_DOT(CAT(muse_dot_##fmt##_, SUFFIX)) {                                                   \
    switch (ntok) {                                                                            \
    case 1: FN(fmt)(w, blocks, x, xstride, 1, y, ystride); break;                              \
    case 2: FN(fmt)(w, blocks, x, xstride, 2, y, ystride); break;                              \
    case 3: FN(fmt)(w, blocks, x, xstride, 3, y, ystride); break;                              \
    default: FN(fmt)(w, blocks, x, xstride, 4, y, ystride); break;                             \
    }                                                                                          \
  }

// Q8_0: value = d q. Σ = d dx Σ q xq.
AI void FN(q8_0)(const void *w, int blocks, const int8_t *x, size_t xstride, const int nt,
                 float *y, size_t ystride) {
  const int xblocks = blocks;
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  const uint8_t *p = w;
  for (int b = 0; b < blocks; b++, p += 34) {
    const float d = FN(half)(p);
    const __m256i q = _mm256_loadu_si256((const __m256i *)(p + 2));
    const __m256i aq = _mm256_sign_epi8(q, q);
    for (int t = 0; t < nt; t++) {
      const __m256i s = DOT_U8S8(aq, _mm256_sign_epi8(XQ(t, b), q));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(d * XD(t, b)), acc[t]);
    }
  }
  for (int t = 0; t < nt; t++) y[t * ystride] = FN(hsum)(acc[t]);
}
DEFINE_DISPATCH(q8_0)

// Q4_0: value = d (q - 8) with q the unsigned nibble. Σ (q - 8) xq = Σ q xq - 8 Σ xq; spreading
// 8 Σ xq over the eight int32 lanes subtracts Σ xq from each, exactly.
AI void FN(q4_0)(const void *w, int blocks, const int8_t *x, size_t xstride, const int nt,
                 float *y, size_t ystride) {
  const int xblocks = blocks;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  const uint8_t *p = w;
  for (int b = 0; b < blocks; b++, p += 18) {
    const float d = FN(half)(p);
    const __m128i raw = _mm_loadu_si128((const __m128i *)(p + 2));
    const __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), m4);
    for (int t = 0; t < nt; t++) {
      __m256i s = DOT_U8S8(q, XQ(t, b));
      s = _mm256_sub_epi32(s, _mm256_set1_epi32(XS(t, b)));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(d * XD(t, b)), acc[t]);
    }
  }
  for (int t = 0; t < nt; t++) y[t * ystride] = FN(hsum)(acc[t]);
}
DEFINE_DISPATCH(q4_0)

// Q4_1: value = d q + m. Σ = d dx Σ q xq + m dx Σ xq.
AI void FN(q4_1)(const void *w, int blocks, const int8_t *x, size_t xstride, const int nt,
                 float *y, size_t ystride) {
  const int xblocks = blocks;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  float mins[4] = {0, 0, 0, 0};
  const uint8_t *p = w;
  for (int b = 0; b < blocks; b++, p += 20) {
    const float d = FN(half)(p);
    const float m = FN(half)(p + 2);
    const __m128i raw = _mm_loadu_si128((const __m128i *)(p + 4));
    const __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), m4);
    for (int t = 0; t < nt; t++) {
      const float dx = XD(t, b);
      const __m256i s = DOT_U8S8(q, XQ(t, b));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(d * dx), acc[t]);
      mins[t] += m * dx * (float)XS(t, b);
    }
  }
  for (int t = 0; t < nt; t++) y[t * ystride] = FN(hsum)(acc[t]) + mins[t];
}
DEFINE_DISPATCH(q4_1)

// Q4_K: sub-block j of 32 has value = d sc[j] q - dmin m[j] (scales unpacked as ggml's
// get_scale_min_k4). Each 32-byte run p holds sub-block 2p (low nibbles) and 2p + 1 (high).
AI void FN(q4_K)(const void *w, int blocks, const int8_t *x, size_t xstride, const int nt,
                 float *y, size_t ystride) {
  const int xblocks = blocks * 8;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  float mins[4] = {0, 0, 0, 0};
  const uint8_t *p = w;
  for (int b = 0; b < blocks; b++, p += 144) {
    const float d = FN(half)(p);
    const float dmin = FN(half)(p + 2);
    const uint8_t *s = p + 4;
    float sc[8], mn[8];
    for (int j = 0; j < 4; j++) {
      sc[j] = d * (float)(s[j] & 63);
      mn[j] = dmin * (float)(s[j + 4] & 63);
      sc[j + 4] = d * (float)((s[j + 8] & 0x0F) | ((s[j] >> 6) << 4));
      mn[j + 4] = dmin * (float)((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4));
    }
    for (int r = 0; r < 4; r++) {
      const __m256i raw = _mm256_loadu_si256((const __m256i *)(p + 16 + 32 * r));
      const __m256i lo = _mm256_and_si256(raw, m4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
      const int j = b * 8 + 2 * r;
      for (int t = 0; t < nt; t++) {
        const float dx0 = XD(t, j), dx1 = XD(t, j + 1);
        const __m256i s0 = DOT_U8S8(lo, XQ(t, j));
        const __m256i s1 = DOT_U8S8(hi, XQ(t, j + 1));
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(sc[2 * r] * dx0), acc[t]);
        acc[t] =
            _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1), _mm256_set1_ps(sc[2 * r + 1] * dx1), acc[t]);
        mins[t] += mn[2 * r] * dx0 * (float)XS(t, j) + mn[2 * r + 1] * dx1 * (float)XS(t, j + 1);
      }
    }
  }
  for (int t = 0; t < nt; t++) y[t * ystride] = FN(hsum)(acc[t]) - mins[t];
}
DEFINE_DISPATCH(q4_K)

// Q6_K: value = d sc[i / 16] (q - 32). Per half of 128 values, 32-lane vector k covers values
// 32k ..< 32k + 32 (one activation block, two scales): k = 0: ql[l] low | qh bits 0-1,
// k = 1: ql[l + 32] low | bits 2-3, k = 2: ql[l] high | bits 4-5, k = 3: ql[l + 32] high | 6-7.
AI void FN(q6_K)(const void *w, int blocks, const int8_t *x, size_t xstride, const int nt,
                 float *y, size_t ystride) {
  const int xblocks = blocks * 8;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i m2 = _mm256_set1_epi8(0x03);
  const __m256i m32 = _mm256_set1_epi8(32);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  const uint8_t *p = w;
  for (int b = 0; b < blocks; b++, p += 210) {
    const float d = FN(half)(p + 208);
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
        const __m256i aq = _mm256_sign_epi8(qs, qs);
        // Lanes 0-3 sum values 0-15 of the run (scale 2k), lanes 4-7 values 16-31 (2k + 1).
        const __m256 scales = _mm256_mul_ps(
            _mm256_set1_ps(d), _mm256_setr_m128(_mm_set1_ps((float)sc[2 * k]),
                                                _mm_set1_ps((float)sc[2 * k + 1])));
        const int j = b * 8 + half * 4 + k;
        for (int t = 0; t < nt; t++) {
          const __m256i s = DOT_U8S8(aq, _mm256_sign_epi8(XQ(t, j), qs));
          acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s),
                                   _mm256_mul_ps(scales, _mm256_set1_ps(XD(t, j))), acc[t]);
        }
      }
    }
  }
  for (int t = 0; t < nt; t++) y[t * ystride] = FN(hsum)(acc[t]);
}
DEFINE_DISPATCH(q6_K)

#undef XQ
#undef XD
#undef XS
#undef DEFINE_DISPATCH
#undef FN
#undef AI
