// RUN: cage-capi-builder-test 2>&1 | FileCheck %s

/* The builder layer (lib/IR/Builder.h) on its own, without any lowering:
 * each test builds a function, prints it and verifies it. */

#include "CAPITest.h"

#include "IR/Builder.h"

#include "mlir-c/AffineExpr.h"
#include "mlir-c/AffineMap.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/Arith.h"
#include "mlir-c/Dialect/Func.h"
#include "mlir-c/Dialect/Linalg.h"
#include "mlir-c/Dialect/Math.h"
#include "mlir-c/Dialect/Tensor.h"
#include "mlir-c/IR.h"
#include "mlir-c/Rewrite.h"

#include <stdio.h>

/* A module holding one func.func of the signature given as text; `entry`
 * receives its (empty) entry block. */
static MlirModule functionModule(MlirContext ctx, const char *name,
                                 const char *signature, MlirBlock *entry) {
  MlirLocation loc = mlirLocationUnknownGet(ctx);
  MlirModule module = mlirModuleCreateEmpty(loc);
  CageBuilder b = cageBuilderAtEndOfBlock(mlirModuleGetBody(module), loc);
  cageBuildFunc(&b, name, mlirTypeParseGet(ctx, str(signature)), entry);
  return module;
}

static void printVerifyAndDestroy(MlirModule module) {
  MlirOperation op = mlirModuleGetOperation(module);
  mlirOperationDump(op);
  fprintf(stderr, "verified: %d\n", mlirOperationVerify(op));
  mlirModuleDestroy(module);
}

static void printGenericForm(MlirOperation op) {
  MlirOpPrintingFlags flags = mlirOpPrintingFlagsCreate();
  mlirOpPrintingFlagsPrintGenericOpForm(flags);
  mlirOperationPrintWithFlags(op, flags, printToStderr, NULL);
  fprintf(stderr, "\n");
  mlirOpPrintingFlagsDestroy(flags);
}

static void testConstantsAndMath(MlirContext ctx) {
  fprintf(stderr, "TEST: constants_and_math\n");
  MlirBlock entry;
  MlirModule module =
      functionModule(ctx, "constants_and_math", "(f32, i64) -> f32", &entry);
  CageBuilder b = cageBuilderAtEndOfBlock(entry, mlirLocationUnknownGet(ctx));
  MlirValue x = mlirBlockGetArgument(entry, 0);
  MlirValue i = mlirBlockGetArgument(entry, 1);

  MlirValue two = cageBuildConstantF32(&b, 2.0f);
  MlirValue three = cageBuildConstantI64(&b, 3);
  MlirValue four = cageBuildConstantIndex(&b, 4);
  MlirValue half = cageBuildConstantFloat(&b, mlirF16TypeGet(ctx), 0.5);
  MlirValue v = cageBuildMulF(&b, x, two);
  v = cageBuildSubF(&b, v, x);
  v = cageBuildDivF(&b, v, two);
  v = cageBuildMaximumF(&b, v, x);
  v = cageBuildMinimumF(&b, v, two);
  v = cageBuildAbsF(&b, v);
  v = cageBuildSqrt(&b, v);
  v = cageBuildRoundEven(&b, v);
  v = cageBuildFloor(&b, v);
  MlirValue n = cageBuildAddI(&b, i, three);
  n = cageBuildAddI(&b, n,
                    cageBuildIndexCast(&b, four, mlirIntegerTypeGet(ctx, 64)));
  MlirValue nf = cageBuildSIToFP(&b, n, mlirF32TypeGet(ctx));
  MlirValue h = cageBuildExtF(&b, half, mlirF32TypeGet(ctx));
  v = cageBuildAddF(&b, v, nf);
  v = cageBuildAddF(&b, v, h);
  cageBuildReturn(&b, &v, 1);
  printVerifyAndDestroy(module);
}

// CHECK-LABEL: TEST: constants_and_math
// CHECK:      func.func @constants_and_math(%[[X:.*]]: f32, %[[I:.*]]: i64)
// CHECK-NEXT:   %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-NEXT:   %[[THREE:.*]] = arith.constant 3 : i64
// CHECK-NEXT:   %[[FOUR:.*]] = arith.constant 4 : index
// CHECK-NEXT:   %[[HALF:.*]] = arith.constant 5.000000e-01 : f16
// CHECK-NEXT:   %[[V0:.*]] = arith.mulf %[[X]], %[[TWO]] : f32
// CHECK-NEXT:   %[[V1:.*]] = arith.subf %[[V0]], %[[X]] : f32
// CHECK-NEXT:   %[[V2:.*]] = arith.divf %[[V1]], %[[TWO]] : f32
// CHECK-NEXT:   %[[V3:.*]] = arith.maximumf %[[V2]], %[[X]] : f32
// CHECK-NEXT:   %[[V4:.*]] = arith.minimumf %[[V3]], %[[TWO]] : f32
// CHECK-NEXT:   %[[V5:.*]] = math.absf %[[V4]] : f32
// CHECK-NEXT:   %[[V6:.*]] = math.sqrt %[[V5]] : f32
// CHECK-NEXT:   %[[V7:.*]] = math.roundeven %[[V6]] : f32
// CHECK-NEXT:   %[[V8:.*]] = math.floor %[[V7]] : f32
// CHECK-NEXT:   %[[N0:.*]] = arith.addi %[[I]], %[[THREE]] : i64
// CHECK-NEXT:   %[[N4:.*]] = arith.index_cast %[[FOUR]] : index to i64
// CHECK-NEXT:   %[[N1:.*]] = arith.addi %[[N0]], %[[N4]] : i64
// CHECK-NEXT:   %[[NF:.*]] = arith.sitofp %[[N1]] : i64 to f32
// CHECK-NEXT:   %[[H:.*]] = arith.extf %[[HALF]] : f16 to f32
// CHECK-NEXT:   %[[V9:.*]] = arith.addf %[[V8]], %[[NF]] : f32
// CHECK-NEXT:   %[[V10:.*]] = arith.addf %[[V9]], %[[H]] : f32
// CHECK-NEXT:   return %[[V10]] : f32
// CHECK:      verified: 1

/* The typed calls that constants_and_math does not use, each on the result
 * of the one before. */
static void testTypedOps(MlirContext ctx) {
  fprintf(stderr, "TEST: typed_ops\n");
  MlirBlock entry;
  MlirModule module =
      functionModule(ctx, "typed_ops", "(i32, i32, f32) -> (i32, f32)", &entry);
  CageBuilder b = cageBuilderAtEndOfBlock(entry, mlirLocationUnknownGet(ctx));
  MlirValue a = mlirBlockGetArgument(entry, 0);
  MlirValue c = mlirBlockGetArgument(entry, 1);
  MlirValue x = mlirBlockGetArgument(entry, 2);
  MlirType i32 = mlirIntegerTypeGet(ctx, 32);
  MlirType i64 = mlirIntegerTypeGet(ctx, 64);

  MlirValue n = cageBuildSubI(&b, a, c);
  n = cageBuildMulI(&b, n, c);
  n = cageBuildDivUI(&b, n, c);
  n = cageBuildCeilDivUI(&b, n, c);
  n = cageBuildCeilDivSI(&b, n, c);
  n = cageBuildRemUI(&b, n, c);
  n = cageBuildAndI(&b, n, c);
  n = cageBuildOrI(&b, n, c);
  n = cageBuildXOrI(&b, n, c);
  n = cageBuildShRUI(&b, n, c);
  n = cageBuildMaxSI(&b, n, c);
  n = cageBuildMaxUI(&b, n, c);
  n = cageBuildMinSI(&b, n, c);
  n = cageBuildMinUI(&b, n, c);
  n = cageBuildTruncI(&b, cageBuildExtUI(&b, n, i64), i32);
  MlirValue bits = cageBuildBitcast(&b, cageBuildNegF(&b, x), i32);
  MlirValue f = cageBuildUIToFP(&b, bits, mlirF32TypeGet(ctx));
  f = cageBuildTruncF(&b, f, mlirF16TypeGet(ctx));
  n = cageBuildAddI(&b, n, cageBuildFPToSI(&b, f, i32));
  MlirValue results[] = {n, cageBuildExtF(&b, f, mlirF32TypeGet(ctx))};
  cageBuildReturn(&b, results, 2);
  printVerifyAndDestroy(module);
}

