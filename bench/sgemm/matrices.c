/*===- matrices.c - The operands of one configuration ---------------------===*\
|*                                                                            *|
|* See matrices.h.                                                            *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "matrices.h"

#include "memory.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Huge pages for both implementations alike: with 4 KiB pages the TLB
 * misses of packing a panel depend on where malloc put the array. Zeroed,
 * so that the pages are in before anything is timed. */
static float *allocate(int64_t count) {
  size_t bytes = (size_t)count * sizeof(float);
  float *p = benchAllocate(bytes);
  if (p)
    memset(p, 0, bytes);
  return p;
}

/* Fills p with values uniform in [-1, 1); returns their largest |value|. */
static float fill(float *p, int64_t count, uint64_t seed) {
  float largest = 0.0f;
  for (int64_t i = 0; i < count; ++i) {
    float u =
        (float)(benchSplitMix64(seed ^ benchSplitMix64((uint64_t)i)) >> 40);
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
  x->maxAbsA = fill(x->a, m * k, benchSplitMix64(seed));
  x->maxAbsB = fill(x->b, k * n, benchSplitMix64(seed + 1));
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
