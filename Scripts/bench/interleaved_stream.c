// Streams a large weight tensor through the AVX2 kernels on N threads, as decode (1 token) or
// prefill (4 tokens) does (tasks of 128 rows taken from a shared counter), and prints the weight
// bytes read per second: Q4_0 / Q4_1 in 16-row interleaved groups, or Q8_0 in rows (the float
// row kernel AVX2 uses for it). Built by interleaved_stream.sh against
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
static size_t rows, row_bytes;  // a 16-row group's bytes / 16 where interleaved
static const int8_t *x;         // split activations (interleaved kernels)
static const float *xf;         // float activations (row kernel)
static float *y;
static atomic_size_t next_row;
static int kind, tokens;  // kind: 0 q4_0, 1 q4_1, 2 q8_0 rows

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *stream(void *unused) {
  (void)unused;
  for (;;) {
    const size_t first = atomic_fetch_add(&next_row, TASK_ROWS);
    if (first >= rows) return NULL;
    const size_t end = first + TASK_ROWS < rows ? first + TASK_ROWS : rows;
    if (kind == 2) {
      for (size_t r = first; r < end; r++)
        muse_fdot_q8_0_avx2(weights + r * row_bytes, BLOCKS, xf, 32 * BLOCKS, tokens, y + r, rows);
      continue;
    }
    for (size_t g = first; g < end; g += 16) {
      const uint8_t *w = weights + g * row_bytes;
      const size_t xstride = (size_t)BLOCKS * (64 + 16);
      if (kind == 1)
        muse_idot_q4_1_avx2(w, BLOCKS, x, xstride, tokens, y + g, rows);
      else
        muse_idot_q4_0_avx2(w, BLOCKS, x, xstride, tokens, y + g, rows);
    }
  }
}

int main(int argc, char **argv) {
  const char *kinds[] = {"q4_0", "q4_1", "q8_0-rows"};
  kind = -1;
  for (int k = 0; argc == 5 && k < 3; k++)
    if (strcmp(argv[1], kinds[k]) == 0) kind = k;
  if (kind < 0) {
    fprintf(stderr, "usage: %s q4_0|q4_1|q8_0-rows TOKENS THREADS MEGABYTES\n", argv[0]);
    return 2;
  }
  tokens = atoi(argv[2]);
  const int threads = atoi(argv[3]);
  const size_t bytes = (size_t)atol(argv[4]) << 20;
  if (tokens < 1 || tokens > 4 || threads < 1 || threads > 64 || bytes == 0) {
    fprintf(stderr, "TOKENS must be 1...4, THREADS 1...64 and MEGABYTES positive\n");
    return 2;
  }
  const size_t block_bytes = kind == 2 ? 34 : kind == 1 ? 20 : 18;
  row_bytes = block_bytes * BLOCKS;
  rows = bytes / row_bytes / TASK_ROWS * TASK_ROWS;
  uint8_t *w = aligned_alloc(64, rows * row_bytes);
  for (size_t i = 0; i < rows * row_bytes; i++) w[i] = (uint8_t)((i * 2654435761u) >> 13);
  // f16 1.0 for every scale and minimum: a group block's 16 (Q4_0) or 32 (Q4_1) leading
  // halves, a row block's first half (Q8_0).
  const size_t unit = kind == 2 ? block_bytes : 16 * block_bytes, halves = kind == 2 ? 1 : kind == 1 ? 32 : 16;
  for (size_t b = 0; b < rows * row_bytes / unit; b++)
    for (size_t h = 0; h < halves; h++) memcpy(w + b * unit + 2 * h, &(uint16_t){0x3c00}, 2);
  int8_t *xs = aligned_alloc(64, 4 * BLOCKS * (64 + 16));
  for (int i = 0; i < 4 * BLOCKS * (64 + 16); i++) xs[i] = (int8_t)(i * 7);
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
         (double)(rows * row_bytes) / best / 1e9);
  return 0;
}
