/*===- Pipeline.c - cage-cpu-pipeline and cage-cpu-abi --------------------===*\
|*                                                                            *|
|* The CPU pipeline is one textual pipeline (cageCPUPipelineGetString).      *|
|* cage-cpu-pipeline is registered as a pass pipeline with the same options, *|
|* so `cage-opt --cage-cpu-pipeline` and `cage-cpu-pipeline{threads=false}`  *|
|* in a textual pipeline add its passes one by one to the pass manager they  *|
|* are named in: IR printing, timing and crash reproducers see each of them. *|
|* The tools parse the string into their own pass manager.                   *|
|*                                                                            *|
|* cage-cpu-abi fixes what public functions look like from C before          *|
|* bufferization: tensor arguments are read-only (inputs are never           *|
|* overwritten by in-place bufferization) and every public function gets a   *|
|* _mlir_ciface_ wrapper.                                                    *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Passes.h"

#include "IR/Ops.h"
#include "IR/Text.h"

#include "cage-c/Target/CPU.h"
#include "cage/Conversion/Passes.h"
#include "cage/Dialect/Cage/Transforms/Passes.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/Affine.h"
#include "mlir-c/Dialect/Arith.h"
#include "mlir-c/Dialect/Bufferization.h"
#include "mlir-c/Dialect/ControlFlow.h"
#include "mlir-c/Dialect/Func.h"
#include "mlir-c/Dialect/Index.h"
#include "mlir-c/Dialect/LLVM.h"
#include "mlir-c/Dialect/Linalg.h"
#include "mlir-c/Dialect/Math.h"
#include "mlir-c/Dialect/MemRef.h"
#include "mlir-c/Dialect/OpenMP.h"
#include "mlir-c/Dialect/SCF.h"
#include "mlir-c/Dialect/Tensor.h"
#include "mlir-c/Dialect/Transform.h"
#include "mlir-c/Dialect/UB.h"
#include "mlir-c/Dialect/Vector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The widest vector tile the passes take, in f32 lanes. */
enum { kMaxVectorWidth = 1024 };

/*===----------------------------------------------------------------------===*
 * The pipeline string
 *===----------------------------------------------------------------------===*/

CageCPUPipelineOptions cageCPUPipelineOptionsGetDefault(void) {
  CageCPUPipelineOptions o = {.vectorize = true,
                              .vectorWidth = 16,
                              .threads = true,
                              .fuseUpdates = true,
                              .fuseElementwise = true,
                              .cInterface = true,
                              .hoistAllocations = true};
  return o;
}

