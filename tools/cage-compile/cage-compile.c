/*===- cage-compile.c - Ahead-of-time compilation for the CPU -------------===*\
|*                                                                            *|
|* cage-compile FILE.mlir -o OUT [--header OUT.h] [--emit=mlir|llvm|asm|obj] *|
|*              [--target-triple T] [--target-cpu C] [--target-features F]  *|
|*                                                                            *|
|* Runs cage-cpu-pipeline, then cageCPUEmit (LLVM-C: TargetMachine,          *|
|* default<O3>, emission). The object needs libc, libm and, with threads,   *|
|* libomp. The header declares, in strict C11, the _mlir_ciface_ entry      *|
|* point of every public function with memref descriptor structs typed for  *|
|* its arguments and results (docs/Tools.md describes the ABI).              *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "../cage-run/Tool.h"

#include "cage-c/Target/CPU.h"

#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/IR.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: cage-compile FILE.mlir -o OUT [--header OUT.h]\n"
    "                    [--emit=mlir|llvm|asm|obj] [-O0|-O1|-O2|-O3]\n"
    "                    [--target-triple=T] [--target-cpu=C]\n"
    "                    [--target-features=F] [--vector-width=N]\n"
    "                    [--no-vectorize] [--no-threads] "
    "[--no-fuse-updates] "
    "[--print-ir-after-all]\n"
    "\n"
    "Compiles FILE ahead of time for the CPU through cage-cpu-pipeline and\n"
    "LLVM.\n"
    "\n"
    "  -o OUT                 the output file ('-' for stdout)\n"
    "  --header OUT.h         also write a strict C11 header declaring the\n"
    "                         _mlir_ciface_ entry point of each public\n"
    "                         function\n"
    "  --emit=KIND            obj (default): an object file; asm: assembly;\n"
    "                         llvm: optimized LLVM IR; mlir: the module in\n"
    "                         the LLVM dialect\n"
    "  -O0..-O3               LLVM optimization level (default -O3)\n"
    "  --target-triple=T      e.g. x86_64-unknown-linux-gnu (default: host)\n"
    "  --target-cpu=C         e.g. skylake-avx512, haswell, native (default:\n"
    "                         the host's CPU, or the triple's generic one)\n"
    "  --target-features=F    e.g. +avx2,-avx512f\n"
    "  --vector-width=N       lanes of the vector tiles (default 16)\n"
    "  --no-vectorize         cage-cpu-pipeline{vectorize=false}\n"
    "  --no-threads           cage-cpu-pipeline{threads=false}: the object\n"
    "                         then needs no libomp\n"
    "  --no-fuse-updates      cage-cpu-pipeline{fuse-updates=false}: no\n"
    "                         cage-fuse-correction, cage-fuse-multi-tensor\n"
    "  --print-ir-after-all   print the module after every pass to stderr\n"
    "  --help                 this text\n"
    "\n"
    "Link the object with -lm, and with -lomp unless --no-threads.\n";

typedef enum Emit { EmitObject, EmitAssembly, EmitLLVM, EmitMLIR } Emit;

typedef struct Options {
  const char *file, *output, *header;
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

/* 0: compile; 1: error; 2: --help. */
static int parseArgs(int argc, char **argv, Options *o) {
  memset(o, 0, sizeof *o);
  o->emit = EmitObject;
  o->target = cageCPUTargetGetDefault();
  o->pipeline = cageCPUPipelineOptionsGetDefault();
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i], *value;
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
      return 2;
    if (toolFlagValue(argc, argv, &i, "-o", &value)) {
      if (!needValue("-o", value))
        return 1;
      o->output = value;
    } else if (toolFlagValue(argc, argv, &i, "--header", &value)) {
      if (!needValue("--header", value))
        return 1;
      o->header = value;
    } else if (toolFlagValue(argc, argv, &i, "--emit", &value)) {
      if (!needValue("--emit", value))
        return 1;
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
        return 1;
      }
    } else if (toolFlagValue(argc, argv, &i, "--target-triple", &value)) {
      if (!needValue("--target-triple", value))
        return 1;
      o->target.triple = value;
    } else if (toolFlagValue(argc, argv, &i, "--target-cpu", &value)) {
      if (!needValue("--target-cpu", value))
        return 1;
      o->target.cpu = value;
    } else if (toolFlagValue(argc, argv, &i, "--target-features", &value)) {
      if (!value) {
        toolError(&diag, "--target-features needs a value");
        return 1;
      }
      o->target.features = value;
    } else if (toolFlagValue(argc, argv, &i, "--vector-width", &value)) {
      char *end;
      long n = value ? strtol(value, &end, 10) : 0;
      if (!value || *end || n < 1 || n > 1024) {
        toolError(&diag, "--vector-width needs a number in [1, 1024]");
        return 1;
      }
      o->pipeline.vectorWidth = n;
    } else if (strlen(arg) == 3 && arg[0] == '-' && arg[1] == 'O' &&
               arg[2] >= '0' && arg[2] <= '3') {
      o->target.optLevel = arg[2] - '0';
    } else if (toolPipelineFlag(arg, &o->pipeline)) {
      continue;
    } else if (strcmp(arg, "--print-ir-after-all") == 0) {
      o->printIR = true;
    } else if (!toolInputFileArg(&diag, arg, &o->file)) {
      return 1;
    }
  }
  if (!o->file) {
    toolError(&diag, "no input file (see --help)");
    return 1;
  }
  if (!o->output) {
    toolError(&diag, "no output file: give -o OUT (see --help)");
    return 1;
  }
  return 0;
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

