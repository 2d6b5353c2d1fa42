/*===- probe.c - The 4-read-3-write bandwidth probe -----------------------===*\
|*                                                                            *|
|* See probe.h.                                                               *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "probe.h"

#include "rows.h"

#include <omp.h>

static void probeRows(const BenchTensor *t, int64_t firstRow, int64_t numRows,
                      const void *context) {
  float k = *(const float *)context;
  int64_t begin = firstRow * t->cols, end = (firstRow + numRows) * t->cols;
  float *restrict w = t->w, *restrict m = t->m, *restrict v = t->v;
  const float *restrict g = t->g;
#pragma omp simd
  for (int64_t i = begin; i < end; ++i) {
    float gk = k * g[i];
    w[i] = w[i] + gk;
    m[i] = m[i] + gk;
    v[i] = v[i] + gk;
  }
}

void probeStep(const Workload *wl, float k) {
#pragma omp parallel
  forEachRowShare(wl, omp_get_thread_num(), omp_get_num_threads(), probeRows,
                  &k);
}
