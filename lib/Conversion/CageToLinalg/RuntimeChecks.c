/*===- RuntimeChecks.c - Preconditions checked when the step runs ---------===*\
|*                                                                            *|
|* The op verifiers prove every precondition of a cage op that static        *|
|* shapes and constants decide. What depends on a dynamic size or a scalar   *|
|* operand is checked by the compiled code: before each cage op this file    *|
|* emits one `cf.assert %ok, "<file:line:col>: '<op>' <what>"` per such      *|
|* precondition (docs/Semantics.md §2.4):                                    *|
|*   - a dynamic innermost size is a multiple of group_size (granularity =   *|
|*     group) and of block (rotation = hadamard);                            *|
|*   - tensors that must have one shape (dy and x; w, g and the state; each  *|
|*     parameter of cage.multi_update) agree in every dynamic size;          *|
|*   - a scale operand has the shape its granularity asks for;               *|
|*   - t >= 1 for AdamW, T >= 1 for the λ schedule, both for FOGZO.          *|
|* cage-cpu-runtime-checks (lib/Target/CPU) later moves the checks to the    *|
|* entry of the public function and turns a failure into an error status    *|
|* the caller reads, before anything is written.                             *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "RuntimeChecks.h"

#include "IR/Builder.h"
#include "IR/Location.h"
#include "IR/Ops.h"

#include "cage-c/Dialect/Cage.h"
#include "cage-c/Dialect/CageOps.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

#include <stdio.h>
#include <string.h>

/*===--- The message ------------------------------------------------------===*/

/* "file:line:col" of the file location in `loc`. */
static void printLocation(MlirLocation loc, char *buf, size_t size) {
  CageFileLineCol where;
  if (cageLocationFindFile(loc, &where))
    snprintf(buf, size, "%.*s:%d:%d", (int)where.file.length, where.file.data,
             where.line, where.column);
  else
    snprintf(buf, size, "(unknown location)");
}

typedef struct Checker {
  CageBuilder b;
  MlirOperation op;
} Checker;

/* cf.assert %ok, "<loc>: '<op>' <what>". */
static void check(Checker *c, MlirValue ok, const char *what) {
  char where[256], message[512];
  printLocation(mlirOperationGetLocation(c->op), where, sizeof where);
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(c->op));
  snprintf(message, sizeof message, "%s: '%.*s' %s", where, (int)name.length,
           name.data, what);
  MlirNamedAttribute msg = cageNamedAttribute(
      &c->b, "msg",
      mlirStringAttrGet(c->b.context, mlirStringRefCreateFromCString(message)));
  cageBuildOp(&c->b, "cf.assert", 1, &ok, 0, NULL, 1, &msg);
}

/*===--- Preconditions ----------------------------------------------------===*/

static MlirType typeOf(MlirValue v) { return mlirValueGetType(v); }

static bool isDynamic(MlirValue tensor, intptr_t dim) {
  return mlirShapedTypeIsDynamicDim(typeOf(tensor), dim);
}

static intptr_t rankOf(MlirValue tensor) {
  return mlirShapedTypeGetRank(typeOf(tensor));
}

/* size(tensor, dim) % divisor == 0, where the size is dynamic. */
static void checkDivisible(Checker *c, MlirValue tensor, int64_t divisor,
                           const char *what) {
  intptr_t inner = rankOf(tensor) - 1;
  if (inner < 0 || divisor <= 1 || !isDynamic(tensor, inner))
    return;
  MlirValue size = cageBuildDim(&c->b, tensor, inner);
  MlirValue rem =
      cageBuildRemUI(&c->b, size, cageBuildConstantIndex(&c->b, divisor));
  check(c,
        cageBuildCmpI(&c->b, CageCmpIEQ, rem, cageBuildConstantIndex(&c->b, 0)),
        what);
}

/* The innermost size a quantizer splits into groups and blocks. */
static void checkQuantizerSizes(Checker *c, MlirAttribute q, MlirValue x) {
  if (mlirAttributeIsNull(q))
    return;
  char what[160];
  if (cageQuantizerAttrGetGranularity(q) == CageGranularityGroup) {
    snprintf(what, sizeof what,
             "innermost size is not a multiple of group_size = %lld",
             (long long)cageQuantizerAttrGetGroupSize(q));
    checkDivisible(c, x, cageQuantizerAttrGetGroupSize(q), what);
  }
  if (cageQuantizerAttrGetRotation(q) == CageRotationHadamard) {
    snprintf(what, sizeof what,
             "innermost size is not a multiple of the rotation block = %lld",
             (long long)cageQuantizerAttrGetBlock(q));
    checkDivisible(c, x, cageQuantizerAttrGetBlock(q), what);
  }
}

