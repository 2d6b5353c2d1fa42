/*===- memory.c - Benchmark arrays and their values -----------------------===*\
|*                                                                            *|
|* See memory.h.                                                              *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#define _GNU_SOURCE /* madvise */
#include "memory.h"

#include <stdlib.h>
#include <sys/mman.h>

enum { kHugePage = 2 << 20 };

void *benchAllocate(size_t bytes) {
  size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  if (rounded == 0)
    rounded = kHugePage;
  void *p = aligned_alloc(kHugePage, rounded);
  if (p)
    madvise(p, rounded, MADV_HUGEPAGE);
  return p;
}

uint64_t benchSplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
