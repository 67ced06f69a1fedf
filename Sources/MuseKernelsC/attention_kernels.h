// The loop of attention.c, included once per instruction-set level and cache element type. The
// includer defines SUFFIX (level and type), W (floats per vector, 8 or 16), VEC, VZERO, VLOAD(p),
// VSTORE(p, v), VFMA(a, b, c), VADD(a, b), VMUL(a, b), VSET1(x), EXP_TILE(s, m, w) (w[i] =
// e^(s[i] - m) for the 16 lanes, 0 where s[i] is -inf), MASK_MAX(s, lo, hi) (sets the lanes
// outside lo...hi to -inf and returns the largest), TILE_SUM(w) (the 16 lanes' sum in a fixed
// order: a chain of 16 scalar adds had been an eighth of the loop's time), ETYPE (the cached element: float, or
// uint16_t for f16), ELOAD(p) (W cached elements as floats) and EGET(p) (one), and wraps the
// include in a `#pragma clang attribute` that sets the target features.
//
// Bit-identical whatever holds the row: tiles are the 16 positions of an aligned run (blocks
// hold whole tiles), every lane of a tile sees the same operations whichever other lanes are
// live, and the value sum and the denominator add a tile's live lanes in a fixed order. So a
// sequence alone, in a batch, or in a paged or contiguous cache gives the same bits.

#define ACAT2(a, b) a##b
#define ACAT(a, b) ACAT2(a, b)
#define TV (16 / W)

// s[0..15] = scale · q · k for the tile's 16 keys (kt: [dim × 16], position fastest). Four
// accumulators over d mod 4 so that the fma latency overlaps, joined (a0 + a1) + (a2 + a3).
static inline void ACAT(tile_scores_, SUFFIX)(const float *q, const ETYPE *kt, int dim, float scale,
                                              float *s) {
  VEC a[4][TV];
  for (int k = 0; k < 4; k++)
    for (int t = 0; t < TV; t++) a[k][t] = VZERO;
  int d = 0;
  for (; d + 4 <= dim; d += 4)
    for (int k = 0; k < 4; k++) {
      const VEC qd = VSET1(q[d + k]);
      for (int t = 0; t < TV; t++) a[k][t] = VFMA(qd, ELOAD(kt + (size_t)(d + k) * 16 + t * W), a[k][t]);
    }
  for (; d < dim; d++)
    for (int t = 0; t < TV; t++) a[0][t] = VFMA(VSET1(q[d]), ELOAD(kt + (size_t)d * 16 + t * W), a[0][t]);
  for (int t = 0; t < TV; t++)
    VSTORE(s + t * W, VMUL(VADD(VADD(a[0][t], a[1][t]), VADD(a[2][t], a[3][t])), VSET1(scale)));
}

// o[j] += Σ_{i = lo...hi} w[i] · v[i · dim + j] for j < dim (vt: [16 × dim], rows in order).
static inline void ACAT(tile_values_, SUFFIX)(float *o, const ETYPE *vt, const float *w, int lo, int hi,
                                              int dim) {
  int j = 0;
  for (; j + 4 * W <= dim; j += 4 * W) {
    VEC a0 = VLOAD(o + j), a1 = VLOAD(o + j + W), a2 = VLOAD(o + j + 2 * W), a3 = VLOAD(o + j + 3 * W);
    for (int i = lo; i <= hi; i++) {
      const ETYPE *row = vt + (size_t)i * dim + j;
      const VEC wi = VSET1(w[i]);
      a0 = VFMA(wi, ELOAD(row), a0);
      a1 = VFMA(wi, ELOAD(row + W), a1);
      a2 = VFMA(wi, ELOAD(row + 2 * W), a2);
      a3 = VFMA(wi, ELOAD(row + 3 * W), a3);
    }
    VSTORE(o + j, a0);
    VSTORE(o + j + W, a1);
    VSTORE(o + j + 2 * W, a2);
    VSTORE(o + j + 3 * W, a3);
  }
  for (; j + W <= dim; j += W) {
    VEC acc = VLOAD(o + j);
    for (int i = lo; i <= hi; i++) acc = VFMA(VSET1(w[i]), ELOAD(vt + (size_t)i * dim + j), acc);
    VSTORE(o + j, acc);
  }
  for (; j < dim; j++) {
    float acc = o[j];
    for (int i = lo; i <= hi; i++) acc = fmaf(w[i], EGET(vt + (size_t)i * dim + j), acc);
    o[j] = acc;
  }
}

static void ACAT(attend_, SUFFIX)(const float *q, int heads, int dim, int vdim, const void *const *kblocks,
                                  const void *const *vblocks, size_t koffset, size_t voffset, int block_size,
                                  int first, int last, float scale, const float *sinks, float *out) {
  float maximum[MUSE_ATTEND_MAX_HEADS], denominator[MUSE_ATTEND_MAX_HEADS];
  float s[16] __attribute__((aligned(64))), w[16] __attribute__((aligned(64)));
  for (int h = 0; h < heads; h++) {
    // Online softmax (Milakov & Gimelshein 2018): one pass over the cache, no score buffer of
    // the context's length. A sink starts the denominator at e^(sink - max).
    maximum[h] = sinks ? sinks[h] : -INFINITY;
    denominator[h] = sinks ? 1 : 0;
    for (int j = 0; j < vdim; j++) out[(size_t)h * vdim + j] = 0;
  }
  for (int p = first & ~15; p <= last; p += 16) {
    const int offset = p % block_size;
    const ETYPE *kt = (const ETYPE *)kblocks[p / block_size] + koffset + (size_t)offset * dim;
    const ETYPE *vt = (const ETYPE *)vblocks[p / block_size] + voffset + (size_t)offset * vdim;
    // The next tile loads while this one computes: each is a short run the hardware
    // prefetcher meets too late to follow.
    if (p + 16 <= last) {
      const int nb = (p + 16) / block_size, no = (p + 16) % block_size;
      muse_prefetch((const ETYPE *)kblocks[nb] + koffset + (size_t)no * dim, 16 * dim * (long)sizeof(ETYPE));
      muse_prefetch((const ETYPE *)vblocks[nb] + voffset + (size_t)no * vdim, 16 * vdim * (long)sizeof(ETYPE));
    }
    const int lo = first > p ? first - p : 0, hi = last - p < 15 ? last - p : 15;
    for (int h = 0; h < heads; h++) {
      float *o = out + (size_t)h * vdim;
      ACAT(tile_scores_, SUFFIX)(q + (size_t)h * dim, kt, dim, scale, s);
      const float tile_max = MASK_MAX(s, lo, hi);
      if (tile_max > maximum[h]) {
        const float correction = expf(maximum[h] - tile_max);
        denominator[h] *= correction;
        for (int j = 0; j < vdim; j++) o[j] *= correction;
        maximum[h] = tile_max;
      }
      EXP_TILE(s, maximum[h], w);
      denominator[h] += TILE_SUM(w);
      ACAT(tile_values_, SUFFIX)(o, vt, w, lo, hi, vdim);
    }
  }
  for (int h = 0; h < heads; h++) {
    const float inverse = 1 / denominator[h];
    for (int j = 0; j < vdim; j++) out[(size_t)h * vdim + j] *= inverse;
  }
}

#undef TV
#undef ACAT
#undef ACAT2
