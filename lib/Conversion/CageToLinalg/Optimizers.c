/*===- Optimizers.c - Lowering of the schedule and optimizer steps --------===*\
|*                                                                            *|
|* cage.lambda_schedule becomes scalar arith; cage.adamw and cage.sgd become *|
|* one element-wise linalg.generic each, with the per-step scalars (bias     *|
|* corrections, decay factor) computed once before it; cage.update is       *|
|* lowered fused (FusedUpdate.c) or, where that cannot be, expanded into     *|
|* its unfused spelling (cage-expand-update), which the other patterns then *|
|* lower.                                                                    *|
|*                                                                            *|
|* The arithmetic follows lib/Reference/Reference.h operation for operation *|
|* (it fixes the orders docs/Semantics.md §1.3 leaves open), so that the     *|
|* compiled step matches the reference to the last bit.                      *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Optimizers.h"

#include "FusedUpdate.h"
#include "Patterns.h"

#include "IR/Builder.h"
#include "IR/Ops.h"
#include "cage-c/Dialect/Cage.h"
#include "cage-c/Dialect/CageOps.h"
#include "cage/Dialect/Cage/Transforms/ExpandUpdate.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

/*===--- Building ---------------------------------------------------------===*/

/* 1 - x, as the reference writes (1.0f - beta1). */
static MlirValue oneMinus(CageBuilder *b, MlirValue x) {
  return cageBuildSubF(b, cageBuildConstantF32(b, 1.0f), x);
}

/*===--- cage.lambda_schedule ---------------------------------------------===*/

/* r = min(t / T, 1); lambda_t = r <= s ? 0 : (linear_ramp: (lambda * (r - s))
 * / (1 - s); constant: lambda). */
static bool buildLambdaSchedule(CageBuilder *b, MlirOperation op,
                                LowerResults *results) {
  MlirValue lambda = cageBuildConstantF32(b, cageLambdaScheduleOpGetLambda(op));
  MlirValue silence =
      cageBuildConstantF32(b, cageLambdaScheduleOpGetSilence(op));
  MlirValue r = cageBuildTrainingProgress(b, cageLambdaScheduleOpGetStep(op),
                                          cageLambdaScheduleOpGetTotal(op));
  MlirValue active = lambda;
  if (cageLambdaScheduleOpGetKind(op) == CageScheduleKindLinearRamp)
    active =
        cageBuildDivF(b, cageBuildMulF(b, lambda, cageBuildSubF(b, r, silence)),
                      oneMinus(b, silence));
  lowerReplace(results, cageLambdaScheduleOpGetResult(op),
               cageBuildSelect(b, cageBuildCmpF(b, CageCmpFOLE, r, silence),
                               cageBuildConstantF32(b, 0.0f), active));
  return true;
}

/*===--- Optimizer steps, shared with FusedUpdate.c -----------------------===*/

LowerOptimizer lowerReadOptimizerAttr(MlirAttribute attr) {
  LowerOptimizer o = {.adamw = cageAttributeIsAAdamW(attr)};
  if (o.adamw) {
    o.beta1 = cageAdamWAttrGetBeta1(attr);
    o.beta2 = cageAdamWAttrGetBeta2(attr);
    o.eps = cageAdamWAttrGetEps(attr);
    o.weightDecay = cageAdamWAttrGetWeightDecay(attr);
  } else {
    o.momentum = cageSGDAttrGetMomentum(attr);
    o.dampening = cageSGDAttrGetDampening(attr);
    o.nesterov = cageSGDAttrGetNesterov(attr);
    o.weightDecay = cageSGDAttrGetWeightDecay(attr);
  }
  return o;
}

/* cage.adamw and cage.sgd carry the parameters as attributes of their own. */
static LowerOptimizer readOptimizerOp(MlirOperation op) {
  if (cageOperationIsAAdamW(op))
    return (LowerOptimizer){.adamw = true,
                            .beta1 = cageAdamWOpGetBeta1(op),
                            .beta2 = cageAdamWOpGetBeta2(op),
                            .eps = cageAdamWOpGetEps(op),
                            .weightDecay = cageAdamWOpGetWeightDecay(op)};
  return (LowerOptimizer){.adamw = false,
                          .momentum = cageSGDOpGetMomentum(op),
                          .dampening = cageSGDOpGetDampening(op),
                          .nesterov = cageSGDOpGetNesterov(op),
                          .weightDecay = cageSGDOpGetWeightDecay(op)};
}

