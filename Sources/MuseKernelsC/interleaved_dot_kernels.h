// The interleaved kernels of interleaved_dot.c on 256-bit vectors, included once per level:
// AVX2 (SUFFIX avx2) and AVX-VNNI (SUFFIX avxvnni, the VEX vpdpbusd). The includer defines
//   SUFFIX               the level's name, appended to each function's
//   DIGIT_ZERO           a zeroed digit accumulator
//   DIGIT_ADD(a, q, x)   a + Σ over 4-byte groups of unsigned codes q × signed digits x (per
//                        32-bit lane, i.e. per row), in whatever form the level keeps
//   DIGIT_JOIN(a, b)     two accumulators as one (each at most 8 · 3840 where they are int16)
//   DIGIT_WIDEN(a, s)    that accumulator as int32 lanes times 2^s
//   CODE_PLANES          1 where DIGIT_ADD takes 8-bit codes, 2 where only 4-bit ones
// AVX2 has no vpdpbusd: vpmaddubsw sums byte pairs into int16 (|pair| ≤ 2 · 15 · 128 = 3840
// for 4-bit codes), eight of those are added as int16 (≤ 30720 < 32767, so no saturation),
// and one vpmaddwd by 2^s per digit joins pairs into the row's int32 lane. Every sum is exact,
// so each level gives the VNNI level's (and the portable loop's) bits.
//
// A 256-bit vector holds 8 of a group's 16 rows. With several tokens a kernel runs two passes
// over the group's blocks, rows 0–7 then rows 8–15 (the group's bytes are in cache for the
// second; a group is at most blocks × 544 bytes); with one token (decode) every kernel takes
// both halves in one pass (H = 2; Q6_K: q6_K_sub_one), so each 64-byte line is read whole while
// in L1 (streaming from memory on one Zen 5 thread, ~28 → ~35 GB/s). Within a pass, each 32-byte
// half-chunk is loaded and unpacked once and used for every token (Q4_K's once per nibble
// plane, see iq4_K).

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SUFFIX)

