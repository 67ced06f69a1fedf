// Checks the 16-row interleaved kernels and the activation splitter of one architecture's C
// levels — arm64 NEON dotprod (interleaved_dot_neon.c, run under qemu-aarch64 by
// test_neon.sh) or the x86 levels the CPU has (interleaved_dot.c) — against
//   (a) scalar C references written from the layout documented at the top of
//       Sources/MuseKernelsC/interleaved_dot.c (the same arithmetic as InterleavedWeights'
//       portable loop and SplitActivations.swift): results must be bitwise equal, and
//   (b) a Double dot product of the weights dequantised from ggml's own row formats, within
//       what rounding activations to 16 / 24 bits and float summation can move it.
// Groups have odd block counts, edge codes (4-bit 0/15, Q8_0 -128/127) and edge activation
// digits (-128/127), 1...4 tokens at a token stride larger than the layout's, and outputs with
// gaps between tokens that must stay untouched. The Q4_K and Q6_K kernels: kquant_checks.h.
//
// Usage: neon_kernel_test            run every check; exit 1 on any mismatch
//        neon_kernel_test features   print muse_cpu_features() and exit
// Build with -fwrapv -ffp-contract=off (the references' int32 arithmetic wraps like Swift's &+,
// and no float operation may be fused unless written as fmaf).

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "MuseKernelsC.h"

typedef void (*idot_fn)(const void *, int, const int8_t *, size_t, int, float *, size_t);
typedef void (*split_fn)(const float *, int8_t *, int, int);
typedef struct {
  const char *name;
  idot_fn dot[3];  // Q4_0, Q4_1, Q8_0
  split_fn split;
  idot_fn kdot[2];  // Q4_K, Q6_K (kquant_checks.h)
} Level;

enum { Q4_0, Q4_1, Q8_0 };
static const char *type_names[3] = {"q4_0", "q4_1", "q8_0"};
static const int row_block_bytes[3] = {18, 20, 34};  // ggml's block_q4_0, block_q4_1, block_q8_0
static int digits_of(int type) { return type == Q8_0 ? 3 : 2; }
static double levels_of(int digits) { return digits == 3 ? 8323072.0 : 32512.0; }

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t next32(void) {  // splitmix64
  uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return (uint32_t)((z ^ (z >> 31)) >> 32);
}
static int below(int n) { return (int)(next32() % (uint32_t)n); }
static double uniform(void) { return next32() / 4294967296.0; }

/// IEEE half bits to float, exactly (subnormals included), by the definition.
static float half_to_float(uint16_t h) {
  const int sign = h >> 15, exponent = (h >> 10) & 31, mantissa = h & 1023;
  float v = exponent == 0 ? ldexpf((float)mantissa, -24) : ldexpf((float)(1024 + mantissa), exponent - 25);
  if (exponent == 31) v = mantissa ? NAN : INFINITY;
  return sign ? -v : v;
}
static uint16_t load16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static float loadf(const uint8_t *p) { float v; memcpy(&v, p, 4); return v; }
static int32_t loadi(const uint8_t *p) { int32_t v; memcpy(&v, p, 4); return v; }

/// A random scale: normal halves of either sign from 2^-9 to 2^2, now and then a subnormal.
static uint16_t random_half(void) {
  const uint16_t sign = (uint16_t)(below(2) << 15);
  if (below(16) == 0) return sign | (uint16_t)(1 + below(1023));
  return sign | (uint16_t)((6 + below(12)) << 10) | (uint16_t)below(1024);
}

// ---- Weights: 16 rows in ggml's formats, and the interleaved group the layout describes ----

/// Row r's block b in ggml's layout; `extreme` codes are only 0/15 (Q4) or -128/127 (Q8_0).
static void make_rows(int type, int blocks, int extreme, uint8_t *rows) {
  const int bb = row_block_bytes[type];
  for (int i = 0; i < 16 * blocks; i++) {
    uint8_t *p = rows + (size_t)i * bb;
    const uint16_t d = random_half(), m = random_half();
    memcpy(p, &d, 2);
    if (type == Q4_1) memcpy(p + 2, &m, 2);
    const int header = type == Q4_1 ? 4 : 2;
    for (int k = header; k < bb; k++) {
      if (type == Q8_0) p[k] = extreme ? (below(2) ? 0x80 : 0x7F) : (uint8_t)below(256);
      else p[k] = extreme ? (uint8_t)((below(2) ? 0x0F : 0) | (below(2) ? 0xF0 : 0)) : (uint8_t)below(256);
    }
  }
}

