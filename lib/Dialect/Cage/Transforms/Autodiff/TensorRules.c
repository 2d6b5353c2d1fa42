/*===- TensorRules.c - Adjoints of tensor ops and cage.quantize -----------===*/
//
// Tensor ops move elements without arithmetic: each adjoint moves the
// cotangent back (a slice's gradient is inserted where the slice was taken,
// a reshape's is reshaped back, a padding is cut off). cage.quantize's
// adjoint is the straight-through estimator cage.ste of the same quantizer,
// with the LSQ gradient of learned clip values (docs/Semantics.md §1.2).
//
//===----------------------------------------------------------------------===//

#include "Autodiff.h"

#include "IR/Ops.h"
#include "cage-c/Dialect/Cage.h"
#include "cage-c/Dialect/CageOps.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

#include <stdlib.h>

/* The offsets, sizes and strides of the slice op `op` (static arrays and
 * dynamic operands from operand `first` on) reused for the slice op `name`
 * (tensor.extract_slice or tensor.insert_slice) of `source` [into `dest`]:
 * the adjoint of a slice is the other slice at the same place. */
static MlirValue sliceAt(CageBuilder *b, MlirOperation op, intptr_t first,
                         const char *name, MlirValue source, MlirValue dest,
                         MlirType resultType) {
  intptr_t numDynamic = mlirOperationGetNumOperands(op) - first;
  intptr_t numOperands = (mlirValueIsNull(dest) ? 1 : 2) + numDynamic;
  MlirValue *operands = cageAllocArray(numOperands, sizeof *operands);
  intptr_t n = 0;
  operands[n++] = source;
  if (!mlirValueIsNull(dest))
    operands[n++] = dest;
  for (intptr_t i = 0; i < numDynamic; ++i)
    operands[n++] = mlirOperationGetOperand(op, first + i);
  /* The segments: source, [dest,] then the op's offsets, sizes, strides. */
  MlirAttribute segments = cageOpAttribute(op, "operandSegmentSizes");
  intptr_t numSegments = mlirDenseArrayGetNumElements(segments);
  int32_t sizes[5];
  int32_t k = 0;
  sizes[k++] = 1;
  if (!mlirValueIsNull(dest))
    sizes[k++] = 1;
  for (intptr_t i = numSegments - 3; i < numSegments; ++i)
    sizes[k++] = mlirDenseI32ArrayGetElement(segments, i);
  MlirNamedAttribute attrs[] = {
      cageNamedAttribute(b, "static_offsets",
                         cageOpAttribute(op, "static_offsets")),
      cageNamedAttribute(b, "static_sizes",
                         cageOpAttribute(op, "static_sizes")),
      cageNamedAttribute(b, "static_strides",
                         cageOpAttribute(op, "static_strides")),
      cageNamedAttribute(b, "operandSegmentSizes",
                         mlirDenseI32ArrayGet(b->context, k, sizes))};
  MlirValue result = cageOperationGetResult(
      cageBuildOp(b, name, numOperands, operands, 1, &resultType, 4, attrs), 0);
  free(operands);
  return result;
}

/* tensor.extract_slice: the cotangent inserted into zeros where the slice
 * was taken. */
static void extractSliceRule(AdSweep *s, MlirOperation op, MlirValue dy) {
  MlirValue source = mlirOperationGetOperand(op, 0);
  adAccumulate(s, source,
               sliceAt(&s->b, op, 1, "tensor.insert_slice", dy,
                       adZerosLike(&s->b, source), mlirValueGetType(source)));
}

/* tensor.insert_slice: the source gets the slice of the cotangent, the
 * destination the cotangent with the slice zeroed (it was overwritten). */
static void insertSliceRule(AdSweep *s, MlirOperation op, MlirValue dy) {
  MlirValue source = mlirOperationGetOperand(op, 0);
  MlirValue dest = mlirOperationGetOperand(op, 1);
  if (adIsActive(s, source))
    adAccumulate(s, source,
                 sliceAt(&s->b, op, 2, "tensor.extract_slice", dy,
                         (MlirValue){NULL}, mlirValueGetType(source)));
  if (adIsActive(s, dest))
    adAccumulate(s, dest,
                 sliceAt(&s->b, op, 2, "tensor.insert_slice",
                         adZerosLike(&s->b, source), dy, mlirValueGetType(dy)));
}