AI __m256i FN(bcast4)(const int8_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// Software prefetch ahead of the blocks a pass reads: 4 KB with several tokens (PREFETCH in
// interleaved_dot.c), MUSE_IDOT_PREFETCH_ONE bytes with one (0: none). Streaming 640 MB of
// Q4_0 (Scripts/bench/interleaved_stream.sh, medians of alternating runs): on the AVX2 EPYC,
// 1 KB ahead took one token from 11.3 to 13.1 GB/s on one thread and 20.3 to 22.1 on two; on a
// Zen 5 EPYC at this level 1 KB gave 22.9 and 35.3 GB/s, 8 KB 30.0 and 38.9 (none: 22.4,
// 33.4), and OLMoE-shaped Q4_0 decode on one thread 29.0 → 42.6 tok/s (16 KB: 44.6).
// The K-quant kernels prefetch KDIST bytes ahead, spread over their sub-blocks (each fetches
// the lines KDIST past its own, in the first pass): OLMoE-shaped Q4_K_M decode (Zen 5, this
// level, one thread) went from 20.5 tok/s (4608 bytes ahead for Q4_K and 3360 for Q6_K, each
// in one burst per super-block) to 26.5 (4608: 24.7, 12 KB: 27.3, 16 KB: 26.3). With the
// Q6_K kernel's loop (iq6_K) 8 KB → 12 KB: one token streaming 640 MB, Q6_K 21.3 → 22.8 GB/s
// and Q4_K 25.2 → 26.4 (4 KB: 17.8 / 22.2; 24 KB: 22.1 / 26.3); Q4_K_M decode, three
// alternating runs, 29.2 / 29.7 / 27.4 → 29.8 / 31.4 / 30.8 tok/s. KDIST may be given to the
// compiler (Scripts/bench/interleaved_stream.sh's builds).
#ifndef KDIST
#define KDIST 12288
#endif
#ifndef MUSE_IDOT_PREFETCH_ONE
#define MUSE_IDOT_PREFETCH_ONE 8192
#endif
AI void FN(prefetch)(int nt, const uint8_t *p, size_t n) {
  const size_t ahead = nt > 1 ? 4096 : MUSE_IDOT_PREFETCH_ONE;
  if (ahead == 0) return;
  for (size_t pf = 0; pf < n; pf += 64) _mm_prefetch((const char *)p + ahead + pf, _MM_HINT_T0);
}

AI void FN(store8)(const __m256 acc[4], int nt, float *y, size_t ystride) {
  for (int t = 0; t < nt; t++) _mm256_storeu_ps(y + t * ystride, acc[t]);
}

// Q4_0 (value d (q - 8)) and Q4_1 (value d q + m), 16-bit activations q = 256 h + l. With one
// token both 8-row halves go in one pass (H = 2, as iq4_K): streaming 640 MB of Q4_0 on one
// thread of a Zen 5, 27.7 → 34.5 GB/s, and OLMoE-shaped Q4_0 decode at this level 42.4 → 53
// tok/s.
AI void FN(iq4)(const uint8_t *group, int blocks, const int8_t *x, size_t xstride, int nt, float *y,
                size_t ystride, int q4_1) {
  const size_t block_bytes = q4_1 ? 320 : 288, header = q4_1 ? 64 : 32;
  const int32_t off = q4_1 ? 0 : 8;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const int H = nt == 1 ? 2 : 1;
  for (int first = 0; first < 2; first += H) {
    __m256 acc[2][4];
    for (int hh = 0; hh < H; hh++)
      for (int t = 0; t < nt; t++) acc[hh][t] = _mm256_setzero_ps();
    const uint8_t *w = group;
    for (int b = 0; b < blocks; b++, w += block_bytes) {
      if (first == 0) FN(prefetch)(nt, w, block_bytes);
      // Digit sums, with one or two tokens [.][t][0] over low nibbles and [.][t][1] over high
      // ones: two short dependency chains per digit rather than one long one (vpdpbusd's latency
      // is 5 cycles). Three or four tokens are chains enough, and one sum per digit spares
      // registers (in L2, 4 tokens: 8.1 → 11.6 GB/s of weights on a Zen 5).
      const int hc = nt <= 2;  // the high nibbles' chain
      __m256i sh[2][4][2], sl[2][4][2];
      for (int hh = 0; hh < H; hh++)
        for (int t = 0; t < nt; t++) sh[hh][t][0] = sh[hh][t][1] = sl[hh][t][0] = sl[hh][t][1] = DIGIT_ZERO;
      for (int j = 0; j < 4; j++)
        for (int hh = 0; hh < H; hh++) {
          // Chunk j: low nibbles are values 4j ..< 4j + 4, high nibbles 16 + 4j ..< 16 + 4j + 4.
          const __m256i raw = _mm256_loadu_si256((const __m256i *)(w + header + 64 * j + 32 * (first + hh)));
          const __m256i lo = _mm256_and_si256(raw, m4);
          const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
          for (int t = 0; t < nt; t++) {
            const int8_t *h = XDIGIT(t, b, 0), *l = XDIGIT(t, b, 1);
            sh[hh][t][0] = DIGIT_ADD(sh[hh][t][0], lo, FN(bcast4)(h + 4 * j));
            sl[hh][t][0] = DIGIT_ADD(sl[hh][t][0], lo, FN(bcast4)(l + 4 * j));
            sh[hh][t][hc] = DIGIT_ADD(sh[hh][t][hc], hi, FN(bcast4)(h + 16 + 4 * j));
            sl[hh][t][hc] = DIGIT_ADD(sl[hh][t][hc], hi, FN(bcast4)(l + 16 + 4 * j));
          }
        }
      for (int hh = 0; hh < H; hh++) {
        const int half = first + hh;
        const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + 16 * half)));
        const __m256 m = q4_1 ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + 32 + 16 * half)))
                              : _mm256_setzero_ps();
        for (int t = 0; t < nt; t++) {
          // Each pair of accumulators is ≤ 8 · 3840 in magnitude: joined as int16 on AVX2.
          __m256i s = _mm256_add_epi32(DIGIT_WIDEN(DIGIT_JOIN(sh[hh][t][0], sh[hh][t][1]), 8),
                                       DIGIT_WIDEN(DIGIT_JOIN(sl[hh][t][0], sl[hh][t][1]), 0));
          if (off) s = _mm256_sub_epi32(s, _mm256_set1_epi32(off * (256 * XI(t, b, 2, 1) + XI(t, b, 2, 2))));
          acc[hh][t] =
              _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(d, _mm256_set1_ps(XD(t, b, 2))), acc[hh][t]);
          if (q4_1) acc[hh][t] = _mm256_fmadd_ps(m, _mm256_set1_ps(XSUM(t, b, 2)), acc[hh][t]);
        }
      }
    }
    for (int hh = 0; hh < H; hh++) FN(store8)(acc[hh], nt, y + 8 * (first + hh), ystride);
  }
}

