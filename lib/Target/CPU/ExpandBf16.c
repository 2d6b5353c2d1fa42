/*===- ExpandBf16.c - cage-cpu-expand-bf16 --------------------------------===*\
|*                                                                            *|
|* arith.extf from bf16 and arith.truncf from f32 to bf16, on scalars (the   *|
|* bodies of linalg ops, before vectorization), as integer ops:              *|
|*   extf:   the f32 whose bits are h << 16 (exact; to f64 through f32,      *|
|*           also exact);                                                    *|
|*   truncf: to nearest, ties to even: (b + 0x7FFF + ((b >> 16) & 1)) >> 16  *|
|*           of the f32 bits b (which carries into the exponent, up to       *|
|*           infinity, as it should); a NaN keeps its sign and the top of    *|
|*           its payload and is made quiet, (b >> 16) | 0x40.                *|
|* The same bits on every target, denormals included.                        *|
|*                                                                            *|
|* Why: LLVM 22's x86 back end converts f32 to bf16 natively only with       *|
|* AVX512-BF16; without it (every AVX2 machine, Skylake-X, Zen 3) each       *|
|* conversion, and each bf16 element of a vector converted to f32, calls     *|
|* __truncsfbf2, which libgcc has only from GCC 13: neither the JIT nor an   *|
|* object linked on Debian 12 found it. (The hardware instruction also       *|
|* flushes denormal inputs to zero, which the library does not: the bits     *|
|* depended on the machine.) A truncf with a rounding mode other than the    *|
|* default, and truncf from f64, are left to LLVM.                           *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Passes.h"

#include "IR/Builder.h"
#include "IR/Ops.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Dialect/Arith.h"

static MlirType resultType(MlirOperation op) {
  return mlirValueGetType(mlirOperationGetResult(op, 0));
}

static MlirType operandType(MlirOperation op) {
  return mlirValueGetType(mlirOperationGetOperand(op, 0));
}

static bool isBf16Conversion(MlirOperation op) {
  if (cageOpIs(op, "arith.extf"))
    return mlirTypeIsABF16(operandType(op)) &&
           (mlirTypeIsAF32(resultType(op)) || mlirTypeIsAF64(resultType(op)));
  if (cageOpIs(op, "arith.truncf"))
    return mlirTypeIsAF32(operandType(op)) && mlirTypeIsABF16(resultType(op)) &&
           mlirAttributeIsNull(cageOpAttribute(op, "roundingmode"));
  return false;
}

static MlirValue constant(CageBuilder *b, MlirType type, int64_t value) {
  return cageBuildConstantInt(b, type, value);
}

static MlirValue buildExtF(CageBuilder *b, MlirValue h, MlirType to) {
  MlirType i16 = mlirIntegerTypeGet(b->context, 16),
           i32 = mlirIntegerTypeGet(b->context, 32);
  MlirValue bits = cageBuildExtUI(b, cageBuildBitcast(b, h, i16), i32);
  MlirValue wide = cageBuildShLI(b, bits, constant(b, i32, 16));
  MlirValue x = cageBuildBitcast(b, wide, mlirF32TypeGet(b->context));
  return mlirTypeIsAF32(to) ? x : cageBuildExtF(b, x, to);
}

static MlirValue buildTruncF(CageBuilder *b, MlirValue x) {
  MlirType i32 = mlirIntegerTypeGet(b->context, 32);
  MlirValue bits = cageBuildBitcast(b, x, i32);
  MlirValue high = cageBuildShRUI(b, bits, constant(b, i32, 16));
  MlirValue odd = cageBuildAndI(b, high, constant(b, i32, 1));
  MlirValue bias = cageBuildAddI(b, odd, constant(b, i32, 0x7FFF));
  MlirValue rounded =
      cageBuildShRUI(b, cageBuildAddI(b, bits, bias), constant(b, i32, 16));
  MlirValue quietNaN = cageBuildOrI(b, high, constant(b, i32, 0x40));
  MlirValue result = cageBuildSelect(b, cageBuildCmpF(b, CageCmpFUNO, x, x),
                                     quietNaN, rounded);
  MlirValue half =
      cageBuildTruncI(b, result, mlirIntegerTypeGet(b->context, 16));
  return cageBuildBitcast(b, half, mlirBF16TypeGet(b->context));
}

static MlirValue buildConversion(CageBuilder *b, MlirOperation op) {
  MlirValue x = mlirOperationGetOperand(op, 0);
  return cageOpIs(op, "arith.extf") ? buildExtF(b, x, resultType(op))
                                    : buildTruncF(b, x);
}

static void run(MlirOperation root, const CagePassOptionValue *options,
                CagePassHandle pass) {
  (void)options, (void)pass;
  cageReplaceOpsWhere(root, isBf16Conversion, buildConversion);
}

static MlirDialectHandle (*const dependentDialects[])(void) = {
    mlirGetDialectHandle__arith__};

const CagePassDefinition cageCPUExpandBf16Pass = {
    .argument = "cage-cpu-expand-bf16",
    .name = "CageCPUExpandBf16",
    .summary = "Compute bf16 <-> f32 conversions of scalars with integer ops "
               "(the same bits on every target; no __truncsfbf2 calls)",
    .anchorOp = NULL,
    .dependentDialects = dependentDialects,
    .numDependentDialects =
        sizeof dependentDialects / sizeof dependentDialects[0],
    .run = run,
};
