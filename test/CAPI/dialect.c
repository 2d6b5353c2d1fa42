// RUN: cage-capi-dialect-test 2>&1 | FileCheck %s

/*===- dialect.c - C API of the cage dialect: attributes and ops ----------===*\
|*                                                                            *|
|* Loads the dialect through its handle, builds every cage attribute from C, *|
|* reads every parameter back, checks the isa predicates, shows that invalid *|
|* parameters give a null attribute and a diagnostic, builds one op of each  *|
|* kind with the generic MlirOperationState API and walks a parsed module.   *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "CAPITest.h"

#include "IR/Text.h"

#include "cage-c/Dialect/Cage.h"
#include "cage-c/Version.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/Arith.h"
#include "mlir-c/Dialect/Func.h"
#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

static void printAttr(const char *label, MlirAttribute attr) {
  fprintf(stderr, "%s: ", label);
  if (mlirAttributeIsNull(attr))
    fprintf(stderr, "<<null>>");
  else
    mlirAttributePrint(attr, printToStderr, NULL);
  fprintf(stderr, "\n");
}

/* Whether the printed form of `attr` parses back to `attr` itself. */
static int roundTrips(MlirContext ctx, MlirAttribute attr) {
  char textData[1024];
  CageText text = cageTextOver(textData, sizeof textData);
  mlirAttributePrint(attr, cageTextAppend, &text);
  MlirAttribute parsed = mlirAttributeParseGet(ctx, str(text.data));
  if (mlirAttributeEqual(parsed, attr))
    return 1;
  fprintf(stderr, "does not round-trip: %s\n", text.data);
  return 0;
}

static MlirNamedAttribute named(MlirContext ctx, const char *name,
                                MlirAttribute attr) {
  return mlirNamedAttributeGet(mlirIdentifierGet(ctx, str(name)), attr);
}

/* Prints each diagnostic as `diagnostic: <severity>: <location>: <message>`
 * and counts it; it consumes them, so none reaches the default handler. */
static MlirLogicalResult handleDiagnostic(MlirDiagnostic diagnostic,
                                          void *userData) {
  static const char *const severities[] = {"error", "warning", "note",
                                           "remark"};
  fprintf(stderr, "diagnostic: %s: ",
          severities[mlirDiagnosticGetSeverity(diagnostic)]);
  mlirLocationPrint(mlirDiagnosticGetLocation(diagnostic), printToStderr, NULL);
  fprintf(stderr, ": ");
  mlirDiagnosticPrint(diagnostic, printToStderr, NULL);
  fprintf(stderr, "\n");
  ++*(int *)userData;
  return mlirLogicalResultSuccess();
}

static const char *granularityName(CageGranularity v) {
  switch (v) {
  case CageGranularityTensor:
    return "tensor";
  case CageGranularityRow:
    return "row";
  case CageGranularityGroup:
    return "group";
  }
  return "?";
}

static const char *scaleName(CageScaleKind v) {
  switch (v) {
  case CageScaleKindAbsmax:
    return "absmax";
  case CageScaleKindRmsGaussian:
    return "rms_gaussian";
  case CageScaleKindOperand:
    return "operand";
  }
  return "?";
}

static const char *levelsName(CageLevels v) {
  switch (v) {
  case CageLevelsInt:
    return "int";
  case CageLevelsCentered:
    return "centered";
  }
  return "?";
}

static const char *rotationName(CageRotation v) {
  switch (v) {
  case CageRotationNone:
    return "none";
  case CageRotationHadamard:
    return "hadamard";
  }
  return "?";
}

static const char *roundingName(CageRounding v) {
  switch (v) {
  case CageRoundingNearest:
    return "nearest";
  case CageRoundingStochastic:
    return "stochastic";
  }
  return "?";
}

//===----------------------------------------------------------------------===//
// Dialect handle and version
//===----------------------------------------------------------------------===//

// CHECK-LABEL: @testDialectHandle
// CHECK: namespace: cage
// CHECK: loaded: 1
static int testDialectHandle(MlirContext ctx) {
  fprintf(stderr, "@testDialectHandle\n");
  MlirDialectHandle handle = mlirGetDialectHandle__cage__();
  MlirStringRef ns = mlirDialectHandleGetNamespace(handle);
  fprintf(stderr, "namespace: %.*s\n", (int)ns.length, ns.data);
  MlirDialect dialect = mlirContextGetOrLoadDialect(ctx, ns);
  fprintf(stderr, "loaded: %d\n", !mlirDialectIsNull(dialect));
  return mlirDialectIsNull(dialect);
}

// CHECK-LABEL: @testVersion
// CHECK: API version 1.4 (0x00010004), header 1.4
static int testVersion(void) {
  fprintf(stderr, "@testVersion\n");
  int version = cageGetAPIVersion();
  fprintf(stderr, "API version %d.%d (0x%08x), header %d.%d\n", version >> 16,
          version & 0xffff, (unsigned)version, CAGE_C_API_VERSION_MAJOR,
          CAGE_C_API_VERSION_MINOR);
  return version ==
                 ((CAGE_C_API_VERSION_MAJOR << 16) | CAGE_C_API_VERSION_MINOR)
             ? 0
             : 1;
}

//===----------------------------------------------------------------------===//
// #cage.quantizer
//===----------------------------------------------------------------------===//

typedef struct QuantizerParams {
  int64_t bits;
  CageGranularity granularity;
  int64_t groupSize;
  CageScaleKind scale;
  CageLevels levels;
  CageRotation rotation;
  int64_t block;
  CageRounding rounding;
} QuantizerParams;

static MlirAttribute getQuantizer(MlirContext ctx, QuantizerParams p) {
  return cageQuantizerAttrGet(ctx, p.bits, p.granularity, p.groupSize, p.scale,
                              p.levels, p.rotation, p.block, p.rounding);
}

static void printQuantizerParams(MlirAttribute q) {
  fprintf(stderr,
          "  bits=%lld granularity=%s group_size=%lld scale=%s levels=%s "
          "rotation=%s block=%lld rounding=%s\n",
          (long long)cageQuantizerAttrGetBits(q),
          granularityName(cageQuantizerAttrGetGranularity(q)),
          (long long)cageQuantizerAttrGetGroupSize(q),
          scaleName(cageQuantizerAttrGetScale(q)),
          levelsName(cageQuantizerAttrGetLevels(q)),
          rotationName(cageQuantizerAttrGetRotation(q)),
          (long long)cageQuantizerAttrGetBlock(q),
          roundingName(cageQuantizerAttrGetRounding(q)));
}

/* Builds a quantizer, prints it and the parameters its accessors return, and
 * checks them against those it was built with and that it round-trips. */
static int buildAndReadQuantizer(MlirContext ctx, QuantizerParams p) {
  MlirAttribute q = getQuantizer(ctx, p);
  printAttr("quantizer", q);
  if (mlirAttributeIsNull(q))
    return 1;
  printQuantizerParams(q);
  int same = cageQuantizerAttrGetBits(q) == p.bits &&
             cageQuantizerAttrGetGranularity(q) == p.granularity &&
             cageQuantizerAttrGetGroupSize(q) == p.groupSize &&
             cageQuantizerAttrGetScale(q) == p.scale &&
             cageQuantizerAttrGetLevels(q) == p.levels &&
             cageQuantizerAttrGetRotation(q) == p.rotation &&
             cageQuantizerAttrGetBlock(q) == p.block &&
             cageQuantizerAttrGetRounding(q) == p.rounding;
  return same && roundTrips(ctx, q) ? 0 : 1;
}

