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
  return cageBuildMinimumF(b, cageBuildMaximumF(b, x, low), high);
}

/*===--- Rounding ---------------------------------------------------------===*/

/* rnd(y) = floor(y) + (u < y - floor(y) ? 1 : 0) (section 1.4), literally:
 * the sum with 0.0 turns floor(-0.0) = -0.0 into +0.0, as the reference's
 * does, where a select between floor(y) and floor(y) + 1 would not. */
static MlirValue roundStochastic(CageBuilder *body, MlirValue y,
                                 const LowerStochastic *stochastic) {
  MlirValue u =
      lowerBuildPhiloxUniform(body, stochastic->keys, stochastic->index);
  MlirValue down = cageBuildFloor(body, y);
  MlirValue fraction = cageBuildSubF(body, y, down);
  MlirValue one = cageBuildConstantF32(body, 1.0f);
  MlirValue zero = cageBuildConstantF32(body, 0.0f);
  MlirValue up = cageBuildSelect(
      body, cageBuildCmpF(body, CageCmpFOLT, u, fraction), one, zero);
  return cageBuildAddF(body, down, up);
}

static MlirValue roundWith(CageBuilder *body, MlirValue y,
                           const LowerStochastic *stochastic) {
  if (!stochastic)
    return cageBuildRoundEven(body, y);
  return roundStochastic(body, y, stochastic);
}

/*===--- Per group --------------------------------------------------------===*/

MlirValue lowerGridStep(CageBuilder *body, const LowerQuantizer *q,
                        MlirValue alpha) {
  if (q->levels == CageLevelsInt)
    return cageBuildDivF(body, alpha,
                         cageBuildConstantF32(body, (float)lowerGridQMax(q)));
  MlirValue twice =
      cageBuildMulF(body, cageBuildConstantF32(body, 2.0f), alpha);
  return cageBuildDivF(body, twice,
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
  MlirValue meanF64 = cageBuildDivF(body, sumOfSquares, count);
  MlirValue mean =
      cageBuildTruncF(body, meanF64, mlirF32TypeGet(body->context));
  MlirValue level = cageBuildConstantF32(body, kRmsGaussianLevel[q->bits - 1]);
  MlirValue scaled = cageBuildMulF(body, level, cageBuildSqrt(body, mean));
  return cageBuildAddF(body, scaled, cageBuildConstantF32(body, 1e-8f));
}

/*===--- Per element ------------------------------------------------------===*/

/* int: z = x / s; r = clamp(rnd(z), qmin, qmax); q = r * s. */
static MlirValue intValue(CageBuilder *body, const LowerQuantizer *q,
                          MlirValue x, MlirValue s,
                          const LowerStochastic *stochastic) {
  MlirValue low = cageBuildConstantF32(body, (float)qmin(q));
  MlirValue high = cageBuildConstantF32(body, (float)lowerGridQMax(q));
  MlirValue r = roundWith(body, cageBuildDivF(body, x, s), stochastic);
  return cageBuildMulF(body, clamp(body, r, low, high), s);
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
  MlirValue c = clamp(body, x, cageBuildNegF(body, alpha), alpha);
  MlirValue y = cageBuildAddF(body, cageBuildDivF(body, c, step), half);
  MlirValue r = roundWith(body, y, stochastic);
  if (stochastic) {
    float top = (float)(INT64_C(1) << (q->bits - 1));
    r = clamp(body, r, cageBuildConstantF32(body, 1.0f - top),
              cageBuildConstantF32(body, top));
  }
  return cageBuildMulF(body, cageBuildSubF(body, r, half), step);
}

MlirValue lowerGridValue(CageBuilder *body, const LowerQuantizer *q,
                         MlirValue x, MlirValue alpha, MlirValue step,
                         const LowerStochastic *stochastic) {
  if (q->levels == CageLevelsInt)
    return intValue(body, q, x, step, stochastic);
  return centeredValue(body, q, x, alpha, step, stochastic);
}

/* With absmax, α = max(max |x|, 1e-8) ≥ |x| for every x of the group.
 * centered clips where |x| > α: never. int clips where rint(x / s) leaves
 * [qmin, qmax] = [−qmax − 1, qmax], s = fl(α / qmax) ≥ 1e-8 / 127 (normal):
 * |fl(x / s)| ≤ fl(α / s) ≤ qmax · (1 + 2⁻²⁴)² / (1 − 2⁻²⁴) < qmax + 0.5 for
 * qmax ≤ 127, so rint stays within ±qmax. A NaN in the group makes α NaN
 * (maximumf) and an infinity makes s infinite; the comparisons are then
 * false or judge ±0: nothing is clipped either. */
bool lowerGridMayClip(const LowerQuantizer *q) {
  return q->scale != CageScaleKindAbsmax;
}

MlirValue lowerGridIsClipped(CageBuilder *body, const LowerQuantizer *q,
                             MlirValue x, MlirValue alpha, MlirValue step) {
  if (q->levels == CageLevelsCentered)
    return cageBuildCmpF(body, CageCmpFOGT, cageBuildAbsF(body, x), alpha);
  /* int: rint(x / s) outside [qmin, qmax]. */
  MlirValue r = cageBuildRoundEven(body, cageBuildDivF(body, x, step));
  MlirValue below = cageBuildCmpF(body, CageCmpFOLT, r,
                                  cageBuildConstantF32(body, (float)qmin(q)));
  MlirValue above =
      cageBuildCmpF(body, CageCmpFOGT, r,
                    cageBuildConstantF32(body, (float)lowerGridQMax(q)));
  return cageBuildOrI(body, below, above);
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
  MlirValue z = cageBuildDivF(body, x, s);
  MlirValue r = cageBuildRoundEven(body, z);
  MlirValue inside = cageBuildDivF(body, cageBuildSubF(body, r, z), high);
  MlirValue above = cageBuildCmpF(body, CageCmpFOGT, r, high);
  MlirValue below = cageBuildCmpF(body, CageCmpFOLT, r, low);
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
  MlirValue scaled = cageBuildDivF(body, cageBuildMulF(body, x, h), alpha);
  MlirValue y = cageBuildAddF(body, scaled, half);
  MlirValue r = cageBuildRoundEven(body, y);
  MlirValue level = cageBuildDivF(body, cageBuildSubF(body, r, half), h);
  MlirValue inside = cageBuildSubF(body, level, cageBuildDivF(body, x, alpha));
  MlirValue negAlpha = cageBuildNegF(body, alpha);
  MlirValue below = cageBuildCmpF(body, CageCmpFOLT, x, negAlpha);
  MlirValue above = cageBuildCmpF(body, CageCmpFOGT, x, alpha);
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
