/*===- IR/Builder.c - One call per op for building IR from C --------------===*\
|*                                                                            *|
|* Every op is created detached from an MlirOperationState, then inserted     *|
|* where the builder points. Regions (linalg bodies, function bodies) are     *|
|* built detached too and handed to the state, so that a failure found while  *|
|* building them destroys them without leaving half an op in the IR.          *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "IR/Builder.h"
#include "IR/Ops.h"
#include "IR/Text.h"

#include "mlir-c/AffineExpr.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/Linalg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const MlirValue nullValue = {NULL};
static const MlirOperation nullOperation = {NULL};
static const MlirBlock nullBlock = {NULL};

CageBuilder cageBuilderAtInsertionPoint(MlirRewriterBase rewriter,
                                        MlirLocation location) {
  CageBuilder b = {mlirLocationGetContext(location), location, rewriter,
                   nullBlock};
  return b;
}

CageBuilder cageBuilderAtEndOfBlock(MlirBlock block, MlirLocation location) {
  CageBuilder b = {mlirLocationGetContext(location), location,
                   (MlirRewriterBase){NULL}, block};
  return b;
}

CageBuilder cageBuilderDetached(MlirLocation location) {
  return cageBuilderAtEndOfBlock(mlirBlockCreate(0, NULL, NULL), location);
}

void cageBuilderMoveBefore(CageBuilder *b, MlirOperation op) {
  MlirOperation first;
  while (!mlirOperationIsNull(first = mlirBlockGetFirstOperation(b->block)))
    mlirOperationMoveBefore(first, op);
  mlirBlockDestroy(b->block);
  b->block = (MlirBlock){NULL};
}

void cageReplaceOpsWhere(MlirOperation root, bool (*predicate)(MlirOperation),
                         MlirValue (*build)(CageBuilder *, MlirOperation)) {
  CageOpList ops = cageCollectOpsWhere(root, predicate);
  for (intptr_t i = 0; i < ops.size; ++i) {
    MlirOperation op = ops.ops[i];
    CageBuilder b = cageBuilderDetached(mlirOperationGetLocation(op));
    MlirValue value = build(&b, op);
    cageBuilderMoveBefore(&b, op);
    mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(op, 0), value);
    mlirOperationDestroy(op);
  }
  cageOpListDestroy(&ops);
}

/*===--- Helpers ----------------------------------------------------------===*/

static void emitError(CageBuilder *b, const char *format, ...) {
  char message[512];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof message, format, args);
  va_end(args);
  mlirEmitError(b->location, message);
}

/* Out of memory while building IR is not something a pass can recover from;
 * failing loudly beats a null dereference somewhere inside MLIR. */
void *cageAllocArray(intptr_t count, size_t size) {
  void *array = calloc(count > 0 ? (size_t)count : 1, size);
  if (!array) {
    fputs("cage builder: out of memory\n", stderr);
    abort();
  }
  return array;
}

/* Null operands come from an earlier call that failed and has already
 * reported why; passing them on keeps chains of calls free of checks. */
static bool anyNull(const MlirValue *values, intptr_t count) {
  for (intptr_t i = 0; i < count; ++i)
    if (mlirValueIsNull(values[i]))
      return true;
  return false;
}

/* Creating an op of an unknown name succeeds and fails only at
 * verification, far from the typo; catch it where the name is given. */
static bool isRegisteredOp(CageBuilder *b, const char *opName) {
  if (mlirContextIsRegisteredOperation(b->context, cageStr(opName)))
    return true;
  emitError(b, "'%s' is not a registered operation (is its dialect loaded?)",
            opName);
  return false;
}

static bool isRankedTensor(CageBuilder *b, MlirType type, const char *what) {
  if (mlirTypeIsARankedTensor(type))
    return true;
  emitError(b, "%s must be a ranked tensor", what);
  return false;
}

/* As isRankedTensor for the type of `value`; false without a second error
 * when `value` is null. */
static bool isRankedTensorValue(CageBuilder *b, MlirValue value,
                                const char *what) {
  return !mlirValueIsNull(value) &&
         isRankedTensor(b, mlirValueGetType(value), what);
}

/* Scalar operands of linalg ops are their own element type. */
static MlirType elementType(MlirValue value) {
  MlirType type = mlirValueGetType(value);
  return mlirTypeIsAShaped(type) ? mlirShapedTypeGetElementType(type) : type;
}

static MlirOperation insert(CageBuilder *b, MlirOperation op) {
  if (mlirBlockIsNull(b->block))
    return mlirRewriterBaseInsert(b->rewriter, op);
  mlirBlockAppendOwnedOperation(b->block, op);
  return op;
}

static MlirOperation buildOp(CageBuilder *b, const char *opName,
                             intptr_t numOperands, const MlirValue *operands,
                             intptr_t numResults, const MlirType *resultTypes,
                             intptr_t numAttributes,
                             const MlirNamedAttribute *attributes) {
  MlirOperationState state =
      mlirOperationStateGet(cageStr(opName), b->location);
  mlirOperationStateAddOperands(&state, numOperands, operands);
  mlirOperationStateAddResults(&state, numResults, resultTypes);
  mlirOperationStateAddAttributes(&state, numAttributes, attributes);
  return insert(b, mlirOperationCreate(&state));
}

MlirOperation cageBuildOp(CageBuilder *b, const char *opName,
                          intptr_t numOperands, const MlirValue *operands,
                          intptr_t numResults, const MlirType *resultTypes,
                          intptr_t numAttributes,
                          const MlirNamedAttribute *attributes) {
  if (anyNull(operands, numOperands) || !isRegisteredOp(b, opName))
    return nullOperation;
  return buildOp(b, opName, numOperands, operands, numResults, resultTypes,
                 numAttributes, attributes);
}

MlirOperation cageBuilderInsert(CageBuilder *b, MlirOperation op) {
  return mlirOperationIsNull(op) ? nullOperation : insert(b, op);
}

MlirNamedAttribute cageNamedAttribute(CageBuilder *b, const char *name,
                                      MlirAttribute attr) {
  return mlirNamedAttributeGet(mlirIdentifierGet(b->context, cageStr(name)),
                               attr);
}

MlirValue cageOperationGetResult(MlirOperation op, intptr_t index) {
  return mlirOperationIsNull(op) ? nullValue
                                 : mlirOperationGetResult(op, index);
}

static MlirValue buildValue(CageBuilder *b, const char *opName,
                            intptr_t numOperands, const MlirValue *operands,
                            MlirType resultType, intptr_t numAttributes,
                            const MlirNamedAttribute *attributes) {
  MlirOperation op = buildOp(b, opName, numOperands, operands, 1, &resultType,
                             numAttributes, attributes);
  return mlirOperationGetResult(op, 0);
}

/*===--- arith.constant ---------------------------------------------------===*/

static MlirValue buildConstant(CageBuilder *b, MlirAttribute value) {
  MlirNamedAttribute attr = cageNamedAttribute(b, "value", value);
  return buildValue(b, "arith.constant", 0, NULL, mlirAttributeGetType(value),
                    1, &attr);
}

MlirValue cageBuildConstantFloat(CageBuilder *b, MlirType type, double value) {
  if (!mlirTypeIsAFloat(type)) {
    emitError(b, "a float constant needs a float type");
    return nullValue;
  }
  return buildConstant(b, mlirFloatAttrDoubleGet(b->context, type, value));
}

MlirValue cageBuildConstantF32(CageBuilder *b, float value) {
  return cageBuildConstantFloat(b, mlirF32TypeGet(b->context), value);
}

MlirValue cageBuildConstantFloatSplat(CageBuilder *b, MlirType shapedType,
                                      double value) {
  if ((!mlirTypeIsAVector(shapedType) &&
       !mlirTypeIsARankedTensor(shapedType)) ||
      !mlirTypeIsAFloat(mlirShapedTypeGetElementType(shapedType))) {
    emitError(b, "a float splat constant needs a vector or ranked tensor "
                 "type of floats");
    return nullValue;
  }
  MlirAttribute element = mlirFloatAttrDoubleGet(
      b->context, mlirShapedTypeGetElementType(shapedType), value);
  return buildConstant(b, mlirDenseElementsAttrSplatGet(shapedType, element));
}

