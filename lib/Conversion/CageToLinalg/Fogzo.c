/*===- Fogzo.c - The lowering of cage.fogzo_direction ---------------------===*\
|*                                                                            *|
|* FOGZO's direction v and step ε (docs/Semantics.md §1.6), in the orders and *|
|* precisions of lib/Reference/Fogzo.c:                                       *|
|*   sum  = Σ f64(g)², parameters in order, elements in row-major order       *|
|*   nf = f32(sqrt(sum)), or f32(sqrt(sum) / sqrt(n)) with unit_rms, in f64;  *|
|*        1 where sqrt(sum) < 1e-12                                           *|
|*   r = min(f32(t) / f32(T), 1), β = β_min + (1 − β_min)·(1 − r)             *|
|*   cb = sqrt(β)·σ, cu = sqrt(1 − β)                                         *|
|*   u = (2·a − 1)·√3, a = (o[0] >> 8)·2⁻²⁴, counter (i lo, i hi, k, t lo)    *|
|*   v = cb·(g / nf) + cu·u                                                   *|
|*   ε = epsilon, or f32((Σ n_group·f64(step)) / f64(count) / (2√3)) in f64   *|
|* The reductions are linalg.generic ops whose loops run in row-major order   *|
|* (cage-cpu-tile keeps the order of a sum), so the f64 sums are those of the *|
|* reference.                                                                 *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Groups.h"
#include "Patterns.h"

#include "cage-c/Dialect/Cage.h"
#include "cage-c/Dialect/CageOps.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

#include <math.h>
#include <stdlib.h>

/* The f32 nearest sqrt(3), as the reference's kSqrt3. */
static const float kSqrt3 = 0x1.bb67aep+0f;

/* The sign's counter word 2 (§1.6): no parameter index reaches it. */
static const int64_t kSignCounter = 0xFFFFFFFF;

static MlirType f64Type(CageBuilder *b) { return mlirF64TypeGet(b->context); }
static MlirType f32Type(CageBuilder *b) { return mlirF32TypeGet(b->context); }
static MlirType i32Type(CageBuilder *b) {
  return mlirIntegerTypeGet(b->context, 32);
}

/* A 0-d f64 tensor holding +0.0: the start of a chain of sums. */
static MlirValue zeroSum(CageBuilder *b) {
  MlirType type =
      mlirRankedTensorTypeGet(0, NULL, f64Type(b), mlirAttributeGetNull());
  return cageBuildFill(b, cageBuildConstantFloat(b, f64Type(b), 0.0),
                       cageBuildEmpty(b, type, NULL, 0));
}

/* `sum` (0-d f64) plus every element of `x` through `body`, in row-major
 * order: a generic whose loops are all reductions into `sum`. */
static MlirValue sumAll(CageBuilder *b, MlirValue x, MlirValue sum,
                        CageGenericBodyBuilder body, void *userData) {
  intptr_t rank = mlirShapedTypeGetRank(mlirValueGetType(x));
  MlirAffineMap maps[] = {cagePrefixMap(b->context, rank, rank),
                          cagePrefixMap(b->context, rank, 0)};
  CageIteratorType *iterators = cageAllocArray(rank, sizeof *iterators);
  for (intptr_t d = 0; d < rank; ++d)
    iterators[d] = CageIteratorReduction;
  CageGenericSpec spec = {.inputs = &x,
                          .numInputs = 1,
                          .outputs = &sum,
                          .numOutputs = 1,
                          .indexingMaps = maps,
                          .iteratorTypes = iterators,
                          .numLoops = rank,
                          .body = body,
                          .userData = userData};
  MlirValue result = cageOperationGetResult(cageBuildGeneric(b, &spec), 0);
  free(iterators);
  return result;
}

/* The number of elements of `x` (index). */
static MlirValue numElements(CageBuilder *b, MlirValue x) {
  MlirValue count = cageBuildConstantIndex(b, 1);
  for (intptr_t d = 0, e = mlirShapedTypeGetRank(mlirValueGetType(x)); d < e;
       ++d)
    count = cageBuildMulI(b, count, cageBuildDim(b, x, d));
  return count;
}

/* The scalar of a 0-d tensor. */
static MlirValue scalarOf(CageBuilder *b, MlirValue tensor) {
  return cageBuildExtract(b, tensor, NULL, 0);
}

/* acc + f64(g) * f64(g) */
static void squareBody(CageBuilder *body, const MlirValue *args,
                       intptr_t numArgs, MlirValue *yielded, void *userData) {
  (void)numArgs, (void)userData;
  MlirValue g = cageBuildExtF(body, args[0], f64Type(body));
  yielded[0] = cageBuildAddF(body, args[1], cageBuildMulF(body, g, g));
}

