/*===- matrices.c - The operands of one configuration ---------------------===*\
|*                                                                            *|
|* See matrices.h.                                                            *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#define _DEFAULT_SOURCE /* madvise */
#include "matrices.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum { kHugePage = 2 << 20 };

/* Huge pages for both implementations alike: with 4 KiB pages the TLB
 * misses of packing a panel depend on where malloc put the array. */
static float *allocate(int64_t count) {
  size_t bytes = (size_t)count * sizeof(float);
  size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  float *p = aligned_alloc(kHugePage, rounded ? rounded : kHugePage);
  if (p) {
    madvise(p, rounded ? rounded : kHugePage, MADV_HUGEPAGE);
    memset(p, 0, rounded ? rounded : kHugePage);
  }
  return p;
}

static uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/* Fills p with values uniform in [-1, 1); returns their largest |value|. */
static float fill(float *p, int64_t count, uint64_t seed) {
  float largest = 0.0f;
  for (int64_t i = 0; i < count; ++i) {
    float u = (float)(splitmix64(seed ^ splitmix64((uint64_t)i)) >> 40);
    p[i] = u * 0x1p-23f - 1.0f;
    largest = fmaxf(largest, fabsf(p[i]));
  }
  return largest;
}

bool matricesCreate(Matrices *x, int64_t m, int64_t n, int64_t k,
                    const char *layout, uint64_t seed) {
  *x = (Matrices){.m = m, .n = n, .k = k};
  if (strlen(layout) != 2 || !strchr("NT", layout[0]) ||
      !strchr("NT", layout[1]))
    return false;
  x->transA = layout[0] == 'T';
  x->transB = layout[1] == 'T';
  x->aRows = x->transA ? k : m;
  x->aCols = x->transA ? m : k;
  x->bRows = x->transB ? n : k;
  x->bCols = x->transB ? k : n;
  x->a = allocate(m * k);
  x->b = allocate(k * n);
  x->cCage = allocate(m * n);
  x->cBlas = allocate(m * n);
  if (!x->a || !x->b || !x->cCage || !x->cBlas) {
    matricesDestroy(x);
    return false;
  }
  x->maxAbsA = fill(x->a, m * k, splitmix64(seed));
  x->maxAbsB = fill(x->b, k * n, splitmix64(seed + 1));
  return true;
}

void matricesDestroy(Matrices *x) {
  free(x->a);
  free(x->b);
  free(x->cCage);
  free(x->cBlas);
  x->a = x->b = x->cCage = x->cBlas = NULL;
}

double matricesRelativeError(const Matrices *x) {
  double largest = 0.0;
  for (int64_t i = 0; i < x->m * x->n; ++i) {
    double d = fabs((double)x->cCage[i] - (double)x->cBlas[i]);
    /* A NaN must not hide behind fmax, which ignores it. */
    if (d != d)
      return d;
    largest = d > largest ? d : largest;
  }
  double scale = (double)x->k * x->maxAbsA * x->maxAbsB;
  return scale > 0.0 ? largest / scale : largest;
}