// Every parameter away from its default; only the non-defaults print; a group
// may be larger than the Hadamard block (the two are independent).
// clang-format off
// CHECK-LABEL: @testQuantizerAttr
// CHECK: quantizer: #cage.quantizer<bits = 3, granularity = group, group_size = 64, scale = rms_gaussian, levels = centered, rotation = hadamard, block = 32, rounding = stochastic>
// CHECK-NEXT: bits=3 granularity=group group_size=64 scale=rms_gaussian levels=centered rotation=hadamard block=32 rounding=stochastic
// CHECK: quantizer: #cage.quantizer<bits = 8, granularity = tensor, scale = operand>
// CHECK-NEXT: bits=8 granularity=tensor group_size=128 scale=operand levels=int rotation=none block=128 rounding=nearest
// CHECK: quantizer: #cage.quantizer<bits = 2>
// CHECK-NEXT: bits=2 granularity=row group_size=128 scale=absmax levels=int rotation=none block=128 rounding=nearest
// CHECK: quantizer: #cage.quantizer<granularity = group, group_size = 256, rotation = hadamard, block = 2>
// CHECK-NEXT: bits=4 granularity=group group_size=256 scale=absmax levels=int rotation=hadamard block=2 rounding=nearest
// clang-format on
static int testQuantizerAttr(MlirContext ctx) {
  fprintf(stderr, "@testQuantizerAttr\n");
  static const QuantizerParams cases[] = {
      {3, CageGranularityGroup, 64, CageScaleKindRmsGaussian,
       CageLevelsCentered, CageRotationHadamard, 32, CageRoundingStochastic},
      {8, CageGranularityTensor, 128, CageScaleKindOperand, CageLevelsInt,
       CageRotationNone, 128, CageRoundingNearest},
      {2, CageGranularityRow, 128, CageScaleKindAbsmax, CageLevelsInt,
       CageRotationNone, 128, CageRoundingNearest},
      {4, CageGranularityGroup, 256, CageScaleKindAbsmax, CageLevelsInt,
       CageRotationHadamard, 2, CageRoundingNearest},
  };
  int failures = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i)
    failures += buildAndReadQuantizer(ctx, cases[i]);
  return failures;
}

// clang-format off
// CHECK-LABEL: @testQuantizerAttrGetDefault
// CHECK: default(4): #cage.quantizer<>
// CHECK-NEXT: bits=4 granularity=row group_size=128 scale=absmax levels=int rotation=none block=128 rounding=nearest
// CHECK: equals #cage.quantizer<bits = 4>: 1
// CHECK: equals spelled-out defaults: 1
// CHECK: default(6): #cage.quantizer<bits = 6>
// CHECK-NEXT: bits=6 granularity=row group_size=128 scale=absmax levels=int rotation=none block=128 rounding=nearest
// clang-format on
static int testQuantizerAttrGetDefault(MlirContext ctx) {
  fprintf(stderr, "@testQuantizerAttrGetDefault\n");
  MlirAttribute q4 = cageQuantizerAttrGetDefault(ctx, 4);
  printAttr("default(4)", q4);
  if (mlirAttributeIsNull(q4))
    return 1;
  printQuantizerParams(q4);
  int parsedEqual = mlirAttributeEqual(
      q4, mlirAttributeParseGet(ctx, str("#cage.quantizer<bits = 4>")));
  fprintf(stderr, "equals #cage.quantizer<bits = 4>: %d\n", parsedEqual);
  int spelledEqual = mlirAttributeEqual(
      q4, mlirAttributeParseGet(
              ctx, str("#cage.quantizer<bits = 4, granularity = row, "
                       "group_size = 128, scale = absmax, levels = int, "
                       "rotation = none, block = 128, rounding = nearest>")));
  fprintf(stderr, "equals spelled-out defaults: %d\n", spelledEqual);

  MlirAttribute q6 = cageQuantizerAttrGetDefault(ctx, 6);
  printAttr("default(6)", q6);
  if (mlirAttributeIsNull(q6))
    return 1;
  printQuantizerParams(q6);
  return parsedEqual && spelledEqual && cageQuantizerAttrGetBits(q6) == 6 ? 0
                                                                          : 1;
}

//===----------------------------------------------------------------------===//
// #cage.adamw and #cage.sgd
//===----------------------------------------------------------------------===//

static int buildAndReadAdamW(MlirContext ctx, float beta1, float beta2,
                             float eps, float weightDecay) {
  MlirAttribute attr = cageAdamWAttrGet(ctx, beta1, beta2, eps, weightDecay);
  printAttr("adamw", attr);
  if (mlirAttributeIsNull(attr))
    return 1;
  float r1 = cageAdamWAttrGetBeta1(attr), r2 = cageAdamWAttrGetBeta2(attr);
  float re = cageAdamWAttrGetEps(attr), rw = cageAdamWAttrGetWeightDecay(attr);
  fprintf(stderr, "  beta1=%g beta2=%g eps=%g weight_decay=%g\n", r1, r2, re,
          rw);
  return r1 == beta1 && r2 == beta2 && re == eps && rw == weightDecay &&
                 roundTrips(ctx, attr)
             ? 0
             : 1;
}

// The paper's defaults print as an empty parameter list.
// clang-format off
// CHECK-LABEL: @testAdamWAttr
// CHECK: adamw: #cage.adamw<beta2 = 0.999, eps = 1.0e-06, weight_decay = 0.01>
// CHECK-NEXT: beta1=0.9 beta2=0.999 eps=1e-06 weight_decay=0.01
// CHECK: adamw: #cage.adamw<beta1 = 0.0, beta2 = 0.5, eps = 0.125, weight_decay = 0.0>
// CHECK-NEXT: beta1=0 beta2=0.5 eps=0.125 weight_decay=0
// CHECK: adamw: #cage.adamw<>
// CHECK-NEXT: beta1=0.9 beta2=0.95 eps=1e-08 weight_decay=0.1
// clang-format on
static int testAdamWAttr(MlirContext ctx) {
  fprintf(stderr, "@testAdamWAttr\n");
  return buildAndReadAdamW(ctx, 0.9f, 0.999f, 1e-6f, 0.01f) +
         buildAndReadAdamW(ctx, 0.0f, 0.5f, 0.125f, 0.0f) +
         buildAndReadAdamW(ctx, 0.9f, 0.95f, 1e-8f, 0.1f);
}

static int buildAndReadSGD(MlirContext ctx, float momentum, float dampening,
                           bool nesterov, float weightDecay) {
  MlirAttribute attr =
      cageSGDAttrGet(ctx, momentum, dampening, nesterov, weightDecay);
  printAttr("sgd", attr);
  if (mlirAttributeIsNull(attr))
    return 1;
  float rm = cageSGDAttrGetMomentum(attr), rd = cageSGDAttrGetDampening(attr);
  bool rn = cageSGDAttrGetNesterov(attr);
  float rw = cageSGDAttrGetWeightDecay(attr);
  fprintf(stderr, "  momentum=%g dampening=%g nesterov=%d weight_decay=%g\n",
          rm, rd, rn, rw);
  return rm == momentum && rd == dampening && rn == nesterov &&
                 rw == weightDecay && roundTrips(ctx, attr)
             ? 0
             : 1;
}

// torch's defaults (plain SGD) print as an empty parameter list.
// clang-format off
// CHECK-LABEL: @testSGDAttr
// CHECK: sgd: #cage.sgd<momentum = 0.9, nesterov = true, weight_decay = 0.0001>
// CHECK-NEXT: momentum=0.9 dampening=0 nesterov=1 weight_decay=0.0001
// CHECK: sgd: #cage.sgd<momentum = 0.5, dampening = 1.0>
// CHECK-NEXT: momentum=0.5 dampening=1 nesterov=0 weight_decay=0
// CHECK: sgd: #cage.sgd<>
// CHECK-NEXT: momentum=0 dampening=0 nesterov=0 weight_decay=0
// clang-format on
static int testSGDAttr(MlirContext ctx) {
  fprintf(stderr, "@testSGDAttr\n");
  return buildAndReadSGD(ctx, 0.9f, 0.0f, true, 1e-4f) +
         buildAndReadSGD(ctx, 0.5f, 1.0f, false, 0.0f) +
         buildAndReadSGD(ctx, 0.0f, 0.0f, false, 0.0f);
}

/* #cage.param: built, read back, printed, round-tripped; invalid ones are
 * null with one diagnostic. */
