/*===- Autodiff.c - cage-autodiff: training steps from a forward function -===*/
//
// For every public func.func with arguments marked `cage.param =
// #cage.param<...>` that returns one f32 loss, cage-autodiff adds
// (docs/Training.md):
//   @<name>_train_step          the forward, the backward and one
//                               cage.update per parameter, on tensors:
//                               (args, each parameter followed by its
//                               optimizer state, t, T, lr)
//                               -> (loss, each new parameter and its state)
//   @<name>_train_step_inplace  the same on memrefs, the parameters and state
//                               updated in place, returning the loss
//   @<name>_grad                with `gradients`: (args) -> (loss, gradients)
//                               (the straight-through gradients, also of
//                               FOGZO parameters)
// and removes the `cage.param` attributes from the forward, which stays as
// the evaluation function: running the pass again (cage-cpu-pipeline runs
// it first) changes nothing.
//
// The backward is reverse mode on tensors (before bufferization): an
// activity analysis keeps the ops through which a parameter reaches the
// loss, the reverse sweep visits them from the loss back, and the rules
// (Autodiff.h) turn each into its adjoint ops, summing the adjoints of a
// value with several users. Forward values that the backward reads are
// simply kept (the SSA values stay live).
//
//===----------------------------------------------------------------------===//

#include "Autodiff.h"

#include "IR/Ops.h"
#include "IR/Text.h"
#include "cage-c/Dialect/Cage.h"
#include "cage-c/Dialect/CageOps.h"
#include "cage/Dialect/Cage/Transforms/Passes.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/Arith.h"
#include "mlir-c/Dialect/Bufferization.h"
#include "mlir-c/Dialect/Func.h"
#include "mlir-c/Dialect/Linalg.h"
#include "mlir-c/Dialect/Math.h"
#include "mlir-c/Dialect/SCF.h"
#include "mlir-c/Dialect/Tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*===--- The sweep's helpers (Autodiff.h) ---------------------------------===*/

void adUnsupported(AdSweep *s, MlirOperation op, const char *why) {
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
  char message[512];
  snprintf(message, sizeof message,
           "cage-autodiff cannot differentiate '%.*s': %s", (int)name.length,
           name.data, why);
  mlirEmitError(mlirOperationGetLocation(op), message);
  s->failed = true;
}

bool adIsActive(const AdSweep *s, MlirValue v) {
  return cageValueMapContains(&s->active, v);
}

MlirValue adAdjoint(const AdSweep *s, MlirValue v) {
  return cageValueMapLookup(&s->adjoints, v);
}

void adSetAdjoint(AdSweep *s, MlirValue v, MlirValue adjoint) {
  cageValueMapSet(&s->adjoints, v, adjoint);
}

static void addBody(CageBuilder *body, const MlirValue *args, intptr_t numArgs,
                    MlirValue *yielded, void *userData) {
  (void)numArgs, (void)userData;
  yielded[0] = cageBuildAddF(body, args[0], args[1]);
}

MlirValue adAdd(CageBuilder *b, MlirValue lhs, MlirValue rhs) {
  if (!mlirTypeIsAShaped(mlirValueGetType(lhs)))
    return cageBuildAddF(b, lhs, rhs);
  MlirValue inputs[] = {lhs, rhs};
  MlirValue out = cageBuildEmptyLike(b, lhs);
  return cageOperationGetResult(
      cageBuildElementwise(b, inputs, 2, &out, 1, addBody, NULL), 0);
}

void adAccumulate(AdSweep *s, MlirValue v, MlirValue contribution) {
  if (mlirValueIsNull(contribution)) {
    s->failed = true; /* a builder call failed and reported why */
    return;
  }
  MlirValue old = adAdjoint(s, v);
  adSetAdjoint(s, v,
               mlirValueIsNull(old) ? contribution
                                    : adAdd(&s->b, old, contribution));
}

MlirValue adZerosLike(CageBuilder *b, MlirValue like) {
  MlirType type = mlirValueGetType(like);
  MlirType element =
      mlirTypeIsAShaped(type) ? mlirShapedTypeGetElementType(type) : type;
  MlirValue zero = cageBuildConstantFloat(b, element, 0.0);
  if (!mlirTypeIsAShaped(type))
    return zero;
  return cageBuildFill(b, zero, cageBuildEmptyLike(b, like));
}

/*===--- Activity analysis ------------------------------------------------===*/

typedef struct UseScan {
  const CageValueMap *set;
  bool found;
} UseScan;

static MlirWalkResult findUse(MlirOperation op, void *userData) {
  UseScan *scan = userData;
  for (intptr_t i = 0, e = mlirOperationGetNumOperands(op); i < e; ++i)
    if (cageValueMapContains(scan->set, mlirOperationGetOperand(op, i))) {
      scan->found = true;
      return MlirWalkResultInterrupt;
    }
  return MlirWalkResultAdvance;
}

/* Whether `op` or an op nested in it uses a value of `set`. */
static bool usesAny(MlirOperation op, const CageValueMap *set) {
  UseScan scan = {set, false};
  mlirOperationWalk(op, findUse, &scan, MlirWalkPreOrder);
  return scan.found;
}

static MlirWalkResult addOperands(MlirOperation op, void *userData) {
  CageValueMap *set = userData;
  for (intptr_t i = 0, e = mlirOperationGetNumOperands(op); i < e; ++i)
    cageValueMapSet(set, mlirOperationGetOperand(op, i),
                    mlirOperationGetOperand(op, i));
  return MlirWalkResultAdvance;
}