MlirValue cageBuildConstantInt(CageBuilder *b, MlirType type, int64_t value) {
  if (!mlirTypeIsAInteger(type) && !mlirTypeIsAIndex(type)) {
    emitError(b, "an integer constant needs an integer or index type");
    return nullValue;
  }
  return buildConstant(b, mlirIntegerAttrGet(type, value));
}

MlirValue cageBuildConstantI64(CageBuilder *b, int64_t value) {
  return cageBuildConstantInt(b, mlirIntegerTypeGet(b->context, 64), value);
}

MlirValue cageBuildConstantIndex(CageBuilder *b, int64_t value) {
  return cageBuildConstantInt(b, mlirIndexTypeGet(b->context), value);
}

/*===--- Element-wise arith and math ops ----------------------------------===*/

/* Each kind of op is built in one place; the typed calls only name the op.
 * The name is still checked: its dialect may not be loaded. */

static MlirValue buildBinary(CageBuilder *b, const char *opName, MlirValue lhs,
                             MlirValue rhs) {
  MlirValue operands[] = {lhs, rhs};
  if (anyNull(operands, 2) || !isRegisteredOp(b, opName))
    return nullValue;
  return buildValue(b, opName, 2, operands, mlirValueGetType(lhs), 0, NULL);
}

static MlirValue buildUnary(CageBuilder *b, const char *opName,
                            MlirValue operand) {
  if (mlirValueIsNull(operand) || !isRegisteredOp(b, opName))
    return nullValue;
  return buildValue(b, opName, 1, &operand, mlirValueGetType(operand), 0, NULL);
}

static MlirValue buildCast(CageBuilder *b, const char *opName,
                           MlirValue operand, MlirType resultType) {
  if (mlirValueIsNull(operand) || !isRegisteredOp(b, opName))
    return nullValue;
  return buildValue(b, opName, 1, &operand, resultType, 0, NULL);
}

#define CAGE_BINARY(name, opName)                                              \
  MlirValue cageBuild##name(CageBuilder *b, MlirValue lhs, MlirValue rhs) {    \
    return buildBinary(b, opName, lhs, rhs);                                   \
  }
#define CAGE_UNARY(name, opName)                                               \
  MlirValue cageBuild##name(CageBuilder *b, MlirValue operand) {               \
    return buildUnary(b, opName, operand);                                     \
  }
#define CAGE_CAST(name, opName)                                                \
  MlirValue cageBuild##name(CageBuilder *b, MlirValue operand,                 \
                            MlirType resultType) {                             \
    return buildCast(b, opName, operand, resultType);                          \
  }

CAGE_BINARY(AddF, "arith.addf")
CAGE_BINARY(SubF, "arith.subf")
CAGE_BINARY(MulF, "arith.mulf")
CAGE_BINARY(DivF, "arith.divf")
CAGE_BINARY(MaximumF, "arith.maximumf")
CAGE_BINARY(MinimumF, "arith.minimumf")
CAGE_BINARY(MaxNumF, "arith.maxnumf")
CAGE_BINARY(MinNumF, "arith.minnumf")
CAGE_BINARY(CopySign, "math.copysign")
CAGE_BINARY(AddI, "arith.addi")
CAGE_BINARY(SubI, "arith.subi")
CAGE_BINARY(MulI, "arith.muli")
CAGE_BINARY(DivUI, "arith.divui")
CAGE_BINARY(CeilDivUI, "arith.ceildivui")
CAGE_BINARY(CeilDivSI, "arith.ceildivsi")
CAGE_BINARY(RemUI, "arith.remui")
CAGE_BINARY(AndI, "arith.andi")
CAGE_BINARY(OrI, "arith.ori")
CAGE_BINARY(XOrI, "arith.xori")
CAGE_BINARY(ShLI, "arith.shli")
CAGE_BINARY(ShRUI, "arith.shrui")
CAGE_BINARY(ShRSI, "arith.shrsi")
CAGE_BINARY(MaxSI, "arith.maxsi")
CAGE_BINARY(MaxUI, "arith.maxui")
CAGE_BINARY(MinSI, "arith.minsi")
CAGE_BINARY(MinUI, "arith.minui")

CAGE_UNARY(NegF, "arith.negf")
CAGE_UNARY(AbsF, "math.absf")
CAGE_UNARY(Floor, "math.floor")
CAGE_UNARY(RoundEven, "math.roundeven")
CAGE_UNARY(Sqrt, "math.sqrt")

CAGE_CAST(ExtF, "arith.extf")
CAGE_CAST(TruncF, "arith.truncf")
CAGE_CAST(ExtUI, "arith.extui")
CAGE_CAST(TruncI, "arith.trunci")
CAGE_CAST(SIToFP, "arith.sitofp")
CAGE_CAST(UIToFP, "arith.uitofp")
CAGE_CAST(FPToSI, "arith.fptosi")
CAGE_CAST(IndexCast, "arith.index_cast")
CAGE_CAST(Bitcast, "arith.bitcast")

#undef CAGE_BINARY
#undef CAGE_UNARY
#undef CAGE_CAST

/* arith.cmpf and arith.cmpi keep their predicate as the i64 value of
 * arith::CmpFPredicate or arith::CmpIPredicate (I64EnumAttrs: the generic
 * form prints `predicate = 4 : i64`), which CageCmpFPredicate and
 * CageCmpIPredicate mirror; there is no `#arith<cmpf ...>` attribute. */
typedef struct Comparison {
  const char *opName;
  const char *caller;
  int numPredicates;
} Comparison;

static const Comparison cmpf = {"arith.cmpf", "cageBuildCmpF",
                                CageCmpFAlwaysTrue + 1};
static const Comparison cmpi = {"arith.cmpi", "cageBuildCmpI", CageCmpIUGE + 1};

static MlirValue buildComparison(CageBuilder *b, const Comparison *cmp,
                                 int predicate, MlirValue lhs, MlirValue rhs) {
  MlirValue operands[] = {lhs, rhs};
  if (anyNull(operands, 2) || !isRegisteredOp(b, cmp->opName))
    return nullValue;
  if (mlirTypeIsAShaped(mlirValueGetType(lhs))) {
    emitError(b, "%s compares scalars, not shaped values", cmp->caller);
    return nullValue;
  }
  if (predicate < 0 || predicate >= cmp->numPredicates) {
    emitError(b, "%s: %d is not an %s predicate", cmp->caller, predicate,
              cmp->opName);
    return nullValue;
  }
  MlirType i64 = mlirIntegerTypeGet(b->context, 64);
  MlirNamedAttribute attr =
      cageNamedAttribute(b, "predicate", mlirIntegerAttrGet(i64, predicate));
  return buildValue(b, cmp->opName, 2, operands,
                    mlirIntegerTypeGet(b->context, 1), 1, &attr);
}

MlirValue cageBuildCmpF(CageBuilder *b, CageCmpFPredicate predicate,
                        MlirValue lhs, MlirValue rhs) {
  return buildComparison(b, &cmpf, (int)predicate, lhs, rhs);
}

MlirValue cageBuildCmpI(CageBuilder *b, CageCmpIPredicate predicate,
                        MlirValue lhs, MlirValue rhs) {
  return buildComparison(b, &cmpi, (int)predicate, lhs, rhs);
}

MlirValue cageBuildSelect(CageBuilder *b, MlirValue condition,
                          MlirValue trueValue, MlirValue falseValue) {
  MlirValue operands[] = {condition, trueValue, falseValue};
  if (anyNull(operands, 3))
    return nullValue;
  return buildValue(b, "arith.select", 3, operands, mlirValueGetType(trueValue),
                    0, NULL);
}

MlirValue cageBuildTrainingProgress(CageBuilder *b, MlirValue step,
                                    MlirValue total) {
  MlirType f32 = mlirF32TypeGet(b->context);
  /* One statement each, so that the ops come in this order (the order in
   * which a call's arguments are evaluated is unspecified). */
  MlirValue t = cageBuildSIToFP(b, step, f32);
  MlirValue ratio = cageBuildDivF(b, t, cageBuildSIToFP(b, total, f32));
  MlirValue one = cageBuildConstantF32(b, 1.0f);
  return cageBuildSelect(b, cageBuildCmpF(b, CageCmpFOLT, ratio, one), ratio,
                         one);
}

