// Integer dot-product inner loops for x86-64 AVX2 and AVX-512 VNNI (and the interleaved ones
// for arm64 NEON), chosen at run time by MuseKernels (KernelDispatch.swift). Everything else — quantising activations, threading,
// dispatch, the portable fallback — is Swift. See int8_dot.c for why this target exists.
#ifndef MUSE_KERNELS_C_H
#define MUSE_KERNELS_C_H

#include <stddef.h>
#include <stdint.h>

/// The instruction sets this CPU (and its operating system) offers, as MUSE_CPU_* bits; the
/// VNNI bits only alongside MUSE_CPU_AVX2.
int muse_cpu_features(void);
#define MUSE_CPU_AVX2 1       /* AVX2 + FMA + F16C */
#define MUSE_CPU_AVX512VNNI 2 /* AVX-512 VL/BW/VNNI's vpdpbusd */
#define MUSE_CPU_AVXVNNI 4    /* AVX-VNNI: the VEX (256-bit) vpdpbusd of Alder Lake, Sapphire Rapids, Zen 5 */
#define MUSE_CPU_NEON_DOTPROD 8 /* arm64: NEON with the dot product extension (FEAT_DotProd, sdot) */
/// The CPU's brand string (cpuid leaves 0x80000002–4, macOS's machdep.cpu.brand_string; empty
/// where there is none).
void muse_cpu_brand(char out[49]);

// One weight row (`blocks` blocks of the format) against `ntok` (1...4) quantised activation
// rows: row t starts at x + t * xstride and holds blocks32 × 32 int8 codes, then blocks32
// float scales, then blocks32 int32 code sums (QuantizedActivations.swift). The dot for token t
// is written to y[t * ystride].
#define MUSE_DOT(name)                                                                         \
  void name(const void *w, int blocks, const int8_t *x, size_t xstride, int ntok, float *y,   \
            size_t ystride)

MUSE_DOT(muse_dot_q8_0_avx2);
MUSE_DOT(muse_dot_q4_0_avx2);
MUSE_DOT(muse_dot_q4_1_avx2);
MUSE_DOT(muse_dot_q4_K_avx2);
MUSE_DOT(muse_dot_q6_K_avx2);
MUSE_DOT(muse_dot_q8_0_vnni);
MUSE_DOT(muse_dot_q4_0_vnni);
MUSE_DOT(muse_dot_q4_1_vnni);
MUSE_DOT(muse_dot_q4_K_vnni);
MUSE_DOT(muse_dot_q6_K_vnni);

// One weight row (`blocks` blocks of the format) against `ntok` (1...4) float activation rows:
// row t starts at x + t * xstride (in floats). The dot for token t is written to y[t * ystride].
// A token's result does not depend on ntok or its place among the ntok (float_dot.c).
#define MUSE_FDOT(name)                                                                        \
  void name(const void *w, int blocks, const float *x, size_t xstride, int ntok, float *y,    \
            size_t ystride)

MUSE_FDOT(muse_fdot_q8_0_avx2);
MUSE_FDOT(muse_fdot_q4_0_avx2);
MUSE_FDOT(muse_fdot_q4_1_avx2);
MUSE_FDOT(muse_fdot_q4_K_avx2);
MUSE_FDOT(muse_fdot_q6_K_avx2);
MUSE_FDOT(muse_fdot_q8_0_vnni);
MUSE_FDOT(muse_fdot_q4_0_vnni);
MUSE_FDOT(muse_fdot_q4_1_vnni);
MUSE_FDOT(muse_fdot_q4_K_vnni);
MUSE_FDOT(muse_fdot_q6_K_vnni);

// F32 weight rows times F32 tokens (float_gemm.c): rows r < `rows` of w (row r at w + r * wstride)
// against tokens t < `tokens` of x (token t at x + t * xstride), `columns` values each (any
// count); the dot is written to y[t * ystride + r]. Every output gets the same instructions
// whatever the shape of the call, and both levels give the same bits.
#define MUSE_SGEMM_NAME(level) muse_sgemm_##level
#define MUSE_SGEMM(level)                                                                      \
  void MUSE_SGEMM_NAME(level)(const float *w, size_t wstride, int rows, const float *x,       \
                              size_t xstride, int tokens, int columns, float *y, size_t ystride)
MUSE_SGEMM(avx2);
MUSE_SGEMM(vnni);

// Sixteen interleaved weight rows (`blocks` blocks, InterleavedWeights.swift) against `ntok`
// (1...4) tokens of 16-bit split activations (SplitActivations.swift), token t at
// x + t * xstride; row i's dot for token t is written to y[t * ystride + i]. AVX-512 VNNI,
// AVX-VNNI (VEX, 256-bit) and AVX2; all give the same bits (see interleaved_dot.c).
#define MUSE_IDOT(name)                                                                        \
  void name(const void *w, int blocks, const int8_t *x, size_t xstride, int ntok, float *y,   \
            size_t ystride)