static bool isFloatValue(MlirValue v) {
  MlirType t = mlirValueGetType(v);
  if (mlirTypeIsAShaped(t))
    t = mlirShapedTypeGetElementType(t);
  return mlirTypeIsAFloat(t);
}

/* active = (depends on a parameter) and (the loss depends on it), over the
 * ops of `block` in order; only floating-point values carry gradients. */
static void analyzeActivity(AdSweep *s, MlirBlock block, MlirOperation *ops,
                            intptr_t numOps, MlirValue loss) {
  CageValueMap varied = {0}, useful = {0};
  for (intptr_t i = 0; i < s->numParams; ++i)
    cageValueMapSet(&varied, s->params[i], s->params[i]);
  for (intptr_t k = 0; k < numOps; ++k)
    if (usesAny(ops[k], &varied))
      for (intptr_t i = 0, e = mlirOperationGetNumResults(ops[k]); i < e; ++i) {
        MlirValue r = mlirOperationGetResult(ops[k], i);
        if (isFloatValue(r))
          cageValueMapSet(&varied, r, r);
      }
  cageValueMapSet(&useful, loss, loss);
  for (intptr_t k = numOps - 1; k >= 0; --k) {
    bool needed = false;
    for (intptr_t i = 0, e = mlirOperationGetNumResults(ops[k]); i < e; ++i)
      needed |=
          cageValueMapContains(&useful, mlirOperationGetResult(ops[k], i));
    if (needed)
      mlirOperationWalk(ops[k], addOperands, &useful, MlirWalkPreOrder);
  }
  for (intptr_t i = 0; i < varied.capacity; ++i) {
    MlirValue v = varied.entries[i].key;
    if (!mlirValueIsNull(v) && cageValueMapContains(&useful, v))
      cageValueMapSet(&s->active, v, v);
  }
  (void)block;
  cageValueMapDestroy(&useful);
  cageValueMapDestroy(&varied);
}

/*===--- The reverse sweep ------------------------------------------------===*/

static void scalarOpRule(AdSweep *s, MlirOperation op) {
  MlirValue result = mlirOperationGetResult(op, 0);
  MlirValue dy = adAdjoint(s, result);
  if (mlirValueIsNull(dy))
    return;
  intptr_t n = mlirOperationGetNumOperands(op);
  MlirValue *operands = cageAllocArray(n, sizeof *operands);
  bool *active = cageAllocArray(n, sizeof *active);
  for (intptr_t i = 0; i < n; ++i) {
    operands[i] = mlirOperationGetOperand(op, i);
    active[i] = adIsActive(s, operands[i]);
  }
  for (intptr_t i = 0; i < n; ++i)
    if (active[i]) {
      MlirValue d = adScalarRule(&s->b, op, operands, result, dy, i, active);
      if (!mlirValueIsNull(d))
        adAccumulate(s, operands[i], d);
    }
  free(active);
  free(operands);
}

static void differentiateOp(AdSweep *s, MlirOperation op) {
  bool active = false;
  for (intptr_t i = 0, e = mlirOperationGetNumResults(op); i < e; ++i)
    active |= adIsActive(s, mlirOperationGetResult(op, i));
  if (!active)
    return;
  s->b.location = mlirOperationGetLocation(op);
  if (mlirOperationGetNumRegions(op) == 0 &&
      mlirOperationGetNumResults(op) == 1 &&
      !mlirTypeIsAShaped(mlirValueGetType(mlirOperationGetResult(op, 0))) &&
      adScalarHasRule(op)) {
    scalarOpRule(s, op);
    return;
  }
  if (adTensorRule(s, op) || adStructuredRule(s, op))
    return;
  adUnsupported(s, op,
                "it has no derivative rule (docs/Training.md lists the "
                "supported ops)");
}

/*===--- Generated functions ----------------------------------------------===*/

/* The forward's top-level ops, before anything is appended. */
static MlirOperation *blockOps(MlirBlock block, intptr_t *count) {
  intptr_t n = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(block);
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op))
    ++n;
  MlirOperation *ops = cageAllocArray(n, sizeof *ops);
  n = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(block);
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op))
    ops[n++] = op;
  *count = n;
  return ops;
}

/* The pass options that shape the generated code. */
typedef struct AdOptions {
  CageEstimator estimator; /* of quantizers of values other than parameters */
  bool remat;
} AdOptions;

/* A parameter of the forward function. */
typedef struct Param {
  intptr_t index; /* argument position in the forward */
  MlirAttribute attr;
  MlirAttribute optimizer;
  MlirAttribute quantizer; /* the correction's; null: none */
  MlirAttribute fogzo;     /* its #cage.fogzo; null: straight-through */
  MlirAttribute grid;      /* the grid of FOGZO's ε; null: none */
} Param;

typedef struct Forward {
  MlirOperation func;
  MlirStringRef name;
  intptr_t numArgs;
  Param *params;
  intptr_t numParams;
  MlirAttribute fogzo; /* shared by its FOGZO parameters; null: none */
} Forward;

/* A clone of the forward named `<name><suffix>`, inserted after `after`,
 * without the forward's argument attributes; its return is erased and its
 * loss and entry block returned. */