// clang-format off
// CHECK-LABEL: @testParamAttr
// CHECK: param: #cage.param<>
// CHECK-NEXT: optimizer=#cage.adamw<> cage=1 quantizer=<<null>> coupling=1 error=0 lambda=10 silence=0.8 schedule=0 estimator=1 round-trips=1
// CHECK: param: #cage.param<optimizer = #cage.sgd<momentum = 0.9>, quantizer = <bits = 3>, coupling = coupled, error = zero_clipped, lambda = 5.0, silence = 0.5, schedule = constant, estimator = identity>
// CHECK-NEXT: optimizer=#cage.sgd<momentum = 0.9> cage=1 quantizer=#cage.quantizer<bits = 3> coupling=0 error=1 lambda=5 silence=0.5 schedule=1 estimator=0 round-trips=1
// CHECK: param: #cage.param<cage = false>
// CHECK: diagnostic: error: loc(unknown): lambda has no effect with cage = false (no correction)
// CHECK-NEXT: invalid: null=1 diagnostics=1
// CHECK: diagnostic: error: loc(unknown): optimizer must be #cage.adamw<...> or #cage.sgd<...>, got #cage.quantizer<bits = 3>
// CHECK-NEXT: not an optimizer: null=1 diagnostics=1
// clang-format on
static void printParam(MlirContext ctx, MlirAttribute p) {
  printAttr("param", p);
  fprintf(stderr, "optimizer=");
  mlirAttributePrint(cageParamAttrGetOptimizer(p), printToStderr, NULL);
  fprintf(stderr, " cage=%d quantizer=", cageParamAttrGetCage(p));
  MlirAttribute q = cageParamAttrGetQuantizer(p);
  if (mlirAttributeIsNull(q))
    fprintf(stderr, "<<null>>");
  else
    mlirAttributePrint(q, printToStderr, NULL);
  fprintf(stderr,
          " coupling=%d error=%d lambda=%g silence=%g schedule=%d "
          "estimator=%d round-trips=%d\n",
          (int)cageParamAttrGetCoupling(p), (int)cageParamAttrGetError(p),
          (double)cageParamAttrGetLambda(p), (double)cageParamAttrGetSilence(p),
          (int)cageParamAttrGetSchedule(p), (int)cageParamAttrGetEstimator(p),
          roundTrips(ctx, p));
}

static int testParamAttr(MlirContext ctx) {
  fprintf(stderr, "@testParamAttr\n");
  MlirAttribute def = cageParamAttrGetDefault(ctx);
  printParam(ctx, def);
  MlirAttribute sgd = cageSGDAttrGet(ctx, 0.9f, 0.0f, false, 0.0f);
  MlirAttribute q3 = cageQuantizerAttrGetDefault(ctx, 3);
  MlirAttribute all = cageParamAttrGet(
      ctx, sgd, true, q3, CageCouplingCoupled, CageErrorModeZeroClipped, 5.0f,
      0.5f, CageScheduleKindConstant, CageEstimatorIdentity);
  printParam(ctx, all);
  MlirAttribute off = cageParamAttrGet(
      ctx, mlirAttributeGetNull(), false, mlirAttributeGetNull(),
      CageCouplingDecoupled, CageErrorModeKeep, 10.0f, 0.8f,
      CageScheduleKindLinearRamp, CageEstimatorClipped);
  printAttr("param", off);

  int diagnostics = 0, failures = 0;
  MlirDiagnosticHandlerID handler = mlirContextAttachDiagnosticHandler(
      ctx, handleDiagnostic, &diagnostics, NULL);
  MlirAttribute invalid = cageParamAttrGet(
      ctx, mlirAttributeGetNull(), false, mlirAttributeGetNull(),
      CageCouplingDecoupled, CageErrorModeKeep, 3.0f, 0.8f,
      CageScheduleKindLinearRamp, CageEstimatorClipped);
  fprintf(stderr, "invalid: null=%d diagnostics=%d\n",
          mlirAttributeIsNull(invalid), diagnostics);
  failures += !mlirAttributeIsNull(invalid) || diagnostics != 1;
  MlirAttribute notOptimizer =
      cageParamAttrGet(ctx, q3, true, mlirAttributeGetNull(),
                       CageCouplingDecoupled, CageErrorModeKeep, 10.0f, 0.8f,
                       CageScheduleKindLinearRamp, CageEstimatorClipped);
  fprintf(stderr, "not an optimizer: null=%d diagnostics=%d\n",
          mlirAttributeIsNull(notOptimizer), diagnostics - 1);
  failures += !mlirAttributeIsNull(notOptimizer) || diagnostics != 2;
  mlirContextDetachDiagnosticHandler(ctx, handler);
  return failures + !cageAttributeIsAParam(def) + !roundTrips(ctx, all) +
         cageAttributeIsAParam(q3);
}

//===----------------------------------------------------------------------===//
// #cage.fogzo
//===----------------------------------------------------------------------===//

// clang-format off
// CHECK-LABEL: @testFogzoAttr
// CHECK: fogzo: #cage.fogzo<>
// CHECK-NEXT: beta_min=0.999 start=0 seed=0 epsilon=0 direction=0 round-trips=1
// CHECK: fogzo: #cage.fogzo<beta_min = 0.5, start = 0.25, seed = -3, epsilon = 0.001, direction = unit_rms>
// CHECK-NEXT: beta_min=0.5 start=0.25 seed=-3 epsilon=0.001 direction=1 round-trips=1
// CHECK: param: #cage.param<cage = false, fogzo = <seed = 7>>
// CHECK-NEXT: fogzo of param: #cage.fogzo<seed = 7>
// CHECK: param: #cage.param<cage = false, quantizer = <bits = 3>, fogzo = <>>
// CHECK: diagnostic: error: loc(unknown): start must be in [0, 1), got 1.0
// CHECK-NEXT: invalid fogzo: null=1 diagnostics=1
// CHECK: diagnostic: error: loc({{.*}}): quantizer has no effect with cage = false (no correction)
// CHECK-NEXT: quantizer without a grid use: null=1 diagnostics=2
// CHECK: diagnostic: error: loc(unknown): fogzo must be a #cage.fogzo, got #cage.quantizer<bits = 3>
// CHECK-NEXT: not a fogzo: null=1 diagnostics=3
// clang-format on
static void printFogzo(MlirContext ctx, MlirAttribute f) {
  printAttr("fogzo", f);
  fprintf(stderr,
          "beta_min=%g start=%g seed=%lld epsilon=%g direction=%d "
          "round-trips=%d\n",
          (double)cageFogzoAttrGetBetaMin(f), (double)cageFogzoAttrGetStart(f),
          (long long)cageFogzoAttrGetSeed(f),
          (double)cageFogzoAttrGetEpsilon(f), (int)cageFogzoAttrGetDirection(f),
          roundTrips(ctx, f));
}

static int testFogzoAttr(MlirContext ctx) {
  fprintf(stderr, "@testFogzoAttr\n");
  MlirAttribute def =
      cageFogzoAttrGet(ctx, 0.999f, 0.0f, 0, 0.0f, CageFogzoDirectionUnitNorm);
  printFogzo(ctx, def);
  MlirAttribute all =
      cageFogzoAttrGet(ctx, 0.5f, 0.25f, -3, 0.001f, CageFogzoDirectionUnitRms);
  printFogzo(ctx, all);
  MlirAttribute off = cageParamAttrGet(
      ctx, mlirAttributeGetNull(), false, mlirAttributeGetNull(),
      CageCouplingDecoupled, CageErrorModeKeep, 10.0f, 0.8f,
      CageScheduleKindLinearRamp, CageEstimatorClipped);
  MlirAttribute seeded = cageParamAttrGetWithFogzo(
      off,
      cageFogzoAttrGet(ctx, 0.999f, 0.0f, 7, 0.0f, CageFogzoDirectionUnitNorm));
  printAttr("param", seeded);
  fprintf(stderr, "fogzo of param: ");
  mlirAttributePrint(cageParamAttrGetFogzo(seeded), printToStderr, NULL);
  fprintf(stderr, "\n");
  /* Without the correction, a quantizer is the grid of FOGZO's epsilon. */
  MlirAttribute q3 = cageQuantizerAttrGetDefault(ctx, 3);
  MlirAttribute grid = mlirAttributeParseGet(
      ctx, mlirStringRefCreateFromCString(
               "#cage.param<cage = false, quantizer = <bits = 3>, fogzo = "
               "#cage.fogzo<>>"));
  printAttr("param", grid);

  int diagnostics = 0, failures = 0;
  MlirDiagnosticHandlerID handler = mlirContextAttachDiagnosticHandler(
      ctx, handleDiagnostic, &diagnostics, NULL);
  MlirAttribute invalid =
      cageFogzoAttrGet(ctx, 0.999f, 1.0f, 0, 0.0f, CageFogzoDirectionUnitNorm);
  fprintf(stderr, "invalid fogzo: null=%d diagnostics=%d\n",
          mlirAttributeIsNull(invalid), diagnostics);
  failures += !mlirAttributeIsNull(invalid) || diagnostics != 1;
  /* An explicit epsilon needs no grid: the quantizer has no use. */
  MlirAttribute unused = mlirAttributeParseGet(
      ctx, mlirStringRefCreateFromCString(
               "#cage.param<cage = false, quantizer = <bits = 3>, fogzo = "
               "#cage.fogzo<epsilon = 0.01>>"));
  fprintf(stderr, "quantizer without a grid use: null=%d diagnostics=%d\n",
          mlirAttributeIsNull(unused), diagnostics);
  failures += !mlirAttributeIsNull(unused) || diagnostics != 2;
  MlirAttribute notFogzo = cageParamAttrGetWithFogzo(off, q3);
  fprintf(stderr, "not a fogzo: null=%d diagnostics=%d\n",
          mlirAttributeIsNull(notFogzo), diagnostics);
  failures += !mlirAttributeIsNull(notFogzo) || diagnostics != 3;
  mlirContextDetachDiagnosticHandler(ctx, handler);
  return failures + !cageAttributeIsAFogzo(def) + cageAttributeIsAFogzo(q3) +
         !mlirAttributeIsNull(cageParamAttrGetFogzo(off)) +
         !roundTrips(ctx, seeded) + !roundTrips(ctx, grid);
}