// CHECK-LABEL: TEST: typed_ops
// CHECK:      func.func @typed_ops(%[[A:[a-z0-9]+]]: i32,
// CHECK-SAME:     %[[C:[a-z0-9]+]]: i32, %[[X:[a-z0-9]+]]: f32)
// CHECK-NEXT:   %[[N0:.*]] = arith.subi %[[A]], %[[C]] : i32
// CHECK-NEXT:   %[[N1:.*]] = arith.muli %[[N0]], %[[C]] : i32
// CHECK-NEXT:   %[[N2:.*]] = arith.divui %[[N1]], %[[C]] : i32
// CHECK-NEXT:   %[[N3:.*]] = arith.ceildivui %[[N2]], %[[C]] : i32
// CHECK-NEXT:   %[[N4:.*]] = arith.ceildivsi %[[N3]], %[[C]] : i32
// CHECK-NEXT:   %[[N5:.*]] = arith.remui %[[N4]], %[[C]] : i32
// CHECK-NEXT:   %[[N6:.*]] = arith.andi %[[N5]], %[[C]] : i32
// CHECK-NEXT:   %[[N7:.*]] = arith.ori %[[N6]], %[[C]] : i32
// CHECK-NEXT:   %[[N8:.*]] = arith.xori %[[N7]], %[[C]] : i32
// CHECK-NEXT:   %[[N9:.*]] = arith.shrui %[[N8]], %[[C]] : i32
// CHECK-NEXT:   %[[N10:.*]] = arith.maxsi %[[N9]], %[[C]] : i32
// CHECK-NEXT:   %[[N11:.*]] = arith.maxui %[[N10]], %[[C]] : i32
// CHECK-NEXT:   %[[N12:.*]] = arith.minsi %[[N11]], %[[C]] : i32
// CHECK-NEXT:   %[[N13:.*]] = arith.minui %[[N12]], %[[C]] : i32
// CHECK-NEXT:   %[[W:.*]] = arith.extui %[[N13]] : i32 to i64
// CHECK-NEXT:   %[[N14:.*]] = arith.trunci %[[W]] : i64 to i32
// CHECK-NEXT:   %[[NEG:.*]] = arith.negf %[[X]] : f32
// CHECK-NEXT:   %[[BITS:.*]] = arith.bitcast %[[NEG]] : f32 to i32
// CHECK-NEXT:   %[[F:.*]] = arith.uitofp %[[BITS]] : i32 to f32
// CHECK-NEXT:   %[[H:.*]] = arith.truncf %[[F]] : f32 to f16
// CHECK-NEXT:   %[[I:.*]] = arith.fptosi %[[H]] : f16 to i32
// CHECK-NEXT:   %[[N15:.*]] = arith.addi %[[N14]], %[[I]] : i32
// CHECK-NEXT:   %[[E:.*]] = arith.extf %[[H]] : f16 to f32
// CHECK-NEXT:   return %[[N15]], %[[E]] : i32, f32
// CHECK:      verified: 1

static void testCmpfSelect(MlirContext ctx) {
  fprintf(stderr, "TEST: cmpf_select\n");
  MlirBlock entry;
  MlirModule module =
      functionModule(ctx, "cmpf_select", "(f32, f32) -> f32", &entry);
  CageBuilder b = cageBuilderAtEndOfBlock(entry, mlirLocationUnknownGet(ctx));
  MlirValue x = mlirBlockGetArgument(entry, 0);
  MlirValue y = mlirBlockGetArgument(entry, 1);

  MlirValue less = cageBuildCmpF(&b, CageCmpFOLT, x, y);
  MlirValue min = cageBuildSelect(&b, less, x, y);
  MlirValue unordered = cageBuildCmpF(&b, CageCmpFUNO, min, min);
  MlirValue result = cageBuildSelect(&b, unordered, x, min);
  cageBuildReturn(&b, &result, 1);
  printGenericForm(mlirOpResultGetOwner(less));
  printVerifyAndDestroy(module);
}

// CHECK-LABEL: TEST: cmpf_select
// The predicate is the i64 value of the enum, not an attribute of its own:
// CHECK-NEXT: "arith.cmpf"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}})
// CHECK-SAME:   predicate = 4 : i64}> : (f32, f32) -> i1
// CHECK:      func.func @cmpf_select(%[[X:.*]]: f32, %[[Y:.*]]: f32) -> f32
// CHECK-NEXT:   %[[LESS:.*]] = arith.cmpf olt, %[[X]], %[[Y]] : f32
// CHECK-NEXT:   %[[MIN:.*]] = arith.select %[[LESS]], %[[X]], %[[Y]] : f32
// CHECK-NEXT:   %[[NAN:.*]] = arith.cmpf uno, %[[MIN]], %[[MIN]] : f32
// CHECK-NEXT:   %[[R:.*]] = arith.select %[[NAN]], %[[X]], %[[MIN]] : f32
// CHECK-NEXT:   return %[[R]] : f32
// CHECK:      verified: 1

static void testEmptyLike(MlirContext ctx) {
  fprintf(stderr, "TEST: empty_like\n");
  MlirBlock entry;
  MlirModule module = functionModule(
      ctx, "empty_like",
      "(tensor<?x7x?xf32>) -> (tensor<?x7x?xf32>, tensor<?x7x?xi8>)", &entry);
  CageBuilder b = cageBuilderAtEndOfBlock(entry, mlirLocationUnknownGet(ctx));
  MlirValue x = mlirBlockGetArgument(entry, 0);

  MlirValue results[] = {
      cageBuildEmptyLike(&b, x),
      cageBuildEmptyLikeWithElementType(&b, x, mlirIntegerTypeGet(ctx, 8))};
  cageBuildReturn(&b, results, 2);
  printVerifyAndDestroy(module);
}

// CHECK-LABEL: TEST: empty_like
// CHECK:      func.func @empty_like(%[[X:.*]]: tensor<?x7x?xf32>)
// CHECK-NEXT:   %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT:   %[[D0:.*]] = tensor.dim %[[X]], %[[C0]] : tensor<?x7x?xf32>
// CHECK-NEXT:   %[[C2:.*]] = arith.constant 2 : index
// CHECK-NEXT:   %[[D2:.*]] = tensor.dim %[[X]], %[[C2]] : tensor<?x7x?xf32>
// CHECK-NEXT:   %[[SAME:.*]] = tensor.empty(%[[D0]], %[[D2]])
// CHECK-SAME:     : tensor<?x7x?xf32>
// CHECK:        %[[I8:.*]] = tensor.empty(%{{.*}}, %{{.*}}) : tensor<?x7x?xi8>
// CHECK-NEXT:   return %[[SAME]], %[[I8]]
// CHECK:      verified: 1

static void testFill(MlirContext ctx) {
  fprintf(stderr, "TEST: fill\n");
  MlirBlock entry;
  MlirModule module =
      functionModule(ctx, "fill", "(index) -> tensor<?x7xf32>", &entry);
  CageBuilder b = cageBuilderAtEndOfBlock(entry, mlirLocationUnknownGet(ctx));
  MlirValue rows = mlirBlockGetArgument(entry, 0);

  MlirValue empty = cageBuildEmpty(
      &b, mlirTypeParseGet(ctx, str("tensor<?x7xf32>")), &rows, 1);
  MlirValue filled = cageBuildFill(&b, cageBuildConstantF32(&b, 0.0f), empty);
  cageBuildReturn(&b, &filled, 1);
  printGenericForm(mlirOpResultGetOwner(filled));
  printVerifyAndDestroy(module);
}

