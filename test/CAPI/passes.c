// RUN: cage-capi-passes-test 2>&1 | FileCheck %s

/*===- passes.c - C API of the cage passes --------------------------------===*\
|*                                                                            *|
|* Registers everything from C (upstream dialects and passes, the cage       *|
|* dialect and passes), runs cage-verify created with cageCreateVerifyPass   *|
|* and from textual pipelines, prints pipelines back, runs the fusion passes *|
|* from their create functions and shows how a bad pipeline is reported.     *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "CAPITest.h"

#include "IR/Text.h"

#include "cage-c/Dialect/Cage.h"
#include "cage-c/Passes.h"

#include "mlir-c/Diagnostics.h"
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"
#include "mlir-c/RegisterEverything.h"
#include "mlir-c/Support.h"

#include <stdio.h>
#include <string.h>

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/* Counts diagnostics by severity and prints each as
 * `diagnostic: <severity>: <location>: <message>`; it consumes them. */
typedef struct DiagnosticCounts {
  int errors;
  int warnings;
} DiagnosticCounts;

static MlirLogicalResult handleDiagnostic(MlirDiagnostic diagnostic,
                                          void *userData) {
  static const char *const severities[] = {"error", "warning", "note",
                                           "remark"};
  MlirDiagnosticSeverity severity = mlirDiagnosticGetSeverity(diagnostic);
  fprintf(stderr, "diagnostic: %s: ", severities[severity]);
  mlirLocationPrint(mlirDiagnosticGetLocation(diagnostic), printToStderr, NULL);
  fprintf(stderr, ": ");
  mlirDiagnosticPrint(diagnostic, printToStderr, NULL);
  fprintf(stderr, "\n");
  DiagnosticCounts *counts = userData;
  if (severity == MlirDiagnosticError)
    ++counts->errors;
  else if (severity == MlirDiagnosticWarning)
    ++counts->warnings;
  return mlirLogicalResultSuccess();
}

/* Parses `text` (one builtin.module) with `name` as the file name of its
 * locations. */
static MlirModule parse(MlirContext ctx, const char *name, const char *text) {
  MlirOperation op = mlirOperationCreateParse(ctx, str(text), str(name));
  if (mlirOperationIsNull(op)) {
    fprintf(stderr, "could not parse %s\n", name);
    return (MlirModule){NULL};
  }
  return mlirModuleFromOperation(op);
}

/* Prints the pipeline of `pm` as `<label>: <pipeline>`. */
static void printPipeline(const char *label, MlirOpPassManager pm) {
  fprintf(stderr, "%s: ", label);
  mlirPrintPassPipeline(pm, printToStderr, NULL);
  fprintf(stderr, "\n");
}

/* Runs `pm` on `module` with the diagnostic handler attached and prints the
 * outcome and the diagnostics it counted. */
static bool runAndReport(MlirContext ctx, MlirPassManager pm, MlirModule module,
                         DiagnosticCounts *counts) {
  *counts = (DiagnosticCounts){0, 0};
  MlirDiagnosticHandlerID handler =
      mlirContextAttachDiagnosticHandler(ctx, handleDiagnostic, counts, NULL);
  MlirLogicalResult result =
      mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module));
  mlirContextDetachDiagnosticHandler(ctx, handler);
  bool succeeded = mlirLogicalResultIsSuccess(result);
  fprintf(stderr, "run: %s, %d error(s), %d warning(s)\n",
          succeeded ? "success" : "failure", counts->errors, counts->warnings);
  return succeeded;
}

//===----------------------------------------------------------------------===//
// Inputs
//===----------------------------------------------------------------------===//

