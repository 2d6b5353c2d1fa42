/*===- BuilderExtras.c - Ops the builder layer lacks ----------------------===*\
|*                                                                            *|
|* Each op is built with cageBuildOp (any registered op, inserted where the   *|
|* CageBuilder points), its inherent attributes given in the generic form     *|
|* MLIR 22 expects (they land in properties).                                 *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "BuilderExtras.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"

#include <stdio.h>
#include <string.h>

static const MlirValue nullValue = {NULL};

static MlirStringRef str(const char *s) {
  return mlirStringRefCreateFromCString(s);
}

static MlirNamedAttribute named(CageBuilder *b, const char *name,
                                MlirAttribute attr) {
  return mlirNamedAttributeGet(mlirIdentifierGet(b->context, str(name)), attr);
}

/* cageBuildOp of an op with one result; null when it could not be built. */
static MlirValue buildValue(CageBuilder *b, const char *opName,
                            intptr_t numOperands, const MlirValue *operands,
                            MlirType resultType, intptr_t numAttributes,
                            const MlirNamedAttribute *attributes) {
  MlirOperation op = cageBuildOp(b, opName, numOperands, operands, 1,
                                 &resultType, numAttributes, attributes);
  return mlirOperationIsNull(op) ? nullValue : mlirOperationGetResult(op, 0);
}

static bool anyNull(const MlirValue *values, intptr_t count) {
  for (intptr_t i = 0; i < count; ++i)
    if (mlirValueIsNull(values[i]))
      return true;
  return false;
}

/*===--- arith ------------------------------------------------------------===*/

MlirValue lowerBuildConstantInt(CageBuilder *b, MlirType type, int64_t value) {
  if (!mlirTypeIsAInteger(type) && !mlirTypeIsAIndex(type)) {
    mlirEmitError(b->location, "an integer constant needs an integer type");
    return nullValue;
  }
  MlirNamedAttribute attr = named(b, "value", mlirIntegerAttrGet(type, value));
  return buildValue(b, "arith.constant", 0, NULL, type, 1, &attr);
}

/* arith.cmpi keeps its predicate as the i64 value of arith::CmpIPredicate,
 * listed here in that enum's order. */
static const char *const cmpiPredicates[] = {"eq",  "ne",  "slt", "sle", "sgt",
                                             "sge", "ult", "ule", "ugt", "uge"};

MlirValue lowerBuildCmpI(CageBuilder *b, const char *predicate, MlirValue lhs,
                         MlirValue rhs) {
  MlirValue operands[] = {lhs, rhs};
  if (anyNull(operands, 2))
    return nullValue;
  intptr_t count = sizeof cmpiPredicates / sizeof cmpiPredicates[0];
  for (intptr_t i = 0; i < count; ++i) {
    if (strcmp(predicate, cmpiPredicates[i]) != 0)
      continue;
    MlirType i64 = mlirIntegerTypeGet(b->context, 64);
    MlirNamedAttribute attr = named(b, "predicate", mlirIntegerAttrGet(i64, i));
    return buildValue(b, "arith.cmpi", 2, operands,
                      mlirIntegerTypeGet(b->context, 1), 1, &attr);
  }
  char message[96];
  snprintf(message, sizeof message, "unknown arith.cmpi predicate '%s'",
           predicate);
  mlirEmitError(b->location, message);
  return nullValue;
}

void lowerBuildMulUIExtended(CageBuilder *b, MlirValue lhs, MlirValue rhs,
                             MlirValue *low, MlirValue *high) {
  *low = *high = nullValue;
  MlirValue operands[] = {lhs, rhs};
  if (anyNull(operands, 2))
    return;
  MlirType types[] = {mlirValueGetType(lhs), mlirValueGetType(lhs)};
  MlirOperation op =
      cageBuildOp(b, "arith.mului_extended", 2, operands, 2, types, 0, NULL);
  if (mlirOperationIsNull(op))
    return;
  *low = mlirOperationGetResult(op, 0);
  *high = mlirOperationGetResult(op, 1);
}

/*===--- linalg and tensor ------------------------------------------------===*/

