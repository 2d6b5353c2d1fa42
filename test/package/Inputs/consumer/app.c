/*===- app.c - A program outside cage that uses the installed C API -------===*\
|*                                                                            *|
|* Built against an installed cage only (find_package(Cage) or pkg-config): *|
|* creates a context, loads the cage dialect, parses a module with a cage    *|
|* op, runs cage-verify (created from C) and cage-lower-to-linalg (from a    *|
|* textual pipeline), and prints what it gets.                               *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "cage-c/Dialect/Cage.h"
#include "cage-c/Passes.h"
#include "cage-c/Version.h"

#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"
#include "mlir-c/RegisterEverything.h"

#include <stdio.h>

static const char *const source =
    "func.func @step(%w: tensor<4x8xf32>) -> tensor<4x8xf32> {\n"
    "  %q = cage.quantize %w {quantizer = #cage.quantizer<bits = 4>}"
    " : tensor<4x8xf32>\n"
    "  return %q : tensor<4x8xf32>\n"
    "}\n";

static MlirStringRef str(const char *s) {
  return mlirStringRefCreateFromCString(s);
}

static void print(MlirStringRef text, void *userData) {
  fwrite(text.data, 1, text.length, (FILE *)userData);
}

int main(void) {
  int version = cageGetAPIVersion();
  printf("cage C API %d.%d (headers %d.%d)\n", version >> 16, version & 0xffff,
         CAGE_C_API_VERSION_MAJOR, CAGE_C_API_VERSION_MINOR);

  MlirContext ctx = mlirContextCreate();
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  mlirRegisterAllDialects(registry);
  mlirDialectHandleInsertDialect(mlirGetDialectHandle__cage__(), registry);
  mlirContextAppendDialectRegistry(ctx, registry);
  mlirDialectRegistryDestroy(registry);
  MlirDialect cage =
      mlirDialectHandleLoadDialect(mlirGetDialectHandle__cage__(), ctx);
  MlirStringRef ns = mlirDialectGetNamespace(cage);
  printf("loaded dialect: %.*s\n", (int)ns.length, ns.data);

  MlirModule module = mlirModuleCreateParse(ctx, str(source));
  if (mlirModuleIsNull(module)) {
    fprintf(stderr, "parse failed\n");
    return 1;
  }
  mlirOperationPrint(mlirModuleGetOperation(module), print, stdout);
  printf("\n");

  /* cage-verify from its create function, then cage-lower-to-linalg from a
   * textual pipeline (after cageRegisterPasses). */
  cageRegisterPasses();
  MlirPassManager pm = mlirPassManagerCreateOnOperation(ctx, str("builtin.module"));
  MlirOpPassManager fpm = mlirPassManagerGetNestedUnder(pm, str("func.func"));
  mlirOpPassManagerAddOwnedPass(fpm, cageCreateVerifyPass());
  MlirLogicalResult parsed = mlirOpPassManagerAddPipeline(
      fpm, str("cage-lower-to-linalg"), print, stderr);
  if (mlirLogicalResultIsFailure(parsed)) {
    fprintf(stderr, "pipeline did not parse\n");
    return 1;
  }
  printf("pipeline: ");
  mlirPrintPassPipeline(mlirPassManagerGetAsOpPassManager(pm), print, stdout);
  printf("\n");
  if (mlirLogicalResultIsFailure(
          mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module)))) {
    fprintf(stderr, "passes failed\n");
    return 1;
  }
  mlirOperationPrint(mlirModuleGetOperation(module), print, stdout);
  printf("\n");

  mlirPassManagerDestroy(pm);
  mlirModuleDestroy(module);
  mlirContextDestroy(ctx);
  printf("done\n");
  return 0;
}
