/*===- CheckDescriptors.c - cage-cpu-check-descriptors --------------------===*\
|*                                                                            *|
|* A public function reads a memref argument of identity layout as a dense   *|
|* row-major array of the static sizes of its type: the lowering to LLVM     *|
|* uses constants for those, and the offset, strides and static sizes that a *|
|* C caller puts in the memref descriptor are never read. A descriptor with  *|
|* an offset, other strides or another static size would give wrong results  *|
|* silently. On the LLVM dialect, where the descriptor fields are arguments  *|
|* of the function, this pass checks them first, for the arguments that      *|
|* cage-cpu-runtime-checks recorded (cage.descriptor_checks): each static   *|
|* size, offset 0 and row-major strides (stride k is the product of sizes    *|
|* k+1.., except for a size of 1; not for an empty array). A failure stores  *|
|* the argument's message in the error slot (cage_last_error()) and returns  *|
|* at once (poison for the results), before the function does anything.     *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Passes.h"

#include "IR/Builder.h"
#include "IR/Ops.h"
#include "IR/Text.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Dialect/LLVM.h"

#include <stdlib.h>
#include <string.h>

static const char kDescriptorChecks[] = CAGE_CPU_DESCRIPTOR_CHECKS;
static const char kErrorSlot[] = CAGE_CPU_ERROR_SLOT;

static MlirValue constantInt(CageBuilder *b, unsigned width, int64_t value) {
  MlirType type = mlirIntegerTypeGet(b->context, width);
  MlirNamedAttribute attr =
      cageNamedAttribute(b, "value", mlirIntegerAttrGet(type, value));
  return cageOperationGetResult(
      cageBuildOp(b, "llvm.mlir.constant", 0, NULL, 1, &type, 1, &attr), 0);
}

static MlirValue constantI64(CageBuilder *b, int64_t value) {
  return constantInt(b, 64, value);
}

/* llvm.icmp eq: the predicate value of LLVM::ICmpPredicate. */
enum { kICmpEq = 0 };

static MlirValue icmp(CageBuilder *b, int predicate, MlirValue lhs,
                      MlirValue rhs) {
  MlirType i1 = mlirIntegerTypeGet(b->context, 1);
  MlirNamedAttribute attr = cageNamedAttribute(
      b, "predicate",
      mlirIntegerAttrGet(mlirIntegerTypeGet(b->context, 64), predicate));
  return cageOperationGetResult(
      cageBuildOp(b, "llvm.icmp", 2, (MlirValue[]){lhs, rhs}, 1, &i1, 1, &attr),
      0);
}

static MlirValue binary(CageBuilder *b, const char *opName, MlirValue lhs,
                        MlirValue rhs) {
  MlirType type = mlirValueGetType(lhs);
  return cageOperationGetResult(
      cageBuildOp(b, opName, 2, (MlirValue[]){lhs, rhs}, 1, &type, 0, NULL), 0);
}

static MlirValue select(CageBuilder *b, MlirValue condition, MlirValue yes,
                        MlirValue no) {
  MlirType type = mlirValueGetType(yes);
  return cageOperationGetResult(cageBuildOp(b, "llvm.select", 3,
                                            (MlirValue[]){condition, yes, no},
                                            1, &type, 0, NULL),
                                0);
}

/* Whether the descriptor fields at `fields` (allocated, aligned, offset,
 * sizes, strides) describe a dense row-major array of `shape`: the static
 * sizes always; offset 0 and row-major strides unless the array is empty
 * (then nothing is read through them). */
static MlirValue isDense(CageBuilder *b, const MlirValue *fields,
                         MlirAttribute shape) {
  intptr_t rank = mlirDenseArrayGetNumElements(shape);
  MlirValue zero = constantI64(b, 0), one = constantI64(b, 1);
  MlirValue sizesOk = constantInt(b, 1, 1);
  MlirValue layoutOk = icmp(b, kICmpEq, fields[2], zero);
  MlirValue empty = constantInt(b, 1, 0);
  MlirValue expected = one;
  for (intptr_t k = rank - 1; k >= 0; --k) {
    MlirValue size = fields[3 + k], stride = fields[3 + rank + k];
    int64_t staticSize = mlirDenseI64ArrayGetElement(shape, k);
    if (staticSize >= 0)
      sizesOk = binary(b, "llvm.and", sizesOk,
                       icmp(b, kICmpEq, size, constantI64(b, staticSize)));
    MlirValue rowMajor = binary(b, "llvm.or", icmp(b, kICmpEq, size, one),
                                icmp(b, kICmpEq, stride, expected));
    layoutOk = binary(b, "llvm.and", layoutOk, rowMajor);
    empty = binary(b, "llvm.or", empty, icmp(b, kICmpEq, size, zero));
    expected = binary(b, "llvm.mul", expected, size);
  }
  return binary(b, "llvm.and", sizesOk, binary(b, "llvm.or", layoutOk, empty));
}

/* Checks the arguments of `func` that `checks` describes; false (nothing
 * changed) when its arguments are not laid out as `checks` says (the C
 * interface wrapper, which passes descriptors by pointer). */