/* Writes the pipeline into `buf`; returns false if it does not fit. */
static bool pipelineString(const CageCPUPipelineOptions *o, char *buf,
                           size_t size) {
  int64_t width = o->vectorWidth > 0 ? o->vectorWidth : 16;
  /* Register-blocked contractions, before the other linalg ops are
     generalized and tiled. */
  char tileContractions[96];
  snprintf(tileContractions, sizeof tileContractions,
           "cage-cpu-tile-contractions{vector-width=%lld threads=%d},",
           (long long)width, o->threads ? 1 : 0);
  int n = snprintf(
      buf, size,
      "builtin.module("
      /* Training steps of the functions with cage.param arguments. */
      "cage-autodiff,"
      /* Nothing is compiled whose static sizes overflow int64 or that
         cage-verify rejects (an unstable decoupled update, a constant
         t < 1). It runs after the fusion passes: an unfused CAGE step only
         becomes a cage.update, whose lr * lambda_t it checks, there. */
      "cage-cpu-check-sizes,"
      /* CAGE steps fused, cage ops to linalg, arith/math on tensors to
         linalg. */
      "func.func(%scage-verify,cage-lower-to-linalg,"
      "convert-elementwise-to-linalg),"
      /* linalg.softmax has no lowering of its own; exp and erf of f32 as
         polynomials; bf16 arithmetic in f32, bf16 conversions as integer
         ops (vectorizable, the same bits on every target). */
      "cage-cpu-decompose-softmax,cage-convert-math-to-arith,"
      "func.func(arith-emulate-unsupported-floats{source-types=bf16 "
      "target-type=f32}),cage-cpu-expand-bf16,"
      "cage-cpu-abi{c-interface=%d},"
      /* Contractions as named ops, which elementwise fusion never fuses
         producers into; then in the layout of their kernel, an operand's
         elementwise producer (its quantizer) computed as it is packed. */
      "canonicalize,cage-cpu-name-contractions,%s"
      "cage-cpu-pack-contractions{vector-width=%lld},"
      /* Tensors to buffers: tensor.empty feeding an insert becomes the
         destination itself, function boundaries get identity layouts. */
      "eliminate-empty-tensors,"
      "one-shot-bufferize{bufferize-function-boundaries "
      "function-boundary-type-conversion=identity-layout-map},"
      "buffer-deallocation-pipeline,convert-bufferization-to-memref,"
      /* Each buffer freed after its last use, not at the end of the
         function. */
      "canonicalize,cage-cpu-free-early,cage-cpu-runtime-checks{hoist-"
      "allocations=%d},"
      "canonicalize,"
      /* No memref.copy that needs MLIR's runtime library (memrefCopy). */
      "cage-cpu-expand-strided-copies,"
      /* Threads and vectors, on buffers (no false read-after-write
         conflicts from tiled tensors). */
      "%s"
      "func.func(linalg-generalize-named-ops),"
      "cage-cpu-tile{vectorize=%d vector-width=%lld threads=%d},"
      "func.func(lower-vector-mask),canonicalize,cse,"
      "func.func(lower-vector-multi-reduction,convert-linalg-to-loops),"
      "convert-vector-to-scf,%s,"
      /* To the LLVM dialect. finalize-memref-to-llvm must precede
         convert-scf-to-cf: convert-scf-to-openmp wraps loop bodies in
         memref.alloca_scope, which allows one block only. */
      "expand-strided-metadata,lower-affine,finalize-memref-to-llvm,"
      "convert-scf-to-cf,convert-vector-to-llvm,convert-math-to-llvm,"
      "convert-math-to-libm,convert-to-llvm,canonicalize,"
      "reconcile-unrealized-casts,cage-cpu-bf16-as-i16,"
      "cage-cpu-check-descriptors,"
      /* Repeated calls reuse their large buffers, pages and all. */
      "cage-cpu-cache-buffers,cage-cpu-check-lowered)",
      o->fuseUpdates ? "cage-fuse-correction,cage-fuse-multi-tensor," : "",
      o->cInterface ? 1 : 0,
      o->fuseElementwise ? "linalg-fuse-elementwise-ops," : "",
      (long long)width, o->hoistAllocations ? 1 : 0,
      o->vectorize ? tileContractions : "", o->vectorize ? 1 : 0,
      (long long)width, o->threads ? 1 : 0,
      o->threads ? "scf-forall-to-parallel,convert-scf-to-openmp"
                 : "scf-forall-to-for");
  return n > 0 && (size_t)n < size;
}

void cageCPUPipelineGetString(const CageCPUPipelineOptions *options,
                              MlirStringCallback callback, void *userData) {
  char buf[2048];
  if (!pipelineString(options, buf, sizeof buf))
    return;
  callback(mlirStringRefCreateFromCString(buf), userData);
}

MlirLogicalResult
cageCPUPipelineAddPasses(MlirOpPassManager passManager,
                         const CageCPUPipelineOptions *options,
                         MlirStringCallback errorCallback, void *userData) {
  char buf[2048];
  if (!pipelineString(options, buf, sizeof buf)) {
    if (errorCallback)
      errorCallback(mlirStringRefCreateFromCString("pipeline too long"),
                    userData);
    return mlirLogicalResultFailure();
  }
  cageRegisterCPUPasses(); /* the cage passes it names */
  return mlirParsePassPipeline(passManager, mlirStringRefCreateFromCString(buf),
                               errorCallback, userData);
}

/*===----------------------------------------------------------------------===*
 * cage-cpu-pipeline
 *===----------------------------------------------------------------------===*/