// Four decoupled-or-not updates whose lr and λ are constants (directly or
// through cage.lambda_schedule, whose largest λ_t is its `lambda`):
//   @unstable_adamw   decoupled, lr·λ = 0.5·4 = 2        -> error
//   @unstable_sgd     decoupled, lr·λ_t up to 0.1·10 = 1 -> error (1 is out)
//   @stable           decoupled, lr·λ = 0.01·10 = 0.1    -> fine
//   @coupled          coupled, lr·λ = 2 (not checked)    -> fine
static const char *const kUpdates =
    "module {\n"
    "func.func @unstable_adamw(%w: tensor<4x8xf32>, %g: tensor<4x8xf32>,\n"
    "    %m: tensor<4x8xf32>, %v: tensor<4x8xf32>, %t: i64)\n"
    "    -> tensor<4x8xf32> {\n"
    "  %lr = arith.constant 0.5 : f32\n"
    "  %l = arith.constant 4.0 : f32\n"
    "  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = "
    "#cage.quantizer<bits = 4>, optimizer = #cage.adamw<>, coupling = "
    "decoupled} : tensor<4x8xf32>\n"
    "  return %w1 : tensor<4x8xf32>\n"
    "}\n"
    "func.func @unstable_sgd(%w: tensor<4x8xf32>, %g: tensor<4x8xf32>,\n"
    "    %b: tensor<4x8xf32>, %t: i64, %T: i64) -> tensor<4x8xf32> {\n"
    "  %lr = arith.constant 0.1 : f32\n"
    "  %l = cage.lambda_schedule %t, %T {lambda = 10.0 : f32}\n"
    "  %w1, %b1 = cage.update %w, %g, %b, %lr, %l {quantizer = "
    "#cage.quantizer<bits = 4>, optimizer = #cage.sgd<momentum = 0.9>} : "
    "tensor<4x8xf32>\n"
    "  return %w1 : tensor<4x8xf32>\n"
    "}\n"
    "func.func @stable(%w: tensor<4x8xf32>, %g: tensor<4x8xf32>,\n"
    "    %b: tensor<4x8xf32>, %t: i64, %T: i64) -> tensor<4x8xf32> {\n"
    "  %lr = arith.constant 0.01 : f32\n"
    "  %l = cage.lambda_schedule %t, %T {lambda = 10.0 : f32}\n"
    "  %w1, %b1 = cage.update %w, %g, %b, %lr, %l {quantizer = "
    "#cage.quantizer<bits = 4>, optimizer = #cage.sgd<>} : "
    "tensor<4x8xf32>\n"
    "  return %w1 : tensor<4x8xf32>\n"
    "}\n"
    "func.func @coupled(%w: tensor<4x8xf32>, %g: tensor<4x8xf32>,\n"
    "    %m: tensor<4x8xf32>, %v: tensor<4x8xf32>, %t: i64)\n"
    "    -> tensor<4x8xf32> {\n"
    "  %lr = arith.constant 0.5 : f32\n"
    "  %l = arith.constant 4.0 : f32\n"
    "  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = "
    "#cage.quantizer<bits = 4>, optimizer = #cage.adamw<>, coupling = "
    "coupled} : tensor<4x8xf32>\n"
    "  return %w1 : tensor<4x8xf32>\n"
    "}\n"
    "}\n";

// Only stable updates.
static const char *const kStableUpdate =
    "module {\n"
    "func.func @stable(%w: tensor<4x8xf32>, %g: tensor<4x8xf32>,\n"
    "    %m: tensor<4x8xf32>, %v: tensor<4x8xf32>, %t: i64)\n"
    "    -> tensor<4x8xf32> {\n"
    "  %lr = arith.constant 1.0e-3 : f32\n"
    "  %l = arith.constant 10.0 : f32\n"
    "  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = "
    "#cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : "
    "tensor<4x8xf32>\n"
    "  return %w1 : tensor<4x8xf32>\n"
    "}\n"
    "}\n";

// Two AdamW updates that share lr, λ and t.
static const char *const kTwoUpdates =
    "module {\n"
    "func.func @two(%wa: tensor<4x8xf32>, %ga: tensor<4x8xf32>,\n"
    "    %ma: tensor<4x8xf32>, %va: tensor<4x8xf32>, %wb: tensor<16xf32>,\n"
    "    %gb: tensor<16xf32>, %mb: tensor<16xf32>, %vb: tensor<16xf32>,\n"
    "    %lr: f32, %l: f32, %t: i64) -> (tensor<4x8xf32>, tensor<16xf32>) {\n"
    "  %wa1, %ma1, %va1 = cage.update %wa, %ga, %ma, %va, %lr, %l, %t "
    "{quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : "
    "tensor<4x8xf32>\n"
    "  %wb1, %mb1, %vb1 = cage.update %wb, %gb, %mb, %vb, %lr, %l, %t "
    "{quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : "
    "tensor<16xf32>\n"
    "  return %wa1, %wb1 : tensor<4x8xf32>, tensor<16xf32>\n"
    "}\n"
    "}\n";

//===----------------------------------------------------------------------===//
// Registration
//===----------------------------------------------------------------------===//

