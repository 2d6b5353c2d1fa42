/*===- Tool.c - What cage-run and cage-compile share ----------------------===*/

#include "Tool.h"

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

static MlirStringRef str(const char *s) {
  return mlirStringRefCreateFromCString(s);
}

/*===----------------------------------------------------------------------===*
 * Diagnostics
 *===----------------------------------------------------------------------===*/

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
  if (mlirLocationIsAFileLineColRange(loc)) {
    MlirStringRef file =
        mlirIdentifierStr(mlirLocationFileLineColRangeGetFilename(loc));
    int line = mlirLocationFileLineColRangeGetStartLine(loc);
    int column = mlirLocationFileLineColRangeGetStartColumn(loc);
    if (line > 0)
      fprintf(stderr, "%.*s:%d:%d", (int)file.length, file.data, line, column);
    else /* the implicit module of a file */
      fprintf(stderr, "%.*s", (int)file.length, file.data);
    return true;
  }
  if (mlirLocationIsAName(loc))
    return printLocation(mlirLocationNameGetChildLoc(loc));
  if (mlirLocationIsACallSite(loc))
    return printLocation(mlirLocationCallSiteGetCaller(loc));
  if (mlirLocationIsAFused(loc)) {
    unsigned n = mlirLocationFusedGetNumLocations(loc);
    if (n == 0 || n > 64)
      return false;
    MlirLocation locations[64];
    mlirLocationFusedGetLocations(loc, locations);
    for (unsigned i = 0; i < n; ++i)
      if (printLocation(locations[i]))
        return true;
  }
  return false;
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

MlirModule toolParseFile(MlirContext ctx, ToolDiagnostics *diagnostics,
                         const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    toolError(diagnostics, "cannot open '%s': %s", path, strerror(errno));
    return (MlirModule){NULL};
  }
  fclose(f);
  int before = diagnostics->errors;
  MlirModule module = mlirModuleCreateParseFromFile(ctx, str(path));
  if (mlirModuleIsNull(module) && diagnostics->errors == before)
    toolError(diagnostics, "cannot parse '%s'", path);
  return module;
}

typedef struct PipelineError {
  char text[1024];
  size_t length;
} PipelineError;

static void appendError(MlirStringRef s, void *userData) {
  PipelineError *e = userData;
  size_t room = sizeof e->text - 1 - e->length;
  size_t n = s.length < room ? s.length : room;
  memcpy(e->text + e->length, s.data, n);
  e->length += n;
  e->text[e->length] = '\0';
}

bool toolRunPipeline(MlirContext ctx, ToolDiagnostics *diagnostics,
                     MlirModule module, const CageCPUPipelineOptions *options,
                     bool printIRAfterAll) {
  MlirPassManager pm =
      mlirPassManagerCreateOnOperation(ctx, str("builtin.module"));
  PipelineError error = {.length = 0};
  error.text[0] = '\0';
  if (mlirLogicalResultIsFailure(
          cageCPUPipelineAddPasses(mlirPassManagerGetAsOpPassManager(pm),
                                   options, appendError, &error))) {
    toolError(diagnostics, "cannot build the CPU pipeline: %s", error.text);
    mlirPassManagerDestroy(pm);
    return false;
  }
  if (printIRAfterAll) {
    /* Whole-module dumps need a single thread. */
    mlirContextEnableMultithreading(ctx, false);
    MlirOpPrintingFlags flags = mlirOpPrintingFlagsCreate();
    mlirPassManagerEnableIRPrinting(pm, false, true, true, false, false, flags,
                                    str(""));
    mlirOpPrintingFlagsDestroy(flags);
  }
  int before = diagnostics->errors;
  MlirLogicalResult result =
      mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module));
  mlirPassManagerDestroy(pm);
  if (mlirLogicalResultIsFailure(result)) {
    if (diagnostics->errors == before)
      toolError(diagnostics, "the CPU pipeline failed");
    return false;
  }
  return true;
}

/*===----------------------------------------------------------------------===*
 * Command line
 *===----------------------------------------------------------------------===*/

