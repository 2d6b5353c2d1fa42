// RUN: cage-capi-ops-test 2>&1 | FileCheck %s

/*===- ops.c - Typed C API of the cage ops --------------------------------===*\
|*                                                                            *|
|* Reads every cage op of a parsed module through the typed accessors of      *|
|* cage-c/Dialect/CageOps.h, each optional operand present and absent;        *|
|* builds the same ops with the create functions, prints and verifies them    *|
|* and reads them back; and shows that the create functions return a null     *|
|* op, without crashing, for inputs that cannot make an op.                   *|
|*                                                                            *|
|* Operands print by name (the function's arguments carry loc("name") and     *|
|* are printed with NameLocs as names: `%w` is the argument w), results as    *|
|* `#<result number>:<type>` after checking that they belong to the op.       *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "CAPITest.h"

#include "cage-c/Dialect/Cage.h"
#include "cage-c/Dialect/CageOps.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/Func.h"
#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/* Where the descriptions of ops go: stderr, or a temporary file. */
static FILE *out;

static void printToOut(MlirStringRef text, void *userData) {
  (void)userData;
  fwrite(text.data, 1, text.length, out);
}

/* Prints each diagnostic as `diagnostic: <message>` and counts it. */
static MlirLogicalResult handleDiagnostic(MlirDiagnostic diagnostic,
                                          void *userData) {
  fprintf(stderr, "diagnostic: ");
  mlirDiagnosticPrint(diagnostic, printToStderr, NULL);
  fprintf(stderr, "\n");
  ++*(int *)userData;
  return mlirLogicalResultSuccess();
}

/* The state values print with: names from NameLocs. */
static MlirAsmState asmStateFor(MlirOperation op) {
  MlirOpPrintingFlags flags = mlirOpPrintingFlagsCreate();
  mlirOpPrintingFlagsPrintNameLocAsPrefix(flags);
  MlirAsmState state = mlirAsmStateCreateForOperation(op, flags);
  mlirOpPrintingFlagsDestroy(flags);
  return state;
}

static void printOpWithNames(MlirOperation op) {
  MlirOpPrintingFlags flags = mlirOpPrintingFlagsCreate();
  mlirOpPrintingFlagsPrintNameLocAsPrefix(flags);
  mlirOperationPrintWithFlags(op, flags, printToStderr, NULL);
  mlirOpPrintingFlagsDestroy(flags);
  fprintf(stderr, "\n");
}

static void printGeneric(MlirOperation op) {
  MlirOpPrintingFlags flags = mlirOpPrintingFlagsCreate();
  mlirOpPrintingFlagsPrintGenericOpForm(flags);
  mlirOpPrintingFlagsPrintNameLocAsPrefix(flags);
  mlirOperationPrintWithFlags(op, flags, printToStderr, NULL);
  mlirOpPrintingFlagsDestroy(flags);
  fprintf(stderr, "\n");
}

/* ` label=%name` or ` label=null`. */
static void printValue(const char *label, MlirValue value, MlirAsmState state) {
  fprintf(out, " %s=", label);
  if (mlirValueIsNull(value))
    fprintf(out, "null");
  else
    mlirValuePrintAsOperand(value, state, printToOut, NULL);
}

/* ` label=#<result number>:<type>` for a result of `op`, ` label=null`. */
static void printResult(const char *label, MlirValue value, MlirOperation op) {
  fprintf(out, " %s=", label);
  if (mlirValueIsNull(value)) {
    fprintf(out, "null");
    return;
  }
  if (!mlirValueIsAOpResult(value) ||
      !mlirOperationEqual(mlirOpResultGetOwner(value), op)) {
    fprintf(out, "<not a result of the op>");
    return;
  }
  fprintf(out, "#%ld:", (long)mlirOpResultGetResultNumber(value));
  mlirTypePrint(mlirValueGetType(value), printToOut, NULL);
}

static void printAttr(const char *label, MlirAttribute attr) {
  fprintf(out, " %s=", label);
  if (mlirAttributeIsNull(attr))
    fprintf(out, "null");
  else
    mlirAttributePrint(attr, printToOut, NULL);
}

static const char *estimatorName(CageEstimator v) {
  switch (v) {
  case CageEstimatorIdentity:
    return "identity";
  case CageEstimatorClipped:
    return "clipped";
  }
  return "?";
}

static const char *errorName(CageErrorMode v) {
  switch (v) {
  case CageErrorModeKeep:
    return "keep";
  case CageErrorModeZeroClipped:
    return "zero_clipped";
  }
  return "?";
}

static const char *couplingName(CageCoupling v) {
  switch (v) {
  case CageCouplingCoupled:
    return "coupled";
  case CageCouplingDecoupled:
    return "decoupled";
  }
  return "?";
}

static const char *kindName(CageScheduleKind v) {
  switch (v) {
  case CageScheduleKindLinearRamp:
    return "linear_ramp";
  case CageScheduleKindConstant:
    return "constant";
  }
  return "?";
}

//===----------------------------------------------------------------------===//
// Reading an op through the typed accessors
//===----------------------------------------------------------------------===//

typedef struct IsA {
  const char *name;
  bool (*isA)(MlirOperation);
} IsA;

static const IsA kIsA[] = {
    {"quantize", cageOperationIsAQuantize},
    {"ste", cageOperationIsASte},
    {"quant_error", cageOperationIsAQuantError},
    {"lambda_schedule", cageOperationIsALambdaSchedule},
    {"adamw", cageOperationIsAAdamW},
    {"sgd", cageOperationIsASGD},
    {"update", cageOperationIsAUpdate},
    {"multi_update", cageOperationIsAMultiUpdate},
    {"fogzo_direction", cageOperationIsAFogzoDirection},
};

/* `isa=<each predicate that holds>`; returns how many hold. */
static int printIsA(MlirOperation op) {
  int count = 0;
  fprintf(out, "isa=");
  for (size_t i = 0; i < sizeof kIsA / sizeof kIsA[0]; ++i)
    if (kIsA[i].isA(op))
      fprintf(out, "%s%s", count++ ? "," : "", kIsA[i].name);
  if (!count)
    fprintf(out, "none");
  return count;
}

static void describeQuantize(MlirOperation op, MlirAsmState s) {
  printValue("x", cageQuantizeOpGetX(op), s);
  printValue("seed", cageQuantizeOpGetSeed(op), s);
  printValue("scale", cageQuantizeOpGetScale(op), s);
  printAttr("quantizer", cageQuantizeOpGetQuantizer(op));
  printResult("result", cageQuantizeOpGetResult(op), op);
}

static void describeSte(MlirOperation op, MlirAsmState s) {
  printValue("dy", cageSteOpGetDy(op), s);
  printValue("x", cageSteOpGetX(op), s);
  printValue("scale", cageSteOpGetScale(op), s);
  printAttr("quantizer", cageSteOpGetQuantizer(op));
  fprintf(out, " estimator=%s", estimatorName(cageSteOpGetEstimator(op)));
  printResult("dx", cageSteOpGetDx(op), op);
  printResult("dscale", cageSteOpGetDscale(op), op);
}

static void describeQuantError(MlirOperation op, MlirAsmState s) {
  printValue("w", cageQuantErrorOpGetW(op), s);
  printAttr("quantizer", cageQuantErrorOpGetQuantizer(op));
  fprintf(out, " error=%s", errorName(cageQuantErrorOpGetError(op)));
  printResult("error_value", cageQuantErrorOpGetErrorValue(op), op);
}

static void describeLambdaSchedule(MlirOperation op, MlirAsmState s) {
  printValue("step", cageLambdaScheduleOpGetStep(op), s);
  printValue("total", cageLambdaScheduleOpGetTotal(op), s);
  fprintf(out, " lambda=%g silence=%g kind=%s",
          cageLambdaScheduleOpGetLambda(op), cageLambdaScheduleOpGetSilence(op),
          kindName(cageLambdaScheduleOpGetKind(op)));
  printResult("result", cageLambdaScheduleOpGetResult(op), op);
}

