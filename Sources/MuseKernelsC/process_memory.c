// glibc returns freed memory at the top of the heap to the system once more than 128 KB is
// free there, and serves blocks of 128 KB and up with fresh mmaps (thresholds that adapt, but
// to the largest block freed so far). A batched step allocates and frees a few MB of logits
// and activations, so each step faulted its pages in again: ~15 % of `muse bench --batch 8`'s
// decode. Keeping up to 256 MB free in the process and serving blocks under 64 MB from the
// heap costs no more memory than the steps already use.

#include "MuseKernelsC.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

void muse_keep_freed_memory(void) {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}