/*===--- Tensors ----------------------------------------------------------===*/

MlirValue cageBuildDim(CageBuilder *b, MlirValue tensor, intptr_t dim) {
  if (!isRankedTensorValue(b, tensor, "the operand of tensor.dim"))
    return nullValue;
  MlirType type = mlirValueGetType(tensor);
  if (dim < 0 || dim >= mlirShapedTypeGetRank(type)) {
    emitError(b, "tensor.dim of dimension %lld of a rank-%lld tensor",
              (long long)dim, (long long)mlirShapedTypeGetRank(type));
    return nullValue;
  }
  MlirValue operands[] = {tensor, cageBuildConstantIndex(b, dim)};
  return buildValue(b, "tensor.dim", 2, operands, mlirIndexTypeGet(b->context),
                    0, NULL);
}

static intptr_t countDynamicDims(MlirType type) {
  intptr_t count = 0;
  for (intptr_t d = 0; d < mlirShapedTypeGetRank(type); ++d)
    count += mlirShapedTypeIsDynamicDim(type, d);
  return count;
}

MlirValue cageBuildEmpty(CageBuilder *b, MlirType tensorType,
                         const MlirValue *dynamicSizes,
                         intptr_t numDynamicSizes) {
  if (!isRankedTensor(b, tensorType, "the type of tensor.empty") ||
      anyNull(dynamicSizes, numDynamicSizes))
    return nullValue;
  if (numDynamicSizes != countDynamicDims(tensorType)) {
    emitError(b, "tensor.empty needs %lld dynamic sizes, got %lld",
              (long long)countDynamicDims(tensorType),
              (long long)numDynamicSizes);
    return nullValue;
  }
  return buildValue(b, "tensor.empty", numDynamicSizes, dynamicSizes,
                    tensorType, 0, NULL);
}

MlirValue cageBuildEmptyLike(CageBuilder *b, MlirValue like) {
  if (mlirValueIsNull(like))
    return nullValue;
  return cageBuildEmptyLikeWithElementType(b, like, elementType(like));
}

MlirValue cageBuildEmptyLikeWithElementType(CageBuilder *b, MlirValue like,
                                            MlirType elementType) {
  if (!isRankedTensorValue(b, like, "the value an empty tensor is made like"))
    return nullValue;
  MlirType likeType = mlirValueGetType(like);
  intptr_t rank = mlirShapedTypeGetRank(likeType);
  int64_t *shape = cageAllocArray(rank, sizeof *shape);
  MlirValue *dynamicSizes = cageAllocArray(rank, sizeof *dynamicSizes);
  intptr_t numDynamicSizes = 0;
  for (intptr_t d = 0; d < rank; ++d) {
    shape[d] = mlirShapedTypeGetDimSize(likeType, d);
    if (mlirShapedTypeIsDynamicDim(likeType, d))
      dynamicSizes[numDynamicSizes++] = cageBuildDim(b, like, d);
  }
  MlirType type = mlirRankedTensorTypeGet(
      rank, shape, elementType, mlirRankedTensorTypeGetEncoding(likeType));
  MlirValue empty = cageBuildEmpty(b, type, dynamicSizes, numDynamicSizes);
  free(dynamicSizes);
  free(shape);
  return empty;
}

/* [[0, 1], [2], ...]: the reassociation of consecutive groups of
 * dimensions, `groupSizes[g]` in group g. */
static MlirAttribute reassociation(CageBuilder *b, const int64_t *groupSizes,
                                   intptr_t numGroups) {
  MlirType i64 = mlirIntegerTypeGet(b->context, 64);
  MlirAttribute *groups = cageAllocArray(numGroups, sizeof *groups);
  int64_t next = 0;
  for (intptr_t g = 0; g < numGroups; ++g) {
    MlirAttribute *dims = cageAllocArray(groupSizes[g], sizeof *dims);
    for (int64_t k = 0; k < groupSizes[g]; ++k)
      dims[k] = mlirIntegerAttrGet(i64, next++);
    groups[g] = mlirArrayAttrGet(b->context, groupSizes[g], dims);
    free(dims);
  }
  MlirAttribute attr = mlirArrayAttrGet(b->context, numGroups, groups);
  free(groups);
  return attr;
}

/* Whether the reshape `opName` of `source` can be built: both types are
 * ranked tensors and `groupSizes` splits the dimensions of the higher-ranked
 * one into consecutive groups, one per dimension of the other. */
static bool canReshape(CageBuilder *b, const char *opName, MlirValue source,
                       MlirType resultType, const int64_t *groupSizes) {
  char sourceWhat[64], resultWhat[64];
  snprintf(sourceWhat, sizeof sourceWhat, "the source of %s", opName);
  snprintf(resultWhat, sizeof resultWhat, "the result type of %s", opName);
  if (!isRankedTensorValue(b, source, sourceWhat) ||
      !isRegisteredOp(b, opName) || !isRankedTensor(b, resultType, resultWhat))
    return false;
  MlirType sourceType = mlirValueGetType(source);
  bool expand = strcmp(opName, "tensor.expand_shape") == 0;
  intptr_t numGroups = mlirShapedTypeGetRank(expand ? sourceType : resultType);
  intptr_t numDims = mlirShapedTypeGetRank(expand ? resultType : sourceType);
  int64_t total = 0;
  for (intptr_t g = 0; g < numGroups; ++g) {
    if (groupSizes[g] < 1) {
      emitError(b, "%s: reassociation group %lld has %lld dimensions", opName,
                (long long)g, (long long)groupSizes[g]);
      return false;
    }
    total += groupSizes[g];
  }
  if (total != numDims) {
    emitError(b,
              "%s: the reassociation groups %lld dimensions, the %s has %lld",
              opName, (long long)total, expand ? "result" : "source",
              (long long)numDims);
    return false;
  }
  return true;
}

MlirValue cageBuildEmptyWithoutDim(CageBuilder *b, MlirValue like,
                                   intptr_t dim) {
  if (mlirValueIsNull(like))
    return nullValue;
  MlirType type = mlirValueGetType(like);
  if (!isRankedTensor(b, type, "the shape of cageBuildEmptyWithoutDim"))
    return nullValue;
  intptr_t rank = mlirShapedTypeGetRank(type);
  if (dim < 0 || dim >= rank) {
    emitError(b, "dimension %lld of a tensor of rank %lld", (long long)dim,
              (long long)rank);
    return nullValue;
  }
  int64_t *shape = cageAllocArray(rank, sizeof *shape);
  MlirValue *sizes = cageAllocArray(rank, sizeof *sizes);
  intptr_t n = 0, numDynamic = 0;
  for (intptr_t d = 0; d < rank; ++d) {
    if (d == dim)
      continue;
    shape[n++] = mlirShapedTypeGetDimSize(type, d);
    if (mlirShapedTypeIsDynamicDim(type, d))
      sizes[numDynamic++] = cageBuildDim(b, like, d);
  }
  MlirType result = mlirRankedTensorTypeGet(
      n, shape, mlirShapedTypeGetElementType(type), mlirAttributeGetNull());
  MlirValue empty = cageBuildEmpty(b, result, sizes, numDynamic);
  free(sizes);
  free(shape);
  return empty;
}

MlirValue cageBuildExpandShape(CageBuilder *b, MlirValue source,
                               MlirType resultType, const int64_t *groupSizes,
                               const MlirValue *outputSizes) {
  const char *opName = "tensor.expand_shape";
  if (!canReshape(b, opName, source, resultType, groupSizes))
    return nullValue;
  intptr_t rank = mlirShapedTypeGetRank(resultType);
  MlirValue *operands = cageAllocArray(1 + rank, sizeof *operands);
  int64_t *staticSizes = cageAllocArray(rank, sizeof *staticSizes);
  operands[0] = source;
  intptr_t numOperands = 1;
  for (intptr_t d = 0; d < rank; ++d) {
    staticSizes[d] = mlirShapedTypeGetDimSize(resultType, d);
    if (mlirShapedTypeIsDynamicDim(resultType, d))
      operands[numOperands++] = outputSizes[d];
  }
  MlirValue expanded = nullValue;
  if (!anyNull(operands, numOperands)) {
    intptr_t numGroups = mlirShapedTypeGetRank(mlirValueGetType(source));
    MlirNamedAttribute attributes[] = {
        cageNamedAttribute(b, "reassociation",
                           reassociation(b, groupSizes, numGroups)),
        cageNamedAttribute(
            b, "static_output_shape",
            mlirDenseI64ArrayGet(b->context, rank, staticSizes))};
    expanded =
        buildValue(b, opName, numOperands, operands, resultType, 2, attributes);
  }
  free(staticSizes);
  free(operands);
  return expanded;
}