static bool writeFile(const char *path, const Output *out, bool binary) {
  if (out->failed) {
    toolError(&diag, "out of memory");
    return false;
  }
  if (strcmp(path, "-") == 0) {
    fwrite(out->data, 1, out->length, stdout);
    return fflush(stdout) == 0;
  }
  FILE *f = fopen(path, binary ? "wb" : "w");
  if (!f) {
    toolError(&diag, "cannot create '%s': %s", path, strerror(errno));
    return false;
  }
  bool ok = fwrite(out->data, 1, out->length, f) == out->length;
  ok = fclose(f) == 0 && ok;
  if (!ok)
    toolError(&diag, "cannot write '%s'", path);
  return ok;
}

/*===----------------------------------------------------------------------===*
 * The header
 *===----------------------------------------------------------------------===*/

#define MAX_FUNCTIONS 1024

/* A training step passes w, g and the state of every parameter: hundreds of
 * arguments are common, so they are counted, not bounded. */
typedef struct Function {
  char name[256];
  char signature[1024]; /* the MLIR function type, for a comment */
  int numArgs, numResults;
  ToolValueType *args, *results;
} Function;

typedef struct Signatures {
  Function *functions;
  int count;
  bool failed;
} Signatures;

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

static MlirWalkResult collect(MlirOperation op, void *userData) {
  Signatures *s = userData;
  if (!toolIsPublicFunction(op))
    return mlirStringRefEqual(mlirIdentifierStr(mlirOperationGetName(op)),
                              mlirStringRefCreateFromCString("func.func"))
               ? MlirWalkResultSkip
               : MlirWalkResultAdvance;
  MlirStringRef name = toolFunctionName(op);
  if (!isCIdentifier(name)) {
    toolError(&diag,
              "function '%.*s' has no C name: rename it or make it "
              "private",
              (int)name.length, name.data);
    s->failed = true;
    return MlirWalkResultSkip;
  }
  if (s->count == MAX_FUNCTIONS) {
    toolError(&diag, "more than %d public functions", MAX_FUNCTIONS);
    s->failed = true;
    return MlirWalkResultInterrupt;
  }
  Function *f = &s->functions[s->count];
  memcpy(f->name, name.data, name.length);
  f->name[name.length] = '\0';
  MlirType type = toolFunctionType(op);
  toolTypeString(type, f->signature, sizeof f->signature);
  f->numArgs = (int)mlirFunctionTypeGetNumInputs(type);
  f->numResults = (int)mlirFunctionTypeGetNumResults(type);
  ++s->count; /* from here on its arrays are freed with the others */
  f->args = calloc((size_t)f->numArgs + 1, sizeof *f->args);
  f->results = calloc((size_t)f->numResults + 1, sizeof *f->results);
  if (!f->args || !f->results) {
    toolError(&diag, "out of memory");
    s->failed = true;
    return MlirWalkResultInterrupt;
  }
  for (int i = 0; i < f->numArgs; ++i)
    if (!describe(op, mlirFunctionTypeGetInput(type, i), "argument", i,
                  &f->args[i], f->name)) {
      s->failed = true;
      return MlirWalkResultSkip;
    }
  for (int i = 0; i < f->numResults; ++i)
    if (!describe(op, mlirFunctionTypeGetResult(type, i), "result", i,
                  &f->results[i], f->name)) {
      s->failed = true;
      return MlirWalkResultSkip;
    }
  return MlirWalkResultSkip;
}

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