//===----------------------------------------------------------------------===//
// Enum attributes
//===----------------------------------------------------------------------===//

// CHECK-LABEL: @testEnumAttrs
// CHECK: estimator: #cage.estimator<identity> value=0
// CHECK: estimator: #cage.estimator<clipped> value=1
// CHECK: error: #cage.error<keep> value=0
// CHECK: error: #cage.error<zero_clipped> value=1
// CHECK: coupling: #cage.coupling<coupled> value=0
// CHECK: coupling: #cage.coupling<decoupled> value=1
// CHECK: schedule_kind: #cage.schedule_kind<linear_ramp> value=0
// CHECK: schedule_kind: #cage.schedule_kind<constant> value=1
static int testEnumAttrs(MlirContext ctx) {
  fprintf(stderr, "@testEnumAttrs\n");
  int failures = 0;
  // Builds the attribute, prints it and its value, and checks the value, the
  // isa predicate and the round trip.
#define CAGE_TEST_ENUM(label, Name, value)                                     \
  do {                                                                         \
    MlirAttribute attr = cage##Name##AttrGet(ctx, value);                      \
    fprintf(stderr, "%s: ", label);                                            \
    mlirAttributePrint(attr, printToStderr, NULL);                             \
    Cage##Name got = cage##Name##AttrGetValue(attr);                           \
    fprintf(stderr, " value=%d\n", (int)got);                                  \
    failures += got != (value) || !cageAttributeIsA##Name(attr) ||             \
                !roundTrips(ctx, attr);                                        \
  } while (0)
  CAGE_TEST_ENUM("estimator", Estimator, CageEstimatorIdentity);
  CAGE_TEST_ENUM("estimator", Estimator, CageEstimatorClipped);
  CAGE_TEST_ENUM("error", ErrorMode, CageErrorModeKeep);
  CAGE_TEST_ENUM("error", ErrorMode, CageErrorModeZeroClipped);
  CAGE_TEST_ENUM("coupling", Coupling, CageCouplingCoupled);
  CAGE_TEST_ENUM("coupling", Coupling, CageCouplingDecoupled);
  CAGE_TEST_ENUM("schedule_kind", ScheduleKind, CageScheduleKindLinearRamp);
  CAGE_TEST_ENUM("schedule_kind", ScheduleKind, CageScheduleKindConstant);
#undef CAGE_TEST_ENUM
  return failures;
}

//===----------------------------------------------------------------------===//
// isa predicates
//===----------------------------------------------------------------------===//

// One row per attribute, one column per predicate: exactly the diagonal is
// true, and builtin attributes are none of them.
// CHECK-LABEL: @testIsA
// CHECK: quantizer     Q=1 A=0 S=0 E=0 M=0 C=0 K=0
// CHECK: adamw         Q=0 A=1 S=0 E=0 M=0 C=0 K=0
// CHECK: sgd           Q=0 A=0 S=1 E=0 M=0 C=0 K=0
// CHECK: estimator     Q=0 A=0 S=0 E=1 M=0 C=0 K=0
// CHECK: error         Q=0 A=0 S=0 E=0 M=1 C=0 K=0
// CHECK: coupling      Q=0 A=0 S=0 E=0 M=0 C=1 K=0
// CHECK: schedule_kind Q=0 A=0 S=0 E=0 M=0 C=0 K=1
// CHECK: f32           Q=0 A=0 S=0 E=0 M=0 C=0 K=0
// CHECK: unit          Q=0 A=0 S=0 E=0 M=0 C=0 K=0
// CHECK: string        Q=0 A=0 S=0 E=0 M=0 C=0 K=0
static int testIsA(MlirContext ctx) {
  fprintf(stderr, "@testIsA\n");
  struct {
    const char *label;
    MlirAttribute attr;
  } rows[] = {
      {"quantizer", cageQuantizerAttrGetDefault(ctx, 4)},
      {"adamw", cageAdamWAttrGet(ctx, 0.9f, 0.95f, 1e-8f, 0.1f)},
      {"sgd", cageSGDAttrGet(ctx, 0.0f, 0.0f, false, 0.0f)},
      {"estimator", cageEstimatorAttrGet(ctx, CageEstimatorClipped)},
      {"error", cageErrorModeAttrGet(ctx, CageErrorModeZeroClipped)},
      {"coupling", cageCouplingAttrGet(ctx, CageCouplingCoupled)},
      {"schedule_kind",
       cageScheduleKindAttrGet(ctx, CageScheduleKindLinearRamp)},
      {"f32", mlirFloatAttrDoubleGet(ctx, mlirF32TypeGet(ctx), 0.5)},
      {"unit", mlirUnitAttrGet(ctx)},
      {"string", mlirStringAttrGet(ctx, str("cage"))},
  };
  int failures = 0;
  for (int i = 0; i < (int)(sizeof rows / sizeof rows[0]); ++i) {
    MlirAttribute a = rows[i].attr;
    bool isa[7] = {cageAttributeIsAQuantizer(a),   cageAttributeIsAAdamW(a),
                   cageAttributeIsASGD(a),         cageAttributeIsAEstimator(a),
                   cageAttributeIsAErrorMode(a),   cageAttributeIsACoupling(a),
                   cageAttributeIsAScheduleKind(a)};
    fprintf(stderr, "%-13s Q=%d A=%d S=%d E=%d M=%d C=%d K=%d\n", rows[i].label,
            isa[0], isa[1], isa[2], isa[3], isa[4], isa[5], isa[6]);
    for (int j = 0; j < 7; ++j)
      failures += isa[j] != (i == j);
  }
  return failures;
}

//===----------------------------------------------------------------------===//
// Invalid parameters: a null attribute and one error on the context
//===----------------------------------------------------------------------===//

typedef enum AttrKind { kQuantizer, kAdamW, kSGD } AttrKind;

typedef struct InvalidCase {
  const char *label;
  AttrKind kind;
  QuantizerParams quantizer;
  float hyper[4]; /* beta1, beta2, eps, wd; or momentum, dampening, -, wd */
  bool nesterov;
} InvalidCase;

#define Q(bits, granularity, groupSize, rotation, block)                       \
  kQuantizer, {bits,          CageGranularity##granularity,                    \
               groupSize,     CageScaleKindAbsmax,                             \
               CageLevelsInt, CageRotation##rotation,                          \
               block,         CageRoundingNearest},                            \
      {0}, false