enum {
  kVectorize,
  kVectorWidth,
  kThreads,
  kFuseUpdates,
  kFuse,
  kCInterface,
  kHoistAllocations
};

/* The options of cage-cpu-pipeline (values in declaration order) as the
 * pipeline's; the message if they are invalid, else NULL. */
static const char *pipelineOptionsFrom(const CagePassOptionValue *options,
                                       CageCPUPipelineOptions *o) {
  *o = (CageCPUPipelineOptions){.vectorize = options[kVectorize].b,
                                .vectorWidth = options[kVectorWidth].i,
                                .threads = options[kThreads].b,
                                .fuseUpdates = options[kFuseUpdates].b,
                                .fuseElementwise = options[kFuse].b,
                                .cInterface = options[kCInterface].b,
                                .hoistAllocations =
                                    options[kHoistAllocations].b};
  if (o->vectorWidth < 1 || o->vectorWidth > kMaxVectorWidth)
    return "cage-cpu-pipeline: vector-width must be in [1, 1024]";
  return NULL;
}

bool cageCPUVectorWidthIsValid(MlirOperation op, int64_t width,
                               const char *passName, CagePassHandle pass) {
  if (width >= 1 && width <= kMaxVectorWidth)
    return true;
  char message[160];
  snprintf(message, sizeof message, "%s: vector-width must be in [1, %d]",
           passName, kMaxVectorWidth);
  mlirEmitError(mlirOperationGetLocation(op), message);
  cagePassSignalFailure(pass);
  return false;
}

/* The registered pipeline: its text for the shim to parse into the pass
 * manager that names it. */
static MlirLogicalResult buildPipeline(const CagePassOptionValue *options,
                                       MlirStringCallback pipeline,
                                       MlirStringCallback error,
                                       void *userData) {
  CageCPUPipelineOptions o;
  const char *invalid = pipelineOptionsFrom(options, &o);
  char buf[2048];
  if (!invalid && !pipelineString(&o, buf, sizeof buf))
    invalid = "cage-cpu-pipeline: the pipeline is too long";
  if (invalid) {
    error(mlirStringRefCreateFromCString(invalid), userData);
    return mlirLogicalResultFailure();
  }
  pipeline(mlirStringRefCreateFromCString(buf), userData);
  return mlirLogicalResultSuccess();
}

/* The pass of cageCreateCPUPipelinePass (C API): the pipeline in a nested
 * pass manager, for C programs that want it as one MlirPass. It is not
 * registered (the pipeline owns the name); printed in a textual pipeline,
 * `cage-cpu-pipeline{...}` reads back as the registered pipeline, which runs
 * the same passes. */
static void runPipeline(MlirOperation op, const CagePassOptionValue *options,
                        CagePassHandle pass) {
  CageCPUPipelineOptions o;
  const char *invalid = pipelineOptionsFrom(options, &o);
  MlirLocation loc = mlirOperationGetLocation(op);
  if (invalid) {
    mlirEmitError(loc, invalid);
    cagePassSignalFailure(pass);
    return;
  }
  MlirContext ctx = mlirOperationGetContext(op);
  MlirPassManager pm = mlirPassManagerCreateOnOperation(
      ctx, mlirStringRefCreateFromCString("builtin.module"));
  char buffer[1024];
  CageText message = cageTextOver(buffer, sizeof buffer);
  MlirLogicalResult parsed = cageCPUPipelineAddPasses(
      mlirPassManagerGetAsOpPassManager(pm), &o, cageTextAppend, &message);
  if (mlirLogicalResultIsFailure(parsed)) {
    char text[1200];
    snprintf(text, sizeof text, "cage-cpu-pipeline: %s", message.data);
    mlirEmitError(loc, text);
    cagePassSignalFailure(pass);
  } else if (mlirLogicalResultIsFailure(mlirPassManagerRunOnOp(pm, op))) {
    cagePassSignalFailure(pass); /* the failing pass has reported why */
  }
  mlirPassManagerDestroy(pm);
}