MlirValue cageBuildCollapseShape(CageBuilder *b, MlirValue source,
                                 MlirType resultType,
                                 const int64_t *groupSizes) {
  const char *opName = "tensor.collapse_shape";
  if (!canReshape(b, opName, source, resultType, groupSizes))
    return nullValue;
  MlirNamedAttribute attribute = cageNamedAttribute(
      b, "reassociation",
      reassociation(b, groupSizes, mlirShapedTypeGetRank(resultType)));
  return buildValue(b, opName, 1, &source, resultType, 1, &attribute);
}

MlirValue cageBuildSplitInnermost(CageBuilder *b, MlirValue source,
                                  const int64_t *tail, intptr_t numTail) {
  if (!isRankedTensorValue(b, source, "the tensor to split"))
    return nullValue;
  MlirType sourceType = mlirValueGetType(source);
  intptr_t rank = mlirShapedTypeGetRank(sourceType);
  if (rank < 1) {
    emitError(b, "a rank-0 tensor has no innermost dimension to split");
    return nullValue;
  }
  int64_t factor = 1;
  for (intptr_t k = 0; k < numTail; ++k) {
    if (tail[k] < 1) {
      emitError(b, "cannot split off a dimension of size %lld",
                (long long)tail[k]);
      return nullValue;
    }
    factor *= tail[k];
  }
  bool dynamic = mlirShapedTypeIsDynamicDim(sourceType, rank - 1);
  int64_t n = mlirShapedTypeGetDimSize(sourceType, rank - 1);
  if (!dynamic && n % factor != 0) {
    emitError(b,
              "cannot split the innermost dimension of size %lld into parts "
              "of %lld elements",
              (long long)n, (long long)factor);
    return nullValue;
  }

  intptr_t resultRank = rank + numTail;
  int64_t *shape = cageAllocArray(resultRank, sizeof *shape);
  MlirValue *sizes = cageAllocArray(resultRank, sizeof *sizes);
  for (intptr_t d = 0; d < rank; ++d) {
    bool dynamicDim = mlirShapedTypeIsDynamicDim(sourceType, d);
    int64_t size = mlirShapedTypeGetDimSize(sourceType, d);
    sizes[d] = dynamicDim ? cageBuildDim(b, source, d) : nullValue;
    shape[d] = dynamicDim || d < rank - 1 ? size : size / factor;
  }
  if (dynamic)
    sizes[rank - 1] =
        cageBuildDivUI(b, sizes[rank - 1], cageBuildConstantIndex(b, factor));
  for (intptr_t k = 0; k < numTail; ++k) {
    shape[rank + k] = tail[k];
    sizes[rank + k] = nullValue;
  }
  int64_t *groupSizes = cageAllocArray(rank, sizeof *groupSizes);
  for (intptr_t d = 0; d < rank; ++d)
    groupSizes[d] = d < rank - 1 ? 1 : 1 + numTail;
  MlirType resultType = mlirRankedTensorTypeGet(
      resultRank, shape, mlirShapedTypeGetElementType(sourceType),
      mlirAttributeGetNull());
  MlirValue split =
      cageBuildExpandShape(b, source, resultType, groupSizes, sizes);
  free(groupSizes);
  free(sizes);
  free(shape);
  return split;
}

MlirValue cageBuildMergeInnermost(CageBuilder *b, MlirValue source,
                                  MlirType resultType) {
  if (!isRankedTensorValue(b, source, "the tensor to merge") ||
      !isRankedTensor(b, resultType, "the type of the merged tensor"))
    return nullValue;
  MlirType sourceType = mlirValueGetType(source);
  intptr_t rank = mlirShapedTypeGetRank(resultType);
  intptr_t sourceRank = mlirShapedTypeGetRank(sourceType);
  if (rank < 1 || sourceRank < rank) {
    emitError(b,
              "cannot merge the innermost dimensions of a rank-%lld tensor "
              "into a rank-%lld tensor",
              (long long)sourceRank, (long long)rank);
    return nullValue;
  }
  int64_t *groupSizes = cageAllocArray(rank, sizeof *groupSizes);
  for (intptr_t d = 0; d < rank; ++d)
    groupSizes[d] = d < rank - 1 ? 1 : 1 + sourceRank - rank;
  MlirValue merged = cageBuildCollapseShape(b, source, resultType, groupSizes);
  free(groupSizes);
  return merged;
}

/*===--- Linalg -----------------------------------------------------------===*/

static MlirNamedAttribute operandSegmentSizes(CageBuilder *b, int32_t numInputs,
                                              int32_t numOutputs) {
  int32_t sizes[] = {numInputs, numOutputs};
  return cageNamedAttribute(b, "operandSegmentSizes",
                            mlirDenseI32ArrayGet(b->context, 2, sizes));
}

MlirValue cageBuildAllocTensor(CageBuilder *b, MlirType tensorType) {
  if (!isRankedTensor(b, tensorType, "the type of bufferization.alloc_tensor"))
    return nullValue;
  int32_t noOperands[] = {0, 0, 0}; /* dynamic sizes, copy, size hint */
  MlirNamedAttribute segments =
      cageNamedAttribute(b, "operandSegmentSizes",
                         mlirDenseI32ArrayGet(b->context, 3, noOperands));
  return cageOperationGetResult(cageBuildOp(b, "bufferization.alloc_tensor", 0,
                                            NULL, 1, &tensorType, 1, &segments),
                                0);
}

MlirValue cageBuildFill(CageBuilder *b, MlirValue value, MlirValue init) {
  MlirValue operands[] = {value, init};
  if (anyNull(operands, 2) || !isRegisteredOp(b, "linalg.fill"))
    return nullValue;
  MlirType type = mlirValueGetType(init);
  if (!isRankedTensor(b, type, "the init of linalg.fill"))
    return nullValue;
  MlirOperationState state =
      mlirOperationStateGet(cageStr("linalg.fill"), b->location);
  mlirOperationStateAddOperands(&state, 2, operands);
  mlirOperationStateAddResults(&state, 1, &type);
  MlirNamedAttribute segments = operandSegmentSizes(b, 1, 1);
  mlirOperationStateAddAttributes(&state, 1, &segments);
  MlirRegion region = mlirRegionCreate();
  mlirOperationStateAddOwnedRegions(&state, 1, &region);
  MlirOperation fill = mlirOperationCreate(&state);
  /* Named ops get their body from the op's own region builder, which the C
   * API exposes only for an op already created with an empty region. */
  mlirLinalgFillBuiltinNamedOpRegion(fill);
  return mlirOperationGetResult(insert(b, fill), 0);
}

MlirValue cageBuildLinalgIndex(CageBuilder *b, int64_t dim) {
  if (!isRegisteredOp(b, "linalg.index"))
    return nullValue;
  if (dim < 0) {
    emitError(b, "linalg.index of loop %lld", (long long)dim);
    return nullValue;
  }
  MlirType i64 = mlirIntegerTypeGet(b->context, 64);
  MlirNamedAttribute attribute =
      cageNamedAttribute(b, "dim", mlirIntegerAttrGet(i64, dim));
  return buildValue(b, "linalg.index", 0, NULL, mlirIndexTypeGet(b->context), 1,
                    &attribute);
}

/* The indexing_maps of a generic, or null (reported) when a map is null or
 * does not have one dimension per loop. */