// CHECK-LABEL: TEST: fill
// The region that mlirLinalgFillBuiltinNamedOpRegion built, and the
// properties, as the generic form shows them:
// CHECK-NEXT: "linalg.fill"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}})
// CHECK-SAME:   <{operandSegmentSizes = array<i32: 1, 1>}> ({
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:   "linalg.yield"(%[[IN]]) : (f32) -> ()
// CHECK-NEXT: }) : (f32, tensor<?x7xf32>) -> tensor<?x7xf32>
// CHECK:      func.func @fill(%[[ROWS:.*]]: index) -> tensor<?x7xf32>
// CHECK-NEXT:   %[[EMPTY:.*]] = tensor.empty(%[[ROWS]]) : tensor<?x7xf32>
// CHECK-NEXT:   %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:   %[[FILLED:.*]] = linalg.fill ins(%[[ZERO]] : f32)
// CHECK-SAME:     outs(%[[EMPTY]] : tensor<?x7xf32>) -> tensor<?x7xf32>
// CHECK-NEXT:   return %[[FILLED]] : tensor<?x7xf32>
// CHECK:      verified: 1

/* y = x * 2 + 1, its constants built inside the body. */
static void timesTwoPlusOne(CageBuilder *body, const MlirValue *args,
                            intptr_t numArgs, MlirValue *yielded,
                            void *userData) {
  (void)numArgs;
  (void)userData;
  MlirValue twice =
      cageBuildMulF(body, args[0], cageBuildConstantF32(body, 2.0f));
  yielded[0] = cageBuildAddF(body, twice, cageBuildConstantF32(body, 1.0f));
}

static void testElementwiseGeneric(MlirContext ctx) {
  fprintf(stderr, "TEST: elementwise_generic\n");
  MlirBlock entry;
  MlirModule module = functionModule(
      ctx, "elementwise", "(tensor<?x7xf32>) -> tensor<?x7xf32>", &entry);
  CageBuilder b = cageBuilderAtEndOfBlock(entry, mlirLocationUnknownGet(ctx));
  MlirValue x = mlirBlockGetArgument(entry, 0);

  MlirValue init = cageBuildEmptyLike(&b, x);
  MlirAffineMap maps[] = {cagePrefixMap(ctx, 2, 2), cagePrefixMap(ctx, 2, 2)};
  CageIteratorType iterators[] = {CageIteratorParallel, CageIteratorParallel};
  CageGenericSpec spec = {.inputs = &x,
                          .numInputs = 1,
                          .outputs = &init,
                          .numOutputs = 1,
                          .indexingMaps = maps,
                          .iteratorTypes = iterators,
                          .numLoops = 2,
                          .body = timesTwoPlusOne};
  MlirValue y = mlirOperationGetResult(cageBuildGeneric(&b, &spec), 0);
  cageBuildReturn(&b, &y, 1);
  printVerifyAndDestroy(module);
}

// CHECK-LABEL: TEST: elementwise_generic
// CHECK:      func.func @elementwise(%[[X:.*]]: tensor<?x7xf32>)
// CHECK:        %[[INIT:.*]] = tensor.empty(%{{.*}}) : tensor<?x7xf32>
// CHECK-NEXT:   %[[Y:.*]] = linalg.generic {indexing_maps = [
// CHECK-SAME:     affine_map<(d0, d1) -> (d0, d1)>,
// CHECK-SAME:     affine_map<(d0, d1) -> (d0, d1)>],
// CHECK-SAME:     iterator_types = ["parallel", "parallel"]}
// CHECK-SAME:     ins(%[[X]] : tensor<?x7xf32>)
// CHECK-SAME:     outs(%[[INIT]] : tensor<?x7xf32>) {
// CHECK-NEXT:   ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:     %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-NEXT:     %[[TWICE:.*]] = arith.mulf %[[IN]], %[[TWO]] : f32
// CHECK-NEXT:     %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:     %[[SUM:.*]] = arith.addf %[[TWICE]], %[[ONE]] : f32
// CHECK-NEXT:     linalg.yield %[[SUM]] : f32
// CHECK-NEXT:   } -> tensor<?x7xf32>
// CHECK-NEXT:   return %[[Y]] : tensor<?x7xf32>
// CHECK:      verified: 1

/* y = x * s + bias, with s a scalar read by every iteration. */
static void scaleAndShift(CageBuilder *body, const MlirValue *args,
                          intptr_t numArgs, MlirValue *yielded,
                          void *userData) {
  (void)numArgs;
  (void)userData;
  yielded[0] =
      cageBuildAddF(body, cageBuildMulF(body, args[0], args[1]), args[2]);
}

static void testElementwise(MlirContext ctx) {
  fprintf(stderr, "TEST: elementwise\n");
  MlirBlock entry;
  MlirModule module = functionModule(
      ctx, "scale_and_shift",
      "(tensor<2x?x5xf32>, f32, tensor<2x?x5xf32>) -> tensor<2x?x5xf32>",
      &entry);
  CageBuilder b = cageBuilderAtEndOfBlock(entry, mlirLocationUnknownGet(ctx));
  MlirValue inputs[] = {mlirBlockGetArgument(entry, 0),
                        mlirBlockGetArgument(entry, 1),
                        mlirBlockGetArgument(entry, 2)};
  MlirValue init = cageBuildEmptyLike(&b, inputs[0]);
  MlirValue y = mlirOperationGetResult(
      cageBuildElementwise(&b, inputs, 3, &init, 1, scaleAndShift, NULL), 0);
  cageBuildReturn(&b, &y, 1);
  printVerifyAndDestroy(module);
}

// Identity maps of the rank, a `-> ()` map for the scalar, all parallel.
// CHECK-LABEL: TEST: elementwise
// CHECK:      func.func @scale_and_shift(%[[X:.*]]: tensor<2x?x5xf32>,
// CHECK-SAME:     %[[S:.*]]: f32, %[[B:.*]]: tensor<2x?x5xf32>)
// CHECK:        linalg.generic {indexing_maps = [
// CHECK-SAME:     affine_map<(d0, d1, d2) -> (d0, d1, d2)>,
// CHECK-SAME:     affine_map<(d0, d1, d2) -> ()>,
// CHECK-SAME:     affine_map<(d0, d1, d2) -> (d0, d1, d2)>,
// CHECK-SAME:     affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
// CHECK-SAME:     iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-SAME:     ins(%[[X]], %[[S]], %[[B]] :
// CHECK-NEXT:   ^bb0(%[[IN:[a-z0-9_]+]]: f32, %[[IS:[a-z0-9_]+]]: f32,
// CHECK-SAME:       %[[IB:[a-z0-9_]+]]: f32,
// CHECK-NEXT:     %[[M:.*]] = arith.mulf %[[IN]], %[[IS]] : f32
// CHECK-NEXT:     %[[A:.*]] = arith.addf %[[M]], %[[IB]] : f32
// CHECK-NEXT:     linalg.yield %[[A]] : f32
// CHECK:      verified: 1

static void testAnyOp(MlirContext ctx) {
  fprintf(stderr, "TEST: any_op\n");
  MlirBlock entry;
  MlirModule module = functionModule(ctx, "any_op", "(f32) -> f32", &entry);
  CageBuilder b = cageBuilderAtEndOfBlock(entry, mlirLocationUnknownGet(ctx));
  MlirValue x = mlirBlockGetArgument(entry, 0);
  MlirType f32 = mlirF32TypeGet(ctx);
  MlirNamedAttribute fastmath = mlirNamedAttributeGet(
      mlirIdentifierGet(ctx, str("fastmath")),
      mlirAttributeParseGet(ctx, str("#arith.fastmath<nnan>")));
  MlirValue operands[] = {x, x};
  MlirOperation op =
      cageBuildOp(&b, "arith.maxnumf", 2, operands, 1, &f32, 1, &fastmath);
  MlirValue y = mlirOperationGetResult(op, 0);
  cageBuildReturn(&b, &y, 1);
  printVerifyAndDestroy(module);
}

