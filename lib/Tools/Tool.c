/*===- Tool.c - Context, diagnostics, input, pipeline ---------------------===*/

#define _POSIX_C_SOURCE 200809L /* fileno, fstat */

#include "Tool.h"

#include "IR/Location.h"
#include "IR/Text.h"

#include "cage-c/Dialect/Cage.h"
#include "cage-c/Passes.h"

#include "mlir-c/AffineMap.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Pass.h"
#include "mlir-c/RegisterEverything.h"

#include <llvm-c/ErrorHandling.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*===----------------------------------------------------------------------===*
 * Diagnostics
 *===----------------------------------------------------------------------===*/

void toolReportError(MlirStringRef message, void *diagnostics) {
  toolError(diagnostics, "%.*s", (int)message.length, message.data);
}

void toolError(ToolDiagnostics *diagnostics, const char *format, ...) {
  va_list args;
  va_start(args, format);
  fprintf(stderr, "%s: error: ", diagnostics->tool);
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
  ++diagnostics->errors;
}

static void printToFile(MlirStringRef s, void *userData) {
  fwrite(s.data, 1, s.length, (FILE *)userData);
}

/* file:line:col of the first file location inside `loc`. */
static bool printLocation(MlirLocation loc) {
  CageFileLineCol where;
  if (!cageLocationFindFile(loc, &where))
    return false;
  /* Text parsed from memory (stdin) has the buffer name "-". */
  MlirStringRef file = where.file;
  if (mlirStringRefEqual(file, cageStr("-")))
    file = cageStr(toolInputName("-"));
  if (where.line > 0)
    fprintf(stderr, "%.*s:%d:%d", (int)file.length, file.data, where.line,
            where.column);
  else /* the implicit module of a file */
    fprintf(stderr, "%.*s", (int)file.length, file.data);
  return true;
}

static void printDiagnostic(ToolDiagnostics *diagnostics, MlirDiagnostic d) {
  MlirDiagnosticSeverity severity = mlirDiagnosticGetSeverity(d);
  const char *kind = severity == MlirDiagnosticError     ? "error"
                     : severity == MlirDiagnosticWarning ? "warning"
                     : severity == MlirDiagnosticNote    ? "note"
                                                         : "remark";
  if (!printLocation(mlirDiagnosticGetLocation(d)))
    fprintf(stderr, "%s",
            diagnostics->file ? diagnostics->file : diagnostics->tool);
  fprintf(stderr, ": %s: ", kind);
  mlirDiagnosticPrint(d, printToFile, stderr);
  fputc('\n', stderr);
  for (intptr_t i = 0, n = mlirDiagnosticGetNumNotes(d); i < n; ++i)
    printDiagnostic(diagnostics, mlirDiagnosticGetNote(d, i));
}

static MlirLogicalResult handleDiagnostic(MlirDiagnostic d, void *userData) {
  ToolDiagnostics *diagnostics = userData;
  if (mlirDiagnosticGetSeverity(d) == MlirDiagnosticError)
    ++diagnostics->errors;
  printDiagnostic(diagnostics, d);
  fflush(stderr);
  return mlirLogicalResultSuccess();
}

/*===----------------------------------------------------------------------===*
 * Context, parsing, pipeline
 *===----------------------------------------------------------------------===*/

/* LLVM reports some errors as fatal (an x86-64 target with a CPU name it
 * does not know has no 64-bit mode): say so like any other error and exit
 * with 1 instead of aborting. */
static const char *fatalTool = "cage";

static void onFatalError(const char *reason) {
  fprintf(stderr, "%s: error: LLVM: %s\n", fatalTool, reason);
  fflush(stderr);
  exit(1);
}

MlirContext toolCreateContext(ToolDiagnostics *diagnostics) {
  fatalTool = diagnostics->tool;
  LLVMInstallFatalErrorHandler(onFatalError);
  /* A crash (an upstream bug: cage's own code reports errors) prints what
   * LLVM and MLIR were doing, "MLIR Parser: custom op parser ...", as
   * cage-opt does, instead of dying silently. */
  LLVMEnablePrettyStackTrace();
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  mlirRegisterAllDialects(registry);
  mlirDialectHandleInsertDialect(mlirGetDialectHandle__cage__(), registry);
  MlirContext ctx = mlirContextCreateWithRegistry(registry, false);
  mlirDialectRegistryDestroy(registry);
  mlirRegisterAllPasses();
  cageRegisterPasses();
  mlirRegisterAllLLVMTranslations(ctx);
  mlirContextAttachDiagnosticHandler(ctx, handleDiagnostic, diagnostics, NULL);
  return ctx;
}