/* acc + n_group * f64(step); userData: n_group as an f64 value. */
static void stepBody(CageBuilder *body, const MlirValue *args, intptr_t numArgs,
                     MlirValue *yielded, void *userData) {
  (void)numArgs;
  const MlirValue *groupElements = userData;
  MlirValue step = cageBuildExtF(body, args[0], f64Type(body));
  yielded[0] =
      cageBuildAddF(body, args[1], cageBuildMulF(body, *groupElements, step));
}

/* nf, the divisor of g: f32(‖g‖) over every g of the op, or f32(‖g‖ /
 * sqrt(n)) with direction = unit_rms (n the elements of every g); 1 where
 * ‖g‖ < 1e-12. */
static MlirValue gradientScale(CageBuilder *b, MlirOperation op) {
  MlirType i64 = mlirIntegerTypeGet(b->context, 64);
  MlirValue sum = zeroSum(b);
  MlirValue count = cageBuildConstantI64(b, 0);
  for (intptr_t k = 0, n = cageFogzoDirectionOpGetNumParams(op); k < n; ++k) {
    MlirValue g = cageFogzoDirectionOpGetParamG(op, k);
    sum = sumAll(b, g, sum, squareBody, NULL);
    count =
        cageBuildAddI(b, count, cageBuildIndexCast(b, numElements(b, g), i64));
  }
  MlirValue norm = cageBuildSqrt(b, scalarOf(b, sum));
  MlirValue scale = norm;
  if (cageFogzoAttrGetDirection(cageFogzoDirectionOpGetFogzo(op)) ==
      CageFogzoDirectionUnitRms) {
    MlirValue n = cageBuildSIToFP(b, count, f64Type(b));
    scale = cageBuildDivF(b, norm, cageBuildSqrt(b, n));
  }
  MlirValue one = cageBuildConstantFloat(b, f64Type(b), 1.0);
  MlirValue tiny = cageBuildConstantFloat(b, f64Type(b), 1e-12);
  MlirValue small = cageBuildCmpF(b, CageCmpFOLT, norm, tiny);
  return cageBuildTruncF(b, cageBuildSelect(b, small, one, scale), f32Type(b));
}

/* ε: the attribute's, or ε̄·h from the grids of the quantized parameters. */
static MlirValue epsilon(CageBuilder *b, MlirOperation op) {
  float given = cageFogzoAttrGetEpsilon(cageFogzoDirectionOpGetFogzo(op));
  if (given > 0.0f)
    return cageBuildConstantF32(b, given);
  MlirValue sum = zeroSum(b);
  MlirValue count = cageBuildConstantI64(b, 0);
  MlirType i64 = mlirIntegerTypeGet(b->context, 64);
  for (intptr_t k = 0, n = cageFogzoDirectionOpGetNumParams(op); k < n; ++k) {
    MlirAttribute attr = cageFogzoDirectionOpGetParamQuantizer(op, k);
    if (mlirAttributeIsNull(attr))
      continue;
    LowerQuantizer q = lowerReadQuantizer(attr);
    MlirValue w = cageFogzoDirectionOpGetParamW(op, k);
    MlirValue groupElements;
    MlirValue steps = lowerGroupSteps(b, &q, w, &groupElements);
    MlirValue n64 = cageBuildIndexCast(b, groupElements, i64);
    MlirValue nf = cageBuildSIToFP(b, n64, f64Type(b));
    sum = sumAll(b, steps, sum, stepBody, &nf);
    count =
        cageBuildAddI(b, count, cageBuildIndexCast(b, numElements(b, w), i64));
  }
  MlirValue h =
      cageBuildDivF(b, scalarOf(b, sum), cageBuildSIToFP(b, count, f64Type(b)));
  MlirValue twoSqrt3 = cageBuildConstantFloat(b, f64Type(b), 2.0 * sqrt(3.0));
  return cageBuildTruncF(b, cageBuildDivF(b, h, twoSqrt3), f32Type(b));
}

/* What the body of a direction reads besides g. */
typedef struct DirectionContext {
  const LowerPhiloxKeys *keys;
  MlirValue param, step; /* counter words 2 and 3 (i32) */
  MlirValue norm, cb, cu;
  const MlirValue *sizes; /* of g's loops */
  int64_t rank;
} DirectionContext;

