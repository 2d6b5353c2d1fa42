/*===- FlattenTransfers.c - Whole-row 2-D transfers as 1-D ones -----------===*\
|*                                                                            *|
|* A vector.transfer_read or transfer_write of vector<R x C> that covers     *|
|* whole rows of a memref whose rows are contiguous (strides [C, 1]) touches  *|
|* R·C consecutive elements. Lowered as it is (vector-to-scf), it becomes R  *|
|* loads or stores of C elements through a stack buffer, which for narrow    *|
|* rows (the 16 x 4 tiles of a bf16 state update in groups of four,          *|
|* Semantics.md §1.5) costs more than the arithmetic. Part of cage-cpu-tile, *|
|* after vectorization: such a transfer reads or writes vector<R·C> of the   *|
|* memref collapsed to one dimension, with a vector.shape_cast on the        *|
|* register side (which LLVM turns into nothing).                            *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Passes.h"

#include "IR/Builder.h"
#include "IR/Ops.h"
#include "IR/Text.h"

#include "mlir-c/AffineMap.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

#include <stdbool.h>

/* A transfer that flattening applies to, and its parts. */
typedef struct RowTransfer {
  MlirOperation op;
  bool write;
  MlirValue memref, vector, row; /* row: index of the first row */
  MlirType vectorType;
  int64_t numElements, columns;
  int64_t offset; /* of the memref's layout (possibly dynamic) */
} RowTransfer;

static bool allTrue(MlirAttribute inBounds) {
  if (mlirAttributeIsNull(inBounds) || !mlirAttributeIsAArray(inBounds))
    return false;
  for (intptr_t i = 0; i < mlirArrayAttrGetNumElements(inBounds); ++i)
    if (!mlirBoolAttrGetValue(mlirArrayAttrGetElement(inBounds, i)))
      return false;
  return true;
}

static bool analyze(MlirOperation op, RowTransfer *t) {
  t->op = op;
  t->write = cageOpIs(op, "vector.transfer_write");
  if (!t->write && !cageOpIs(op, "vector.transfer_read"))
    return false;
  /* read: base, row, column, padding; write: vector, base, row, column (no
   * mask in either). */
  intptr_t numOperands = mlirOperationGetNumOperands(op);
  if (numOperands != 4)
    return false;
  intptr_t base = t->write ? 1 : 0;
  t->memref = mlirOperationGetOperand(op, base);
  t->row = mlirOperationGetOperand(op, base + 1);
  t->vector =
      t->write ? mlirOperationGetOperand(op, 0) : mlirOperationGetResult(op, 0);
  t->vectorType = mlirValueGetType(t->vector);
  MlirType memrefType = mlirValueGetType(t->memref);
  if (!mlirTypeIsAMemRef(memrefType) ||
      mlirShapedTypeGetRank(memrefType) != 2 ||
      mlirShapedTypeGetRank(t->vectorType) != 2 ||
      mlirShapedTypeIsDynamicDim(memrefType, 1) ||
      !mlirTypeEqual(mlirShapedTypeGetElementType(memrefType),
                     mlirShapedTypeGetElementType(t->vectorType)))
    return false;
  MlirAffineMap map =
      mlirAffineMapAttrGetValue(cageOpAttribute(op, "permutation_map"));
  if (!mlirAffineMapIsMinorIdentity(map) ||
      !allTrue(cageOpAttribute(op, "in_bounds")))
    return false;
  int64_t strides[2];
  if (mlirLogicalResultIsFailure(
          mlirMemRefTypeGetStridesAndOffset(memrefType, strides, &t->offset)))
    return false;
  t->columns = mlirShapedTypeGetDimSize(memrefType, 1);
  /* Whole rows (in bounds, so from column 0), rows back to back. */
  if (mlirShapedTypeGetDimSize(t->vectorType, 1) != t->columns ||
      strides[1] != 1 || strides[0] != t->columns)
    return false;
  t->numElements = mlirShapedTypeGetDimSize(t->vectorType, 0) * t->columns;
  return true;
}