// CHECK-LABEL: TEST: any_op
// CHECK:      %[[Y:.*]] = arith.maxnumf %[[X:.*]], %[[X]] fastmath<nnan> : f32
// CHECK-NEXT: return %[[Y]] : f32
// CHECK:      verified: 1

/* acc = max(acc, |x|) */
static void maxAbs(CageBuilder *body, const MlirValue *args, intptr_t numArgs,
                   MlirValue *yielded, void *userData) {
  (void)numArgs;
  (void)userData;
  MlirValue magnitude = cageBuildAbsF(body, args[0]);
  yielded[0] = cageBuildMaximumF(body, magnitude, args[1]);
}

static void testRowReduction(MlirContext ctx) {
  fprintf(stderr, "TEST: row_reduction\n");
  MlirBlock entry;
  MlirModule module = functionModule(
      ctx, "row_max_abs", "(tensor<?x7xf32>) -> tensor<?xf32>", &entry);
  CageBuilder b = cageBuilderAtEndOfBlock(entry, mlirLocationUnknownGet(ctx));
  MlirValue x = mlirBlockGetArgument(entry, 0);

  MlirValue rows = cageBuildDim(&b, x, 0);
  MlirValue empty =
      cageBuildEmpty(&b, mlirTypeParseGet(ctx, str("tensor<?xf32>")), &rows, 1);
  MlirValue init = cageBuildFill(&b, cageBuildConstantF32(&b, 0.0f), empty);
  MlirAffineMap maps[] = {cagePrefixMap(ctx, 2, 2), cagePrefixMap(ctx, 2, 1)};
  CageIteratorType iterators[] = {CageIteratorParallel, CageIteratorReduction};
  CageGenericSpec spec = {.inputs = &x,
                          .numInputs = 1,
                          .outputs = &init,
                          .numOutputs = 1,
                          .indexingMaps = maps,
                          .iteratorTypes = iterators,
                          .numLoops = 2,
                          .body = maxAbs};
  MlirValue max = mlirOperationGetResult(cageBuildGeneric(&b, &spec), 0);
  cageBuildReturn(&b, &max, 1);
  printGenericForm(mlirOpResultGetOwner(max));
  printVerifyAndDestroy(module);
}

// CHECK-LABEL: TEST: row_reduction
// The attributes as MLIR 22 keeps them: properties, enum iterator types.
// CHECK-NEXT: "linalg.generic"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}})
// CHECK-SAME:   <{indexing_maps = [
// CHECK-SAME:   affine_map<(d0, d1) -> (d0, d1)>,
// CHECK-SAME:   affine_map<(d0, d1) -> (d0)>],
// CHECK-SAME:   iterator_types = [#linalg.iterator_type<parallel>,
// CHECK-SAME:                     #linalg.iterator_type<reduction>],
// CHECK-SAME:   operandSegmentSizes = array<i32: 1, 1>}> ({
// CHECK:      func.func @row_max_abs(%[[X:.*]]: tensor<?x7xf32>)
// CHECK-NEXT:   %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT:   %[[ROWS:.*]] = tensor.dim %[[X]], %[[C0]] : tensor<?x7xf32>
// CHECK-NEXT:   %[[EMPTY:.*]] = tensor.empty(%[[ROWS]]) : tensor<?xf32>
// CHECK-NEXT:   %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:   %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : f32)
// CHECK-SAME:     outs(%[[EMPTY]] : tensor<?xf32>) -> tensor<?xf32>
// CHECK-NEXT:   %[[MAX:.*]] = linalg.generic {indexing_maps = [
// CHECK-SAME:     affine_map<(d0, d1) -> (d0, d1)>,
// CHECK-SAME:     affine_map<(d0, d1) -> (d0)>],
// CHECK-SAME:     iterator_types = ["parallel", "reduction"]}
// CHECK-SAME:     ins(%[[X]] : tensor<?x7xf32>)
// CHECK-SAME:     outs(%[[INIT]] : tensor<?xf32>) {
// CHECK-NEXT:   ^bb0(%[[IN:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT:     %[[ABS:.*]] = math.absf %[[IN]] : f32
// CHECK-NEXT:     %[[NEW:.*]] = arith.maximumf %[[ABS]], %[[ACC]] : f32
// CHECK-NEXT:     linalg.yield %[[NEW]] : f32
// CHECK-NEXT:   } -> tensor<?xf32>
// CHECK-NEXT:   return %[[MAX]] : tensor<?xf32>
// CHECK:      verified: 1

/* Symmetric int8 fake quantization by the scalar input s:
 * q = clamp(roundeven(x / s), -128, 127) as i8, y = q * s. The clamp bounds
 * are constants of the function, reaching the body through userData. */
typedef struct FakeQuantConstants {
  MlirValue low, high;
} FakeQuantConstants;

static void fakeQuant(CageBuilder *body, const MlirValue *args,
                      intptr_t numArgs, MlirValue *yielded, void *userData) {
  (void)numArgs;
  const FakeQuantConstants *bounds = userData;
  MlirValue x = args[0], scale = args[1];
  MlirValue v = cageBuildRoundEven(body, cageBuildDivF(body, x, scale));
  v = cageBuildSelect(body, cageBuildCmpF(body, CageCmpFOLT, v, bounds->low),
                      bounds->low, v);
  v = cageBuildSelect(body, cageBuildCmpF(body, CageCmpFOGT, v, bounds->high),
                      bounds->high, v);
  MlirValue q = cageBuildFPToSI(body, v, mlirIntegerTypeGet(body->context, 8));
  v = cageBuildSIToFP(body, q, mlirF32TypeGet(body->context));
  yielded[0] = cageBuildMulF(body, v, scale);
}

static void testFunctionFromScratch(MlirContext ctx) {
  fprintf(stderr, "TEST: function_from_scratch\n");
  MlirLocation loc = mlirLocationUnknownGet(ctx);
  MlirModule module = mlirModuleCreateEmpty(loc);
  CageBuilder b = cageBuilderAtEndOfBlock(mlirModuleGetBody(module), loc);
  int64_t shape[] = {mlirShapedTypeGetDynamicSize(), 7};
  MlirType f32 = mlirF32TypeGet(ctx);
  MlirType tensor =
      mlirRankedTensorTypeGet(2, shape, f32, mlirAttributeGetNull());
  MlirType inputs[] = {tensor, f32};
  MlirBlock entry;
  cageBuildFunc(&b, "fake_quant",
                mlirFunctionTypeGet(ctx, 2, inputs, 1, &tensor), &entry);

  CageBuilder body = cageBuilderAtEndOfBlock(entry, loc);
  MlirValue x = mlirBlockGetArgument(entry, 0);
  MlirValue scale = mlirBlockGetArgument(entry, 1);
  FakeQuantConstants bounds = {cageBuildConstantF32(&body, -128.0f),
                               cageBuildConstantF32(&body, 127.0f)};
  MlirValue ins[] = {x, scale};
  MlirValue init = cageBuildEmptyLike(&body, x);
  MlirAffineMap maps[] = {cagePrefixMap(ctx, 2, 2), cagePrefixMap(ctx, 2, 0),
                          cagePrefixMap(ctx, 2, 2)};
  CageIteratorType iterators[] = {CageIteratorParallel, CageIteratorParallel};
  CageGenericSpec spec = {.inputs = ins,
                          .numInputs = 2,
                          .outputs = &init,
                          .numOutputs = 1,
                          .indexingMaps = maps,
                          .iteratorTypes = iterators,
                          .numLoops = 2,
                          .body = fakeQuant,
                          .userData = &bounds};
  MlirValue y = mlirOperationGetResult(cageBuildGeneric(&body, &spec), 0);
  cageBuildReturn(&body, &y, 1);
  printVerifyAndDestroy(module);
}

