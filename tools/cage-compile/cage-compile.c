/*===- cage-compile.c - Ahead-of-time compilation for the CPU -------------===*\
|*                                                                            *|
|* cage-compile FILE.mlir -o OUT [--header OUT.h] [--emit=mlir|llvm|asm|obj] *|
|*              [--symbol-prefix=P] [--target-triple T] [--target-cpu C] ...  *|
|*                                                                            *|
|* Runs cage-cpu-pipeline, then cageCPUEmit (LLVM-C: TargetMachine,          *|
|* default<O3>, emission). The object needs libc, libm and, with threads,   *|
|* libomp, and defines one global symbol per public function: its C        *|
|* interface entry point, P<name>; everything else is internal, so that the *|
|* object links with any program. The header declares them in strict C11,   *|
|* with memref descriptor structs typed for the arguments and results and   *|
|* the arguments named as in the source (docs/Tools.md describes the ABI).  *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Tool.h"

#include "IR/Text.h"

#include "cage-c/Target/CPU.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/LLVM.h"
#include "mlir-c/IR.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MLIR's name for the C interface wrapper of F: what drivers written for
 * mlir-runner, the JIT and earlier objects call. */
#define DEFAULT_SYMBOL_PREFIX "_mlir_ciface_"

static const char usage[] =
    "usage: cage-compile FILE.mlir -o OUT [--header OUT.h]\n"
    "                    [--emit=mlir|llvm|asm|obj] [-O0|-O1|-O2|-O3]\n"
    "                    [--symbol-prefix=P] [--target-triple=T]\n"
    "                    [--target-cpu=C] [--target-features=F]\n"
    "                    [--print-ir-after-all] [pipeline options]\n"
    "\n"
    "Compiles FILE ('-' reads stdin) ahead of time for the CPU through\n"
    "cage-cpu-pipeline and LLVM.\n"
    "\n"
    "  -o OUT                 the output file ('-' for stdout)\n"
    "  --header OUT.h         also write a strict C11 header declaring the\n"
    "                         entry point of each public function\n"
    "  --emit=KIND            obj (default): an object file; asm: assembly;\n"
    "                         llvm: optimized LLVM IR; mlir: the module in\n"
    "                         the LLVM dialect as the pipeline left it\n"
    "                         (before the symbols below are set)\n"
    "  --symbol-prefix=P      the C interface entry point of F is P<F>, the\n"
    "                         only global symbol of the object for F; all\n"
    "                         other functions and globals are internal\n"
    "                         (default " DEFAULT_SYMBOL_PREFIX ")\n"
    "  -O0..-O3               LLVM optimization level (default -O3)\n"
    "  --target-triple=T      e.g. x86_64-unknown-linux-gnu, "
    "aarch64-linux-gnu\n"
    "                         (default: the host; CPU targets only)\n"
    "  --target-cpu=C         e.g. skylake-avx512, haswell, native (default:\n"
    "                         the host's CPU, or the triple's generic one)\n"
    "  --target-features=F    e.g. +avx2,-avx512f\n"
    "  --print-ir-after-all   print the module after every pass to stderr\n"
    "  --help                 this text\n"
    "  --version              cage's and LLVM's version\n"
    "\n"
    "%s"
    "  With --no-c-interface the public functions keep their own names and\n"
    "  calling convention (no header, no --symbol-prefix).\n"
    "\n"
    "Outputs are written to temporary files and renamed into place when all\n"
    "were written. Link the object with -lm, and with -lomp unless\n"
    "--no-threads.\n";

typedef enum Emit { EmitObject, EmitAssembly, EmitLLVM, EmitMLIR } Emit;

typedef struct Options {
  const char *file, *output, *header, *symbolPrefix;
  Emit emit;
  CageCPUTarget target;
  CageCPUPipelineOptions pipeline;
  bool printIR;
} Options;

static ToolDiagnostics diag = {"cage-compile", NULL, 0};

/*===----------------------------------------------------------------------===*
 * Command line
 *===----------------------------------------------------------------------===*/