static const CagePassOption pipelineOptions[] = {
    [kVectorize] = {"vectorize",
                    "Vectorize linalg ops whose innermost loop is parallel "
                    "(the others become loops for LLVM's vectorizer)",
                    CagePassOptionBool,
                    {.b = true}},
    [kVectorWidth] = {"vector-width",
                      "Lanes of the vector tiles (16 f32 = one AVX-512 "
                      "register)",
                      CagePassOptionInt,
                      {.i = 16}},
    [kThreads] = {"threads",
                  "Run outer parallel loops on OpenMP threads "
                  "(OMP_NUM_THREADS at run time)",
                  CagePassOptionBool,
                  {.b = true}},
    [kFuseUpdates] = {"fuse-updates",
                      "Fuse unfused CAGE steps into cage.update and the "
                      "updates of a function into cage.multi_update",
                      CagePassOptionBool,
                      {.b = true}},
    [kFuse] = {"fuse-elementwise",
               "Fuse producer-consumer elementwise linalg ops on tensors",
               CagePassOptionBool,
               {.b = true}},
    [kCInterface] = {"c-interface",
                     "Give public functions _mlir_ciface_ wrappers",
                     CagePassOptionBool,
                     {.b = true}},
    [kHoistAllocations] = {"hoist-allocations",
                           "Allocate and check the buffers at the entry of "
                           "public functions (false: where they are needed)",
                           CagePassOptionBool,
                           {.b = true}},
};

/* Everything the nested pipeline of cageCreateCPUPipelinePass creates, loaded
 * before the outer pass manager runs: a nested pass manager must not load
 * dialects while the outer one is executing. (The registered pipeline's
 * passes declare their own.) */
static MlirDialectHandle (*const pipelineDialects[])(void) = {
    mlirGetDialectHandle__affine__,
    mlirGetDialectHandle__arith__,
    mlirGetDialectHandle__bufferization__,
    mlirGetDialectHandle__cf__,
    mlirGetDialectHandle__func__,
    mlirGetDialectHandle__index__,
    mlirGetDialectHandle__linalg__,
    mlirGetDialectHandle__llvm__,
    mlirGetDialectHandle__math__,
    mlirGetDialectHandle__memref__,
    mlirGetDialectHandle__omp__,
    mlirGetDialectHandle__scf__,
    mlirGetDialectHandle__tensor__,
    mlirGetDialectHandle__transform__,
    mlirGetDialectHandle__ub__,
    mlirGetDialectHandle__vector__,
};

static const char pipelineSummary[] =
    "Lower cage + tensors to the LLVM dialect for the CPU: linalg, "
    "bufferization, threads, vectors";

static const CagePassPipelineDefinition cageCPUPipeline = {
    .argument = "cage-cpu-pipeline",
    .summary = pipelineSummary,
    .options = pipelineOptions,
    .numOptions = sizeof pipelineOptions / sizeof pipelineOptions[0],
    .build = buildPipeline,
};

const CagePassDefinition cageCPUPipelinePass = {
    .argument = "cage-cpu-pipeline",
    .name = "CageCPUPipeline",
    .summary = pipelineSummary,
    .anchorOp = "builtin.module",
    .options = pipelineOptions,
    .numOptions = sizeof pipelineOptions / sizeof pipelineOptions[0],
    .dependentDialects = pipelineDialects,
    .numDependentDialects =
        sizeof pipelineDialects / sizeof pipelineDialects[0],
    .run = runPipeline,
};

/*===----------------------------------------------------------------------===*
 * cage-cpu-abi
 *===----------------------------------------------------------------------===*/

/* Public functions with a body: the ones C callers see. */
static bool isPublicDefinition(MlirOperation func) {
  MlirAttribute vis =
      mlirOperationGetInherentAttributeByName(func, cageStr("sym_visibility"));
  if (!mlirAttributeIsNull(vis) &&
      !mlirStringRefEqual(mlirStringAttrGetValue(vis), cageStr("public")))
    return false;
  MlirRegion body = mlirOperationGetRegion(func, 0);
  return !mlirBlockIsNull(mlirRegionGetFirstBlock(body));
}