// CHECK-LABEL: TEST: function_from_scratch
// CHECK:      func.func @fake_quant(%[[X:.*]]: tensor<?x7xf32>, %[[S:.*]]: f32)
// CHECK-SAME:     -> tensor<?x7xf32> {
// CHECK-NEXT:   %[[LOW:.*]] = arith.constant -1.280000e+02 : f32
// CHECK-NEXT:   %[[HIGH:.*]] = arith.constant 1.270000e+02 : f32
// CHECK:        %[[INIT:.*]] = tensor.empty(%{{.*}}) : tensor<?x7xf32>
// CHECK-NEXT:   %[[Y:.*]] = linalg.generic {indexing_maps = [
// CHECK-SAME:     affine_map<(d0, d1) -> (d0, d1)>,
// CHECK-SAME:     affine_map<(d0, d1) -> ()>,
// CHECK-SAME:     affine_map<(d0, d1) -> (d0, d1)>],
// CHECK-SAME:     iterator_types = ["parallel", "parallel"]}
// CHECK-SAME:     ins(%[[X]], %[[S]] : tensor<?x7xf32>, f32)
// CHECK-SAME:     outs(%[[INIT]] : tensor<?x7xf32>) {
// CHECK-NEXT:   ^bb0(%[[IN:.*]]: f32, %[[SCALE:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:     %[[DIV:.*]] = arith.divf %[[IN]], %[[SCALE]] : f32
// CHECK-NEXT:     %[[R:.*]] = math.roundeven %[[DIV]] : f32
// CHECK-NEXT:     %[[LT:.*]] = arith.cmpf olt, %[[R]], %[[LOW]] : f32
// CHECK-NEXT:     %[[R1:.*]] = arith.select %[[LT]], %[[LOW]], %[[R]] : f32
// CHECK-NEXT:     %[[GT:.*]] = arith.cmpf ogt, %[[R1]], %[[HIGH]] : f32
// CHECK-NEXT:     %[[R2:.*]] = arith.select %[[GT]], %[[HIGH]], %[[R1]]
// CHECK-NEXT:     %[[Q:.*]] = arith.fptosi %[[R2]] : f32 to i8
// CHECK-NEXT:     %[[QF:.*]] = arith.sitofp %[[Q]] : i8 to f32
// CHECK-NEXT:     %[[OUT:.*]] = arith.mulf %[[QF]], %[[SCALE]] : f32
// CHECK-NEXT:     linalg.yield %[[OUT]] : f32
// CHECK-NEXT:   } -> tensor<?x7xf32>
// CHECK-NEXT:   return %[[Y]] : tensor<?x7xf32>
// CHECK:      verified: 1

/* The pattern mode: ops go where an IRRewriter points, here before the
 * func.return whose operand is then replaced. */
static void testRewriterInsertionPoint(MlirContext ctx) {
  fprintf(stderr, "TEST: rewriter_insertion_point\n");
  MlirBlock entry;
  MlirModule module = functionModule(ctx, "rewriter", "(f32) -> f32", &entry);
  MlirLocation loc = mlirLocationUnknownGet(ctx);
  CageBuilder b = cageBuilderAtEndOfBlock(entry, loc);
  MlirValue x = mlirBlockGetArgument(entry, 0);
  MlirOperation ret = cageBuildReturn(&b, &x, 1);

  MlirRewriterBase rewriter = mlirIRRewriterCreateFromOp(ret);
  CageBuilder r = cageBuilderAtInsertionPoint(rewriter, loc);
  MlirValue sum = cageBuildAddF(&r, x, cageBuildConstantF32(&r, 1.0f));
  mlirOperationSetOperand(ret, 0, sum);
  mlirIRRewriterDestroy(rewriter);
  printVerifyAndDestroy(module);
}

// CHECK-LABEL: TEST: rewriter_insertion_point
// CHECK:      func.func @rewriter(%[[X:.*]]: f32) -> f32 {
// CHECK-NEXT:   %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:   %[[SUM:.*]] = arith.addf %[[X]], %[[ONE]] : f32
// CHECK-NEXT:   return %[[SUM]] : f32
// CHECK:      verified: 1

static void yieldNothing(CageBuilder *body, const MlirValue *args,
                         intptr_t numArgs, MlirValue *yielded, void *userData) {
  (void)body;
  (void)args;
  (void)numArgs;
  (void)yielded;
  (void)userData;
}

static MlirOperation genericWith(CageBuilder *b, MlirValue x, MlirAffineMap map,
                                 CageIteratorType iterator,
                                 CageGenericBodyBuilder body) {
  MlirAffineMap maps[] = {map, map};
  CageGenericSpec spec = {.inputs = &x,
                          .numInputs = 1,
                          .outputs = &x,
                          .numOutputs = 1,
                          .indexingMaps = maps,
                          .iteratorTypes = &iterator,
                          .numLoops = 1,
                          .body = body};
  return cageBuildGeneric(b, &spec);
}

/* Each bad call returns null, reports on the builder's location and leaves
 * the function untouched. */
static void testBadInput(MlirContext ctx) {
  fprintf(stderr, "TEST: bad_input\n");
  MlirDiagnosticHandlerID handler =
      mlirContextAttachDiagnosticHandler(ctx, printDiagnostic, NULL, NULL);
  MlirBlock entry;
  MlirModule module =
      functionModule(ctx, "bad_input", "(tensor<?xf32>) -> ()", &entry);
  CageBuilder b = cageBuilderAtEndOfBlock(
      entry, mlirLocationFileLineColGet(ctx, str("model.py"), 12, 3));
  MlirValue x = mlirBlockGetArgument(entry, 0);

  MlirAffineMap identity = cagePrefixMap(ctx, 1, 1);
  MlirOperation op = genericWith(&b, x, cagePrefixMap(ctx, 1, 2),
                                 CageIteratorParallel, maxAbs);
  fprintf(stderr, "null map gives null: %d\n", mlirOperationIsNull(op));
  op = genericWith(&b, x, cagePrefixMap(ctx, 2, 1), CageIteratorParallel,
                   maxAbs);
  fprintf(stderr, "map of 2 loops gives null: %d\n", mlirOperationIsNull(op));
  op = genericWith(&b, x, identity, (CageIteratorType)7, maxAbs);
  fprintf(stderr, "bad iterator gives null: %d\n", mlirOperationIsNull(op));
  op = genericWith(&b, x, identity, CageIteratorParallel, yieldNothing);
  fprintf(stderr, "nothing yielded gives null: %d\n", mlirOperationIsNull(op));

  MlirValue one = cageBuildConstantF32(&b, 1.0f);
  MlirType f32 = mlirF32TypeGet(ctx);
  MlirValue v = cageOperationGetResult(cageBuildOp(&b, "arith.mulff", 2,
                                                   (MlirValue[]){one, one}, 1,
                                                   &f32, 0, NULL),
                                       0);
  fprintf(stderr, "unknown op gives null: %d\n", mlirValueIsNull(v));
  v = cageBuildCmpF(&b, (CageCmpFPredicate)16, one, one);
  fprintf(stderr, "unknown predicate gives null: %d\n", mlirValueIsNull(v));
  v = cageBuildSqrt(&b, v);
  fprintf(stderr, "null operand gives null: %d\n", mlirValueIsNull(v));
  v = cageBuildDim(&b, x, 1);
  fprintf(stderr, "dim out of range gives null: %d\n", mlirValueIsNull(v));
  v = cageBuildEmpty(&b, mlirValueGetType(x), NULL, 0);
  fprintf(stderr, "missing size gives null: %d\n", mlirValueIsNull(v));

  cageBuildReturn(&b, NULL, 0);
  mlirContextDetachDiagnosticHandler(ctx, handler);
  printVerifyAndDestroy(module);
}

