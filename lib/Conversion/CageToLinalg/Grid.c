/*===- Grid.c - The scalar math of a quantizer, in linalg bodies ----------===*\
|*                                                                            *|
|* Every formula is written out in the order of its f32 operations, each      *|
|* one arith/math op; see "Orders" at the top of Quantizer.c. Constants are   *|
|* built where they are used; the pattern driver hoists them out of the       *|
|* bodies.                                                                    *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Grid.h"

#include "cage-c/Dialect/Cage.h"

#include "mlir-c/BuiltinTypes.h"

LowerQuantizer lowerReadQuantizer(MlirAttribute attr) {
  LowerQuantizer q = {
      .bits = cageQuantizerAttrGetBits(attr),
      .granularity = cageQuantizerAttrGetGranularity(attr),
      .groupSize = cageQuantizerAttrGetGroupSize(attr),
      .scale = cageQuantizerAttrGetScale(attr),
      .levels = cageQuantizerAttrGetLevels(attr),
      .rotation = cageQuantizerAttrGetRotation(attr),
      .block = cageQuantizerAttrGetBlock(attr),
      .rounding = cageQuantizerAttrGetRounding(attr),
  };
  return q;
}

int64_t lowerGridQMax(const LowerQuantizer *q) {
  return (INT64_C(1) << (q->bits - 1)) - 1;
}

static int64_t qmin(const LowerQuantizer *q) {
  return -(INT64_C(1) << (q->bits - 1));
}

/* 2^b - 1: the number of steps between the centered grid's end levels. */
static int64_t centeredSteps(const LowerQuantizer *q) {
  return (INT64_C(1) << q->bits) - 1;
}

/* min(max(x, low), high): NaN-propagating, like every op here. */
static MlirValue clamp(CageBuilder *b, MlirValue x, MlirValue low,
                       MlirValue high) {
  return cageBuildBinary(b, "arith.minimumf",
                         cageBuildBinary(b, "arith.maximumf", x, low), high);
}

/*===--- Rounding ---------------------------------------------------------===*/

/* rnd(y) = floor(y) + (u < y - floor(y) ? 1 : 0) (section 1.4), literally:
 * the sum with 0.0 turns floor(-0.0) = -0.0 into +0.0, as the reference's
 * does, where a select between floor(y) and floor(y) + 1 would not. */
static MlirValue roundStochastic(CageBuilder *body, MlirValue y,
                                 const LowerStochastic *stochastic) {
  MlirValue u =
      lowerBuildPhiloxUniform(body, stochastic->keys, stochastic->index);
  MlirValue down = cageBuildUnary(body, "math.floor", y);
  MlirValue fraction = cageBuildBinary(body, "arith.subf", y, down);
  MlirValue one = cageBuildConstantF32(body, 1.0f);
  MlirValue zero = cageBuildConstantF32(body, 0.0f);
  MlirValue up =
      cageBuildSelect(body, cageBuildCmpF(body, "olt", u, fraction), one, zero);
  return cageBuildBinary(body, "arith.addf", down, up);
}

static MlirValue roundWith(CageBuilder *body, MlirValue y,
                           const LowerStochastic *stochastic) {
  if (!stochastic)
    return cageBuildUnary(body, "math.roundeven", y);
  return roundStochastic(body, y, stochastic);
}

/*===--- Per group --------------------------------------------------------===*/

MlirValue lowerGridStep(CageBuilder *body, const LowerQuantizer *q,
                        MlirValue alpha) {
  if (q->levels == CageLevelsInt)
    return cageBuildBinary(body, "arith.divf", alpha,
                           cageBuildConstantF32(body, (float)lowerGridQMax(q)));
  MlirValue twice = cageBuildBinary(body, "arith.mulf",
                                    cageBuildConstantF32(body, 2.0f), alpha);
  return cageBuildBinary(body, "arith.divf", twice,
                         cageBuildConstantF32(body, (float)centeredSteps(q)));
}

int lowerGridNumScales(const LowerQuantizer *q) {
  return q->levels == CageLevelsInt ? 1 : 2;
}