/* `dict` with `name = value` set (replaced if present). */
static MlirAttribute dictionaryWith(MlirContext ctx, MlirAttribute dict,
                                    MlirStringRef name, MlirAttribute value) {
  intptr_t n =
      mlirAttributeIsNull(dict) ? 0 : mlirDictionaryAttrGetNumElements(dict);
  MlirNamedAttribute *elements =
      malloc(sizeof(MlirNamedAttribute) * (size_t)(n + 1));
  MlirIdentifier id = mlirIdentifierGet(ctx, name);
  intptr_t m = 0;
  for (intptr_t i = 0; i < n; ++i) {
    MlirNamedAttribute e = mlirDictionaryAttrGetElement(dict, i);
    if (!mlirIdentifierEqual(e.name, id))
      elements[m++] = e;
  }
  elements[m++] = mlirNamedAttributeGet(id, value);
  MlirAttribute result = mlirDictionaryAttrGet(ctx, m, elements);
  free(elements);
  return result;
}

typedef struct ABIState {
  bool cInterface;
} ABIState;

static MlirWalkResult fixFunction(MlirOperation op, void *userData) {
  ABIState *state = userData;
  if (!cageOpIs(op, "func.func") || !isPublicDefinition(op))
    return MlirWalkResultAdvance;
  MlirContext ctx = mlirOperationGetContext(op);
  if (state->cInterface)
    mlirOperationSetDiscardableAttributeByName(
        op, cageStr("llvm.emit_c_interface"), mlirUnitAttrGet(ctx));
  MlirBlock entry = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
  intptr_t numArgs = mlirBlockGetNumArguments(entry);
  MlirAttribute old =
      mlirOperationGetInherentAttributeByName(op, cageStr("arg_attrs"));
  bool anyTensor = false;
  for (intptr_t i = 0; i < numArgs; ++i)
    anyTensor |=
        mlirTypeIsATensor(mlirValueGetType(mlirBlockGetArgument(entry, i)));
  if (!anyTensor || numArgs == 0)
    return MlirWalkResultAdvance;
  MlirAttribute *dicts = malloc(sizeof(MlirAttribute) * (size_t)numArgs);
  for (intptr_t i = 0; i < numArgs; ++i) {
    MlirAttribute d = mlirAttributeIsNull(old)
                          ? mlirDictionaryAttrGet(ctx, 0, NULL)
                          : mlirArrayAttrGetElement(old, i);
    if (mlirTypeIsATensor(mlirValueGetType(mlirBlockGetArgument(entry, i))))
      d = dictionaryWith(ctx, d, cageStr("bufferization.writable"),
                         mlirBoolAttrGet(ctx, 0));
    dicts[i] = d;
  }
  mlirOperationSetInherentAttributeByName(
      op, cageStr("arg_attrs"), mlirArrayAttrGet(ctx, numArgs, dicts));
  free(dicts);
  return MlirWalkResultAdvance;
}

enum { kABICInterface };

static void runABI(MlirOperation op, const CagePassOptionValue *options,
                   CagePassHandle pass) {
  (void)pass;
  ABIState state = {options[kABICInterface].b};
  mlirOperationWalk(op, fixFunction, &state, MlirWalkPreOrder);
}

static const CagePassOption abiOptions[] = {
    [kABICInterface] = {"c-interface",
                        "Add llvm.emit_c_interface to public functions",
                        CagePassOptionBool,
                        {.b = true}},
};

static MlirDialectHandle (*const abiDialects[])(void) = {
    mlirGetDialectHandle__bufferization__,
    mlirGetDialectHandle__llvm__,
};

const CagePassDefinition cageCPUABIPass = {
    .argument = "cage-cpu-abi",
    .name = "CageCPUABI",
    .summary = "Public functions: read-only tensor arguments "
               "(bufferization.writable = false) and C interface wrappers",
    .anchorOp = "builtin.module",
    .options = abiOptions,
    .numOptions = 1,
    .dependentDialects = abiDialects,
    .numDependentDialects = 2,
    .run = runABI,
};