/// Row r's value c (dequantised as ggml does: Q4 low nibbles are values 0..15, high 16..31).
static double row_value(int type, const uint8_t *rows, int blocks, int r, int c) {
  const uint8_t *p = rows + ((size_t)r * blocks + c / 32) * row_block_bytes[type];
  const double d = half_to_float(load16(p));
  const int i = c % 32;
  if (type == Q8_0) return d * (int8_t)p[2 + i];
  const uint8_t *qs = p + (type == Q4_1 ? 4 : 2);
  const int q = i < 16 ? qs[i] & 15 : qs[i - 16] >> 4;
  return type == Q4_0 ? d * (q - 8) : d * q + half_to_float(load16(p + 2));
}

/// The group, from the comment in interleaved_dot.c: per block, 16 f16 d (Q4_1: then 16 f16
/// m), then chunks of 64 bytes, chunk j lane r = row r's code bytes 4j ..< 4j + 4 (Q8_0: + 128).
static void interleave(int type, const uint8_t *rows, int blocks, uint8_t *group) {
  const int bb = row_block_bytes[type], header = type == Q4_1 ? 4 : 2, gb = 16 * bb;
  for (int b = 0; b < blocks; b++)
    for (int r = 0; r < 16; r++) {
      const uint8_t *src = rows + ((size_t)r * blocks + b) * bb;
      uint8_t *out = group + (size_t)b * gb;
      memcpy(out + 2 * r, src, 2);
      if (type == Q4_1) memcpy(out + 32 + 2 * r, src + 2, 2);
      uint8_t *chunks = out + 16 * header;
      for (int j = 0; j < (bb - header) / 4; j++)
        for (int i = 0; i < 4; i++) chunks[64 * j + 4 * r + i] = (uint8_t)(src[header + 4 * j + i] ^ (type == Q8_0 ? 0x80 : 0));
    }
}

// ---- Activations ----

/// SplitActivations.swift's quantiser, one value at a time (its rounding tricks included).
static void ref_split(const float *x, int8_t *dst, int blocks, int digits) {
  uint8_t *tail = (uint8_t *)dst + (size_t)blocks * 32 * digits;
  const double levels = levels_of(digits);
  for (int b = 0; b < blocks; b++) {
    float amax = 0;
    for (int c = 0; c < 32; c++) amax = fmaxf(amax, fabsf(x[32 * b + c]));
    const double scale = amax < MUSE_SPLIT_NEGLIGIBLE ? 0 : levels / (double)amax;
    int32_t sum_top = 0, sum_rest = 0, sum = 0, first_half = 0;
    for (int c = 0; c < 32; c++) {
      int32_t q;
      if (digits == 2) {
        const float product = x[32 * b + c] * (float)scale;
        const float r = product + 12582912.0f;
        uint32_t bits;
        memcpy(&bits, &r, 4);
        q = (int32_t)(bits - 0x4B400000u);
      } else {
        const double product = (double)x[32 * b + c] * scale;
        const double r = product + 6755399441055744.0;
        uint64_t bits;
        memcpy(&bits, &r, 8);
        q = (int32_t)(uint32_t)bits;
      }
      int32_t rest = q, place = 1, lower = 0;
      for (int j = digits - 1; j > 0; j--) {
        const int32_t up = (rest + 128) >> 8, digit = rest - up * 256;
        dst[((size_t)j * blocks + b) * 32 + c] = (int8_t)digit;
        lower += digit * place;
        place *= 256;
        rest = up;
      }
      dst[(size_t)b * 32 + c] = (int8_t)rest;
      sum_top += rest;
      sum_rest += lower;
      sum += q;
      if (c < 16) first_half += q;
    }
    const float d = (float)((double)amax / levels), xsum = (float)((double)sum * (double)d);
    memcpy(tail + 4 * b, &d, 4);
    memcpy(tail + 4 * (blocks + b), &sum_top, 4);
    memcpy(tail + 4 * (2 * blocks + b), &sum_rest, 4);
    memcpy(tail + 4 * (3 * blocks + b), &xsum, 4);
    memcpy(tail + 4 * (4 * blocks + b), &first_half, 4);
  }
}