/* size(a, i) == size(b, j) where either is dynamic. */
static void checkSameSize(Checker *c, MlirValue a, intptr_t i, MlirValue b,
                          intptr_t j, const char *what) {
  if (!isDynamic(a, i) && !isDynamic(b, j))
    return;
  MlirValue ok = cageBuildCmpI(&c->b, CageCmpIEQ, cageBuildDim(&c->b, a, i),
                               cageBuildDim(&c->b, b, j));
  check(c, ok, what);
}

/* `b` has the shape of `a` (same rank, verified). */
static void checkSameShape(Checker *c, MlirValue a, MlirValue b,
                           const char *names) {
  char what[160];
  snprintf(what, sizeof what, "%s differ in a dynamic size", names);
  intptr_t rank = rankOf(a);
  if (rankOf(b) != rank)
    return;
  for (intptr_t i = 0; i < rank; ++i)
    checkSameSize(c, a, i, b, i, what);
}

/* The scale operand of x: [] (tensor), x's leading sizes (row), those and
 * n / group_size (group). */
static void checkScaleShape(Checker *c, MlirAttribute q, MlirValue x,
                            MlirValue scale) {
  const char *what = "scale operand's shape does not match the groups of x";
  intptr_t rank = rankOf(x);
  CageGranularity granularity = cageQuantizerAttrGetGranularity(q);
  if (granularity == CageGranularityTensor || rankOf(scale) < rank - 1)
    return;
  for (intptr_t i = 0; i + 1 < rank; ++i)
    checkSameSize(c, x, i, scale, i, what);
  if (granularity != CageGranularityGroup || rankOf(scale) != rank ||
      (!isDynamic(x, rank - 1) && !isDynamic(scale, rank - 1)))
    return;
  MlirValue groups = cageBuildDivUI(
      &c->b, cageBuildDim(&c->b, x, rank - 1),
      cageBuildConstantIndex(&c->b, cageQuantizerAttrGetGroupSize(q)));
  check(c,
        cageBuildCmpI(&c->b, CageCmpIEQ, groups,
                      cageBuildDim(&c->b, scale, rank - 1)),
        what);
}

/* An i64 scalar is at least 1. */
static void checkPositive(Checker *c, MlirValue value, const char *what) {
  check(
      c,
      cageBuildCmpI(&c->b, CageCmpISGE, value, cageBuildConstantI64(&c->b, 1)),
      what);
}

/*===--- Per op -----------------------------------------------------------===*/

/* cage.quantize, cage.ste, cage.quant_error: x (dy too for cage.ste) and
 * the scale operand, when there is one. */
static void checkQuantizer(Checker *c) {
  MlirOperation op = c->op;
  MlirAttribute q;
  MlirValue x, scale = {NULL};
  if (cageOperationIsASte(op)) {
    q = cageSteOpGetQuantizer(op);
    x = cageSteOpGetX(op);
    scale = cageSteOpGetScale(op);
    checkSameShape(c, cageSteOpGetDy(op), x, "dy and x");
  } else if (cageOperationIsAQuantize(op)) {
    q = cageQuantizeOpGetQuantizer(op);
    x = cageQuantizeOpGetX(op);
    scale = cageQuantizeOpGetScale(op);
  } else {
    q = cageQuantErrorOpGetQuantizer(op);
    x = cageQuantErrorOpGetW(op);
  }
  checkQuantizerSizes(c, q, x);
  if (cageQuantizerAttrGetScale(q) == CageScaleKindOperand &&
      !mlirValueIsNull(scale))
    checkScaleShape(c, q, x, scale);
}

static void checkStepPositive(Checker *c, MlirValue step) {
  checkPositive(c, step, "step t is less than 1 (AdamW counts steps from 1)");
}

/* cage.adamw, cage.sgd: w, g and the state, then lr[, t]. */
static void checkOptimizer(Checker *c) {
  CageOptimizerOp opt = cageOptimizerOpRead(c->op);
  const char *what = "w, g and the optimizer state";
  checkSameShape(c, opt.w, opt.g, what);
  for (intptr_t i = 0; i < opt.numState; ++i)
    checkSameShape(c, opt.w, opt.state[i], what);
  if (opt.adamw)
    checkStepPositive(c, opt.step);
}