static void describeAdamW(MlirOperation op, MlirAsmState s) {
  printValue("w", cageAdamWOpGetW(op), s);
  printValue("g", cageAdamWOpGetG(op), s);
  printValue("m", cageAdamWOpGetM(op), s);
  printValue("v", cageAdamWOpGetV(op), s);
  printValue("lr", cageAdamWOpGetLr(op), s);
  printValue("step", cageAdamWOpGetStep(op), s);
  fprintf(out, " beta1=%g beta2=%g eps=%g weight_decay=%g",
          cageAdamWOpGetBeta1(op), cageAdamWOpGetBeta2(op),
          cageAdamWOpGetEps(op), cageAdamWOpGetWeightDecay(op));
  printResult("new_w", cageAdamWOpGetNewW(op), op);
  printResult("new_m", cageAdamWOpGetNewM(op), op);
  printResult("new_v", cageAdamWOpGetNewV(op), op);
}

static void describeSGD(MlirOperation op, MlirAsmState s) {
  printValue("w", cageSGDOpGetW(op), s);
  printValue("g", cageSGDOpGetG(op), s);
  printValue("b", cageSGDOpGetB(op), s);
  printValue("lr", cageSGDOpGetLr(op), s);
  fprintf(out, " momentum=%g dampening=%g nesterov=%d weight_decay=%g",
          cageSGDOpGetMomentum(op), cageSGDOpGetDampening(op),
          cageSGDOpGetNesterov(op), cageSGDOpGetWeightDecay(op));
  printResult("new_w", cageSGDOpGetNewW(op), op);
  printResult("new_b", cageSGDOpGetNewB(op), op);
}

static void describeUpdate(MlirOperation op, MlirAsmState s) {
  printValue("w", cageUpdateOpGetW(op), s);
  printValue("g", cageUpdateOpGetG(op), s);
  intptr_t numState = cageUpdateOpGetNumState(op);
  fprintf(out, " num_state=%ld", (long)numState);
  for (intptr_t i = 0; i < numState; ++i)
    printValue("state", cageUpdateOpGetState(op, i), s);
  printValue("lr", cageUpdateOpGetLr(op), s);
  printValue("lambda", cageUpdateOpGetLambda(op), s);
  printValue("step", cageUpdateOpGetStep(op), s);
  printValue("seed", cageUpdateOpGetSeed(op), s);
  printAttr("quantizer", cageUpdateOpGetQuantizer(op));
  printAttr("optimizer", cageUpdateOpGetOptimizer(op));
  fprintf(out, " coupling=%s error=%s",
          couplingName(cageUpdateOpGetCoupling(op)),
          errorName(cageUpdateOpGetError(op)));
  printResult("new_w", cageUpdateOpGetNewW(op), op);
  intptr_t numNewState = cageUpdateOpGetNumNewState(op);
  fprintf(out, " num_new_state=%ld", (long)numNewState);
  for (intptr_t i = 0; i < numNewState; ++i)
    printResult("new_state", cageUpdateOpGetNewState(op, i), op);
  /* Out of range: null, not a crash. */
  printValue("state[-1]", cageUpdateOpGetState(op, -1), s);
  printValue("state[n]", cageUpdateOpGetState(op, numState), s);
  printValue("new_state[n]", cageUpdateOpGetNewState(op, numNewState), s);
}

static void describeMultiUpdate(MlirOperation op, MlirAsmState s) {
  intptr_t numParams = cageMultiUpdateOpGetNumParams(op);
  intptr_t numState = cageMultiUpdateOpGetNumParamState(op);
  fprintf(out, " num_params=%ld num_param_state=%ld", (long)numParams,
          (long)numState);
  for (intptr_t k = 0; k < numParams; ++k) {
    fprintf(out, "\n  param %ld:", (long)k);
    printValue("w", cageMultiUpdateOpGetParamW(op, k), s);
    printValue("g", cageMultiUpdateOpGetParamG(op, k), s);
    for (intptr_t j = 0; j < numState; ++j)
      printValue("state", cageMultiUpdateOpGetParamState(op, k, j), s);
    printResult("new_w", cageMultiUpdateOpGetParamNewW(op, k), op);
    for (intptr_t j = 0; j < numState; ++j)
      printResult("new_state", cageMultiUpdateOpGetParamNewState(op, k, j), op);
  }
  fprintf(out, "\n  scalars:");
  printValue("lr", cageMultiUpdateOpGetLr(op), s);
  printValue("lambda", cageMultiUpdateOpGetLambda(op), s);
  printValue("step", cageMultiUpdateOpGetStep(op), s);
  printAttr("quantizer", cageMultiUpdateOpGetQuantizer(op));
  printAttr("optimizer", cageMultiUpdateOpGetOptimizer(op));
  fprintf(out, " coupling=%s error=%s",
          couplingName(cageMultiUpdateOpGetCoupling(op)),
          errorName(cageMultiUpdateOpGetError(op)));
  /* Out of range: null, not a crash. */
  fprintf(out, "\n  out of range:");
  printValue("w[n]", cageMultiUpdateOpGetParamW(op, numParams), s);
  printValue("g[-1]", cageMultiUpdateOpGetParamG(op, -1), s);
  printValue("state[0][S]", cageMultiUpdateOpGetParamState(op, 0, numState), s);
  printValue("new_w[n]", cageMultiUpdateOpGetParamNewW(op, numParams), s);
  printValue("new_state[0][S]",
             cageMultiUpdateOpGetParamNewState(op, 0, numState), s);
}

static void describeFogzoDirection(MlirOperation op, MlirAsmState s) {
  intptr_t numParams = cageFogzoDirectionOpGetNumParams(op);
  fprintf(out, " num_params=%ld\n", (long)numParams);
  for (intptr_t k = 0; k < numParams; ++k) {
    fprintf(out, "  param %ld:", (long)k);
    printValue("g", cageFogzoDirectionOpGetParamG(op, k), s);
    printValue("w", cageFogzoDirectionOpGetParamW(op, k), s);
    printAttr("quantizer", cageFogzoDirectionOpGetParamQuantizer(op, k));
    printResult("direction", cageFogzoDirectionOpGetDirection(op, k), op);
    fprintf(out, "\n");
  }
  fprintf(out, "  scalars:");
  printValue("step", cageFogzoDirectionOpGetStep(op), s);
  printValue("total", cageFogzoDirectionOpGetTotal(op), s);
  printAttr("fogzo", cageFogzoDirectionOpGetFogzo(op));
  printResult("epsilon", cageFogzoDirectionOpGetEpsilon(op), op);
  fprintf(out, "\n  out of range:");
  printValue("g[n]", cageFogzoDirectionOpGetParamG(op, numParams), s);
  printValue("w[-1]", cageFogzoDirectionOpGetParamW(op, -1), s);
  printAttr("quantizer[n]",
            cageFogzoDirectionOpGetParamQuantizer(op, numParams));
  printValue("direction[n]", cageFogzoDirectionOpGetDirection(op, numParams),
             s);
}

/* One line (more for multi_update and fogzo_direction) per op: its name, the
 * predicates that hold, and everything its accessors return. Returns 1 unless
 * exactly one predicate holds for a cage op (none for another op). */
static int describeOp(MlirOperation op, MlirAsmState s) {
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
  fprintf(out, "%.*s: ", (int)name.length, name.data);
  int count = printIsA(op);
  if (cageOperationIsAQuantize(op))
    describeQuantize(op, s);
  else if (cageOperationIsASte(op))
    describeSte(op, s);
  else if (cageOperationIsAQuantError(op))
    describeQuantError(op, s);
  else if (cageOperationIsALambdaSchedule(op))
    describeLambdaSchedule(op, s);
  else if (cageOperationIsAAdamW(op))
    describeAdamW(op, s);
  else if (cageOperationIsASGD(op))
    describeSGD(op, s);
  else if (cageOperationIsAUpdate(op))
    describeUpdate(op, s);
  else if (cageOperationIsAMultiUpdate(op))
    describeMultiUpdate(op, s);
  else if (cageOperationIsAFogzoDirection(op))
    describeFogzoDirection(op, s);
  fprintf(out, "\n");
  bool isCage = name.length > 5 && strncmp(name.data, "cage.", 5) == 0;
  return count == (isCage ? 1 : 0) ? 0 : 1;
}

/* Describes every op of the body of the first function of `module`. */
static int describeBody(MlirModule module) {
  MlirOperation moduleOp = mlirModuleGetOperation(module);
  MlirOperation func = mlirBlockGetFirstOperation(mlirModuleGetBody(module));
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(func, 0));
  MlirAsmState state = asmStateFor(moduleOp);
  int failures = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(body);
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op))
    failures += describeOp(op, state);
  mlirAsmStateDestroy(state);
  return failures;
}