static const InvalidCase kInvalidCases[] = {
    {"bits = 9", Q(9, Row, 128, None, 128)},
    {"bits = 1", Q(1, Row, 128, None, 128)},
    {"group_size = 3", Q(4, Group, 3, None, 128)},
    {"group_size = 0", Q(4, Group, 0, None, 128)},
    {"group_size without group", Q(4, Row, 64, None, 128)},
    {"block = -64", Q(4, Row, 128, Hadamard, -64)},
    {"block = 1", Q(4, Row, 128, Hadamard, 1)},
    {"block without hadamard", Q(4, Row, 128, None, 64)},
    {"beta1 = 1.0", kAdamW, {0}, {1.0f, 0.95f, 1e-8f, 0.1f}, false},
    {"beta2 = -0.5", kAdamW, {0}, {0.9f, -0.5f, 1e-8f, 0.1f}, false},
    {"eps = 0", kAdamW, {0}, {0.9f, 0.95f, 0.0f, 0.1f}, false},
    {"adamw weight_decay = -0.1",
     kAdamW,
     {0},
     {0.9f, 0.95f, 1e-8f, -0.1f},
     false},
    {"eps = nan", kAdamW, {0}, {0.9f, 0.95f, NAN, 0.1f}, false},
    {"nesterov, momentum = 0", kSGD, {0}, {0.0f, 0.0f, 0.0f, 0.0f}, true},
    {"nesterov, dampening = 0.5", kSGD, {0}, {0.9f, 0.5f, 0.0f, 0.0f}, true},
    {"momentum = -0.9", kSGD, {0}, {-0.9f, 0.0f, 0.0f, 0.0f}, false},
    {"dampening = 1.5", kSGD, {0}, {0.9f, 1.5f, 0.0f, 0.0f}, false},
    {"sgd weight_decay = -1", kSGD, {0}, {0.9f, 0.0f, 0.0f, -1.0f}, false},
    {"momentum = inf", kSGD, {0}, {INFINITY, 0.0f, 0.0f, 0.0f}, false},
};
#undef Q

static MlirAttribute buildInvalid(MlirContext ctx, const InvalidCase *c) {
  switch (c->kind) {
  case kQuantizer:
    return getQuantizer(ctx, c->quantizer);
  case kAdamW:
    return cageAdamWAttrGet(ctx, c->hyper[0], c->hyper[1], c->hyper[2],
                            c->hyper[3]);
  case kSGD:
    return cageSGDAttrGet(ctx, c->hyper[0], c->hyper[1], c->nesterov,
                          c->hyper[3]);
  }
  return mlirAttributeGetNull();
}

// Each case prints its diagnostic (from the handler), then its label, whether
// the attribute is null and how many diagnostics it emitted.
// clang-format off
// CHECK-LABEL: @testInvalidParameters
// CHECK: diagnostic: error: loc(unknown): bits must be in 2..8, got 9
// CHECK-NEXT: bits = 9: null=1 diagnostics=1
// CHECK: diagnostic: error: loc(unknown): bits must be in 2..8, got 1
// CHECK-NEXT: bits = 1: null=1 diagnostics=1
// CHECK: diagnostic: error: loc(unknown): group_size must be a power of two, got 3
// CHECK-NEXT: group_size = 3: null=1 diagnostics=1
// CHECK: diagnostic: error: loc(unknown): group_size must be a power of two, got 0
// CHECK-NEXT: group_size = 0: null=1 diagnostics=1
// CHECK: diagnostic: error: loc(unknown): group_size = 64 has no effect without granularity = group
// CHECK-NEXT: group_size without group: null=1 diagnostics=1
// CHECK: diagnostic: error: loc(unknown): block must be a power of two, got -64
// CHECK-NEXT: block = -64: null=1 diagnostics=1
// CHECK: diagnostic: error: loc(unknown): block = 1 makes the Hadamard rotation the identity: use a block of at least 2, or rotation = none
// CHECK-NEXT: block = 1: null=1 diagnostics=1
// CHECK: diagnostic: error: loc(unknown): block = 64 has no effect without rotation = hadamard
// CHECK-NEXT: block without hadamard: null=1 diagnostics=1
// CHECK: diagnostic: error: loc(unknown): beta1 must be in [0, 1), got 1.0
// CHECK-NEXT: beta1 = 1.0: null=1 diagnostics=1
// CHECK: diagnostic: error: loc(unknown): beta2 must be in [0, 1), got -0.5
// CHECK-NEXT: beta2 = -0.5: null=1 diagnostics=1
// CHECK: diagnostic: error: loc(unknown): eps must be positive and finite, got 0.0
// CHECK-NEXT: eps = 0: null=1 diagnostics=1
// CHECK: diagnostic: error: loc(unknown): weight_decay must be non-negative and finite, got -0.1
// CHECK-NEXT: adamw weight_decay = -0.1: null=1 diagnostics=1
// CHECK: diagnostic: error: loc(unknown): eps must be positive and finite, got nan
// CHECK-NEXT: eps = nan: null=1 diagnostics=1
// CHECK: diagnostic: error: loc(unknown): nesterov requires a positive momentum and zero dampening, got momentum = 0.0 and dampening = 0.0
// CHECK-NEXT: nesterov, momentum = 0: null=1 diagnostics=1
// CHECK: diagnostic: error: loc(unknown): nesterov requires a positive momentum and zero dampening, got momentum = 0.9 and dampening = 0.5
// CHECK-NEXT: nesterov, dampening = 0.5: null=1 diagnostics=1
// CHECK: diagnostic: error: loc(unknown): momentum must be non-negative and finite, got -0.9
// CHECK-NEXT: momentum = -0.9: null=1 diagnostics=1
// CHECK: diagnostic: error: loc(unknown): dampening must be in [0, 1], got 1.5
// CHECK-NEXT: dampening = 1.5: null=1 diagnostics=1
// CHECK: diagnostic: error: loc(unknown): weight_decay must be non-negative and finite, got -1.0
// CHECK-NEXT: sgd weight_decay = -1: null=1 diagnostics=1
// CHECK: diagnostic: error: loc(unknown): momentum must be non-negative and finite, got inf
// CHECK-NEXT: momentum = inf: null=1 diagnostics=1
// CHECK: rejected 19 of 19
// clang-format on
static int testInvalidParameters(MlirContext ctx) {
  fprintf(stderr, "@testInvalidParameters\n");
  int diagnostics = 0, rejected = 0;
  MlirDiagnosticHandlerID handler = mlirContextAttachDiagnosticHandler(
      ctx, handleDiagnostic, &diagnostics, NULL);
  int n = (int)(sizeof kInvalidCases / sizeof kInvalidCases[0]);
  for (int i = 0; i < n; ++i) {
    int before = diagnostics;
    MlirAttribute attr = buildInvalid(ctx, &kInvalidCases[i]);
    int emitted = diagnostics - before;
    fprintf(stderr, "%s: null=%d diagnostics=%d\n", kInvalidCases[i].label,
            mlirAttributeIsNull(attr), emitted);
    rejected += mlirAttributeIsNull(attr) && emitted == 1;
  }
  mlirContextDetachDiagnosticHandler(ctx, handler);
  fprintf(stderr, "rejected %d of %d\n", rejected, n);
  return n - rejected;
}

//===----------------------------------------------------------------------===//
// Ops built with the generic MlirOperationState API
//===----------------------------------------------------------------------===//

static MlirLocation locAt(MlirContext ctx, unsigned line) {
  return mlirLocationFileLineColGet(ctx, str("dialect.c"), line, 1);
}

/* Creates `name` with the given operands, result types and attributes and
 * appends it to `block`. */
static MlirOperation appendOp(MlirBlock block, MlirLocation loc,
                              const char *name, intptr_t numOperands,
                              const MlirValue *operands, intptr_t numResults,
                              const MlirType *results, intptr_t numAttributes,
                              const MlirNamedAttribute *attributes) {
  MlirOperationState state = mlirOperationStateGet(str(name), loc);
  mlirOperationStateAddOperands(&state, numOperands, operands);
  mlirOperationStateAddResults(&state, numResults, results);
  mlirOperationStateAddAttributes(&state, numAttributes, attributes);
  MlirOperation op = mlirOperationCreate(&state);
  mlirBlockAppendOwnedOperation(block, op);
  return op;
}

static MlirAttribute f32Attr(MlirContext ctx, double value) {
  return mlirFloatAttrDoubleGet(ctx, mlirF32TypeGet(ctx), value);
}

/* The function's arguments. */
enum {
  kX, /* tensor<4x8xf32> */
  kDy,
  kW,
  kG,
  kM,
  kV,
  kB,
  kScale, /* tensor<4xf32>: one clip value per row */
  kSeed,  /* i64 */
  kStep,
  kTotal,
  kNumArgs
};