// CHECK-LABEL: TEST: bad_input
// A map helper given out-of-range arguments returns a null map:
// CHECK-NEXT: diagnostic: loc("model.py":12:3): indexing map 0 is null
// CHECK-NEXT: null map gives null: 1
// CHECK-NEXT: diagnostic: loc("model.py":12:3): indexing map 0 has 2
// CHECK-SAME:   dimensions, not one per loop (1)
// CHECK-NEXT: map of 2 loops gives null: 1
// CHECK-NEXT: diagnostic: loc("model.py":12:3): iterator type 0 is 7, not a
// CHECK-SAME:   CageIteratorType
// CHECK-NEXT: bad iterator gives null: 1
// CHECK-NEXT: diagnostic: loc("model.py":12:3):
// CHECK-SAME:   the body of linalg.generic left a yielded value null
// CHECK-NEXT: nothing yielded gives null: 1
// CHECK-NEXT: diagnostic: loc("model.py":12:3): 'arith.mulff' is not a
// CHECK-SAME:   registered operation (is its dialect loaded?)
// CHECK-NEXT: unknown op gives null: 1
// CHECK-NEXT: diagnostic: loc("model.py":12:3):
// CHECK-SAME:   cageBuildCmpF: 16 is not an arith.cmpf predicate
// CHECK-NEXT: unknown predicate gives null: 1
// CHECK-NEXT: null operand gives null: 1
// CHECK-NEXT: diagnostic: loc("model.py":12:3):
// CHECK-SAME:   tensor.dim of dimension 1 of a rank-1 tensor
// CHECK-NEXT: dim out of range gives null: 1
// CHECK-NEXT: diagnostic: loc("model.py":12:3):
// CHECK-SAME:   tensor.empty needs 1 dynamic sizes, got 0
// CHECK-NEXT: missing size gives null: 1
// Only the constant that was built correctly is left:
// CHECK:      func.func @bad_input(%{{.*}}: tensor<?xf32>) {
// CHECK-NEXT:   arith.constant 1.000000e+00 : f32
// CHECK-NEXT:   return
// CHECK:      verified: 1

/*===--- Integer ops, reshapes, linalg.index, maps, results ---------------===*/

/* A function under test whose builder reports at "model.py":12:3, with the
 * diagnostics printed, so that each test can end with its bad input. */
typedef struct Checked {
  MlirModule module;
  MlirBlock entry;
  CageBuilder b;
  MlirDiagnosticHandlerID handler;
} Checked;

static Checked beginChecked(MlirContext ctx, const char *name,
                            const char *signature) {
  fprintf(stderr, "TEST: %s\n", name);
  Checked c;
  c.handler =
      mlirContextAttachDiagnosticHandler(ctx, printDiagnostic, NULL, NULL);
  c.module = functionModule(ctx, name, signature, &c.entry);
  c.b = cageBuilderAtEndOfBlock(
      c.entry, mlirLocationFileLineColGet(ctx, str("model.py"), 12, 3));
  return c;
}

static void endChecked(MlirContext ctx, Checked *c, const MlirValue *results,
                       intptr_t numResults) {
  cageBuildReturn(&c->b, results, numResults);
  mlirContextDetachDiagnosticHandler(ctx, c->handler);
  printVerifyAndDestroy(c->module);
}

static void testConstantInt(MlirContext ctx) {
  Checked c = beginChecked(ctx, "constant_int", "() -> (i1, i32, index)");
  MlirValue results[3];
  results[0] = cageBuildConstantInt(&c.b, mlirIntegerTypeGet(ctx, 1), 1);
  results[1] =
      cageBuildConstantInt(&c.b, mlirIntegerTypeGet(ctx, 32), 0xD2511F53);
  results[2] = cageBuildConstantInt(&c.b, mlirIndexTypeGet(ctx), 7);
  MlirValue v = cageBuildConstantInt(&c.b, mlirF32TypeGet(ctx), 1);
  fprintf(stderr, "float type gives null: %d\n", mlirValueIsNull(v));
  endChecked(ctx, &c, results, 3);
}

// The value is truncated to the type (0xD2511F53 as i32):
// CHECK-LABEL: TEST: constant_int
// CHECK-NEXT: diagnostic: loc("model.py":12:3):
// CHECK-SAME:   an integer constant needs an integer or index type
// CHECK-NEXT: float type gives null: 1
// CHECK:      func.func @constant_int() -> (i1, i32, index) {
// CHECK-NEXT:   %[[TRUE:.*]] = arith.constant true
// CHECK-NEXT:   %[[M0:.*]] = arith.constant -766435501 : i32
// CHECK-NEXT:   %[[SEVEN:.*]] = arith.constant 7 : index
// CHECK-NEXT:   return %[[TRUE]], %[[M0]], %[[SEVEN]] : i1, i32, index
// CHECK:      verified: 1

static void testCmpI(MlirContext ctx) {
  Checked c =
      beginChecked(ctx, "cmpi", "(index, index, tensor<4xi64>) -> (i1, i1)");
  MlirValue i = mlirBlockGetArgument(c.entry, 0);
  MlirValue j = mlirBlockGetArgument(c.entry, 1);
  MlirValue t = mlirBlockGetArgument(c.entry, 2);
  MlirValue results[2];
  results[0] = cageBuildCmpI(&c.b, CageCmpIULT, i, j);
  results[1] =
      cageBuildCmpI(&c.b, CageCmpIEQ, i, cageBuildConstantIndex(&c.b, 0));
  printGenericForm(mlirOpResultGetOwner(results[0]));
  MlirValue v = cageBuildCmpI(&c.b, (CageCmpIPredicate)10, i, j);
  fprintf(stderr, "unknown predicate gives null: %d\n", mlirValueIsNull(v));
  v = cageBuildCmpI(&c.b, CageCmpIEQ, t, t);
  fprintf(stderr, "tensors give null: %d\n", mlirValueIsNull(v));
  endChecked(ctx, &c, results, 2);
}

// CHECK-LABEL: TEST: cmpi
// The predicate is the i64 value of arith::CmpIPredicate (ult is 6):
// CHECK-NEXT: "arith.cmpi"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}})
// CHECK-SAME:   <{predicate = 6 : i64}> : (index, index) -> i1
// CHECK-NEXT: diagnostic: loc("model.py":12:3):
// CHECK-SAME:   cageBuildCmpI: 10 is not an arith.cmpi predicate
// CHECK-NEXT: unknown predicate gives null: 1
// CHECK-NEXT: diagnostic: loc("model.py":12:3):
// CHECK-SAME:   cageBuildCmpI compares scalars, not shaped values
// CHECK-NEXT: tensors give null: 1
// CHECK:      func.func @cmpi(%[[I:.*]]: index, %[[J:.*]]: index,
// CHECK-NEXT:   %[[LT:.*]] = arith.cmpi ult, %[[I]], %[[J]] : index
// CHECK-NEXT:   %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT:   %[[EQ:.*]] = arith.cmpi eq, %[[I]], %[[C0]] : index
// CHECK-NEXT:   return %[[LT]], %[[EQ]] : i1, i1
// CHECK:      verified: 1

/* y = x + f32(the index of loop 1) */
static void addColumnIndex(CageBuilder *body, const MlirValue *args,
                           intptr_t numArgs, MlirValue *yielded,
                           void *userData) {
  (void)numArgs;
  (void)userData;
  MlirValue column = cageBuildIndexCast(body, cageBuildLinalgIndex(body, 1),
                                        mlirIntegerTypeGet(body->context, 64));
  MlirValue columnF32 =
      cageBuildSIToFP(body, column, mlirF32TypeGet(body->context));
  yielded[0] = cageBuildAddF(body, args[0], columnF32);
}

static void testLinalgIndex(MlirContext ctx) {
  Checked c =
      beginChecked(ctx, "linalg_index", "(tensor<?x4xf32>) -> tensor<?x4xf32>");
  MlirValue x = mlirBlockGetArgument(c.entry, 0);
  MlirValue init = cageBuildEmptyLike(&c.b, x);
  MlirValue y = cageOperationGetResult(
      cageBuildElementwise(&c.b, &x, 1, &init, 1, addColumnIndex, NULL), 0);
  MlirValue v = cageBuildLinalgIndex(&c.b, -1);
  fprintf(stderr, "negative loop gives null: %d\n", mlirValueIsNull(v));
  endChecked(ctx, &c, &y, 1);
}

