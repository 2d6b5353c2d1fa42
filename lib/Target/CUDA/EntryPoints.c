/*===- EntryPoints.c - cage-gpu-entry-points ------------------------------===*\
|*                                                                            *|
|* The host code of cage-gpu-pipeline calls MLIR's GPU runtime ABI, which     *|
|* has no statuses and makes streams of its own. This pass gives each public *|
|* function F, through its C interface wrapper _mlir_ciface_F, the entry     *|
|* point programs call (docs/GPU.md):                                        *|
|*                                                                            *|
|*   i32 __cage_cuda_F(ptr stream, [ptr result,] <_mlir_ciface_F's params>)  *|
|*     cageCudaCallBegin(stream)          // the frame: the caller's stream  *|
|*     [*result =] _mlir_ciface_F(...)    // a scalar result through result *|
|*     return cageCudaCallEnd(cage_last_error())                            *|
|*                                                                            *|
|* The runtime keeps the first failure of the frame and skips the rest of    *|
|* its device work; the code's own run-time checks (cage-cpu-runtime-checks) *|
|* report through cage_last_error, which the frame's end turns into the     *|
|* status. cage-compile names the entry point P + F.                         *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Passes.h"

#include "IR/Ops.h"
#include "IR/Text.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/LLVM.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WRAPPER_PREFIX "_mlir_ciface_"
#define ENTRY_PREFIX "__cage_cuda_"
#define ERROR_ACCESSOR "cage_last_error"

static MlirStringRef symbolName(MlirOperation op) {
  MlirAttribute name = cageOpAttribute(op, "sym_name");
  return mlirAttributeIsNull(name) ? (MlirStringRef){NULL, 0}
                                   : mlirStringAttrGetValue(name);
}

static bool isWrapper(MlirOperation op) {
  MlirStringRef name = symbolName(op);
  size_t n = sizeof WRAPPER_PREFIX - 1;
  return cageOpIs(op, "llvm.func") && name.length > n &&
         strncmp(name.data, WRAPPER_PREFIX, n) == 0 &&
         !mlirBlockIsNull(
             mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0)));
}

static bool hasSymbol(MlirOperation module, const char *name) {
  MlirSymbolTable symbols = mlirSymbolTableCreate(module);
  bool found =
      !mlirOperationIsNull(mlirSymbolTableLookup(symbols, cageStr(name)));
  mlirSymbolTableDestroy(symbols);
  return found;
}

/* "(inputs) -> result" of an LLVM function type; a void result is
 * `noResult`, or nothing when that is null. */
static void writeSignature(MlirType type, CageText *t, const char *noResult) {
  cageTextAppend(cageStr("("), t);
  for (intptr_t i = 0; i < mlirLLVMFunctionTypeGetNumInputs(type); ++i) {
    if (i)
      cageTextAppend(cageStr(", "), t);
    mlirTypePrint(mlirLLVMFunctionTypeGetInput(type, i), cageTextAppend, t);
  }
  cageTextAppend(cageStr(")"), t);
  MlirType returned = mlirLLVMFunctionTypeGetReturnType(type);
  if (!mlirTypeEqual(returned, mlirLLVMVoidTypeGet(mlirTypeGetContext(type)))) {
    cageTextAppend(cageStr(" -> "), t);
    mlirTypePrint(returned, cageTextAppend, t);
  } else if (noResult) {
    cageTextAppend(cageStr(" -> "), t);
    cageTextAppend(cageStr(noResult), t);
  }
}

/* The entry point of the wrapper `op` (F's) as LLVM-dialect text in `t`,
 * with the declarations it needs that the module lacks. */