// Q8_0: value d q, stored as u = q + 128; 24-bit activations q = 65536 h + 256 m + l. The top
// digit's sum and the lower digits' are each exact in int32 with the offset taken off, joined
// by one float fma (dot_block3's arithmetic). Where DIGIT_ADD takes 4-bit codes only (AVX2:
// 2 · 255 · 128 overflows int16), CODE_PLANES is 2 and u = 16 u_hi + u_lo is summed per
// nibble; with 8-bit codes (VNNI) the two accumulators per digit take even and odd chunks.
AI void FN(iq8_0)(const uint8_t *group, int blocks, const int8_t *x, size_t xstride, int nt, float *y,
                  size_t ystride) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  // One token: both halves in one pass (H = 2, as iq4), with one vpdpbusd chain per digit and
  // half (six chains) instead of even and odd chunks' two.
  const int H = nt == 1 ? 2 : 1;
  for (int first = 0; first < 2; first += H) {
    __m256 acc[2][2];
    for (int hh = 0; hh < H; hh++)
      for (int t = 0; t < nt; t++) acc[hh][t] = _mm256_setzero_ps();
    const uint8_t *w = group;
    for (int b = 0; b < blocks; b++, w += 544) {
      if (first == 0) FN(prefetch)(nt, w, 544);
      __m256i s[2][2][3][2];  // [half][token][digit][plane, or chunk parity]
      for (int hh = 0; hh < H; hh++)
        for (int t = 0; t < nt; t++)
          for (int j = 0; j < 3; j++) s[hh][t][j][0] = s[hh][t][j][1] = DIGIT_ZERO;
      for (int k = 0; k < 8; k++)
        for (int hh = 0; hh < H; hh++) {
          const __m256i raw = _mm256_loadu_si256((const __m256i *)(w + 32 + 64 * k + 32 * (first + hh)));
          if (CODE_PLANES == 1) {
            const int parity = H == 1 ? k & 1 : 0;
            for (int t = 0; t < nt; t++)
              for (int j = 0; j < 3; j++)
                s[hh][t][j][parity] = DIGIT_ADD(s[hh][t][j][parity], raw, FN(bcast4)(XDIGIT(t, b, j) + 4 * k));
          } else {
            const __m256i lo = _mm256_and_si256(raw, m4);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
            for (int t = 0; t < nt; t++)
              for (int j = 0; j < 3; j++) {
                const __m256i xj = FN(bcast4)(XDIGIT(t, b, j) + 4 * k);
                s[hh][t][j][0] = DIGIT_ADD(s[hh][t][j][0], lo, xj);
                s[hh][t][j][1] = DIGIT_ADD(s[hh][t][j][1], hi, xj);
              }
          }
        }
      for (int hh = 0; hh < H; hh++) {
        const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + 16 * (first + hh))));
        for (int t = 0; t < nt; t++) {
          __m256i sh, sml;
          if (CODE_PLANES == 1) {
            sh = DIGIT_WIDEN(DIGIT_JOIN(s[hh][t][0][0], s[hh][t][0][1]), 0);
            sml = _mm256_add_epi32(DIGIT_WIDEN(DIGIT_JOIN(s[hh][t][1][0], s[hh][t][1][1]), 8),
                                   DIGIT_WIDEN(DIGIT_JOIN(s[hh][t][2][0], s[hh][t][2][1]), 0));
          } else {
            // Plane 1 (high nibbles) weighs 16 within its digit's place.
            sh = _mm256_add_epi32(DIGIT_WIDEN(s[hh][t][0][0], 0), DIGIT_WIDEN(s[hh][t][0][1], 4));
            sml = _mm256_add_epi32(
                _mm256_add_epi32(DIGIT_WIDEN(s[hh][t][1][0], 8), DIGIT_WIDEN(s[hh][t][1][1], 12)),
                _mm256_add_epi32(DIGIT_WIDEN(s[hh][t][2][0], 0), DIGIT_WIDEN(s[hh][t][2][1], 4)));
          }
          sh = _mm256_sub_epi32(sh, _mm256_set1_epi32(128 * XI(t, b, 3, 1)));
          sml = _mm256_sub_epi32(sml, _mm256_set1_epi32(128 * XI(t, b, 3, 2)));
          const __m256 dot =
              _mm256_fmadd_ps(_mm256_cvtepi32_ps(sh), _mm256_set1_ps(65536.0f), _mm256_cvtepi32_ps(sml));
          acc[hh][t] = _mm256_fmadd_ps(dot, _mm256_mul_ps(d, _mm256_set1_ps(XD(t, b, 3))), acc[hh][t]);
        }
      }
    }
    for (int hh = 0; hh < H; hh++)
      for (int t = 0; t < nt; t++) _mm256_storeu_ps(y + t * ystride + 8 * (first + hh), acc[hh][t]);
  }
}