/* What describeBody prints, as a string (to free), or NULL. */
static char *describeBodyToString(MlirModule module, int *failures) {
  FILE *file = tmpfile();
  if (!file)
    return NULL;
  out = file;
  *failures += describeBody(module);
  out = stderr;
  long size = ftell(file);
  char *text = size >= 0 ? malloc((size_t)size + 1) : NULL;
  rewind(file);
  if (text && fread(text, 1, (size_t)size, file) == (size_t)size)
    text[size] = '\0';
  else {
    free(text);
    text = NULL;
  }
  fclose(file);
  return text;
}

//===----------------------------------------------------------------------===//
// Parsed ops
//===----------------------------------------------------------------------===//

/* The arguments, shared by the parsed and the created module. */
#define ARGS                                                                   \
  "%x: tensor<4x8xf32> loc(\"x\"), %dy: tensor<4x8xf32> loc(\"dy\"),\n"        \
  "  %a: tensor<4xf32> loc(\"a\"), %s: i64 loc(\"s\"),\n"                      \
  "  %w: tensor<4x8xf32> loc(\"w\"), %g: tensor<4x8xf32> loc(\"g\"),\n"        \
  "  %m: tensor<4x8xf32> loc(\"m\"), %v: tensor<4x8xf32> loc(\"v\"),\n"        \
  "  %b: tensor<4x8xf32> loc(\"b\"), %lr: f32 loc(\"lr\"), %l: f32 "           \
  "loc(\"l\"),\n"                                                              \
  "  %t: i64 loc(\"t\"), %T: i64 loc(\"T\"),\n"                                \
  "  %m16: tensor<4x8xbf16> loc(\"m16\"), %v16: tensor<4x8xbf16> "             \
  "loc(\"v16\"),\n"                                                            \
  "  %w2: tensor<16xf32> loc(\"w2\"), %g2: tensor<16xf32> loc(\"g2\"),\n"      \
  "  %m2: tensor<16xf32> loc(\"m2\"), %v2: tensor<16xf32> loc(\"v2\"),\n"      \
  "  %b2: tensor<16xf32> loc(\"b2\")"

/* Argument indices, for the created ops. */
enum {
  kX,
  kDy,
  kA,
  kS,
  kW,
  kG,
  kM,
  kV,
  kB,
  kLr,
  kL,
  kT,
  kTotal,
  kM16,
  kV16,
  kW2,
  kG2,
  kM2,
  kV2,
  kB2,
  kNumArgs
};

static const char *const kParsedModule =
    "func.func @ops(" ARGS ") {\n"
    /* cage.quantize: neither, seed, scale, both. */
    "  %q0 = cage.quantize %x {quantizer = #cage.quantizer<>} : "
    "tensor<4x8xf32>\n"
    "  %q1 = cage.quantize %x seed(%s) {quantizer = "
    "#cage.quantizer<rounding = stochastic>} : tensor<4x8xf32>\n"
    "  %q2 = cage.quantize %x scale(%a) {quantizer = "
    "#cage.quantizer<scale = operand>} : tensor<4x8xf32>, tensor<4xf32>\n"
    "  %q3 = cage.quantize %x seed(%s) scale(%a) {quantizer = "
    "#cage.quantizer<scale = operand, rounding = stochastic>} : "
    "tensor<4x8xf32>, tensor<4xf32>\n"
    /* cage.ste: without and with scale. */
    "  %d0 = cage.ste %dy, %x {quantizer = #cage.quantizer<>, estimator = "
    "clipped} : tensor<4x8xf32>\n"
    "  %d1:2 = cage.ste %dy, %x scale(%a) {quantizer = "
    "#cage.quantizer<scale = operand>, estimator = identity} : "
    "tensor<4x8xf32>, tensor<4xf32>\n"
    /* cage.quant_error: default and explicit error mode. */
    "  %e0 = cage.quant_error %w {quantizer = #cage.quantizer<bits = 3>} : "
    "tensor<4x8xf32>\n"
    "  %e1 = cage.quant_error %w {quantizer = #cage.quantizer<>, error = "
    "zero_clipped} : tensor<4x8xf32>\n"
    /* cage.lambda_schedule: defaults and explicit. */
    "  %l0 = cage.lambda_schedule %t, %T\n"
    "  %l1 = cage.lambda_schedule %t, %T {lambda = 2.5 : f32, silence = 0.5 "
    ": f32, kind = constant}\n"
    "  %o0:3 = cage.adamw %w, %g, %m, %v, %lr, %t {beta1 = 0.5 : f32, beta2 = "
    "0.75 : f32, eps = 0.125 : f32, weight_decay = 0.25 : f32} : "
    "tensor<4x8xf32>\n"
    "  %o1:2 = cage.sgd %w, %g, %b, %lr {momentum = 0.5 : f32, nesterov = "
    "true} : tensor<4x8xf32>\n"
    /* cage.update: step without seed, neither, both, seed without step. */
    "  %u0:3 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = "
    "#cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<4x8xf32>\n"
    "  %u1:2 = cage.update %w, %g, %b, %lr, %l {quantizer = "
    "#cage.quantizer<bits = 3>, optimizer = #cage.sgd<momentum = 0.5>, "
    "coupling = coupled, error = zero_clipped} : tensor<4x8xf32>\n"
    "  %u2:3 = cage.update %w, %g, %m16, %v16, %lr, %l, %t seed(%s) "
    "{quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : "
    "tensor<4x8xf32>, tensor<4x8xbf16>\n"
    "  %u3:2 = cage.update %w, %g, %m16, %lr, %l seed(%s) {quantizer = "
    "#cage.quantizer<>, optimizer = #cage.sgd<momentum = 0.5>} : "
    "tensor<4x8xf32>, tensor<4x8xbf16>\n"
    /* cage.multi_update: lambda and step, neither, lambda only, step only. */
    "  %r0:6 = cage.multi_update (%w, %g, %m, %v), (%w2, %g2, %m2, %v2), "
    "%lr, %l, %t {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} "
    ": tensor<4x8xf32>, tensor<16xf32>\n"
    "  %r1:2 = cage.multi_update (%w, %g, %b), %lr {optimizer = "
    "#cage.sgd<>} : tensor<4x8xf32>\n"
    "  %r2:4 = cage.multi_update (%w, %g, %b), (%w2, %g2, %b2), %lr, %l "
    "{quantizer = #cage.quantizer<bits = 3>, optimizer = #cage.sgd<momentum "
    "= 0.5>, coupling = coupled, error = zero_clipped} : tensor<4x8xf32>, "
    "tensor<16xf32>\n"
    "  %r3:3 = cage.multi_update (%w2, %g2, %m2, %v2), %lr, %t {optimizer = "
    "#cage.adamw<>} : tensor<16xf32>\n"
    "  %f:3 = cage.fogzo_direction (%g, %w), (%g2, %w2), %t, %T {fogzo = "
    "#cage.fogzo<seed = 7>, quantizers = [#cage.quantizer<bits = 3>, unit]} "
    ": tensor<4x8xf32>, tensor<16xf32>\n"
    "  return\n"
    "}\n";

