// Integer dot products of quantised weight rows with int8-quantised activations (the
// ggml_vec_dot_q4_0_q8_0 family), for x86-64 AVX2 and AVX-512 VNNI, selected at run time.
//
// Why C: Swift has no per-function target attribute, so Swift code compiled for baseline
// x86-64 can only use SSE2 — no pmaddubsw (SSSE3), no 256-bit integer ops (AVX2), no vpdpbusd
// (VNNI) — and compiling the module for a newer CPU would make the binary crash elsewhere.
// Measured on the development machine (AMD Zen 4 VM, AVX-512 VNNI, 2 cores shared with other
// builds, so ±20%), one thread, a 2048 × 2048 matrix, median of 21 decode / 5 prefill calls
// (`MUSE_KERNEL_BENCH=1 swift test --filter MatMulBenchmarks`), Q4_0:
//   float activations, Swift SIMD (the kernels before)   decode 2.04 ms
//   int8 activations, Swift loops (SSE2, .portable)      decode 1.93 ms   prefill ×64 236 ms
//   int8 activations, AVX2 (below)                       decode 0.50 ms   prefill ×64  23 ms
//   int8 activations, AVX-512 VNNI (below)               decode 0.50 ms   prefill ×64  26 ms
// Q8_0: 1.19 / 1.14 / 0.43 / 0.43 ms; Q6_K: 2.17 / 5.04 / 0.36 / 0.33 ms. Swift without AVX2
// stays ~4× slower, so the inner loops are C.
// Only the inner loops live here; quantising activations, threading and dispatch are Swift.
//
// The AVX-512 level uses VNNI's vpdpbusd on 256-bit vectors (AVX-512 VL): on Zen 4 512-bit
// vectors are executed as two 256-bit halves, and one 32-value block fills a 256-bit vector.

#include "MuseKernelsC.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#include <string.h>

int muse_cpu_features(void) {
  __builtin_cpu_init();
  int features = 0;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
    features |= MUSE_CPU_AVX2;
    if (__builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vnni"))
      features |= MUSE_CPU_AVX512VNNI;
    if (__builtin_cpu_supports("avxvnni")) features |= MUSE_CPU_AVXVNNI;
  }
  return features;
}

void muse_cpu_brand(char out[49]) {
  unsigned int regs[12] = {0};
  unsigned int top = __get_cpuid_max(0x80000000u, NULL);
  if (top >= 0x80000004u)
    for (unsigned int i = 0; i < 3; i++)
      __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
  memcpy(out, regs, 48);
  out[48] = 0;
}

// AVX2: pmaddubsw sums byte pairs to int16 (|q| ≤ 63 and |x| ≤ 127 never saturate:
// 2 · 63 · 127 < 32767, and for Q8_0 2 · 128 · 127 = 32512), pmaddwd sums int16 pairs.
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#define SUFFIX avx2
#define DOT_U8S8(u, s) _mm256_madd_epi16(_mm256_maddubs_epi16((u), (s)), _mm256_set1_epi16(1))
#include "int8_dot_kernels.h"
#undef SUFFIX
#undef DOT_U8S8
#pragma clang attribute pop

// VNNI: vpdpbusd sums four byte products straight into int32, without the int16 step.
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni"))), apply_to = function)
#define SUFFIX vnni
#define DOT_U8S8(u, s) _mm256_dpbusd_epi32(_mm256_setzero_si256(), (u), (s))
#include "int8_dot_kernels.h"
#undef SUFFIX
#undef DOT_U8S8
#pragma clang attribute pop

#elif defined(__aarch64__)
// arm64: the dot product extension (sdot) for the interleaved kernels (interleaved_dot_neon.c),
// as the kernel reports it (Linux's AT_HWCAP; macOS's sysctl).
#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
#elif defined(__APPLE__)
#include <sys/sysctl.h>
#endif

int muse_cpu_features(void) {
#if defined(__linux__)
  return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) ? MUSE_CPU_NEON_DOTPROD : 0;
#elif defined(__APPLE__)
  int value = 0;
  size_t size = sizeof value;
  return sysctlbyname("hw.optional.arm.FEAT_DotProd", &value, &size, NULL, 0) == 0 && value ? MUSE_CPU_NEON_DOTPROD
                                                                                              : 0;
#else
  return 0;
#endif
}

void muse_cpu_brand(char out[49]) {
  out[0] = 0;
#if defined(__APPLE__)
  size_t size = 49;
  if (sysctlbyname("machdep.cpu.brand_string", out, &size, NULL, 0) != 0) out[0] = 0;
  out[48] = 0;
#endif
}

#else

int muse_cpu_features(void) { return 0; }
void muse_cpu_brand(char out[49]) { out[0] = 0; }

#endif