bool toolFlagValue(int argc, char **argv, int *i, const char *name,
                   const char **value) {
  size_t n = strlen(name);
  const char *arg = argv[*i];
  if (strncmp(arg, name, n) != 0)
    return false;
  if (arg[n] == '=') {
    *value = arg + n + 1;
    return true;
  }
  if (arg[n] != '\0')
    return false;
  if (*i + 1 >= argc) {
    *value = NULL;
    return true;
  }
  *value = argv[++*i];
  return true;
}

bool toolPipelineFlag(const char *arg, CageCPUPipelineOptions *pipeline) {
  if (strcmp(arg, "--no-vectorize") == 0)
    pipeline->vectorize = false;
  else if (strcmp(arg, "--no-threads") == 0)
    pipeline->threads = false;
  else if (strcmp(arg, "--no-fuse-updates") == 0)
    pipeline->fuseUpdates = false;
  else
    return false;
  return true;
}

bool toolInputFileArg(ToolDiagnostics *diagnostics, const char *arg,
                      const char **file) {
  if (arg[0] == '-' && arg[1] != '\0') {
    toolError(diagnostics, "unknown option '%s' (see --help)", arg);
    return false;
  }
  if (*file) {
    toolError(diagnostics, "more than one input file ('%s' and '%s')", *file,
              arg);
    return false;
  }
  *file = arg;
  return true;
}

/*===----------------------------------------------------------------------===*
 * Types
 *===----------------------------------------------------------------------===*/

typedef struct TypeBuffer {
  char *buf;
  size_t size, length;
} TypeBuffer;

static void appendType(MlirStringRef s, void *userData) {
  TypeBuffer *b = userData;
  if (b->size == 0)
    return;
  size_t room = b->size - 1 - b->length;
  size_t n = s.length < room ? s.length : room;
  memcpy(b->buf + b->length, s.data, n);
  b->length += n;
  b->buf[b->length] = '\0';
}

void toolTypeString(MlirType type, char *buf, size_t size) {
  TypeBuffer b = {buf, size, 0};
  if (size)
    buf[0] = '\0';
  mlirTypePrint(type, appendType, &b);
}

size_t toolElementSize(ToolElement element) {
  switch (element) {
  case ToolI1:
  case ToolI8:
    return 1;
  case ToolF16:
  case ToolBF16:
  case ToolI16:
    return 2;
  case ToolF32:
  case ToolI32:
    return 4;
  case ToolF64:
  case ToolI64:
  case ToolIndex:
    return 8;
  }
  return 0;
}

const char *toolElementName(ToolElement element) {
  static const char *names[] = {"f16", "bf16", "f32", "f64", "i1",
                                "i8",  "i16",  "i32", "i64", "index"};
  return names[element];
}

const char *toolElementCType(ToolElement element) {
  static const char *names[] = {"uint16_t", "uint16_t", "float",   "double",
                                "bool",     "int8_t",   "int16_t", "int32_t",
                                "int64_t",  "int64_t"};
  return names[element];
}

static bool describeElement(MlirType t, ToolElement *e) {
  if (mlirTypeIsAF16(t))
    *e = ToolF16;
  else if (mlirTypeIsABF16(t))
    *e = ToolBF16;
  else if (mlirTypeIsAF32(t))
    *e = ToolF32;
  else if (mlirTypeIsAF64(t))
    *e = ToolF64;
  else if (mlirTypeIsAIndex(t))
    *e = ToolIndex;
  else if (mlirTypeIsAInteger(t) && mlirIntegerTypeIsSignless(t)) {
    switch (mlirIntegerTypeGetWidth(t)) {
    case 1:
      *e = ToolI1;
      break;
    case 8:
      *e = ToolI8;
      break;
    case 16:
      *e = ToolI16;
      break;
    case 32:
      *e = ToolI32;
      break;
    case 64:
      *e = ToolI64;
      break;
    default:
      return false;
    }
  } else
    return false;
  return true;
}

