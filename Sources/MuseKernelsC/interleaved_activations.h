// What the x86 interleaved kernels (interleaved_dot.c, interleaved_dot_kernels.h,
// interleaved_dot_kquants.c) share about split activations (SplitActivations.swift), per token:
// blocks × 32 codes per digit (h, then m for 24 bits, then l), then per block the float scale,
// int32 Σ of the top digit, int32 Σ of the lower digits' value (l, or 256 m + l), float Σ x,
// int32 Σ q over the block's first 16 values.
// The macros read `x`, `xstride` and `blocks` from the function they are used in.
#ifndef MUSE_INTERLEAVED_ACTIVATIONS_H
#define MUSE_INTERLEAVED_ACTIVATIONS_H
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

// Token t's codes of digit j for block b, and block b's tail fields with P digits.
#define XDIGIT(t, b, j) (x + (t) * xstride + (size_t)blocks * 32 * (j) + (size_t)(b) * 32)
#define XF(t, b, P, k) (((const float *)(x + (t) * xstride + (size_t)blocks * (32 * (P) + 4 * (k))))[b])
#define XI(t, b, P, k) (((const int32_t *)(x + (t) * xstride + (size_t)blocks * (32 * (P) + 4 * (k))))[b])
#define XD(t, b, P) XF(t, b, P, 0)
#define XSUM(t, b, P) XF(t, b, P, 3)

// Σ q (q = 256 h + l) over values 16g ..< 16g + 16 of block b, 16-bit activations: the tail's
// fifth field for g = 0, the block's sum less it for g = 1 (Q6_K's sub-blocks).
#define XSUM16(t, b, g)                                                                       \
  ((g) == 0 ? XI(t, b, 2, 4) : 256 * XI(t, b, 2, 1) + XI(t, b, 2, 2) - XI(t, b, 2, 4))
#endif