static bool needValue(const char *flag, const char *value) {
  if (value && *value)
    return true;
  toolError(&diag, "%s needs a value", flag);
  return false;
}

/* Whether `s` can start C identifiers (empty, or a C identifier). */
static bool isIdentifierPrefix(const char *s) {
  for (const char *p = s; *p; ++p)
    if (!(isalpha((unsigned char)*p) || *p == '_' ||
          (p > s && isdigit((unsigned char)*p))))
      return false;
  return true;
}

static ToolParsed parseArgs(int argc, char **argv, Options *o) {
  memset(o, 0, sizeof *o);
  o->emit = EmitObject;
  o->target = cageCPUTargetGetDefault();
  o->pipeline = cageCPUPipelineOptionsGetDefault();
  bool prefixGiven = false;
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i], *value;
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
      return ToolParsedHelp;
    if (strcmp(arg, "--version") == 0)
      return ToolParsedVersion;
    if (toolFlagValue(argc, argv, &i, "-o", &value)) {
      if (!needValue("-o", value))
        return ToolParsedError;
      o->output = value;
    } else if (toolFlagValue(argc, argv, &i, "--header", &value)) {
      if (!needValue("--header", value))
        return ToolParsedError;
      o->header = value;
    } else if (toolFlagValue(argc, argv, &i, "--emit", &value)) {
      if (!needValue("--emit", value))
        return ToolParsedError;
      if (strcmp(value, "obj") == 0)
        o->emit = EmitObject;
      else if (strcmp(value, "asm") == 0)
        o->emit = EmitAssembly;
      else if (strcmp(value, "llvm") == 0)
        o->emit = EmitLLVM;
      else if (strcmp(value, "mlir") == 0)
        o->emit = EmitMLIR;
      else {
        toolError(&diag, "--emit must be mlir, llvm, asm or obj, not '%s'",
                  value);
        return ToolParsedError;
      }
    } else if (toolFlagValue(argc, argv, &i, "--symbol-prefix", &value)) {
      if (!value || !isIdentifierPrefix(value)) {
        toolError(&diag,
                  "--symbol-prefix needs the start of a C identifier "
                  "(letters, digits, '_'; not a digit first), not '%s'",
                  value ? value : "");
        return ToolParsedError;
      }
      o->symbolPrefix = value;
      prefixGiven = true;
    } else if (toolFlagValue(argc, argv, &i, "--target-triple", &value)) {
      if (!needValue("--target-triple", value))
        return ToolParsedError;
      o->target.triple = value;
    } else if (toolFlagValue(argc, argv, &i, "--target-cpu", &value)) {
      if (!needValue("--target-cpu", value))
        return ToolParsedError;
      o->target.cpu = value;
    } else if (toolFlagValue(argc, argv, &i, "--target-features", &value)) {
      if (!value) {
        toolError(&diag, "--target-features needs a value");
        return ToolParsedError;
      }
      o->target.features = value;
    } else if (strlen(arg) == 3 && arg[0] == '-' && arg[1] == 'O' &&
               arg[2] >= '0' && arg[2] <= '3') {
      o->target.optLevel = arg[2] - '0';
    } else if (toolPipelineFlag(&diag, argc, argv, &i, &o->pipeline)) {
      if (diag.errors)
        return ToolParsedError;
    } else if (strcmp(arg, "--print-ir-after-all") == 0) {
      o->printIR = true;
    } else if (!toolInputFileArg(&diag, arg, &o->file)) {
      return ToolParsedError;
    }
  }
  if (!o->file) {
    toolError(&diag, "no input file (see --help)");
    return ToolParsedError;
  }
  if (!o->output) {
    toolError(&diag, "no output file: give -o OUT (see --help)");
    return ToolParsedError;
  }
  if (!o->pipeline.cInterface && (o->header || prefixGiven)) {
    toolError(&diag,
              "%s declares C interface entry points: it cannot go "
              "with --no-c-interface",
              o->header ? "--header" : "--symbol-prefix");
    return ToolParsedError;
  }
  if (!prefixGiven)
    o->symbolPrefix = DEFAULT_SYMBOL_PREFIX;
  return cageCPUTargetCheck(&o->target, toolReportError, &diag)
             ? ToolParsedRun
             : ToolParsedError;
}

