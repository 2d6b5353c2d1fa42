/*===- matrices.h - The operands of one configuration ---------------------===*\
|*                                                                            *|
|* A, B in their stored shapes (layout NN, NT, TN or TT), and one C for each  *|
|* implementation, so that both results can be compared after the calls.     *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_SGEMM_MATRICES_H
#define CAGE_SGEMM_MATRICES_H

#include <stdbool.h>
#include <stdint.h>

typedef struct Matrices {
  int64_t m, n, k;
  bool transA, transB;  /* A stored K x M; B stored N x K */
  int64_t aRows, aCols; /* A as stored */
  int64_t bRows, bCols; /* B as stored */
  float *a, *b, *cCage, *cBlas;
  float maxAbsA, maxAbsB;
} Matrices;

/** Allocates (2 MiB-aligned, huge pages advised) and fills A and B with
 * values uniform in [-1, 1) from the seed; C is zeroed. layout is "NN",
 * "NT", "TN" or "TT". Returns false if out of memory or the layout is
 * unknown. */
bool matricesCreate(Matrices *x, int64_t m, int64_t n, int64_t k,
                    const char *layout, uint64_t seed);
void matricesDestroy(Matrices *x);

/** max |cCage - cBlas| / (K * max|a| * max|b|): the error relative to the
 * largest value a sum of K products can reach. */
double matricesRelativeError(const Matrices *x);

#endif /* CAGE_SGEMM_MATRICES_H */
