// The kernel body of float_gemm.c, included once per instruction-set level. The includer
// defines SUFFIX, the tile (TILE_ROWS weight rows × TILE_TOKENS tokens of accumulators; they
// and the vectors loaded each step must fit the level's registers) and wraps the include in a
// `#pragma clang attribute` that sets the target features.
//
// Each output is one 8-lane accumulator fed by one FMA per 8 columns in column order (the last
// partial 8 through a masked load), then summed across lanes in a fixed order: the same
// instruction sequence for every output whatever the tile it lands in, so a token's row is
// bitwise independent of how many tokens share the call (batch invariance), and both levels
// give the same bits.

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define FN(name) CAT(name, SUFFIX)
#define AI static inline __attribute__((always_inline))

AI float FN(ghsum)(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/// Rows r < nr of w (rows `ws` floats apart) against tokens t < nt of x (`xs` apart), the dots
/// into y[t * ys + r]. nr and nt are constants at every call, so the loops unroll and the
/// accumulators stay in registers.
AI void FN(gtile)(const float *w, size_t ws, const float *x, size_t xs, int columns, float *y,
                  size_t ys, const int nr, const int nt) {
  __m256 acc[TILE_ROWS][TILE_TOKENS];
  for (int r = 0; r < nr; r++)
    for (int t = 0; t < nt; t++) acc[r][t] = _mm256_setzero_ps();
  int c = 0;
  for (; c + 8 <= columns; c += 8) {
    __m256 xv[TILE_TOKENS];
    for (int t = 0; t < nt; t++) xv[t] = _mm256_loadu_ps(x + t * xs + c);
    for (int r = 0; r < nr; r++) {
      const __m256 wv = _mm256_loadu_ps(w + r * ws + c);
      for (int t = 0; t < nt; t++) acc[r][t] = _mm256_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  if (c < columns) {
    // Lanes below columns - c are read, the others are zero (and never touch memory).
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(columns - c),
                                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256 xv[TILE_TOKENS];
    for (int t = 0; t < nt; t++) xv[t] = _mm256_maskload_ps(x + t * xs + c, mask);
    for (int r = 0; r < nr; r++) {
      const __m256 wv = _mm256_maskload_ps(w + r * ws + c, mask);
      for (int t = 0; t < nt; t++) acc[r][t] = _mm256_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  for (int r = 0; r < nr; r++)
    for (int t = 0; t < nt; t++) y[t * ys + r] = FN(ghsum)(acc[r][t]);
}

/// One block of nr rows (a constant) against every token: full tiles, then the rest of the
/// tokens one tile shape per remainder.
AI void FN(grows)(const float *w, size_t ws, const float *x, size_t xs, int tokens, int columns,
                  float *y, size_t ys, const int nr) {
  int t = 0;
  for (; t + TILE_TOKENS <= tokens; t += TILE_TOKENS)
    FN(gtile)(w, ws, x + t * xs, xs, columns, y + t * ys, ys, nr, TILE_TOKENS);
  switch (tokens - t) {
#define GREST(n)                                                                               \
  case n:                                                                                      \
    if (n < TILE_TOKENS) FN(gtile)(w, ws, x + t * xs, xs, columns, y + t * ys, ys, nr, n);     \
    break;
    GREST(1) GREST(2) GREST(3) GREST(4) GREST(5) GREST(6) GREST(7)
#undef GREST
  default: break;
  }
}

MUSE_SGEMM(SUFFIX) {
  int r = 0;
  for (; r + TILE_ROWS <= rows; r += TILE_ROWS)
    FN(grows)(w + r * wstride, wstride, x, xstride, tokens, columns, y + r, ystride, TILE_ROWS);
  for (; r < rows; r++) FN(grows)(w + r * wstride, wstride, x, xstride, tokens, columns, y + r, ystride, 1);
}

#undef CAT2
#undef CAT
#undef FN
#undef AI