/*===----------------------------------------------------------------------===*
 * Output buffers
 *===----------------------------------------------------------------------===*/

typedef struct Output {
  char *data;
  size_t length, capacity;
  bool failed;
} Output;

static void append(Output *out, const char *data, size_t n) {
  if (out->failed)
    return;
  if (out->length + n + 1 > out->capacity) {
    size_t capacity = out->capacity ? out->capacity : 65536;
    while (capacity < out->length + n + 1)
      capacity *= 2;
    char *grown = realloc(out->data, capacity);
    if (!grown) {
      out->failed = true;
      return;
    }
    out->data = grown;
    out->capacity = capacity;
  }
  memcpy(out->data + out->length, data, n);
  out->length += n;
  out->data[out->length] = '\0';
}

static void appendString(MlirStringRef s, void *userData) {
  append(userData, s.data, s.length);
}

static void appendf(Output *out, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void appendf(Output *out, const char *format, ...) {
  char buf[4096];
  va_list args;
  va_start(args, format);
  int n = vsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  if (n < 0 || (size_t)n >= sizeof buf) {
    out->failed = true;
    return;
  }
  append(out, buf, (size_t)n);
}

/* Writes `out` to stdout for "-", else to a temporary file of `outputs`. */
static bool writeOutput(ToolOutputs *outputs, const char *path,
                        const Output *out) {
  if (out->failed) {
    toolError(&diag, "out of memory");
    return false;
  }
  if (strcmp(path, "-") == 0) {
    fwrite(out->data, 1, out->length, stdout);
    return fflush(stdout) == 0;
  }
  const char *temporary = toolOutputsAdd(outputs, &diag, path);
  if (!temporary)
    return false;
  FILE *f = fopen(temporary, "wb");
  bool ok = f && fwrite(out->data, 1, out->length, f) == out->length;
  ok = f && fclose(f) == 0 && ok;
  if (!ok)
    toolError(&diag, "cannot write '%s'", path);
  return ok;
}

/*===----------------------------------------------------------------------===*
 * Public functions
 *===----------------------------------------------------------------------===*/

/* A training step passes w, g and the state of every parameter: hundreds of
 * arguments are common, so they are counted, not bounded. */
typedef struct Function {
  char name[256];
  Output signature; /* the MLIR function type, for a comment */
  int numArgs, numResults;
  ToolValueType *args, *results; /* with --header */
  char (*argNames)[64];          /* with --header */
} Function;

typedef struct Functions {
  Function *functions;
  int count;
} Functions;

static void freeFunctions(Functions *s) {
  for (int k = 0; k < s->count; ++k) {
    Function *f = &s->functions[k];
    for (int i = 0; f->args && i < f->numArgs; ++i)
      toolValueTypeFree(&f->args[i]);
    for (int i = 0; f->results && i < f->numResults; ++i)
      toolValueTypeFree(&f->results[i]);
    free(f->signature.data);
    free(s->functions[k].args);
    free(s->functions[k].results);
    free(s->functions[k].argNames);
  }
  free(s->functions);
}

static bool isCIdentifier(MlirStringRef s) {
  if (s.length == 0 || s.length >= 200)
    return false;
  for (size_t i = 0; i < s.length; ++i) {
    unsigned char c = (unsigned char)s.data[i];
    if (!(isalpha(c) || c == '_' || (i > 0 && isdigit(c))))
      return false;
  }
  return true;
}

static bool describe(MlirOperation func, MlirType type, const char *what,
                     int index, ToolValueType *t, const char *name) {
  char why[256], text[256], message[800];
  bool ok = toolDescribeType(type, t, why, sizeof why);
  if (ok && !t->shaped && (t->element == ToolF16 || t->element == ToolBF16)) {
    snprintf(why, sizeof why,
             "scalar %s has no C11 type (use a 0-d tensor or memref)",
             toolElementName(t->element));
    ok = false;
  }
  if (ok)
    return true;
  toolTypeString(type, text, sizeof text);
  snprintf(message, sizeof message,
           "cannot declare '%s' in the header: %s %d has type %s: %s", name,
           what, index, text, why);
  mlirEmitError(mlirOperationGetLocation(func), message);
  return false;
}

/* The header's view of a public function: its types and argument names. */
static bool describeFunction(MlirOperation op, const ToolInput *input,
                             Function *f) {
  MlirType type = toolFunctionType(op);
  f->args = calloc((size_t)f->numArgs + 1, sizeof *f->args);
  f->results = calloc((size_t)f->numResults + 1, sizeof *f->results);
  f->argNames = calloc((size_t)f->numArgs + 1, sizeof *f->argNames);
  if (!f->args || !f->results || !f->argNames) {
    toolError(&diag, "out of memory");
    return false;
  }
  for (int i = 0; i < f->numArgs; ++i)
    if (!describe(op, mlirFunctionTypeGetInput(type, i), "argument", i,
                  &f->args[i], f->name))
      return false;
  for (int i = 0; i < f->numResults; ++i)
    if (!describe(op, mlirFunctionTypeGetResult(type, i), "result", i,
                  &f->results[i], f->name))
      return false;
  toolArgumentNames(op, input, f->argNames, f->numArgs);
  return true;
}

/* The public functions of the module, before the pipeline: every one gets
 * an entry point, so every one needs a C name. */
static bool collectFunctions(MlirModule module, const ToolInput *input,
                             bool header, Functions *s) {
  bool ok = true;
  int capacity = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(mlirModuleGetBody(module));
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op)) {
    if (!toolIsPublicFunction(op))
      continue;
    MlirStringRef name = toolFunctionName(op);
    if (!isCIdentifier(name)) {
      toolError(&diag,
                "function '%.*s' has no C name: rename it or make it "
                "private",
                (int)name.length, name.data);
      ok = false;
      continue;
    }
    if (s->count == capacity) {
      capacity = capacity ? 2 * capacity : 16;
      Function *grown = realloc(s->functions, sizeof *grown * (size_t)capacity);
      if (!grown) {
        toolError(&diag, "out of memory");
        return false;
      }
      s->functions = grown;
    }
    Function *f = &s->functions[s->count++];
    memset(f, 0, sizeof *f);
    memcpy(f->name, name.data, name.length);
    f->name[name.length] = '\0';
    MlirType type = toolFunctionType(op);
    mlirTypePrint(type, appendString, &f->signature);
    f->numArgs = (int)mlirFunctionTypeGetNumInputs(type);
    f->numResults = (int)mlirFunctionTypeGetNumResults(type);
    if (header && !describeFunction(op, input, f))
      ok = false;
  }
  return ok;
}