void lowerGridReadScales(const LowerQuantizer *q, const MlirValue *args,
                         MlirValue *alpha, MlirValue *step) {
  bool isInt = q->levels == CageLevelsInt;
  *alpha = isInt ? (MlirValue){NULL} : args[0];
  *step = isInt ? args[0] : args[1];
}

/* c_b for b = 1..8: the outermost level of the MSE-optimal uniform quantizer
 * of a standard Gaussian (section 1.1), as f32 constants. */
static const float kRmsGaussianLevel[] = {0.79788f, 1.49353f, 2.05107f,
                                          2.51393f, 2.91609f, 3.27660f,
                                          3.60105f, 3.88494f};

MlirValue lowerGridRmsClipValue(CageBuilder *body, const LowerQuantizer *q,
                                MlirValue sumOfSquares, MlirValue count) {
  MlirValue meanF64 = cageBuildBinary(body, "arith.divf", sumOfSquares, count);
  MlirValue mean = cageBuildCast(body, "arith.truncf", meanF64,
                                 mlirF32TypeGet(body->context));
  MlirValue level = cageBuildConstantF32(body, kRmsGaussianLevel[q->bits - 1]);
  MlirValue scaled = cageBuildBinary(body, "arith.mulf", level,
                                     cageBuildUnary(body, "math.sqrt", mean));
  return cageBuildBinary(body, "arith.addf", scaled,
                         cageBuildConstantF32(body, 1e-8f));
}

/*===--- Per element ------------------------------------------------------===*/

/* int: z = x / s; r = clamp(rnd(z), qmin, qmax); q = r * s. */
static MlirValue intValue(CageBuilder *body, const LowerQuantizer *q,
                          MlirValue x, MlirValue s,
                          const LowerStochastic *stochastic) {
  MlirValue low = cageBuildConstantF32(body, (float)qmin(q));
  MlirValue high = cageBuildConstantF32(body, (float)lowerGridQMax(q));
  MlirValue r =
      roundWith(body, cageBuildBinary(body, "arith.divf", x, s), stochastic);
  return cageBuildBinary(body, "arith.mulf", clamp(body, r, low, high), s);
}

/* centered: c = clamp(x, -α, α); y = (c / step) + 0.5;
 * l = clamp(rnd(y), 1 - 2^(b-1), 2^(b-1)); q = (l - 0.5) * step.
 * The level clamp is built for stochastic rounding only: with round half to
 * even rnd(y) cannot leave the grid (y is within an ulp of it), and the
 * reference's clamp is then a no-op. */
static MlirValue centeredValue(CageBuilder *body, const LowerQuantizer *q,
                               MlirValue x, MlirValue alpha, MlirValue step,
                               const LowerStochastic *stochastic) {
  MlirValue half = cageBuildConstantF32(body, 0.5f);
  MlirValue c =
      clamp(body, x, cageBuildUnary(body, "arith.negf", alpha), alpha);
  MlirValue y = cageBuildBinary(
      body, "arith.addf", cageBuildBinary(body, "arith.divf", c, step), half);
  MlirValue r = roundWith(body, y, stochastic);
  if (stochastic) {
    float top = (float)(INT64_C(1) << (q->bits - 1));
    r = clamp(body, r, cageBuildConstantF32(body, 1.0f - top),
              cageBuildConstantF32(body, top));
  }
  return cageBuildBinary(body, "arith.mulf",
                         cageBuildBinary(body, "arith.subf", r, half), step);
}

MlirValue lowerGridValue(CageBuilder *body, const LowerQuantizer *q,
                         MlirValue x, MlirValue alpha, MlirValue step,
                         const LowerStochastic *stochastic) {
  if (q->levels == CageLevelsInt)
    return intValue(body, q, x, step, stochastic);
  return centeredValue(body, q, x, alpha, step, stochastic);
}