/// Floats for one token: per block random magnitudes, a zero block, an outlier, a negative
/// maximum, tiny values; or (`exact`) integers with max |x| = L, so each q is the integer and
/// the digits include 127, -128 and ±127 on top.
static void make_floats(float *x, int blocks, int digits, int exact) {
  const int32_t L = (int32_t)levels_of(digits);
  for (int b = 0; b < blocks; b++) {
    float *v = x + 32 * b;
    const int kind = exact ? 5 : below(5);
    const double magnitude = kind == 3 ? 1e-30 : pow(10.0, uniform() * 6 - 3);
    for (int c = 0; c < 32; c++) v[c] = (float)((uniform() * 2 - 1) * magnitude);
    if (kind == 1) memset(v, 0, 32 * sizeof(float));
    if (kind == 2) v[below(32)] = (float)(magnitude * 300);
    if (kind == 4) v[below(32)] = (float)(-magnitude * 2);
    if (kind == 5) {
      const int32_t edges[] = {L, -L, 128, -128, 127, -127, 128 + 256 * 5, 127 - 256 * 9, 32768, -32768, 0};
      for (int c = 0; c < 32; c++) {
        const int32_t q = below(2) ? edges[below(11)] : (int32_t)(below(2 * L + 1) - L);
        v[c] = (float)(digits == 2 && (q == 32768 || q == -32768) ? q / 2 : q);
      }
      v[below(32)] = below(2) ? (float)L : (float)-L;
    }
  }
}

/// Digits straight from the generator (every byte -128 or 127 when `extreme`), with the sums
/// the splitter would store for them and a random positive scale.
static void make_digits(int8_t *dst, int blocks, int digits, int extreme) {
  uint8_t *tail = (uint8_t *)dst + (size_t)blocks * 32 * digits;
  for (int i = 0; i < blocks * 32 * digits; i++) dst[i] = extreme ? (below(2) ? 127 : -128) : (int8_t)below(256);
  for (int b = 0; b < blocks; b++) {
    int32_t sum_top = 0, sum_rest = 0, first_half = 0;
    for (int c = 0; c < 32; c++) {
      int32_t rest = 0;
      for (int j = 1; j < digits; j++) rest += dst[((size_t)j * blocks + b) * 32 + c] * (j == digits - 1 ? 1 : 256);
      sum_top += dst[32 * b + c];
      sum_rest += rest;
      if (c < 16) first_half += dst[32 * b + c] * (digits == 3 ? 65536 : 256) + rest;
    }
    const int32_t sum = sum_top * (digits == 3 ? 65536 : 256) + sum_rest;
    const float d = (float)(uniform() * 1e-3 + 1e-6), xsum = (float)((double)sum * (double)d);
    memcpy(tail + 4 * b, &d, 4);
    memcpy(tail + 4 * (blocks + b), &sum_top, 4);
    memcpy(tail + 4 * (2 * blocks + b), &sum_rest, 4);
    memcpy(tail + 4 * (3 * blocks + b), &xsum, 4);
    memcpy(tail + 4 * (4 * blocks + b), &first_half, 4);
  }
}

/// The integer q of activation c: its digits in base 256.
static double digit_code(const int8_t *x, int blocks, int digits, int c) {
  double q = 0;
  for (int j = 0; j < digits; j++) q = q * 256 + x[(size_t)j * blocks * 32 + c];
  return q;
}

/// The value token activations stand for: q · d.
static double digit_value(const int8_t *x, int blocks, int digits, int c) {
  return digit_code(x, blocks, digits, c) * loadf((const uint8_t *)x + (size_t)blocks * 32 * digits + 4 * (c / 32));
}

/// Row r's integer code c as the kernels multiply it (Q4_0: q - 8).
static double row_code(int type, const uint8_t *rows, int blocks, int r, int c) {
  const uint8_t *p = rows + ((size_t)r * blocks + c / 32) * row_block_bytes[type];
  const int i = c % 32;
  if (type == Q8_0) return (int8_t)p[2 + i];
  const uint8_t *qs = p + (type == Q4_1 ? 4 : 2);
  const int q = i < 16 ? qs[i] & 15 : qs[i - 16] >> 4;
  return type == Q4_0 ? q - 8 : q;
}

