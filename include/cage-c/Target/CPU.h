/*===- cage-c/Target/CPU.h - CPU pipeline and code generation -----*- C -*-===*\
|*                                                                            *|
|* The CPU back end in two steps:                                            *|
|*                                                                            *|
|*  1. cage-cpu-pipeline, an MLIR pass pipeline from cage + tensors to the   *|
|*     LLVM dialect: cage-lower-to-linalg, elementwise fusion, one-shot      *|
|*     bufferization, tiling for threads and vector registers (transform     *|
|*     dialect), OpenMP for the outer parallel loops, lowering to LLVM.      *|
|*  2. cageCPUEmit: LLVM-C from there on: translation to LLVM IR, a          *|
|*     TargetMachine for the host or a named target, default<O3>, and an    *|
|*     object file, assembly, LLVM IR or bitcode.                            *|
|*                                                                            *|
|* The calling convention of the code (the _mlir_ciface_ entry points and    *|
|* their memref descriptors) is described in docs/Tools.md; how it carries   *|
|* each type (cageCPUValueTypeGet) and a C header declaring the entry        *|
|* points (cageCPUWriteHeader) are at the end of this file.                  *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_C_TARGET_CPU_H
#define CAGE_C_TARGET_CPU_H

#include "mlir-c/ExecutionEngine.h"
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"
#include "mlir-c/Support.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*===----------------------------------------------------------------------===*
 * The pipeline
 *===----------------------------------------------------------------------===*/

/** Options of cage-cpu-pipeline; the names in brackets are the pass options
 *  of `cage-cpu-pipeline{...}`. */
typedef struct CageCPUPipelineOptions {
  /** [vectorize] Vectorize linalg ops whose innermost loop is parallel
   *  (masked vectors of `vectorWidth` lanes); other ops become loops that
   *  LLVM's loop vectorizer handles where that is exact. */
  bool vectorize;
  /** [vector-width] Lanes of the vector tiles (f32 lanes; 16 fills one
   *  AVX-512 register, two AVX2 ones). Values < 1 mean the default, 16;
   *  cageCPUTargetVectorWidth gives the target's, which cage-compile,
   *  cage-run and Python's cage.compile use unless told otherwise. */
  int64_t vectorWidth;
  /** [threads] Run the outer parallel loops on OpenMP threads (libomp;
   *  OMP_NUM_THREADS at run time). */
  bool threads;
  /** [fuse-updates] Run cage-fuse-correction and cage-fuse-multi-tensor
   *  before lowering: unfused CAGE steps become cage.update, and the
   *  updates of a function that share hyper-parameters one
   *  cage.multi_update (one parallel region). */
  bool fuseUpdates;
  /** [fuse-elementwise] Fuse producer-consumer elementwise linalg ops on
   *  tensors before bufferization. */
  bool fuseElementwise;
  /** [c-interface] Give public functions _mlir_ciface_ wrappers. */
  bool cInterface;
  /** [hoist-allocations] Allocate the buffers whose sizes the arguments give
   *  at the entry of each public function and check them before anything is
   *  written (all then live for the whole call); false: allocate each where
   *  the code needs it and check it there (the peak memory of a training
   *  step is then that of its live buffers). New in API 1.0 (the struct
   *  grew: an incompatible change, hence the major version). */
  bool hoistAllocations;
} CageCPUPipelineOptions;

/** The defaults: vectorize, 16 lanes, threads, update fusion, elementwise
 *  fusion, C interface, allocations hoisted. */
MLIR_CAPI_EXPORTED CageCPUPipelineOptions
cageCPUPipelineOptionsGetDefault(void);

/** Writes the pipeline as one textual pipeline anchored on builtin.module,
 *  `builtin.module(func.func(cage-lower-to-linalg),canonicalize,...)`, in
 *  one or more calls to `callback`. Parse it into a pass manager with
 *  mlirParsePassPipeline (after cageRegisterPasses and
 *  mlirRegisterAllPasses) to see every pass, e.g. for IR printing. */
MLIR_CAPI_EXPORTED void
cageCPUPipelineGetString(const CageCPUPipelineOptions *options,
                         MlirStringCallback callback, void *userData);