/*===----------------------------------------------------------------------===*
 * cage-cpu-check-lowered
 *===----------------------------------------------------------------------===*/

/* The upstream conversions are partial: an op none of them handles stays,
 * wrapped in unrealized casts, and only the translation to LLVM IR would
 * notice. This names the first such op at its location. */
typedef struct Unlowered {
  MlirOperation op;   /* the first op outside LLVM/OpenMP, not a cast */
  MlirOperation cast; /* the first unrealized conversion cast */
} Unlowered;

static MlirWalkResult findUnlowered(MlirOperation op, void *userData) {
  Unlowered *found = userData;
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
  if (cageOpIs(op, "builtin.module") ||
      (name.length > 5 && strncmp(name.data, "llvm.", 5) == 0) ||
      (name.length > 4 && strncmp(name.data, "omp.", 4) == 0))
    return MlirWalkResultAdvance;
  if (cageOpIs(op, "builtin.unrealized_conversion_cast")) {
    if (mlirOperationIsNull(found->cast))
      found->cast = op;
    return MlirWalkResultAdvance;
  }
  found->op = op;
  return MlirWalkResultInterrupt;
}

static void runCheck(MlirOperation op, const CagePassOptionValue *options,
                     CagePassHandle pass) {
  (void)options;
  Unlowered found = {{NULL}, {NULL}};
  mlirOperationWalk(op, findUnlowered, &found, MlirWalkPreOrder);
  char text[512];
  MlirOperation at = found.op;
  if (!mlirOperationIsNull(found.op)) {
    MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(found.op));
    snprintf(text, sizeof text,
             "cage-cpu-pipeline: '%.*s' was not lowered to the LLVM dialect",
             (int)name.length, name.data);
  } else if (!mlirOperationIsNull(found.cast)) {
    at = found.cast;
    snprintf(text, sizeof text,
             "cage-cpu-pipeline: a value here was not lowered to the LLVM "
             "dialect (an unrealized conversion cast is left)");
  } else {
    return;
  }
  mlirEmitError(mlirOperationGetLocation(at), text);
  cagePassSignalFailure(pass);
}

const CagePassDefinition cageCPUCheckLoweredPass = {
    .argument = "cage-cpu-check-lowered",
    .name = "CageCPUCheckLowered",
    .summary = "Fail at the first op that is not in the LLVM or OpenMP "
               "dialect (the end of cage-cpu-pipeline)",
    .anchorOp = "builtin.module",
    .run = runCheck,
};

/*===----------------------------------------------------------------------===*
 * cage-cpu-check-sizes
 *===----------------------------------------------------------------------===*/

/* The lowering computes sizes, strides and byte counts of static shapes in
 * int64 (and cage-cpu-tile its trip counts): a shape whose size overflows
 * int64 would make them wrap. The cage ops reject such shapes in their
 * verifiers; this pass rejects them wherever they appear (a linalg.generic,
 * a function signature, a memref.global) before anything is lowered. As in
 * the verifiers, a dimension of size 0 counts as 1: an empty tensor holds
 * nothing, but the strides of its other dimensions must still fit. */

/* The product of the static dimensions of a ranked shaped type; false if it
 * overflows int64. */
static bool staticElements(MlirType type, int64_t *elements) {
  *elements = 1;
  for (intptr_t d = 0; d < mlirShapedTypeGetRank(type); ++d) {
    int64_t size = mlirShapedTypeGetDimSize(type, d);
    if (!mlirShapedTypeIsDynamicDim(type, d) && size != 0 &&
        __builtin_mul_overflow(*elements, size, elements))
      return false;
  }
  return true;
}

/* The bytes of one element; false if they overflow int64. A type that does
 * not say (a pointer, an opaque type) counts as one byte. */