/* The sizes of the reassociation groups of an expand or collapse. */
static int64_t *groupSizes(MlirOperation op) {
  MlirAttribute groups = cageOpAttribute(op, "reassociation");
  intptr_t n = mlirArrayAttrGetNumElements(groups);
  int64_t *sizes = cageAllocArray(n, sizeof *sizes);
  for (intptr_t i = 0; i < n; ++i)
    sizes[i] = mlirArrayAttrGetNumElements(mlirArrayAttrGetElement(groups, i));
  return sizes;
}

/* tensor.expand_shape and tensor.collapse_shape: the inverse reshape. */
static void reshapeRule(AdSweep *s, MlirOperation op, MlirValue dy,
                        bool expand) {
  MlirValue source = mlirOperationGetOperand(op, 0);
  MlirType type = mlirValueGetType(source);
  int64_t *groups = groupSizes(op);
  MlirValue grad;
  if (expand) {
    grad = cageBuildCollapseShape(&s->b, dy, type, groups);
  } else {
    intptr_t rank = mlirShapedTypeGetRank(type);
    MlirValue *sizes = cageAllocArray(rank, sizeof *sizes);
    for (intptr_t d = 0; d < rank; ++d)
      if (mlirShapedTypeIsDynamicDim(type, d))
        sizes[d] = cageBuildDim(&s->b, source, d);
    grad = cageBuildExpandShape(&s->b, dy, type, groups, sizes);
    free(sizes);
  }
  free(groups);
  adAccumulate(s, source, grad);
}

/* tensor.concat: each input gets its slice of the cotangent. */
static void concatRule(AdSweep *s, MlirOperation op, MlirValue dy) {
  int64_t dim = mlirIntegerAttrGetValueInt(cageOpAttribute(op, "dim"));
  MlirType type = mlirValueGetType(dy);
  intptr_t rank = mlirShapedTypeGetRank(type);
  CageSliceIndex *offsets = cageAllocArray(rank, sizeof *offsets);
  CageSliceIndex *sizes = cageAllocArray(rank, sizeof *sizes);
  CageBuilder *b = &s->b;
  for (intptr_t i = 0, n = mlirOperationGetNumOperands(op); i < n; ++i) {
    MlirValue input = mlirOperationGetOperand(op, i);
    MlirType inType = mlirValueGetType(input);
    for (intptr_t d = 0; d < rank; ++d) {
      sizes[d] = (CageSliceIndex){{NULL}, mlirShapedTypeGetDimSize(inType, d)};
      if (mlirShapedTypeIsDynamicDim(inType, d))
        sizes[d].value = cageBuildDim(b, input, d);
    }
    if (adIsActive(s, input))
      adAccumulate(s, input,
                   cageBuildExtractSlice(b, dy, offsets, sizes, inType));
    /* The next input starts where this one ends. */
    CageSliceIndex *o = &offsets[dim];
    if (mlirValueIsNull(o->value) && mlirValueIsNull(sizes[dim].value))
      o->constant += sizes[dim].constant;
    else
      o->value = cageBuildAddI(
          b,
          mlirValueIsNull(o->value) ? cageBuildConstantIndex(b, o->constant)
                                    : o->value,
          mlirValueIsNull(sizes[dim].value)
              ? cageBuildConstantIndex(b, sizes[dim].constant)
              : sizes[dim].value);
  }
  free(sizes);
  free(offsets);
}

/* tensor.pad: the source's part of the cotangent, at the low padding. */
static void padRule(AdSweep *s, MlirOperation op, MlirValue dy) {
  MlirValue source = mlirOperationGetOperand(op, 0);
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
  MlirValue padding = mlirOperationGetOperand(mlirBlockGetTerminator(body), 0);
  if (adIsActive(s, padding)) {
    adUnsupported(s, op, "its padding value is differentiated");
    return;
  }
  MlirType type = mlirValueGetType(source);
  intptr_t rank = mlirShapedTypeGetRank(type);
  MlirAttribute low = cageOpAttribute(op, "static_low");
  CageSliceIndex *offsets = cageAllocArray(rank, sizeof *offsets);
  CageSliceIndex *sizes = cageAllocArray(rank, sizeof *sizes);
  for (intptr_t d = 0, next = 1; d < rank; ++d) {
    offsets[d].constant = mlirDenseI64ArrayGetElement(low, d);
    if (offsets[d].constant == INT64_MIN) /* MLIR's dynamic marker */
      offsets[d].value = mlirOperationGetOperand(op, next++);
    sizes[d].constant = mlirShapedTypeGetDimSize(type, d);
    if (mlirShapedTypeIsDynamicDim(type, d))
      sizes[d].value = cageBuildDim(&s->b, source, d);
  }
  adAccumulate(s, source,
               cageBuildExtractSlice(&s->b, dy, offsets, sizes, type));
  free(sizes);
  free(offsets);
}

