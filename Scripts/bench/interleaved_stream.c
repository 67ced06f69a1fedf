// Streams a large weight tensor through the AVX2 kernels on N threads, as decode (1 token) or
// prefill (4 tokens) does (tasks of 128 rows taken from a shared counter), and prints the weight
// bytes read per second: Q4_0 / Q4_1 / Q4_K / Q6_K in 16-row interleaved groups, or Q8_0 in rows
// (the float row kernel AVX2 uses for it). A small MEGABYTES (1: the tensor stays in L2) times
// the kernels' arithmetic rather than the memory. Built by interleaved_stream.sh against
// Sources/MuseKernelsC; random codes, unit scales: only the speed is measured here,
// correctness is the Swift tests'.
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "MuseKernelsC.h"

enum { BLOCKS = 64, TASK_ROWS = 128 };  // 2048 columns

static const uint8_t *weights;
static size_t rows, row_bytes, passes;  // passes: times the tensor is streamed per timing  // a 16-row group's bytes / 16 where interleaved
static const int8_t *x;         // split activations (interleaved kernels)
static const float *xf;         // float activations (row kernel)
static float *y;
static atomic_size_t next_row;
static int kind, tokens, chunks = 1;  // kind: 0 q4_0, 1 q4_1, 2 q8_0 rows, 3 q4_K, 4 q6_K
typedef void (*kernel)(const void *, int, const int8_t *, size_t, int, float *, size_t);
static kernel kernels[5] = {muse_idot_q4_0_avx2, muse_idot_q4_1_avx2, NULL, muse_idot_q4_K_avx2, muse_idot_q6_K_avx2};

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *stream(void *unused) {
  (void)unused;
  for (;;) {
    size_t first = atomic_fetch_add(&next_row, TASK_ROWS);
    if (first >= rows * passes) return NULL;
    first %= rows;
    const size_t end = first + TASK_ROWS < rows ? first + TASK_ROWS : rows;
    if (kind == 2) {
      for (size_t r = first; r < end; r++)
        muse_fdot_q8_0_avx2(weights + r * row_bytes, BLOCKS, xf, 32 * BLOCKS, tokens, y + r, rows);
      continue;
    }
    for (size_t g = first; g < end; g += 16) {
      const uint8_t *w = weights + g * row_bytes;
      const size_t xstride = (size_t)BLOCKS * (64 + 20);
      for (int c = 0; c < chunks; c++) kernels[kind](w, BLOCKS, x, xstride, tokens, y + g, rows);
    }
  }
}

int main(int argc, char **argv) {
  const char *kinds[] = {"q4_0", "q4_1", "q8_0-rows", "q4_K", "q6_K"};
  kind = -1;
  for (int k = 0; argc == 5 && k < 5; k++)
    if (strcmp(argv[1], kinds[k]) == 0) kind = k;
  if (kind < 0) {
    fprintf(stderr, "usage: %s q4_0|q4_1|q8_0-rows|q4_K|q6_K TOKENS THREADS MEGABYTES\n", argv[0]);
    return 2;
  }
  // MUSE_STREAM_LEVEL=avx512vnni: the AVX-512 VNNI kernels (16 rows per vector) instead.
  const char *level = getenv("MUSE_STREAM_LEVEL");
  if (level && strcmp(level, "avx512vnni") == 0) {
    kernels[0] = muse_idot_q4_0_vnni;
    kernels[1] = muse_idot_q4_1_vnni;
    kernels[3] = muse_idot_q4_K_vnni;
    kernels[4] = muse_idot_q6_K_vnni;
  }
  // MUSE_STREAM_CHUNKS=8: each group of rows is run 8 times while in cache, as a prefill of
  // 8 × TOKENS tokens runs it (GB/s then counts the bytes once per run).
  const char *chunk_env = getenv("MUSE_STREAM_CHUNKS");
  if (chunk_env) chunks = atoi(chunk_env) < 1 ? 1 : atoi(chunk_env);
  tokens = atoi(argv[2]);
  const int threads = atoi(argv[3]);
  const size_t bytes = (size_t)atol(argv[4]) << 20;
  if (tokens < 1 || tokens > 4 || threads < 1 || threads > 64 || bytes == 0) {
    fprintf(stderr, "TOKENS must be 1...4, THREADS 1...64 and MEGABYTES positive\n");
    return 2;
  }
  // Bytes per row and 32 values, or per row and 256 values (K-quant super-blocks).
  const size_t block_bytes = kind == 4 ? 210 : kind == 3 ? 144 : kind == 2 ? 34 : kind == 1 ? 20 : 18;
  row_bytes = block_bytes * (kind >= 3 ? BLOCKS / 8 : BLOCKS);
  rows = bytes / row_bytes / TASK_ROWS * TASK_ROWS;
  uint8_t *w = aligned_alloc(64, rows * row_bytes);
  for (size_t i = 0; i < rows * row_bytes; i++) w[i] = (uint8_t)((i * 2654435761u) >> 13);
  // f16 1.0 for every scale and minimum: a group block's 16 (Q4_0) or 32 (Q4_1) leading
  // halves, a row block's first half (Q8_0); a Q4_K group's 16 d and 16 dmin, a Q6_K one's 16 d.
  const size_t unit = kind == 2 ? block_bytes : 16 * block_bytes;
  const size_t halves = kind == 2 ? 1 : kind == 1 || kind == 3 ? 32 : 16;
  for (size_t b = 0; b < rows * row_bytes / unit; b++)
    for (size_t h = 0; h < halves; h++) memcpy(w + b * unit + 2 * h, &(uint16_t){0x3c00}, 2);
  passes = bytes < (256u << 20) ? (256u << 20) / bytes : 1;
  int8_t *xs = aligned_alloc(64, 4 * BLOCKS * (64 + 20));
  for (int i = 0; i < 4 * BLOCKS * (64 + 20); i++) xs[i] = (int8_t)(i * 7);
  float *xfs = aligned_alloc(64, 4 * 32 * BLOCKS * sizeof(float));
  for (int i = 0; i < 4 * 32 * BLOCKS; i++) xfs[i] = (float)(i % 7) - 3;
  weights = w;
  x = xs;
  xf = xfs;
  y = aligned_alloc(64, 4 * rows * sizeof(float));
  double best = 1e30;
  for (int rep = 0; rep < 5; rep++) {
    atomic_store(&next_row, 0);
    pthread_t pool[64];
    const double start = now();
    for (int i = 0; i < threads; i++) pthread_create(&pool[i], NULL, stream, NULL);
    for (int i = 0; i < threads; i++) pthread_join(pool[i], NULL);
    const double t = now() - start;
    if (t < best) best = t;
  }
  printf("%s, %d token(s), %d thread(s), %zu MB: %.1f GB/s\n", argv[1], tokens, threads, bytes >> 20,
         (double)(rows * row_bytes * passes * chunks) / best / 1e9);
  return 0;
}
