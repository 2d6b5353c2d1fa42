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

static void decompose(MlirOperation softmax) {
  MlirValue x = mlirOperationGetOperand(softmax, 0);
  MlirValue init = mlirOperationGetOperand(softmax, 1);
  intptr_t dim = (intptr_t)mlirIntegerAttrGetValueInt(
      cageOpAttribute(softmax, "dimension"));
  /* Built in a block of its own, then moved before the op. */
  CageBuilder b = cageBuilderDetached(mlirOperationGetLocation(softmax));
  MlirValue max =
      cageBuildReduceAlongDim(&b, &x, 1, dim, -INFINITY, maxBody, NULL);
  MlirValue e = cageBuildElementwiseWithRows(
      &b, &x, 1, max, dim, cageBuildEmptyLike(&b, x), expBody, NULL);
  MlirValue sum = cageBuildReduceAlongDim(&b, &e, 1, dim, 0.0, sumBody, NULL);
  MlirValue y =
      cageBuildElementwiseWithRows(&b, &e, 1, sum, dim, init, divBody, NULL);
  cageBuilderMoveBefore(&b, softmax);
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
