/*===- rows.h - Splitting the rows of a workload among threads ------------===*\
|*                                                                            *|
|* The rows of all tensors of a workload, in order, are one index space; a    *|
|* thread takes one contiguous share of it (as schedule(static) would), so    *|
|* one parallel region covers every tensor and each thread streams through    *|
|* contiguous memory.                                                         *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_BENCH_ROWS_H
#define CAGE_BENCH_ROWS_H

#include "workload.h"

/** Calls visit(tensor, firstRow, numRows, context) for the part of every
 * tensor that falls in share `thread` of `threads` of all rows. */
static inline void forEachRowShare(const Workload *wl, int thread, int threads,
                                   void (*visit)(const BenchTensor *, int64_t,
                                                 int64_t, const void *),
                                   const void *context) {
  int64_t total = 0;
  for (int k = 0; k < wl->count; ++k)
    total += wl->tensors[k].rows;
  int64_t begin = total * thread / threads;
  int64_t end = total * (thread + 1) / threads;
  int64_t first = 0; /* global index of the tensor's first row */
  for (int k = 0; k < wl->count && first < end; ++k) {
    const BenchTensor *t = &wl->tensors[k];
    int64_t lo = begin > first ? begin : first;
    int64_t hi = end < first + t->rows ? end : first + t->rows;
    if (lo < hi)
      visit(t, lo - first, hi - lo, context);
    first += t->rows;
  }
}

#endif /* CAGE_BENCH_ROWS_H */
