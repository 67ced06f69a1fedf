// The K-quant half of neon_kernel_test.c, included by it (one translation unit: it uses the
// generators, the splitter reference and the failure counters defined there). Checks the Q4_K
// and Q6_K 16-row kernels against scalar references written from the group layouts documented
// in Sources/MuseKernelsC/interleaved_dot.c and interleaved_dot_kernels.h, with the float
// operations of InterleavedWeights' portable loops in their order: results must be bitwise
// equal. Groups are random bytes in those layouts (d and dmin random halves, every 6-bit scale
// and minimum, signed Q6_K scales, edge codes 0/15 and 0/63 when `extreme`).
//
// There is no Double check here: run natively on x86-64 (test_neon.sh does) this compares the
// same reference with the AVX2, AVX-VNNI and AVX-512 VNNI kernels, which the Swift tests
// (IntegerKernelTests) check against a Double dot product of ggml's dequantised rows.

enum { Q4_K, Q6_K };
static const char *ktype_names[2] = {"q4_K", "q6_K"};
static const int kgroup_bytes[2] = {2304, 3360};  // per super-block of 256 values, 16 rows

/// A group of `superblocks` super-blocks in the interleaved layout, random or with edge codes.
static void make_kgroup(int type, int superblocks, int extreme, uint8_t *group) {
  for (int sb = 0; sb < superblocks; sb++) {
    uint8_t *p = group + (size_t)sb * kgroup_bytes[type];
    for (int i = 0; i < kgroup_bytes[type]; i++) p[i] = (uint8_t)below(256);
    const int halves = type == Q4_K ? 32 : 16;  // d (and Q4_K's dmin)
    for (int h = 0; h < halves; h++) {
      const uint16_t v = random_half();
      memcpy(p + 2 * h, &v, 2);
    }
    if (!extreme) continue;
    if (type == Q4_K) {
      for (int i = 256; i < 2304; i++) p[i] = (uint8_t)((below(2) ? 0x0F : 0) | (below(2) ? 0xF0 : 0));
      for (int i = 64; i < 256; i++) p[i] = below(2) ? 0xFF : 0;  // scales and minimums 63 or 0
    } else {
      for (int i = 32; i < 288; i++) p[i] = below(2) ? 0x80 : 0x7F;  // scales -128 or 127
      for (int i = 288; i < 3360; i++) p[i] = below(2) ? 0xFF : 0;    // codes 63 or 0
    }
  }
}

/// InterleavedWeights.portableDotQ4_K from the layout: per sub-block s the int32
/// Σ q (256 h + l), acc = fma(Σ, d sc_s xd, acc), acc = fma(-(dmin m_s), Σx, acc).
static void ref_dot_q4_K(const uint8_t *group, int blocks, const int8_t *x, float *y) {
  const uint8_t *tail = (const uint8_t *)x + (size_t)blocks * 64;
  for (int r = 0; r < 16; r++) {
    float acc = 0;
    for (int sb = 0; sb < blocks / 8; sb++) {
      const uint8_t *p = group + (size_t)sb * 2304;
      const float d = half_to_float(load16(p + 2 * r)), dmin = half_to_float(load16(p + 32 + 2 * r));
      const uint8_t *low = p + 64 + 4 * r, *high = p + 128 + 4 * r, *packed = p + 192 + 4 * r;
      for (int s = 0; s < 8; s++) {
        // ggml's get_scale_min_k4 on scales[12] = low, high, packed.
        const int k = s % 4;
        const int sc = s < 4 ? low[k] & 63 : (packed[k] & 15) | (low[k] >> 6) << 4;
        const int mn = s < 4 ? high[k] & 63 : (packed[k] >> 4) | (high[k] >> 6) << 4;
        const int b = 8 * sb + s;
        int32_t sh = 0, sl = 0;
        for (int j = 0; j < 8; j++)
          for (int i = 0; i < 4; i++) {
            const uint8_t byte = p[256 + 512 * (s / 2) + 64 * j + 4 * r + i];
            const int32_t code = s % 2 ? byte >> 4 : byte & 15;
            sh += code * x[b * 32 + 4 * j + i];
            sl += code * x[blocks * 32 + b * 32 + 4 * j + i];
          }
        const float dx = loadf(tail + 4 * b), sum = loadf(tail + 4 * (3 * blocks + b));
        acc = fmaf((float)(sh * 256 + sl), d * (float)sc * dx, acc);
        acc = fmaf(-(dmin * (float)mn), sum, acc);
      }
    }
    y[r] = acc;
  }
}