static MlirOperation cloneForward(const Forward *f, const char *suffix,
                                  MlirOperation after, MlirBlock *block,
                                  MlirValue *loss) {
  MlirOperation clone = mlirOperationClone(f->func);
  MlirContext ctx = mlirOperationGetContext(clone);
  char *name = malloc(f->name.length + strlen(suffix) + 1);
  memcpy(name, f->name.data, f->name.length);
  strcpy(name + f->name.length, suffix);
  mlirOperationSetAttributeByName(
      clone, cageStr("sym_name"),
      mlirStringAttrGet(ctx, mlirStringRefCreateFromCString(name)));
  free(name);
  mlirOperationRemoveAttributeByName(clone, cageStr("arg_attrs"));
  mlirOperationRemoveAttributeByName(clone, cageStr("res_attrs"));
  MlirBlock parent = mlirOperationGetBlock(after);
  mlirBlockInsertOwnedOperationAfter(parent, after, clone);
  *block = mlirRegionGetFirstBlock(mlirOperationGetRegion(clone, 0));
  MlirOperation ret = mlirBlockGetTerminator(*block);
  *loss = mlirOperationGetOperand(ret, 0);
  mlirOperationDestroy(ret);
  return clone;
}

/* Differentiates the clone `func` (block `block`, loss `loss`) and stores
 * the gradient of each parameter in `grads`. */
static bool sweep(const Forward *f, MlirOperation func, MlirBlock block,
                  MlirValue loss, const AdOptions *options, MlirValue *grads) {
  intptr_t numOps;
  MlirOperation *ops = blockOps(block, &numOps);
  MlirValue *params = cageAllocArray(f->numParams, sizeof *params);
  MlirAttribute *attrs = cageAllocArray(f->numParams, sizeof *attrs);
  for (intptr_t i = 0; i < f->numParams; ++i) {
    params[i] = mlirBlockGetArgument(block, f->params[i].index);
    attrs[i] = f->params[i].attr;
  }
  AdSweep s = {
      .context = mlirOperationGetContext(func),
      .b = cageBuilderAtEndOfBlock(block, mlirOperationGetLocation(func)),
      .params = params,
      .paramAttrs = attrs,
      .numParams = f->numParams,
      .activationEstimator = options->estimator};
  analyzeActivity(&s, block, ops, numOps, loss);
  if (adIsActive(&s, loss))
    adSetAdjoint(&s, loss, cageBuildConstantF32(&s.b, 1.0f));
  for (intptr_t k = numOps - 1; k >= 0 && !s.failed; --k)
    differentiateOp(&s, ops[k]);
  s.b.location = mlirOperationGetLocation(func);
  for (intptr_t i = 0; i < f->numParams && !s.failed; ++i) {
    grads[i] = adAdjoint(&s, params[i]);
    if (mlirValueIsNull(grads[i])) {
      /* Not reached from the loss: a zero gradient (weight decay and the
       * correction still apply), and a warning, since that is rarely
       * meant. */
      char message[160];
      snprintf(message, sizeof message,
               "parameter argument #%lld does not affect the loss: its "
               "gradient is zero",
               (long long)f->params[i].index);
      cageEmitWarning(mlirOperationGetLocation(f->func), message);
      grads[i] = adZerosLike(&s.b, params[i]);
    }
  }
  bool ok = !s.failed;
  if (ok && options->remat)
    adRematerialize(block, ops, numOps);
  free(attrs);
  free(params);
  free(ops);
  cageValueMapDestroy(&s.active);
  cageValueMapDestroy(&s.adjoints);
  return ok;
}

static MlirType functionType(MlirContext ctx, MlirBlock block,
                             const MlirValue *results, intptr_t numResults) {
  intptr_t numInputs = mlirBlockGetNumArguments(block);
  MlirType *inputs = cageAllocArray(numInputs, sizeof *inputs);
  MlirType *outputs = cageAllocArray(numResults, sizeof *outputs);
  for (intptr_t i = 0; i < numInputs; ++i)
    inputs[i] = mlirValueGetType(mlirBlockGetArgument(block, i));
  for (intptr_t i = 0; i < numResults; ++i)
    outputs[i] = mlirValueGetType(results[i]);
  MlirType type =
      mlirFunctionTypeGet(ctx, numInputs, inputs, numResults, outputs);
  free(outputs);
  free(inputs);
  return type;
}

/* Ends `func` (whose entry block is `block`) by returning `results`. */
static void finish(MlirOperation func, MlirBlock block,
                   const MlirValue *results, intptr_t numResults) {
  CageBuilder b =
      cageBuilderAtEndOfBlock(block, mlirOperationGetLocation(func));
  cageBuildReturn(&b, results, numResults);
  mlirOperationSetAttributeByName(
      func, cageStr("function_type"),
      mlirTypeAttrGet(functionType(mlirOperationGetContext(func), block,
                                   results, numResults)));
}

/* @<name>_grad: (args) -> (loss, gradients). */
static bool buildGrad(const Forward *f, const AdOptions *options) {
  MlirBlock block;
  MlirValue loss;
  MlirOperation func = cloneForward(f, "_grad", f->func, &block, &loss);
  MlirValue *results = cageAllocArray(1 + f->numParams, sizeof *results);
  results[0] = loss;
  bool ok = sweep(f, func, block, loss, options, results + 1);
  if (ok)
    finish(func, block, results, 1 + f->numParams);
  free(results);
  return ok;
}

/* The state tensors of a parameter's optimizer (m, v or b): as many as
 * cage.update takes, of the parameter's type. */
static intptr_t numState(const Param *p) {
  return cageUpdateOpGetNumStateFor(p->optimizer);
}

/* λ_t of the schedule of `param`: one cage.lambda_schedule per distinct
 * schedule, so that updates with the same one share their λ_t operand and
 * cage-fuse-multi-tensor can fuse them. */