/*===----------------------------------------------------------------------===*
 * Symbols
 *===----------------------------------------------------------------------===*/

static MlirStringRef symbolName(MlirOperation op) {
  MlirAttribute name = mlirOperationGetAttributeByName(
      op, mlirSymbolTableGetSymbolAttributeName());
  return mlirAttributeIsNull(name) || !mlirAttributeIsAString(name)
             ? (MlirStringRef){NULL, 0}
             : mlirStringAttrGetValue(name);
}

/* Whether a top-level symbol defines what it names (a body, a value). */
static bool isDefinition(MlirOperation op) {
  if (toolOpIs(op, "llvm.func"))
    return !mlirBlockIsNull(
        mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0)));
  if (toolOpIs(op, "llvm.mlir.global"))
    return !mlirAttributeIsNull(
               mlirOperationGetAttributeByName(op, cageStr("value"))) ||
           !mlirBlockIsNull(
               mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0)));
  return false;
}

/* Whether a function of the module becomes internal: a public function of
 * the source whose entry point is its C interface wrapper, or a private one
 * (func-to-llvm keeps the visibility but gives it external linkage). */
static bool becomesInternal(MlirOperation op, const Functions *publics,
                            bool cInterface) {
  if (!toolOpIs(op, "llvm.func") || !isDefinition(op))
    return false;
  MlirAttribute visibility =
      mlirOperationGetAttributeByName(op, cageStr("sym_visibility"));
  if (!mlirAttributeIsNull(visibility) &&
      mlirStringRefEqual(mlirStringAttrGetValue(visibility),
                         cageStr("private")))
    return true;
  for (int k = 0; cInterface && k < publics->count; ++k)
    if (mlirStringRefEqual(symbolName(op), cageStr(publics->functions[k].name)))
      return true;
  return false;
}