// CHECK-LABEL: TEST: linalg_index
// CHECK-NEXT: diagnostic: loc("model.py":12:3): linalg.index of loop -1
// CHECK-NEXT: negative loop gives null: 1
// CHECK:      func.func @linalg_index(%[[X:.*]]: tensor<?x4xf32>)
// CHECK:        linalg.generic
// CHECK:        ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:     %[[J:.*]] = linalg.index 1 : index
// CHECK-NEXT:     %[[J64:.*]] = arith.index_cast %[[J]] : index to i64
// CHECK-NEXT:     %[[JF:.*]] = arith.sitofp %[[J64]] : i64 to f32
// CHECK-NEXT:     %[[Y:.*]] = arith.addf %[[IN]], %[[JF]] : f32
// CHECK-NEXT:     linalg.yield %[[Y]] : f32
// CHECK:      verified: 1

static void testExpandCollapseShape(MlirContext ctx) {
  Checked c = beginChecked(ctx, "expand_collapse_shape",
                           "(tensor<?x12xf32>) -> tensor<?x12xf32>");
  MlirValue x = mlirBlockGetArgument(c.entry, 0);
  MlirType expandedType = mlirTypeParseGet(ctx, str("tensor<?x3x4xf32>"));
  int64_t groups[] = {1, 2};
  MlirValue sizes[] = {cageBuildDim(&c.b, x, 0), {NULL}, {NULL}};
  MlirValue expanded =
      cageBuildExpandShape(&c.b, x, expandedType, groups, sizes);
  MlirValue y =
      cageBuildCollapseShape(&c.b, expanded, mlirValueGetType(x), groups);
  printGenericForm(mlirOpResultGetOwner(expanded));

  int64_t badGroups[] = {1, 1};
  MlirValue v = cageBuildExpandShape(&c.b, x, expandedType, badGroups, sizes);
  fprintf(stderr, "expand with bad groups gives null: %d\n",
          mlirValueIsNull(v));
  int64_t emptyGroup[] = {0, 3};
  v = cageBuildCollapseShape(&c.b, expanded, mlirValueGetType(x), emptyGroup);
  fprintf(stderr, "collapse with an empty group gives null: %d\n",
          mlirValueIsNull(v));
  endChecked(ctx, &c, &y, 1);
}

// CHECK-LABEL: TEST: expand_collapse_shape
// The properties: the reassociation, and the static sizes with the dynamic
// one as ShapedType::kDynamic (its value is the operand after the source):
// CHECK-NEXT: "tensor.expand_shape"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}})
// CHECK-SAME:   <{reassociation = {{\[\[}}0], [1, 2]],
// CHECK-SAME:   static_output_shape = array<i64: -9223372036854775808, 3, 4>}>
// CHECK-NEXT: diagnostic: loc("model.py":12:3): tensor.expand_shape:
// CHECK-SAME:   the reassociation groups 2 dimensions, the result has 3
// CHECK-NEXT: expand with bad groups gives null: 1
// CHECK-NEXT: diagnostic: loc("model.py":12:3): tensor.collapse_shape:
// CHECK-SAME:   reassociation group 0 has 0 dimensions
// CHECK-NEXT: collapse with an empty group gives null: 1
// CHECK:      func.func @expand_collapse_shape(%[[X:.*]]: tensor<?x12xf32>)
// CHECK-NEXT:   %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT:   %[[ROWS:.*]] = tensor.dim %[[X]], %[[C0]] : tensor<?x12xf32>
// CHECK-NEXT:   %[[E:.*]] = tensor.expand_shape %[[X]] {{\[\[}}0], [1, 2]]
// CHECK-SAME:     output_shape [%[[ROWS]], 3, 4]
// CHECK-SAME:     : tensor<?x12xf32> into tensor<?x3x4xf32>
// CHECK-NEXT:   %[[C:.*]] = tensor.collapse_shape %[[E]] {{\[\[}}0], [1, 2]]
// CHECK-SAME:     : tensor<?x3x4xf32> into tensor<?x12xf32>
// CHECK-NEXT:   return %[[C]] : tensor<?x12xf32>
// CHECK:      verified: 1

static void testSplitMergeInnermost(MlirContext ctx) {
  Checked c = beginChecked(ctx, "split_merge_innermost",
                           "(tensor<2x?xf32>, tensor<3x16xf32>) -> "
                           "(tensor<2x?xf32>, tensor<3x16xf32>)");
  MlirValue x = mlirBlockGetArgument(c.entry, 0);
  MlirValue s = mlirBlockGetArgument(c.entry, 1);
  int64_t pairs[] = {2, 4};
  int64_t eights[] = {8};
  MlirValue results[2];
  MlirValue xs = cageBuildSplitInnermost(&c.b, x, pairs, 2);
  results[0] = cageBuildMergeInnermost(&c.b, xs, mlirValueGetType(x));
  MlirValue ss = cageBuildSplitInnermost(&c.b, s, eights, 1);
  results[1] = cageBuildMergeInnermost(&c.b, ss, mlirValueGetType(s));

  int64_t threes[] = {3};
  MlirValue v = cageBuildSplitInnermost(&c.b, s, threes, 1);
  fprintf(stderr, "split into uneven parts gives null: %d\n",
          mlirValueIsNull(v));
  MlirType rank3 = mlirTypeParseGet(ctx, str("tensor<3x16x1xf32>"));
  v = cageBuildMergeInnermost(&c.b, s, rank3);
  fprintf(stderr, "merge into a higher rank gives null: %d\n",
          mlirValueIsNull(v));
  endChecked(ctx, &c, results, 2);
}

// A dynamic innermost size is divided by the product of the tail (8):
// CHECK-LABEL: TEST: split_merge_innermost
// CHECK-NEXT: diagnostic: loc("model.py":12:3): cannot split the innermost
// CHECK-SAME:   dimension of size 16 into parts of 3 elements
// CHECK-NEXT: split into uneven parts gives null: 1
// CHECK-NEXT: diagnostic: loc("model.py":12:3): cannot merge the innermost
// CHECK-SAME:   dimensions of a rank-2 tensor into a rank-3 tensor
// CHECK-NEXT: merge into a higher rank gives null: 1
// CHECK:      func.func @split_merge_innermost(%[[X:.*]]: tensor<2x?xf32>,
// CHECK-SAME:     %[[S:.*]]: tensor<3x16xf32>)
// CHECK-NEXT:   %[[C1:.*]] = arith.constant 1 : index
// CHECK-NEXT:   %[[N:.*]] = tensor.dim %[[X]], %[[C1]] : tensor<2x?xf32>
// CHECK-NEXT:   %[[C8:.*]] = arith.constant 8 : index
// CHECK-NEXT:   %[[G:.*]] = arith.divui %[[N]], %[[C8]] : index
// CHECK-NEXT:   %[[XS:.*]] = tensor.expand_shape %[[X]] {{\[\[}}0], [1, 2, 3]]
// CHECK-SAME:     output_shape [2, %[[G]], 2, 4]
// CHECK-SAME:     : tensor<2x?xf32> into tensor<2x?x2x4xf32>
// CHECK-NEXT:   %[[XM:.*]] = tensor.collapse_shape %[[XS]]
// CHECK-SAME:     {{\[\[}}0], [1, 2, 3]]
// CHECK-SAME:     : tensor<2x?x2x4xf32> into tensor<2x?xf32>
// CHECK-NEXT:   %[[SS:.*]] = tensor.expand_shape %[[S]] {{\[\[}}0], [1, 2]]
// CHECK-SAME:     output_shape [3, 2, 8]
// CHECK-SAME:     : tensor<3x16xf32> into tensor<3x2x8xf32>
// CHECK-NEXT:   %[[SM:.*]] = tensor.collapse_shape %[[SS]] {{\[\[}}0], [1, 2]]
// CHECK-SAME:     : tensor<3x2x8xf32> into tensor<3x16xf32>
// CHECK-NEXT:   return %[[XM]], %[[SM]]
// CHECK:      verified: 1