// Q4_K: in sub-block s of 32 values, value = d sc_s q - dmin m_s (q 4-bit, sc and m 6-bit), so
// each sub-block is a Q4_1 block with scale d sc_s and minimum -dmin m_s: per sub-block and
// token the exact integer Σ q (256 h + l), then acc += Σ · (d sc_s · xd) and acc -= dmin m_s ·
// Σx, two fmas (d sc_s and dmin m_s are exact in float: 11-bit mantissas times 6-bit integers).
// `blocks` counts blocks of 32 values (8 per super-block).
AI __m256 FN(scale_lanes)(__m256 f, __m256i v, int k) {
  return _mm256_mul_ps(f, _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(v, 8 * k), _mm256_set1_epi32(0xFF))));
}

// One sub-block (activation block b) from its 8 chunks at `codes` (64 bytes apart), in the low
// (plane 0) or high (plane 1) nibbles, for H of the group's two 8-row halves from `first` on.
// Each half-chunk is loaded and unpacked once for all tokens; the pair of sub-blocks sharing a
// byte run loads it twice (from L1), which keeps two accumulators per token and half rather
// than four.
AI void FN(q4_K_sub)(const uint8_t *codes, int plane, int b, int H, int first, const __m256 ds[2], const __m256 dm[2],
                     int blocks, const int8_t *x, size_t xstride, int nt, __m256 acc[2][4]) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256i sh[2][4], sl[2][4];
  for (int hh = 0; hh < H; hh++)
    for (int t = 0; t < nt; t++) sh[hh][t] = sl[hh][t] = DIGIT_ZERO;
  for (int j = 0; j < 8; j++)
    for (int hh = 0; hh < H; hh++) {
      // Values 4j ..< 4j + 4 of the sub-block.
      const __m256i raw = _mm256_loadu_si256((const __m256i *)(codes + 64 * j + 32 * (first + hh)));
      const __m256i q = _mm256_and_si256(plane ? _mm256_srli_epi16(raw, 4) : raw, m4);
      for (int t = 0; t < nt; t++) {
        // Each int16 lane of sh / sl on AVX2 takes 8 pairs: ≤ 8 · 2 · 15 · 128 = 30720.
        sh[hh][t] = DIGIT_ADD(sh[hh][t], q, FN(bcast4)(XDIGIT(t, b, 0) + 4 * j));
        sl[hh][t] = DIGIT_ADD(sl[hh][t], q, FN(bcast4)(XDIGIT(t, b, 1) + 4 * j));
      }
    }
  for (int hh = 0; hh < H; hh++)
    for (int t = 0; t < nt; t++) {
      const __m256i sum = _mm256_add_epi32(DIGIT_WIDEN(sh[hh][t], 8), DIGIT_WIDEN(sl[hh][t], 0));
      acc[hh][t] =
          _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_mul_ps(ds[hh], _mm256_set1_ps(XD(t, b, 2))), acc[hh][t]);
      acc[hh][t] = _mm256_fnmadd_ps(dm[hh], _mm256_set1_ps(XSUM(t, b, 2)), acc[hh][t]);
    }
}

