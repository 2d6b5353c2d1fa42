/*===- cage-compile.c - Ahead-of-time compilation -------------------------===*\
|*                                                                            *|
|* cage-compile FILE.mlir -o OUT [--header OUT.h] [--emit=mlir|llvm|asm|obj] *|
|*              [--symbol-prefix=P] [--target-triple T] [--target-cpu C] ...  *|
|* cage-compile --target=cuda FILE.mlir -o OUT [--header OUT.h]             *|
|*              [--emit=obj|asm|llvm|mlir|ptx|cubin] [--chip=sm_80] ...      *|
|*                                                                            *|
|* For the GPU: cage-gpu-pipeline, then a host object with the kernels      *|
|* embedded and an entry point per public function (stream, status), or     *|
|* the PTX of the kernels (cageCUDAEmitPTX), assembled by the toolkit's     *|
|* ptxas for --emit=cubin.                                                  *|
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
#include "cage-c/Target/CUDA.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/Dialect/LLVM.h"
#include "mlir-c/IR.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MLIR's name for the C interface wrapper of F: what drivers written for
 * mlir-runner, the JIT and earlier objects call. */
#define DEFAULT_SYMBOL_PREFIX "_mlir_ciface_"
/* The GPU's entry points, a new ABI (stream, status): a name of their own. */
#define DEFAULT_CUDA_SYMBOL_PREFIX "cage_cuda_"
/* What cage-gpu-entry-points names the entry point of F. */
#define CUDA_ENTRY_PREFIX "__cage_cuda_"

static const char usage[] =
    "usage: cage-compile FILE.mlir -o OUT [--header OUT.h]\n"
    "                    [--emit=mlir|llvm|asm|obj] [-O0|-O1|-O2|-O3]\n"
    "                    [--symbol-prefix=P] [--target-triple=T]\n"
    "                    [--target-cpu=C] [--target-features=F]\n"
    "                    [--print-ir-after-all] [pipeline options]\n"
    "       cage-compile --target=cuda FILE.mlir -o OUT [--header OUT.h]\n"
    "                    [--emit=obj|asm|llvm|mlir|ptx|cubin] [--chip=CHIP]\n"
    "                    [--cuda-toolkit=DIR] [--symbol-prefix=P] [-O0..-O3]\n"
    "                    [--no-fuse-updates] [--print-ir-after-all]\n"
    "\n"
    "Compiles FILE ('-' reads stdin) ahead of time for the CPU through\n"
    "cage-cpu-pipeline and LLVM, or with --target=cuda for NVIDIA GPUs\n"
    "through cage-gpu-pipeline and LLVM's NVPTX back end.\n"
    "\n"
    "  -o OUT                 the output file ('-' for stdout)\n"
    "  --target=cpu|cuda      what the code runs on (default cpu)\n"
    "  --header OUT.h         also write a strict C11 header declaring the\n"
    "                         entry point of each public function\n"
    "  --emit=KIND            obj (default): an object file; asm: assembly;\n"
    "                         llvm: optimized LLVM IR; mlir: the module in\n"
    "                         the LLVM dialect as the pipeline left it\n"
    "                         (before the symbols below are set)\n"
    "  --symbol-prefix=P      the C interface entry point of F is P<F>, the\n"
    "                         only global symbol of the object for F; all\n"
    "                         other functions and globals are internal\n"
    "                         (default " DEFAULT_SYMBOL_PREFIX
    ", with --target=cuda\n"
    "                         " DEFAULT_CUDA_SYMBOL_PREFIX ")\n"
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
    "With --target=cuda (docs/GPU.md):\n"
    "  --emit=obj             (default) a host object with the kernels as\n"
    "                         PTX in it; the entry point of F takes the\n"
    "                         stream first and returns a status; link with\n"
    "                         libcage-cuda-runtime.so (no CUDA needed)\n"
    "  --emit=asm, llvm       the host code as assembly, LLVM IR\n"
    "  --emit=ptx             the PTX of every kernel, one module (needs\n"
    "                         libdevice from the toolkit, no GPU)\n"
    "  --emit=cubin           the same assembled for --chip by the\n"
    "                         toolkit's ptxas\n"
    "  --emit=mlir            the module as cage-gpu-pipeline left it\n"
    "  --chip=CHIP            sm_75, sm_80 (default), sm_86, sm_87, sm_89,\n"
    "                         sm_90, sm_90a, sm_100, sm_100a, sm_120, sm_120a\n"
    "  --cuda-toolkit=DIR     the CUDA toolkit (default $CUDA_HOME, else\n"
    "                         /usr/local/cuda)\n"
    "  --target-* and -O apply to the host code. Of the pipeline options\n"
    "  below only --no-fuse-updates applies.\n"
    "\n"
    "%s"
    "  With --no-c-interface the public functions keep their own names and\n"
    "  calling convention (no header, no --symbol-prefix).\n"
    "\n"
    "Outputs are written to temporary files and renamed into place when all\n"
    "were written. Link the object with -lm, and with -lomp unless\n"
    "--no-threads.\n";

