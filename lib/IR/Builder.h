/*===- IR/Builder.h - One call per op for building IR from C ------*- C -*-===*\
|*                                                                            *|
|* The MLIR C API creates an op through an MlirOperationState: name,          *|
|* operands, result types, attributes, regions, create, insert, take the      *|
|* result. The C API infers no result types and builds no regions, so a       *|
|* lowering written against it drowns in that. This layer gives each op a     *|
|* single call, with the result types and attributes (properties) that        *|
|* MLIR 22 expects in generic form.                                           *|
|*                                                                            *|
|* A CageBuilder puts new ops either at a rewriter's insertion point (inside  *|
|* C rewrite patterns, so that the driver is told about them) or at the end   *|
|* of a block (bodies and whole functions built from scratch).                *|
|*                                                                            *|
|* Errors: input that can be checked here (op names, predicates, maps and     *|
|* iterator types, counts of sizes and yielded values, reassociation groups,  *|
|* types that must be ranked tensors, integers or functions) is reported with *|
|* mlirEmitError on the builder's location, and the call returns a null value *|
|* or operation without creating anything. A null operand (the result of such *|
|* a failed call, already reported) gives a null result without a second      *|
|* error, so chains of calls need one check at the end. Type mismatches       *|
|* between operands are left to the op verifiers (mlirOperationVerify).       *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_IR_BUILDER_H
#define CAGE_IR_BUILDER_H

#include "mlir-c/AffineMap.h"
#include "mlir-c/IR.h"
#include "mlir-c/Rewrite.h"
#include "mlir-c/Support.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Where new ops go and the location they get. Exactly one of `rewriter`
 * and `block` is non-null. `location` may be changed between calls. */
typedef struct CageBuilder {
  MlirContext context;
  MlirLocation location;
  MlirRewriterBase rewriter;
  MlirBlock block;
} CageBuilder;

/** New ops are inserted at the rewriter's current insertion point. */
MLIR_CAPI_EXPORTED CageBuilder
cageBuilderAtInsertionPoint(MlirRewriterBase rewriter, MlirLocation location);

/** New ops are appended to the end of `block`, in the order of the calls. */
MLIR_CAPI_EXPORTED CageBuilder cageBuilderAtEndOfBlock(MlirBlock block,
                                                       MlirLocation location);

/** New ops are appended to a block of their own, which
 * cageBuilderMoveBefore then empties before an op of the IR: a pass that
 * rewrites an op builds its replacement there, next to nothing it could
 * disturb, and moves it in whole. */
MLIR_CAPI_EXPORTED CageBuilder cageBuilderDetached(MlirLocation location);

/** Moves the ops of `b` (cageBuilderDetached), in order, before `op`, and
 * destroys b's block. */
MLIR_CAPI_EXPORTED void cageBuilderMoveBefore(CageBuilder *b, MlirOperation op);

/** Replaces each op nested in `root` for which `predicate` holds (ops with
 * one result) by the value `build` makes for it, built detached and moved
 * in before the op: a pass that computes an op another way. */
MLIR_CAPI_EXPORTED void
cageReplaceOpsWhere(MlirOperation root, bool (*predicate)(MlirOperation),
                    MlirValue (*build)(CageBuilder *, MlirOperation));

/** A zeroed array of `count` elements of `size` bytes (room for one when
 * `count` is 0), for arrays sized by a rank or a number of operands; free it
 * with free(). Aborts when out of memory, which a pass building IR cannot
 * recover from. */
MLIR_CAPI_EXPORTED void *cageAllocArray(intptr_t count, size_t size);

/*===--- Any op -----------------------------------------------------------===*/

/** The op `opName` with the given operands, result types and attributes
 * (inherent ones become properties). For ops this layer has no call for
 * (the cage ops have typed create functions: see cageBuilderInsert); a null
 * op when `opName` is not registered or an operand is null. */
MLIR_CAPI_EXPORTED MlirOperation cageBuildOp(
    CageBuilder *b, const char *opName, intptr_t numOperands,
    const MlirValue *operands, intptr_t numResults, const MlirType *resultTypes,
    intptr_t numAttributes, const MlirNamedAttribute *attributes);

/** Inserts the detached `op` where `b` points and returns it: for ops made
 * elsewhere, such as by the typed create functions of
 * cage-c/Dialect/CageOps.h (give them b's location). A null `op` (a create
 * function that failed, having reported why) gives a null op. */
