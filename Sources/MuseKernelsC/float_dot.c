// Dot products of quantised weight rows with float activations (the default matmul path),
// for x86-64 AVX2 and AVX-512, selected at run time. The weights are expanded to floats in
// registers, block by block, and multiplied with the activations as they are: no activation
// rounding, so results equal the dequantise-then-dot reference up to float summation order
// (the int8 kernels in int8_dot.c are faster on paper but move logits by ~1–3 % of the largest
// on SmolLM2, see BENCHMARKS.md).
//
// Why C: the same reason as int8_dot.c — Swift compiled for baseline x86-64 has only SSE2 and
// software half-to-float, which made the Swift float kernels 3–10× slower than these.
// The AVX-512 level compiles the same 256-bit code with AVX-512 enabled, which gives the
// compiler 32 vector registers (no spills with four tokens' accumulators); Zen 4 executes
// 512-bit vectors as two 256-bit halves, so wider vectors would not add throughput there.

#include "MuseKernelsC.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#define SUFFIX avx2
#include "float_dot_kernels.h"
#undef SUFFIX
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw"))), apply_to = function)
#define SUFFIX vnni
#include "float_dot_kernels.h"
#undef SUFFIX
#pragma clang attribute pop

#endif