static void checkUpdate(Checker *c) {
  MlirOperation op = c->op;
  MlirValue w = cageUpdateOpGetW(op);
  checkSameShape(c, w, cageUpdateOpGetG(op), "w and g");
  for (intptr_t i = 0; i < cageUpdateOpGetNumState(op); ++i)
    checkSameShape(c, w, cageUpdateOpGetState(op, i),
                   "w and the optimizer state");
  checkQuantizerSizes(c, cageUpdateOpGetQuantizer(op), w);
  MlirValue step = cageUpdateOpGetStep(op);
  if (!mlirValueIsNull(step))
    checkStepPositive(c, step);
}

static void checkMultiUpdate(Checker *c) {
  MlirOperation op = c->op;
  MlirAttribute q = cageMultiUpdateOpGetQuantizer(op);
  for (intptr_t k = 0; k < cageMultiUpdateOpGetNumParams(op); ++k) {
    MlirValue w = cageMultiUpdateOpGetParamW(op, k);
    const char *what = "a parameter's w, g and optimizer state";
    checkSameShape(c, w, cageMultiUpdateOpGetParamG(op, k), what);
    for (intptr_t j = 0; j < cageMultiUpdateOpGetNumParamState(op); ++j)
      checkSameShape(c, w, cageMultiUpdateOpGetParamState(op, k, j), what);
    checkQuantizerSizes(c, q, w);
  }
  MlirValue step = cageMultiUpdateOpGetStep(op);
  if (!mlirValueIsNull(step))
    checkStepPositive(c, step);
}

/* cage.fogzo_direction: g and w of each parameter, its grid, t and T. */
static void checkFogzoDirection(Checker *c) {
  MlirOperation op = c->op;
  for (intptr_t k = 0; k < cageFogzoDirectionOpGetNumParams(op); ++k) {
    MlirValue w = cageFogzoDirectionOpGetParamW(op, k);
    MlirAttribute q = cageFogzoDirectionOpGetParamQuantizer(op, k);
    if (!mlirAttributeIsNull(q))
      checkQuantizerSizes(c, q, w);
  }
  checkPositive(c, cageFogzoDirectionOpGetStep(op),
                "step t is less than 1 (FOGZO counts steps from 1)");
  checkPositive(c, cageFogzoDirectionOpGetTotal(op),
                "total steps T is less than 1");
}

static void emitChecks(Checker *c) {
  MlirOperation op = c->op;
  if (cageOperationIsAQuantize(op) || cageOperationIsASte(op) ||
      cageOperationIsAQuantError(op))
    checkQuantizer(c);
  else if (cageOpIsOptimizer(op))
    checkOptimizer(c);
  else if (cageOperationIsAUpdate(op))
    checkUpdate(c);
  else if (cageOperationIsAMultiUpdate(op))
    checkMultiUpdate(c);
  else if (cageOperationIsALambdaSchedule(op))
    checkPositive(c, cageLambdaScheduleOpGetTotal(op),
                  "total steps T is less than 1");
  else if (cageOperationIsAFogzoDirection(op))
    checkFogzoDirection(c);
}

/* The ops whose operands the checks read: every cage op. */
static bool isCheckedOp(MlirOperation op) {
  return cageOperationIsAQuantize(op) || cageOperationIsASte(op) ||
         cageOperationIsAQuantError(op) || cageOpIsOptimizer(op) ||
         cageOperationIsAUpdate(op) || cageOperationIsAMultiUpdate(op) ||
         cageOperationIsALambdaSchedule(op) ||
         cageOperationIsAFogzoDirection(op);
}

void lowerEmitRuntimeChecks(MlirOperation func) {
  CageOpList ops = cageCollectOpsWhere(func, isCheckedOp);
  MlirRewriterBase rewriter = mlirIRRewriterCreateFromOp(func);
  for (intptr_t i = 0; i < ops.size; ++i) {
    mlirRewriterBaseSetInsertionPointBefore(rewriter, ops.ops[i]);
    Checker c = {cageBuilderAtInsertionPoint(
                     rewriter, mlirOperationGetLocation(ops.ops[i])),
                 ops.ops[i]};
    emitChecks(&c);
  }
  mlirIRRewriterDestroy(rewriter);
  cageOpListDestroy(&ops);
}