MlirValue lowerGridIsClipped(CageBuilder *body, const LowerQuantizer *q,
                             MlirValue x, MlirValue alpha, MlirValue step) {
  if (q->levels == CageLevelsCentered)
    return cageBuildCmpF(body, "ogt", cageBuildUnary(body, "math.absf", x),
                         alpha);
  /* int: rint(x / s) outside [qmin, qmax]. */
  MlirValue r = cageBuildUnary(body, "math.roundeven",
                               cageBuildBinary(body, "arith.divf", x, step));
  MlirValue below =
      cageBuildCmpF(body, "olt", r, cageBuildConstantF32(body, (float)qmin(q)));
  MlirValue above = cageBuildCmpF(
      body, "ogt", r, cageBuildConstantF32(body, (float)lowerGridQMax(q)));
  return cageBuildBinary(body, "arith.ori", below, above);
}

/* int: z = x / s; r = rint(z); (r - z) / qmax inside the grid, qmin / qmax
 * below it, 1 above it. */
static MlirValue intScaleDerivative(CageBuilder *body, const LowerQuantizer *q,
                                    MlirValue x, MlirValue s) {
  float qminF = (float)qmin(q), qmaxF = (float)lowerGridQMax(q);
  MlirValue low = cageBuildConstantF32(body, qminF);
  MlirValue high = cageBuildConstantF32(body, qmaxF);
  MlirValue belowValue = cageBuildConstantF32(body, qminF / qmaxF);
  MlirValue aboveValue = cageBuildConstantF32(body, 1.0f);
  MlirValue z = cageBuildBinary(body, "arith.divf", x, s);
  MlirValue r = cageBuildUnary(body, "math.roundeven", z);
  MlirValue inside = cageBuildBinary(
      body, "arith.divf", cageBuildBinary(body, "arith.subf", r, z), high);
  MlirValue above = cageBuildCmpF(body, "ogt", r, high);
  MlirValue below = cageBuildCmpF(body, "olt", r, low);
  MlirValue d = cageBuildSelect(body, above, aboveValue, inside);
  return cageBuildSelect(body, below, belowValue, d);
}

/* centered, h = (2^b - 1) / 2: r = rint(((x * h) / α) + 0.5);
 * ((r - 0.5) / h) - (x / α) where |x| <= α; 1 where x > α, -1 where x < -α. */
static MlirValue centeredScaleDerivative(CageBuilder *body,
                                         const LowerQuantizer *q, MlirValue x,
                                         MlirValue alpha) {
  MlirValue half = cageBuildConstantF32(body, 0.5f);
  MlirValue h = cageBuildConstantF32(body, (float)centeredSteps(q) / 2.0f);
  MlirValue plusOne = cageBuildConstantF32(body, 1.0f);
  MlirValue minusOne = cageBuildConstantF32(body, -1.0f);
  MlirValue scaled = cageBuildBinary(
      body, "arith.divf", cageBuildBinary(body, "arith.mulf", x, h), alpha);
  MlirValue y = cageBuildBinary(body, "arith.addf", scaled, half);
  MlirValue r = cageBuildUnary(body, "math.roundeven", y);
  MlirValue level = cageBuildBinary(
      body, "arith.divf", cageBuildBinary(body, "arith.subf", r, half), h);
  MlirValue inside = cageBuildBinary(
      body, "arith.subf", level, cageBuildBinary(body, "arith.divf", x, alpha));
  MlirValue negAlpha = cageBuildUnary(body, "arith.negf", alpha);
  MlirValue below = cageBuildCmpF(body, "olt", x, negAlpha);
  MlirValue above = cageBuildCmpF(body, "ogt", x, alpha);
  MlirValue d = cageBuildSelect(body, below, minusOne, inside);
  return cageBuildSelect(body, above, plusOne, d);
}

MlirValue lowerGridScaleDerivative(CageBuilder *body, const LowerQuantizer *q,
                                   MlirValue x, MlirValue alpha,
                                   MlirValue step) {
  if (q->levels == CageLevelsInt)
    return intScaleDerivative(body, q, x, step);
  return centeredScaleDerivative(body, q, x, alpha);
}