/** Parses the pipeline into `passManager`, which must be anchored on
 *  builtin.module. On failure, the parser's message goes to
 *  `errorCallback` (may be NULL). */
MLIR_CAPI_EXPORTED MlirLogicalResult cageCPUPipelineAddPasses(
    MlirOpPassManager passManager, const CageCPUPipelineOptions *options,
    MlirStringCallback errorCallback, void *userData);

/** cage-cpu-pipeline: one pass on builtin.module that runs the whole
 *  pipeline (with its options as pass options) in a nested pass manager. */
MLIR_CAPI_EXPORTED MlirPass cageCreateCPUPipelinePass(void);

/** cage-cpu-abi: public functions get read-only tensor arguments
 *  (bufferization.writable = false, so inputs are never overwritten) and
 *  llvm.emit_c_interface. */
MLIR_CAPI_EXPORTED MlirPass cageCreateCPUABIPass(void);

/** cage-cpu-tile: tiles bufferized linalg.generic ops for OpenMP threads
 *  (scf.forall) and vector registers and vectorizes them, through the
 *  transform dialect. */
MLIR_CAPI_EXPORTED MlirPass cageCreateCPUTilePass(void);

/** cage-cpu-check-lowered: fails at the first op left outside the LLVM and
 *  OpenMP dialects (the upstream conversions are partial). */
MLIR_CAPI_EXPORTED MlirPass cageCreateCPUCheckLoweredPass(void);

/** cage-cpu-check-sizes: fails at every op with a static shape whose element
 *  or byte count overflows int64 (before any lowering computes with it). */
MLIR_CAPI_EXPORTED MlirPass cageCreateCPUCheckSizesPass(void);

/** cage-cpu-runtime-checks: runs the cf.assert checks of each public
 *  function at its entry, before it touches a buffer, and turns a failure
 *  into the message that the module's `const char *cage_last_error(void)`
 *  returns (NULL after a successful call) instead of an abort. */
MLIR_CAPI_EXPORTED MlirPass cageCreateCPURuntimeChecksPass(void);

/** cage-cpu-expand-strided-copies: a memref.copy from or into a buffer whose
 *  layout is not the identity becomes linalg.copy, so that no compiled
 *  object calls memrefCopy of MLIR's runtime library. */
MLIR_CAPI_EXPORTED MlirPass cageCreateCPUExpandStridedCopiesPass(void);

/** cage-cpu-check-descriptors: on the LLVM dialect, a public function first
 *  checks that the memref descriptors of its arguments describe dense
 *  row-major arrays of their types (offset 0, row-major strides, the static
 *  sizes), which its code assumes, and reports a failure through
 *  cage_last_error(). */
MLIR_CAPI_EXPORTED MlirPass cageCreateCPUCheckDescriptorsPass(void);

/** Registers cage-cpu-pipeline, cage-cpu-abi, cage-cpu-tile,
 *  cage-cpu-check-lowered, cage-cpu-check-sizes, cage-cpu-runtime-checks,
 *  cage-cpu-expand-strided-copies, cage-cpu-check-descriptors,
 *  cage-cpu-decompose-softmax, cage-cpu-free-early,
 *  cage-cpu-name-contractions, cage-cpu-pack-contractions,
 *  cage-cpu-tile-contractions and cage-cpu-cache-buffers, and the five cage passes the pipeline names
 *  (cage-autodiff, cage-fuse-correction, cage-fuse-multi-tensor, cage-verify,
 *  cage-lower-to-linalg), so that the pipeline parses after this call and
 *  mlirRegisterAllPasses (idempotent; cageRegisterPasses calls it). */
MLIR_CAPI_EXPORTED void cageRegisterCPUPasses(void);

/*===----------------------------------------------------------------------===*
 * Code generation
 *===----------------------------------------------------------------------===*/

typedef enum CageCPUOutputKind {
  CageCPUOutputObject,   /* relocatable object file (ELF on Linux) */
  CageCPUOutputAssembly, /* the target's assembly */
  CageCPUOutputLLVMIR,   /* optimized LLVM IR, as text */
  CageCPUOutputBitcode,  /* optimized LLVM IR, as bitcode */
} CageCPUOutputKind;