// A vector holds 8 of a group's 16 rows. With one token both halves go in one pass (H = 2),
// each 64-byte line read whole while in L1: streaming 640 MB on one thread of a Zen 5, 27.8 →
// 32.3 GB/s, against two passes (rows 0–7, then 8–15 from cache). Several tokens keep one half
// per pass, for the registers.
AI void FN(iq4_K)(const uint8_t *group, int blocks, const int8_t *x, size_t xstride, int nt, float *y,
                  size_t ystride) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), m6 = _mm256_set1_epi8(0x3F), top2 = _mm256_set1_epi8(0x30);
  const int H = nt == 1 ? 2 : 1;
  for (int first = 0; first < 2; first += H) {
    __m256 acc[2][4];
    for (int hh = 0; hh < H; hh++)
      for (int t = 0; t < nt; t++) acc[hh][t] = _mm256_setzero_ps();
    const uint8_t *w = group;
    for (int sb = 0; sb < blocks / 8; sb++, w += 2304) {
      __m256 ds[8][2], dm[8][2];
      for (int hh = 0; hh < H; hh++) {
        const int half = first + hh;
        const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + 16 * half)));
        const __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + 32 + 16 * half)));
        // The 8 rows' scale words, one row per 32-bit lane, unpacked as ggml's get_scale_min_k4:
        // byte k of sc[0] / mn[0] is sub-block k's scale / min, of sc[1] / mn[1] sub-block 4 + k's.
        const __m256i low = _mm256_loadu_si256((const __m256i *)(w + 64 + 32 * half));
        const __m256i high = _mm256_loadu_si256((const __m256i *)(w + 128 + 32 * half));
        const __m256i packed = _mm256_loadu_si256((const __m256i *)(w + 192 + 32 * half));
        const __m256i sc[2] = {_mm256_and_si256(low, m6),
                               _mm256_or_si256(_mm256_and_si256(packed, m4),
                                               _mm256_and_si256(_mm256_srli_epi32(low, 2), top2))};
        const __m256i mn[2] = {_mm256_and_si256(high, m6),
                               _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(packed, 4), m4),
                                               _mm256_and_si256(_mm256_srli_epi32(high, 2), top2))};
        for (int s = 0; s < 8; s++) {
          ds[s][hh] = FN(scale_lanes)(d, sc[s / 4], s % 4);
          dm[s][hh] = FN(scale_lanes)(dmin, mn[s / 4], s % 4);
        }
      }
      // Run p holds sub-block 2p in its low nibbles and 2p + 1 in its high ones.
      for (int p = 0; p < 4; p++) {
        if (first == 0)
          for (size_t pf = 0; pf < 576; pf += 64) _mm_prefetch((const char *)w + KDIST + 576 * p + pf, _MM_HINT_T0);
        const uint8_t *run = w + 256 + 512 * p;
        FN(q4_K_sub)(run, 0, 8 * sb + 2 * p, H, first, ds[2 * p], dm[2 * p], blocks, x, xstride, nt, acc);
        FN(q4_K_sub)(run, 1, 8 * sb + 2 * p + 1, H, first, ds[2 * p + 1], dm[2 * p + 1], blocks, x, xstride, nt, acc);
      }
    }
    for (int hh = 0; hh < H; hh++) FN(store8)(acc[hh], nt, y + 8 * (first + hh), ystride);
  }
}

// Q6_K: in sub-block i of 16 values, value = d sc_i (q - 32), q 6-bit (4 bits in ql, 2 in qh),
// sc_i a signed byte. Per sub-block and token the exact integer S = Σ q x - 32 Σ x over its 16
// values x = 256 h + l (|S| ≤ 16 · 32 · 32512 < 2^24, so its conversion is exact too), then
// acc += S · (d sc_i · xd). On AVX2 an int16 lane takes two vpmaddubsw of 6-bit codes (2 · 2 ·
// 63 · 128 = 32256), so each digit keeps two accumulators per sub-block. The 16-value sums Σ x
// come with the activations (XSUM16). Group layout (3360 bytes per super-block): 16 f16 d,
// the 16 scale bytes of each row as four 4-byte fields (field k: sub-blocks 4k ..< 4k + 4), then ql's 32
// and qh's 16 interleaved 4-byte chunks.

