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

/* MLIR's marker of a dynamic offset or size in the static arrays. */
static const int64_t kDynamic = INT64_MIN;

/* The offsets or sizes of a slice op: the static array `name`, with the
 * dynamic entries taken in order from the op's operands from `*next` on. */
static CageSliceIndex *sliceIndices(MlirOperation op, const char *name,
                                    intptr_t *next) {
  MlirAttribute statics = cageOpAttribute(op, name);
  intptr_t n = mlirDenseArrayGetNumElements(statics);
  CageSliceIndex *indices = cageAllocArray(n, sizeof *indices);
  for (intptr_t i = 0; i < n; ++i) {
    int64_t v = mlirDenseI64ArrayGetElement(statics, i);
    if (v == kDynamic)
      indices[i].value = mlirOperationGetOperand(op, (*next)++);
    else
      indices[i].constant = v;
  }
  return indices;
}

static bool unitStrides(MlirOperation op) {
  MlirAttribute strides = cageOpAttribute(op, "static_strides");
  for (intptr_t i = 0, n = mlirDenseArrayGetNumElements(strides); i < n; ++i)
    if (mlirDenseI64ArrayGetElement(strides, i) != 1)
      return false;
  return true;
}

/* tensor.extract_slice: the cotangent inserted into zeros where the slice
 * was taken. */
static void extractSliceRule(AdSweep *s, MlirOperation op, MlirValue dy) {
  MlirValue source = mlirOperationGetOperand(op, 0);
  if (!unitStrides(op)) {
    adUnsupported(s, op, "it has strides other than 1");
    return;
  }
  intptr_t next = 1;
  CageSliceIndex *offsets = sliceIndices(op, "static_offsets", &next);
  CageSliceIndex *sizes = sliceIndices(op, "static_sizes", &next);
  adAccumulate(s, source,
               cageBuildInsertSlice(&s->b, dy, adZerosLike(&s->b, source),
                                    offsets, sizes));
  free(sizes);
  free(offsets);
}

/* tensor.insert_slice: the source gets the slice of the cotangent, the
 * destination the cotangent with the slice zeroed (it was overwritten). */
static void insertSliceRule(AdSweep *s, MlirOperation op, MlirValue dy) {
  MlirValue source = mlirOperationGetOperand(op, 0);
  MlirValue dest = mlirOperationGetOperand(op, 1);
  if (!unitStrides(op)) {
    adUnsupported(s, op, "it has strides other than 1");
    return;
  }
  intptr_t next = 2;
  CageSliceIndex *offsets = sliceIndices(op, "static_offsets", &next);
  CageSliceIndex *sizes = sliceIndices(op, "static_sizes", &next);
  if (adIsActive(s, source))
    adAccumulate(s, source,
                 cageBuildExtractSlice(&s->b, dy, offsets, sizes,
                                       mlirValueGetType(source)));
  if (adIsActive(s, dest))
    adAccumulate(s, dest,
                 cageBuildInsertSlice(&s->b, adZerosLike(&s->b, source), dy,
                                      offsets, sizes));
  free(sizes);
  free(offsets);
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
  intptr_t next = 1;
  CageSliceIndex *offsets = sliceIndices(op, "static_low", &next);
  MlirType type = mlirValueGetType(source);
  intptr_t rank = mlirShapedTypeGetRank(type);
  CageSliceIndex *sizes = cageAllocArray(rank, sizeof *sizes);
  for (intptr_t d = 0; d < rank; ++d) {
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