/* One step of the binary exponentiation of biasCorrection: bit `iv` of t. */
static void powerStep(CageBuilder *body, MlirValue iv, const MlirValue *iter,
                      MlirValue *yielded, void *userData) {
  MlirValue step = *(const MlirValue *)userData;
  MlirType i64 = mlirIntegerTypeGet(body->context, 64);
  MlirValue bit = cageBuildAndI(
      body, cageBuildShRUI(body, step, cageBuildIndexCast(body, iv, i64)),
      cageBuildConstantI64(body, 1));
  MlirValue set =
      cageBuildCmpI(body, CageCmpINE, bit, cageBuildConstantI64(body, 0));
  MlirValue power = iter[0], square = iter[1];
  yielded[0] =
      cageBuildSelect(body, set, cageBuildMulF(body, power, square), power);
  yielded[1] = cageBuildMulF(body, square, square);
}

/* 1 - β^t (section 1.3): p = β^t in f64 by binary exponentiation, square
 * and multiply over the 64 bits of t from the lowest, every product an f64
 * multiplication of the f64 value of the f32 β (the bits above t's highest
 * set bit only square a value that is no longer used); then 1 - p in f64,
 * rounded once to f32. Unlike math.powf, which LLVM rewrites and each libm
 * rounds its own way, this is the same on every target. */
static MlirValue biasCorrection(CageBuilder *b, float beta, MlirValue step) {
  MlirValue inits[2] = {
      cageBuildConstantFloat(b, mlirF64TypeGet(b->context), 1.0),
      cageBuildConstantFloat(b, mlirF64TypeGet(b->context), (double)beta)};
  MlirOperation loop = cageBuildFor(
      b, cageBuildConstantIndex(b, 0), cageBuildConstantIndex(b, 64),
      cageBuildConstantIndex(b, 1), inits, 2, powerStep, &step);
  if (mlirOperationIsNull(loop))
    return (MlirValue){NULL};
  MlirValue oneMinusPower = cageBuildSubF(
      b, cageBuildConstantFloat(b, mlirF64TypeGet(b->context), 1.0),
      cageOperationGetResult(loop, 0));
  return cageBuildTruncF(b, oneMinusPower, mlirF32TypeGet(b->context));
}

LowerOptimizerStep lowerBuildOptimizerStep(CageBuilder *b,
                                           const LowerOptimizer *o,
                                           MlirValue lr, MlirValue step) {
  LowerOptimizerStep s = {.optimizer = *o, .lr = lr};
  if (!o->adamw)
    return s;
  MlirValue weightDecay = cageBuildConstantF32(b, o->weightDecay);
  s.decay = oneMinus(b, cageBuildMulF(b, lr, weightDecay));
  s.beta1 = cageBuildConstantF32(b, o->beta1);
  s.beta2 = cageBuildConstantF32(b, o->beta2);
  s.oneMinusBeta1 = oneMinus(b, s.beta1);
  s.oneMinusBeta2 = oneMinus(b, s.beta2);
  s.bc1 = biasCorrection(b, o->beta1, step);
  s.bc2 = biasCorrection(b, o->beta2, step);
  s.eps = cageBuildConstantF32(b, o->eps);
  return s;
}

static void adamwElement(CageBuilder *b, const LowerOptimizerStep *s,
                         MlirValue w, MlirValue g, const MlirValue *state,
                         MlirValue *results) {
  MlirValue m = state[0], v = state[1];
  MlirValue decayed = cageBuildMulF(b, w, s->decay);
  MlirValue m1 = cageBuildAddF(b, cageBuildMulF(b, s->beta1, m),
                               cageBuildMulF(b, s->oneMinusBeta1, g));
  MlirValue v1 =
      cageBuildAddF(b, cageBuildMulF(b, s->beta2, v),
                    cageBuildMulF(b, s->oneMinusBeta2, cageBuildMulF(b, g, g)));
  MlirValue mhat = cageBuildDivF(b, m1, s->bc1);
  MlirValue vhat = cageBuildDivF(b, v1, s->bc2);
  MlirValue denom = cageBuildAddF(b, cageBuildSqrt(b, vhat), s->eps);
  results[0] = cageBuildSubF(
      b, decayed, cageBuildDivF(b, cageBuildMulF(b, s->lr, mhat), denom));
  results[1] = m1;
  results[2] = v1;
}

/* Momentum, dampening, Nesterov and a zero weight decay are compile-time
 * facts, so the branches are too. */
static void sgdElement(CageBuilder *b, const LowerOptimizerStep *s, MlirValue w,
                       MlirValue g, const MlirValue *state,
                       MlirValue *results) {
  const LowerOptimizer *o = &s->optimizer;
  MlirValue buf = state[0];
  if (o->weightDecay != 0.0f) {
    MlirValue weightDecay = cageBuildConstantF32(b, o->weightDecay);
    g = cageBuildAddF(b, g, cageBuildMulF(b, weightDecay, w));
  }
  MlirValue d = g;
  if (o->momentum != 0.0f) {
    MlirValue mu = cageBuildConstantF32(b, o->momentum);
    buf = cageBuildAddF(
        b, cageBuildMulF(b, mu, buf),
        cageBuildMulF(b, cageBuildConstantF32(b, 1.0f - o->dampening), g));
    d = o->nesterov ? cageBuildAddF(b, g, cageBuildMulF(b, mu, buf)) : buf;
  }
  results[0] = cageBuildSubF(b, w, cageBuildMulF(b, s->lr, d));
  results[1] = buf;
}

