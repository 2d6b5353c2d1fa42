/*===- Tool.h - What cage-run and cage-compile share --------------*- C -*-===*\
|*                                                                            *|
|* A context with every dialect, pass and translation registered and a      *|
|* diagnostic handler that prints file:line:col; reading the input (a file  *|
|* or stdin); running the CPU pipeline; the command line conventions of the  *|
|* tools (flags, pipeline options, --version); outputs that appear all at   *|
|* once or not at all; the C view of a function signature (the types of    *|
|* the _mlir_ciface_ calling convention with their shapes, the layout of    *|
|* memref descriptors and result structs). What the C APIs lack (a JIT      *|
|* without event listeners, validating a CPU name) and what the Python      *|
|* package needs too (how the C interface carries a type, the C header) is  *|
|* in the cage C API (cage-c/Target/CPU.h).                                  *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_TOOLS_TOOL_H
#define CAGE_TOOLS_TOOL_H

#include "cage-c/Target/CPU.h"
#include "cage-c/Target/CUDA.h"

#include "mlir-c/ExecutionEngine.h"
#include "mlir-c/IR.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*===----------------------------------------------------------------------===*
 * Context, diagnostics, input
 *===----------------------------------------------------------------------===*/

/** What a tool's command line asks for. */
typedef enum ToolParsed {
  ToolParsedRun,
  ToolParsedError,
  ToolParsedHelp,
  ToolParsedVersion
} ToolParsed;

typedef struct ToolDiagnostics {
  const char *tool; /* "cage-run" */
  const char *file; /* the input, for diagnostics without a file location */
  int errors;
} ToolDiagnostics;

/** A context with all upstream dialects, the cage dialect, all passes and
 *  LLVM translations registered, printing diagnostics to stderr. */
MlirContext toolCreateContext(ToolDiagnostics *diagnostics);