// One op of each kind in a func.func, built from C, verified and printed in
// the custom form. The ops with optional operands (cage.quantize,
// cage.update) take `operandSegmentSizes` like any AttrSizedOperandSegments
// op; the defaulted attributes (lambda_schedule's, error, coupling) print
// only when they are not the default.
// clang-format off
// CHECK-LABEL: @testBuildOps
// CHECK: verified: 1
// CHECK: func.func @train(%[[X:.*]]: tensor<4x8xf32>, %[[DY:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<4x8xf32>, %[[G:.*]]: tensor<4x8xf32>, %[[M:.*]]: tensor<4x8xf32>, %[[V:.*]]: tensor<4x8xf32>, %[[B:.*]]: tensor<4x8xf32>, %[[A:.*]]: tensor<4xf32>, %[[S:.*]]: i64, %[[T:.*]]: i64, %[[TT:.*]]: i64) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
// CHECK-NEXT: %[[LR:.*]] = arith.constant 1.000000e-03 : f32
// CHECK-NEXT: %[[L:.*]] = cage.lambda_schedule %[[T]], %[[TT]] {lambda = 5.0 : f32, silence = 0.5 : f32, kind = constant}
// CHECK-NEXT: %[[L2:.*]] = cage.lambda_schedule %[[T]], %[[TT]]{{$}}
// CHECK-NEXT: cage.quantize %[[X]] seed(%[[S]]) {quantizer = #cage.quantizer<bits = 3, rounding = stochastic>} : tensor<4x8xf32>
// CHECK-NEXT: cage.quantize %[[X]] scale(%[[A]]) {quantizer = #cage.quantizer<scale = operand>} : tensor<4x8xf32>, tensor<4xf32>
// CHECK-NEXT: cage.ste %[[DY]], %[[X]] scale(%[[A]]) {quantizer = #cage.quantizer<scale = operand>, estimator = clipped} : tensor<4x8xf32>, tensor<4xf32>
// CHECK-NEXT: cage.ste %[[DY]], %[[X]] {quantizer = #cage.quantizer<bits = 3, rounding = stochastic>, estimator = identity} : tensor<4x8xf32>
// CHECK-NEXT: cage.quant_error %[[W]] {quantizer = #cage.quantizer<granularity = group, group_size = 4, rotation = hadamard, block = 8>, error = zero_clipped} : tensor<4x8xf32>
// CHECK-NEXT: cage.adamw %[[W]], %[[G]], %[[M]], %[[V]], %[[LR]], %[[T]] {beta2 = 0.999 : f32} : tensor<4x8xf32>
// CHECK-NEXT: cage.sgd %[[W]], %[[G]], %[[B]], %[[LR]] {momentum = 0.9 : f32, nesterov = true} : tensor<4x8xf32>
// CHECK-NEXT: %[[U1:.*]], %{{.*}}:2 = cage.update %[[W]], %[[G]], %[[M]], %[[V]], %[[LR]], %[[L2]], %[[T]] {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<4x8xf32>
// CHECK-NEXT: %[[U2:.*]], %{{.*}} = cage.update %[[W]], %[[G]], %[[B]], %[[LR]], %[[L]] {quantizer = #cage.quantizer<bits = 3>, optimizer = #cage.sgd<momentum = 0.9, nesterov = true>, coupling = coupled, error = zero_clipped} : tensor<4x8xf32>
// CHECK-NEXT: return %[[U1]], %[[U2]] : tensor<4x8xf32>, tensor<4x8xf32>
// clang-format on
static int testBuildOps(MlirContext ctx) {
  fprintf(stderr, "@testBuildOps\n");
  MlirType f32 = mlirF32TypeGet(ctx), i64 = mlirIntegerTypeGet(ctx, 64);
  int64_t shape[] = {4, 8};
  MlirType tensor =
      mlirRankedTensorTypeGet(2, shape, f32, mlirAttributeGetNull());
  MlirType scaleTensor =
      mlirRankedTensorTypeGet(1, shape, f32, mlirAttributeGetNull());
  MlirLocation loc = locAt(ctx, __LINE__);

  MlirType argTypes[kNumArgs] = {tensor, tensor, tensor, tensor,
                                 tensor, tensor, tensor, scaleTensor,
                                 i64,    i64,    i64};
  MlirLocation argLocs[kNumArgs];
  for (int i = 0; i < kNumArgs; ++i)
    argLocs[i] = loc;
  MlirType resultTypes[] = {tensor, tensor};

  MlirModule module = mlirModuleCreateEmpty(loc);
  MlirRegion funcBody = mlirRegionCreate();
  MlirBlock body = mlirBlockCreate(kNumArgs, argTypes, argLocs);
  mlirRegionAppendOwnedBlock(funcBody, body);
  MlirValue arg[kNumArgs];
  for (int i = 0; i < kNumArgs; ++i)
    arg[i] = mlirBlockGetArgument(body, i);

  MlirNamedAttribute funcAttrs[] = {
      named(ctx, "sym_name", mlirStringAttrGet(ctx, str("train"))),
      named(ctx, "function_type",
            mlirTypeAttrGet(
                mlirFunctionTypeGet(ctx, kNumArgs, argTypes, 2, resultTypes)))};
  MlirOperationState funcState = mlirOperationStateGet(str("func.func"), loc);
  mlirOperationStateAddAttributes(&funcState, 2, funcAttrs);
  mlirOperationStateAddOwnedRegions(&funcState, 1, &funcBody);
  mlirBlockAppendOwnedOperation(mlirModuleGetBody(module),
                                mlirOperationCreate(&funcState));

  // %lr = arith.constant 1.0e-3 : f32
  MlirNamedAttribute constAttrs[] = {named(ctx, "value", f32Attr(ctx, 1e-3))};
  MlirValue lr = mlirOperationGetResult(appendOp(body, locAt(ctx, __LINE__),
                                                 "arith.constant", 0, NULL, 1,
                                                 &f32, 1, constAttrs),
                                        0);

  // %l = cage.lambda_schedule %t, %T with every attribute given, and %l2
  // with none (the defaults).
  MlirValue scheduleOperands[] = {arg[kStep], arg[kTotal]};
  MlirNamedAttribute scheduleAttrs[] = {
      named(ctx, "lambda", f32Attr(ctx, 5.0)),
      named(ctx, "silence", f32Attr(ctx, 0.5)),
      named(ctx, "kind",
            cageScheduleKindAttrGet(ctx, CageScheduleKindConstant))};
  MlirValue lambda = mlirOperationGetResult(
      appendOp(body, locAt(ctx, __LINE__), "cage.lambda_schedule", 2,
               scheduleOperands, 1, &f32, 3, scheduleAttrs),
      0);
  MlirValue defaultLambda = mlirOperationGetResult(
      appendOp(body, locAt(ctx, __LINE__), "cage.lambda_schedule", 2,
               scheduleOperands, 1, &f32, 0, NULL),
      0);

  // cage.quantize %x seed(%s): stochastic rounding.
  MlirAttribute stochastic = getQuantizer(
      ctx, (QuantizerParams){3, CageGranularityRow, 128, CageScaleKindAbsmax,
                             CageLevelsInt, CageRotationNone, 128,
                             CageRoundingStochastic});
  MlirValue seededOperands[] = {arg[kX], arg[kSeed]};
  int32_t seededSegments[] = {1, 1, 0};
  MlirNamedAttribute seededAttrs[] = {
      named(ctx, "quantizer", stochastic),
      named(ctx, "operandSegmentSizes",
            mlirDenseI32ArrayGet(ctx, 3, seededSegments))};
  appendOp(body, locAt(ctx, __LINE__), "cage.quantize", 2, seededOperands, 1,
           &tensor, 2, seededAttrs);

  // cage.quantize %x scale(%a): a learned clip value per row.
  MlirAttribute learned = getQuantizer(
      ctx, (QuantizerParams){4, CageGranularityRow, 128, CageScaleKindOperand,
                             CageLevelsInt, CageRotationNone, 128,
                             CageRoundingNearest});
  MlirValue scaledOperands[] = {arg[kX], arg[kScale]};
  int32_t scaledSegments[] = {1, 0, 1};
  MlirNamedAttribute scaledAttrs[] = {
      named(ctx, "quantizer", learned),
      named(ctx, "operandSegmentSizes",
            mlirDenseI32ArrayGet(ctx, 3, scaledSegments))};
  appendOp(body, locAt(ctx, __LINE__), "cage.quantize", 2, scaledOperands, 1,
           &tensor, 2, scaledAttrs);

  // %dx, %da = cage.ste %dy, %x scale(%a), and %dx = cage.ste %dy, %x (the
  // stochastic quantizer of the forward op can be shared as it is).
  MlirValue steOperands[] = {arg[kDy], arg[kX], arg[kScale]};
  MlirType steResults[] = {tensor, scaleTensor};
  MlirNamedAttribute steAttrs[] = {
      named(ctx, "quantizer", learned),
      named(ctx, "estimator", cageEstimatorAttrGet(ctx, CageEstimatorClipped))};
  appendOp(body, locAt(ctx, __LINE__), "cage.ste", 3, steOperands, 2,
           steResults, 2, steAttrs);
  MlirNamedAttribute identityAttrs[] = {
      named(ctx, "quantizer", stochastic),
      named(ctx, "estimator",
            cageEstimatorAttrGet(ctx, CageEstimatorIdentity))};
  appendOp(body, locAt(ctx, __LINE__), "cage.ste", 2, steOperands, 1,
           steResults, 2, identityAttrs);

  // %e = cage.quant_error %w: groups of 4 inside Hadamard blocks of 8.
  MlirAttribute grouped = getQuantizer(
      ctx, (QuantizerParams){4, CageGranularityGroup, 4, CageScaleKindAbsmax,
                             CageLevelsInt, CageRotationHadamard, 8,
                             CageRoundingNearest});
  MlirNamedAttribute errorAttrs[] = {
      named(ctx, "quantizer", grouped),
      named(ctx, "error", cageErrorModeAttrGet(ctx, CageErrorModeZeroClipped))};
  appendOp(body, locAt(ctx, __LINE__), "cage.quant_error", 1, &arg[kW], 1,
           &tensor, 2, errorAttrs);

  // cage.adamw %w, %g, %m, %v, %lr, %t
  MlirValue adamwOperands[] = {arg[kW], arg[kG], arg[kM],
                               arg[kV], lr,      arg[kStep]};
  MlirType adamwResults[] = {tensor, tensor, tensor};
  MlirNamedAttribute adamwAttrs[] = {named(ctx, "beta2", f32Attr(ctx, 0.999))};
  appendOp(body, locAt(ctx, __LINE__), "cage.adamw", 6, adamwOperands, 3,
           adamwResults, 1, adamwAttrs);

  // cage.sgd %w, %g, %b, %lr
  MlirValue sgdOperands[] = {arg[kW], arg[kG], arg[kB], lr};
  MlirType sgdResults[] = {tensor, tensor};
  MlirNamedAttribute sgdAttrs[] = {
      named(ctx, "momentum", f32Attr(ctx, 0.9)),
      named(ctx, "nesterov", mlirBoolAttrGet(ctx, 1))};
  appendOp(body, locAt(ctx, __LINE__), "cage.sgd", 4, sgdOperands, 2,
           sgdResults, 2, sgdAttrs);

  // cage.update with AdamW: decoupled (the default, spelled out here).
  MlirValue updateAdamWOperands[] = {arg[kW], arg[kG],       arg[kM],   arg[kV],
                                     lr,      defaultLambda, arg[kStep]};
  int32_t updateAdamWSegments[] = {1, 1, 2, 1, 1, 1, 0};
  MlirNamedAttribute updateAdamWAttrs[] = {
      named(ctx, "quantizer", cageQuantizerAttrGetDefault(ctx, 4)),
      named(ctx, "optimizer", cageAdamWAttrGet(ctx, 0.9f, 0.95f, 1e-8f, 0.1f)),
      named(ctx, "coupling", cageCouplingAttrGet(ctx, CageCouplingDecoupled)),
      named(ctx, "operandSegmentSizes",
            mlirDenseI32ArrayGet(ctx, 7, updateAdamWSegments))};
  MlirOperation updateAdamW =
      appendOp(body, locAt(ctx, __LINE__), "cage.update", 7,
               updateAdamWOperands, 3, adamwResults, 4, updateAdamWAttrs);

  // cage.update with SGD: coupled, zero_clipped, no step operand.
  MlirValue updateSGDOperands[] = {arg[kW], arg[kG], arg[kB], lr, lambda};
  int32_t updateSGDSegments[] = {1, 1, 1, 1, 1, 0, 0};
  MlirNamedAttribute updateSGDAttrs[] = {
      named(ctx, "quantizer", cageQuantizerAttrGetDefault(ctx, 3)),
      named(ctx, "optimizer", cageSGDAttrGet(ctx, 0.9f, 0.0f, true, 0.0f)),
      named(ctx, "coupling", cageCouplingAttrGet(ctx, CageCouplingCoupled)),
      named(ctx, "error", cageErrorModeAttrGet(ctx, CageErrorModeZeroClipped)),
      named(ctx, "operandSegmentSizes",
            mlirDenseI32ArrayGet(ctx, 7, updateSGDSegments))};
  MlirOperation updateSGD =
      appendOp(body, locAt(ctx, __LINE__), "cage.update", 5, updateSGDOperands,
               2, sgdResults, 5, updateSGDAttrs);

  MlirValue returned[] = {mlirOperationGetResult(updateAdamW, 0),
                          mlirOperationGetResult(updateSGD, 0)};
  appendOp(body, locAt(ctx, __LINE__), "func.return", 2, returned, 0, NULL, 0,
           NULL);

  MlirOperation moduleOp = mlirModuleGetOperation(module);
  bool verified = mlirOperationVerify(moduleOp);
  fprintf(stderr, "verified: %d\n", verified);
  mlirOperationPrint(moduleOp, printToStderr, NULL);
  fprintf(stderr, "\n");
  mlirModuleDestroy(module);
  return verified ? 0 : 1;
}