// Registering the cage passes twice is harmless; upstream passes and the
// cage pass mix in one textual pipeline.
// clang-format off
// CHECK-LABEL: @testRegistration
// CHECK: cage dialect loaded: 1
// CHECK: parsed: 1
// CHECK: pipeline: builtin.module(canonicalize{{[{].*[}]}},func.func(cage-verify{warn-only=false}))
// clang-format on
static int testRegistration(MlirContext ctx) {
  fprintf(stderr, "@testRegistration\n");
  cageRegisterPasses();
  cageRegisterVerifyPass();
  MlirDialect cage = mlirContextGetOrLoadDialect(ctx, str("cage"));
  fprintf(stderr, "cage dialect loaded: %d\n", !mlirDialectIsNull(cage));

  MlirPassManager pm = mlirPassManagerCreate(ctx);
  char errorData[2048];
  CageText error = cageTextOver(errorData, sizeof errorData);
  MlirLogicalResult parsed = mlirParsePassPipeline(
      mlirPassManagerGetAsOpPassManager(pm),
      str("builtin.module(canonicalize,func.func(cage-verify))"),
      cageTextAppend, &error);
  fprintf(stderr, "parsed: %d%s\n", mlirLogicalResultIsSuccess(parsed),
          error.data);
  printPipeline("pipeline", mlirPassManagerGetAsOpPassManager(pm));
  mlirPassManagerDestroy(pm);
  return mlirDialectIsNull(cage) || mlirLogicalResultIsFailure(parsed);
}

//===----------------------------------------------------------------------===//
// cageCreateVerifyPass
//===----------------------------------------------------------------------===//

// The pass made by cageCreateVerifyPass has its default options (errors, not
// warnings): the run fails, with one error at each unstable update, none at
// the stable or coupled ones.
// clang-format off
// CHECK-LABEL: @testCreateVerifyPassFails
// CHECK: pipeline: builtin.module(func.func(cage-verify{warn-only=false}))
// CHECK-DAG: diagnostic: error: loc("updates.mlir":7:19): decoupled CAGE update is unstable: lr * lambda_t reaches 2 (lr = 0.5, lambda_t up to 4); it must stay below 1
// CHECK-DAG: diagnostic: error: loc("updates.mlir":14:14): decoupled CAGE update is unstable: lr * lambda_t reaches 1 (lr = 0.1, lambda_t up to 10); it must stay below 1
// CHECK-NOT: diagnostic:
// CHECK: run: failure, 2 error(s), 0 warning(s)
// clang-format on
static int testCreateVerifyPassFails(MlirContext ctx) {
  fprintf(stderr, "@testCreateVerifyPassFails\n");
  MlirModule module = parse(ctx, "updates.mlir", kUpdates);
  if (mlirModuleIsNull(module))
    return 1;
  MlirPassManager pm =
      mlirPassManagerCreateOnOperation(ctx, str("builtin.module"));
  MlirOpPassManager funcPm =
      mlirPassManagerGetNestedUnder(pm, str("func.func"));
  mlirOpPassManagerAddOwnedPass(funcPm, cageCreateVerifyPass());
  printPipeline("pipeline", mlirPassManagerGetAsOpPassManager(pm));
  DiagnosticCounts counts;
  bool succeeded = runAndReport(ctx, pm, module, &counts);
  mlirPassManagerDestroy(pm);
  mlirModuleDestroy(module);
  return !succeeded && counts.errors == 2 && counts.warnings == 0 ? 0 : 1;
}

// lr·λ = 1e-3·10 stays below 1: the pass succeeds and says nothing.
// CHECK-LABEL: @testCreateVerifyPassSucceeds
// CHECK-NOT: diagnostic:
// CHECK: run: success, 0 error(s), 0 warning(s)
static int testCreateVerifyPassSucceeds(MlirContext ctx) {
  fprintf(stderr, "@testCreateVerifyPassSucceeds\n");
  MlirModule module = parse(ctx, "stable.mlir", kStableUpdate);
  if (mlirModuleIsNull(module))
    return 1;
  MlirPassManager pm =
      mlirPassManagerCreateOnOperation(ctx, str("builtin.module"));
  mlirOpPassManagerAddOwnedPass(
      mlirPassManagerGetNestedUnder(pm, str("func.func")),
      cageCreateVerifyPass());
  DiagnosticCounts counts;
  bool succeeded = runAndReport(ctx, pm, module, &counts);
  mlirPassManagerDestroy(pm);
  mlirModuleDestroy(module);
  return succeeded && counts.errors == 0 && counts.warnings == 0 ? 0 : 1;
}