// clang-format off
// CHECK-LABEL: @testParsedOps
// CHECK: cage.quantize: isa=quantize x=%x seed=null scale=null quantizer=#cage.quantizer<> result=#0:tensor<4x8xf32>
// CHECK-NEXT: cage.quantize: isa=quantize x=%x seed=%s scale=null quantizer=#cage.quantizer<rounding = stochastic> result=#0:tensor<4x8xf32>
// CHECK-NEXT: cage.quantize: isa=quantize x=%x seed=null scale=%a quantizer=#cage.quantizer<scale = operand> result=#0:tensor<4x8xf32>
// CHECK-NEXT: cage.quantize: isa=quantize x=%x seed=%s scale=%a quantizer=#cage.quantizer<scale = operand, rounding = stochastic> result=#0:tensor<4x8xf32>
// CHECK-NEXT: cage.ste: isa=ste dy=%dy x=%x scale=null quantizer=#cage.quantizer<> estimator=clipped dx=#0:tensor<4x8xf32> dscale=null
// CHECK-NEXT: cage.ste: isa=ste dy=%dy x=%x scale=%a quantizer=#cage.quantizer<scale = operand> estimator=identity dx=#0:tensor<4x8xf32> dscale=#1:tensor<4xf32>
// CHECK-NEXT: cage.quant_error: isa=quant_error w=%w quantizer=#cage.quantizer<bits = 3> error=keep error_value=#0:tensor<4x8xf32>
// CHECK-NEXT: cage.quant_error: isa=quant_error w=%w quantizer=#cage.quantizer<> error=zero_clipped error_value=#0:tensor<4x8xf32>
// CHECK-NEXT: cage.lambda_schedule: isa=lambda_schedule step=%t total=%T lambda=10 silence=0.8 kind=linear_ramp result=#0:f32
// CHECK-NEXT: cage.lambda_schedule: isa=lambda_schedule step=%t total=%T lambda=2.5 silence=0.5 kind=constant result=#0:f32
// CHECK-NEXT: cage.adamw: isa=adamw w=%w g=%g m=%m v=%v lr=%lr step=%t beta1=0.5 beta2=0.75 eps=0.125 weight_decay=0.25 new_w=#0:tensor<4x8xf32> new_m=#1:tensor<4x8xf32> new_v=#2:tensor<4x8xf32>
// CHECK-NEXT: cage.sgd: isa=sgd w=%w g=%g b=%b lr=%lr momentum=0.5 dampening=0 nesterov=1 weight_decay=0 new_w=#0:tensor<4x8xf32> new_b=#1:tensor<4x8xf32>
// CHECK-NEXT: cage.update: isa=update w=%w g=%g num_state=2 state=%m state=%v lr=%lr lambda=%l step=%t seed=null quantizer=#cage.quantizer<> optimizer=#cage.adamw<> coupling=decoupled error=keep new_w=#0:tensor<4x8xf32> num_new_state=2 new_state=#1:tensor<4x8xf32> new_state=#2:tensor<4x8xf32> state[-1]=null state[n]=null new_state[n]=null
// CHECK-NEXT: cage.update: isa=update w=%w g=%g num_state=1 state=%b lr=%lr lambda=%l step=null seed=null quantizer=#cage.quantizer<bits = 3> optimizer=#cage.sgd<momentum = 0.5> coupling=coupled error=zero_clipped new_w=#0:tensor<4x8xf32> num_new_state=1 new_state=#1:tensor<4x8xf32> state[-1]=null state[n]=null new_state[n]=null
// CHECK-NEXT: cage.update: isa=update w=%w g=%g num_state=2 state=%m16 state=%v16 lr=%lr lambda=%l step=%t seed=%s quantizer=#cage.quantizer<> optimizer=#cage.adamw<> coupling=decoupled error=keep new_w=#0:tensor<4x8xf32> num_new_state=2 new_state=#1:tensor<4x8xbf16> new_state=#2:tensor<4x8xbf16> state[-1]=null state[n]=null new_state[n]=null
// CHECK-NEXT: cage.update: isa=update w=%w g=%g num_state=1 state=%m16 lr=%lr lambda=%l step=null seed=%s quantizer=#cage.quantizer<> optimizer=#cage.sgd<momentum = 0.5> coupling=decoupled error=keep new_w=#0:tensor<4x8xf32> num_new_state=1 new_state=#1:tensor<4x8xbf16> state[-1]=null state[n]=null new_state[n]=null
// CHECK-NEXT: cage.multi_update: isa=multi_update num_params=2 num_param_state=2
// CHECK-NEXT:   param 0: w=%w g=%g state=%m state=%v new_w=#0:tensor<4x8xf32> new_state=#1:tensor<4x8xf32> new_state=#2:tensor<4x8xf32>
// CHECK-NEXT:   param 1: w=%w2 g=%g2 state=%m2 state=%v2 new_w=#3:tensor<16xf32> new_state=#4:tensor<16xf32> new_state=#5:tensor<16xf32>
// CHECK-NEXT:   scalars: lr=%lr lambda=%l step=%t quantizer=#cage.quantizer<> optimizer=#cage.adamw<> coupling=decoupled error=keep
// CHECK-NEXT:   out of range: w[n]=null g[-1]=null state[0][S]=null new_w[n]=null new_state[0][S]=null
// CHECK-NEXT: cage.multi_update: isa=multi_update num_params=1 num_param_state=1
// CHECK-NEXT:   param 0: w=%w g=%g state=%b new_w=#0:tensor<4x8xf32> new_state=#1:tensor<4x8xf32>
// CHECK-NEXT:   scalars: lr=%lr lambda=null step=null quantizer=null optimizer=#cage.sgd<> coupling=decoupled error=keep
// CHECK-NEXT:   out of range: w[n]=null g[-1]=null state[0][S]=null new_w[n]=null new_state[0][S]=null
// CHECK-NEXT: cage.multi_update: isa=multi_update num_params=2 num_param_state=1
// CHECK-NEXT:   param 0: w=%w g=%g state=%b new_w=#0:tensor<4x8xf32> new_state=#1:tensor<4x8xf32>
// CHECK-NEXT:   param 1: w=%w2 g=%g2 state=%b2 new_w=#2:tensor<16xf32> new_state=#3:tensor<16xf32>
// CHECK-NEXT:   scalars: lr=%lr lambda=%l step=null quantizer=#cage.quantizer<bits = 3> optimizer=#cage.sgd<momentum = 0.5> coupling=coupled error=zero_clipped
// CHECK-NEXT:   out of range: w[n]=null g[-1]=null state[0][S]=null new_w[n]=null new_state[0][S]=null
// CHECK-NEXT: cage.multi_update: isa=multi_update num_params=1 num_param_state=2
// CHECK-NEXT:   param 0: w=%w2 g=%g2 state=%m2 state=%v2 new_w=#0:tensor<16xf32> new_state=#1:tensor<16xf32> new_state=#2:tensor<16xf32>
// CHECK-NEXT:   scalars: lr=%lr lambda=null step=%t quantizer=null optimizer=#cage.adamw<> coupling=decoupled error=keep
// CHECK-NEXT:   out of range: w[n]=null g[-1]=null state[0][S]=null new_w[n]=null new_state[0][S]=null
// CHECK-NEXT: cage.fogzo_direction: isa=fogzo_direction num_params=2
// CHECK-NEXT:   param 0: g=%g w=%w quantizer=#cage.quantizer<bits = 3> direction=#0:tensor<4x8xf32>
// CHECK-NEXT:   param 1: g=%g2 w=%w2 quantizer=null direction=#1:tensor<16xf32>
// CHECK-NEXT:   scalars: step=%t total=%T fogzo=#cage.fogzo<seed = 7> epsilon=#2:f32
// CHECK-NEXT:   out of range: g[n]=null w[-1]=null quantizer[n]=null direction[n]=null
// CHECK-NEXT: func.return: isa=none
// CHECK-NEXT: verified: 1
// clang-format on
static int testParsedOps(MlirContext ctx) {
  fprintf(stderr, "@testParsedOps\n");
  MlirModule module = mlirModuleCreateParse(ctx, str(kParsedModule));
  if (mlirModuleIsNull(module))
    return 1;
  int failures = describeBody(module);
  bool verified = mlirOperationVerify(mlirModuleGetOperation(module));
  fprintf(stderr, "verified: %d\n", verified);
  mlirModuleDestroy(module);
  return failures + (verified ? 0 : 1);
}

//===----------------------------------------------------------------------===//
// Created ops
//===----------------------------------------------------------------------===//

typedef struct Builder {
  MlirContext ctx;
  MlirBlock body;
  MlirOperation terminator;
  MlirValue arg[kNumArgs];
  MlirLocation loc; /* of the op being created */
  int line;
  int failures;
} Builder;

/* A new location, `"ops.c":<n>:1`, for the next op. */
static MlirLocation next(Builder *b) {
  b->loc = mlirLocationFileLineColGet(b->ctx, str("ops.c"), ++b->line, 1);
  return b->loc;
}

/* Inserts `op` before the terminator, checks that it has the location it
 * was created with, and verifies it on its own. */
static MlirOperation insert(Builder *b, const char *name, MlirOperation op) {
  if (mlirOperationIsNull(op)) {
    fprintf(stderr, "%s: null\n", name);
    ++b->failures;
    return op;
  }
  mlirBlockInsertOwnedOperationBefore(b->body, b->terminator, op);
  bool sameLoc = mlirLocationEqual(mlirOperationGetLocation(op), b->loc);
  bool verified = mlirOperationVerify(op);
  fprintf(stderr, "created %s: loc=%d verified=%d\n", name, sameLoc, verified);
  if (!verified || !sameLoc)
    ++b->failures;
  return op;
}