static bool elementBytes(MlirType type, int64_t *bytes) {
  if (mlirTypeIsAInteger(type)) {
    *bytes = ((int64_t)mlirIntegerTypeGetWidth(type) + 7) / 8;
    return true;
  }
  if (mlirTypeIsAFloat(type)) {
    *bytes = ((int64_t)mlirFloatTypeGetWidth(type) + 7) / 8;
    return true;
  }
  if (mlirTypeIsAIndex(type)) {
    *bytes = 8;
    return true;
  }
  if (mlirTypeIsAComplex(type))
    return elementBytes(mlirComplexTypeGetElementType(type), bytes) &&
           !__builtin_mul_overflow(*bytes, 2, bytes);
  int64_t elements, elementSize;
  if (mlirTypeIsAVector(type))
    return staticElements(type, &elements) &&
           elementBytes(mlirShapedTypeGetElementType(type), &elementSize) &&
           !__builtin_mul_overflow(elements, elementSize, bytes);
  *bytes = 1;
  return true;
}

/* What overflows in `type`, or NULL. */
static const char *overflowingSize(MlirType type) {
  if (!mlirTypeIsAShaped(type) || !mlirShapedTypeHasRank(type))
    return NULL;
  int64_t elements, elementSize, bytes;
  if (!staticElements(type, &elements))
    return "the product of its static dimensions overflows int64";
  if (!elementBytes(mlirShapedTypeGetElementType(type), &elementSize) ||
      __builtin_mul_overflow(elements, elementSize, &bytes))
    return "its size in bytes overflows int64";
  return NULL;
}

typedef struct SizeCheck {
  MlirOperation op;
  bool failed;
} SizeCheck;

/* Reports `type`, the type of `what` #`index` of the op (no index if
 * negative), if its size overflows; true if it does. */
static bool reportSize(SizeCheck *check, MlirType type, const char *what,
                       intptr_t index) {
  const char *overflow = overflowingSize(type);
  if (!overflow)
    return false;
  char name[160];
  if (index < 0)
    snprintf(name, sizeof name, "%s", what);
  else
    snprintf(name, sizeof name, "%s #%lld", what, (long long)index);
  char buffer[1024];
  CageText typeText = cageTextOver(buffer, sizeof buffer);
  mlirTypePrint(type, cageTextAppend, &typeText);
  char text[1400];
  snprintf(text, sizeof text,
           "cage-cpu-pipeline: %s of type '%s' is too large: %s", name,
           typeText.data, overflow);
  mlirEmitError(mlirOperationGetLocation(check->op), text);
  check->failed = true;
  return true;
}

/* A type attribute: a function signature (func.func) or the type of a
 * global (memref.global). */
static bool reportTypeAttr(SizeCheck *check, MlirType type) {
  if (!mlirTypeIsAFunction(type))
    return reportSize(check, type, "the type attribute", -1);
  for (intptr_t i = 0; i < mlirFunctionTypeGetNumInputs(type); ++i)
    if (reportSize(check, mlirFunctionTypeGetInput(type, i),
                   "function argument", i))
      return true;
  for (intptr_t i = 0; i < mlirFunctionTypeGetNumResults(type); ++i)
    if (reportSize(check, mlirFunctionTypeGetResult(type, i), "function result",
                   i))
      return true;
  return false;
}

/* One diagnostic per op, at the first overflowing type among its type
 * attributes, its results and the arguments of its blocks. Operands are
 * results or block arguments of ops that the walk also visits. */
static MlirWalkResult checkSizes(MlirOperation op, void *userData) {
  SizeCheck *check = userData;
  check->op = op;
  for (intptr_t i = 0; i < mlirOperationGetNumAttributes(op); ++i) {
    MlirAttribute attr = mlirOperationGetAttribute(op, i).attribute;
    if (mlirAttributeIsAType(attr) &&
        reportTypeAttr(check, mlirTypeAttrGetValue(attr)))
      return MlirWalkResultAdvance;
  }
  for (intptr_t i = 0; i < mlirOperationGetNumResults(op); ++i)
    if (reportSize(check, mlirValueGetType(mlirOperationGetResult(op, i)),
                   "result", i))
      return MlirWalkResultAdvance;
  for (intptr_t r = 0; r < mlirOperationGetNumRegions(op); ++r)
    for (MlirBlock block =
             mlirRegionGetFirstBlock(mlirOperationGetRegion(op, r));
         !mlirBlockIsNull(block); block = mlirBlockGetNextInRegion(block))
      for (intptr_t i = 0; i < mlirBlockGetNumArguments(block); ++i)
        if (reportSize(check, mlirValueGetType(mlirBlockGetArgument(block, i)),
                       "block argument", i))
          return MlirWalkResultAdvance;
  return MlirWalkResultAdvance;
}