static MlirOperation findSymbol(MlirBlock body, const char *name) {
  for (MlirOperation op = mlirBlockGetFirstOperation(body);
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op))
    if (mlirStringRefEqual(symbolName(op), cageStr(name)))
      return op;
  return (MlirOperation){NULL};
}

/* Renames `op` and every use of it in the module. */
static void renameSymbol(MlirOperation moduleOp, MlirOperation op,
                         const char *to) {
  MlirStringRef from = symbolName(op);
  char old[512];
  snprintf(old, sizeof old, "%.*s", (int)from.length, from.data);
  mlirSymbolTableReplaceAllSymbolUses(cageStr(old), cageStr(to), moduleOp);
  mlirOperationSetAttributeByName(
      op, mlirSymbolTableGetSymbolAttributeName(),
      mlirStringAttrGet(mlirOperationGetContext(op), cageStr(to)));
}

/* Gives the object one global symbol per public function F, its entry
 * point: P<F>, the C interface wrapper (F itself without the C interface).
 * The functions behind the wrappers and the private functions become
 * internal, so that no name of the source (train_step, a helper) clashes
 * with the program the object is linked into; one whose name an entry
 * point takes is renamed. Public functions that the pipeline adds to the
 * module's interface stay as they are, and an entry point cannot take
 * their names or those of the external symbols the code uses. */
static bool setSymbols(MlirModule module, const Functions *publics,
                       const Options *o) {
  MlirOperation moduleOp = mlirModuleGetOperation(module);
  MlirBlock body = mlirModuleGetBody(module);
  MlirContext ctx = mlirModuleGetContext(module);
  bool cInterface = o->pipeline.cInterface;
  int n = publics->count;
  MlirOperation *entries = calloc((size_t)n + 1, sizeof *entries);
  char(*names)[512] = calloc((size_t)n + 1, sizeof *names);
  bool ok = entries && names;
  if (!ok)
    toolError(&diag, "out of memory");
  for (int k = 0; ok && k < n; ++k) {
    char wrapper[512];
    snprintf(wrapper, sizeof wrapper, "%s%s", cInterface ? "_mlir_ciface_" : "",
             publics->functions[k].name);
    snprintf(names[k], sizeof names[k], "%s%s",
             cInterface ? o->symbolPrefix : "", publics->functions[k].name);
    entries[k] = findSymbol(body, wrapper);
    if (mlirOperationIsNull(entries[k])) {
      toolError(&diag, "the pipeline left no entry point '%s'", wrapper);
      ok = false;
    }
  }
  MlirAttribute internal = mlirLLVMLinkageAttrGet(ctx, MlirLLVMLinkageInternal);
  for (MlirOperation op = mlirBlockGetFirstOperation(body);
       ok && !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op)) {
    MlirStringRef name = symbolName(op);
    if (!name.data)
      continue;
    int entry = -1, clash = -1;
    for (int k = 0; k < n; ++k) {
      if (mlirOperationEqual(op, entries[k]))
        entry = k;
      if (mlirStringRefEqual(name, cageStr(names[k])))
        clash = k;
    }
    bool local = entry < 0 && becomesInternal(op, publics, cInterface);
    if (local)
      mlirOperationSetAttributeByName(op, cageStr("linkage"), internal);
    if (clash < 0 || clash == entry)
      continue;
    if (local || entry >= 0) {
      char fresh[600];
      for (int i = 0;; ++i) {
        snprintf(fresh, sizeof fresh, "%.*s.internal%d", (int)name.length,
                 name.data, i);
        if (mlirOperationIsNull(findSymbol(body, fresh)))
          break;
      }
      renameSymbol(moduleOp, op, fresh);
    } else {
      toolError(&diag,
                "the entry point '%s' would take the name of a symbol the "
                "code %s: choose another --symbol-prefix",
                names[clash], isDefinition(op) ? "exports" : "uses");
      ok = false;
    }
  }
  for (int k = 0; ok && k < n; ++k)
    if (!mlirStringRefEqual(symbolName(entries[k]), cageStr(names[k])))
      renameSymbol(moduleOp, entries[k], names[k]);
  free(entries);
  free(names);
  return ok;
}