static bool checkFunction(MlirOperation func, MlirAttribute checks) {
  MlirContext ctx = mlirOperationGetContext(func);
  MlirBlock entry = mlirRegionGetFirstBlock(mlirOperationGetRegion(func, 0));
  if (mlirBlockIsNull(entry))
    return false;
  intptr_t numArgs = mlirBlockGetNumArguments(entry), expected = 0;
  for (intptr_t i = 0; i < mlirArrayAttrGetNumElements(checks); ++i) {
    MlirAttribute e = mlirArrayAttrGetElement(checks, i);
    if (mlirAttributeIsAArray(e))
      e = mlirArrayAttrGetElement(e, 0);
    expected += mlirAttributeIsADenseI64Array(e)
                    ? 3 + 2 * mlirDenseArrayGetNumElements(e)
                    : 1;
  }
  if (expected != numArgs)
    return false;

  /* The function's ops move to a new block; the entry keeps only the
   * checks and the branch. */
  MlirBlock body = mlirBlockCreate(0, NULL, NULL);
  mlirRegionInsertOwnedBlockAfter(mlirOperationGetRegion(func, 0), entry, body);
  for (MlirOperation op = mlirBlockGetFirstOperation(entry);
       !mlirOperationIsNull(op);) {
    MlirOperation next = mlirOperationGetNextInBlock(op);
    mlirOperationRemoveFromParent(op);
    mlirBlockAppendOwnedOperation(body, op);
    op = next;
  }
  MlirLocation loc = mlirOperationGetLocation(func);
  CageBuilder b = cageBuilderAtEndOfBlock(entry, loc);
  MlirType ptr = mlirLLVMPointerTypeGet(ctx, 0);
  MlirValue allOk = constantInt(&b, 1, 1);
  MlirValue message = cageOperationGetResult(
      cageBuildOp(&b, "llvm.mlir.zero", 0, NULL, 1, &ptr, 0, NULL), 0);
  intptr_t at = 0;
  for (intptr_t i = 0; i < mlirArrayAttrGetNumElements(checks); ++i) {
    MlirAttribute e = mlirArrayAttrGetElement(checks, i);
    if (!mlirAttributeIsAArray(e)) {
      at += mlirAttributeIsADenseI64Array(e)
                ? 3 + 2 * mlirDenseArrayGetNumElements(e)
                : 1;
      continue;
    }
    MlirAttribute shape = mlirArrayAttrGetElement(e, 0);
    MlirValue *fields = calloc(
        (size_t)(3 + 2 * mlirDenseArrayGetNumElements(shape)), sizeof *fields);
    if (!fields)
      abort();
    for (intptr_t f = 0; f < 3 + 2 * mlirDenseArrayGetNumElements(shape); ++f)
      fields[f] = mlirBlockGetArgument(entry, at + f);
    at += 3 + 2 * mlirDenseArrayGetNumElements(shape);
    MlirValue ok = isDense(&b, fields, shape);
    free(fields);
    /* The message of the first failing argument: the last select wins. */
    MlirValue text = cageCPUAddressOf(
        &b, mlirStringAttrGetValue(mlirArrayAttrGetElement(e, 1)));
    message = select(&b, ok, message, text);
    allOk = binary(&b, "llvm.and", allOk, ok);
  }

  MlirBlock fail = mlirBlockCreate(0, NULL, NULL);
  mlirRegionInsertOwnedBlockAfter(mlirOperationGetRegion(func, 0), body, fail);
  MlirOperationState branch =
      mlirOperationStateGet(cageStr("llvm.cond_br"), loc);
  mlirOperationStateAddOperands(&branch, 1, &allOk);
  MlirBlock successors[] = {body, fail};
  mlirOperationStateAddSuccessors(&branch, 2, successors);
  int32_t segments[] = {1, 0, 0};
  MlirNamedAttribute sizes = cageNamedAttribute(
      &b, "operandSegmentSizes", mlirDenseI32ArrayGet(ctx, 3, segments));
  mlirOperationStateAddAttributes(&branch, 1, &sizes);
  mlirBlockAppendOwnedOperation(entry, mlirOperationCreate(&branch));

  CageBuilder f = cageBuilderAtEndOfBlock(fail, loc);
  MlirValue slot = cageCPUAddressOf(&f, cageStr(kErrorSlot));
  cageBuildOp(&f, "llvm.store", 2, (MlirValue[]){message, slot}, 0, NULL, 0,
              NULL);
  MlirType fnType =
      mlirTypeAttrGetValue(cageOpAttribute(func, "function_type"));
  MlirType result = mlirLLVMFunctionTypeGetReturnType(fnType);
  if (mlirTypeEqual(result, mlirLLVMVoidTypeGet(ctx))) {
    cageBuildOp(&f, "llvm.return", 0, NULL, 0, NULL, 0, NULL);
  } else {
    MlirValue poison = cageOperationGetResult(
        cageBuildOp(&f, "llvm.mlir.poison", 0, NULL, 1, &result, 0, NULL), 0);
    cageBuildOp(&f, "llvm.return", 1, &poison, 0, NULL, 0, NULL);
  }
  return true;
}

static bool hasChecks(MlirOperation op) {
  return cageOpIs(op, "llvm.func") &&
         !mlirAttributeIsNull(mlirOperationGetDiscardableAttributeByName(
             op, cageStr(kDescriptorChecks)));
}

static void run(MlirOperation module, const CagePassOptionValue *options,
                CagePassHandle pass) {
  (void)options;
  (void)pass;
  CageOpList funcs = cageCollectOpsWhere(module, hasChecks);
  for (intptr_t i = 0; i < funcs.size; ++i) {
    MlirOperation func = funcs.ops[i];
    checkFunction(func, mlirOperationGetDiscardableAttributeByName(
                            func, cageStr(kDescriptorChecks)));
    mlirOperationRemoveDiscardableAttributeByName(func,
                                                  cageStr(kDescriptorChecks));
  }
  cageOpListDestroy(&funcs);
}

const CagePassDefinition cageCPUCheckDescriptorsPass = {
    .argument = "cage-cpu-check-descriptors",
    .name = "CageCPUCheckDescriptors",
    .summary = "Check, on the LLVM dialect, that the memref descriptors of "
               "public functions' arguments describe dense row-major arrays "
               "of their types (cage.descriptor_checks)",
    .anchorOp = "builtin.module",
    .run = run,
};