/* memref.collapse_shape of the transfer's memref into one dimension. */
static MlirValue collapsed(CageBuilder *b, const RowTransfer *t) {
  MlirType type = mlirValueGetType(t->memref);
  int64_t size = INT64_MIN;
  if (!mlirShapedTypeIsDynamicDim(type, 0))
    size = mlirShapedTypeGetDimSize(type, 0) * t->columns;
  /* An identity layout stays one (memref.collapse_shape's rule). */
  int64_t unit = 1;
  MlirAttribute layout =
      mlirAttributeIsAAffineMap(mlirMemRefTypeGetLayout(type))
          ? mlirAttributeGetNull()
          : mlirStridedLayoutAttrGet(b->context, t->offset, 1, &unit);
  MlirType flat =
      mlirMemRefTypeGet(mlirShapedTypeGetElementType(type), 1, &size, layout,
                        mlirMemRefTypeGetMemorySpace(type));
  MlirAttribute both[] = {
      mlirIntegerAttrGet(mlirIntegerTypeGet(b->context, 64), 0),
      mlirIntegerAttrGet(mlirIntegerTypeGet(b->context, 64), 1)};
  MlirAttribute group = mlirArrayAttrGet(b->context, 2, both);
  MlirNamedAttribute reassociation = cageNamedAttribute(
      b, "reassociation", mlirArrayAttrGet(b->context, 1, &group));
  return cageOperationGetResult(cageBuildOp(b, "memref.collapse_shape", 1,
                                            &t->memref, 1, &flat, 1,
                                            &reassociation),
                                0);
}

static void flatten(const RowTransfer *t) {
  CageBuilder b = cageBuilderDetached(mlirOperationGetLocation(t->op));
  MlirContext ctx = b.context;
  MlirType element = mlirShapedTypeGetElementType(t->vectorType);
  MlirType flatVector = mlirVectorTypeGet(1, &t->numElements, element);
  MlirValue memref = collapsed(&b, t);
  MlirValue index =
      cageBuildMulI(&b, t->row, cageBuildConstantIndex(&b, t->columns));
  MlirAttribute trueAttr = mlirBoolAttrGet(ctx, 1);
  MlirNamedAttribute attrs[] = {
      cageNamedAttribute(
          &b, "permutation_map",
          mlirAffineMapAttrGet(mlirAffineMapMinorIdentityGet(ctx, 1, 1))),
      cageNamedAttribute(&b, "in_bounds", mlirArrayAttrGet(ctx, 1, &trueAttr)),
      cageNamedAttribute(
          &b, "operandSegmentSizes",
          mlirDenseI32ArrayGet(ctx, 4, (const int32_t[]){1, 1, 1, 0}))};
  if (t->write) {
    MlirValue operands[] = {
        cageOperationGetResult(cageBuildOp(&b, "vector.shape_cast", 1,
                                           &t->vector, 1, &flatVector, 0, NULL),
                               0),
        memref, index};
    cageBuildOp(&b, "vector.transfer_write", 3, operands, 0, NULL, 3, attrs);
    cageBuilderMoveBefore(&b, t->op);
  } else {
    MlirValue operands[] = {memref, index, mlirOperationGetOperand(t->op, 3)};
    MlirValue flat =
        cageOperationGetResult(cageBuildOp(&b, "vector.transfer_read", 3,
                                           operands, 1, &flatVector, 3, attrs),
                               0);
    MlirValue shaped =
        cageOperationGetResult(cageBuildOp(&b, "vector.shape_cast", 1, &flat, 1,
                                           &t->vectorType, 0, NULL),
                               0);
    cageBuilderMoveBefore(&b, t->op);
    mlirValueReplaceAllUsesOfWith(t->vector, shaped);
  }
  mlirOperationDestroy(t->op);
}

static bool isRowTransfer(MlirOperation op) {
  RowTransfer t;
  return analyze(op, &t);
}

void cageCPUFlattenRowTransfers(MlirOperation root) {
  CageOpList ops = cageCollectOpsWhere(root, isRowTransfer);
  for (intptr_t i = 0; i < ops.size; ++i) {
    RowTransfer t;
    analyze(ops.ops[i], &t);
    flatten(&t);
  }
  cageOpListDestroy(&ops);
}
