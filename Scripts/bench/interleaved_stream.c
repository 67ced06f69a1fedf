// Streams a large 16-row interleaved weight tensor through one token's kernel on N threads,
// as decode does (tasks of 8 groups = 128 rows taken from a shared counter), and prints GB/s.
// Built by interleaved_stream.sh against Sources/MuseKernelsC/interleaved_dot.c; random
// codes, unit scales: only the speed is measured here, correctness is the Swift tests'.
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "MuseKernelsC.h"

enum { BLOCKS = 64, TASK_GROUPS = 8 };  // 2048 columns, 128-row tasks

static const uint8_t *weights;
static size_t groups, group_bytes;
static const int8_t *x;
static float *y;
static atomic_size_t next_group;
static int q4_1;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *stream(void *unused) {
  (void)unused;
  for (;;) {
    const size_t first = atomic_fetch_add(&next_group, TASK_GROUPS);
    if (first >= groups) return NULL;
    const size_t end = first + TASK_GROUPS < groups ? first + TASK_GROUPS : groups;
    for (size_t g = first; g < end; g++) {
      if (q4_1)
        muse_idot_q4_1_avx2(weights + g * group_bytes, BLOCKS, x, 0, 1, y + 16 * g, 0);
      else
        muse_idot_q4_0_avx2(weights + g * group_bytes, BLOCKS, x, 0, 1, y + 16 * g, 0);
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 4 || (strcmp(argv[1], "q4_0") && strcmp(argv[1], "q4_1"))) {
    fprintf(stderr, "usage: %s q4_0|q4_1 THREADS MEGABYTES\n", argv[0]);
    return 2;
  }
  q4_1 = strcmp(argv[1], "q4_1") == 0;
  const int threads = atoi(argv[2]);
  const size_t bytes = (size_t)atol(argv[3]) << 20;
  if (threads < 1 || threads > 64 || bytes == 0) {
    fprintf(stderr, "THREADS must be 1...64 and MEGABYTES positive\n");
    return 2;
  }
  const size_t block_bytes = q4_1 ? 320 : 288, header = q4_1 ? 64 : 32;
  group_bytes = block_bytes * BLOCKS;
  groups = bytes / group_bytes;
  uint8_t *w = aligned_alloc(64, groups * group_bytes);
  for (size_t i = 0; i < groups * group_bytes; i++) w[i] = (uint8_t)((i * 2654435761u) >> 13);
  for (size_t b = 0; b < groups * BLOCKS; b++)  // f16 1.0 for every scale and minimum
    for (size_t r = 0; r < header / 2; r++) ((uint16_t *)(w + b * block_bytes))[r] = 0x3c00;
  int8_t *xs = aligned_alloc(64, BLOCKS * (64 + 16));
  for (int i = 0; i < BLOCKS * (64 + 16); i++) xs[i] = (int8_t)(i * 7);
  weights = w;
  x = xs;
  y = aligned_alloc(64, groups * 16 * sizeof(float));
  double best = 1e30;
  for (int rep = 0; rep < 5; rep++) {
    atomic_store(&next_group, 0);
    pthread_t pool[64];
    const double start = now();
    for (int i = 0; i < threads; i++) pthread_create(&pool[i], NULL, stream, NULL);
    for (int i = 0; i < threads; i++) pthread_join(pool[i], NULL);
    const double t = now() - start;
    if (t < best) best = t;
  }
  printf("%s, %d thread(s), %zu MB: %.1f GB/s\n", argv[1], threads, bytes >> 20,
         (double)(groups * group_bytes) / best / 1e9);
  return 0;
}