// ---- References ----

/// InterleavedWeights.portableDot, reading the group by the documented layout: int32 sums of
/// code × digit (Q8_0's stored code u = q + 128, its offset taken off with the stored sums),
/// then the same float operations in the same order.
static void ref_dot(int type, const uint8_t *group, int blocks, const int8_t *x, float *y) {
  const int gb = 16 * row_block_bytes[type], chunks_at = type == Q4_1 ? 64 : 32, digits = digits_of(type);
  const int32_t offset = type == Q4_0 ? 8 : type == Q8_0 ? 128 : 0;
  const uint8_t *tail = (const uint8_t *)x + (size_t)blocks * 32 * digits;
  float acc[16] = {0};
  for (int b = 0; b < blocks; b++) {
    const uint8_t *p = group + (size_t)b * gb;
    const float dx = loadf(tail + 4 * b), sum = loadf(tail + 4 * (3 * blocks + b));
    const int32_t sum_top = loadi(tail + 4 * (blocks + b)), sum_rest = loadi(tail + 4 * (2 * blocks + b));
    for (int r = 0; r < 16; r++) {
      int32_t s0 = 0, s1 = 0, s2 = 0;
      for (int k = 0; k < 8; k++)
        for (int i = 0; i < 4; i++) {
          int32_t code;
          if (type == Q8_0) code = p[chunks_at + 64 * k + 4 * r + i];
          else {
            const uint8_t byte = p[chunks_at + 64 * (k % 4) + 4 * r + i];
            code = k < 4 ? byte & 15 : byte >> 4;
          }
          const int at = b * 32 + 4 * k + i;
          s0 += code * x[at];
          s1 += code * x[blocks * 32 + at];
          if (digits == 3) s2 += code * x[blocks * 64 + at];
        }
      float s;
      if (digits == 3) {
        const int32_t top = s0 - offset * sum_top, lower = s1 * 256 + s2 - offset * sum_rest;
        s = fmaf((float)top, 65536.0f, (float)lower);
      } else {
        s = (float)(s0 * 256 + s1 - offset * (256 * sum_top + sum_rest));
      }
      const float d = half_to_float(load16(p + 2 * r));
      acc[r] = fmaf(s, d * dx, acc[r]);
      if (type == Q4_1) acc[r] = fmaf(half_to_float(load16(p + 32 + 2 * r)), sum, acc[r]);
    }
  }
  memcpy(y, acc, sizeof acc);
}

// ---- The checks ----

static long failures, kernel_calls, outputs_checked, splits_checked;

static void fail(const char *what) {
  if (++failures <= 20) fprintf(stderr, "FAIL %s\n", what);
}

#define SENTINEL 0x7FC0DEADu

/// `dot` on 1...4 tokens of x must write exactly `expected` (bitwise), token t at y + 21 t,
/// and leave the 5 floats after each token's 16 untouched; `label` names the case.
static void check_outputs(idot_fn dot, const uint8_t *group, int blocks, const int8_t *x, size_t xstride,
                          float expected[4][16], const char *label) {
  char what[384];
  for (int n = 1; n <= 4; n++) {
    enum { YSTRIDE = 21 };  // 16 outputs and a gap of 5 per token
    uint32_t y[4 * YSTRIDE];
    for (int i = 0; i < 4 * YSTRIDE; i++) y[i] = SENTINEL;
    dot(group, blocks, x, xstride, n, (float *)y, YSTRIDE);
    kernel_calls++;
    for (int t = 0; t < 4; t++)
      for (int i = 0; i < YSTRIDE; i++) {
        uint32_t want = SENTINEL;
        if (t < n && i < 16) memcpy(&want, &expected[t][i], 4);
        outputs_checked += t < n && i < 16;
        if (y[t * YSTRIDE + i] != want) {
          float got;
          memcpy(&got, &y[t * YSTRIDE + i], 4);
          snprintf(what, sizeof what, "%s, %d tokens: y[%d][%d] = %.9g (0x%08x), want 0x%08x", label, n, t, i, got,
                   y[t * YSTRIDE + i], want);
          fail(what);
        }
      }
  }
}

