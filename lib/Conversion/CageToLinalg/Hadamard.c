/*===- Hadamard.c - The blockwise Hadamard rotation on tensors ------------===*\
|*                                                                            *|
|* The order of the f32 operations is the reference's (lib/Reference):        *|
|*   for h = 1, 2, 4, ..., B/2: for each pair (j, j + h), j in the lower      *|
|*     half of a span of 2h elements: a = x[j], b = x[j + h];                 *|
|*     x[j] = a + b, x[j + h] = a - b;                                        *|
|*   then x[j] = x[j] * (float)(1.0 / sqrt((double)B)).                       *|
|* Stage h views the innermost dimension n as [n / 2h, 2, h]: the pair of     *|
|* element (g, t, k) is (g, 0, k) and (g, 1, k), so one linalg.generic reads  *|
|* both halves through maps with the constant results 0 and 1 and picks       *|
|* a + b or a - b on linalg.index of the `2` loop. Spans of 2h <= B elements  *|
|* never cross a block, so the stages of B stay within their blocks.          *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Hadamard.h"

#include "mlir-c/BuiltinTypes.h"

#include <math.h>
#include <stdlib.h>

typedef struct StageBody {
  int64_t halfLoop; /* the loop of the `2` dimension */
  MlirValue norm;   /* 1/sqrt(B) on the last stage, else null */
} StageBody;

/* y = (t == 0 ? a + b : a - b), times 1/sqrt(B) on the last stage. */
static void butterfly(CageBuilder *body, const MlirValue *args,
                      intptr_t numArgs, MlirValue *yielded, void *userData) {
  (void)numArgs;
  const StageBody *stage = userData;
  MlirValue a = args[0], b = args[1];
  MlirValue zero = cageBuildConstantIndex(body, 0);
  MlirValue isLow = cageBuildCmpI(
      body, CageCmpIEQ, cageBuildLinalgIndex(body, stage->halfLoop), zero);
  MlirValue sum = cageBuildAddF(body, a, b);
  MlirValue difference = cageBuildSubF(body, a, b);
  MlirValue y = cageBuildSelect(body, isLow, sum, difference);
  /* Multiplying the last stage's sums is the reference's separate final
   * pass: the same product of the same f32 values, one pass fewer. */
  if (!mlirValueIsNull(stage->norm))
    y = cageBuildMulF(body, y, stage->norm);
  yielded[0] = y;
}

/* One butterfly stage of span 2h on x ([..., n]); `norm` as in StageBody. */
static MlirValue hadamardStage(CageBuilder *b, MlirValue x, int64_t h,
                               MlirValue norm) {
  int64_t tail[] = {2, h};
  MlirValue pairs = cageBuildSplitInnermost(b, x, tail, 2);
  if (mlirValueIsNull(pairs))
    return pairs;
  /* Loops: the leading dims, then g (span), t (half), k (offset). */
  int64_t rank = mlirShapedTypeGetRank(mlirValueGetType(x));
  int64_t numLoops = rank + 2, t = rank;
  MlirAffineMap maps[] = {cageMapFixingDim(b->context, numLoops, t, 0),
                          cageMapFixingDim(b->context, numLoops, t, 1),
                          cagePrefixMap(b->context, numLoops, numLoops)};
  CageIteratorType *iterators = cageAllocArray(numLoops, sizeof *iterators);
  for (int64_t d = 0; d < numLoops; ++d)
    iterators[d] = CageIteratorParallel;
  MlirValue inputs[] = {pairs, pairs};
  MlirValue init = cageBuildEmptyLike(b, pairs);
  StageBody stage = {t, norm};
  CageGenericSpec spec = {.inputs = inputs,
                          .numInputs = 2,
                          .outputs = &init,
                          .numOutputs = 1,
                          .indexingMaps = maps,
                          .iteratorTypes = iterators,
                          .numLoops = numLoops,
                          .body = butterfly,
                          .userData = &stage};
  MlirValue mixed = cageOperationGetResult(cageBuildGeneric(b, &spec), 0);
  free(iterators);
  return cageBuildMergeInnermost(b, mixed, mlirValueGetType(x));
}

MlirValue lowerBuildHadamard(CageBuilder *b, MlirValue x, int64_t block) {
  /* Rounded once from double, as the reference does (exact for B = 4^k). */
  MlirValue norm = cageBuildConstantF32(b, (float)(1.0 / sqrt((double)block)));
  for (int64_t h = 1; h < block && !mlirValueIsNull(x); h *= 2)
    x = hadamardStage(b, x, h, 2 * h == block ? norm : (MlirValue){NULL});
  return x;
}