/* v = cb·(g / norm) + cu·u; args: g, out. */
static void directionBody(CageBuilder *body, const MlirValue *args,
                          intptr_t numArgs, MlirValue *yielded,
                          void *userData) {
  (void)numArgs;
  const DirectionContext *ctx = userData;
  MlirValue index = lowerLinearIndex(body, ctx->sizes, ctx->rank);
  MlirValue shift = cageBuildConstantI64(body, 32);
  MlirValue counter[4] = {
      cageBuildTruncI(body, index, i32Type(body)),
      cageBuildTruncI(body, cageBuildShRUI(body, index, shift), i32Type(body)),
      ctx->param, ctx->step};
  MlirValue out[4];
  lowerBuildPhiloxCounter(body, ctx->keys, counter, out);
  MlirValue a = lowerBuildUniform24(body, out[0]);
  MlirValue two = cageBuildConstantF32(body, 2.0f);
  MlirValue one = cageBuildConstantF32(body, 1.0f);
  MlirValue u =
      cageBuildMulF(body, cageBuildSubF(body, cageBuildMulF(body, two, a), one),
                    cageBuildConstantF32(body, kSqrt3));
  MlirValue ghat = cageBuildDivF(body, args[0], ctx->norm);
  yielded[0] = cageBuildAddF(body, cageBuildMulF(body, ctx->cb, ghat),
                             cageBuildMulF(body, ctx->cu, u));
}

/* σ of step t: +1 when bit 0 of word 0 of Philox(seed, (0, 0, 0xFFFFFFFF,
 * t low 32)) is 0, else −1. */
static MlirValue sign(CageBuilder *b, const LowerPhiloxKeys *keys,
                      MlirValue step32) {
  MlirValue zero = cageBuildConstantInt(b, i32Type(b), 0);
  MlirValue counter[4] = {
      zero, zero, cageBuildConstantInt(b, i32Type(b), kSignCounter), step32};
  MlirValue out[4];
  lowerBuildPhiloxCounter(b, keys, counter, out);
  MlirValue bit =
      cageBuildAndI(b, out[0], cageBuildConstantInt(b, i32Type(b), 1));
  return cageBuildSelect(b, cageBuildCmpI(b, CageCmpIEQ, bit, zero),
                         cageBuildConstantF32(b, 1.0f),
                         cageBuildConstantF32(b, -1.0f));
}

static bool buildFogzoDirection(CageBuilder *b, MlirOperation op,
                                LowerResults *results) {
  MlirAttribute fogzo = cageFogzoDirectionOpGetFogzo(op);
  MlirValue norm = gradientScale(b, op);

  /* r and β_t in f32. */
  MlirValue t = cageFogzoDirectionOpGetStep(op);
  MlirValue r =
      cageBuildTrainingProgress(b, t, cageFogzoDirectionOpGetTotal(op));
  MlirValue one = cageBuildConstantF32(b, 1.0f);
  MlirValue betaMin = cageBuildConstantF32(b, cageFogzoAttrGetBetaMin(fogzo));
  MlirValue beta =
      cageBuildAddF(b, betaMin,
                    cageBuildMulF(b, cageBuildSubF(b, one, betaMin),
                                  cageBuildSubF(b, one, r)));

  LowerPhiloxKeys keys;
  lowerBuildPhiloxKeys(b, cageBuildConstantI64(b, cageFogzoAttrGetSeed(fogzo)),
                       &keys);
  MlirValue step32 = cageBuildTruncI(b, t, i32Type(b));
  DirectionContext ctx = {
      .keys = &keys,
      .step = step32,
      .norm = norm,
      .cb = cageBuildMulF(b, cageBuildSqrt(b, beta), sign(b, &keys, step32)),
      .cu = cageBuildSqrt(b, cageBuildSubF(b, one, beta))};

  for (intptr_t k = 0, n = cageFogzoDirectionOpGetNumParams(op); k < n; ++k) {
    MlirValue g = cageFogzoDirectionOpGetParamG(op, k);
    ctx.rank = mlirShapedTypeGetRank(mlirValueGetType(g));
    MlirValue *sizes = cageAllocArray(ctx.rank, sizeof *sizes);
    for (int64_t d = 1; d < ctx.rank; ++d)
      sizes[d] = cageBuildDim(b, g, d);
    ctx.sizes = sizes;
    ctx.param = cageBuildConstantInt(b, i32Type(b), k);
    MlirValue init = cageBuildEmptyLike(b, g);
    MlirValue v = cageOperationGetResult(
        cageBuildElementwise(b, &g, 1, &init, 1, directionBody, &ctx), 0);
    free(sizes);
    lowerReplace(results, cageFogzoDirectionOpGetDirection(op, k), v);
  }
  lowerReplace(results, cageFogzoDirectionOpGetEpsilon(op), epsilon(b, op));
  return true;
}

void cagePopulateFogzoLoweringPatterns(MlirContext ctx,
                                       MlirRewritePatternSet patterns) {
  static LowerPattern table[] = {{"cage.fogzo_direction", buildFogzoDirection}};
  lowerAddPatterns(ctx, patterns, table, 1);
}