static MlirAttribute indexingMaps(CageBuilder *b, const CageGenericSpec *spec) {
  intptr_t count = spec->numInputs + spec->numOutputs;
  MlirAttribute *maps = cageAllocArray(count, sizeof *maps);
  MlirAttribute array = mlirAttributeGetNull();
  intptr_t i = 0;
  for (; i < count; ++i) {
    MlirAffineMap map = spec->indexingMaps[i];
    if (mlirAffineMapIsNull(map)) {
      emitError(b, "indexing map %lld is null", (long long)i);
      break;
    }
    if (mlirAffineMapGetNumDims(map) != spec->numLoops) {
      emitError(b,
                "indexing map %lld has %lld dimensions, not one per loop "
                "(%lld)",
                (long long)i, (long long)mlirAffineMapGetNumDims(map),
                (long long)spec->numLoops);
      break;
    }
    maps[i] = mlirAffineMapAttrGet(map);
  }
  if (i == count)
    array = mlirArrayAttrGet(b->context, count, maps);
  free(maps);
  return array;
}

/* The iterator_types of a generic, or null (reported) when one is not a
 * CageIteratorType. They are #linalg.iterator_type<...> enum attributes,
 * which the C API has no constructor for: each of the two is parsed from its
 * fixed text, at most once per generic. */
static MlirAttribute iteratorTypes(CageBuilder *b,
                                   const CageGenericSpec *spec) {
  static const char *const texts[] = {
      [CageIteratorParallel] = "#linalg.iterator_type<parallel>",
      [CageIteratorReduction] = "#linalg.iterator_type<reduction>"};
  MlirAttribute parsed[] = {mlirAttributeGetNull(), mlirAttributeGetNull()};
  MlirAttribute *types = cageAllocArray(spec->numLoops, sizeof *types);
  MlirAttribute array = mlirAttributeGetNull();
  intptr_t d = 0;
  for (; d < spec->numLoops; ++d) {
    int type = (int)spec->iteratorTypes[d];
    if (type != CageIteratorParallel && type != CageIteratorReduction) {
      emitError(b, "iterator type %lld is %d, not a CageIteratorType",
                (long long)d, type);
      break;
    }
    if (mlirAttributeIsNull(parsed[type]))
      parsed[type] = mlirAttributeParseGet(b->context, cageStr(texts[type]));
    types[d] = parsed[type];
  }
  if (d == spec->numLoops)
    array = mlirArrayAttrGet(b->context, spec->numLoops, types);
  free(types);
  return array;
}

static MlirValue genericOperand(const CageGenericSpec *spec, intptr_t i) {
  return i < spec->numInputs ? spec->inputs[i]
                             : spec->outputs[i - spec->numInputs];
}

/* Lets the body callback run on a block that is not in any op yet; the block
 * is destroyed if the callback leaves an output without a value. */
static MlirBlock buildGenericBody(CageBuilder *b, const CageGenericSpec *spec) {
  intptr_t numArgs = spec->numInputs + spec->numOutputs;
  MlirType *types = cageAllocArray(numArgs, sizeof *types);
  MlirLocation *locations = cageAllocArray(numArgs, sizeof *locations);
  for (intptr_t i = 0; i < numArgs; ++i) {
    types[i] = elementType(genericOperand(spec, i));
    locations[i] = b->location;
  }
  MlirBlock block = mlirBlockCreate(numArgs, types, locations);
  free(locations);
  free(types);

  MlirValue *args = cageAllocArray(numArgs, sizeof *args);
  for (intptr_t i = 0; i < numArgs; ++i)
    args[i] = mlirBlockGetArgument(block, i);
  MlirValue *yielded = cageAllocArray(spec->numOutputs, sizeof *yielded);
  CageBuilder body = cageBuilderAtEndOfBlock(block, b->location);
  spec->body(&body, args, numArgs, yielded, spec->userData);

  if (anyNull(yielded, spec->numOutputs)) {
    emitError(b, "the body of linalg.generic left a yielded value null");
    mlirBlockDestroy(block);
    block = nullBlock;
  } else {
    buildOp(&body, "linalg.yield", spec->numOutputs, yielded, 0, NULL, 0, NULL);
  }
  free(yielded);
  free(args);
  return block;
}

static bool genericOutputsAreTensors(CageBuilder *b,
                                     const CageGenericSpec *spec) {
  for (intptr_t i = 0; i < spec->numOutputs; ++i)
    if (!isRankedTensor(b, mlirValueGetType(spec->outputs[i]),
                        "an output of linalg.generic"))
      return false;
  return true;
}

MlirOperation cageBuildGeneric(CageBuilder *b, const CageGenericSpec *spec) {
  if (anyNull(spec->inputs, spec->numInputs) ||
      anyNull(spec->outputs, spec->numOutputs) ||
      !isRegisteredOp(b, "linalg.generic") ||
      !genericOutputsAreTensors(b, spec))
    return nullOperation;
  MlirAttribute maps = indexingMaps(b, spec);
  if (mlirAttributeIsNull(maps))
    return nullOperation;
  MlirAttribute iterators = iteratorTypes(b, spec);
  if (mlirAttributeIsNull(iterators))
    return nullOperation;
  MlirBlock body = buildGenericBody(b, spec);
  if (mlirBlockIsNull(body))
    return nullOperation;

  MlirOperationState state =
      mlirOperationStateGet(cageStr("linalg.generic"), b->location);
  mlirOperationStateAddOperands(&state, spec->numInputs, spec->inputs);
  mlirOperationStateAddOperands(&state, spec->numOutputs, spec->outputs);
  for (intptr_t i = 0; i < spec->numOutputs; ++i) {
    MlirType type = mlirValueGetType(spec->outputs[i]);
    mlirOperationStateAddResults(&state, 1, &type);
  }
  MlirNamedAttribute attributes[] = {
      cageNamedAttribute(b, "indexing_maps", maps),
      cageNamedAttribute(b, "iterator_types", iterators),
      operandSegmentSizes(b, (int32_t)spec->numInputs,
                          (int32_t)spec->numOutputs)};
  mlirOperationStateAddAttributes(&state, 3, attributes);
  MlirRegion region = mlirRegionCreate();
  mlirRegionAppendOwnedBlock(region, body);
  mlirOperationStateAddOwnedRegions(&state, 1, &region);
  return insert(b, mlirOperationCreate(&state));
}

MlirOperation cageBuildElementwise(CageBuilder *b, const MlirValue *inputs,
                                   intptr_t numInputs, const MlirValue *outputs,
                                   intptr_t numOutputs,
                                   CageGenericBodyBuilder body,
                                   void *userData) {
  if (numOutputs < 1 || anyNull(outputs, numOutputs) ||
      !isRankedTensor(b, mlirValueGetType(outputs[0]),
                      "an output of an element-wise linalg.generic"))
    return nullOperation;
  intptr_t rank = mlirShapedTypeGetRank(mlirValueGetType(outputs[0]));
  MlirAffineMap identity = cagePrefixMap(b->context, rank, rank);
  MlirAffineMap scalar = cagePrefixMap(b->context, rank, 0);
  intptr_t numOperands = numInputs + numOutputs;
  MlirAffineMap *maps = cageAllocArray(numOperands, sizeof *maps);
  for (intptr_t i = 0; i < numOperands; ++i) {
    MlirValue v = i < numInputs ? inputs[i] : outputs[i - numInputs];
    maps[i] = mlirValueIsNull(v) || mlirTypeIsAShaped(mlirValueGetType(v))
                  ? identity
                  : scalar;
  }
  CageIteratorType *iterators = cageAllocArray(rank, sizeof *iterators);
  for (intptr_t d = 0; d < rank; ++d)
    iterators[d] = CageIteratorParallel;
  CageGenericSpec spec = {inputs,    numInputs, outputs, numOutputs, maps,
                          iterators, rank,      body,    userData};
  MlirOperation op = cageBuildGeneric(b, &spec);
  free(iterators);
  free(maps);
  return op;
}