MlirValue lowerBuildLinalgIndex(CageBuilder *b, int64_t dim) {
  MlirType i64 = mlirIntegerTypeGet(b->context, 64);
  MlirNamedAttribute attr = named(b, "dim", mlirIntegerAttrGet(i64, dim));
  return buildValue(b, "linalg.index", 0, NULL, mlirIndexTypeGet(b->context), 1,
                    &attr);
}

/* [[0, 1], [2], ...]: the reassociation of consecutive groups. */
static MlirAttribute reassociation(CageBuilder *b, const int64_t *groupSizes,
                                   intptr_t numGroups) {
  MlirType i64 = mlirIntegerTypeGet(b->context, 64);
  MlirAttribute groups[kLowerMaxLoops];
  MlirAttribute dims[kLowerMaxLoops];
  int64_t next = 0;
  for (intptr_t g = 0; g < numGroups; ++g) {
    for (int64_t k = 0; k < groupSizes[g]; ++k)
      dims[k] = mlirIntegerAttrGet(i64, next++);
    groups[g] = mlirArrayAttrGet(b->context, groupSizes[g], dims);
  }
  return mlirArrayAttrGet(b->context, numGroups, groups);
}

static bool checkReshape(CageBuilder *b, MlirValue source, MlirType resultType,
                         const int64_t *groupSizes, bool expand) {
  MlirType sourceType = mlirValueGetType(source);
  if (!mlirTypeIsARankedTensor(sourceType) ||
      !mlirTypeIsARankedTensor(resultType)) {
    mlirEmitError(b->location, "a reshape needs ranked tensor types");
    return false;
  }
  intptr_t numGroups = mlirShapedTypeGetRank(expand ? sourceType : resultType);
  intptr_t numDims = mlirShapedTypeGetRank(expand ? resultType : sourceType);
  int64_t total = 0;
  for (intptr_t g = 0; g < numGroups; ++g)
    total += groupSizes[g];
  if (total != numDims || numDims > kLowerMaxLoops) {
    mlirEmitError(b->location, "reshape groups do not match the ranks");
    return false;
  }
  return true;
}

MlirValue lowerBuildExpandShape(CageBuilder *b, MlirValue source,
                                MlirType resultType, const int64_t *groupSizes,
                                const MlirValue *outputSizes) {
  if (mlirValueIsNull(source) ||
      !checkReshape(b, source, resultType, groupSizes, true))
    return nullValue;
  intptr_t rank = mlirShapedTypeGetRank(resultType);
  MlirValue operands[1 + kLowerMaxLoops] = {source};
  intptr_t numOperands = 1;
  int64_t staticSizes[kLowerMaxLoops];
  for (intptr_t d = 0; d < rank; ++d) {
    staticSizes[d] = mlirShapedTypeGetDimSize(resultType, d);
    if (mlirShapedTypeIsDynamicDim(resultType, d))
      operands[numOperands++] = outputSizes[d];
  }
  if (anyNull(operands, numOperands))
    return nullValue;
  intptr_t numGroups = mlirShapedTypeGetRank(mlirValueGetType(source));
  MlirNamedAttribute attrs[] = {
      named(b, "reassociation", reassociation(b, groupSizes, numGroups)),
      named(b, "static_output_shape",
            mlirDenseI64ArrayGet(b->context, rank, staticSizes))};
  return buildValue(b, "tensor.expand_shape", numOperands, operands, resultType,
                    2, attrs);
}

MlirValue lowerBuildCollapseShape(CageBuilder *b, MlirValue source,
                                  MlirType resultType,
                                  const int64_t *groupSizes) {
  if (mlirValueIsNull(source) ||
      !checkReshape(b, source, resultType, groupSizes, false))
    return nullValue;
  intptr_t numGroups = mlirShapedTypeGetRank(resultType);
  MlirNamedAttribute attr =
      named(b, "reassociation", reassociation(b, groupSizes, numGroups));
  return buildValue(b, "tensor.collapse_shape", 1, &source, resultType, 1,
                    &attr);
}