/// One group of `type`, `blocks` blocks, against 4 tokens made by `source` (0: random floats,
/// 1: exact floats, 2: random digits, 3: extreme digits), at every level and 1...4 tokens.
static void check_case(const Level *levels, int nlevels, int type, int blocks, int extreme_weights, int source) {
  const int digits = digits_of(type), bb = row_block_bytes[type];
  const size_t layout = (size_t)blocks * (32 * digits + 20);
  const size_t xstride = ((layout + 63) & ~(size_t)63) + 64;  // larger than the layout needs
  uint8_t *rows = malloc((size_t)16 * blocks * bb), *group = aligned_alloc(64, ((size_t)16 * blocks * bb + 63) & ~(size_t)63);
  int8_t *x = aligned_alloc(64, 4 * xstride), *split = aligned_alloc(64, xstride);
  float *floats = malloc(4 * (size_t)blocks * 32 * sizeof(float));
  make_rows(type, blocks, extreme_weights, rows);
  interleave(type, rows, blocks, group);
  memset(x, 0x5A, 4 * xstride);
  for (int t = 0; t < 4; t++) {
    if (source < 2) {
      make_floats(floats + (size_t)t * blocks * 32, blocks, digits, source == 1);
      ref_split(floats + (size_t)t * blocks * 32, x + t * xstride, blocks, digits);
    } else {
      make_digits(x + t * xstride, blocks, digits, source == 3);
    }
  }
  char what[256];
  const char *sources[4] = {"random floats", "exact floats", "random digits", "extreme digits"};
  // (a) the scalar reference, and (b) the Double one within its bound.
  float expected[4][16];
  for (int t = 0; t < 4; t++) {
    ref_dot(type, group, blocks, x + t * xstride, expected[t]);
    const double levels_d = levels_of(digits);
    for (int r = 0; r < 16; r++) {
      double exact = 0, magnitude = 0, rounding = 0, subnormal = 0;
      for (int b = 0; b < blocks; b++) {
        double amax = 0, block_weight = 0, block_codes = 0;
        for (int c = 32 * b; c < 32 * b + 32; c++) {
          block_codes += fabs(row_code(type, rows, blocks, r, c) * digit_code(x + t * xstride, blocks, digits, c));
          const double w = row_value(type, rows, blocks, r, c), xq = digit_value(x + t * xstride, blocks, digits, c);
          const double xv = source < 2 ? floats[(size_t)t * blocks * 32 + c] : xq;
          exact += w * xv;
          const double m = type == Q4_1 ? fabs(half_to_float(load16(rows + ((size_t)r * blocks + b) * bb + 2))) : 0;
          magnitude += (fabs(w) + 2 * m) * fmax(fabs(xv), fabs(xq));
          block_weight += fabs(w);
          if (source < 2) amax = fmax(amax, fabs(xv));
        }
        // Quantising x: |q d - x| ≤ d (1/2 + 2^-23 · L), d = max / L: the second term is the
        // float rounding of the stored d (times q ≤ L) and, at 16 bits, of the scale and product.
        rounding += block_weight * (amax / levels_d) * (0.5 + levels_d * 0x1p-23);
        // A block below MUSE_SPLIT_NEGLIGIBLE is split as zeros: all of it is the error.
        if (amax < MUSE_SPLIT_NEGLIGIBLE) rounding += block_weight * amax;
        // Where d · dx (or Q4_1's Σx) is subnormal its rounding is absolute, up to 2^-150,
        // times the integer sum (or m ≤ 4); so are the fmas' results.
        subnormal += (block_codes + 8) * 0x1p-149;
      }
      // Float summation: each block's term to a few ulps, each of 2 · blocks fmas to one ulp
      // of the running sum.
      const double bound = rounding + (2.0 * blocks + 16) * 0x1p-24 * magnitude + subnormal;
      const double got = expected[t][r];
      if (!(fabs(got - exact) <= bound)) {
        snprintf(what, sizeof what, "reference vs Double: %s %d blocks, %s, token %d row %d: %.9g vs %.9g (bound %.3g)",
                 type_names[type], blocks, sources[source], t, r, got, exact, bound);
        fail(what);
      }
    }
  }
  for (int l = 0; l < nlevels; l++) {
    const Level *level = &levels[l];
    if (source < 2)
      for (int t = 0; t < 4; t++) {
        memset(split, 0x5A, xstride);
        level->split(floats + (size_t)t * blocks * 32, split, blocks, digits);
        splits_checked++;
        if (memcmp(split, x + t * xstride, layout) != 0) {
          snprintf(what, sizeof what, "%s splitter: %s %d blocks, %s, token %d: bytes differ from the reference",
                   level->name, type_names[type], blocks, sources[source], t);
          fail(what);
        }
      }
    snprintf(what, sizeof what, "%s %s %d blocks, %s weights, %s", level->name, type_names[type], blocks,
             extreme_weights ? "extreme" : "random", sources[source]);
    check_outputs(level->dot[type], group, blocks, x, xstride, expected, what);
  }
  free(rows);
  free(group);
  free(x);
  free(split);
  free(floats);
}