/** Prints "tool: error: message" to stderr and counts the error. */
void toolError(ToolDiagnostics *diagnostics, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/** The MLIR input of a tool and its text (for argument names). */
typedef struct ToolInput {
  const char *path; /* as given on the command line; "-" is stdin */
  const char *name; /* in messages: the path, or "<stdin>" */
  char *text;       /* the whole input, owned */
  size_t length;
} ToolInput;

/** The name of `path` in messages: "<stdin>" for "-". */
const char *toolInputName(const char *path);

/** Reads and parses `path` ("-": stdin) into a module; a null module after
 *  printing why. `input` keeps the text until toolInputFree. */
MlirModule toolParseInput(MlirContext ctx, ToolDiagnostics *diagnostics,
                          const char *path, ToolInput *input);

void toolInputFree(ToolInput *input);

/** Runs the CPU pipeline on `module`, with every pass visible to IR
 *  printing when `printIRAfterAll`. */
bool toolRunPipeline(MlirContext ctx, ToolDiagnostics *diagnostics,
                     MlirModule module, const CageCPUPipelineOptions *options,
                     bool printIRAfterAll);

/** The same with cage-gpu-pipeline for `target`. */
bool toolRunCUDAPipeline(MlirContext ctx, ToolDiagnostics *diagnostics,
                         MlirModule module, const CageCUDATarget *target,
                         bool printIRAfterAll);

/** Assembles `ptx` for `chip` with the toolkit's ptxas
 *  (cageCUDAToolkitDirectory(toolkit)/bin/ptxas), its messages passed on to
 *  stderr; the cubin in *cubin (malloc'ed, *length bytes), or false after
 *  printing why. */
bool toolAssemblePTX(ToolDiagnostics *diagnostics, const char *toolkit,
                     const char *chip, MlirStringRef ptx, char **cubin,
                     size_t *length);

/*===----------------------------------------------------------------------===*
 * Command line
 *===----------------------------------------------------------------------===*/

/** Whether argv[*i] is the flag `name`, as `name VALUE` or `name=VALUE`;
 *  then its value in *value (null when `name` is the last argument) and *i
 *  advanced past what it consumed. */
bool toolFlagValue(int argc, char **argv, int *i, const char *name,
                   const char **value);

/** Whether argv[*i] is one of the flags that set an option of
 *  cage-cpu-pipeline (--no-vectorize, --vector-width=N, --no-threads,
 *  --no-fuse-updates, --no-fuse-elementwise, --no-c-interface); then it is
 *  applied to `pipeline`, or an error printed and counted. */
bool toolPipelineFlag(ToolDiagnostics *diagnostics, int argc, char **argv,
                      int *i, CageCPUPipelineOptions *pipeline);

/** The pipeline options of a tool before its flags: cage-cpu-pipeline's
 *  defaults, but the vector width left open for toolPipelineForTarget. */
CageCPUPipelineOptions toolPipelineOptionsGetDefault(void);

/** Once the target is known (after cageCPUTargetCheck): unless
 *  --vector-width gave one, the width of the target's vector registers
 *  (cageCPUTargetVectorWidth). */
void toolPipelineForTarget(CageCPUPipelineOptions *pipeline,
                           const CageCPUTarget *target);

/** The lines of --help that describe the pipeline flags. */
extern const char toolPipelineFlagsHelp[];

/** The target flags of cage-run and cage-compile: --target=cpu|cuda, and
 *  --chip and --cuda-toolkit for the GPU; with the first flag seen that
 *  only the CPU takes and the first that only the GPU takes, for the error
 *  of giving one target's flag to the other. */
typedef struct ToolTargetFlags {
  bool cuda;
  CageCUDATarget gpu;
  const char *cpuFlag, *gpuFlag;
} ToolTargetFlags;

/** --target=cpu, the GPU target's defaults. */
ToolTargetFlags toolTargetFlagsGetDefault(void);

/** Whether argv[*i] is --target, --chip or --cuda-toolkit; then it is
 *  applied to `flags`, or an error printed and counted. */
bool toolTargetFlag(ToolDiagnostics *diagnostics, int argc, char **argv, int *i,
                    ToolTargetFlags *flags);

/** Notes `flag` as one only the CPU (`cuda` false) or only the GPU takes. */
void toolTargetNoteFlag(ToolTargetFlags *flags, const char *flag, bool cuda);

/** After toolPipelineFlag took `flag`: the GPU pipeline shares the update
 *  fusion (--no-fuse-updates) and nothing else. */
void toolTargetNotePipelineFlag(ToolTargetFlags *flags, const char *flag);

/** After every flag: false after printing that one target's flag came with
 *  the other target. */
bool toolTargetFlagsCheck(ToolDiagnostics *diagnostics,
                          const ToolTargetFlags *flags);

/** Takes `arg`, which is not a known option, as the one input file in
 *  *file ("-" is stdin); else false after printing that it is an unknown
 *  option or a second input file. */
bool toolInputFileArg(ToolDiagnostics *diagnostics, const char *arg,
                      const char **file);

/** Prints what --version prints: the tool, cage's version (the C API of the
 *  library loaded) and LLVM's. */
void toolPrintVersion(const char *tool);

/*===----------------------------------------------------------------------===*
 * Outputs
 *===----------------------------------------------------------------------===*/

/** One output of ToolOutputs. */
typedef struct ToolOutput {
  char *path;      /* where it goes */
  char *temporary; /* where it is written first (null once renamed) */
  bool direct;     /* a device or pipe, written in place */
} ToolOutput;

/** Files that are written to temporary files next to them and renamed into
 *  place together, once every one of them was written: a failure leaves no
 *  truncated file and every earlier output as it was. */
typedef struct ToolOutputs {
  int count;
  ToolOutput *files;
} ToolOutputs;

/** Creates an empty temporary file in the directory of `path` (with the
 *  mode that `path` has, or would get) and returns its name, to be written
 *  by the caller; null after printing why. Devices and pipes (/dev/null)
 *  are not replaced: their own name is returned. */
const char *toolOutputsAdd(ToolOutputs *outputs, ToolDiagnostics *diagnostics,
                           const char *path);

/** Renames every temporary file to its path; false after printing why (a
 *  rename fails only when a path became a directory meanwhile). */
bool toolOutputsCommit(ToolOutputs *outputs, ToolDiagnostics *diagnostics);

/** Removes the temporary files not renamed and frees `outputs`. */
void toolOutputsFree(ToolOutputs *outputs);

/*===----------------------------------------------------------------------===*
 * Signatures
 *===----------------------------------------------------------------------===*/

/** The element types of the C interface (cage-c/Target/CPU.h), by the
 *  tools' short names. */
typedef CageCPUElementType ToolElement;
#define ToolF16 CageCPUElementF16
#define ToolBF16 CageCPUElementBF16
#define ToolF32 CageCPUElementF32
#define ToolF64 CageCPUElementF64
#define ToolI1 CageCPUElementI1
#define ToolI8 CageCPUElementI8
#define ToolI16 CageCPUElementI16
#define ToolI32 CageCPUElementI32
#define ToolI64 CageCPUElementI64
#define ToolIndex CageCPUElementIndex

/** A type of the C interface, of any rank. */
typedef struct ToolValueType {
  bool shaped;   /* a ranked tensor or memref; else a scalar */
  bool isTensor; /* tensor (value semantics) or memref */
  ToolElement element;
  int rank;
  int64_t *shape; /* rank sizes, -1: dynamic; owned (toolValueTypeFree),
                     null for a scalar */
} ToolValueType;

/** Describes `type` if the C interface can carry it (cageCPUValueTypeGet,
 *  with the shape); else false, a reason in `why` and nothing to free in
 *  `result`. */
bool toolDescribeType(MlirType type, ToolValueType *result, char *why,
                      size_t whySize);

/** Frees the shape of `type` (and may be called again). */
void toolValueTypeFree(ToolValueType *type);

/** Size and alignment in bytes of a value as the C interface stores it in
 *  memory (a memref descriptor for shaped values). */
size_t toolValueSize(const ToolValueType *type);
size_t toolValueAlign(const ToolValueType *type);

/** Size and alignment of one element. */
size_t toolElementSize(ToolElement element);

/** Short name: "f32", "i64", "index", ... */
const char *toolElementName(ToolElement element);

/** The textual form of a type, into buf. */
void toolTypeString(MlirType type, char *buf, size_t size);

/** Whether `op` is named `name` ("func.func"). */
bool toolOpIs(MlirOperation op, const char *name);

/** Whether `op` is a func.func with a body and public visibility. */
bool toolIsPublicFunction(MlirOperation op);

/** The function type of a func.func. */
MlirType toolFunctionType(MlirOperation func);

/** The symbol name of a func.func. */
MlirStringRef toolFunctionName(MlirOperation func);

/** The public func.func named `name`; a null operation (and a printed
 *  error) if there is none or it cannot be called from C. */
MlirOperation toolLookupEntry(MlirModule module, ToolDiagnostics *diagnostics,
                              const char *name);

/** The only public function of `module` (what --entry defaults to); a null
 *  operation after printing the public functions there are when there is
 *  not exactly one. */
MlirOperation toolOnlyPublicFunction(MlirModule module,
                                     ToolDiagnostics *diagnostics);

/** An MlirStringCallback that reports the message as an error of the tool;
 *  `diagnostics` is the ToolDiagnostics (for cageCPUTargetCheck and
 *  cageCPUExecutionEngineCreate). */
void toolReportError(MlirStringRef message, void *diagnostics);

#ifdef __cplusplus
}
#endif

#endif /* CAGE_TOOLS_TOOL_H */