static bool writeHeader(const Options *o, const Signatures *s) {
  Output out = {0};
  char guard[256];
  const char *base = strrchr(o->header, '/');
  base = base ? base + 1 : o->header;
  size_t n = 0;
  n += (size_t)snprintf(guard, sizeof guard, "CAGE_GENERATED_");
  for (const char *p = base; *p && n + 1 < sizeof guard; ++p)
    guard[n++] =
        isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
  guard[n] = '\0';

  appendf(&out,
          "/* Generated by cage-compile from %s; do not edit.\n"
          " *\n"
          " * One _mlir_ciface_ entry point per public function. Tensors and\n"
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
          o->file, guard, guard);

  static char seen[512][64];
  int numSeen = 0;
  for (int k = 0; k < s->count; ++k) {
    const Function *f = &s->functions[k];
    for (int i = 0; i < f->numArgs; ++i)
      if (f->args[i].shaped)
        defineMemref(&out, &f->args[i], seen, &numSeen);
    for (int i = 0; i < f->numResults; ++i)
      if (f->results[i].shaped)
        defineMemref(&out, &f->results[i], seen, &numSeen);
  }

  char type[96];
  for (int k = 0; k < s->count; ++k) {
    const Function *f = &s->functions[k];
    appendf(&out, "/* @%s : %s */\n", f->name, f->signature);
    bool viaPointer =
        f->numResults > 1 || (f->numResults == 1 && f->results[0].shaped);
    char resultType[300] = "void";
    if (f->numResults > 1) {
      appendf(&out, "typedef struct cage_%s_results {\n", f->name);
      for (int i = 0; i < f->numResults; ++i) {
        cType(&f->results[i], type, sizeof type);
        appendf(&out, "  %s r%d;\n", type, i);
      }
      appendf(&out, "} cage_%s_results;\n", f->name);
      snprintf(resultType, sizeof resultType, "cage_%s_results", f->name);
    } else if (f->numResults == 1) {
      cType(&f->results[0], resultType, sizeof resultType);
    }
    appendf(&out, "%s _mlir_ciface_%s(", viaPointer ? "void" : resultType,
            f->name);
    bool first = true;
    if (viaPointer) {
      appendf(&out, "%s *result", resultType);
      first = false;
    }
    for (int i = 0; i < f->numArgs; ++i) {
      cType(&f->args[i], type, sizeof type);
      appendf(&out, "%s%s %sarg%d", first ? "" : ", ", type,
              f->args[i].shaped ? "*" : "", i);
      first = false;
    }
    appendf(&out, "%s);\n\n", first ? "void" : "");
  }
  appendf(&out, "#ifdef __cplusplus\n}\n#endif\n\n#endif /* %s */\n", guard);
  bool ok = writeFile(o->header, &out, false);
  free(out.data);
  return ok;
}

/*===----------------------------------------------------------------------===*
 * main
 *===----------------------------------------------------------------------===*/

int main(int argc, char **argv) {
  Options o;
  int parsed = parseArgs(argc, argv, &o);
  if (parsed == 2) {
    fputs(usage, stdout);
    return 0;
  }
  if (parsed)
    return 1;
  diag.file = o.file;

  int status = 1;
  Signatures signatures = {0};
  Output out = {0};
  MlirContext ctx = toolCreateContext(&diag);
  MlirModule module = toolParseFile(ctx, &diag, o.file);
  if (mlirModuleIsNull(module))
    goto done;

  if (o.header) {
    signatures.functions = calloc(MAX_FUNCTIONS, sizeof(Function));
    if (!signatures.functions) {
      toolError(&diag, "out of memory");
      goto done;
    }
    mlirOperationWalk(mlirModuleGetOperation(module), collect, &signatures,
                      MlirWalkPreOrder);
    if (signatures.failed)
      goto done;
  }

  if (!toolRunPipeline(ctx, &diag, module, &o.pipeline, o.printIR))
    goto done;

  if (o.emit == EmitMLIR) {
    mlirOperationPrint(mlirModuleGetOperation(module), appendString, &out);
    append(&out, "\n", 1);
  } else {
    CageCPUOutputKind kind = o.emit == EmitObject     ? CageCPUOutputObject
                             : o.emit == EmitAssembly ? CageCPUOutputAssembly
                                                      : CageCPUOutputLLVMIR;
    if (mlirLogicalResultIsFailure(
            cageCPUEmit(module, &o.target, kind, appendString, &out)))
      goto done;
  }
  if (!writeFile(o.output, &out, o.emit == EmitObject))
    goto done;
  if (o.header && !writeHeader(&o, &signatures))
    goto done;
  status = 0;

done:
  free(out.data);
  for (int k = 0; k < signatures.count; ++k) {
    free(signatures.functions[k].args);
    free(signatures.functions[k].results);
  }
  free(signatures.functions);
  if (!mlirModuleIsNull(module))
    mlirModuleDestroy(module);
  mlirContextDestroy(ctx);
  return status;
}