static MlirValue schedule(CageBuilder *b, MlirAttribute param, MlirValue t,
                          MlirValue total, MlirOperation *schedules,
                          intptr_t *numSchedules) {
  float lambda = cageParamAttrGetLambda(param);
  float silence = cageParamAttrGetSilence(param);
  CageScheduleKind kind = cageParamAttrGetSchedule(param);
  for (intptr_t i = 0; i < *numSchedules; ++i)
    if (cageLambdaScheduleOpGetLambda(schedules[i]) == lambda &&
        cageLambdaScheduleOpGetSilence(schedules[i]) == silence &&
        cageLambdaScheduleOpGetKind(schedules[i]) == kind)
      return cageLambdaScheduleOpGetResult(schedules[i]);
  MlirOperation op =
      cageBuilderInsert(b, cageLambdaScheduleOpCreate(b->location, t, total,
                                                      lambda, silence, kind));
  schedules[(*numSchedules)++] = op;
  return cageLambdaScheduleOpGetResult(op);
}

/* The most state tensors of an optimizer (AdamW's m and v). */
enum { kMaxState = 2 };

/* The optimizer step of parameter `p`: cage.update with the CAGE correction
 * when it has a quantizer, else the plain cage.adamw or cage.sgd. Stores
 * the new w and state in `newValues`. */
static bool step(CageBuilder *b, const Param *p, MlirValue w, MlirValue g,
                 const MlirValue *state, MlirValue lr, MlirValue t,
                 MlirValue total, MlirOperation *schedules,
                 intptr_t *numSchedules, MlirValue *newValues) {
  MlirAttribute opt = p->optimizer;
  MlirOperation op;
  if (!mlirAttributeIsNull(p->quantizer)) {
    MlirValue lambda = schedule(b, p->attr, t, total, schedules, numSchedules);
    op = cageBuilderInsert(
        b, cageUpdateOpCreate(b->location, w, g, numState(p), state, lr, lambda,
                              cageUpdateOpNeedsStepFor(opt) ? t
                                                            : (MlirValue){NULL},
                              (MlirValue){NULL}, p->quantizer, opt,
                              cageParamAttrGetCoupling(p->attr),
                              cageParamAttrGetError(p->attr)));
    if (mlirOperationIsNull(op))
      return false;
    newValues[0] = cageUpdateOpGetNewW(op);
    for (intptr_t k = 0; k < numState(p); ++k)
      newValues[1 + k] = cageUpdateOpGetNewState(op, k);
    return true;
  }
  if (cageAttributeIsAAdamW(opt)) {
    op = cageBuilderInsert(
        b, cageAdamWOpCreate(
               b->location, w, g, state[0], state[1], lr, t,
               cageAdamWAttrGetBeta1(opt), cageAdamWAttrGetBeta2(opt),
               cageAdamWAttrGetEps(opt), cageAdamWAttrGetWeightDecay(opt)));
    if (mlirOperationIsNull(op))
      return false;
    newValues[0] = cageAdamWOpGetNewW(op);
    newValues[1] = cageAdamWOpGetNewM(op);
    newValues[2] = cageAdamWOpGetNewV(op);
    return true;
  }
  op = cageBuilderInsert(b, cageSGDOpCreate(b->location, w, g, state[0], lr,
                                            cageSGDAttrGetMomentum(opt),
                                            cageSGDAttrGetDampening(opt),
                                            cageSGDAttrGetNesterov(opt),
                                            cageSGDAttrGetWeightDecay(opt)));
  if (mlirOperationIsNull(op))
    return false;
  newValues[0] = cageSGDOpGetNewW(op);
  newValues[1] = cageSGDOpGetNewB(op);
  return true;
}

/* Replaces the gradients of the FOGZO parameters of `f` in `grads` by
 * FOGZO's estimate (Fogzo.c); `args` are the forward's arguments in the
 * step. */
static bool fogzoGradients(const Forward *f, CageBuilder *b,
                           const MlirValue *args, MlirValue t, MlirValue total,
                           MlirValue *grads) {
  intptr_t *positions = cageAllocArray(f->numParams, sizeof *positions);
  MlirAttribute *grids = cageAllocArray(f->numParams, sizeof *grids);
  MlirValue *fogzoGrads = cageAllocArray(f->numParams, sizeof *fogzoGrads);
  intptr_t n = 0;
  for (intptr_t i = 0; i < f->numParams; ++i) {
    if (mlirAttributeIsNull(f->params[i].fogzo))
      continue;
    positions[n] = f->params[i].index;
    grids[n] = f->params[i].grid;
    fogzoGrads[n++] = grads[i];
  }
  AdFogzoStep s = {.fogzo = f->fogzo,
                   .forward = f->name,
                   .args = args,
                   .numArgs = f->numArgs,
                   .params = positions,
                   .grids = grids,
                   .numParams = n,
                   .step = t,
                   .total = total};
  bool ok = adBuildFogzo(b, &s, fogzoGrads);
  for (intptr_t i = 0, k = 0; ok && i < f->numParams; ++i)
    if (!mlirAttributeIsNull(f->params[i].fogzo))
      grads[i] = fogzoGrads[k++];
  free(fogzoGrads);
  free(grids);
  free(positions);
  return ok;
}