void lowerBuildOptimizerElement(CageBuilder *body, const LowerOptimizerStep *s,
                                MlirValue w, MlirValue g,
                                const MlirValue *state, MlirValue *results) {
  if (s->optimizer.adamw)
    adamwElement(body, s, w, g, state, results);
  else
    sgdElement(body, s, w, g, state, results);
}

/*===--- cage.adamw and cage.sgd ------------------------------------------===*/

/* Body arguments: w, g, the state, then the outputs. */
static void optimizerBody(CageBuilder *b, const MlirValue *args,
                          intptr_t numArgs, MlirValue *yielded,
                          void *userData) {
  (void)numArgs;
  lowerBuildOptimizerElement(b, userData, args[0], args[1], args + 2, yielded);
}

/* One element-wise generic: w, g, state in; w, state out. */
static bool buildOptimizer(CageBuilder *b, MlirOperation op,
                           LowerResults *results) {
  LowerOptimizer o = readOptimizerOp(op);
  CageOptimizerOp opt = cageOptimizerOpRead(op);
  LowerOptimizerStep s = lowerBuildOptimizerStep(b, &o, opt.lr, opt.step);
  intptr_t numInputs = 2 + opt.numState, numOutputs = 1 + opt.numState;
  MlirValue inputs[2 + kCageMaxOptimizerState] = {opt.w, opt.g};
  MlirValue outputs[1 + kCageMaxOptimizerState];
  for (intptr_t i = 0; i < opt.numState; ++i)
    inputs[2 + i] = opt.state[i];
  for (intptr_t i = 0; i < numOutputs; ++i)
    outputs[i] = cageBuildEmptyLike(b, opt.w);
  MlirOperation generic = cageBuildElementwise(b, inputs, numInputs, outputs,
                                               numOutputs, optimizerBody, &s);
  lowerReplace(results, opt.newW, cageOperationGetResult(generic, 0));
  for (intptr_t i = 0; i < opt.numState; ++i)
    lowerReplace(results, opt.newState[i],
                 cageOperationGetResult(generic, 1 + i));
  return true;
}

/*===--- cage.update ------------------------------------------------------===*/

/* Fused where FusedUpdate.c can; otherwise (a Hadamard rotation, shapes it
 * cannot view as rows) its unfused spelling, cage.quant_error + the
 * optimizer op + the correction, which the other patterns then lower. */
static bool buildUpdateIn(CageBuilder *b, MlirOperation op,
                          LowerUpdateForm form, LowerResults *results) {
  if (lowerCanFuseUpdate(op))
    return lowerBuildFusedUpdate(b, op, form, results);
  MlirValue expanded[kCageUpdateMaxResults];
  if (!cageExpandUpdate(b, op, expanded))
    return false;
  lowerReplace(results, cageUpdateOpGetNewW(op), expanded[0]);
  for (intptr_t i = 0; i < cageUpdateOpGetNumNewState(op); ++i)
    lowerReplace(results, cageUpdateOpGetNewState(op, i), expanded[1 + i]);
  return true;
}

static bool buildUpdate(CageBuilder *b, MlirOperation op,
                        LowerResults *results) {
  return buildUpdateIn(b, op, LowerUpdateChunks, results);
}

static bool buildUpdateElements(CageBuilder *b, MlirOperation op,
                                LowerResults *results) {
  return buildUpdateIn(b, op, LowerUpdateElements, results);
}

/*===--- Registration -----------------------------------------------------===*/

void cagePopulateOptimizerLoweringPatterns(MlirContext ctx,
                                           MlirRewritePatternSet patterns,
                                           LowerUpdateForm form) {
  static LowerPattern table[] = {
      {"cage.lambda_schedule", buildLambdaSchedule},
      {"cage.adamw", buildOptimizer},
      {"cage.sgd", buildOptimizer},
  };
  static LowerPattern chunks[] = {{"cage.update", buildUpdate}};
  static LowerPattern elements[] = {{"cage.update", buildUpdateElements}};
  lowerAddPatterns(ctx, patterns, table, sizeof table / sizeof table[0]);
  lowerAddPatterns(ctx, patterns,
                   form == LowerUpdateElements ? elements : chunks, 1);
}