MlirValue cageBuildMatmul(CageBuilder *b, MlirValue lhs, MlirValue rhs,
                          MlirValue init, const MlirAffineMap maps[3]) {
  MlirValue operands[] = {lhs, rhs, init};
  if (anyNull(operands, 3) || mlirAffineMapIsNull(maps[2]))
    return nullValue;
  intptr_t numLoops = mlirAffineMapGetNumDims(maps[2]);
  const char *name = numLoops == 4 ? "linalg.batch_matmul" : "linalg.matmul";
  if (!isRegisteredOp(b, name))
    return nullValue;
  MlirType type = mlirValueGetType(init);
  if (!isRankedTensor(b, type, "the init of linalg.matmul"))
    return nullValue;
  CageGenericSpec spec = {.inputs = operands,
                          .numInputs = 2,
                          .outputs = &operands[2],
                          .numOutputs = 1,
                          .indexingMaps = maps,
                          .numLoops = numLoops};
  MlirAttribute mapsAttr = indexingMaps(b, &spec);
  if (mlirAttributeIsNull(mapsAttr))
    return nullValue;
  MlirOperationState state = mlirOperationStateGet(cageStr(name), b->location);
  mlirOperationStateAddOperands(&state, 3, operands);
  mlirOperationStateAddResults(&state, 1, &type);
  MlirNamedAttribute attributes[] = {
      cageNamedAttribute(b, "indexing_maps", mapsAttr),
      operandSegmentSizes(b, 2, 1)};
  mlirOperationStateAddAttributes(&state, 2, attributes);
  MlirRegion region = mlirRegionCreate();
  mlirOperationStateAddOwnedRegions(&state, 1, &region);
  MlirOperation matmul = mlirOperationCreate(&state);
  /* The body (mulf, addf, yield) from the op's own region builder, as for
   * linalg.fill. */
  mlirLinalgFillBuiltinNamedOpRegion(matmul);
  return cageOperationGetResult(insert(b, matmul), 0);
}

MlirValue cageBuildReduceAlongDim(CageBuilder *b, const MlirValue *inputs,
                                  intptr_t numInputs, intptr_t dim, double init,
                                  CageGenericBodyBuilder body, void *userData) {
  if (numInputs < 1 || anyNull(inputs, numInputs) ||
      !isRankedTensor(b, mlirValueGetType(inputs[0]),
                      "an input of a reduction along a dimension"))
    return nullValue;
  MlirType type = mlirValueGetType(inputs[0]);
  intptr_t rank = mlirShapedTypeGetRank(type);
  MlirValue out = cageBuildFill(
      b, cageBuildConstantFloat(b, mlirShapedTypeGetElementType(type), init),
      cageBuildEmptyWithoutDim(b, inputs[0], dim));
  MlirAffineMap *maps = cageAllocArray(numInputs + 1, sizeof *maps);
  for (intptr_t i = 0; i < numInputs; ++i)
    maps[i] = cagePrefixMap(b->context, rank, rank);
  maps[numInputs] = cageMapDroppingDim(b->context, rank, dim);
  CageIteratorType *iterators = cageAllocArray(rank, sizeof *iterators);
  for (intptr_t d = 0; d < rank; ++d)
    iterators[d] = d == dim ? CageIteratorReduction : CageIteratorParallel;
  CageGenericSpec spec = {inputs,    numInputs, &out, 1,       maps,
                          iterators, rank,      body, userData};
  MlirValue result = cageOperationGetResult(cageBuildGeneric(b, &spec), 0);
  free(iterators);
  free(maps);
  return result;
}

MlirValue cageBuildElementwiseWithRows(CageBuilder *b, const MlirValue *inputs,
                                       intptr_t numInputs, MlirValue rows,
                                       intptr_t dim, MlirValue out,
                                       CageGenericBodyBuilder body,
                                       void *userData) {
  if (anyNull(inputs, numInputs) || mlirValueIsNull(rows) ||
      mlirValueIsNull(out) ||
      !isRankedTensor(b, mlirValueGetType(out),
                      "the output of an element-wise op with rows"))
    return nullValue;
  intptr_t rank = mlirShapedTypeGetRank(mlirValueGetType(out));
  MlirValue *all = cageAllocArray(numInputs + 1, sizeof *all);
  MlirAffineMap *maps = cageAllocArray(numInputs + 2, sizeof *maps);
  MlirAffineMap id = cagePrefixMap(b->context, rank, rank);
  for (intptr_t i = 0; i < numInputs; ++i) {
    all[i] = inputs[i];
    maps[i] = id;
  }
  all[numInputs] = rows;
  maps[numInputs] = cageMapDroppingDim(b->context, rank, dim);
  maps[numInputs + 1] = id;
  CageIteratorType *iterators = cageAllocArray(rank, sizeof *iterators);
  CageGenericSpec spec = {all,       numInputs + 1, &out, 1,       maps,
                          iterators, rank,          body, userData};
  MlirValue result = cageOperationGetResult(cageBuildGeneric(b, &spec), 0);
  free(iterators);
  free(maps);
  free(all);
  return result;
}

/*===--- Indexing maps ----------------------------------------------------===*/

MlirAffineMap cagePrefixMap(MlirContext ctx, intptr_t numDims,
                            intptr_t numResults) {
  if (numDims < 0 || numResults < 0 || numResults > numDims)
    return (MlirAffineMap){NULL};
  /* The major submap of no results is the null map, not `-> ()`. */
  if (numResults == 0)
    return mlirAffineMapZeroResultGet(ctx, numDims, 0);
  return mlirAffineMapGetMajorSubMap(
      mlirAffineMapMultiDimIdentityGet(ctx, numDims), numResults);
}

MlirAffineMap cageMapFixingDim(MlirContext ctx, intptr_t numDims, intptr_t dim,
                               int64_t value) {
  if (dim < 0 || dim >= numDims)
    return (MlirAffineMap){NULL};
  return mlirAffineMapReplace(mlirAffineMapMultiDimIdentityGet(ctx, numDims),
                              mlirAffineDimExprGet(ctx, dim),
                              mlirAffineConstantExprGet(ctx, value), numDims,
                              0);
}

MlirAffineMap cageMapDroppingDim(MlirContext ctx, intptr_t numDims,
                                 intptr_t dim) {
  if (dim < 0 || dim >= numDims)
    return (MlirAffineMap){NULL};
  MlirAffineExpr *exprs = cageAllocArray(numDims, sizeof *exprs);
  intptr_t n = 0;
  for (intptr_t d = 0; d < numDims; ++d)
    if (d != dim)
      exprs[n++] = mlirAffineDimExprGet(ctx, d);
  MlirAffineMap map = mlirAffineMapGet(ctx, numDims, 0, n, exprs);
  free(exprs);
  return map;
}

/*===--- Slices and parallel loops ---------------------------------------===*/

/* MLIR's "dynamic" marker in static offset and size arrays. */
static const int64_t kDynamic = INT64_MIN;

/* The static array of `count` slice indices (kDynamic where a value is
 * given), and the values appended to `operands` from `*numOperands` on. */
static MlirAttribute sliceIndices(CageBuilder *b, const CageSliceIndex *indices,
                                  intptr_t count, MlirValue *operands,
                                  intptr_t *numOperands, int32_t *numDynamic) {
  int64_t *statics = cageAllocArray(count, sizeof *statics);
  *numDynamic = 0;
  for (intptr_t d = 0; d < count; ++d) {
    bool dynamic = !mlirValueIsNull(indices[d].value);
    statics[d] = dynamic ? kDynamic : indices[d].constant;
    if (dynamic) {
      operands[(*numOperands)++] = indices[d].value;
      ++*numDynamic;
    }
  }
  MlirAttribute attr = mlirDenseI64ArrayGet(b->context, count, statics);
  free(statics);
  return attr;
}

/* extract_slice (no dest), insert_slice and parallel_insert_slice share
 * their operands (source, [dest], offsets, sizes, strides) and properties. */