// Sub-block i = 8n + 2v + g of super-block sb: values 32v + 16g ..< 32v + 16g + 16 of the
// super-block's half n, activation block 8 sb + 4n + v. ggml's ql[l] holds values l (low
// nibble) and l + 64 (high), ql[l + 32] values l + 32 and l + 96; qh[l]'s bit pairs all four.
// v is a constant at every call, so the nibble and bit-pair selection have no branches (a loop
// over i left them to run-time tests: 2.3× slower).

// Sub-block v's 6-bit codes in one chunk from its ql chunk `lo` and qh chunk `hb`.
AI __m256i FN(q6_K_codes)(__m256i lo, __m256i hb, const int v) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), top2 = _mm256_set1_epi8(0x30);
  const __m256i nib = _mm256_and_si256(v & 2 ? _mm256_srli_epi16(lo, 4) : lo, m4);
  const __m256i top = v == 0   ? _mm256_slli_epi16(hb, 4)
                      : v == 1 ? _mm256_slli_epi16(hb, 2)
                      : v == 2 ? hb
                               : _mm256_srli_epi16(hb, 2);
  return _mm256_or_si256(nib, _mm256_and_si256(top, top2));
}

// d sc_i for the 8 rows of `half`: sub-block (n, v, g)'s signed scale byte of each row.
AI __m256 FN(q6_K_scale)(const uint8_t *w, int half, __m256 d, int n, const int v, int g) {
  const __m256i scv = _mm256_loadu_si256((const __m256i *)(w + 32 + 64 * (2 * n + v / 2) + 32 * half));
  const __m256i sc = _mm256_srai_epi32(_mm256_sll_epi32(scv, _mm_cvtsi32_si128(24 - 8 * (2 * (v % 2) + g))), 24);
  return _mm256_mul_ps(d, _mm256_cvtepi32_ps(sc));
}

// acc + Σ (q - 32)(256 h + l) · (ds · xd) over 16 values with digits h and l, codes q[4]:
// `offset` is 32 Σ q of the activations, `xd` their scale, both broadcast.
AI __m256 FN(q6_K_dot)(const __m256i q[4], __m256 ds, const int8_t *h, const int8_t *l, __m256i offset, __m256 xd,
                       __m256 acc) {
  const __m256i sh0 = DIGIT_ADD(DIGIT_ADD(DIGIT_ZERO, q[0], FN(bcast4)(h)), q[1], FN(bcast4)(h + 4));
  const __m256i sh1 = DIGIT_ADD(DIGIT_ADD(DIGIT_ZERO, q[2], FN(bcast4)(h + 8)), q[3], FN(bcast4)(h + 12));
  const __m256i sl0 = DIGIT_ADD(DIGIT_ADD(DIGIT_ZERO, q[0], FN(bcast4)(l)), q[1], FN(bcast4)(l + 4));
  const __m256i sl1 = DIGIT_ADD(DIGIT_ADD(DIGIT_ZERO, q[2], FN(bcast4)(l + 8)), q[3], FN(bcast4)(l + 12));
  __m256i s = _mm256_add_epi32(_mm256_add_epi32(DIGIT_WIDEN(sh0, 8), DIGIT_WIDEN(sh1, 8)),
                               _mm256_add_epi32(DIGIT_WIDEN(sl0, 0), DIGIT_WIDEN(sl1, 0)));
  s = _mm256_sub_epi32(s, offset);
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(ds, xd), acc);
}

AI void FN(q6_K_prefetch)(const uint8_t *w, int n, const int v, int g) {
  for (int pf = 0; pf < 256; pf += 64)
    _mm_prefetch((const char *)w + KDIST + 210 * (8 * n + 4 * g + v) + pf, _MM_HINT_T0);
}