MUSE_IDOT(muse_idot_q4_0_vnni);
MUSE_IDOT(muse_idot_q4_1_vnni);
MUSE_IDOT(muse_idot_q8_0_vnni);
MUSE_IDOT(muse_idot_q4_0_avxvnni);
MUSE_IDOT(muse_idot_q4_1_avxvnni);
MUSE_IDOT(muse_idot_q8_0_avxvnni);
MUSE_IDOT(muse_idot_q4_0_avx2);
MUSE_IDOT(muse_idot_q4_1_avx2);
MUSE_IDOT(muse_idot_q8_0_avx2);
/// Q4_K: `blocks` counts blocks of 32 values (8 per super-block), as the activations do.
MUSE_IDOT(muse_idot_q4_K_avxvnni);
MUSE_IDOT(muse_idot_q4_K_avx2);
/// Q6_K: likewise (blocks of 32 values, 8 per super-block).
MUSE_IDOT(muse_idot_q6_K_avxvnni);
MUSE_IDOT(muse_idot_q6_K_avx2);
/// Q4_K and Q6_K with AVX-512 VNNI (interleaved_dot_kquants.c).
MUSE_IDOT(muse_idot_q4_K_vnni);
MUSE_IDOT(muse_idot_q6_K_vnni);
/// SplitActivations' quantiser (`digits` 2 or 3) for one token of `blocks` × 32 floats.
// A block whose largest |x| is below this is split as zeros: its scale L / max|x| would
// overflow a float (16-bit digits need max|x| ≥ 32512 / FLT_MAX ≈ 9.6e-35), and what it could add
// to a dot product is below 32 · 1e-30 · max|w|. SplitActivations.negligible is the same.
#define MUSE_SPLIT_NEGLIGIBLE 1e-30f
void muse_split_activations_vnni(const float *x, int8_t *dst, int blocks, int digits);
void muse_split_activations_avx2(const float *x, int8_t *dst, int blocks, int digits);
#if defined(__aarch64__)
// The same kernels and quantiser for arm64 NEON with the dot product extension
// (interleaved_dot_neon.c); callable only where muse_cpu_features has MUSE_CPU_NEON_DOTPROD.
MUSE_IDOT(muse_idot_q4_0_neon);
MUSE_IDOT(muse_idot_q4_1_neon);
MUSE_IDOT(muse_idot_q8_0_neon);
MUSE_IDOT(muse_idot_q4_K_neon);
MUSE_IDOT(muse_idot_q6_K_neon);
void muse_split_activations_neon(const float *x, int8_t *dst, int blocks, int digits);
#endif

/// Most query heads one `muse_attend_*` call takes (the caller splits larger groups).
#define MUSE_ATTEND_MAX_HEADS 16

// Attention over cached rows (attention.c): `heads` query heads of `dim` values at q (one after
// another) that share a key/value head, over positions first...last of a sequence whose cache
// is in blocks of `block_size` positions of f32 or (f16 ≠ 0) f16 elements. Block b's keys of the
// head start `koffset` elements into kblocks[b], in tiles of 16 positions each [dim × 16]
// (position fastest); its values `voffset` elements into vblocks[b], [block_size × vdim].
// sinks: one logit per head that joins the softmax's denominator, or NULL. Writes heads × vdim
// floats to out.
#define MUSE_ATTEND(level)                                                                      \
  void muse_attend_##level(const float *q, int heads, int dim, int vdim, const void *const *kblocks, \
                           const void *const *vblocks, size_t koffset, size_t voffset,           \
                           int block_size, int first, int last, float scale, const float *sinks, \
                           float *out, int f16)
MUSE_ATTEND(avx2);
MUSE_ATTEND(vnni);
/// n floats from src into a KV cache at dst, every `stride` elements, as f16 (f16 ≠ 0, round
/// to nearest even) or f32. Needs F16C (the AVX2 level).
void muse_kv_store_f16c(const float *src, void *dst, int n, long stride, int f16);

/// out[i] = exp(x[i] - shift) for i < n (0 below e^-87), returning Σ out[i] (exp.c, AVX-512F).
double muse_exp_shifted_vnni(const float *x, float shift, float *out, long n);

// process_memory.c: keep freed memory in the process instead of giving it back each step.
void muse_keep_freed_memory(void);
void muse_swiglu_vnni(float *gate, const float *up, long n);
double muse_exp_shifted_avx2(const float *x, float shift, float *out, long n);
void muse_swiglu_avx2(float *gate, const float *up, long n);

/// x[i] = 0.5 x[i] (1 + erf(x[i] / √2)) for i < n, the exact GELU (gelu.c, AVX2 + FMA).
void muse_gelu_erf_avx2(float *x, long n);

/// Asks for `bytes` bytes at `p` to be brought into cache ahead of use: attention's next tile
/// of cached rows (a 4 KB run per head the hardware prefetcher meets too late to follow).
static inline void muse_prefetch(const void *p, long bytes) {
  for (long i = 0; i < bytes; i += 64) __builtin_prefetch((const char *)p + i, 0, 3);
}

// Atomic load/store and a spin-wait hint for ThreadPool's spin-then-sleep wait (Swift's
// Synchronization module needs macOS 15; the package supports macOS 14).
static inline long muse_atomic_load(const long *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void muse_atomic_store(long *p, long v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline void muse_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

#endif