static void printMap(MlirAffineMap map) {
  if (mlirAffineMapIsNull(map))
    fprintf(stderr, "null");
  else
    mlirAffineMapPrint(map, printToStderr, NULL);
  fprintf(stderr, "\n");
}

/* The maps alone (cageBuildGeneric takes them above). They are built, not
 * parsed, so any number of loops works. */
static void testMaps(MlirContext ctx) {
  fprintf(stderr, "TEST: maps\n");
  printMap(cageMapFixingDim(ctx, 3, 1, 0));
  printMap(cageMapFixingDim(ctx, 2, 0, 1));
  printMap(cagePrefixMap(ctx, 3, 3));
  printMap(cagePrefixMap(ctx, 3, 1));
  printMap(cagePrefixMap(ctx, 2, 0));
  printMap(cagePrefixMap(ctx, 0, 0));
  printMap(cagePrefixMap(ctx, 2, 3));
  printMap(cageMapFixingDim(ctx, 2, 2, 0));
  MlirAffineMap wide = cagePrefixMap(ctx, 300, 300);
  fprintf(stderr, "300 loops: %d dimensions, identity: %d\n",
          (int)mlirAffineMapGetNumDims(wide), mlirAffineMapIsIdentity(wide));
  wide = cageMapFixingDim(ctx, 300, 299, 1);
  MlirAffineExpr last = mlirAffineMapGetResult(wide, 299);
  fprintf(stderr, "300 loops, the last fixed: %d results, the last 1: %d\n",
          (int)mlirAffineMapGetNumResults(wide),
          mlirAffineExprIsAConstant(last) &&
              mlirAffineConstantExprGetValue(last) == 1);
}

// CHECK-LABEL: TEST: maps
// CHECK-NEXT: (d0, d1, d2) -> (d0, 0, d2)
// CHECK-NEXT: (d0, d1) -> (1, d1)
// CHECK-NEXT: (d0, d1, d2) -> (d0, d1, d2)
// CHECK-NEXT: (d0, d1, d2) -> (d0)
// CHECK-NEXT: (d0, d1) -> ()
// CHECK-NEXT: () -> ()
// CHECK-NEXT: null
// CHECK-NEXT: null
// CHECK-NEXT: 300 loops: 300 dimensions, identity: 1
// CHECK-NEXT: 300 loops, the last fixed: 300 results, the last 1: 1

/* cageBuildOp with attributes by name, its result taken even when the op
 * could not be built. */
static void testOperationResult(MlirContext ctx) {
  Checked c = beginChecked(ctx, "operation_result", "(f32) -> f32");
  MlirValue x = mlirBlockGetArgument(c.entry, 0);
  MlirType f32 = mlirF32TypeGet(ctx);
  MlirNamedAttribute fast = cageNamedAttribute(
      &c.b, "fastmath",
      mlirAttributeParseGet(ctx, str("#arith.fastmath<fast>")));
  MlirValue operands[] = {x, x};
  MlirValue y = cageOperationGetResult(
      cageBuildOp(&c.b, "arith.mulf", 2, operands, 1, &f32, 1, &fast), 0);
  MlirValue v = cageOperationGetResult(
      cageBuildOp(&c.b, "arith.mulff", 2, operands, 1, &f32, 0, NULL), 0);
  fprintf(stderr, "the result of no op is null: %d\n", mlirValueIsNull(v));
  endChecked(ctx, &c, &y, 1);
}

// CHECK-LABEL: TEST: operation_result
// CHECK-NEXT: diagnostic: loc("model.py":12:3): 'arith.mulff' is not a
// CHECK-SAME:   registered operation (is its dialect loaded?)
// CHECK-NEXT: the result of no op is null: 1
// CHECK:      func.func @operation_result(%[[X:.*]]: f32) -> f32 {
// CHECK-NEXT:   %[[Y:.*]] = arith.mulf %[[X]], %[[X]] fastmath<fast> : f32
// CHECK-NEXT:   return %[[Y]] : f32
// CHECK:      verified: 1

/* The training progress r = min(f32(t) / f32(T), 1), and splat constants
 * (of a vector and of a tensor type; an integer element type is refused). */
static void testProgressAndSplat(MlirContext ctx) {
  Checked c =
      beginChecked(ctx, "progress_and_splat",
                   "(i64, i64) -> (f32, vector<8x32xf32>, tensor<4xf64>)");
  MlirValue r = cageBuildTrainingProgress(
      &c.b, mlirBlockGetArgument(c.entry, 0), mlirBlockGetArgument(c.entry, 1));
  MlirValue zeros = cageBuildConstantFloatSplat(
      &c.b, mlirTypeParseGet(ctx, str("vector<8x32xf32>")), 0.0);
  MlirValue halves = cageBuildConstantFloatSplat(
      &c.b, mlirTypeParseGet(ctx, str("tensor<4xf64>")), 0.5);
  MlirValue bad = cageBuildConstantFloatSplat(
      &c.b, mlirTypeParseGet(ctx, str("vector<4xi32>")), 1.0);
  fprintf(stderr, "integer splat gives null: %d\n", mlirValueIsNull(bad));
  MlirValue results[] = {r, zeros, halves};
  endChecked(ctx, &c, results, 3);
}

// CHECK-LABEL: TEST: progress_and_splat
// CHECK-NEXT: diagnostic: loc("model.py":12:3): a float splat constant needs
// CHECK-SAME:   a vector or ranked tensor type of floats
// CHECK-NEXT: integer splat gives null: 1
// CHECK:      func.func @progress_and_splat(%[[T:.*]]: i64, %[[TOTAL:.*]]: i64)
// CHECK-NEXT:   %[[TF:.*]] = arith.sitofp %[[T]] : i64 to f32
// CHECK-NEXT:   %[[TOTALF:.*]] = arith.sitofp %[[TOTAL]] : i64 to f32
// CHECK-NEXT:   %[[RATIO:.*]] = arith.divf %[[TF]], %[[TOTALF]] : f32
// CHECK-NEXT:   %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:   %[[LESS:.*]] = arith.cmpf olt, %[[RATIO]], %[[ONE]] : f32
// CHECK-NEXT:   %[[R:.*]] = arith.select %[[LESS]], %[[RATIO]], %[[ONE]] : f32
// CHECK-NEXT:   %[[ZEROS:.*]] = arith.constant dense<0.000000e+00> :
// vector<8x32xf32> CHECK-NEXT:   %[[HALVES:.*]] = arith.constant
// dense<5.000000e-01> : tensor<4xf64> CHECK-NEXT:   return %[[R]], %[[ZEROS]],
// %[[HALVES]] CHECK:      verified: 1

int main(void) {
  MlirContext ctx = mlirContextCreate();
  MlirDialectHandle dialects[] = {
      mlirGetDialectHandle__func__(), mlirGetDialectHandle__arith__(),
      mlirGetDialectHandle__math__(), mlirGetDialectHandle__tensor__(),
      mlirGetDialectHandle__linalg__()};
  for (size_t i = 0; i < sizeof dialects / sizeof dialects[0]; ++i)
    mlirDialectHandleLoadDialect(dialects[i], ctx);

  testConstantsAndMath(ctx);
  testTypedOps(ctx);
  testCmpfSelect(ctx);
  testEmptyLike(ctx);
  testFill(ctx);
  testElementwiseGeneric(ctx);
  testElementwise(ctx);
  testAnyOp(ctx);
  testRowReduction(ctx);
  testFunctionFromScratch(ctx);
  testRewriterInsertionPoint(ctx);
  testBadInput(ctx);
  testConstantInt(ctx);
  testCmpI(ctx);
  testLinalgIndex(ctx);
  testExpandCollapseShape(ctx);
  testSplitMergeInnermost(ctx);
  testMaps(ctx);
  testOperationResult(ctx);
  testProgressAndSplat(ctx);
  mlirContextDestroy(ctx);
  return 0;
}
