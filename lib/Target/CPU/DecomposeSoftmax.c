/*===- DecomposeSoftmax.c - cage-cpu-decompose-softmax --------------------===*\
|*                                                                            *|
|* linalg.softmax is an aggregate op: no lowering takes it to loops (upstream *|
|* decomposes it only through the transform dialect). This pass writes it as *|
|* the four linalg.generic ops it stands for, on tensors, before the CPU      *|
|* pipeline bufferizes, fuses and tiles them:                                 *|
|*   m = max over d of x (from -inf),  e = exp(x - m),                       *|
|*   s = sum over d of e (from 0),     y = e / s  (into the op's init).       *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Passes.h"

#include "IR/Builder.h"
#include "IR/Ops.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Dialect/Linalg.h"
#include "mlir-c/Dialect/Math.h"

#include <math.h>
#include <stdlib.h>

static void maxBody(CageBuilder *body, const MlirValue *args, intptr_t numArgs,
                    MlirValue *yielded, void *userData) {
  (void)numArgs, (void)userData;
  yielded[0] = cageBuildMaximumF(body, args[1], args[0]);
}

static void sumBody(CageBuilder *body, const MlirValue *args, intptr_t numArgs,
                    MlirValue *yielded, void *userData) {
  (void)numArgs, (void)userData;
  yielded[0] = cageBuildAddF(body, args[1], args[0]);
}

static void expBody(CageBuilder *body, const MlirValue *args, intptr_t numArgs,
                    MlirValue *yielded, void *userData) {
  (void)numArgs, (void)userData;
  MlirValue d = cageBuildSubF(body, args[0], args[1]);
  MlirType type = mlirValueGetType(d);
  yielded[0] = cageOperationGetResult(
      cageBuildOp(body, "math.exp", 1, &d, 1, &type, 0, NULL), 0);
}

static void divBody(CageBuilder *body, const MlirValue *args, intptr_t numArgs,
                    MlirValue *yielded, void *userData) {
  (void)numArgs, (void)userData;
  yielded[0] = cageBuildDivF(body, args[0], args[1]);
}

/* A reduction of `x` along `dim` into a tensor filled with `init`. */
static MlirValue reduce(CageBuilder *b, MlirValue x, intptr_t dim, double init,
                        CageGenericBodyBuilder body) {
  MlirType type = mlirValueGetType(x);
  intptr_t rank = mlirShapedTypeGetRank(type);
  MlirValue out = cageBuildFill(
      b, cageBuildConstantFloat(b, mlirShapedTypeGetElementType(type), init),
      cageBuildEmptyWithoutDim(b, x, dim));
  MlirAffineMap maps[] = {cagePrefixMap(b->context, rank, rank),
                          cageMapDroppingDim(b->context, rank, dim)};
  CageIteratorType *iterators = cageAllocArray(rank, sizeof *iterators);
  for (intptr_t d = 0; d < rank; ++d)
    iterators[d] = d == dim ? CageIteratorReduction : CageIteratorParallel;
  CageGenericSpec spec = {&x, 1, &out, 1, maps, iterators, rank, body, NULL};
  MlirValue result = cageOperationGetResult(cageBuildGeneric(b, &spec), 0);
  free(iterators);
  return result;
}

/* `lhs` combined element by element with `rows` (a reduction along `dim`)
 * into `out`. */
static MlirValue withRows(CageBuilder *b, MlirValue lhs, MlirValue rows,
                          MlirValue out, intptr_t dim,
                          CageGenericBodyBuilder body) {
  intptr_t rank = mlirShapedTypeGetRank(mlirValueGetType(lhs));
  MlirAffineMap id = cagePrefixMap(b->context, rank, rank);
  MlirAffineMap maps[] = {id, cageMapDroppingDim(b->context, rank, dim), id};
  CageIteratorType *iterators = cageAllocArray(rank, sizeof *iterators);
  MlirValue inputs[] = {lhs, rows};
  CageGenericSpec spec = {inputs,    2,    &out, 1,   maps,
                          iterators, rank, body, NULL};
  MlirValue result = cageOperationGetResult(cageBuildGeneric(b, &spec), 0);
  free(iterators);
  return result;
}

static void decompose(MlirOperation softmax) {
  MlirValue x = mlirOperationGetOperand(softmax, 0);
  MlirValue init = mlirOperationGetOperand(softmax, 1);
  intptr_t dim = (intptr_t)mlirIntegerAttrGetValueInt(
      cageOpAttribute(softmax, "dimension"));
  /* Built in a block of its own, then moved before the op. */
  MlirBlock scratch = mlirBlockCreate(0, NULL, NULL);
  CageBuilder b =
      cageBuilderAtEndOfBlock(scratch, mlirOperationGetLocation(softmax));
  MlirValue max = reduce(&b, x, dim, -INFINITY, maxBody);
  MlirValue e = withRows(&b, x, max, cageBuildEmptyLike(&b, x), dim, expBody);
  MlirValue sum = reduce(&b, e, dim, 0.0, sumBody);
  MlirValue y = withRows(&b, e, sum, init, dim, divBody);
  MlirOperation op;
  while (!mlirOperationIsNull(op = mlirBlockGetFirstOperation(scratch)))
    mlirOperationMoveBefore(op, softmax);
  mlirBlockDestroy(scratch);
  mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(softmax, 0), y);
  mlirOperationDestroy(softmax);
}

static bool isSoftmax(MlirOperation op) {
  return cageOpIs(op, "linalg.softmax") &&
         mlirTypeIsARankedTensor(
             mlirValueGetType(mlirOperationGetOperand(op, 0)));
}

static void run(MlirOperation module, const CagePassOptionValue *options,
                CagePassHandle pass) {
  (void)options, (void)pass;
  CageOpList ops = cageCollectOpsWhere(module, isSoftmax);
  for (intptr_t i = 0; i < ops.size; ++i)
    decompose(ops.ops[i]);
  cageOpListDestroy(&ops);
}

static MlirDialectHandle (*const dependentDialects[])(void) = {
    mlirGetDialectHandle__linalg__, mlirGetDialectHandle__math__};

const CagePassDefinition cageCPUDecomposeSoftmaxPass = {
    .argument = "cage-cpu-decompose-softmax",
    .name = "CageCPUDecomposeSoftmax",
    .summary = "Write linalg.softmax on tensors as its max, exp, sum and "
               "division linalg.generic ops",
    .anchorOp = "builtin.module",
    .options = NULL,
    .numOptions = 0,
    .dependentDialects = dependentDialects,
    .numDependentDialects =
        sizeof dependentDialects / sizeof dependentDialects[0],
    .run = run,
};