// The create functions: result types inferred from the operands (the new
// state of bf16 state is bf16, the results of a multi_update parameter have
// its w's type), operandSegmentSizes computed by ODS (see the generic forms).
// Each op verifies on its own and the module prints in the custom syntax.
// clang-format off
// CHECK-LABEL: @testCreateOps
// CHECK-COUNT-21: created {{.*}}: loc=1 verified=1
// CHECK: verified: 1
// CHECK: func.func @ops
// CHECK-NEXT: = cage.quantize %x {quantizer = #cage.quantizer<>} : tensor<4x8xf32>
// CHECK-NEXT: = cage.quantize %x seed(%s) {quantizer = #cage.quantizer<rounding = stochastic>} : tensor<4x8xf32>
// CHECK-NEXT: = cage.quantize %x scale(%a) {quantizer = #cage.quantizer<scale = operand>} : tensor<4x8xf32>, tensor<4xf32>
// CHECK-NEXT: = cage.quantize %x seed(%s) scale(%a) {quantizer = #cage.quantizer<scale = operand, rounding = stochastic>} : tensor<4x8xf32>, tensor<4xf32>
// CHECK-NEXT: = cage.ste %dy, %x {quantizer = #cage.quantizer<>, estimator = clipped} : tensor<4x8xf32>
// CHECK-NEXT: = cage.ste %dy, %x scale(%a) {quantizer = #cage.quantizer<scale = operand>, estimator = identity} : tensor<4x8xf32>, tensor<4xf32>
// CHECK-NEXT: = cage.quant_error %w {quantizer = #cage.quantizer<bits = 3>} : tensor<4x8xf32>
// CHECK-NEXT: = cage.quant_error %w {quantizer = #cage.quantizer<>, error = zero_clipped} : tensor<4x8xf32>
// CHECK-NEXT: = cage.lambda_schedule %t, %T
// CHECK-NEXT: = cage.lambda_schedule %t, %T {lambda = 2.5 : f32, silence = 0.5 : f32, kind = constant}
// CHECK-NEXT: = cage.adamw %w, %g, %m, %v, %lr, %t {beta1 = 0.5 : f32, beta2 = 0.75 : f32, eps = 0.125 : f32, weight_decay = 0.25 : f32} : tensor<4x8xf32>
// CHECK-NEXT: = cage.sgd %w, %g, %b, %lr {momentum = 0.5 : f32, nesterov = true} : tensor<4x8xf32>
// CHECK-NEXT: = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<4x8xf32>
// CHECK-NEXT: = cage.update %w, %g, %b, %lr, %l {quantizer = #cage.quantizer<bits = 3>, optimizer = #cage.sgd<momentum = 0.5>, coupling = coupled, error = zero_clipped} : tensor<4x8xf32>
// CHECK-NEXT: = cage.update %w, %g, %m16, %v16, %lr, %l, %t seed(%s) {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<4x8xf32>, tensor<4x8xbf16>
// CHECK-NEXT: = cage.update %w, %g, %m16, %lr, %l seed(%s) {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<momentum = 0.5>} : tensor<4x8xf32>, tensor<4x8xbf16>
// CHECK-NEXT: = cage.multi_update (%w, %g, %m, %v), (%w2, %g2, %m2, %v2), %lr, %l, %t {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<4x8xf32>, tensor<16xf32>
// CHECK-NEXT: = cage.multi_update (%w, %g, %b), %lr {optimizer = #cage.sgd<>} : tensor<4x8xf32>
// CHECK-NEXT: = cage.multi_update (%w, %g, %b), (%w2, %g2, %b2), %lr, %l {quantizer = #cage.quantizer<bits = 3>, optimizer = #cage.sgd<momentum = 0.5>, coupling = coupled, error = zero_clipped} : tensor<4x8xf32>, tensor<16xf32>
// CHECK-NEXT: = cage.multi_update (%w2, %g2, %m2, %v2), %lr, %t {optimizer = #cage.adamw<>} : tensor<16xf32>
// CHECK-NEXT: = cage.fogzo_direction (%g, %w), (%g2, %w2), %t, %T {fogzo = #cage.fogzo<seed = 7>, quantizers = [#cage.quantizer<bits = 3>, unit]} : tensor<4x8xf32>, tensor<16xf32>
// CHECK-NEXT: return
//
// Read back through the accessors, the created ops describe exactly as the
// parsed ones.
// CHECK: read back: same as parsed=1 failures=0
//
// The segments ODS computed: w, g, state, lr, lambda, step, seed; tensors,
// lr, lambda, step; x, seed, scale.
// CHECK-NEXT: "cage.update"(%w, %g, %m16, %v16, %lr, %l, %t, %s) <{{.*}}operandSegmentSizes = array<i32: 1, 1, 2, 1, 1, 1, 1>
// CHECK-NEXT: "cage.update"(%w, %g, %b, %lr, %l) <{{.*}}operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0>
// CHECK-NEXT: "cage.multi_update"(%w, %g, %b, %w2, %g2, %b2, %lr, %l) <{{.*}}operandSegmentSizes = array<i32: 6, 1, 1, 0>
// CHECK-NEXT: "cage.quantize"(%x, %a) <{{.*}}operandSegmentSizes = array<i32: 1, 0, 1>
// clang-format on
static int testCreateOps(MlirContext ctx) {
  fprintf(stderr, "@testCreateOps\n");
  MlirModule module = mlirModuleCreateParse(
      ctx, str("func.func @ops(" ARGS ") {\n  return\n}\n"));
  if (mlirModuleIsNull(module))
    return 1;
  Builder b;
  memset(&b, 0, sizeof b);
  b.ctx = ctx;
  MlirOperation func = mlirBlockGetFirstOperation(mlirModuleGetBody(module));
  b.body = mlirRegionGetFirstBlock(mlirOperationGetRegion(func, 0));
  b.terminator = mlirBlockGetTerminator(b.body);
  for (intptr_t i = 0; i < kNumArgs; ++i)
    b.arg[i] = mlirBlockGetArgument(b.body, i);
  MlirValue *arg = b.arg;
  MlirValue none = {NULL};
  MlirAttribute noAttr = {NULL};

  MlirAttribute q = cageQuantizerAttrGetDefault(ctx, 4);
  MlirAttribute q3 = cageQuantizerAttrGetDefault(ctx, 3);
  MlirAttribute qStochastic = cageQuantizerAttrGet(
      ctx, 4, CageGranularityRow, 128, CageScaleKindAbsmax, CageLevelsInt,
      CageRotationNone, 128, CageRoundingStochastic);
  MlirAttribute qOperand = cageQuantizerAttrGet(
      ctx, 4, CageGranularityRow, 128, CageScaleKindOperand, CageLevelsInt,
      CageRotationNone, 128, CageRoundingNearest);
  MlirAttribute qBoth = cageQuantizerAttrGet(
      ctx, 4, CageGranularityRow, 128, CageScaleKindOperand, CageLevelsInt,
      CageRotationNone, 128, CageRoundingStochastic);
  MlirAttribute adamw = cageAdamWAttrGet(ctx, 0.9f, 0.95f, 1e-8f, 0.1f);
  MlirAttribute sgd = cageSGDAttrGet(ctx, 0.0f, 0.0f, false, 0.0f);
  MlirAttribute sgdMomentum = cageSGDAttrGet(ctx, 0.5f, 0.0f, false, 0.0f);

  insert(&b, "quantize",
         cageQuantizeOpCreate(next(&b), arg[kX], none, none, q));
  insert(&b, "quantize seed",
         cageQuantizeOpCreate(next(&b), arg[kX], arg[kS], none, qStochastic));
  MlirOperation quantizeScale =
      insert(&b, "quantize scale",
             cageQuantizeOpCreate(next(&b), arg[kX], none, arg[kA], qOperand));
  insert(&b, "quantize seed scale",
         cageQuantizeOpCreate(next(&b), arg[kX], arg[kS], arg[kA], qBoth));
  insert(&b, "ste",
         cageSteOpCreate(next(&b), arg[kDy], arg[kX], none, q,
                         CageEstimatorClipped));
  insert(&b, "ste scale",
         cageSteOpCreate(next(&b), arg[kDy], arg[kX], arg[kA], qOperand,
                         CageEstimatorIdentity));
  insert(&b, "quant_error",
         cageQuantErrorOpCreate(next(&b), arg[kW], q3, CageErrorModeKeep));
  insert(
      &b, "quant_error zero_clipped",
      cageQuantErrorOpCreate(next(&b), arg[kW], q, CageErrorModeZeroClipped));
  insert(&b, "lambda_schedule",
         cageLambdaScheduleOpCreate(next(&b), arg[kT], arg[kTotal], 10.0f, 0.8f,
                                    CageScheduleKindLinearRamp));
  insert(&b, "lambda_schedule constant",
         cageLambdaScheduleOpCreate(next(&b), arg[kT], arg[kTotal], 2.5f, 0.5f,
                                    CageScheduleKindConstant));
  insert(&b, "adamw",
         cageAdamWOpCreate(next(&b), arg[kW], arg[kG], arg[kM], arg[kV],
                           arg[kLr], arg[kT], 0.5f, 0.75f, 0.125f, 0.25f));
  insert(&b, "sgd",
         cageSGDOpCreate(next(&b), arg[kW], arg[kG], arg[kB], arg[kLr], 0.5f,
                         0.0f, true, 0.0f));

  MlirValue mv[] = {arg[kM], arg[kV]};
  MlirValue mv16[] = {arg[kM16], arg[kV16]};
  insert(&b, "update adamw",
         cageUpdateOpCreate(next(&b), arg[kW], arg[kG], 2, mv, arg[kLr],
                            arg[kL], arg[kT], none, q, adamw,
                            CageCouplingDecoupled, CageErrorModeKeep));
  MlirOperation updateSGD =
      insert(&b, "update sgd",
             cageUpdateOpCreate(next(&b), arg[kW], arg[kG], 1, &arg[kB],
                                arg[kLr], arg[kL], none, none, q3, sgdMomentum,
                                CageCouplingCoupled, CageErrorModeZeroClipped));
  MlirOperation updateBF16 =
      insert(&b, "update adamw bf16",
             cageUpdateOpCreate(next(&b), arg[kW], arg[kG], 2, mv16, arg[kLr],
                                arg[kL], arg[kT], arg[kS], q, adamw,
                                CageCouplingDecoupled, CageErrorModeKeep));
  insert(&b, "update sgd bf16",
         cageUpdateOpCreate(next(&b), arg[kW], arg[kG], 1, &arg[kM16], arg[kLr],
                            arg[kL], none, arg[kS], q, sgdMomentum,
                            CageCouplingDecoupled, CageErrorModeKeep));

  MlirValue ws[] = {arg[kW], arg[kW2]};
  MlirValue gs[] = {arg[kG], arg[kG2]};
  MlirValue adamState[] = {arg[kM], arg[kV], arg[kM2], arg[kV2]};
  MlirValue sgdState[] = {arg[kB], arg[kB2]};
  insert(&b, "multi_update adamw quantizer",
         cageMultiUpdateOpCreate(next(&b), 2, ws, gs, 2, adamState, arg[kLr],
                                 arg[kL], arg[kT], q, adamw,
                                 CageCouplingDecoupled, CageErrorModeKeep));
  insert(&b, "multi_update sgd",
         cageMultiUpdateOpCreate(next(&b), 1, ws, gs, 1, sgdState, arg[kLr],
                                 none, none, noAttr, sgd, CageCouplingDecoupled,
                                 CageErrorModeKeep));
  MlirOperation multiSGD =
      insert(&b, "multi_update sgd quantizer",
             cageMultiUpdateOpCreate(
                 next(&b), 2, ws, gs, 1, sgdState, arg[kLr], arg[kL], none, q3,
                 sgdMomentum, CageCouplingCoupled, CageErrorModeZeroClipped));
  insert(&b, "multi_update adamw",
         cageMultiUpdateOpCreate(next(&b), 1, &ws[1], &gs[1], 2, &adamState[2],
                                 arg[kLr], none, arg[kT], noAttr, adamw,
                                 CageCouplingDecoupled, CageErrorModeKeep));
  MlirAttribute grids[] = {q3, noAttr};
  insert(
      &b, "fogzo_direction",
      cageFogzoDirectionOpCreate(next(&b), 2, gs, ws, arg[kT], arg[kTotal],
                                 cageFogzoAttrGet(ctx, 0.999f, 0.0f, 7, 0.0f,
                                                  CageFogzoDirectionUnitNorm),
                                 grids));

  MlirOperation moduleOp = mlirModuleGetOperation(module);
  bool verified = mlirOperationVerify(moduleOp);
  fprintf(stderr, "verified: %d\n", verified);
  printOpWithNames(moduleOp);
  /* Read back through the accessors, the created ops describe exactly as
   * the parsed ones (whose description @testParsedOps checks). */
  int readBack = 0;
  MlirModule parsed = mlirModuleCreateParse(ctx, str(kParsedModule));
  char *fromParsed =
      mlirModuleIsNull(parsed) ? NULL : describeBodyToString(parsed, &readBack);
  char *fromCreated = describeBodyToString(module, &readBack);
  bool same = fromParsed && fromCreated && *fromParsed &&
              !strcmp(fromParsed, fromCreated);
  fprintf(stderr, "read back: same as parsed=%d failures=%d\n", same, readBack);
  if (!same)
    fprintf(stderr, "parsed:\n%s\ncreated:\n%s\n",
            fromParsed ? fromParsed : "(none)",
            fromCreated ? fromCreated : "(none)");
  readBack += same ? 0 : 1;
  free(fromParsed);
  free(fromCreated);
  if (!mlirModuleIsNull(parsed))
    mlirModuleDestroy(parsed);
  printGeneric(updateBF16);
  printGeneric(updateSGD);
  printGeneric(multiSGD);
  printGeneric(quantizeScale);
  mlirModuleDestroy(module);
  return b.failures + readBack + (verified ? 0 : 1);
}