/// InterleavedWeights.portableDotQ6_K from the layout: sub-blocks i = 8n + 2v + g in the
/// order n, g, v; the int32 Σ (q - 32)(256 h + l), acc = fma(Σ, d sc_i xd, acc).
static void ref_dot_q6_K(const uint8_t *group, int blocks, const int8_t *x, float *y) {
  const uint8_t *tail = (const uint8_t *)x + (size_t)blocks * 64;
  for (int r = 0; r < 16; r++) {
    float acc = 0;
    for (int sb = 0; sb < blocks / 8; sb++) {
      const uint8_t *p = group + (size_t)sb * 3360;
      const float d = half_to_float(load16(p + 2 * r));
      for (int order = 0; order < 16; order++) {
        const int n = order / 8, g = (order / 4) % 2, v = order % 4, i = 8 * n + 2 * v + g;
        const int b = 8 * sb + 4 * n + v;
        const float scale = (float)(int8_t)p[32 + 64 * (i / 4) + 4 * r + i % 4];
        int32_t sum = 0;
        for (int k = 0; k < 4; k++)
          for (int e = 0; e < 4; e++) {
            const int j = 4 * g + k;
            const uint8_t low = p[288 + 64 * (16 * n + 8 * (v % 2) + j) + 4 * r + e];
            const uint8_t high = p[2336 + 64 * (8 * n + j) + 4 * r + e];
            const int32_t code = (v < 2 ? low & 15 : low >> 4) | ((high >> (2 * v)) & 3) << 4;
            const int at = b * 32 + 16 * g + 4 * k + e;
            sum += (code - 32) * (x[at] * 256 + x[blocks * 32 + at]);
          }
        acc = fmaf((float)sum, d * scale * loadf(tail + 4 * b), acc);
      }
    }
    y[r] = acc;
  }
}

/// One K-quant group of `superblocks` super-blocks against 4 tokens made by `source` (as
/// check_case), at every level and 1...4 tokens, outputs with gaps that must stay untouched.
static void check_kquant_case(const Level *levels, int nlevels, int type, int superblocks, int extreme, int source) {
  const int blocks = 8 * superblocks;
  const size_t layout = (size_t)blocks * (32 * 2 + 20);
  const size_t xstride = ((layout + 63) & ~(size_t)63) + 64;
  uint8_t *group = aligned_alloc(64, ((size_t)superblocks * kgroup_bytes[type] + 63) & ~(size_t)63);
  int8_t *x = aligned_alloc(64, 4 * xstride);
  float *floats = malloc((size_t)blocks * 32 * sizeof(float));
  make_kgroup(type, superblocks, extreme, group);
  memset(x, 0x5A, 4 * xstride);
  for (int t = 0; t < 4; t++) {
    if (source < 2) {
      make_floats(floats, blocks, 2, source == 1);
      ref_split(floats, x + t * xstride, blocks, 2);
    } else {
      make_digits(x + t * xstride, blocks, 2, source == 3);
    }
  }
  float expected[4][16];
  for (int t = 0; t < 4; t++)
    (type == Q4_K ? ref_dot_q4_K : ref_dot_q6_K)(group, blocks, x + t * xstride, expected[t]);
  const char *sources[4] = {"random floats", "exact floats", "random digits", "extreme digits"};
  char what[256];
  for (int l = 0; l < nlevels; l++) {
    snprintf(what, sizeof what, "%s %s %d super-blocks, %s codes, %s", levels[l].name, ktype_names[type], superblocks,
             extreme ? "edge" : "random", sources[source]);
    check_outputs(levels[l].kdot[type], group, blocks, x, xstride, expected, what);
  }
  free(group);
  free(x);
  free(floats);
}

/// Every K-quant case: both types, 1, 2 and 5 super-blocks, random and edge codes, 4
/// activation kinds. Returns the number of groups checked.
static int check_kquants(const Level *levels, int nlevels) {
  const int superblock_counts[] = {1, 2, 5};
  int cases = 0;
  for (int type = 0; type < 2; type++)
    for (int si = 0; si < 3; si++)
      for (int extreme = 0; extreme < 2; extreme++)
        for (int source = 0; source < 4; source++, cases++)
          check_kquant_case(levels, nlevels, type, superblock_counts[si], extreme, source);
  return cases;
}
