/*===- Verify.c - cage-verify: whole-function checks of cage ops ----------===*\
|*                                                                            *|
|* Op verifiers see one op; these checks follow operands to their            *|
|* definitions: a decoupled cage.update whose lr · λ_t leaves [0, 1)         *|
|* (from 1 on it overshoots the grid, below 0 it pushes w away from it),    *|
|* a step count t < 1 (AdamW's bias correction divides by 1 − β^t = 0), a    *|
|* schedule with total steps T < 1 (r = t / T is undefined).                  *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "cage/Dialect/Cage/Transforms/Passes.h"

#include "IR/Ops.h"

#include "cage-c/Dialect/Cage.h"
#include "cage-c/Dialect/CageOps.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/Diagnostics.h"

#include <stdio.h>

typedef struct VerifyState {
  bool warnOnly;
  bool failed;
} VerifyState;

/* The value of an arith.constant of float type, as f32. */
static bool constantFloat(MlirValue value, float *result) {
  double d;
  if (!cageConstantFloatValue(value, &d))
    return false;
  *result = (float)d;
  return true;
}

/* The value of an arith.constant of integer type. */
static bool constantInt(MlirValue value, int64_t *result) {
  MlirOperation def = cageDefiningOp(value);
  if (mlirOperationIsNull(def) || !cageOpIs(def, "arith.constant"))
    return false;
  MlirAttribute attr = cageOpAttribute(def, "value");
  if (!mlirAttributeIsAInteger(attr))
    return false;
  *result = mlirIntegerAttrGetValueSInt(attr);
  return true;
}

/* The largest λ_t that `lambda` takes, when it is known: a constant, or the
 * λ of a cage.lambda_schedule (both kinds reach λ once t ≥ T). */
static bool largestLambda(MlirValue lambda, float *result) {
  if (constantFloat(lambda, result))
    return true;
  MlirOperation def = cageDefiningOp(lambda);
  if (mlirOperationIsNull(def) || !cageOperationIsALambdaSchedule(def))
    return false;
  *result = cageLambdaScheduleOpGetLambda(def);
  return true;
}

static void report(VerifyState *state, MlirLocation loc, const char *message) {
  if (state->warnOnly) {
    cageEmitWarning(loc, message);
    return;
  }
  mlirEmitError(loc, message);
  state->failed = true;
}

static void checkStep(VerifyState *state, MlirOperation op, MlirValue step) {
  int64_t t;
  if (!constantInt(step, &t) || t >= 1)
    return;
  char message[160];
  snprintf(message, sizeof message,
           "step count t is 1-based, got t = %lld: the bias correction "
           "1 - beta^t would be 0",
           (long long)t);
  report(state, mlirOperationGetLocation(op), message);
}

/* cage.update and cage.multi_update: the step t (AdamW), and lr · λ_t of a
 * decoupled correction (there is none without a quantizer). */
static void checkUpdate(VerifyState *state, MlirOperation op) {
  bool update = cageOperationIsAUpdate(op);
  MlirValue step =
      update ? cageUpdateOpGetStep(op) : cageMultiUpdateOpGetStep(op);
  if (!mlirValueIsNull(step))
    checkStep(state, op, step);
  MlirValue lambdaT =
      update ? cageUpdateOpGetLambda(op) : cageMultiUpdateOpGetLambda(op);
  CageCoupling coupling =
      update ? cageUpdateOpGetCoupling(op) : cageMultiUpdateOpGetCoupling(op);
  MlirValue lrValue =
      update ? cageUpdateOpGetLr(op) : cageMultiUpdateOpGetLr(op);
  float lr, lambda;
  if (mlirValueIsNull(lambdaT) || coupling != CageCouplingDecoupled ||
      !constantFloat(lrValue, &lr) || !largestLambda(lambdaT, &lambda))
    return;
  /* λ_t runs from 0 to its largest value, so lr · λ_t spans 0 to product:
   * both ends must lie in [0, 1) (NaN fails both tests). */
  float product = lr * lambda;
  if (product >= 0.0f && product < 1.0f)
    return;
  char message[240];
  snprintf(message, sizeof message,
           product >= 1.0f
               ? "decoupled CAGE update is unstable: lr * lambda_t reaches %g "
                 "(lr = %g, lambda_t up to %g); it must stay below 1"
               : "decoupled CAGE update is unstable: lr * lambda_t reaches %g "
                 "(lr = %g, lambda_t up to %g); it must be in [0, 1): below 0 "
                 "the correction pushes w away from the grid",
           product, lr, lambda);
  report(state, mlirOperationGetLocation(op), message);
}

static void checkSchedule(VerifyState *state, MlirOperation op) {
  int64_t total;
  if (!constantInt(cageLambdaScheduleOpGetTotal(op), &total) || total >= 1)
    return;
  char message[120];
  snprintf(message, sizeof message,
           "total step count T must be at least 1, got T = %lld",
           (long long)total);
  report(state, mlirOperationGetLocation(op), message);
}

static MlirWalkResult visit(MlirOperation op, void *userData) {
  VerifyState *state = userData;
  if (cageOperationIsAUpdate(op) || cageOperationIsAMultiUpdate(op))
    checkUpdate(state, op);
  else if (cageOperationIsAAdamW(op))
    checkStep(state, op, cageAdamWOpGetStep(op));
  else if (cageOperationIsALambdaSchedule(op))
    checkSchedule(state, op);
  return MlirWalkResultAdvance;
}

enum { kWarnOnly };

static void run(MlirOperation op, const CagePassOptionValue *options,
                CagePassHandle pass) {
  VerifyState state = {options[kWarnOnly].b, false};
  mlirOperationWalk(op, visit, &state, MlirWalkPreOrder);
  if (state.failed)
    cagePassSignalFailure(pass);
}

static const CagePassOption verifyOptions[] = {
    [kWarnOnly] = {"warn-only",
                   "Report findings as warnings and let the pass succeed",
                   CagePassOptionBool,
                   {.b = false}},
};

const CagePassDefinition cageVerifyPass = {
    .argument = "cage-verify",
    .name = "CageVerify",
    .summary = "Check cage ops against the values that reach them",
    .anchorOp = "func.func",
    .options = verifyOptions,
    .numOptions = sizeof verifyOptions / sizeof verifyOptions[0],
    .dependentDialects = NULL,
    .numDependentDialects = 0,
    .run = run,
};