static void runCheckSizes(MlirOperation op, const CagePassOptionValue *options,
                          CagePassHandle pass) {
  (void)options;
  SizeCheck check = {.failed = false};
  mlirOperationWalk(op, checkSizes, &check, MlirWalkPreOrder);
  if (check.failed)
    cagePassSignalFailure(pass);
}

const CagePassDefinition cageCPUCheckSizesPass = {
    .argument = "cage-cpu-check-sizes",
    .name = "CageCPUCheckSizes",
    .summary = "Fail at every op with a static shape whose size overflows "
               "int64, in elements or bytes (the start of cage-cpu-pipeline)",
    .anchorOp = "builtin.module",
    .run = runCheckSizes,
};

/*===----------------------------------------------------------------------===*
 * Public create and register functions
 *===----------------------------------------------------------------------===*/

MlirPass cageCreateCPUPipelinePass(void) {
  return cagePassCreate(&cageCPUPipelinePass);
}

MlirPass cageCreateCPUABIPass(void) { return cagePassCreate(&cageCPUABIPass); }

MlirPass cageCreateCPUTilePass(void) {
  return cagePassCreate(&cageCPUTilePass);
}

MlirPass cageCreateCPUCheckLoweredPass(void) {
  return cagePassCreate(&cageCPUCheckLoweredPass);
}

MlirPass cageCreateCPUCheckSizesPass(void) {
  return cagePassCreate(&cageCPUCheckSizesPass);
}

MlirPass cageCreateCPURuntimeChecksPass(void) {
  return cagePassCreate(&cageCPURuntimeChecksPass);
}

MlirPass cageCreateCPUExpandStridedCopiesPass(void) {
  return cagePassCreate(&cageCPUExpandStridedCopiesPass);
}

MlirPass cageCreateCPUCheckDescriptorsPass(void) {
  return cagePassCreate(&cageCPUCheckDescriptorsPass);
}

/* The CPU passes, the pipeline, and the cage passes that the pipeline names
 * (cageRegisterPasses registers them too; registering is idempotent), so
 * that the pipeline parses after this call and mlirRegisterAllPasses. */
void cageRegisterCPUPasses(void) {
  cagePassRegister(&cageAutodiffPass);
  cagePassRegister(&cageFuseCorrectionPass);
  cagePassRegister(&cageFuseMultiTensorPass);
  cagePassRegister(&cageVerifyPass);
  cagePassRegister(&cageLowerToLinalgPass);
  cagePassRegister(&cageConvertMathToArithPass);
  cagePassPipelineRegister(&cageCPUPipeline);
  cagePassRegister(&cageCPUABIPass);
  cagePassRegister(&cageCPUTilePass);
  cagePassRegister(&cageCPUCheckLoweredPass);
  cagePassRegister(&cageCPUCheckSizesPass);
  cagePassRegister(&cageCPURuntimeChecksPass);
  cagePassRegister(&cageCPUExpandStridedCopiesPass);
  cagePassRegister(&cageCPUCheckDescriptorsPass);
  cagePassRegister(&cageCPUBf16AsI16Pass);
  cagePassRegister(&cageCPUExpandBf16Pass);
  cagePassRegister(&cageCPUDecomposeSoftmaxPass);
  cagePassRegister(&cageCPUFreeEarlyPass);
  cagePassRegister(&cageCPUNameContractionsPass);
  cagePassRegister(&cageCPUPackContractionsPass);
  cagePassRegister(&cageCPUTileContractionsPass);
  cagePassRegister(&cageCPUCacheBuffersPass);
}