//===----------------------------------------------------------------------===//
// What the create functions do not check, and what they refuse
//===----------------------------------------------------------------------===//

// A create function does not verify: a cage.update with bf16 state and no
// seed is created, and mlirOperationVerify reports it.
// clang-format off
// CHECK-LABEL: @testCreateDoesNotVerify
// CHECK: created: 1
// CHECK-NEXT: diagnostic: 'cage.update' op with bf16 optimizer state expects a seed(%s) operand for the stochastic rounding of the stored state
// CHECK-NEXT: verified: 0 diagnostics=1
// clang-format on
static int testCreateDoesNotVerify(MlirContext ctx) {
  fprintf(stderr, "@testCreateDoesNotVerify\n");
  int diagnostics = 0;
  MlirDiagnosticHandlerID handler = mlirContextAttachDiagnosticHandler(
      ctx, handleDiagnostic, &diagnostics, NULL);
  int64_t shape[] = {4, 8};
  MlirType f32 = mlirF32TypeGet(ctx);
  MlirType tensor =
      mlirRankedTensorTypeGet(2, shape, f32, mlirAttributeGetNull());
  MlirType bf16Tensor = mlirRankedTensorTypeGet(2, shape, mlirBF16TypeGet(ctx),
                                                mlirAttributeGetNull());
  MlirType types[] = {tensor, tensor, bf16Tensor, f32, f32};
  MlirLocation loc = mlirLocationUnknownGet(ctx);
  MlirLocation locs[] = {loc, loc, loc, loc, loc};
  MlirBlock block = mlirBlockCreate(5, types, locs);
  MlirValue a[5];
  for (intptr_t i = 0; i < 5; ++i)
    a[i] = mlirBlockGetArgument(block, i);
  MlirOperation op = cageUpdateOpCreate(
      loc, a[0], a[1], 1, &a[2], a[3], a[4], (MlirValue){NULL},
      (MlirValue){NULL}, cageQuantizerAttrGetDefault(ctx, 4),
      cageSGDAttrGet(ctx, 0.9f, 0.0f, false, 0.0f), CageCouplingDecoupled,
      CageErrorModeKeep);
  fprintf(stderr, "created: %d\n", !mlirOperationIsNull(op));
  if (mlirOperationIsNull(op)) {
    mlirBlockDestroy(block);
    mlirContextDetachDiagnosticHandler(ctx, handler);
    return 1;
  }
  mlirBlockAppendOwnedOperation(block, op);
  bool verified = mlirOperationVerify(op);
  fprintf(stderr, "verified: %d diagnostics=%d\n", verified, diagnostics);
  mlirBlockDestroy(block);
  mlirContextDetachDiagnosticHandler(ctx, handler);
  return !verified && diagnostics == 1 ? 0 : 1;
}

