/*===- Bf16.c - Optimizer state stored in bf16 ----------------------------===*/

#include "Bf16.h"

#include "mlir-c/BuiltinTypes.h"

MlirValue lowerBuildBf16Load(CageBuilder *body, MlirValue x) {
  return cageBuildCast(body, "arith.extf", x, mlirF32TypeGet(body->context));
}

MlirValue lowerBuildBf16StoreStochastic(CageBuilder *body, MlirValue x,
                                        MlirValue word) {
  MlirType i32 = mlirIntegerTypeGet(body->context, 32);
  MlirValue bits = cageBuildCast(body, "arith.bitcast", x, i32);
  MlirValue high = cageBuildBinary(body, "arith.shrui", bits,
                                   cageBuildConstantInt(body, i32, 16));
  MlirValue low = cageBuildBinary(body, "arith.andi", bits,
                                  cageBuildConstantInt(body, i32, 0xFFFF));
  /* u < frac with u = (word >> 8)·2^-24 and frac = low·2^-16, in integers;
   * low = 0 (values on the bf16 grid, ±0, ±Inf) never rounds up. */
  MlirValue eight = cageBuildConstantInt(body, i32, 8);
  MlirValue up = cageBuildCmpI(
      body, "ult", cageBuildBinary(body, "arith.shrui", word, eight),
      cageBuildBinary(body, "arith.shli", low, eight));
  MlirValue rounded = cageBuildBinary(
      body, "arith.addi", high, cageBuildCast(body, "arith.extui", up, i32));
  MlirValue quietNaN = cageBuildBinary(body, "arith.ori", high,
                                       cageBuildConstantInt(body, i32, 0x40));
  MlirValue stored = cageBuildSelect(body, cageBuildCmpF(body, "uno", x, x),
                                     quietNaN, rounded);
  MlirValue half = cageBuildCast(body, "arith.trunci", stored,
                                 mlirIntegerTypeGet(body->context, 16));
  return cageBuildCast(body, "arith.bitcast", half,
                       mlirBF16TypeGet(body->context));
}