MLIR_CAPI_EXPORTED MlirOperation cageBuilderInsert(CageBuilder *b,
                                                   MlirOperation op);

/** The attribute `attr` under the name `name`, for cageBuildOp. */
MLIR_CAPI_EXPORTED MlirNamedAttribute cageNamedAttribute(CageBuilder *b,
                                                         const char *name,
                                                         MlirAttribute attr);

/** Result `index` of `op`, or null when `op` is null: the result of an op
 * that a call returning an operation (cageBuildOp, cageBuildGeneric, ...)
 * could not build, so that such results can be chained like values. */
MLIR_CAPI_EXPORTED MlirValue cageOperationGetResult(MlirOperation op,
                                                    intptr_t index);

/*===--- arith.constant ---------------------------------------------------===*/

/** A float constant of the given float type (f16, bf16, f32, f64, ...). */
MLIR_CAPI_EXPORTED MlirValue cageBuildConstantFloat(CageBuilder *b,
                                                    MlirType type,
                                                    double value);
MLIR_CAPI_EXPORTED MlirValue cageBuildConstantF32(CageBuilder *b, float value);

/** A constant of a vector or ranked tensor type of floats, every element
 * `value`. */
MLIR_CAPI_EXPORTED MlirValue cageBuildConstantFloatSplat(CageBuilder *b,
                                                         MlirType shapedType,
                                                         double value);

/** An integer constant of the given integer or index type (i1, i32, i64,
 * index, ...); `value` is truncated to the width of the type. */
MLIR_CAPI_EXPORTED MlirValue cageBuildConstantInt(CageBuilder *b, MlirType type,
                                                  int64_t value);
MLIR_CAPI_EXPORTED MlirValue cageBuildConstantI64(CageBuilder *b,
                                                  int64_t value);
MLIR_CAPI_EXPORTED MlirValue cageBuildConstantIndex(CageBuilder *b,
                                                    int64_t value);

/*===--- Element-wise arith and math ops ----------------------------------===*/

/* One call per op the lowerings use, named after the op (cageBuildAddF is
 * arith.addf, cageBuildSqrt math.sqrt, ...). Operands are scalars, or
 * vectors or tensors where the op allows them; the result has the type of
 * the (first) operand, but for casts and comparisons. */