/* @<name>_train_step: see the top of the file. */
static MlirOperation buildTrainStep(const Forward *f, const AdOptions *options,
                                    MlirOperation after) {
  MlirBlock block;
  MlirValue loss;
  MlirOperation func = cloneForward(f, "_train_step", after, &block, &loss);
  MlirContext ctx = mlirOperationGetContext(func);
  MlirLocation loc = mlirOperationGetLocation(func);
  MlirValue *grads = cageAllocArray(f->numParams, sizeof *grads);
  if (!sweep(f, func, block, loss, options, grads)) {
    free(grads);
    return (MlirOperation){NULL};
  }
  /* The arguments: each parameter followed by its state, then t, T, lr. */
  MlirValue *forwardArgs = cageAllocArray(f->numArgs, sizeof *forwardArgs);
  for (intptr_t i = 0; i < f->numArgs; ++i)
    forwardArgs[i] = mlirBlockGetArgument(block, i);
  intptr_t totalState = 0;
  MlirValue *weights = cageAllocArray(f->numParams, sizeof *weights);
  for (intptr_t i = 0; i < f->numParams; ++i)
    weights[i] = mlirBlockGetArgument(block, f->params[i].index);
  MlirValue **state = cageAllocArray(f->numParams, sizeof *state);
  for (intptr_t i = f->numParams - 1; i >= 0; --i) {
    intptr_t n = numState(&f->params[i]);
    state[i] = cageAllocArray(n, sizeof **state);
    MlirType type = mlirValueGetType(weights[i]);
    for (intptr_t k = n - 1; k >= 0; --k)
      state[i][k] =
          mlirBlockInsertArgument(block, f->params[i].index + 1, type, loc);
    totalState += n;
  }
  MlirType i64 = mlirIntegerTypeGet(ctx, 64);
  MlirValue t = mlirBlockAddArgument(block, i64, loc);
  MlirValue total = mlirBlockAddArgument(block, i64, loc);
  MlirValue lr = mlirBlockAddArgument(block, mlirF32TypeGet(ctx), loc);

  CageBuilder b = cageBuilderAtEndOfBlock(block, loc);
  bool ok = mlirAttributeIsNull(f->fogzo) ||
            fogzoGradients(f, &b, forwardArgs, t, total, grads);
  MlirOperation *schedules = cageAllocArray(f->numParams, sizeof *schedules);
  intptr_t numSchedules = 0;
  MlirValue *results =
      cageAllocArray(1 + f->numParams + totalState, sizeof *results);
  intptr_t numResults = 0;
  results[numResults++] = loss;
  for (intptr_t i = 0; i < f->numParams && ok; ++i) {
    const Param *p = &f->params[i];
    MlirValue newValues[1 + kMaxState];
    if (!step(&b, p, weights[i], grads[i], state[i], lr, t, total, schedules,
              &numSchedules, newValues)) {
      ok = false;
      break;
    }
    for (intptr_t k = 0; k <= numState(p); ++k)
      results[numResults++] = newValues[k];
  }
  if (ok)
    finish(func, block, results, numResults);
  for (intptr_t i = 0; i < f->numParams; ++i)
    free(state[i]);
  free(state);
  free(results);
  free(schedules);
  free(weights);
  free(forwardArgs);
  free(grads);
  return ok ? func : (MlirOperation){NULL};
}

/* Builds `op` (created detached) at the start of `block`, after `*last` (the
 * previous op put there; null for the first). */
static MlirOperation insertAtStart(MlirBlock block, MlirOperation *last,
                                   MlirOperation op) {
  if (mlirOperationIsNull(*last))
    mlirBlockInsertOwnedOperation(block, 0, op);
  else
    mlirBlockInsertOwnedOperationAfter(block, *last, op);
  *last = op;
  return op;
}

static MlirNamedAttribute unitAttr(MlirContext ctx, const char *name) {
  return mlirNamedAttributeGet(
      mlirIdentifierGet(ctx, mlirStringRefCreateFromCString(name)),
      mlirUnitAttrGet(ctx));
}

/* @<name>_train_step_inplace: a clone of the train step whose tensor
 * arguments are memrefs (read through bufferization.to_tensor restrict) and
 * whose new parameters and state are written into the argument buffers
 * they replace (bufferization.materialize_in_destination), the
 * destination-passing form of docs/Tools.md; it returns the loss. */