//===----------------------------------------------------------------------===//
// Textual pipelines
//===----------------------------------------------------------------------===//

// A full pipeline string through mlirParsePassPipeline: with warn-only the
// same findings are warnings and the run succeeds. The pipeline prints back
// with its option.
// clang-format off
// CHECK-LABEL: @testParsePassPipelineWarnOnly
// CHECK: parsed: 1
// CHECK-NEXT: pipeline: builtin.module(func.func(cage-verify{warn-only=true}))
// CHECK-DAG: diagnostic: warning: loc("updates.mlir":7:19): decoupled CAGE update is unstable: lr * lambda_t reaches 2 (lr = 0.5, lambda_t up to 4); it must stay below 1
// CHECK-DAG: diagnostic: warning: loc("updates.mlir":14:14): decoupled CAGE update is unstable: lr * lambda_t reaches 1 (lr = 0.1, lambda_t up to 10); it must stay below 1
// CHECK-NOT: diagnostic:
// CHECK: run: success, 0 error(s), 2 warning(s)
// clang-format on
static int testParsePassPipelineWarnOnly(MlirContext ctx) {
  fprintf(stderr, "@testParsePassPipelineWarnOnly\n");
  MlirModule module = parse(ctx, "updates.mlir", kUpdates);
  if (mlirModuleIsNull(module))
    return 1;
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  char errorData[2048];
  CageText error = cageTextOver(errorData, sizeof errorData);
  MlirLogicalResult parsed = mlirParsePassPipeline(
      mlirPassManagerGetAsOpPassManager(pm),
      str("builtin.module(func.func(cage-verify{warn-only=true}))"),
      cageTextAppend, &error);
  fprintf(stderr, "parsed: %d%s\n", mlirLogicalResultIsSuccess(parsed),
          error.data);
  printPipeline("pipeline", mlirPassManagerGetAsOpPassManager(pm));
  DiagnosticCounts counts;
  bool succeeded = runAndReport(ctx, pm, module, &counts);
  mlirPassManagerDestroy(pm);
  mlirModuleDestroy(module);
  return mlirLogicalResultIsSuccess(parsed) && succeeded &&
                 counts.errors == 0 && counts.warnings == 2
             ? 0
             : 1;
}

// Pipeline elements added to a nested pass manager with
// mlirOpPassManagerAddPipeline, the option written as a bare flag (true).
// The printed pipeline parses back to itself.
// clang-format off
// CHECK-LABEL: @testAddPipelineWarnOnly
// CHECK: added: 1
// CHECK-NEXT: pipeline: builtin.module(func.func(cage-verify{warn-only=true}))
// CHECK-DAG: diagnostic: warning: loc("updates.mlir":7:19): decoupled CAGE update is unstable
// CHECK-DAG: diagnostic: warning: loc("updates.mlir":14:14): decoupled CAGE update is unstable
// CHECK-NOT: diagnostic:
// CHECK: run: success, 0 error(s), 2 warning(s)
// CHECK-NEXT: reparsed: builtin.module(func.func(cage-verify{warn-only=true}))
// CHECK-NEXT: round-trips: 1
// clang-format on
static int testAddPipelineWarnOnly(MlirContext ctx) {
  fprintf(stderr, "@testAddPipelineWarnOnly\n");
  MlirModule module = parse(ctx, "updates.mlir", kUpdates);
  if (mlirModuleIsNull(module))
    return 1;
  MlirPassManager pm =
      mlirPassManagerCreateOnOperation(ctx, str("builtin.module"));
  MlirOpPassManager funcPm =
      mlirPassManagerGetNestedUnder(pm, str("func.func"));
  char errorData[2048];
  CageText error = cageTextOver(errorData, sizeof errorData);
  MlirLogicalResult added = mlirOpPassManagerAddPipeline(
      funcPm, str("cage-verify{warn-only}"), cageTextAppend, &error);
  fprintf(stderr, "added: %d%s\n", mlirLogicalResultIsSuccess(added),
          error.data);
  printPipeline("pipeline", mlirPassManagerGetAsOpPassManager(pm));
  DiagnosticCounts counts;
  bool succeeded = runAndReport(ctx, pm, module, &counts);

  char printedData[2048], reprintedData[2048];
  CageText printed = cageTextOver(printedData, sizeof printedData);
  CageText reprinted = cageTextOver(reprintedData, sizeof reprintedData);
  mlirPrintPassPipeline(mlirPassManagerGetAsOpPassManager(pm), cageTextAppend,
                        &printed);
  MlirPassManager copy = mlirPassManagerCreate(ctx);
  MlirLogicalResult reparsed =
      mlirParsePassPipeline(mlirPassManagerGetAsOpPassManager(copy),
                            str(printed.data), cageTextAppend, &error);
  mlirPrintPassPipeline(mlirPassManagerGetAsOpPassManager(copy), cageTextAppend,
                        &reprinted);
  int roundTrips = mlirLogicalResultIsSuccess(reparsed) &&
                   strcmp(printed.data, reprinted.data) == 0;
  fprintf(stderr, "reparsed: %s%s\nround-trips: %d\n", reprinted.data,
          error.data, roundTrips);
  mlirPassManagerDestroy(copy);
  mlirPassManagerDestroy(pm);
  mlirModuleDestroy(module);
  return mlirLogicalResultIsSuccess(added) && succeeded && counts.errors == 0 &&
                 counts.warnings == 2 && roundTrips
             ? 0
             : 1;
}