bool toolDescribeType(MlirType type, ToolValueType *result, char *why,
                      size_t whySize) {
  memset(result, 0, sizeof *result);
  if (!mlirTypeIsAShaped(type)) {
    if (describeElement(type, &result->element))
      return true;
    snprintf(why, whySize, "unsupported scalar type");
    return false;
  }
  bool tensor = mlirTypeIsATensor(type), memref = mlirTypeIsAMemRef(type);
  if (!tensor && !memref) {
    snprintf(why, whySize, "only tensors, memrefs and scalars are supported");
    return false;
  }
  if (!mlirShapedTypeHasRank(type)) {
    snprintf(why, whySize, "unranked types are not supported");
    return false;
  }
  if (tensor && !mlirAttributeIsNull(mlirRankedTensorTypeGetEncoding(type))) {
    snprintf(why, whySize, "tensors with an encoding are not supported");
    return false;
  }
  if (memref) {
    MlirAttribute space = mlirMemRefTypeGetMemorySpace(type);
    if (!mlirAttributeIsNull(space)) {
      snprintf(why, whySize, "memrefs in a memory space are not supported");
      return false;
    }
    if (!mlirAffineMapIsIdentity(mlirMemRefTypeGetAffineMap(type))) {
      snprintf(why, whySize,
               "memrefs with a non-identity layout are not supported");
      return false;
    }
  }
  if (!describeElement(mlirShapedTypeGetElementType(type), &result->element)) {
    snprintf(why, whySize, "unsupported element type");
    return false;
  }
  int64_t rank = mlirShapedTypeGetRank(type);
  if (rank > TOOL_MAX_RANK) {
    snprintf(why, whySize, "rank above %d is not supported", TOOL_MAX_RANK);
    return false;
  }
  result->shaped = true;
  result->isTensor = tensor;
  result->rank = (int)rank;
  for (int i = 0; i < result->rank; ++i)
    result->shape[i] = mlirShapedTypeIsDynamicDim(type, i)
                           ? -1
                           : mlirShapedTypeGetDimSize(type, i);
  return true;
}

size_t toolValueSize(const ToolValueType *type) {
  if (type->shaped)
    return 8 * (3 + 2 * (size_t)type->rank);
  return toolElementSize(type->element);
}

size_t toolValueAlign(const ToolValueType *type) {
  if (type->shaped)
    return 8;
  return toolElementSize(type->element);
}

/*===----------------------------------------------------------------------===*
 * Functions
 *===----------------------------------------------------------------------===*/

static bool isOp(MlirOperation op, const char *name) {
  return mlirStringRefEqual(mlirIdentifierStr(mlirOperationGetName(op)),
                            str(name));
}

bool toolIsPublicFunction(MlirOperation op) {
  if (!isOp(op, "func.func"))
    return false;
  MlirAttribute vis =
      mlirOperationGetAttributeByName(op, str("sym_visibility"));
  if (!mlirAttributeIsNull(vis) &&
      !mlirStringRefEqual(mlirStringAttrGetValue(vis), str("public")))
    return false;
  return !mlirBlockIsNull(
      mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0)));
}

MlirType toolFunctionType(MlirOperation func) {
  return mlirTypeAttrGetValue(
      mlirOperationGetAttributeByName(func, str("function_type")));
}

MlirStringRef toolFunctionName(MlirOperation func) {
  return mlirStringAttrGetValue(mlirOperationGetAttributeByName(
      func, mlirSymbolTableGetSymbolAttributeName()));
}

MlirOperation toolLookupEntry(MlirModule module, ToolDiagnostics *diagnostics,
                              const char *name) {
  MlirOperation none = {NULL};
  MlirSymbolTable table = mlirSymbolTableCreate(mlirModuleGetOperation(module));
  MlirOperation op = mlirSymbolTableLookup(table, str(name));
  mlirSymbolTableDestroy(table);
  if (mlirOperationIsNull(op)) {
    toolError(diagnostics, "no function named '%s' in '%s'", name,
              diagnostics->file);
    return none;
  }
  if (!isOp(op, "func.func")) {
    toolError(diagnostics, "'%s' is not a func.func", name);
    return none;
  }
  if (mlirBlockIsNull(mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0)))) {
    toolError(diagnostics, "function '%s' is a declaration (it has no body)",
              name);
    return none;
  }
  if (!toolIsPublicFunction(op)) {
    toolError(diagnostics,
              "function '%s' is private: only public functions get a C "
              "interface",
              name);
    return none;
  }
  return op;
}