static MlirOperation buildSliceOp(CageBuilder *b, const char *opName,
                                  MlirValue source, MlirValue dest,
                                  const CageSliceIndex *offsets,
                                  const CageSliceIndex *sizes, intptr_t rank,
                                  intptr_t numResults, MlirType resultType) {
  MlirValue *operands = cageAllocArray(2 + 2 * rank, sizeof *operands);
  intptr_t numOperands = 0;
  operands[numOperands++] = source;
  if (!mlirValueIsNull(dest))
    operands[numOperands++] = dest;
  int32_t numOffsets, numSizes;
  MlirAttribute staticOffsets =
      sliceIndices(b, offsets, rank, operands, &numOperands, &numOffsets);
  MlirAttribute staticSizes =
      sliceIndices(b, sizes, rank, operands, &numOperands, &numSizes);
  int64_t *ones = cageAllocArray(rank, sizeof *ones);
  for (intptr_t d = 0; d < rank; ++d)
    ones[d] = 1;
  /* source, [dest], offsets, sizes, strides (all static) */
  bool hasDest = !mlirValueIsNull(dest);
  int32_t segments[5] = {1, 1, numOffsets, numSizes, 0};
  intptr_t numSegments = hasDest ? 5 : 4;
  if (!hasDest)
    memmove(segments + 1, segments + 2, 3 * sizeof *segments);
  MlirNamedAttribute attributes[] = {
      cageNamedAttribute(b, "static_offsets", staticOffsets),
      cageNamedAttribute(b, "static_sizes", staticSizes),
      cageNamedAttribute(b, "static_strides",
                         mlirDenseI64ArrayGet(b->context, rank, ones)),
      cageNamedAttribute(
          b, "operandSegmentSizes",
          mlirDenseI32ArrayGet(b->context, numSegments, segments))};
  MlirOperation op = nullOperation;
  if (!anyNull(operands, numOperands) && isRegisteredOp(b, opName))
    op = buildOp(b, opName, numOperands, operands, numResults, &resultType, 4,
                 attributes);
  free(ones);
  free(operands);
  return op;
}

MlirValue cageBuildExtractSlice(CageBuilder *b, MlirValue source,
                                const CageSliceIndex *offsets,
                                const CageSliceIndex *sizes,
                                MlirType resultType) {
  if (!isRankedTensorValue(b, source, "the source of tensor.extract_slice"))
    return nullValue;
  intptr_t rank = mlirShapedTypeGetRank(mlirValueGetType(source));
  return cageOperationGetResult(buildSliceOp(b, "tensor.extract_slice", source,
                                             nullValue, offsets, sizes, rank, 1,
                                             resultType),
                                0);
}

MlirValue cageBuildInsertSlice(CageBuilder *b, MlirValue source, MlirValue dest,
                               const CageSliceIndex *offsets,
                               const CageSliceIndex *sizes) {
  if (mlirValueIsNull(source) ||
      !isRankedTensorValue(b, dest, "the destination of tensor.insert_slice"))
    return nullValue;
  MlirType type = mlirValueGetType(dest);
  return cageOperationGetResult(
      buildSliceOp(b, "tensor.insert_slice", source, dest, offsets, sizes,
                   mlirShapedTypeGetRank(type), 1, type),
      0);
}

MlirOperation cageBuildParallelInsertSlice(CageBuilder *b, MlirValue source,
                                           MlirValue dest,
                                           const CageSliceIndex *offsets,
                                           const CageSliceIndex *sizes) {
  if (mlirValueIsNull(source) ||
      !isRankedTensorValue(b, dest,
                           "the destination of tensor.parallel_insert_slice"))
    return nullOperation;
  intptr_t rank = mlirShapedTypeGetRank(mlirValueGetType(dest));
  return buildSliceOp(b, "tensor.parallel_insert_slice", source, dest, offsets,
                      sizes, rank, 0, mlirValueGetType(dest));
}

MlirOperation cageBuildForall(CageBuilder *b, MlirValue upperBound,
                              const MlirValue *sharedOuts,
                              intptr_t numSharedOuts,
                              CageForallBodyBuilder body, void *userData) {
  if (mlirValueIsNull(upperBound) || anyNull(sharedOuts, numSharedOuts) ||
      !isRegisteredOp(b, "scf.forall"))
    return nullOperation;
  MlirType *types = cageAllocArray(1 + numSharedOuts, sizeof *types);
  MlirLocation *locations =
      cageAllocArray(1 + numSharedOuts, sizeof *locations);
  types[0] = mlirIndexTypeGet(b->context);
  locations[0] = b->location;
  for (intptr_t i = 0; i < numSharedOuts; ++i) {
    types[1 + i] = mlirValueGetType(sharedOuts[i]);
    locations[1 + i] = b->location;
  }
  MlirBlock block = mlirBlockCreate(1 + numSharedOuts, types, locations);
  MlirBlock parallelBlock = mlirBlockCreate(0, NULL, NULL);
  MlirValue *blockOuts = cageAllocArray(numSharedOuts, sizeof *blockOuts);
  for (intptr_t i = 0; i < numSharedOuts; ++i)
    blockOuts[i] = mlirBlockGetArgument(block, 1 + i);
  CageBuilder bodyBuilder = cageBuilderAtEndOfBlock(block, b->location);
  CageBuilder parallelBuilder =
      cageBuilderAtEndOfBlock(parallelBlock, b->location);
  bool built = body(&bodyBuilder, mlirBlockGetArgument(block, 0), blockOuts,
                    &parallelBuilder, userData);
  free(blockOuts);
  if (!built) {
    mlirBlockDestroy(parallelBlock);
    mlirBlockDestroy(block);
    free(locations);
    free(types);
    return nullOperation;
  }

  MlirOperationState terminator =
      mlirOperationStateGet(cageStr("scf.forall.in_parallel"), b->location);
  MlirRegion parallelRegion = mlirRegionCreate();
  mlirRegionAppendOwnedBlock(parallelRegion, parallelBlock);
  mlirOperationStateAddOwnedRegions(&terminator, 1, &parallelRegion);
  mlirBlockAppendOwnedOperation(block, mlirOperationCreate(&terminator));

  MlirOperationState state =
      mlirOperationStateGet(cageStr("scf.forall"), b->location);
  mlirOperationStateAddOperands(&state, 1, &upperBound);
  mlirOperationStateAddOperands(&state, numSharedOuts, sharedOuts);
  mlirOperationStateAddResults(&state, numSharedOuts, types + 1);
  int64_t zero = 0, one = 1;
  int32_t segments[] = {0, 1, 0, (int32_t)numSharedOuts};
  MlirNamedAttribute attributes[] = {
      cageNamedAttribute(b, "staticLowerBound",
                         mlirDenseI64ArrayGet(b->context, 1, &zero)),
      cageNamedAttribute(b, "staticUpperBound",
                         mlirDenseI64ArrayGet(b->context, 1, &kDynamic)),
      cageNamedAttribute(b, "staticStep",
                         mlirDenseI64ArrayGet(b->context, 1, &one)),
      cageNamedAttribute(b, "operandSegmentSizes",
                         mlirDenseI32ArrayGet(b->context, 4, segments))};
  mlirOperationStateAddAttributes(&state, 4, attributes);
  MlirRegion region = mlirRegionCreate();
  mlirRegionAppendOwnedBlock(region, block);
  mlirOperationStateAddOwnedRegions(&state, 1, &region);
  free(locations);
  free(types);
  return insert(b, mlirOperationCreate(&state));
}

MlirOperation cageBuildParallel(CageBuilder *b, const MlirValue *lowerBounds,
                                const MlirValue *upperBounds,
                                const MlirValue *steps, intptr_t rank,
                                CageParallelBodyBuilder body, void *userData) {
  if (anyNull(lowerBounds, rank) || anyNull(upperBounds, rank) ||
      anyNull(steps, rank) || !isRegisteredOp(b, "scf.parallel"))
    return nullOperation;
  MlirType *types = cageAllocArray(rank, sizeof *types);
  MlirLocation *locations = cageAllocArray(rank, sizeof *locations);
  MlirValue *ivs = cageAllocArray(rank, sizeof *ivs);
  for (intptr_t i = 0; i < rank; ++i) {
    types[i] = mlirIndexTypeGet(b->context);
    locations[i] = b->location;
  }
  MlirBlock block = mlirBlockCreate(rank, types, locations);
  for (intptr_t i = 0; i < rank; ++i)
    ivs[i] = mlirBlockGetArgument(block, i);
  CageBuilder bodyBuilder = cageBuilderAtEndOfBlock(block, b->location);
  body(&bodyBuilder, ivs, userData);
  buildOp(&bodyBuilder, "scf.reduce", 0, NULL, 0, NULL, 0, NULL);
  MlirOperationState state =
      mlirOperationStateGet(cageStr("scf.parallel"), b->location);
  mlirOperationStateAddOperands(&state, rank, lowerBounds);
  mlirOperationStateAddOperands(&state, rank, upperBounds);
  mlirOperationStateAddOperands(&state, rank, steps);
  int32_t segments[] = {(int32_t)rank, (int32_t)rank, (int32_t)rank, 0};
  MlirNamedAttribute segmentSizes = cageNamedAttribute(
      b, "operandSegmentSizes", mlirDenseI32ArrayGet(b->context, 4, segments));
  mlirOperationStateAddAttributes(&state, 1, &segmentSizes);
  MlirRegion region = mlirRegionCreate();
  mlirRegionAppendOwnedBlock(region, block);
  mlirOperationStateAddOwnedRegions(&state, 1, &region);
  free(ivs);
  free(locations);
  free(types);
  return insert(b, mlirOperationCreate(&state));
}