typedef enum Emit {
  EmitObject,
  EmitAssembly,
  EmitLLVM,
  EmitMLIR,
  EmitPTX,
  EmitCubin
} Emit;

typedef struct Options {
  const char *file, *output, *header, *symbolPrefix;
  Emit emit;
  CageCPUTarget target;
  CageCPUPipelineOptions pipeline;
  ToolTargetFlags targets; /* --target=cuda, --chip, --cuda-toolkit */
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

/* Emit kinds by name, and the target each belongs to. */
static const struct {
  const char *name, *flag;
  Emit emit;
  bool cpu, cuda;
} kEmits[] = {
    {"obj", "--emit=obj", EmitObject, true, true},
    {"asm", "--emit=asm", EmitAssembly, true, true},
    {"llvm", "--emit=llvm", EmitLLVM, true, true},
    {"mlir", "--emit=mlir", EmitMLIR, true, true},
    {"ptx", "--emit=ptx", EmitPTX, false, true},
    {"cubin", "--emit=cubin", EmitCubin, false, true},
};

/* The checks that need every flag: one target's flags with the other's. */
static ToolParsed checkTarget(Options *o) {
  if (!toolTargetFlagsCheck(&diag, &o->targets))
    return ToolParsedError;
  if (o->targets.cuda && o->header &&
      (o->emit == EmitPTX || o->emit == EmitCubin || o->emit == EmitMLIR)) {
    toolError(&diag,
              "--header declares the entry points of a host object: it "
              "cannot go with --emit=%s",
              o->emit == EmitPTX     ? "ptx"
              : o->emit == EmitCubin ? "cubin"
                                     : "mlir");
    return ToolParsedError;
  }
  return ToolParsedRun;
}

static ToolParsed parseArgs(int argc, char **argv, Options *o) {
  memset(o, 0, sizeof *o);
  o->emit = EmitObject;
  o->target = cageCPUTargetGetDefault();
  o->pipeline = toolPipelineOptionsGetDefault();
  o->targets = toolTargetFlagsGetDefault();
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
    } else if (toolTargetFlag(&diag, argc, argv, &i, &o->targets)) {
      if (diag.errors)
        return ToolParsedError;
    } else if (toolFlagValue(argc, argv, &i, "--emit", &value)) {
      if (!needValue("--emit", value))
        return ToolParsedError;
      size_t k = 0, n = sizeof kEmits / sizeof kEmits[0];
      while (k < n && strcmp(value, kEmits[k].name) != 0)
        ++k;
      if (k == n) {
        toolError(&diag,
                  "--emit must be obj, asm, llvm or mlir, or with "
                  "--target=cuda also ptx or cubin, not '%s'",
                  value);
        return ToolParsedError;
      }
      o->emit = kEmits[k].emit;
      if (!kEmits[k].cuda)
        toolTargetNoteFlag(&o->targets, kEmits[k].flag, false);
      if (!kEmits[k].cpu)
        toolTargetNoteFlag(&o->targets, kEmits[k].flag, true);
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
      toolTargetNotePipelineFlag(&o->targets, arg);
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
  if (checkTarget(o) != ToolParsedRun)
    return ToolParsedError;
  if (!o->pipeline.cInterface && (o->header || prefixGiven)) {
    toolError(&diag,
              "%s declares C interface entry points: it cannot go "
              "with --no-c-interface",
              o->header ? "--header" : "--symbol-prefix");
    return ToolParsedError;
  }
  if (!prefixGiven)
    o->symbolPrefix =
        o->targets.cuda ? DEFAULT_CUDA_SYMBOL_PREFIX : DEFAULT_SYMBOL_PREFIX;
  if (!cageCPUTargetCheck(&o->target, toolReportError, &diag))
    return ToolParsedError;
  toolPipelineForTarget(&o->pipeline, &o->target);
  return ToolParsedRun;
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

/* The public functions of the module, each with an entry point. */
typedef struct Function {
  char name[256];
} Function;

typedef struct Functions {
  Function *functions;
  int count;
} Functions;

/* The public functions of the module, before the pipeline: every one gets
 * an entry point, so every one needs a C name. */
static bool collectFunctions(MlirModule module, Functions *s) {
  bool ok = true;
  int capacity = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(mlirModuleGetBody(module));
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op)) {
    if (!toolIsPublicFunction(op))
      continue;
    MlirStringRef name = toolFunctionName(op);
    if (!cageIsCIdentifier(name)) {
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
    memcpy(f->name, name.data, name.length);
    f->name[name.length] = '\0';
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
 * the source whose entry point is its C interface wrapper (for the GPU, the
 * wrapper too: the entry point calls it), or a private one (func-to-llvm
 * keeps the visibility but gives it external linkage). */
static bool becomesInternal(MlirOperation op, const Functions *publics,
                            bool cInterface, bool cuda) {
  if (!toolOpIs(op, "llvm.func") || !isDefinition(op))
    return false;
  MlirAttribute visibility =
      mlirOperationGetAttributeByName(op, cageStr("sym_visibility"));
  if (!mlirAttributeIsNull(visibility) &&
      mlirStringRefEqual(mlirStringAttrGetValue(visibility),
                         cageStr("private")))
    return true;
  MlirStringRef name = symbolName(op);
  size_t n = sizeof DEFAULT_SYMBOL_PREFIX - 1;
  bool wrapper = cuda && name.length > n &&
                 strncmp(name.data, DEFAULT_SYMBOL_PREFIX, n) == 0;
  for (int k = 0; cInterface && k < publics->count; ++k)
    if (mlirStringRefEqual(name, cageStr(publics->functions[k].name)) ||
        (wrapper &&
         mlirStringRefEqual(mlirStringRefCreate(name.data + n, name.length - n),
                            cageStr(publics->functions[k].name))))
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
 * point: P<F>, the C interface wrapper (F itself without the C interface;
 * for the GPU, the entry point cage-gpu-entry-points made over it).
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
    snprintf(wrapper, sizeof wrapper, "%s%s",
             o->targets.cuda ? CUDA_ENTRY_PREFIX
             : cInterface    ? DEFAULT_SYMBOL_PREFIX
                             : "",
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
    bool local =
        entry < 0 && becomesInternal(op, publics, cInterface, o->targets.cuda);
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

/* The header of the module as parsed (cageCPUWriteHeader): the source's
 * signatures, its argument names read from the input's text. */
static bool writeHeader(MlirModule module, const Options *o,
                        const ToolInput *input, Output *out) {
  static const char by[] = "cage-compile from ";
  char *generatedBy = malloc(sizeof by + strlen(input->name));
  if (!generatedBy) {
    toolError(&diag, "out of memory");
    return false;
  }
  snprintf(generatedBy, sizeof by + strlen(input->name), "%s%s", by,
           input->name);
  CageCPUHeaderOptions options = {
      .symbolPrefix = o->symbolPrefix,
      .headerName = o->header,
      .generatedBy = generatedBy,
      .sourceText = mlirStringRefCreate(input->text, input->length),
      .sourceFile = input->path,
  };
  bool ok = mlirLogicalResultIsSuccess(
      o->targets.cuda
          ? cageCUDAWriteHeader(module, &options, appendString, out)
          : cageCPUWriteHeader(module, &options, appendString, out));
  free(generatedBy);
  return ok;
}

/*===----------------------------------------------------------------------===*
 * Kernels for the GPU
 *===----------------------------------------------------------------------===*/

/* The PTX of the compiled module in `out`, or the cubin ptxas makes of it. */
static bool emitKernels(MlirModule module, const Options *o, Output *out) {
  Output ptx = {0};
  if (mlirLogicalResultIsFailure(cageCUDAEmitPTX(module, appendString, &ptx)))
    return false;
  if (o->emit == EmitPTX) {
    *out = ptx;
    return true;
  }
  char *cubin = NULL;
  size_t length = 0;
  bool ok = !ptx.failed &&
            toolAssemblePTX(&diag, o->targets.gpu.toolkit, o->targets.gpu.chip,
                            mlirStringRefCreate(ptx.data, ptx.length), &cubin,
                            &length);
  if (ok)
    append(out, cubin, length);
  else if (ptx.failed)
    toolError(&diag, "out of memory");
  free(cubin);
  free(ptx.data);
  return ok;
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
  if (mlirModuleIsNull(module) || !collectFunctions(module, &publics) ||
      (o.header && !writeHeader(module, &o, &input, &headerText)))
    goto done;

  if (o.targets.cuda
          ? !toolRunCUDAPipeline(ctx, &diag, module, &o.targets.gpu, o.printIR)
          : !toolRunPipeline(ctx, &diag, module, &o.pipeline, o.printIR))
    goto done;

  if (o.emit == EmitPTX || o.emit == EmitCubin) {
    if (!emitKernels(module, &o, &out))
      goto done;
  } else if (o.emit == EmitMLIR) {
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
  free(publics.functions);
  if (!mlirModuleIsNull(module))
    mlirModuleDestroy(module);
  toolInputFree(&input);
  mlirContextDestroy(ctx);
  return status;
}