// Several tokens, rows of one half: the four sub-blocks v of (n, g) share the qh chunks `hb`
// (loaded once per quad) and two ql runs; each chunk's codes are unpacked once for every token.
AI void FN(q6_K_sub)(const uint8_t *w, int half, __m256 d, int sb, int n, const int v, int g, const __m256i hb[4],
                     const int8_t *x, size_t xstride, int blocks, int nt, __m256 acc[4]) {
  if (half == 0) FN(q6_K_prefetch)(w, n, v, g);
  const __m256 ds = FN(q6_K_scale)(w, half, d, n, v, g);
  const uint8_t *ql = w + 288 + 64 * (16 * n + 8 * (v & 1) + 4 * g) + 32 * half;
  __m256i q[4];
  for (int k = 0; k < 4; k++) q[k] = FN(q6_K_codes)(_mm256_loadu_si256((const __m256i *)(ql + 64 * k)), hb[k], v);
  const int b = 8 * sb + 4 * n + v;
  for (int t = 0; t < nt; t++)
    acc[t] = FN(q6_K_dot)(q, ds, XDIGIT(t, b, 0) + 16 * g, XDIGIT(t, b, 1) + 16 * g,
                          _mm256_set1_epi32(32 * XSUM16(t, b, g)), _mm256_set1_ps(XD(t, b, 2)), acc[t]);
}

AI void FN(q6_K_quad)(const uint8_t *w, int half, __m256 d, int sb, int n, int g, const int8_t *x, size_t xstride,
                      int blocks, int nt, __m256 acc[4]) {
  __m256i hb[4];
  for (int k = 0; k < 4; k++)
    hb[k] = _mm256_loadu_si256((const __m256i *)(w + 2336 + 64 * (8 * n + 4 * g + k) + 32 * half));
  FN(q6_K_sub)(w, half, d, sb, n, 0, g, hb, x, xstride, blocks, nt, acc);
  FN(q6_K_sub)(w, half, d, sb, n, 1, g, hb, x, xstride, blocks, nt, acc);
  FN(q6_K_sub)(w, half, d, sb, n, 2, g, hb, x, xstride, blocks, nt, acc);
  FN(q6_K_sub)(w, half, d, sb, n, 3, g, hb, x, xstride, blocks, nt, acc);
}

// One token, both halves of sub-block (n, v, g) in one pass (as iq4), each half's codes
// unpacked where they are used.
AI void FN(q6_K_sub_one)(const uint8_t *w, const __m256 d[2], int sb, int n, const int v, int g, const int8_t *x,
                         int blocks, __m256 acc[2]) {
  FN(q6_K_prefetch)(w, n, v, g);
  const size_t xstride = 0;
  const int b = 8 * sb + 4 * n + v;
  const int8_t *h = XDIGIT(0, b, 0) + 16 * g, *l = XDIGIT(0, b, 1) + 16 * g;
  const __m256i offset = _mm256_set1_epi32(32 * XSUM16(0, b, g));
  const __m256 xd = _mm256_set1_ps(XD(0, b, 2));
  const uint8_t *ql = w + 288 + 64 * (16 * n + 8 * (v & 1) + 4 * g), *qh = w + 2336 + 64 * (8 * n + 4 * g);
  for (int half = 0; half < 2; half++) {
    __m256i q[4];
    for (int k = 0; k < 4; k++)
      q[k] = FN(q6_K_codes)(_mm256_loadu_si256((const __m256i *)(ql + 64 * k + 32 * half)),
                            _mm256_loadu_si256((const __m256i *)(qh + 64 * k + 32 * half)), v);
    acc[half] = FN(q6_K_dot)(q, FN(q6_K_scale)(w, half, d[half], n, v, g), h, l, offset, xd, acc[half]);
  }
}

// Sub-blocks in the order n, g, v (the portable loop's too), in loops that are not unrolled:
// with a super-block's sub-blocks unrolled one after another, clang hoisted every unpack and
// activation broadcast ahead and spilled them (~40 stack accesses per sub-block). One token
// reads both halves in one pass (as iq4; a variant keeping both halves' sums at once ran 20 %
// slower than two passes). From L2 on one Zen 5 thread (Scripts/bench/interleaved_stream.sh,
// MUSE_STREAM_CHUNKS=8): one token 19.6 GB/s unrolled, 27 in two passes, 34 in one (streaming
// 640 MB: 22 → 29); two tokens 11 → 21.
AI void FN(iq6_K)(const uint8_t *group, int blocks, const int8_t *x, size_t xstride, int nt, float *y,
                  size_t ystride) {
  if (nt == 1) {
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    const uint8_t *w = group;
    for (int sb = 0; sb < blocks / 8; sb++, w += 3360) {
      const __m256 d[2] = {_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)w)),
                           _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + 16)))};
