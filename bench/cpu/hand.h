/*===- hand.h - A hand-written fused CAGE-AdamW step ----------------------===*\
|*                                                                            *|
|* What a careful engineer writes by hand for one CAGE-AdamW step over many   *|
|* parameters: one OpenMP parallel region over the rows of all tensors, and   *|
|* one pass over memory per row: the absmax of the row (or of each group of   *|
|* the row) while it is in cache, then AdamW and the CAGE correction of the   *|
|* row, vectorized. The f32 operations and their order are exactly those of   *|
|* lib/Reference (cageRefUpdateAdamW): divisions stay divisions and nothing   *|
|* is contracted into an FMA, so the result is the reference's bit for bit.   *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_BENCH_HAND_H
#define CAGE_BENCH_HAND_H

#include "workload.h"

#include <stdbool.h>
#include <stdint.h>

/** One step's hyper-parameters and operands. */
typedef struct HandStep {
  int bits;          /* int grid, absmax scales: qmax = 2^(bits-1) - 1 */
  int64_t groupSize; /* elements per scale: 0 for one scale per row */
  bool coupled;      /* coupled (g + lambda e) or decoupled (w - lr lambda e) */
  float beta1, beta2, eps, weightDecay;
  float lr, lambda; /* lambda = lambda_t (0 corrects by 0, no special case) */
  int64_t t;        /* 1-based step count */
} HandStep;

/** The defaults of #cage.adamw<> and #cage.quantizer<bits = 4>, decoupled,
 * row scales, lr = 1e-3, lambda_t = 10, t = 1. */
HandStep handStepDefault(void);

/** One step on every tensor of wl, in place, on the current OpenMP threads.
 * groupSize, when not 0, must divide every tensor's cols. */
void handStep(const Workload *wl, const HandStep *step);

#endif /* CAGE_BENCH_HAND_H */