/* Prints `<label>: null=<0|1> diagnostics=<n>` and destroys a non-null op. */
static int expectNull(const char *label, MlirOperation op, int *diagnostics,
                      int expectedDiagnostics) {
  bool isNull = mlirOperationIsNull(op);
  fprintf(stderr, "%s: null=%d diagnostics=%d\n", label, isNull, *diagnostics);
  int failed = !isNull || *diagnostics != expectedDiagnostics;
  if (!isNull)
    mlirOperationDestroy(op);
  *diagnostics = 0;
  return failed;
}

// Inputs that cannot make an op give a null op: silently for null inputs
// (they stand for an earlier failure), with an error for the rest.
// clang-format off
// CHECK-LABEL: @testCreateInvalid
// CHECK-NEXT: null location: null=1 diagnostics=0
// CHECK-NEXT: quantize, null x: null=1 diagnostics=0
// CHECK-NEXT: quantize, null quantizer: null=1 diagnostics=0
// CHECK-NEXT: diagnostic: cannot create 'cage.quantize': expects 'quantizer' to be a #cage.quantizer<...>, got #cage.adamw<>
// CHECK-NEXT: quantize, adamw as quantizer: null=1 diagnostics=1
// CHECK-NEXT: ste, null dy: null=1 diagnostics=0
// CHECK-NEXT: diagnostic: cannot create 'cage.ste': 'estimator' has no value 7
// CHECK-NEXT: ste, estimator 7: null=1 diagnostics=1
// CHECK-NEXT: diagnostic: cannot create 'cage.quant_error': 'error' has no value -1
// CHECK-NEXT: quant_error, error -1: null=1 diagnostics=1
// CHECK-NEXT: lambda_schedule, null total: null=1 diagnostics=0
// CHECK-NEXT: diagnostic: cannot create 'cage.lambda_schedule': 'kind' has no value 2
// CHECK-NEXT: lambda_schedule, kind 2: null=1 diagnostics=1
// CHECK-NEXT: adamw, null step: null=1 diagnostics=0
// CHECK-NEXT: sgd, null lr: null=1 diagnostics=0
// CHECK-NEXT: update, null lambda: null=1 diagnostics=0
// CHECK-NEXT: update, null state tensor: null=1 diagnostics=0
// CHECK-NEXT: diagnostic: cannot create 'cage.update': expects a non-negative number of state tensors, got -1
// CHECK-NEXT: update, numState -1: null=1 diagnostics=1
// CHECK-NEXT: diagnostic: cannot create 'cage.update': expects 2 state tensors, got a null array
// CHECK-NEXT: update, null state array: null=1 diagnostics=1
// CHECK-NEXT: update, null optimizer: null=1 diagnostics=0
// CHECK-NEXT: diagnostic: cannot create 'cage.update': expects 'optimizer' to be #cage.adamw<...> or #cage.sgd<...>, got #cage.quantizer<>
// CHECK-NEXT: update, quantizer as optimizer: null=1 diagnostics=1
// CHECK-NEXT: diagnostic: cannot create 'cage.update': 'coupling' has no value 9
// CHECK-NEXT: update, coupling 9: null=1 diagnostics=1
// CHECK-NEXT: multi_update, null w: null=1 diagnostics=0
// CHECK-NEXT: diagnostic: cannot create 'cage.multi_update': expects a non-negative number of parameters (w), got -1
// CHECK-NEXT: multi_update, numParams -1: null=1 diagnostics=1
// CHECK-NEXT: diagnostic: cannot create 'cage.multi_update': expects a non-negative number of state tensors, got -1
// CHECK-NEXT: multi_update, numStatePerParam -1: null=1 diagnostics=1
// CHECK-NEXT: diagnostic: cannot create 'cage.multi_update': expects 'quantizer' to be a #cage.quantizer<...>, got #cage.sgd<>
// CHECK-NEXT: multi_update, sgd as quantizer: null=1 diagnostics=1
// CHECK-NEXT: diagnostic: cannot create 'cage.fogzo_direction': expects 1 quantizers (null entries for none), got a null array
// CHECK-NEXT: fogzo_direction, null quantizers: null=1 diagnostics=1
// CHECK-NEXT: diagnostic: cannot create 'cage.fogzo_direction': expects 'fogzo' to be a #cage.fogzo<...>, got #cage.adamw<>
// CHECK-NEXT: fogzo_direction, adamw as fogzo: null=1 diagnostics=1
// CHECK-NEXT: diagnostic: cannot create 'cage.fogzo_direction': expects 'quantizer' to be a #cage.quantizer<...>, got #cage.sgd<>
// CHECK-NEXT: fogzo_direction, sgd as quantizer: null=1 diagnostics=1
// CHECK-NEXT: diagnostic: cannot create 'cage.lambda_schedule': the cage dialect is not loaded in the location's context
// CHECK-NEXT: lambda_schedule, no cage dialect: null=1 diagnostics=1
// CHECK-NEXT: isa on a null op: 0
// clang-format on
static int testCreateInvalid(MlirContext ctx) {
  fprintf(stderr, "@testCreateInvalid\n");
  int d = 0;
  MlirDiagnosticHandlerID handler =
      mlirContextAttachDiagnosticHandler(ctx, handleDiagnostic, &d, NULL);
  int64_t shape[] = {4, 8};
  MlirType f32 = mlirF32TypeGet(ctx);
  MlirType i64 = mlirIntegerTypeGet(ctx, 64);
  MlirType tensor =
      mlirRankedTensorTypeGet(2, shape, f32, mlirAttributeGetNull());
  /* w, g, m, v, lr, lambda, t */
  MlirType types[] = {tensor, tensor, tensor, tensor, f32, f32, i64};
  MlirLocation loc = mlirLocationUnknownGet(ctx);
  MlirLocation locs[] = {loc, loc, loc, loc, loc, loc, loc};
  MlirBlock block = mlirBlockCreate(7, types, locs);
  MlirValue w = mlirBlockGetArgument(block, 0);
  MlirValue g = mlirBlockGetArgument(block, 1);
  MlirValue m = mlirBlockGetArgument(block, 2);
  MlirValue v = mlirBlockGetArgument(block, 3);
  MlirValue lr = mlirBlockGetArgument(block, 4);
  MlirValue lambda = mlirBlockGetArgument(block, 5);
  MlirValue t = mlirBlockGetArgument(block, 6);
  MlirValue none = {NULL};
  MlirValue state[] = {m, v};
  MlirValue nullState[] = {m, none};
  MlirAttribute noAttr = {NULL};
  MlirAttribute q = cageQuantizerAttrGetDefault(ctx, 4);
  MlirAttribute adamw = cageAdamWAttrGet(ctx, 0.9f, 0.95f, 1e-8f, 0.1f);
  MlirAttribute sgd = cageSGDAttrGet(ctx, 0.0f, 0.0f, false, 0.0f);
  MlirLocation nullLoc = {NULL};

  int failures = 0;
  failures += expectNull(
      "null location", cageQuantizeOpCreate(nullLoc, w, none, none, q), &d, 0);
  failures += expectNull("quantize, null x",
                         cageQuantizeOpCreate(loc, none, none, none, q), &d, 0);
  failures +=
      expectNull("quantize, null quantizer",
                 cageQuantizeOpCreate(loc, w, none, none, noAttr), &d, 0);
  failures +=
      expectNull("quantize, adamw as quantizer",
                 cageQuantizeOpCreate(loc, w, none, none, adamw), &d, 1);
  failures += expectNull(
      "ste, null dy",
      cageSteOpCreate(loc, none, w, none, q, CageEstimatorClipped), &d, 0);
  failures +=
      expectNull("ste, estimator 7",
                 cageSteOpCreate(loc, g, w, none, q, (CageEstimator)7), &d, 1);
  failures +=
      expectNull("quant_error, error -1",
                 cageQuantErrorOpCreate(loc, w, q, (CageErrorMode)-1), &d, 1);
  failures += expectNull("lambda_schedule, null total",
                         cageLambdaScheduleOpCreate(loc, t, none, 10.0f, 0.8f,
                                                    CageScheduleKindConstant),
                         &d, 0);
  failures += expectNull(
      "lambda_schedule, kind 2",
      cageLambdaScheduleOpCreate(loc, t, t, 10.0f, 0.8f, (CageScheduleKind)2),
      &d, 1);
  failures += expectNull(
      "adamw, null step",
      cageAdamWOpCreate(loc, w, g, m, v, lr, none, 0.9f, 0.95f, 1e-8f, 0.1f),
      &d, 0);
  failures += expectNull(
      "sgd, null lr",
      cageSGDOpCreate(loc, w, g, m, none, 0.0f, 0.0f, false, 0.0f), &d, 0);
  failures += expectNull(
      "update, null lambda",
      cageUpdateOpCreate(loc, w, g, 2, state, lr, none, t, none, q, adamw,
                         CageCouplingDecoupled, CageErrorModeKeep),
      &d, 0);
  failures += expectNull(
      "update, null state tensor",
      cageUpdateOpCreate(loc, w, g, 2, nullState, lr, lambda, t, none, q, adamw,
                         CageCouplingDecoupled, CageErrorModeKeep),
      &d, 0);
  failures += expectNull(
      "update, numState -1",
      cageUpdateOpCreate(loc, w, g, -1, state, lr, lambda, t, none, q, adamw,
                         CageCouplingDecoupled, CageErrorModeKeep),
      &d, 1);
  failures += expectNull(
      "update, null state array",
      cageUpdateOpCreate(loc, w, g, 2, NULL, lr, lambda, t, none, q, adamw,
                         CageCouplingDecoupled, CageErrorModeKeep),
      &d, 1);
  failures += expectNull(
      "update, null optimizer",
      cageUpdateOpCreate(loc, w, g, 2, state, lr, lambda, t, none, q, noAttr,
                         CageCouplingDecoupled, CageErrorModeKeep),
      &d, 0);
  failures += expectNull("update, quantizer as optimizer",
                         cageUpdateOpCreate(loc, w, g, 2, state, lr, lambda, t,
                                            none, q, q, CageCouplingDecoupled,
                                            CageErrorModeKeep),
                         &d, 1);
  failures +=
      expectNull("update, coupling 9",
                 cageUpdateOpCreate(loc, w, g, 2, state, lr, lambda, t, none, q,
                                    adamw, (CageCoupling)9, CageErrorModeKeep),
                 &d, 1);
  MlirValue ws[] = {w, none};
  MlirValue gs[] = {g, g};
  MlirValue states[] = {m, m};
  failures += expectNull(
      "multi_update, null w",
      cageMultiUpdateOpCreate(loc, 2, ws, gs, 1, states, lr, none, none, noAttr,
                              sgd, CageCouplingDecoupled, CageErrorModeKeep),
      &d, 0);
  failures += expectNull("multi_update, numParams -1",
                         cageMultiUpdateOpCreate(
                             loc, -1, ws, gs, 1, states, lr, none, none, noAttr,
                             sgd, CageCouplingDecoupled, CageErrorModeKeep),
                         &d, 1);
  failures += expectNull("multi_update, numStatePerParam -1",
                         cageMultiUpdateOpCreate(
                             loc, 1, ws, gs, -1, states, lr, none, none, noAttr,
                             sgd, CageCouplingDecoupled, CageErrorModeKeep),
                         &d, 1);
  failures += expectNull(
      "multi_update, sgd as quantizer",
      cageMultiUpdateOpCreate(loc, 1, ws, gs, 1, states, lr, lambda, none, sgd,
                              sgd, CageCouplingDecoupled, CageErrorModeKeep),
      &d, 1);
  MlirAttribute fogzo =
      cageFogzoAttrGet(ctx, 0.999f, 0.0f, 0, 0.0f, CageFogzoDirectionUnitNorm);
  failures += expectNull(
      "fogzo_direction, null quantizers",
      cageFogzoDirectionOpCreate(loc, 1, &g, &w, t, t, fogzo, NULL), &d, 1);
  failures += expectNull(
      "fogzo_direction, adamw as fogzo",
      cageFogzoDirectionOpCreate(loc, 1, &g, &w, t, t, adamw, &noAttr), &d, 1);
  failures += expectNull(
      "fogzo_direction, sgd as quantizer",
      cageFogzoDirectionOpCreate(loc, 1, &g, &w, t, t, fogzo, &sgd), &d, 1);

  /* A context in which the cage dialect is not loaded. */
  MlirContext bare = mlirContextCreate();
  MlirDiagnosticHandlerID bareHandler =
      mlirContextAttachDiagnosticHandler(bare, handleDiagnostic, &d, NULL);
  MlirType bareI64 = mlirIntegerTypeGet(bare, 64);
  MlirLocation bareLoc = mlirLocationUnknownGet(bare);
  MlirBlock bareBlock = mlirBlockCreate(1, &bareI64, &bareLoc);
  MlirValue bareT = mlirBlockGetArgument(bareBlock, 0);
  failures +=
      expectNull("lambda_schedule, no cage dialect",
                 cageLambdaScheduleOpCreate(bareLoc, bareT, bareT, 10.0f, 0.8f,
                                            CageScheduleKindLinearRamp),
                 &d, 1);
  mlirBlockDestroy(bareBlock);
  mlirContextDetachDiagnosticHandler(bare, bareHandler);
  mlirContextDestroy(bare);

  MlirOperation nullOp = {NULL};
  int anyIsA = 0;
  for (size_t i = 0; i < sizeof kIsA / sizeof kIsA[0]; ++i)
    anyIsA |= kIsA[i].isA(nullOp);
  fprintf(stderr, "isa on a null op: %d\n", anyIsA);

  mlirBlockDestroy(block);
  mlirContextDetachDiagnosticHandler(ctx, handler);
  return failures + anyIsA;
}

