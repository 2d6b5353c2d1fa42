/*===- BuilderExtras.h - Ops the builder layer lacks --------------*- C -*-===*\
|*                                                                            *|
|* One call per op, in the conventions of lib/IR/Builder.h (a CageBuilder,    *|
|* null in gives null out, errors at the builder's location), for the ops     *|
|* the quantizer lowering needs and the builder layer does not have yet:      *|
|* integer constants and compares, arith.mului_extended, linalg.index,        *|
|* tensor.expand_shape/collapse_shape, and affine_map texts for               *|
|* cageBuildGeneric. Candidates to move into lib/IR/Builder.h.                *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_CONVERSION_CAGETOLINALG_BUILDEREXTRAS_H
#define CAGE_CONVERSION_CAGETOLINALG_BUILDEREXTRAS_H

#include "IR/Builder.h"

#include <stdint.h>

/*===--- arith ------------------------------------------------------------===*/

/** arith.constant of an integer type (i1, i32, i64, index, ...). */
MlirValue lowerBuildConstantInt(CageBuilder *b, MlirType type, int64_t value);

/** arith.cmpi of two integers or indices (the result is i1), with the
 * predicate as written in the custom form: "eq", "ne", "slt", "ult", ... */
MlirValue lowerBuildCmpI(CageBuilder *b, const char *predicate, MlirValue lhs,
                         MlirValue rhs);

/** arith.mului_extended: the low and high halves of the double-width
 * unsigned product of two integers of one type. Both are null on error. */
void lowerBuildMulUIExtended(CageBuilder *b, MlirValue lhs, MlirValue rhs,
                             MlirValue *low, MlirValue *high);

/*===--- linalg and tensor ------------------------------------------------===*/

/** linalg.index of loop `dim` (only inside a linalg.generic body). */
MlirValue lowerBuildLinalgIndex(CageBuilder *b, int64_t dim);

/** tensor.expand_shape of `source` into `resultType`. Source dimension k
 * becomes `groupSizes[k]` consecutive result dimensions (the reassociation).
 * `outputSizes` has one index value per result dimension; only those of the
 * dynamic dimensions are read (MLIR 22 wants them as operands). */
MlirValue lowerBuildExpandShape(CageBuilder *b, MlirValue source,
                                MlirType resultType, const int64_t *groupSizes,
                                const MlirValue *outputSizes);

/** tensor.collapse_shape of `source` into `resultType`: result dimension k
 * is made of `groupSizes[k]` consecutive source dimensions. */
MlirValue lowerBuildCollapseShape(CageBuilder *b, MlirValue source,
                                  MlirType resultType,
                                  const int64_t *groupSizes);

/** `source` ([..., n]) viewed as [..., n / F, tail...] with F the product
 * of the `numTail` static sizes in `tail` (F must divide n). */
MlirValue lowerSplitInnermost(CageBuilder *b, MlirValue source,
                              const int64_t *tail, int64_t numTail);

/** The inverse of lowerSplitInnermost: `source` collapsed to `resultType`
 * by merging its innermost dimensions into one. */
MlirValue lowerMergeInnermost(CageBuilder *b, MlirValue source,
                              MlirType resultType);

/*===--- affine_map texts for cageBuildGeneric ----------------------------===*/

/** The most loops a map text has room for. */
enum { kLowerMaxLoops = 40 };

/** Results of lowerMapText that are constants rather than loop dimensions. */
enum { kLowerMapZero = -1, kLowerMapOne = -2 };

typedef struct LowerMapText {
  char text[16 + 12 * kLowerMaxLoops];
} LowerMapText;

/** "affine_map<(d0, ..., dN-1) -> (r0, ...)>" with N = numDims; results[k]
 * is a loop dimension, kLowerMapZero or kLowerMapOne. Returns the text. */
const char *lowerMapText(LowerMapText *map, int64_t numDims,
                         const int64_t *results, int64_t numResults);

/** The map of the first `numResults` loops of `numDims`: the identity when
 * they are equal, the map of a reduction's output otherwise. */
const char *lowerPrefixMap(LowerMapText *map, int64_t numDims,
                           int64_t numResults);

#endif /* CAGE_CONVERSION_CAGETOLINALG_BUILDEREXTRAS_H */