#include "kquant_checks.h"

int main(int argc, char **argv) {
  const int features = muse_cpu_features();
  if (argc > 1 && strcmp(argv[1], "features") == 0) {
    printf("%d\n", features);
    return 0;
  }
  Level levels[3];
  int nlevels = 0;
#if defined(__aarch64__)
  if (!(features & MUSE_CPU_NEON_DOTPROD)) {
    fprintf(stderr, "FAIL this CPU has no dotprod (muse_cpu_features = %d); run under qemu-aarch64 -cpu max\n", features);
    return 1;
  }
  levels[nlevels++] = (Level){"neon", {muse_idot_q4_0_neon, muse_idot_q4_1_neon, muse_idot_q8_0_neon},
                              muse_split_activations_neon, {muse_idot_q4_K_neon, muse_idot_q6_K_neon}};
#elif defined(__x86_64__)
  if (features & MUSE_CPU_AVX2)
    levels[nlevels++] = (Level){"avx2", {muse_idot_q4_0_avx2, muse_idot_q4_1_avx2, muse_idot_q8_0_avx2},
                                muse_split_activations_avx2, {muse_idot_q4_K_avx2, muse_idot_q6_K_avx2}};
  if (features & MUSE_CPU_AVXVNNI)
    levels[nlevels++] = (Level){"avxvnni", {muse_idot_q4_0_avxvnni, muse_idot_q4_1_avxvnni, muse_idot_q8_0_avxvnni},
                                muse_split_activations_avx2, {muse_idot_q4_K_avxvnni, muse_idot_q6_K_avxvnni}};
  if (features & MUSE_CPU_AVX512VNNI)
    levels[nlevels++] = (Level){"avx512vnni", {muse_idot_q4_0_vnni, muse_idot_q4_1_vnni, muse_idot_q8_0_vnni},
                                muse_split_activations_vnni, {muse_idot_q4_K_vnni, muse_idot_q6_K_vnni}};
#endif
  if (nlevels == 0) {
    fprintf(stderr, "FAIL no level with interleaved kernels on this CPU (features %d)\n", features);
    return 1;
  }
  const int block_counts[] = {1, 3, 5, 7, 33};
  int cases = 0;
  for (int type = 0; type < 3; type++)
    for (int bi = 0; bi < 5; bi++)
      for (int extreme = 0; extreme < 2; extreme++)
        for (int source = 0; source < 4; source++, cases++)
          check_case(levels, nlevels, type, block_counts[bi], extreme, source);
  const int kcases = check_kquants(levels, nlevels);
  for (int l = 0; l < nlevels; l++) printf("%s%s", l ? ", " : "levels: ", levels[l].name);
  printf("\n%d groups (Q4_0, Q4_1, Q8_0; 1, 3, 5, 7, 33 blocks; random and edge codes; 4 activation kinds) and "
         "%d K-quant groups (Q4_K, Q6_K; 1, 2, 5 super-blocks), "
         "%ld kernel calls of 1...4 tokens, %ld outputs bitwise checked, %ld splitter outputs byte-compared\n",
         cases, kcases, kernel_calls, outputs_checked, splits_checked);
  if (failures) {
    printf("%ld FAILURES\n", failures);
    return 1;
  }
  printf("all equal to the scalar references (Q4_0, Q4_1, Q8_0: within the Double bound too)\n");
  return 0;
}