// An op built from C goes through its verifier, which reports at the op's
// location: cage.quant_error has no seed, so no stochastic quantizer.
// clang-format off
// CHECK-LABEL: @testOpVerifierFromC
// CHECK: diagnostic: error: loc("dialect.c":{{[0-9]+}}:1): 'cage.quant_error' op has no seed operand: its quantizer must use rounding = nearest
// CHECK-NEXT: verified: 0 diagnostics=1
// clang-format on
static int testOpVerifierFromC(MlirContext ctx) {
  fprintf(stderr, "@testOpVerifierFromC\n");
  int diagnostics = 0;
  MlirDiagnosticHandlerID handler = mlirContextAttachDiagnosticHandler(
      ctx, handleDiagnostic, &diagnostics, NULL);
  int64_t shape[] = {4, 8};
  MlirType tensor = mlirRankedTensorTypeGet(2, shape, mlirF32TypeGet(ctx),
                                            mlirAttributeGetNull());
  MlirLocation loc = locAt(ctx, __LINE__);
  MlirBlock block = mlirBlockCreate(1, &tensor, &loc);
  MlirValue w = mlirBlockGetArgument(block, 0);
  MlirNamedAttribute attrs[] = {
      named(ctx, "quantizer",
            getQuantizer(ctx, (QuantizerParams){4, CageGranularityRow, 128,
                                                CageScaleKindAbsmax,
                                                CageLevelsInt, CageRotationNone,
                                                128, CageRoundingStochastic}))};
  MlirOperation op = appendOp(block, locAt(ctx, __LINE__), "cage.quant_error",
                              1, &w, 1, &tensor, 1, attrs);
  bool verified = mlirOperationVerify(op);
  fprintf(stderr, "verified: %d diagnostics=%d\n", verified, diagnostics);
  mlirBlockDestroy(block);
  mlirContextDetachDiagnosticHandler(ctx, handler);
  return !verified && diagnostics == 1 ? 0 : 1;
}

// An attribute of the wrong kind in an MlirOperationState is dropped when the
// op stores it as a typed property; the verifier reports it rather than read
// a null attribute.
// clang-format off
// CHECK-LABEL: @testWrongKindAttrFromC
// CHECK: diagnostic: error: loc("dialect.c":{{[0-9]+}}:1): 'cage.lambda_schedule' op expects attribute 'lambda' to be an f32 value, like `lambda = 10.0 : f32`
// CHECK-NEXT: verified: 0 diagnostics=1
// clang-format on
static int testWrongKindAttrFromC(MlirContext ctx) {
  fprintf(stderr, "@testWrongKindAttrFromC\n");
  int diagnostics = 0;
  MlirDiagnosticHandlerID handler = mlirContextAttachDiagnosticHandler(
      ctx, handleDiagnostic, &diagnostics, NULL);
  MlirType i64 = mlirIntegerTypeGet(ctx, 64);
  MlirType f32 = mlirF32TypeGet(ctx);
  MlirLocation loc = locAt(ctx, __LINE__);
  MlirBlock block = mlirBlockCreate(1, &i64, &loc);
  MlirValue t = mlirBlockGetArgument(block, 0);
  MlirValue operands[] = {t, t};
  MlirNamedAttribute lambda = named(ctx, "lambda", mlirIntegerAttrGet(i64, 10));
  MlirOperation op =
      appendOp(block, locAt(ctx, __LINE__), "cage.lambda_schedule", 2, operands,
               1, &f32, 1, &lambda);
  bool verified = mlirOperationVerify(op);
  fprintf(stderr, "verified: %d diagnostics=%d\n", verified, diagnostics);
  mlirBlockDestroy(block);
  mlirContextDetachDiagnosticHandler(ctx, handler);
  return !verified && diagnostics == 1 ? 0 : 1;
}