const char *toolInputName(const char *path) {
  return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

/* Reads all of `f` into a null-terminated buffer. */
static bool readAll(FILE *f, char **text, size_t *length) {
  size_t size = 0, capacity = 65536;
  char *buf = malloc(capacity);
  while (buf) {
    size += fread(buf + size, 1, capacity - 1 - size, f);
    if (size < capacity - 1)
      break;
    char *grown = realloc(buf, capacity * 2);
    if (!grown)
      free(buf);
    buf = grown;
    capacity *= 2;
  }
  if (!buf || ferror(f)) {
    free(buf);
    return false;
  }
  buf[size] = '\0';
  *text = buf;
  *length = size;
  return true;
}

/* Adds the training steps of functions with cage.param arguments
 * (cage-autodiff) right after parsing, so that the tools see their
 * signatures (cage-cpu-pipeline runs the pass again, which then changes
 * nothing). */
static bool differentiate(MlirContext ctx, ToolDiagnostics *diagnostics,
                          MlirModule module) {
  MlirPassManager pm =
      mlirPassManagerCreateOnOperation(ctx, cageStr("builtin.module"));
  mlirPassManagerAddOwnedPass(pm, cageCreateAutodiffPass());
  int before = diagnostics->errors;
  MlirLogicalResult result =
      mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module));
  mlirPassManagerDestroy(pm);
  if (mlirLogicalResultIsFailure(result) && diagnostics->errors == before)
    toolError(diagnostics, "cage-autodiff failed");
  return mlirLogicalResultIsSuccess(result);
}

MlirModule toolParseInput(MlirContext ctx, ToolDiagnostics *diagnostics,
                          const char *path, ToolInput *input) {
  memset(input, 0, sizeof *input);
  input->path = path;
  input->name = toolInputName(path);
  int before = diagnostics->errors;
  MlirModule module = {NULL};
  if (strcmp(path, "-") == 0) {
    /* Parsed from the text: MLIR names that buffer "-". */
    if (!readAll(stdin, &input->text, &input->length)) {
      toolError(diagnostics, "cannot read <stdin>: %s", strerror(errno));
      return module;
    }
    module = mlirModuleCreateParse(
        ctx, mlirStringRefCreate(input->text, input->length));
  } else {
    FILE *f = fopen(path, "rb");
    if (!f) {
      toolError(diagnostics, "cannot open '%s': %s", path, strerror(errno));
      return module;
    }
    /* Parsed by name, so that locations carry the path. The text is kept
     * for argument names, from regular files only: a pipe cannot be read
     * twice. */
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
        !readAll(f, &input->text, &input->length))
      input->text = NULL;
    fclose(f);
    module = mlirModuleCreateParseFromFile(ctx, cageStr(path));
  }
  if (mlirModuleIsNull(module) && diagnostics->errors == before)
    toolError(diagnostics, "cannot parse '%s'", input->name);
  if (!mlirModuleIsNull(module) && !differentiate(ctx, diagnostics, module)) {
    mlirModuleDestroy(module);
    module = (MlirModule){NULL};
  }
  return module;
}

void toolInputFree(ToolInput *input) {
  free(input->text);
  input->text = NULL;
}

/* Adds a pipeline with its options to a pass manager (the C API's
 * cage*PipelineAddPasses, whose option structs differ). */
typedef MlirLogicalResult (*AddPipeline)(MlirOpPassManager pm,
                                         const void *options,
                                         MlirStringCallback error,
                                         void *userData);

static MlirLogicalResult addCPUPipeline(MlirOpPassManager pm,
                                        const void *options,
                                        MlirStringCallback error,
                                        void *userData) {
  return cageCPUPipelineAddPasses(pm, options, error, userData);
}

static MlirLogicalResult addCUDAPipeline(MlirOpPassManager pm,
                                         const void *options,
                                         MlirStringCallback error,
                                         void *userData) {
  return cageCUDAPipelineAddPasses(pm, options, error, userData);
}

/* Runs the pipeline `add` builds on `module`; `what` names it when it
 * cannot be built or a pass fails without a diagnostic. */
static bool runPipeline(MlirContext ctx, ToolDiagnostics *diagnostics,
                        MlirModule module, AddPipeline add, const void *options,
                        bool printIRAfterAll, const char *what) {
  MlirPassManager pm =
      mlirPassManagerCreateOnOperation(ctx, cageStr("builtin.module"));
  char buffer[1024];
  CageText error = cageTextOver(buffer, sizeof buffer);
  if (mlirLogicalResultIsFailure(add(mlirPassManagerGetAsOpPassManager(pm),
                                     options, cageTextAppend, &error))) {
    toolError(diagnostics, "cannot build the %s: %s", what, error.data);
    mlirPassManagerDestroy(pm);
    return false;
  }
  if (printIRAfterAll) {
    /* Whole-module dumps need a single thread. */
    mlirContextEnableMultithreading(ctx, false);
    MlirOpPrintingFlags flags = mlirOpPrintingFlagsCreate();
    mlirPassManagerEnableIRPrinting(pm, false, true, true, false, false, flags,
                                    cageStr(""));
    mlirOpPrintingFlagsDestroy(flags);
  }
  int before = diagnostics->errors;
  MlirLogicalResult result =
      mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module));
  mlirPassManagerDestroy(pm);
  if (mlirLogicalResultIsFailure(result)) {
    if (diagnostics->errors == before)
      toolError(diagnostics, "the %s failed", what);
    return false;
  }
  return true;
}

bool toolRunPipeline(MlirContext ctx, ToolDiagnostics *diagnostics,
                     MlirModule module, const CageCPUPipelineOptions *options,
                     bool printIRAfterAll) {
  return runPipeline(ctx, diagnostics, module, addCPUPipeline, options,
                     printIRAfterAll, "CPU pipeline");
}

bool toolRunCUDAPipeline(MlirContext ctx, ToolDiagnostics *diagnostics,
                         MlirModule module, const CageCUDATarget *target,
                         bool printIRAfterAll) {
  return runPipeline(ctx, diagnostics, module, addCUDAPipeline, target,
                     printIRAfterAll, "GPU pipeline");
}