//===----------------------------------------------------------------------===//
// The fusion passes
//===----------------------------------------------------------------------===//

/* The number of ops named `name` in `module`. */
typedef struct OpCount {
  const char *name;
  int count;
} OpCount;

static MlirWalkResult countOp(MlirOperation op, void *userData) {
  OpCount *c = userData;
  if (mlirStringRefEqual(mlirIdentifierStr(mlirOperationGetName(op)),
                         str(c->name)))
    ++c->count;
  return MlirWalkResultAdvance;
}

static int countOps(MlirModule module, const char *name) {
  OpCount c = {name, 0};
  mlirOperationWalk(mlirModuleGetOperation(module), countOp, &c,
                    MlirWalkPreOrder);
  return c.count;
}

/* Runs `pass` (owned by the pass manager) on every func.func of `module`. */
static bool runFuncPass(MlirContext ctx, MlirModule module, MlirPass pass) {
  MlirPassManager pm =
      mlirPassManagerCreateOnOperation(ctx, str("builtin.module"));
  mlirOpPassManagerAddOwnedPass(
      mlirPassManagerGetNestedUnder(pm, str("func.func")), pass);
  DiagnosticCounts counts;
  bool succeeded = runAndReport(ctx, pm, module, &counts);
  mlirPassManagerDestroy(pm);
  return succeeded && counts.errors == 0;
}

// Two updates sharing their scalars: cage-expand-update writes each in its
// unfused spelling, cage-fuse-correction gives the updates back, and
// cage-fuse-multi-tensor makes one cage.multi_update of them.
// CHECK-LABEL: @testFusionPasses
// CHECK: run: success, 0 error(s), 0 warning(s)
// CHECK-NEXT: expanded: 0 cage.update, 2 cage.quant_error, 2 cage.adamw
// CHECK: run: success, 0 error(s), 0 warning(s)
// CHECK-NEXT: fused: 2 cage.update, 0 cage.quant_error, 0 cage.adamw
// CHECK: run: success, 0 error(s), 0 warning(s)
// CHECK-NEXT: multi-tensor: 0 cage.update, 1 cage.multi_update
static int testFusionPasses(MlirContext ctx) {
  fprintf(stderr, "@testFusionPasses\n");
  MlirModule module = parse(ctx, "two.mlir", kTwoUpdates);
  if (mlirModuleIsNull(module))
    return 1;
  bool ok = runFuncPass(ctx, module, cageCreateExpandUpdatePass());
  fprintf(stderr,
          "expanded: %d cage.update, %d cage.quant_error, %d "
          "cage.adamw\n",
          countOps(module, "cage.update"), countOps(module, "cage.quant_error"),
          countOps(module, "cage.adamw"));
  ok = ok && countOps(module, "cage.quant_error") == 2;
  ok = runFuncPass(ctx, module, cageCreateFuseCorrectionPass()) && ok;
  fprintf(stderr,
          "fused: %d cage.update, %d cage.quant_error, %d "
          "cage.adamw\n",
          countOps(module, "cage.update"), countOps(module, "cage.quant_error"),
          countOps(module, "cage.adamw"));
  ok = ok && countOps(module, "cage.update") == 2;
  ok = runFuncPass(ctx, module, cageCreateFuseMultiTensorPass()) && ok;
  fprintf(stderr, "multi-tensor: %d cage.update, %d cage.multi_update\n",
          countOps(module, "cage.update"),
          countOps(module, "cage.multi_update"));
  ok = ok && countOps(module, "cage.multi_update") == 1;
  mlirModuleDestroy(module);
  return ok ? 0 : 1;
}