/* tensor.extract: the scalar's cotangent at its place in zeros. */
static void extractRule(AdSweep *s, MlirOperation op, MlirValue dy) {
  MlirValue tensor = mlirOperationGetOperand(op, 0);
  intptr_t n = mlirOperationGetNumOperands(op);
  MlirValue *operands = cageAllocArray(n + 1, sizeof *operands);
  operands[0] = dy;
  operands[1] = adZerosLike(&s->b, tensor);
  for (intptr_t i = 1; i < n; ++i)
    operands[i + 1] = mlirOperationGetOperand(op, i);
  MlirType type = mlirValueGetType(tensor);
  adAccumulate(s, tensor,
               cageOperationGetResult(cageBuildOp(&s->b, "tensor.insert", n + 1,
                                                  operands, 1, &type, 0, NULL),
                                      0));
  free(operands);
}

/* The estimator of the quantizer of `x`: the parameter's when `x` is one. */
static CageEstimator estimatorOf(const AdSweep *s, MlirValue x) {
  for (intptr_t i = 0; i < s->numParams; ++i)
    if (mlirValueEqual(s->params[i], x))
      return cageParamAttrGetEstimator(s->paramAttrs[i]);
  return s->activationEstimator;
}

static void quantizeRule(AdSweep *s, MlirOperation op, MlirValue dy) {
  MlirValue x = cageQuantizeOpGetX(op);
  MlirValue scale = cageQuantizeOpGetScale(op);
  bool scaleActive = !mlirValueIsNull(scale) && adIsActive(s, scale);
  if (!adIsActive(s, x) && !scaleActive)
    return;
  MlirOperation ste =
      cageBuilderInsert(&s->b, cageSteOpCreate(s->b.location, dy, x, scale,
                                               cageQuantizeOpGetQuantizer(op),
                                               estimatorOf(s, x)));
  if (mlirOperationIsNull(ste)) {
    s->failed = true;
    return;
  }
  if (adIsActive(s, x))
    adAccumulate(s, x, cageSteOpGetDx(ste));
  if (scaleActive)
    adAccumulate(s, scale, cageSteOpGetDscale(ste));
}

bool adTensorRule(AdSweep *s, MlirOperation op) {
  MlirValue dy = mlirOperationGetNumResults(op) == 1
                     ? adAdjoint(s, mlirOperationGetResult(op, 0))
                     : (MlirValue){NULL};
  bool handled = true;
  if (mlirValueIsNull(dy))
    handled = cageOpIs(op, "tensor.extract_slice") ||
              cageOpIs(op, "tensor.insert_slice") ||
              cageOpIs(op, "tensor.expand_shape") ||
              cageOpIs(op, "tensor.collapse_shape") ||
              cageOpIs(op, "tensor.concat") || cageOpIs(op, "tensor.pad") ||
              cageOpIs(op, "tensor.extract") || cageOperationIsAQuantize(op);
  else if (cageOpIs(op, "tensor.extract_slice"))
    extractSliceRule(s, op, dy);
  else if (cageOpIs(op, "tensor.insert_slice"))
    insertSliceRule(s, op, dy);
  else if (cageOpIs(op, "tensor.expand_shape"))
    reshapeRule(s, op, dy, true);
  else if (cageOpIs(op, "tensor.collapse_shape"))
    reshapeRule(s, op, dy, false);
  else if (cageOpIs(op, "tensor.concat"))
    concatRule(s, op, dy);
  else if (cageOpIs(op, "tensor.pad"))
    padRule(s, op, dy);
  else if (cageOpIs(op, "tensor.extract"))
    extractRule(s, op, dy);
  else if (cageOperationIsAQuantize(op))
    quantizeRule(s, op, dy);
  else
    handled = false;
  return handled;
}