/** The machine to generate code for. NULL strings mean: the host's triple;
 *  the host's CPU and features when no triple and no CPU are given, the
 *  generic CPU of the triple otherwise. */
typedef struct CageCPUTarget {
  const char *triple;   /* e.g. "x86_64-unknown-linux-gnu" */
  const char *cpu;      /* e.g. "skylake-avx512", "haswell", "native" */
  const char *features; /* e.g. "+avx2,-avx512f" */
  int optLevel;         /* 0..3 for both default<ON> and code generation */
} CageCPUTarget;

/** The host, at -O3. */
MLIR_CAPI_EXPORTED CageCPUTarget cageCPUTargetGetDefault(void);

/** Checks `target` before anything is compiled: a GPU triple gets a
 *  message saying that GPU code does not come from the CPU back end, a CPU
 *  name the triple's target does not know "unknown CPU '...' for target
 *  ..." with the closest known name (LLVM itself only warns, then fails in
 *  code generation). Reports through `errorCallback` and returns false on
 *  either; an unknown triple passes (cageCPUEmit reports it). */
MLIR_CAPI_EXPORTED bool cageCPUTargetCheck(const CageCPUTarget *target,
                                           MlirStringCallback errorCallback,
                                           void *userData);

/** The f32 lanes of `target`'s vector registers (NULL: the host): 16 with
 *  AVX-512, 8 with AVX or AVX2, 4 otherwise (SSE, NEON and other 128-bit
 *  vector units). The pipeline's vectorWidth for code that runs there:
 *  the register block of its contractions is sized from it
 *  (docs/Passes.md). Check the target with cageCPUTargetCheck first: LLVM
 *  warns on stderr about a CPU it does not know and ignores it. New in API
 *  1.4. */
MLIR_CAPI_EXPORTED int64_t
cageCPUTargetVectorWidth(const CageCPUTarget *target);

/** An execution engine for `module` (in the LLVM dialect) at `optLevel` for
 *  the host, loading the shared libraries `libs`, as
 *  mlirExecutionEngineCreate makes one, but with LLVM's perf and GDB JIT
 *  event listeners registered only when asked for (mlirExecutionEngineCreate
 *  always registers both, and the perf one writes a jitdump under
 *  $TMPDIR/.debug/jit on every run). A null engine after reporting why
 *  through `errorCallback`; destroy it with mlirExecutionEngineDestroy. */
MLIR_CAPI_EXPORTED MlirExecutionEngine cageCPUExecutionEngineCreate(
    MlirModule module, int optLevel, int numLibs, const MlirStringRef *libs,
    bool perfListener, bool gdbListener, MlirStringCallback errorCallback,
    void *userData);

/** Translates `module` (in the LLVM dialect, e.g. after cage-cpu-pipeline)
 *  to LLVM IR, sets its triple and data layout from the target machine,
 *  runs default<ON> and writes the output through `callback` (in one or
 *  more calls; binary for objects and bitcode). Objects are position
 *  independent. Errors (an unknown triple, a failed translation) are
 *  emitted as diagnostics at the module's location. */
MLIR_CAPI_EXPORTED MlirLogicalResult cageCPUEmit(MlirModule module,
                                                 const CageCPUTarget *target,
                                                 CageCPUOutputKind kind,
                                                 MlirStringCallback callback,
                                                 void *userData);

/*===----------------------------------------------------------------------===*
 * The C interface of compiled functions
 *===----------------------------------------------------------------------===*/

/** Element types of the arguments and results the C interface carries, and
 *  their C types in memory: f16 and bf16 as their bits (uint16_t), f32
 *  float, f64 double, i1 bool (one byte), i8 ... i64 int8_t ... int64_t,
 *  index int64_t. */
typedef enum CageCPUElementType {
  CageCPUElementF16,
  CageCPUElementBF16,
  CageCPUElementF32,
  CageCPUElementF64,
  CageCPUElementI1,
  CageCPUElementI8,
  CageCPUElementI16,
  CageCPUElementI32,
  CageCPUElementI64,
  CageCPUElementIndex,
} CageCPUElementType;

/** How the C interface of a public function (its _mlir_ciface_ entry point,
 *  docs/Tools.md "The AOT ABI") carries an argument or result type. */