//===----------------------------------------------------------------------===//
// Bad pipelines
//===----------------------------------------------------------------------===//

/* Parses `pipeline` into a fresh pass manager and prints the outcome and the
 * message that the error callback received. Returns 0 when it failed with a
 * message, as expected. */
static int expectPipelineError(MlirContext ctx, const char *pipeline) {
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  char errorData[2048];
  CageText error = cageTextOver(errorData, sizeof errorData);
  DiagnosticCounts counts = {0, 0};
  MlirDiagnosticHandlerID handler =
      mlirContextAttachDiagnosticHandler(ctx, handleDiagnostic, &counts, NULL);
  MlirLogicalResult parsed =
      mlirParsePassPipeline(mlirPassManagerGetAsOpPassManager(pm),
                            str(pipeline), cageTextAppend, &error);
  mlirContextDetachDiagnosticHandler(ctx, handler);
  fprintf(stderr, "%s: %s\n  message: %s\n", pipeline,
          mlirLogicalResultIsSuccess(parsed) ? "parsed" : "failed", error.data);
  mlirPassManagerDestroy(pm);
  return mlirLogicalResultIsFailure(parsed) && error.length > 0 ? 0 : 1;
}

// An unknown option, a bad option value and an unknown pass fail to parse.
// The message comes through the callback, not as a diagnostic, except the
// complaint about a bad value, which llvm::cl writes to stderr itself (so it
// shows before the line that this test prints).
// clang-format off
// CHECK-LABEL: @testBadPipelines
// CHECK: builtin.module(func.func(cage-verify{bogus=1})): failed
// CHECK-NEXT: message: <Pass-Options-Parser>: no such option bogus
// CHECK: failed to add `cage-verify` with options `bogus=1`
// CHECK: 'maybe' is invalid value for boolean argument
// CHECK-NEXT: builtin.module(func.func(cage-verify{warn-only=maybe})): failed
// CHECK: failed to add `cage-verify` with options `warn-only=maybe`
// CHECK: builtin.module(func.func(cage-verify-nope)): failed
// CHECK-NEXT: message: MLIR Textual PassPipeline Parser:1:11: error: 'cage-verify-nope' does not refer to a registered pass or pass pipeline
// CHECK-NOT: diagnostic:
// CHECK-LABEL: @main
// clang-format on
static int testBadPipelines(MlirContext ctx) {
  fprintf(stderr, "@testBadPipelines\n");
  return expectPipelineError(
             ctx, "builtin.module(func.func(cage-verify{bogus=1}))") +
         expectPipelineError(
             ctx, "builtin.module(func.func(cage-verify{warn-only=maybe}))") +
         expectPipelineError(ctx,
                             "builtin.module(func.func(cage-verify-nope))");
}

// CHECK: failures: 0
int main(void) {
  // Everything upstream, plus the cage dialect through its handle.
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  mlirRegisterAllDialects(registry);
  mlirDialectHandleInsertDialect(mlirGetDialectHandle__cage__(), registry);
  MlirContext ctx = mlirContextCreate();
  mlirContextAppendDialectRegistry(ctx, registry);
  mlirDialectRegistryDestroy(registry);
  mlirContextLoadAllAvailableDialects(ctx);
  // Every upstream pass, and the cage passes (by name, for textual
  // pipelines).
  mlirRegisterAllPasses();
  cageRegisterPasses();

  int failures = 0;
  failures += testRegistration(ctx);
  failures += testCreateVerifyPassFails(ctx);
  failures += testCreateVerifyPassSucceeds(ctx);
  failures += testParsePassPipelineWarnOnly(ctx);
  failures += testAddPipelineWarnOnly(ctx);
  failures += testFusionPasses(ctx);
  failures += testBadPipelines(ctx);
  mlirContextDestroy(ctx);
  fprintf(stderr, "@main\nfailures: %d\n", failures);
  return failures ? 1 : 0;
}