/*===----------------------------------------------------------------------===*
 * The header
 *===----------------------------------------------------------------------===*/

static void memrefTypeName(const ToolValueType *t, char *buf, size_t size) {
  snprintf(buf, size, "cage_memref_%s_%dd", toolElementName(t->element),
           t->rank);
}

/* The C type of an argument or result field. */
static void cType(const ToolValueType *t, char *buf, size_t size) {
  if (t->shaped)
    memrefTypeName(t, buf, size);
  else
    snprintf(buf, size, "%s", toolElementCType(t->element));
}

static void defineMemref(Output *out, const ToolValueType *t, char seen[][64],
                         int *numSeen) {
  char name[64];
  memrefTypeName(t, name, sizeof name);
  for (int i = 0; i < *numSeen; ++i)
    if (strcmp(seen[i], name) == 0)
      return;
  if (*numSeen < 512)
    memcpy(seen[(*numSeen)++], name, sizeof name);
  char upper[64];
  size_t n = strlen(name);
  for (size_t i = 0; i <= n; ++i)
    upper[i] = (char)toupper((unsigned char)name[i]);
  const char *ct = toolElementCType(t->element);
  appendf(out,
          "#ifndef %s_DEFINED\n#define %s_DEFINED\n"
          "/** A rank-%d memref of %s: data at aligned[offset + sum_i idx[i] "
          "* strides[i]]. */\n"
          "typedef struct %s {\n"
          "  %s *allocated; /* what to free() when a function returned it */\n"
          "  %s *aligned;   /* the data */\n"
          "  int64_t offset;\n",
          upper, upper, t->rank, toolElementName(t->element), name, ct, ct);
  if (t->rank > 0)
    appendf(out, "  int64_t sizes[%d];\n  int64_t strides[%d];\n", t->rank,
            t->rank);
  appendf(out, "} %s;\n#endif\n\n", name);
}

