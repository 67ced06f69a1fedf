// The loops of attention.c, included once per instruction-set level. The includer defines
// SUFFIX, W (floats per vector), VEC, VZERO, VLOAD(p), VSTORE(p, v), VFMA(a, b, c), VSET1(x), VHSUM(v)
// and wraps the include in a `#pragma clang attribute` that sets the target features.

#define ACAT2(a, b) a##b
#define ACAT(a, b) ACAT2(a, b)

void ACAT(muse_attn_scores_, SUFFIX)(const float *q, const float *k, size_t kstride, int n, int dim,
                                     float scale, float *scores) {
  for (int i = 0; i < n; i++) {
    const float *key = k + (size_t)i * kstride;
    VEC acc = VZERO;
    int j = 0;
    for (; j + W <= dim; j += W) acc = VFMA(VLOAD(q + j), VLOAD(key + j), acc);
    float s = VHSUM(acc);
    for (; j < dim; j++) s += q[j] * key[j];
    scores[i] = s * scale;
  }
}

void ACAT(muse_attn_accumulate_, SUFFIX)(float *o, const float *v, size_t vstride, const float *w, int n,
                                         int dim) {
  int j = 0;
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