static void writeEntry(MlirOperation op, MlirOperation module, CageText *t) {
  MlirStringRef wrapper = symbolName(op);
  MlirType type = mlirTypeAttrGetValue(cageOpAttribute(op, "function_type"));
  MlirType returned = mlirLLVMFunctionTypeGetReturnType(type);
  bool scalarResult = !mlirTypeEqual(
      returned, mlirLLVMVoidTypeGet(mlirOperationGetContext(op)));
  intptr_t n = mlirLLVMFunctionTypeGetNumInputs(type);
  char line[320];
  snprintf(line, sizeof line,
           "llvm.func @" ENTRY_PREFIX "%.*s(%%stream: !llvm.ptr%s",
           (int)(wrapper.length - (sizeof WRAPPER_PREFIX - 1)),
           wrapper.data + sizeof WRAPPER_PREFIX - 1,
           scalarResult ? ", %result: !llvm.ptr" : "");
  cageTextAppend(cageStr(line), t);
  for (intptr_t i = 0; i < n; ++i) {
    snprintf(line, sizeof line, ", %%a%ld: ", (long)i);
    cageTextAppend(cageStr(line), t);
    mlirTypePrint(mlirLLVMFunctionTypeGetInput(type, i), cageTextAppend, t);
  }
  cageTextAppend(cageStr(") -> i32 {\n"
                         "  llvm.call @cageCudaCallBegin(%stream) : "
                         "(!llvm.ptr) -> ()\n  "),
                 t);
  if (scalarResult)
    cageTextAppend(cageStr("%r = "), t);
  snprintf(line, sizeof line, "llvm.call @%.*s(", (int)wrapper.length,
           wrapper.data);
  cageTextAppend(cageStr(line), t);
  for (intptr_t i = 0; i < n; ++i) {
    snprintf(line, sizeof line, "%s%%a%ld", i ? ", " : "", (long)i);
    cageTextAppend(cageStr(line), t);
  }
  cageTextAppend(cageStr(") : "), t);
  writeSignature(type, t, "()");
  cageTextAppend(cageStr("\n"), t);
  if (scalarResult) {
    cageTextAppend(cageStr("  llvm.store %r, %result : "), t);
    mlirTypePrint(returned, cageTextAppend, t);
    cageTextAppend(cageStr(", !llvm.ptr\n"), t);
  }
  cageTextAppend(cageStr(hasSymbol(module, ERROR_ACCESSOR)
                             ? "  %m = llvm.call @" ERROR_ACCESSOR
                               "() : () -> !llvm.ptr\n"
                             : "  %m = llvm.mlir.zero : !llvm.ptr\n"),
                 t);
  cageTextAppend(cageStr("  %s = llvm.call @cageCudaCallEnd(%m) : "
                         "(!llvm.ptr) -> i32\n"
                         "  llvm.return %s : i32\n}\n"),
                 t);
  /* The wrapper's declaration, for the text to verify (not moved). */
  snprintf(line, sizeof line, "llvm.func @%.*s", (int)wrapper.length,
           wrapper.data);
  cageTextAppend(cageStr(line), t);
  writeSignature(type, t, NULL);
  cageTextAppend(cageStr("\n"), t);
}

static void run(MlirOperation module, const CagePassOptionValue *options,
                CagePassHandle pass) {
  (void)options;
  MlirContext ctx = mlirOperationGetContext(module);
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  /* One text for all: the entry points and the runtime's declarations. */
  size_t size = 1 << 16;
  char *buffer = malloc(size);
  if (!buffer) {
    mlirEmitError(mlirOperationGetLocation(module),
                  "cage-gpu-entry-points: out of memory");
    cagePassSignalFailure(pass);
    return;
  }
  CageText text = cageTextOver(buffer, size);
  cageTextAppend(cageStr("module {\n"), &text);
  int count = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(body);
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op)) {
    if (!isWrapper(op))
      continue;
    MlirStringRef wrapper = symbolName(op);
    char entry[512];
    snprintf(entry, sizeof entry, ENTRY_PREFIX "%.*s",
             (int)(wrapper.length - (sizeof WRAPPER_PREFIX - 1)),
             wrapper.data + sizeof WRAPPER_PREFIX - 1);
    if (hasSymbol(module, entry)) {
      char message[640];
      snprintf(message, sizeof message,
               "cage-gpu-entry-points: the module already has a symbol "
               "named '%s'",
               entry);
      mlirEmitError(mlirOperationGetLocation(op), message);
      cagePassSignalFailure(pass);
      free(buffer);
      return;
    }
    writeEntry(op, module, &text);
    ++count;
  }
  if (count == 0) {
    free(buffer);
    return;
  }
  cageTextAppend(cageStr("llvm.func @cageCudaCallBegin(!llvm.ptr)\n"
                         "llvm.func @cageCudaCallEnd(!llvm.ptr) -> i32\n"),
                 &text);
  if (hasSymbol(module, ERROR_ACCESSOR)) /* declared for the text only */
    cageTextAppend(cageStr("llvm.func @" ERROR_ACCESSOR "() -> !llvm.ptr\n"),
                   &text);
  cageTextAppend(cageStr("}\n"), &text);
  MlirModule entries =
      text.length + 1 < text.size
          ? mlirModuleCreateParse(ctx,
                                  mlirStringRefCreate(text.data, text.length))
          : (MlirModule){NULL};
  free(buffer);
  if (mlirModuleIsNull(entries)) {
    mlirEmitError(mlirOperationGetLocation(module),
                  "cage-gpu-entry-points: the entry points do not parse "
                  "(a signature too long for the pass's text?)");
    cagePassSignalFailure(pass);
    return;
  }
  cageModuleAddNewSymbols(module, entries);
}

static MlirDialectHandle (*const dependentDialects[])(void) = {
    mlirGetDialectHandle__llvm__};

const CagePassDefinition cageGPUEntryPointsPass = {
    .argument = "cage-gpu-entry-points",
    .name = "CageGPUEntryPoints",
    .summary = "Give each public function a GPU entry point: the caller's "
               "stream, an error status (__cage_cuda_F over _mlir_ciface_F)",
    .anchorOp = "builtin.module",
    .options = NULL,
    .numOptions = 0,
    .dependentDialects = dependentDialects,
    .numDependentDialects =
        sizeof dependentDialects / sizeof dependentDialects[0],
    .run = run,
};
