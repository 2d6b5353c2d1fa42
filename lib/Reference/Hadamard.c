/*===- Hadamard.c - The blockwise Hadamard rotation -----------------------===*\
|*                                                                            *|
|* docs/Semantics.md §1.1, "Rotation": x * H_B for each block of B elements  *|
|* of the innermost dimension, by the fast Walsh-Hadamard transform in the   *|
|* order written in Reference.h, then the normalization 1/sqrt(B).           *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Reference/Internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One block of B elements, in place. */
static void hadamardBlock(float *x, int64_t blockSize) {
  /* Stages h = 1, 2, 4, ..., B/2; within a stage, the pairs (j, j + h) for j
   * in the first half of each span of 2h elements. */
  for (int64_t h = 1; h < blockSize; h *= 2) {
    for (int64_t start = 0; start < blockSize; start += 2 * h) {
      for (int64_t j = start; j < start + h; ++j) {
        float a = x[j];
        float b = x[j + h];
        x[j] = a + b;
        x[j + h] = a - b;
      }
    }
  }
  /* H[i][j] = (-1)^popcount(i & j) / sqrt(B): the unnormalized transform
   * above, times the f32 value of 1/sqrt(B) (computed in double, rounded
   * once; exact for B = 4^k). */
  float norm = (float)(1.0 / sqrt((double)blockSize));
  for (int64_t j = 0; j < blockSize; ++j)
    x[j] = x[j] * norm;
}

void refHadamardInPlace(float *x, int64_t numel, int64_t block) {
  /* The blocks tile each row, and rows are contiguous, so the blocks of the
   * whole tensor are simply its consecutive runs of `block` elements. */
  for (int64_t start = 0; start < numel; start += block)
    hadamardBlock(x + start, block);
}

int cageRefHadamard(int64_t rank, const int64_t *dims, int64_t block,
                    const float *x, float *y) {
  int64_t numel;
  int status = refCheckShape(rank, dims, &numel);
  if (status != CageRefOk)
    return status;
  if (!x || !y)
    return CageRefErrorNull;
  int64_t n = refInnermost(rank, dims);
  if (block < 2 || (block & (block - 1)) != 0 || n % block != 0)
    return CageRefErrorArgument;
  float *work = refAllocFloats(numel);
  if (!work)
    return CageRefErrorMemory;
  memcpy(work, x, (size_t)numel * sizeof(float));
  refHadamardInPlace(work, numel, block);
  memcpy(y, work, (size_t)numel * sizeof(float));
  free(work);
  return CageRefOk;
}