typedef struct CageCPUValueType {
  /** A ranked tensor or memref, passed as a pointer to a memref descriptor
   *  {allocated, aligned, offset, sizes[rank], strides[rank]}; else a
   *  scalar, passed by value. */
  bool shaped;
  /** A tensor (an argument the function only reads, a result in a new
   *  buffer) rather than a memref (the caller's buffer, which it may write).
   */
  bool isTensor;
  CageCPUElementType element;
  /** The rank of a shaped type (its sizes are the type's:
   *  mlirShapedTypeGetDimSize); 0 for a scalar. */
  int64_t rank;
} CageCPUValueType;

/** Describes in `*result` how the C interface carries `type`: a scalar of
 *  one of the element types, or a ranked tensor or memref (identity layout,
 *  no memory space, no encoding) of one. Returns false, with the reason
 *  through `errorCallback` (may be NULL), for any other type (vectors,
 *  unranked types, unsigned or complex elements, ...). */
MLIR_CAPI_EXPORTED bool cageCPUValueTypeGet(MlirType type,
                                            CageCPUValueType *result,
                                            MlirStringCallback errorCallback,
                                            void *userData);

/** The element type's MLIR name: "f16", "bf16", "f32", ..., "index"; NULL
 *  for a value outside the enum. */
MLIR_CAPI_EXPORTED const char *
cageCPUElementTypeGetName(CageCPUElementType element);

/** The C type of one element in memory: "uint16_t", "float", "bool",
 *  "int64_t", ...; NULL for a value outside the enum. */
MLIR_CAPI_EXPORTED const char *
cageCPUElementTypeGetCType(CageCPUElementType element);

/** What cageCPUWriteHeader writes; a zero-initialized struct (every field
 *  NULL) gives the defaults. */
typedef struct CageCPUHeaderOptions {
  /** The entry point of a public function F is symbolPrefix + F (NULL:
   *  "_mlir_ciface_", MLIR's name for the C interface wrappers). */
  const char *symbolPrefix;
  /** The header's file name or path: its base name, upper case, other
   *  characters than letters and digits as '_', after CAGE_GENERATED_ makes
   *  the include guard (NULL: "cage.h"). */
  const char *headerName;
  /** The comment at the top says "Generated by <generatedBy>; do not edit."
   *  (NULL: "cage"), e.g. "cage-compile from step.mlir". */
  const char *generatedBy;
  /** The text the module was parsed from and the file name that its
   *  locations carry (what mlirModuleCreateParseFromFile or the sourceName
   *  of mlirOperationCreateParse was given; "-" for mlirModuleCreateParse).
   *  A parameter is named after the SSA name (%x: x) found at the location
   *  of its block argument in this text, when that makes a C identifier
   *  that is no keyword, not reserved and no name of the header's own; argN
   *  otherwise, and for every argument of a function where an argN would
   *  equal another argument's name. NULL text or file name: argN
   *  everywhere. */
  MlirStringRef sourceText;
  const char *sourceFile;
} CageCPUHeaderOptions;

/** Writes a strict C11 header (include guard, stdbool.h and stdint.h only,
 *  usable from C++) declaring the entry point of every public function of
 *  `module` as cage-cpu-pipeline compiles it with the C interface: one
 *  memref descriptor type per element type and rank (cage_memref_f32_2d,
 *  each behind #ifndef CAGE_MEMREF_F32_2D_DEFINED, so that several headers
 *  can be included together), a cage_F_results struct for several results,
 *  and the prototype. `module` is as parsed, before the pipeline lowers it:
 *  the header declares the source's signatures. The text goes through
 *  `callback` in one or more calls. A function the header cannot declare
 *  (a name that is not a C identifier, a type the C interface cannot carry,
 *  a scalar f16 or bf16, which C11 lacks) is an error emitted at its
 *  location; then nothing is written and the result is a failure. */
MLIR_CAPI_EXPORTED MlirLogicalResult
cageCPUWriteHeader(MlirModule module, const CageCPUHeaderOptions *options,
                   MlirStringCallback callback, void *userData);

#ifdef __cplusplus
}
#endif

#endif /* CAGE_C_TARGET_CPU_H */
