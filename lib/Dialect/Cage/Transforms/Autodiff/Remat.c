/*===- Remat.c - Recomputing cheap forward values in the backward ---------===*/
//
// By default the backward pass reads the forward values it needs, which
// keeps their buffers alive from the forward pass to their last backward
// use. With `remat`, a forward value made by a cheap element-wise op (a
// linalg.generic whose loops are all parallel, each operand read through a
// projected permutation, and whose body has no reduction) is recomputed
// right before its first backward use instead: the forward buffer dies at
// its last forward use, and the recomputed one lives only while the
// backward needs it. The clone reads the op's operands, which stay alive
// (one level: an operand that is itself cheap is not recomputed, so the
// backward never does more than one extra element-wise pass per value).
//
//===----------------------------------------------------------------------===//

#include "Autodiff.h"

#include "IR/Ops.h"

#include "mlir-c/AffineMap.h"
#include "mlir-c/BuiltinAttributes.h"

static bool isCheapElementwise(MlirOperation op) {
  if (!cageOpIs(op, "linalg.generic") || mlirOperationGetNumResults(op) != 1)
    return false;
  for (intptr_t d = 0, n = cageGenericNumLoops(op); d < n; ++d)
    if (!cageGenericLoopIsParallel(op, d))
      return false;
  MlirAttribute maps = cageOpAttribute(op, "indexing_maps");
  for (intptr_t i = 0, n = mlirArrayAttrGetNumElements(maps); i < n; ++i)
    if (!mlirAffineMapIsProjectedPermutation(
            mlirAffineMapAttrGetValue(mlirArrayAttrGetElement(maps, i))))
      return false;
  return true;
}

void adRematerialize(MlirBlock block, MlirOperation *forwardOps,
                     intptr_t numForwardOps) {
  if (numForwardOps == 0)
    return;
  /* The cheap forward values, and their recomputed clones once made. */
  CageValueMap cheap = {0}, clones = {0};
  for (intptr_t k = 0; k < numForwardOps; ++k)
    if (isCheapElementwise(forwardOps[k])) {
      MlirValue r = mlirOperationGetResult(forwardOps[k], 0);
      cageValueMapSet(&cheap, r, r);
    }
  MlirOperation last = forwardOps[numForwardOps - 1];
  for (MlirOperation op = mlirOperationGetNextInBlock(last);
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op)) {
    for (intptr_t i = 0, n = mlirOperationGetNumOperands(op); i < n; ++i) {
      MlirValue v = mlirOperationGetOperand(op, i);
      if (!cageValueMapContains(&cheap, v))
        continue;
      MlirValue clone = cageValueMapLookup(&clones, v);
      if (mlirValueIsNull(clone)) {
        MlirOperation copy = mlirOperationClone(cageDefiningOp(v));
        mlirBlockInsertOwnedOperationBefore(block, op, copy);
        clone = mlirOperationGetResult(copy, 0);
        cageValueMapSet(&clones, v, clone);
      }
      mlirOperationSetOperand(op, i, clone);
    }
  }
  cageValueMapDestroy(&clones);
  cageValueMapDestroy(&cheap);
}