static void buildInPlace(const Forward *f, MlirOperation step) {
  MlirOperation func = mlirOperationClone(step);
  MlirContext ctx = mlirOperationGetContext(func);
  MlirLocation loc = mlirOperationGetLocation(func);
  MlirStringRef name = mlirStringAttrGetValue(
      mlirOperationGetAttributeByName(step, cageStr("sym_name")));
  char *inPlace = malloc(name.length + sizeof "_inplace");
  memcpy(inPlace, name.data, name.length);
  strcpy(inPlace + name.length, "_inplace");
  mlirOperationSetAttributeByName(
      func, cageStr("sym_name"),
      mlirStringAttrGet(ctx, mlirStringRefCreateFromCString(inPlace)));
  free(inPlace);
  mlirBlockInsertOwnedOperationAfter(mlirOperationGetBlock(step), step, func);
  MlirBlock block = mlirRegionGetFirstBlock(mlirOperationGetRegion(func, 0));
  MlirOperation ret = mlirBlockGetTerminator(block);

  /* Which arguments are updated: the parameters and their state. */
  intptr_t numArgs = mlirBlockGetNumArguments(block);
  bool *updated = cageAllocArray(numArgs, sizeof *updated);
  intptr_t *resultOf = cageAllocArray(numArgs, sizeof *resultOf);
  for (intptr_t i = 0, shift = 0, result = 1; i < f->numParams; ++i) {
    intptr_t first = f->params[i].index + shift;
    for (intptr_t k = 0; k <= numState(&f->params[i]); ++k) {
      updated[first + k] = true;
      resultOf[first + k] = result++;
    }
    shift += numState(&f->params[i]);
  }
  MlirOperation last = {NULL};
  for (intptr_t i = 0; i < numArgs; ++i) {
    MlirValue arg = mlirBlockGetArgument(block, i);
    MlirType tensorType = mlirValueGetType(arg);
    if (!mlirTypeIsARankedTensor(tensorType))
      continue;
    int64_t rank = mlirShapedTypeGetRank(tensorType);
    int64_t *shape = cageAllocArray(rank, sizeof *shape);
    for (int64_t d = 0; d < rank; ++d)
      shape[d] = mlirShapedTypeGetDimSize(tensorType, d);
    mlirValueSetType(arg, mlirMemRefTypeContiguousGet(
                              mlirShapedTypeGetElementType(tensorType), rank,
                              shape, mlirAttributeGetNull()));
    free(shape);
    MlirOperationState state =
        mlirOperationStateGet(cageStr("bufferization.to_tensor"), loc);
    mlirOperationStateAddOperands(&state, 1, &arg);
    mlirOperationStateAddResults(&state, 1, &tensorType);
    MlirNamedAttribute attrs[] = {unitAttr(ctx, "restrict"),
                                  unitAttr(ctx, "writable")};
    mlirOperationStateAddAttributes(&state, updated[i] ? 2 : 1, attrs);
    MlirOperation toTensor =
        insertAtStart(block, &last, mlirOperationCreate(&state));
    mlirValueReplaceAllUsesExcept(arg, mlirOperationGetResult(toTensor, 0), 1,
                                  &toTensor);
    if (!updated[i])
      continue;
    MlirValue operands[] = {mlirOperationGetOperand(ret, resultOf[i]), arg};
    MlirOperationState write = mlirOperationStateGet(
        cageStr("bufferization.materialize_in_destination"), loc);
    mlirOperationStateAddOperands(&write, 2, operands);
    mlirOperationStateAddAttributes(&write, 2, attrs);
    mlirBlockInsertOwnedOperationBefore(block, ret,
                                        mlirOperationCreate(&write));
  }
  MlirValue loss = mlirOperationGetOperand(ret, 0);
  mlirOperationDestroy(ret);
  finish(func, block, &loss, 1);
  free(resultOf);
  free(updated);
}

/*===--- The forward function ---------------------------------------------===*/

typedef struct QuantizerScan {
  MlirValue param;
  MlirAttribute found;
  bool several;
} QuantizerScan;

static MlirWalkResult findQuantizer(MlirOperation op, void *userData) {
  QuantizerScan *scan = userData;
  if (!cageOperationIsAQuantize(op) ||
      !mlirValueEqual(cageQuantizeOpGetX(op), scan->param))
    return MlirWalkResultAdvance;
  MlirAttribute q = cageQuantizeOpGetQuantizer(op);
  if (!mlirAttributeIsNull(scan->found) && !mlirAttributeEqual(scan->found, q))
    scan->several = true;
  scan->found = q;
  return MlirWalkResultAdvance;
}

static bool forwardError(MlirOperation func, const char *format, long long a) {
  char message[512];
  snprintf(message, sizeof message, format, a);
  mlirEmitError(mlirOperationGetLocation(func), message);
  return false;
}

/* The grid of parameter `p` (argument `arg`), where the CAGE correction
 * (cage = true) or FOGZO's ε (epsilon = 0) needs one: the attribute's
 * quantizer, else that of the forward's quantizer of the argument with
 * rounding = nearest (the grid the stochastic rounding rounds to), else
 * none. Sets the correction's quantizer and FOGZO's grid. */
static bool paramGrid(MlirOperation func, MlirValue arg, Param *p) {
  p->quantizer = p->grid = mlirAttributeGetNull();
  bool cage = cageParamAttrGetCage(p->attr);
  bool fogzoGrid = !mlirAttributeIsNull(p->fogzo) &&
                   cageFogzoAttrGetEpsilon(p->fogzo) == 0.0f;
  if (!cage && !fogzoGrid)
    return true;
  MlirAttribute grid = cageParamAttrGetQuantizer(p->attr);
  if (mlirAttributeIsNull(grid)) {
    QuantizerScan scan = {arg, mlirAttributeGetNull(), false};
    mlirOperationWalk(func, findQuantizer, &scan, MlirWalkPreOrder);
    if (mlirAttributeIsNull(scan.found))
      return true;
    if (scan.several)
      return forwardError(
          func,
          cage ? "parameter argument #%lld is quantized by several "
                 "quantizers: say which one the CAGE correction uses "
                 "(#cage.param<quantizer = ...>)"
               : "parameter argument #%lld is quantized by several "
                 "quantizers: say which grid FOGZO's epsilon comes from "
                 "(#cage.param<quantizer = ...>)",
          (long long)p->index);
    MlirAttribute q = scan.found;
    if (cageQuantizerAttrGetScale(q) == CageScaleKindOperand)
      return forwardError(
          func,
          cage ? "parameter argument #%lld is quantized with scale = operand: "
                 "give the CAGE correction a quantizer with a scale of its "
                 "own (#cage.param<quantizer = ...>) or use cage = false"
               : "parameter argument #%lld is quantized with scale = operand: "
                 "FOGZO cannot derive epsilon from it; give #cage.fogzo an "
                 "epsilon > 0 or #cage.param a quantizer",
          (long long)p->index);
    grid = cageQuantizerAttrGet(
        mlirAttributeGetContext(q), cageQuantizerAttrGetBits(q),
        cageQuantizerAttrGetGranularity(q), cageQuantizerAttrGetGroupSize(q),
        cageQuantizerAttrGetScale(q), cageQuantizerAttrGetLevels(q),
        cageQuantizerAttrGetRotation(q), cageQuantizerAttrGetBlock(q),
        CageRoundingNearest);
  }
  if (cage)
    p->quantizer = grid;
  if (fogzoGrid)
    p->grid = grid;
  return true;
}