//===----------------------------------------------------------------------===//
// A parsed module, walked from C
//===----------------------------------------------------------------------===//

static const char *const kParsedModule =
    "func.func @step(%x: tensor<64x256xf32>, %dy: tensor<64x256xf32>,\n"
    "                %a: tensor<64x2xf32>, %w: tensor<64x256xf32>,\n"
    "                %g: tensor<64x256xf32>, %b: tensor<64x256xf32>,\n"
    "                %lr: f32, %t: i64, %T: i64) -> tensor<64x256xf32> {\n"
    "  %q = cage.quantize %x scale(%a) {quantizer = #cage.quantizer<bits = 4, "
    "granularity = group, group_size = 128, scale = operand>} : "
    "tensor<64x256xf32>, tensor<64x2xf32>\n"
    "  %dx, %da = cage.ste %dy, %x scale(%a) {quantizer = "
    "#cage.quantizer<bits = 4, granularity = group, group_size = 128, "
    "scale = operand>, estimator = identity} : tensor<64x256xf32>, "
    "tensor<64x2xf32>\n"
    "  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 5, "
    "levels = centered>} : tensor<64x256xf32>\n"
    "  %l = cage.lambda_schedule %t, %T {kind = constant}\n"
    "  %w1, %b1 = cage.update %w, %g, %b, %lr, %l {quantizer = "
    "#cage.quantizer<bits = 3>, optimizer = #cage.sgd<momentum = 0.9, "
    "dampening = 0.0, nesterov = true, weight_decay = 0.0>, coupling = "
    "coupled, error = zero_clipped} : tensor<64x256xf32>\n"
    "  return %w1 : tensor<64x256xf32>\n"
    "}\n";

/* Prints `name` and, when the op has it, the enum value of attribute `attr`
 * (isa predicates, like mlirAttributeIsA*, need a non-null attribute). */
static void printEnumAttr(MlirOperation op, const char *name,
                          bool (*isA)(MlirAttribute),
                          int (*value)(MlirAttribute)) {
  MlirAttribute attr = mlirOperationGetAttributeByName(op, str(name));
  if (mlirAttributeIsNull(attr))
    return;
  if (isA(attr))
    fprintf(stderr, " %s=%d", name, value(attr));
  else
    fprintf(stderr, " %s=<not a cage enum>", name);
}

static int estimatorValue(MlirAttribute a) {
  return (int)cageEstimatorAttrGetValue(a);
}
static int errorModeValue(MlirAttribute a) {
  return (int)cageErrorModeAttrGetValue(a);
}
static int couplingValue(MlirAttribute a) {
  return (int)cageCouplingAttrGetValue(a);
}
static int scheduleKindValue(MlirAttribute a) {
  return (int)cageScheduleKindAttrGetValue(a);
}

static MlirWalkResult describeCageOp(MlirOperation op, void *userData) {
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
  if (name.length < 5 || strncmp(name.data, "cage.", 5) != 0)
    return MlirWalkResultAdvance;
  ++*(int *)userData;
  fprintf(stderr, "%.*s:", (int)name.length, name.data);
  MlirAttribute q = mlirOperationGetAttributeByName(op, str("quantizer"));
  if (!mlirAttributeIsNull(q) && cageAttributeIsAQuantizer(q))
    fprintf(stderr,
            " bits=%lld granularity=%s group_size=%lld scale=%s "
            "levels=%s",
            (long long)cageQuantizerAttrGetBits(q),
            granularityName(cageQuantizerAttrGetGranularity(q)),
            (long long)cageQuantizerAttrGetGroupSize(q),
            scaleName(cageQuantizerAttrGetScale(q)),
            levelsName(cageQuantizerAttrGetLevels(q)));
  printEnumAttr(op, "estimator", cageAttributeIsAEstimator, estimatorValue);
  printEnumAttr(op, "error", cageAttributeIsAErrorMode, errorModeValue);
  printEnumAttr(op, "kind", cageAttributeIsAScheduleKind, scheduleKindValue);
  printEnumAttr(op, "coupling", cageAttributeIsACoupling, couplingValue);
  MlirAttribute optimizer =
      mlirOperationGetAttributeByName(op, str("optimizer"));
  if (!mlirAttributeIsNull(optimizer) && cageAttributeIsASGD(optimizer))
    fprintf(stderr, " sgd(momentum=%g nesterov=%d)",
            cageSGDAttrGetMomentum(optimizer),
            cageSGDAttrGetNesterov(optimizer));
  fprintf(stderr, "\n");
  return MlirWalkResultAdvance;
}

// The walk reads the attributes of parsed ops back through the accessors;
// an inherent attribute left at its default (quant_error's `error`) reads
// back as the default.
// clang-format off
// CHECK-LABEL: @testParseAndWalk
// CHECK: cage.quantize: bits=4 granularity=group group_size=128 scale=operand levels=int
// CHECK-NEXT: cage.ste: bits=4 granularity=group group_size=128 scale=operand levels=int estimator=0
// CHECK-NEXT: cage.quant_error: bits=5 granularity=row group_size=128 scale=absmax levels=centered error=0
// CHECK-NEXT: cage.lambda_schedule: kind=1
// CHECK-NEXT: cage.update: bits=3 granularity=row group_size=128 scale=absmax levels=int error=1 coupling=0 sgd(momentum=0.9 nesterov=1)
// CHECK-NEXT: verified: 1 cage ops: 5
// clang-format on
static int testParseAndWalk(MlirContext ctx) {
  fprintf(stderr, "@testParseAndWalk\n");
  MlirModule module = mlirModuleCreateParse(ctx, str(kParsedModule));
  if (mlirModuleIsNull(module))
    return 1;
  MlirOperation moduleOp = mlirModuleGetOperation(module);
  int count = 0;
  mlirOperationWalk(moduleOp, describeCageOp, &count, MlirWalkPreOrder);
  bool verified = mlirOperationVerify(moduleOp);
  fprintf(stderr, "verified: %d cage ops: %d\n", verified, count);
  mlirModuleDestroy(module);
  return verified && count == 5 ? 0 : 1;
}

// CHECK-LABEL: @main
// CHECK: failures: 0
int main(void) {
  MlirContext ctx = mlirContextCreate();
  // The cage dialect through its handle, and the upstream dialects the ops
  // are built in (func, arith).
  MlirDialectHandle handles[] = {mlirGetDialectHandle__cage__(),
                                 mlirGetDialectHandle__func__(),
                                 mlirGetDialectHandle__arith__()};
  for (size_t i = 0; i < sizeof handles / sizeof handles[0]; ++i) {
    mlirDialectHandleRegisterDialect(handles[i], ctx);
    mlirDialectHandleLoadDialect(handles[i], ctx);
  }

  int failures = 0;
  failures += testDialectHandle(ctx);
  failures += testVersion();
  failures += testQuantizerAttr(ctx);
  failures += testQuantizerAttrGetDefault(ctx);
  failures += testAdamWAttr(ctx);
  failures += testSGDAttr(ctx);
  failures += testParamAttr(ctx);
  failures += testFogzoAttr(ctx);
  failures += testEnumAttrs(ctx);
  failures += testIsA(ctx);
  failures += testInvalidParameters(ctx);
  failures += testBuildOps(ctx);
  failures += testOpVerifierFromC(ctx);
  failures += testWrongKindAttrFromC(ctx);
  failures += testParseAndWalk(ctx);
  mlirContextDestroy(ctx);
  fprintf(stderr, "@main\nfailures: %d\n", failures);
  return failures ? 1 : 0;
}