MlirValue lowerSplitInnermost(CageBuilder *b, MlirValue source,
                              const int64_t *tail, int64_t numTail) {
  if (mlirValueIsNull(source))
    return nullValue;
  MlirType sourceType = mlirValueGetType(source);
  intptr_t rank = mlirShapedTypeGetRank(sourceType);
  if (rank < 1 || rank + numTail > kLowerMaxLoops) {
    mlirEmitError(b->location, "cannot split the innermost dimension");
    return nullValue;
  }
  int64_t factor = 1;
  for (int64_t k = 0; k < numTail; ++k)
    factor *= tail[k];

  int64_t shape[kLowerMaxLoops];
  MlirValue sizes[kLowerMaxLoops];
  for (intptr_t d = 0; d < rank; ++d) {
    bool dynamic = mlirShapedTypeIsDynamicDim(sourceType, d);
    int64_t size = mlirShapedTypeGetDimSize(sourceType, d);
    sizes[d] = dynamic ? cageBuildDim(b, source, d) : nullValue;
    shape[d] = dynamic || d < rank - 1 ? size : size / factor;
  }
  if (mlirShapedTypeIsDynamicDim(sourceType, rank - 1))
    sizes[rank - 1] = cageBuildBinary(b, "arith.divui", sizes[rank - 1],
                                      cageBuildConstantIndex(b, factor));
  for (int64_t k = 0; k < numTail; ++k) {
    shape[rank + k] = tail[k];
    sizes[rank + k] = nullValue;
  }

  int64_t groupSizes[kLowerMaxLoops];
  for (intptr_t d = 0; d < rank; ++d)
    groupSizes[d] = d < rank - 1 ? 1 : 1 + numTail;
  MlirType resultType = mlirRankedTensorTypeGet(
      rank + numTail, shape, mlirShapedTypeGetElementType(sourceType),
      mlirAttributeGetNull());
  return lowerBuildExpandShape(b, source, resultType, groupSizes, sizes);
}

MlirValue lowerMergeInnermost(CageBuilder *b, MlirValue source,
                              MlirType resultType) {
  if (mlirValueIsNull(source))
    return nullValue;
  intptr_t rank = mlirShapedTypeGetRank(resultType);
  intptr_t sourceRank = mlirShapedTypeGetRank(mlirValueGetType(source));
  if (rank < 1 || sourceRank < rank || sourceRank > kLowerMaxLoops) {
    mlirEmitError(b->location, "cannot merge the innermost dimensions");
    return nullValue;
  }
  int64_t groupSizes[kLowerMaxLoops];
  for (intptr_t d = 0; d < rank; ++d)
    groupSizes[d] = d < rank - 1 ? 1 : 1 + sourceRank - rank;
  return lowerBuildCollapseShape(b, source, resultType, groupSizes);
}

/*===--- affine_map texts -------------------------------------------------===*/

/* Appends as much of `text` as fits; the buffer is sized for
 * kLowerMaxLoops dimensions, so nothing is cut in practice. */
static char *appendText(char *at, const char *end, const char *text) {
  size_t room = (size_t)(end - at);
  size_t length = strlen(text);
  if (length >= room)
    length = room - 1;
  memcpy(at, text, length);
  at[length] = '\0';
  return at + length;
}

static char *appendResult(char *at, const char *end, int64_t result) {
  char text[24];
  if (result == kLowerMapZero || result == kLowerMapOne)
    snprintf(text, sizeof text, "%d", result == kLowerMapOne);
  else
    snprintf(text, sizeof text, "d%lld", (long long)result);
  return appendText(at, end, text);
}

const char *lowerMapText(LowerMapText *map, int64_t numDims,
                         const int64_t *results, int64_t numResults) {
  char *at = map->text;
  const char *end = map->text + sizeof map->text;
  at = appendText(at, end, "affine_map<(");
  for (int64_t d = 0; d < numDims; ++d) {
    at = appendText(at, end, d ? ", " : "");
    at = appendResult(at, end, d);
  }
  at = appendText(at, end, ") -> (");
  for (int64_t r = 0; r < numResults; ++r) {
    at = appendText(at, end, r ? ", " : "");
    at = appendResult(at, end, results[r]);
  }
  appendText(at, end, ")>");
  return map->text;
}

const char *lowerPrefixMap(LowerMapText *map, int64_t numDims,
                           int64_t numResults) {
  int64_t results[kLowerMaxLoops];
  for (int64_t r = 0; r < numResults; ++r)
    results[r] = r;
  return lowerMapText(map, numDims, results, numResults);
}