#pragma clang loop unroll(disable)
      for (int ng = 0; ng < 4; ng++) {
        FN(q6_K_sub_one)(w, d, sb, ng >> 1, 0, ng & 1, x, blocks, acc);
        FN(q6_K_sub_one)(w, d, sb, ng >> 1, 1, ng & 1, x, blocks, acc);
        FN(q6_K_sub_one)(w, d, sb, ng >> 1, 2, ng & 1, x, blocks, acc);
        FN(q6_K_sub_one)(w, d, sb, ng >> 1, 3, ng & 1, x, blocks, acc);
      }
    }
    _mm256_storeu_ps(y, acc[0]);
    _mm256_storeu_ps(y + 8, acc[1]);
    return;
  }
  for (int half = 0; half < 2; half++) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    const uint8_t *w = group;
    for (int sb = 0; sb < blocks / 8; sb++, w += 3360) {
      const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + 16 * half)));
#pragma clang loop unroll(disable)
      for (int n = 0; n < 2; n++) {
        FN(q6_K_quad)(w, half, d, sb, n, 0, x, xstride, blocks, nt, acc);
        FN(q6_K_quad)(w, half, d, sb, n, 1, x, xstride, blocks, nt, acc);
      }
    }
    FN(store8)(acc, nt, y + 8 * half, ystride);
  }
}

// One specialisation per token count, so the loops over tokens unroll. Q8_0 keeps 6
// accumulators per token, so it takes tokens two at a time (the group's bytes are in cache for
// the second pair), each token with the same instructions: results do not depend on the batch.
#define DEFINE_IDOT4(fmt, q4_1)                                                                 \
  MUSE_IDOT(CAT(muse_idot_##fmt, SUFFIX)) {                                                     \
    const uint8_t *g = (const uint8_t *)w;                                                      \
    switch (ntok) {                                                                             \
    case 1: FN(iq4)(g, blocks, x, xstride, 1, y, ystride, q4_1); break;                         \
    case 2: FN(iq4)(g, blocks, x, xstride, 2, y, ystride, q4_1); break;                         \
    case 3: FN(iq4)(g, blocks, x, xstride, 3, y, ystride, q4_1); break;                         \
    default: FN(iq4)(g, blocks, x, xstride, 4, y, ystride, q4_1); break;                        \
    }                                                                                           \
  }
DEFINE_IDOT4(q4_0, 0)
DEFINE_IDOT4(q4_1, 1)

#define DEFINE_IDOT_K(fmt)                                                                      \
  MUSE_IDOT(CAT(muse_idot_##fmt, SUFFIX)) {                                                     \
    const uint8_t *g = (const uint8_t *)w;                                                      \
    switch (ntok) {                                                                             \
    case 1: FN(i##fmt)(g, blocks, x, xstride, 1, y, ystride); break;                            \
    case 2: FN(i##fmt)(g, blocks, x, xstride, 2, y, ystride); break;                            \
    case 3: FN(i##fmt)(g, blocks, x, xstride, 3, y, ystride); break;                            \
    default: FN(i##fmt)(g, blocks, x, xstride, 4, y, ystride); break;                           \
    }                                                                                           \
  }
DEFINE_IDOT_K(q4_K)
DEFINE_IDOT_K(q6_K)

MUSE_IDOT(CAT(muse_idot_q8_0, SUFFIX)) {
  const uint8_t *g = (const uint8_t *)w;
  for (int t = 0; t < ntok; t += 2) {
    const int8_t *xt = x + (size_t)t * xstride;
    float *yt = y + (size_t)t * ystride;
    if (ntok - t == 1)
      FN(iq8_0)(g, blocks, xt, xstride, 1, yt, ystride);
    else
      FN(iq8_0)(g, blocks, xt, xstride, 2, yt, ystride);
  }
}

#undef DEFINE_IDOT4
#undef DEFINE_IDOT_K
#undef KDIST
#undef FN
#undef CAT
#undef CAT_