// What the optimizer attribute implies for cage.update and cage.multi_update:
// the state tensors it keeps and whether it takes the step; 0 and false for
// anything else.
// clang-format off
// CHECK-LABEL: @testOptimizerLayout
// CHECK-NEXT: adamw: num_state=2 needs_step=1
// CHECK-NEXT: sgd: num_state=1 needs_step=0
// CHECK-NEXT: quantizer: num_state=0 needs_step=0
// CHECK-NEXT: null: num_state=0 needs_step=0
// clang-format on
static int testOptimizerLayout(MlirContext ctx) {
  fprintf(stderr, "@testOptimizerLayout\n");
  struct {
    const char *name;
    MlirAttribute attr;
    intptr_t numState;
    bool needsStep;
  } cases[] = {
      {"adamw", cageAdamWAttrGet(ctx, 0.9f, 0.95f, 1e-8f, 0.1f), 2, true},
      {"sgd", cageSGDAttrGet(ctx, 0.9f, 0.0f, false, 0.0f), 1, false},
      {"quantizer", cageQuantizerAttrGetDefault(ctx, 4), 0, false},
      {"null", mlirAttributeGetNull(), 0, false},
  };
  int failures = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    intptr_t numState = cageUpdateOpGetNumStateFor(cases[i].attr);
    bool needsStep = cageUpdateOpNeedsStepFor(cases[i].attr);
    fprintf(stderr, "%s: num_state=%ld needs_step=%d\n", cases[i].name,
            (long)numState, needsStep);
    failures +=
        numState != cases[i].numState || needsStep != cases[i].needsStep;
  }
  return failures;
}

// CHECK-LABEL: @main
// CHECK: failures: 0
int main(void) {
  out = stderr;
  MlirContext ctx = mlirContextCreate();
  MlirDialectHandle handles[] = {mlirGetDialectHandle__cage__(),
                                 mlirGetDialectHandle__func__()};
  for (size_t i = 0; i < sizeof handles / sizeof handles[0]; ++i) {
    mlirDialectHandleRegisterDialect(handles[i], ctx);
    mlirDialectHandleLoadDialect(handles[i], ctx);
  }

  int failures = 0;
  failures += testParsedOps(ctx);
  failures += testCreateOps(ctx);
  failures += testCreateDoesNotVerify(ctx);
  failures += testCreateInvalid(ctx);
  failures += testOptimizerLayout(ctx);
  mlirContextDestroy(ctx);
  fprintf(stderr, "@main\nfailures: %d\n", failures);
  return failures ? 1 : 0;
}
