/*===- Tool.h - What cage-run and cage-compile share --------------*- C -*-===*\
|*                                                                            *|
|* A context with every dialect, pass and translation registered and a      *|
|* diagnostic handler that prints file:line:col; parsing a file; running the *|
|* CPU pipeline; and the C view of a function signature: which argument and  *|
|* result types the _mlir_ciface_ calling convention can carry, and the      *|
|* layout of memref descriptors and result structs.                          *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_TOOLS_TOOL_H
#define CAGE_TOOLS_TOOL_H

#include "cage-c/Target/CPU.h"

#include "mlir-c/IR.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOOL_MAX_RANK 32

/*===----------------------------------------------------------------------===*
 * Context, diagnostics, parsing
 *===----------------------------------------------------------------------===*/

typedef struct ToolDiagnostics {
  const char *tool; /* "cage-run" */
  const char *file; /* for diagnostics without a file location */
  int errors;
} ToolDiagnostics;

/** A context with all upstream dialects, the cage dialect, all passes and
 *  LLVM translations registered, printing diagnostics to stderr. */
MlirContext toolCreateContext(ToolDiagnostics *diagnostics);

/** Parses `path`; a null module after printing why. */
MlirModule toolParseFile(MlirContext ctx, ToolDiagnostics *diagnostics,
                         const char *path);

/** Runs the CPU pipeline on `module`, with every pass visible to IR
 *  printing when `printIRAfterAll`. */
bool toolRunPipeline(MlirContext ctx, ToolDiagnostics *diagnostics,
                     MlirModule module, const CageCPUPipelineOptions *options,
                     bool printIRAfterAll);

/** Prints "tool: error: message" to stderr and counts the error. */
void toolError(ToolDiagnostics *diagnostics, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/*===----------------------------------------------------------------------===*
 * Command line
 *===----------------------------------------------------------------------===*/

/** Whether argv[*i] is the flag `name`, as `name VALUE` or `name=VALUE`;
 *  then its value in *value (null when `name` is the last argument) and *i
 *  advanced past what it consumed. */
bool toolFlagValue(int argc, char **argv, int *i, const char *name,
                   const char **value);

/** Applies `arg` if it is one of the pipeline flags both tools take
 *  (--no-vectorize, --no-threads, --no-fuse-updates) to `pipeline`. */
bool toolPipelineFlag(const char *arg, CageCPUPipelineOptions *pipeline);

/** Takes `arg`, which is not a known option, as the one input file in
 *  *file; else false after printing that it is an unknown option or a
 *  second input file. */
bool toolInputFileArg(ToolDiagnostics *diagnostics, const char *arg,
                      const char **file);

/** The textual form of a type, into buf. */
void toolTypeString(MlirType type, char *buf, size_t size);

/*===----------------------------------------------------------------------===*
 * Signatures
 *===----------------------------------------------------------------------===*/

typedef enum ToolElement {
  ToolF16,
  ToolBF16,
  ToolF32,
  ToolF64,
  ToolI1,
  ToolI8,
  ToolI16,
  ToolI32,
  ToolI64,
  ToolIndex,
} ToolElement;

typedef struct ToolValueType {
  bool shaped;   /* a ranked tensor or memref; else a scalar */
  bool isTensor; /* tensor (value semantics) or memref */
  ToolElement element;
  int rank;
  int64_t shape[TOOL_MAX_RANK]; /* -1: dynamic */
} ToolValueType;

/** Describes `type` if the C interface can carry it; else false and a
 *  reason in `why`. */
bool toolDescribeType(MlirType type, ToolValueType *result, char *why,
                      size_t whySize);

/** Size and alignment in bytes of a value as the C interface stores it in
 *  memory (a memref descriptor for shaped values). */
size_t toolValueSize(const ToolValueType *type);
size_t toolValueAlign(const ToolValueType *type);

/** Size and alignment of one element. */
size_t toolElementSize(ToolElement element);

/** Short name: "f32", "i64", "index", ... */
const char *toolElementName(ToolElement element);

/** The C type of one element: "float", "int64_t", "bool", ... */
const char *toolElementCType(ToolElement element);

/** The public func.func named `name`; a null operation (and a printed
 *  error) if there is none or it cannot be called from C. */
MlirOperation toolLookupEntry(MlirModule module, ToolDiagnostics *diagnostics,
                              const char *name);

/** Whether `op` is a func.func with a body and public visibility. */
bool toolIsPublicFunction(MlirOperation op);

/** The function type of a func.func. */
MlirType toolFunctionType(MlirOperation func);

/** The symbol name of a func.func. */
MlirStringRef toolFunctionName(MlirOperation func);

#endif /* CAGE_TOOLS_TOOL_H */
