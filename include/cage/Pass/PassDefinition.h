/*===- cage/Pass/PassDefinition.h - Passes written in C -----------*- C -*-===*\
|*                                                                            *|
|* A cage pass is a constant CagePassDefinition: its argument, summary,      *|
|* anchor op, dependent dialects, typed options and a run function. The C++  *|
|* shim (lib/CAPI/Pass) turns a definition into an mlir::Pass that appears in     *|
|* `cage-opt --help`, parses `argument{option=value}` in textual pipelines   *|
|* and clones itself with its options, which the MLIR C API's external       *|
|* passes cannot do. A CagePassPipelineDefinition names a pipeline of such   *|
|* passes the same way, with the same typed options; its passes run as       *|
|* passes of the pass manager it is named in.                                *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_PASS_PASSDEFINITION_H
#define CAGE_PASS_PASSDEFINITION_H

#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum CagePassOptionKind {
  CagePassOptionBool,
  CagePassOptionInt,
  CagePassOptionDouble,
  CagePassOptionString,
} CagePassOptionKind;

/** The value of one option; `s` points into the pass and lives as long as the
 *  run. */
typedef union CagePassOptionValue {
  bool b;
  int64_t i;
  double d;
  const char *s;
} CagePassOptionValue;

typedef struct CagePassOption {
  const char *argument;
  const char *description;
  CagePassOptionKind kind;
  CagePassOptionValue defaultValue;
} CagePassOption;

/** The running pass, for signalling failure. */
typedef struct CagePassHandle {
  void *ptr;
} CagePassHandle;

typedef struct CagePassDefinition {
  const char *argument; /* e.g. "cage-verify" */
  const char *name;     /* e.g. "CageVerify" */
  const char *summary;  /* one line, shown by --help */
  const char *anchorOp; /* e.g. "func.func"; NULL: any op */
  const CagePassOption *options;
  intptr_t numOptions;
  MlirDialectHandle (*const *dependentDialects)(void);
  intptr_t numDependentDialects;
  /* options[i] holds the value of the i-th declared option. */
  void (*run)(MlirOperation op, const CagePassOptionValue *options,
              CagePassHandle pass);
} CagePassDefinition;

/** Creates a pass with default options; the caller owns it. */
MlirPass cagePassCreate(const CagePassDefinition *definition);

/** Makes the pass known to textual pipelines and --help (idempotent). */
void cagePassRegister(const CagePassDefinition *definition);

/** A named pass pipeline: `--argument` or `argument{option=value ...}` in a
 *  textual pipeline adds the passes that `build` writes, one by one, to the
 *  pass manager it is named in (which must run on the pipeline's anchor op),
 *  so that IR printing, timing and crash reproducers see each of them. */
typedef struct CagePassPipelineDefinition {
  const char *argument; /* e.g. "cage-cpu-pipeline" */
  const char *summary;  /* one line, shown by --help */
  const CagePassOption *options;
  intptr_t numOptions;
  /* options[i] holds the value of the i-th declared option. Writes the
     pipeline as text anchored on the op it runs on,
     `builtin.module(pass,func.func(pass),...)`, through `pipeline` (in one or
     more calls) and returns success; or writes why the options are invalid
     through `error` and returns failure. */
  MlirLogicalResult (*build)(const CagePassOptionValue *options,
                             MlirStringCallback pipeline,
                             MlirStringCallback error, void *userData);
} CagePassPipelineDefinition;

/** Makes the pipeline known to textual pipelines and --help (idempotent).
 *  The passes it names must be registered when it is parsed. */
void cagePassPipelineRegister(const CagePassPipelineDefinition *definition);

/** Marks the running pass as failed; its diagnostics have been emitted. */
void cagePassSignalFailure(CagePassHandle pass);

/** Emits a warning at `loc` (the MLIR C API only emits errors). */
void cageEmitWarning(MlirLocation loc, const char *message);

/** Emits a remark at `loc`: what a pass chose not to do, and why. */
void cageEmitRemark(MlirLocation loc, const char *message);

#ifdef __cplusplus
}
#endif

#endif /* CAGE_PASS_PASSDEFINITION_H */
