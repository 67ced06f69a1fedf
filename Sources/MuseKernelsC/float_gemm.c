// F32 weights × F32 activations, several rows by several tokens per step (a register-tiled
// GEMM): each weight vector loaded is used for every token of the tile and each activation
// vector for every row, instead of one dot product per (row, token) that reloads both. The
// BERT encoder of the moderation rail and the embeddings route (all-MiniLM-L6-v2 ships F32
// weights) spend nearly all their time here; one dot per token reached ~12 GFLOP/s.
//
// Why C: as float_dot.c — Swift compiled for baseline x86-64 has only SSE2 and no FMA.
// The AVX-512 level compiles the same 256-bit code with AVX-512 enabled, which gives it 32
// vector registers and so a larger tile (6 rows × 4 tokens of accumulators instead of 4 × 3);
// the per-output arithmetic is unchanged, so both levels give the same bits.

#include "MuseKernelsC.h"

#if defined(__x86_64__)
#include <immintrin.h>

// 4 × 3 accumulators + 3 activation vectors + 1 weight vector = 16 registers.
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define SUFFIX avx2
#define TILE_ROWS 4
#define TILE_TOKENS 3
#include "float_gemm_kernels.h"
#undef SUFFIX
#undef TILE_ROWS
#undef TILE_TOKENS
#pragma clang attribute pop

// 6 × 4 accumulators + 4 + 1 = 29 of AVX-512's 32 registers.
#pragma clang attribute push(__attribute__((target("avx2,fma,avx512f,avx512vl"))), apply_to = function)
#define SUFFIX vnni
#define TILE_ROWS 6
#define TILE_TOKENS 4
#include "float_gemm_kernels.h"
#undef SUFFIX
#undef TILE_ROWS
#undef TILE_TOKENS
#pragma clang attribute pop

#endif
