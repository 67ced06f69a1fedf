// The loops of attention.c, included once per instruction-set level. The includer defines
// SUFFIX, W (floats per vector), VEC, VZERO, VLOAD(p), VSTORE(p, v), VFMA(a, b, c), VSET1(x), VHSUM(v)
// and wraps the include in a `#pragma clang attribute` that sets the target features.
//
// Both loops keep four independent accumulators (four keys, or four vectors of the head) so
// that the fma latency overlaps: one chain ran at a quarter of the fma throughput. Each score
// and each output element still sees the same operations in the same order whatever the tile
// length, so batched, paged and single-sequence attention stay bit-identical.

#define ACAT2(a, b) a##b
#define ACAT(a, b) ACAT2(a, b)

static inline float ACAT(score_one_, SUFFIX)(const float *q, const float *key, int dim) {
  VEC acc = VZERO;
  int j = 0;
  for (; j + W <= dim; j += W) acc = VFMA(VLOAD(q + j), VLOAD(key + j), acc);
  float s = VHSUM(acc);
  for (; j < dim; j++) s += q[j] * key[j];
  return s;
}

void ACAT(muse_attn_scores_, SUFFIX)(const float *q, const float *k, size_t kstride, int n, int dim,
                                     float scale, float *scores) {
  int i = 0;
  if (dim % W == 0) {
    for (; i + 4 <= n; i += 4) {
      const float *k0 = k + (size_t)i * kstride, *k1 = k0 + kstride, *k2 = k1 + kstride, *k3 = k2 + kstride;
      VEC a0 = VZERO, a1 = VZERO, a2 = VZERO, a3 = VZERO;
      for (int j = 0; j < dim; j += W) {
        const VEC qv = VLOAD(q + j);
        a0 = VFMA(qv, VLOAD(k0 + j), a0);
        a1 = VFMA(qv, VLOAD(k1 + j), a1);
        a2 = VFMA(qv, VLOAD(k2 + j), a2);
        a3 = VFMA(qv, VLOAD(k3 + j), a3);
      }
      scores[i] = VHSUM(a0) * scale;
      scores[i + 1] = VHSUM(a1) * scale;
      scores[i + 2] = VHSUM(a2) * scale;
      scores[i + 3] = VHSUM(a3) * scale;
    }
  }
  for (; i < n; i++) scores[i] = ACAT(score_one_, SUFFIX)(q, k + (size_t)i * kstride, dim) * scale;
}

void ACAT(muse_attn_accumulate_, SUFFIX)(float *o, const float *v, size_t vstride, const float *w, int n,
                                         int dim) {
  int j = 0;
  for (; j + 4 * W <= dim; j += 4 * W) {
    VEC a0 = VLOAD(o + j), a1 = VLOAD(o + j + W), a2 = VLOAD(o + j + 2 * W), a3 = VLOAD(o + j + 3 * W);
    for (int i = 0; i < n; i++) {
      const float *row = v + (size_t)i * vstride + j;
      const VEC wi = VSET1(w[i]);
      a0 = VFMA(wi, VLOAD(row), a0);
      a1 = VFMA(wi, VLOAD(row + W), a1);
      a2 = VFMA(wi, VLOAD(row + 2 * W), a2);
      a3 = VFMA(wi, VLOAD(row + 3 * W), a3);
    }
    VSTORE(o + j, a0);
    VSTORE(o + j + W, a1);
    VSTORE(o + j + 2 * W, a2);
    VSTORE(o + j + 3 * W, a3);
  }
  for (; j + W <= dim; j += W) {
    VEC acc = VLOAD(o + j);
    for (int i = 0; i < n; i++) acc = VFMA(VSET1(w[i]), VLOAD(v + (size_t)i * vstride + j), acc);
    VSTORE(o + j, acc);
  }
  for (; j < dim; j++) {
    float acc = o[j];
    for (int i = 0; i < n; i++) acc += w[i] * v[(size_t)i * vstride + j];
    o[j] = acc;
  }
}

#undef ACAT
#undef ACAT2