/* The FOGZO parameters of `f` share one #cage.fogzo (one σ, one ε, one
 * schedule per step), and ε from the grid needs a quantized one. Returns
 * the shared attribute (null when none is FOGZO), and false having
 * reported what is wrong. */
static bool readFogzo(const Forward *f, MlirAttribute *fogzo) {
  *fogzo = mlirAttributeGetNull();
  bool anyGrid = false;
  long long count = 0;
  for (intptr_t i = 0; i < f->numParams; ++i) {
    const Param *p = &f->params[i];
    if (mlirAttributeIsNull(p->fogzo))
      continue;
    ++count;
    if (!mlirAttributeIsNull(*fogzo) && !mlirAttributeEqual(*fogzo, p->fogzo))
      return forwardError(
          f->func,
          "the FOGZO parameters of a function share one #cage.fogzo (one "
          "sign, one epsilon and one schedule per step); parameter argument "
          "#%lld has another",
          (long long)p->index);
    *fogzo = p->fogzo;
    anyGrid |= !mlirAttributeIsNull(p->grid);
  }
  if (!mlirAttributeIsNull(*fogzo) && cageFogzoAttrGetEpsilon(*fogzo) == 0.0f &&
      !anyGrid)
    return forwardError(
        f->func,
        "FOGZO derives epsilon from the grids of its parameters, but none of "
        "the %lld FOGZO parameters is quantized: give #cage.fogzo an "
        "epsilon > 0",
        count);
  return true;
}

/* Reads the forward `func`: false when it has no parameter; false with
 * `*bad` set, having reported why, when it cannot be differentiated. */
static bool readForward(MlirOperation func, Forward *f, bool *bad) {
  *bad = false;
  *f = (Forward){.func = func};
  MlirAttribute argAttrs =
      mlirOperationGetAttributeByName(func, cageStr("arg_attrs"));
  if (mlirAttributeIsNull(argAttrs) ||
      !mlirAttributeIsNull(mlirOperationGetAttributeByName(
          func, cageStr("cage.differentiated"))))
    return false;
  intptr_t n = mlirArrayAttrGetNumElements(argAttrs);
  for (intptr_t i = 0; i < n; ++i)
    if (!mlirAttributeIsNull(mlirDictionaryAttrGetElementByName(
            mlirArrayAttrGetElement(argAttrs, i),
            cageStr(CAGE_PARAM_ATTR_NAME))))
      ++f->numParams;
  if (f->numParams == 0)
    return false;
  *bad = true;
  MlirRegion body = mlirOperationGetRegion(func, 0);
  MlirBlock block = mlirRegionGetFirstBlock(body);
  if (mlirBlockIsNull(block) ||
      !mlirBlockIsNull(mlirBlockGetNextInRegion(block)))
    return forwardError(func,
                        "cage-autodiff differentiates functions of one "
                        "block; this one has %lld",
                        mlirBlockIsNull(block) ? 0LL : 2LL);
  MlirType type = mlirTypeAttrGetValue(
      mlirOperationGetAttributeByName(func, cageStr("function_type")));
  if (mlirFunctionTypeGetNumResults(type) != 1 ||
      !mlirTypeIsAF32(mlirFunctionTypeGetResult(type, 0)))
    return forwardError(func,
                        "a function with parameters (cage.param) must return "
                        "one f32 loss; this one has %lld results",
                        (long long)mlirFunctionTypeGetNumResults(type));
  f->name = mlirStringAttrGetValue(
      mlirOperationGetAttributeByName(func, cageStr("sym_name")));
  f->numArgs = n;
  f->params = cageAllocArray(f->numParams, sizeof *f->params);
  f->numParams = 0;
  for (intptr_t i = 0; i < n; ++i) {
    MlirAttribute attr = mlirDictionaryAttrGetElementByName(
        mlirArrayAttrGetElement(argAttrs, i), cageStr(CAGE_PARAM_ATTR_NAME));
    if (mlirAttributeIsNull(attr))
      continue;
    if (!cageAttributeIsAParam(attr))
      return forwardError(func,
                          "argument #%lld: cage.param must be a "
                          "#cage.param<...> attribute",
                          (long long)i);
    MlirType argType = mlirFunctionTypeGetInput(type, i);
    if (!mlirTypeIsARankedTensor(argType) ||
        !mlirTypeIsAF32(mlirShapedTypeGetElementType(argType)))
      return forwardError(func,
                          "parameter argument #%lld must be a ranked tensor "
                          "of f32",
                          (long long)i);
    Param *p = &f->params[f->numParams++];
    p->index = i;
    p->attr = attr;
    p->optimizer = cageParamAttrGetOptimizer(attr);
    p->fogzo = cageParamAttrGetFogzo(attr);
    if (!paramGrid(func, mlirBlockGetArgument(block, i), p))
      return false;
  }
  if (!readFogzo(f, &f->fogzo))
    return false;
  *bad = false;
  return true;
}

/*===--- The pass ---------------------------------------------------------===*/

