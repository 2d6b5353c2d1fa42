/*===- Contraction.h - The roles in an f32 contraction on tensors ---------===*\
|*                                                                            *|
|* cage-cpu-name-contractions and cage-cpu-pack-contractions handle the same  *|
|* contractions: linalg.matmul, linalg.batch_matmul or a linalg.generic whose *|
|* body multiplies and adds, on static f32 tensors, with one M, N and K loop *|
|* and at most one batch loop (first in every operand), every operand read   *|
|* through a permutation of its loops. C's first non-batch dimension is M;   *|
|* the input that has M is A, the other B.                                   *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_LIB_TARGET_CPU_CONTRACTION_H
#define CAGE_LIB_TARGET_CPU_CONTRACTION_H

#include "IR/Builder.h"

#include "mlir-c/AffineMap.h"
#include "mlir-c/IR.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct CageContraction {
  MlirOperation op;
  bool batched;
  intptr_t numLoops;
  intptr_t batchDim, mDim, nDim, kDim; /* loop positions; batchDim -1 */
  MlirValue a, b, init;
  MlirAffineMap aMap, bMap, cMap;
  int64_t batch, m, n, k; /* batch is 1 when not batched */
} CageContraction;

/* The roles in `op`; false when it is not such a contraction. */
bool cageCPUAnalyzeContraction(MlirOperation op, CageContraction *c);

/* A static f32 tensor type of `rank` sizes. */
MlirType cageCPUF32Tensor(MlirContext ctx, intptr_t rank, const int64_t *sizes);

/* `source` copied into `dest` by an all-parallel linalg.generic whose
 * loops are dest's dimensions, reading `source` through `sourceMap` (a
 * permutation of those loops: a transposing copy); returns the result. */
MlirValue cageCPUBuildCopy(CageBuilder *b, MlirValue source,
                           MlirAffineMap sourceMap, MlirValue dest);

/* `dest` filled with the value of the linalg.fill that makes `source`: the
 * same constant tensor in another shape or layout, with nothing to copy;
 * null when `source` is not made by a linalg.fill. */
MlirValue cageCPUFillLike(CageBuilder *b, MlirValue source, MlirValue dest);

/* Loop position of result `r` of `map`, or -1 when it is not a dimension. */
intptr_t cageCPUMapResultDim(MlirAffineMap map, intptr_t r);

#endif /* CAGE_LIB_TARGET_CPU_CONTRACTION_H */