MlirOperation cageBuildFor(CageBuilder *b, MlirValue lowerBound,
                           MlirValue upperBound, MlirValue step,
                           const MlirValue *inits, intptr_t numInits,
                           CageForBodyBuilder body, void *userData) {
  MlirValue bounds[] = {lowerBound, upperBound, step};
  if (anyNull(bounds, 3) || anyNull(inits, numInits) ||
      !isRegisteredOp(b, "scf.for"))
    return nullOperation;
  MlirType *types = cageAllocArray(1 + numInits, sizeof *types);
  MlirLocation *locations = cageAllocArray(1 + numInits, sizeof *locations);
  types[0] = mlirIndexTypeGet(b->context);
  locations[0] = b->location;
  for (intptr_t i = 0; i < numInits; ++i) {
    types[1 + i] = mlirValueGetType(inits[i]);
    locations[1 + i] = b->location;
  }
  MlirBlock block = mlirBlockCreate(1 + numInits, types, locations);
  MlirValue *args = cageAllocArray(1 + numInits, sizeof *args);
  for (intptr_t i = 0; i < 1 + numInits; ++i)
    args[i] = mlirBlockGetArgument(block, i);
  MlirValue *yielded = cageAllocArray(numInits, sizeof *yielded);
  CageBuilder bodyBuilder = cageBuilderAtEndOfBlock(block, b->location);
  body(&bodyBuilder, args[0], args + 1, yielded, userData);
  MlirOperation op = nullOperation;
  if (anyNull(yielded, numInits)) {
    mlirBlockDestroy(block);
  } else {
    buildOp(&bodyBuilder, "scf.yield", numInits, yielded, 0, NULL, 0, NULL);
    MlirOperationState state =
        mlirOperationStateGet(cageStr("scf.for"), b->location);
    mlirOperationStateAddOperands(&state, 3, bounds);
    mlirOperationStateAddOperands(&state, numInits, inits);
    mlirOperationStateAddResults(&state, numInits, types + 1);
    MlirRegion region = mlirRegionCreate();
    mlirRegionAppendOwnedBlock(region, block);
    mlirOperationStateAddOwnedRegions(&state, 1, &region);
    op = insert(b, mlirOperationCreate(&state));
  }
  free(yielded);
  free(args);
  free(locations);
  free(types);
  return op;
}

/* A block of one branch of an scf.if, filled by `body`; null (destroyed)
 * when a yielded value is null. */
static MlirBlock ifBranch(CageBuilder *b, intptr_t numResults,
                          CageIfBodyBuilder body, void *userData) {
  MlirBlock block = mlirBlockCreate(0, NULL, NULL);
  MlirValue *yielded = cageAllocArray(numResults, sizeof *yielded);
  CageBuilder branch = cageBuilderAtEndOfBlock(block, b->location);
  body(&branch, yielded, userData);
  if (anyNull(yielded, numResults)) {
    mlirBlockDestroy(block);
    block = (MlirBlock){NULL};
  } else {
    buildOp(&branch, "scf.yield", numResults, yielded, 0, NULL, 0, NULL);
  }
  free(yielded);
  return block;
}

MlirOperation cageBuildIf(CageBuilder *b, MlirValue condition,
                          const MlirType *resultTypes, intptr_t numResults,
                          CageIfBodyBuilder thenBody,
                          CageIfBodyBuilder elseBody, void *userData) {
  if (mlirValueIsNull(condition) || !isRegisteredOp(b, "scf.if"))
    return nullOperation;
  MlirBlock blocks[2] = {ifBranch(b, numResults, thenBody, userData),
                         ifBranch(b, numResults, elseBody, userData)};
  if (mlirBlockIsNull(blocks[0]) || mlirBlockIsNull(blocks[1])) {
    for (int i = 0; i < 2; ++i)
      if (!mlirBlockIsNull(blocks[i]))
        mlirBlockDestroy(blocks[i]);
    return nullOperation;
  }
  MlirOperationState state =
      mlirOperationStateGet(cageStr("scf.if"), b->location);
  mlirOperationStateAddOperands(&state, 1, &condition);
  mlirOperationStateAddResults(&state, numResults, resultTypes);
  MlirRegion regions[] = {mlirRegionCreate(), mlirRegionCreate()};
  for (int i = 0; i < 2; ++i)
    mlirRegionAppendOwnedBlock(regions[i], blocks[i]);
  mlirOperationStateAddOwnedRegions(&state, 2, regions);
  return insert(b, mlirOperationCreate(&state));
}

MlirValue cageBuildExtract(CageBuilder *b, MlirValue tensor,
                           const MlirValue *indices, intptr_t numIndices) {
  if (!isRankedTensorValue(b, tensor, "the operand of tensor.extract") ||
      anyNull(indices, numIndices) || !isRegisteredOp(b, "tensor.extract"))
    return nullValue;
  MlirValue *operands = cageAllocArray(1 + numIndices, sizeof *operands);
  operands[0] = tensor;
  for (intptr_t i = 0; i < numIndices; ++i)
    operands[1 + i] = indices[i];
  MlirValue value = buildValue(b, "tensor.extract", 1 + numIndices, operands,
                               elementType(tensor), 0, NULL);
  free(operands);
  return value;
}

/*===--- Functions --------------------------------------------------------===*/

static MlirRegion functionBody(CageBuilder *b, MlirType functionType,
                               MlirBlock *entryBlock) {
  intptr_t numInputs = mlirFunctionTypeGetNumInputs(functionType);
  MlirType *types = cageAllocArray(numInputs, sizeof *types);
  MlirLocation *locations = cageAllocArray(numInputs, sizeof *locations);
  for (intptr_t i = 0; i < numInputs; ++i) {
    types[i] = mlirFunctionTypeGetInput(functionType, i);
    locations[i] = b->location;
  }
  *entryBlock = mlirBlockCreate(numInputs, types, locations);
  free(locations);
  free(types);
  MlirRegion region = mlirRegionCreate();
  mlirRegionAppendOwnedBlock(region, *entryBlock);
  return region;
}

MlirOperation cageBuildFunc(CageBuilder *b, const char *name,
                            MlirType functionType, MlirBlock *entryBlock) {
  *entryBlock = nullBlock;
  if (!mlirTypeIsAFunction(functionType)) {
    emitError(b, "func.func '%s' needs a function type", name);
    return nullOperation;
  }
  MlirOperationState state =
      mlirOperationStateGet(cageStr("func.func"), b->location);
  MlirNamedAttribute attributes[] = {
      cageNamedAttribute(b, "sym_name",
                         mlirStringAttrGet(b->context, cageStr(name))),
      cageNamedAttribute(b, "function_type", mlirTypeAttrGet(functionType))};
  mlirOperationStateAddAttributes(&state, 2, attributes);
  MlirRegion body = functionBody(b, functionType, entryBlock);
  mlirOperationStateAddOwnedRegions(&state, 1, &body);
  return insert(b, mlirOperationCreate(&state));
}

MlirOperation cageBuildCall(CageBuilder *b, MlirStringRef callee,
                            const MlirValue *args, intptr_t numArgs,
                            const MlirType *resultTypes, intptr_t numResults) {
  if (anyNull(args, numArgs) || !isRegisteredOp(b, "func.call"))
    return nullOperation;
  MlirNamedAttribute attr = cageNamedAttribute(
      b, "callee", mlirFlatSymbolRefAttrGet(b->context, callee));
  return buildOp(b, "func.call", numArgs, args, numResults, resultTypes, 1,
                 &attr);
}

MlirOperation cageBuildReturn(CageBuilder *b, const MlirValue *values,
                              intptr_t numValues) {
  if (anyNull(values, numValues))
    return nullOperation;
  return buildOp(b, "func.return", numValues, values, 0, NULL, 0, NULL);
}