/* Removes `cage.param` from the argument attributes of `func`. */
static void stripParamAttrs(MlirOperation func) {
  MlirAttribute argAttrs =
      mlirOperationGetAttributeByName(func, cageStr("arg_attrs"));
  MlirContext ctx = mlirOperationGetContext(func);
  intptr_t n = mlirArrayAttrGetNumElements(argAttrs);
  MlirAttribute *dicts = cageAllocArray(n, sizeof *dicts);
  for (intptr_t i = 0; i < n; ++i) {
    MlirAttribute dict = mlirArrayAttrGetElement(argAttrs, i);
    intptr_t size = mlirDictionaryAttrGetNumElements(dict), kept = 0;
    MlirNamedAttribute *elements = cageAllocArray(size, sizeof *elements);
    for (intptr_t k = 0; k < size; ++k) {
      MlirNamedAttribute e = mlirDictionaryAttrGetElement(dict, k);
      if (!mlirStringRefEqual(mlirIdentifierStr(e.name),
                              cageStr(CAGE_PARAM_ATTR_NAME)))
        elements[kept++] = e;
    }
    dicts[i] = mlirDictionaryAttrGet(ctx, kept, elements);
    free(elements);
  }
  mlirOperationSetAttributeByName(func, cageStr("arg_attrs"),
                                  mlirArrayAttrGet(ctx, n, dicts));
  free(dicts);
}

enum { kGradients, kInPlace, kEstimator, kRemat };

static bool symbolTaken(MlirOperation module, MlirStringRef name,
                        const char *suffix) {
  char buf[512];
  snprintf(buf, sizeof buf, "%.*s%s", (int)name.length, name.data, suffix);
  for (MlirOperation op = mlirBlockGetFirstOperation(
           mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0)));
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op)) {
    MlirAttribute sym =
        mlirOperationGetAttributeByName(op, cageStr("sym_name"));
    if (!mlirAttributeIsNull(sym) &&
        mlirStringRefEqual(mlirStringAttrGetValue(sym),
                           mlirStringRefCreateFromCString(buf)))
      return true;
  }
  return false;
}

static void run(MlirOperation module, const CagePassOptionValue *options,
                CagePassHandle pass) {
  AdOptions ad = {.remat = options[kRemat].b};
  const char *name = options[kEstimator].s;
  if (strcmp(name, "clipped") == 0)
    ad.estimator = CageEstimatorClipped;
  else if (strcmp(name, "identity") == 0)
    ad.estimator = CageEstimatorIdentity;
  else {
    char message[160];
    snprintf(message, sizeof message,
             "cage-autodiff: estimator must be 'clipped' or 'identity', not "
             "'%.60s'",
             name);
    mlirEmitError(mlirOperationGetLocation(module), message);
    cagePassSignalFailure(pass);
    return;
  }
  CageOpList funcs = cageCollectOps(module, (const char *[]){"func.func"}, 1);
  bool failed = false;
  for (intptr_t i = 0; i < funcs.size; ++i) {
    MlirOperation func = funcs.ops[i];
    Forward f;
    bool bad;
    if (!readForward(func, &f, &bad)) {
      failed |= bad;
      free(f.params);
      continue;
    }
    const char *suffixes[] = {"_train_step", "_train_step_inplace", "_grad"};
    bool clash = false;
    for (int k = 0; k < 3 && !clash; ++k)
      if (symbolTaken(module, f.name, suffixes[k])) {
        char message[600];
        snprintf(message, sizeof message,
                 "cage-autodiff cannot add '%.*s%s': a symbol of that name "
                 "exists",
                 (int)f.name.length, f.name.data, suffixes[k]);
        mlirEmitError(mlirOperationGetLocation(func), message);
        clash = true;
      }
    MlirOperation step = {NULL};
    if (!clash)
      step = buildTrainStep(&f, &ad, func);
    bool ok = !mlirOperationIsNull(step);
    if (ok && options[kInPlace].b)
      buildInPlace(&f, step);
    if (ok && options[kGradients].b)
      ok = buildGrad(&f, &ad);
    if (ok)
      stripParamAttrs(func);
    failed |= !ok;
    free(f.params);
  }
  cageOpListDestroy(&funcs);
  if (failed)
    cagePassSignalFailure(pass);
}

static const CagePassOption autodiffOptions[] = {
    [kGradients] = {"gradients",
                    "Also add <name>_grad: (args) -> (loss, the gradient of "
                    "each parameter)",
                    CagePassOptionBool,
                    {.b = false}},
    [kInPlace] = {"in-place",
                  "Also add <name>_train_step_inplace, on memrefs updated in "
                  "place",
                  CagePassOptionBool,
                  {.b = true}},
    [kEstimator] = {"estimator",
                    "The straight-through estimator of quantizers of values "
                    "other than parameters: clipped or identity",
                    CagePassOptionString,
                    {.s = "clipped"}},
    [kRemat] = {"remat",
                "Recompute the forward values of cheap element-wise ops in "
                "the backward instead of keeping them alive",
                CagePassOptionBool,
                {.b = false}},
};

/* The ops the generated functions are made of. */
static MlirDialectHandle (*const dependentDialects[])(void) = {
    mlirGetDialectHandle__arith__,  mlirGetDialectHandle__bufferization__,
    mlirGetDialectHandle__linalg__, mlirGetDialectHandle__math__,
    mlirGetDialectHandle__tensor__, mlirGetDialectHandle__cage__,
    mlirGetDialectHandle__func__,   mlirGetDialectHandle__scf__,
};

const CagePassDefinition cageAutodiffPass = {
    .argument = "cage-autodiff",
    .name = "CageAutodiff",
    .summary = "Generate the training step of every function whose arguments "
               "are marked cage.param: forward, reverse-mode backward, one "
               "cage.update per parameter",
    .anchorOp = "builtin.module",
    .options = autodiffOptions,
    .numOptions = sizeof autodiffOptions / sizeof autodiffOptions[0],
    .dependentDialects = dependentDialects,
    .numDependentDialects =
        sizeof dependentDialects / sizeof dependentDialects[0],
    .run = run,
};