/** arith.addf, subf, mulf, divf, maximumf, minimumf. */
MLIR_CAPI_EXPORTED MlirValue cageBuildAddF(CageBuilder *b, MlirValue lhs,
                                           MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildSubF(CageBuilder *b, MlirValue lhs,
                                           MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildMulF(CageBuilder *b, MlirValue lhs,
                                           MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildDivF(CageBuilder *b, MlirValue lhs,
                                           MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildMaximumF(CageBuilder *b, MlirValue lhs,
                                               MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildMinimumF(CageBuilder *b, MlirValue lhs,
                                               MlirValue rhs);
/** arith.maxnumf, minnumf (a NaN operand gives the other one), and
 * math.copysign (the magnitude of lhs, the sign of rhs). */
MLIR_CAPI_EXPORTED MlirValue cageBuildMaxNumF(CageBuilder *b, MlirValue lhs,
                                              MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildMinNumF(CageBuilder *b, MlirValue lhs,
                                              MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildCopySign(CageBuilder *b, MlirValue lhs,
                                               MlirValue rhs);

/** arith.addi, subi, muli, divui, ceildivui, ceildivsi, remui, andi, ori,
 * xori, shli, shrui, shrsi, maxsi, maxui, minsi, minui. */
MLIR_CAPI_EXPORTED MlirValue cageBuildAddI(CageBuilder *b, MlirValue lhs,
                                           MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildSubI(CageBuilder *b, MlirValue lhs,
                                           MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildMulI(CageBuilder *b, MlirValue lhs,
                                           MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildDivUI(CageBuilder *b, MlirValue lhs,
                                            MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildCeilDivUI(CageBuilder *b, MlirValue lhs,
                                                MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildCeilDivSI(CageBuilder *b, MlirValue lhs,
                                                MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildRemUI(CageBuilder *b, MlirValue lhs,
                                            MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildAndI(CageBuilder *b, MlirValue lhs,
                                           MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildOrI(CageBuilder *b, MlirValue lhs,
                                          MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildXOrI(CageBuilder *b, MlirValue lhs,
                                           MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildShLI(CageBuilder *b, MlirValue lhs,
                                           MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildShRUI(CageBuilder *b, MlirValue lhs,
                                            MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildShRSI(CageBuilder *b, MlirValue lhs,
                                            MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildMaxSI(CageBuilder *b, MlirValue lhs,
                                            MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildMaxUI(CageBuilder *b, MlirValue lhs,
                                            MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildMinSI(CageBuilder *b, MlirValue lhs,
                                            MlirValue rhs);
MLIR_CAPI_EXPORTED MlirValue cageBuildMinUI(CageBuilder *b, MlirValue lhs,
                                            MlirValue rhs);

/** arith.negf, math.absf, math.floor, math.roundeven, math.sqrt. */
MLIR_CAPI_EXPORTED MlirValue cageBuildNegF(CageBuilder *b, MlirValue operand);
MLIR_CAPI_EXPORTED MlirValue cageBuildAbsF(CageBuilder *b, MlirValue operand);
MLIR_CAPI_EXPORTED MlirValue cageBuildFloor(CageBuilder *b, MlirValue operand);
MLIR_CAPI_EXPORTED MlirValue cageBuildRoundEven(CageBuilder *b,
                                                MlirValue operand);
MLIR_CAPI_EXPORTED MlirValue cageBuildSqrt(CageBuilder *b, MlirValue operand);

/** Casts to `resultType`: arith.extf, truncf, extui, trunci, sitofp, uitofp,
 * fptosi, index_cast, bitcast. */
MLIR_CAPI_EXPORTED MlirValue cageBuildExtF(CageBuilder *b, MlirValue operand,
                                           MlirType resultType);
MLIR_CAPI_EXPORTED MlirValue cageBuildTruncF(CageBuilder *b, MlirValue operand,
                                             MlirType resultType);
MLIR_CAPI_EXPORTED MlirValue cageBuildExtUI(CageBuilder *b, MlirValue operand,
                                            MlirType resultType);
MLIR_CAPI_EXPORTED MlirValue cageBuildTruncI(CageBuilder *b, MlirValue operand,
                                             MlirType resultType);
MLIR_CAPI_EXPORTED MlirValue cageBuildSIToFP(CageBuilder *b, MlirValue operand,
                                             MlirType resultType);
MLIR_CAPI_EXPORTED MlirValue cageBuildUIToFP(CageBuilder *b, MlirValue operand,
                                             MlirType resultType);
MLIR_CAPI_EXPORTED MlirValue cageBuildFPToSI(CageBuilder *b, MlirValue operand,
                                             MlirType resultType);
MLIR_CAPI_EXPORTED MlirValue cageBuildIndexCast(CageBuilder *b,
                                                MlirValue operand,
                                                MlirType resultType);
MLIR_CAPI_EXPORTED MlirValue cageBuildBitcast(CageBuilder *b, MlirValue operand,
                                              MlirType resultType);

/** The predicates of arith.cmpf, with the values of arith::CmpFPredicate
 * (which the op keeps as an i64 property). */
typedef enum CageCmpFPredicate {
  CageCmpFAlwaysFalse,
  CageCmpFOEQ,
  CageCmpFOGT,
  CageCmpFOGE,
  CageCmpFOLT,
  CageCmpFOLE,
  CageCmpFONE,
  CageCmpFORD,
  CageCmpFUEQ,
  CageCmpFUGT,
  CageCmpFUGE,
  CageCmpFULT,
  CageCmpFULE,
  CageCmpFUNE,
  CageCmpFUNO,
  CageCmpFAlwaysTrue
} CageCmpFPredicate;

/** The predicates of arith.cmpi, with the values of arith::CmpIPredicate. */
typedef enum CageCmpIPredicate {
  CageCmpIEQ,
  CageCmpINE,
  CageCmpISLT,
  CageCmpISLE,
  CageCmpISGT,
  CageCmpISGE,
  CageCmpIULT,
  CageCmpIULE,
  CageCmpIUGT,
  CageCmpIUGE
} CageCmpIPredicate;

/** arith.cmpf of two float scalars (the result is i1). */
MLIR_CAPI_EXPORTED MlirValue cageBuildCmpF(CageBuilder *b,
                                           CageCmpFPredicate predicate,
                                           MlirValue lhs, MlirValue rhs);

/** arith.cmpi of two scalar integers or indices (the result is i1). */
MLIR_CAPI_EXPORTED MlirValue cageBuildCmpI(CageBuilder *b,
                                           CageCmpIPredicate predicate,
                                           MlirValue lhs, MlirValue rhs);

/** arith.select: `condition ? trueValue : falseValue`. */
MLIR_CAPI_EXPORTED MlirValue cageBuildSelect(CageBuilder *b,
                                             MlirValue condition,
                                             MlirValue trueValue,
                                             MlirValue falseValue);

/** The training progress r = min(f32(step) / f32(total), 1) of two i64
 * scalars, as cage.lambda_schedule and FOGZO define it (docs/Semantics.md
 * §1.3, §1.6): one definition, so the two can never disagree on a step. */
MLIR_CAPI_EXPORTED MlirValue cageBuildTrainingProgress(CageBuilder *b,
                                                       MlirValue step,
                                                       MlirValue total);

/*===--- Tensors ----------------------------------------------------------===*/

/** tensor.dim of dimension `dim` (an index constant is built for it). */
MLIR_CAPI_EXPORTED MlirValue cageBuildDim(CageBuilder *b, MlirValue tensor,
                                          intptr_t dim);

/** tensor.empty of a ranked tensor type, with one index value per dynamic
 * dimension of that type, outermost first. */
MLIR_CAPI_EXPORTED MlirValue cageBuildEmpty(CageBuilder *b, MlirType tensorType,
                                            const MlirValue *dynamicSizes,
                                            intptr_t numDynamicSizes);

/** bufferization.alloc_tensor of the static tensor type `tensorType`: a
 * new buffer that, unlike tensor.empty, canonicalization never shrinks to
 * the shape of a slice taken of it (a padded layout stays padded). */
MLIR_CAPI_EXPORTED MlirValue cageBuildAllocTensor(CageBuilder *b,
                                                  MlirType tensorType);

/** tensor.empty of the shape and element type of the ranked tensor `like`,
 * its dynamic sizes read with tensor.dim. */
MLIR_CAPI_EXPORTED MlirValue cageBuildEmptyLike(CageBuilder *b, MlirValue like);

/** As cageBuildEmptyLike, with another element type (the i8 result of a
 * quantizer whose input is f32, say). */
MLIR_CAPI_EXPORTED MlirValue cageBuildEmptyLikeWithElementType(
    CageBuilder *b, MlirValue like, MlirType elementType);

/** tensor.empty of the shape of the ranked tensor `like` without its
 * dimension `dim` (the shape of a reduction along `dim`), its dynamic sizes
 * read with tensor.dim. */
MLIR_CAPI_EXPORTED MlirValue cageBuildEmptyWithoutDim(CageBuilder *b,
                                                      MlirValue like,
                                                      intptr_t dim);

/** tensor.expand_shape of the ranked tensor `source` into `resultType`:
 * source dimension k becomes `groupSizes[k]` consecutive result dimensions
 * (the reassociation; the sizes must add up to the result's rank).
 * `outputSizes` has one index value per result dimension, of which only
 * those of the dynamic dimensions are read (MLIR 22 takes them as
 * operands). */
MLIR_CAPI_EXPORTED MlirValue cageBuildExpandShape(CageBuilder *b,
                                                  MlirValue source,
                                                  MlirType resultType,
                                                  const int64_t *groupSizes,
                                                  const MlirValue *outputSizes);

/** tensor.collapse_shape of the ranked tensor `source` into `resultType`:
 * result dimension k is made of `groupSizes[k]` consecutive source
 * dimensions (the sizes must add up to the source's rank). */
MLIR_CAPI_EXPORTED MlirValue cageBuildCollapseShape(CageBuilder *b,
                                                    MlirValue source,
                                                    MlirType resultType,
                                                    const int64_t *groupSizes);

/** `source` ([..., n]) viewed as [..., n / F, tail...] by
 * tensor.expand_shape, with F the product of the `numTail` static sizes in
 * `tail`, which must divide n (a dynamic n is divided with arith.divui). */
MLIR_CAPI_EXPORTED MlirValue cageBuildSplitInnermost(CageBuilder *b,
                                                     MlirValue source,
                                                     const int64_t *tail,
                                                     intptr_t numTail);

/** The inverse of cageBuildSplitInnermost: `source` collapsed into
 * `resultType` (of a rank from 1 to that of `source`) by merging its
 * innermost dimensions into one, the others kept. */
MLIR_CAPI_EXPORTED MlirValue cageBuildMergeInnermost(CageBuilder *b,
                                                     MlirValue source,
                                                     MlirType resultType);

/*===--- Linalg -----------------------------------------------------------===*/

/** linalg.fill of `init` with the scalar `value`; the result has the type of
 * `init`. */
MLIR_CAPI_EXPORTED MlirValue cageBuildFill(CageBuilder *b, MlirValue value,
                                           MlirValue init);

/** linalg.index of loop `dim` (in the body of a linalg.generic). */
MLIR_CAPI_EXPORTED MlirValue cageBuildLinalgIndex(CageBuilder *b, int64_t dim);

/** Builds the body of a linalg.generic. `body` appends to the body block;
 * `args` are its arguments (one element per input, then one per output);
 * the callback stores the value to yield for each output in `yielded`
 * (numOutputs entries, null on entry). */
typedef void (*CageGenericBodyBuilder)(CageBuilder *body, const MlirValue *args,
                                       intptr_t numArgs, MlirValue *yielded,
                                       void *userData);

/** The iterator type of a loop of a linalg.generic. */
typedef enum CageIteratorType {
  CageIteratorParallel,
  CageIteratorReduction
} CageIteratorType;

/** What a linalg.generic is made of: one indexing map per input then one per
 * output, each with `numLoops` dimensions (cagePrefixMap and
 * cageMapFixingDim make the ones the lowerings use; any MlirAffineMap will
 * do), and one iterator type per loop. */
typedef struct CageGenericSpec {
  const MlirValue *inputs;
  intptr_t numInputs;
  const MlirValue *outputs;
  intptr_t numOutputs;
  const MlirAffineMap *indexingMaps;
  const CageIteratorType *iteratorTypes;
  intptr_t numLoops;
  CageGenericBodyBuilder body;
  void *userData;
} CageGenericSpec;

/** linalg.generic whose results have the types of the outputs. Returns the
 * op (take its results with mlirOperationGetResult); a null op when a map is
 * null or has other than `numLoops` dimensions, an iterator type is not one
 * of CageIteratorType, or the body leaves a yielded value null. */
MLIR_CAPI_EXPORTED MlirOperation cageBuildGeneric(CageBuilder *b,
                                                  const CageGenericSpec *spec);

/** An element-wise linalg.generic: identity indexing maps of the rank of
 * the outputs (all tensors must share it) and all-parallel iterators; a
 * non-tensor input (a scalar) is read by every iteration. Returns the op,
 * or a null op as cageBuildGeneric does. */
MLIR_CAPI_EXPORTED MlirOperation cageBuildElementwise(
    CageBuilder *b, const MlirValue *inputs, intptr_t numInputs,
    const MlirValue *outputs, intptr_t numOutputs, CageGenericBodyBuilder body,
    void *userData);

/** linalg.matmul of `lhs` and `rhs` accumulated into `init` (its result has
 * the type of `init`), with the explicit `indexing_maps` `maps` (lhs, rhs,
 * init) over the loops (d0, d1, d2): the init's map is (d0, d1), d2 is the
 * contracted loop, and either operand may be transposed. Maps of four loops
 * (b, d0, d1, d2) make a linalg.batch_matmul, b the batch. Backward passes
 * build their contractions as this named op rather than as a
 * linalg.generic, which MLIR 22's linalg-specialize-generic-ops turns into
 * an invalid linalg.matmul when an operand is transposed. */
MLIR_CAPI_EXPORTED MlirValue cageBuildMatmul(CageBuilder *b, MlirValue lhs,
                                             MlirValue rhs, MlirValue init,
                                             const MlirAffineMap maps[3]);

/** A reduction along dimension `dim` of the `numInputs` tensors `inputs`
 * (one shape, read with identity maps) into a tensor of that shape without
 * `dim`, filled with `init` first (an f32 constant of the inputs' element
 * type); `body` gets the inputs' elements then the accumulator. Returns the
 * result, or null as cageBuildGeneric. */
MLIR_CAPI_EXPORTED MlirValue cageBuildReduceAlongDim(
    CageBuilder *b, const MlirValue *inputs, intptr_t numInputs, intptr_t dim,
    double init, CageGenericBodyBuilder body, void *userData);

/** An element-wise linalg.generic into `out` over the `numInputs` tensors
 * `inputs` (the shape of `out`) and `rows` (a reduction of that shape along
 * `dim`, read with cageMapDroppingDim); `body` gets the inputs' elements,
 * the row's, then the output's. Returns the result, or null. */
MLIR_CAPI_EXPORTED MlirValue cageBuildElementwiseWithRows(
    CageBuilder *b, const MlirValue *inputs, intptr_t numInputs, MlirValue rows,
    intptr_t dim, MlirValue out, CageGenericBodyBuilder body, void *userData);

/*===--- Indexing maps for cageBuildGeneric -------------------------------===*/

/* The maps of the lowerings come in two shapes, each made here with the MLIR
 * C API (no text, so no limit on the number of loops); a map of another
 * shape is built with mlirAffineMapGet from mlirAffineDimExprGet and
 * mlirAffineConstantExprGet results. Out-of-range arguments give a null
 * map, which cageBuildGeneric reports. */

/** (d0, ..., dN-1) -> (d0, ..., dR-1) with N = `numDims` and R =
 * `numResults` (0 <= R <= N): the identity when they are equal, the map of
 * a reduction's output (or, with no results, of a scalar) otherwise. */
MLIR_CAPI_EXPORTED MlirAffineMap cagePrefixMap(MlirContext ctx,
                                               intptr_t numDims,
                                               intptr_t numResults);

/** The identity of `numDims` loops except that the result of loop `dim` is
 * the constant `value` (0 <= dim < numDims): (d0, d1, d2) -> (d0, 1, d2)
 * for dim 1 and value 1.
 * A Hadamard stage reads the two halves of each pair through the maps of
 * values 0 and 1 of its `2` loop. */
MLIR_CAPI_EXPORTED MlirAffineMap cageMapFixingDim(MlirContext ctx,
                                                  intptr_t numDims,
                                                  intptr_t dim, int64_t value);

/** (d0, ..., dN-1) -> (d0, ..., dN-1 without d`dim`): how a reduction along
 * loop `dim` writes its output, or an elementwise op reads its result. */
MLIR_CAPI_EXPORTED MlirAffineMap cageMapDroppingDim(MlirContext ctx,
                                                    intptr_t numDims,
                                                    intptr_t dim);

/*===--- Slices and parallel loops ---------------------------------------===*/

/** An offset or size of a slice: the index `value` when it is non-null,
 * else the constant `constant`. */
typedef struct CageSliceIndex {
  MlirValue value;
  int64_t constant;
} CageSliceIndex;

/** tensor.extract_slice of `source` at `offsets` with `sizes` (one each per
 * dimension of `source`) and unit strides, of type `resultType` (whose
 * static sizes must match; unit dimensions may be dropped). */
MLIR_CAPI_EXPORTED MlirValue cageBuildExtractSlice(
    CageBuilder *b, MlirValue source, const CageSliceIndex *offsets,
    const CageSliceIndex *sizes, MlirType resultType);

/** tensor.insert_slice of `source` into `dest` at `offsets` with `sizes`
 * (one each per dimension of `dest`) and unit strides; the result has the
 * type of `dest`. */
MLIR_CAPI_EXPORTED MlirValue cageBuildInsertSlice(CageBuilder *b,
                                                  MlirValue source,
                                                  MlirValue dest,
                                                  const CageSliceIndex *offsets,
                                                  const CageSliceIndex *sizes);

/** tensor.parallel_insert_slice, as cageBuildInsertSlice, for the
 * terminator of an scf.forall (cageBuildForall's `inParallel`). */
MLIR_CAPI_EXPORTED MlirOperation cageBuildParallelInsertSlice(
    CageBuilder *b, MlirValue source, MlirValue dest,
    const CageSliceIndex *offsets, const CageSliceIndex *sizes);

/** Builds the body of an scf.forall: `body` appends to the loop's block,
 * whose arguments are the induction variable `iv` and the shared outputs;
 * `inParallel` appends to the block of its scf.forall.in_parallel
 * terminator (only tensor.parallel_insert_slice belongs there). Returns
 * false when something it needed could not be built. */
typedef bool (*CageForallBodyBuilder)(CageBuilder *body, MlirValue iv,
                                      const MlirValue *sharedOuts,
                                      CageBuilder *inParallel, void *userData);

/** A one-dimensional scf.forall from 0 to `upperBound` (index) by 1 with
 * the tensors `sharedOuts`; its results have their types. Returns the op,
 * or a null op (having built nothing) when an operand is null or `body`
 * failed. */
MLIR_CAPI_EXPORTED MlirOperation cageBuildForall(
    CageBuilder *b, MlirValue upperBound, const MlirValue *sharedOuts,
    intptr_t numSharedOuts, CageForallBodyBuilder body, void *userData);

/** Builds the body of an scf.parallel: appends to the loop's block, whose
 * arguments are the induction variables `ivs` (scf.reduce follows). */
typedef void (*CageParallelBodyBuilder)(CageBuilder *body, const MlirValue *ivs,
                                        void *userData);

/** scf.parallel without results over `rank` loops from lowerBounds[i] to
 * upperBounds[i] by steps[i] (index). Returns the op, or a null op when an
 * operand is null. */
MLIR_CAPI_EXPORTED MlirOperation
cageBuildParallel(CageBuilder *b, const MlirValue *lowerBounds,
                  const MlirValue *upperBounds, const MlirValue *steps,
                  intptr_t rank, CageParallelBodyBuilder body, void *userData);

/** Builds the body of an scf.for: appends to the loop's block, whose
 * arguments are the induction variable `iv` and the iteration arguments,
 * and stores the values to yield (one per iteration argument) in
 * `yielded`. */
typedef void (*CageForBodyBuilder)(CageBuilder *body, MlirValue iv,
                                   const MlirValue *iterArgs,
                                   MlirValue *yielded, void *userData);

/** scf.for from `lowerBound` to `upperBound` by `step` (all index) carrying
 * `inits`; its results have their types. Returns the op, or a null op when
 * an operand or a yielded value is null. */
MLIR_CAPI_EXPORTED MlirOperation
cageBuildFor(CageBuilder *b, MlirValue lowerBound, MlirValue upperBound,
             MlirValue step, const MlirValue *inits, intptr_t numInits,
             CageForBodyBuilder body, void *userData);

/** Builds one branch of an scf.if: appends to the branch's block and stores
 * the values to yield (one per result of the scf.if) in `yielded`. */
typedef void (*CageIfBodyBuilder)(CageBuilder *body, MlirValue *yielded,
                                  void *userData);

/** scf.if on the i1 `condition` with results of `resultTypes`: `thenBody`
 * and `elseBody` fill its two branches. Returns the op, or a null op
 * (having built nothing) when the condition or a yielded value is null. */
MLIR_CAPI_EXPORTED MlirOperation
cageBuildIf(CageBuilder *b, MlirValue condition, const MlirType *resultTypes,
            intptr_t numResults, CageIfBodyBuilder thenBody,
            CageIfBodyBuilder elseBody, void *userData);

/** tensor.extract of the element at `indices` (one index per dimension). */
MLIR_CAPI_EXPORTED MlirValue cageBuildExtract(CageBuilder *b, MlirValue tensor,
                                              const MlirValue *indices,
                                              intptr_t numIndices);

/*===--- Functions --------------------------------------------------------===*/

/** func.func named `name` of the given function type. Its entry block, whose
 * arguments are the function's inputs, is stored in `*entryBlock` so that a
 * builder can fill it (end it with cageBuildReturn). */
MLIR_CAPI_EXPORTED MlirOperation cageBuildFunc(CageBuilder *b, const char *name,
                                               MlirType functionType,
                                               MlirBlock *entryBlock);

/** func.call of the function named `callee` with `args`, returning
 * `resultTypes`. */
MLIR_CAPI_EXPORTED MlirOperation cageBuildCall(
    CageBuilder *b, MlirStringRef callee, const MlirValue *args,
    intptr_t numArgs, const MlirType *resultTypes, intptr_t numResults);

/** func.return of `values`. */
MLIR_CAPI_EXPORTED MlirOperation cageBuildReturn(CageBuilder *b,
                                                 const MlirValue *values,
                                                 intptr_t numValues);

#ifdef __cplusplus
}
#endif

#endif /* CAGE_IR_BUILDER_H */