static void header(Output *out, const Options *o, const char *inputName,
                   const Functions *s) {
  char guard[256];
  const char *base = strrchr(o->header, '/');
  base = base ? base + 1 : o->header;
  size_t n = 0;
  n += (size_t)snprintf(guard, sizeof guard, "CAGE_GENERATED_");
  for (const char *p = base; *p && n + 1 < sizeof guard; ++p)
    guard[n++] =
        isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
  guard[n] = '\0';

  appendf(out,
          "/* Generated by cage-compile from %s; do not edit.\n"
          " *\n"
          " * One entry point per public function F, %sF. Tensors and\n"
          " * memrefs are passed as pointers to memref descriptors; scalars "
          "by\n"
          " * value. A function with one memref result or several results\n"
          " * writes them through its first parameter; one scalar result is\n"
          " * returned. Tensor arguments are only read. Memrefs the function\n"
          " * returns were allocated with malloc and belong to the caller:\n"
          " * free(allocated) once per distinct buffer (two results may "
          "share\n"
          " * one). Link with -lm, and -lomp when compiled with threads.\n"
          " * See docs/Tools.md. */\n\n"
          "#ifndef %s\n#define %s\n\n"
          "#include <stdbool.h>\n#include <stdint.h>\n\n"
          "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n",
          inputName, o->symbolPrefix, guard, guard);

  static char seen[512][64];
  int numSeen = 0;
  for (int k = 0; k < s->count; ++k) {
    const Function *f = &s->functions[k];
    for (int i = 0; i < f->numArgs; ++i)
      if (f->args[i].shaped)
        defineMemref(out, &f->args[i], seen, &numSeen);
    for (int i = 0; i < f->numResults; ++i)
      if (f->results[i].shaped)
        defineMemref(out, &f->results[i], seen, &numSeen);
  }

  char type[96];
  for (int k = 0; k < s->count; ++k) {
    const Function *f = &s->functions[k];
    appendf(out, "/* @%s : ", f->name);
    append(out, f->signature.data ? f->signature.data : "",
           f->signature.length);
    appendf(out, " */\n");
    out->failed = out->failed || f->signature.failed;
    bool viaPointer =
        f->numResults > 1 || (f->numResults == 1 && f->results[0].shaped);
    char resultType[300] = "void";
    if (f->numResults > 1) {
      appendf(out, "typedef struct cage_%s_results {\n", f->name);
      for (int i = 0; i < f->numResults; ++i) {
        cType(&f->results[i], type, sizeof type);
        appendf(out, "  %s r%d;\n", type, i);
      }
      appendf(out, "} cage_%s_results;\n", f->name);
      snprintf(resultType, sizeof resultType, "cage_%s_results", f->name);
    } else if (f->numResults == 1) {
      cType(&f->results[0], resultType, sizeof resultType);
    }
    appendf(out, "%s %s%s(", viaPointer ? "void" : resultType, o->symbolPrefix,
            f->name);
    bool first = true;
    if (viaPointer) {
      appendf(out, "%s *result", resultType);
      first = false;
    }
    for (int i = 0; i < f->numArgs; ++i) {
      cType(&f->args[i], type, sizeof type);
      appendf(out, "%s%s %s%s", first ? "" : ", ", type,
              f->args[i].shaped ? "*" : "", f->argNames[i]);
      first = false;
    }
    appendf(out, "%s);\n\n", first ? "void" : "");
  }
  appendf(out, "#ifdef __cplusplus\n}\n#endif\n\n#endif /* %s */\n", guard);
}

/*===----------------------------------------------------------------------===*
 * main
 *===----------------------------------------------------------------------===*/

int main(int argc, char **argv) {
  Options o;
  switch (parseArgs(argc, argv, &o)) {
  case ToolParsedHelp:
    printf(usage, toolPipelineFlagsHelp);
    return 0;
  case ToolParsedVersion:
    toolPrintVersion("cage-compile");
    return 0;
  case ToolParsedError:
    return 1;
  case ToolParsedRun:
    break;
  }
  diag.file = toolInputName(o.file);

  int status = 1;
  Functions publics = {0};
  Output out = {0}, headerText = {0};
  ToolOutputs outputs = {0};
  ToolInput input = {0};
  MlirContext ctx = toolCreateContext(&diag);
  MlirModule module = toolParseInput(ctx, &diag, o.file, &input);
  if (mlirModuleIsNull(module) ||
      !collectFunctions(module, &input, o.header != NULL, &publics))
    goto done;
  if (o.header)
    header(&headerText, &o, input.name, &publics);

  if (!toolRunPipeline(ctx, &diag, module, &o.pipeline, o.printIR))
    goto done;

  if (o.emit == EmitMLIR) {
    mlirOperationPrint(mlirModuleGetOperation(module), appendString, &out);
    append(&out, "\n", 1);
  } else {
    CageCPUOutputKind kind = o.emit == EmitObject     ? CageCPUOutputObject
                             : o.emit == EmitAssembly ? CageCPUOutputAssembly
                                                      : CageCPUOutputLLVMIR;
    if (!setSymbols(module, &publics, &o) ||
        mlirLogicalResultIsFailure(
            cageCPUEmit(module, &o.target, kind, appendString, &out)))
      goto done;
  }
  if (!writeOutput(&outputs, o.output, &out) ||
      (o.header && !writeOutput(&outputs, o.header, &headerText)) ||
      !toolOutputsCommit(&outputs, &diag))
    goto done;
  status = 0;

done:
  toolOutputsFree(&outputs);
  free(out.data);
  free(headerText.data);
  freeFunctions(&publics);
  if (!mlirModuleIsNull(module))
    mlirModuleDestroy(module);
  toolInputFree(&input);
  mlirContextDestroy(ctx);
  return status;
}
