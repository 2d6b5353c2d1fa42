/*===- Bf16.c - Optimizer state stored in bf16 ----------------------------===*/

#include "Bf16.h"

#include "mlir-c/BuiltinTypes.h"

MlirValue lowerBuildBf16Load(CageBuilder *body, MlirValue x) {
  return cageBuildCast(body, "arith.extf", x, mlirF32TypeGet(body->context));
}

void lowerBuildBf16StateRandomBits(CageBuilder *body,
                                   const LowerPhiloxKeys *keys, MlirValue index,
                                   MlirValue bits[2]) {
  MlirType i32 = mlirIntegerTypeGet(body->context, 32);
  MlirValue out[4];
  lowerBuildPhilox(body, keys,
                   cageBuildBinary(body, "arith.shrui", index,
                                   cageBuildConstantI64(body, 2)),
                   out);
  /* out[index mod 4], chosen by the two low bits of the index. */
  MlirValue lane = cageBuildCast(
      body, "arith.trunci",
      cageBuildBinary(body, "arith.andi", index, cageBuildConstantI64(body, 3)),
      i32);
  MlirValue odd =
      cageBuildCmpI(body, "ne",
                    cageBuildBinary(body, "arith.andi", lane,
                                    cageBuildConstantInt(body, i32, 1)),
                    cageBuildConstantInt(body, i32, 0));
  MlirValue upper =
      cageBuildCmpI(body, "uge", lane, cageBuildConstantInt(body, i32, 2));
  MlirValue word =
      cageBuildSelect(body, upper, cageBuildSelect(body, odd, out[3], out[2]),
                      cageBuildSelect(body, odd, out[1], out[0]));
  bits[0] = cageBuildBinary(body, "arith.andi", word,
                            cageBuildConstantInt(body, i32, 0xFFFF));
  bits[1] = cageBuildBinary(body, "arith.shrui", word,
                            cageBuildConstantInt(body, i32, 16));
}

MlirValue lowerBuildBf16StoreStochastic(CageBuilder *body, MlirValue x,
                                        MlirValue random) {
  MlirType i32 = mlirIntegerTypeGet(body->context, 32);
  MlirValue bits = cageBuildCast(body, "arith.bitcast", x, i32);
  MlirValue high = cageBuildBinary(body, "arith.shrui", bits,
                                   cageBuildConstantInt(body, i32, 16));
  MlirValue low = cageBuildBinary(body, "arith.andi", bits,
                                  cageBuildConstantInt(body, i32, 0xFFFF));
  /* Round the magnitude up iff r < low: probability low / 2^16; low = 0
   * (values on the bf16 grid, ±0, ±Inf) never rounds up. */
  MlirValue up = cageBuildCmpI(body, "ult", random, low);
  MlirValue rounded = cageBuildBinary(
      body, "arith.addi", high, cageBuildCast(body, "arith.extui", up, i32));
  /* NaN: the quiet NaN of its sign. */
  MlirValue quietNaN =
      cageBuildBinary(body, "arith.ori",
                      cageBuildBinary(body, "arith.andi", high,
                                      cageBuildConstantInt(body, i32, 0x8000)),
                      cageBuildConstantInt(body, i32, 0x7FC0));
  MlirValue stored = cageBuildSelect(body, cageBuildCmpF(body, "uno", x, x),
                                     quietNaN, rounded);
  MlirValue half = cageBuildCast(body, "arith.trunci", stored,
                                 mlirIntegerTypeGet(body->context, 16));
  return cageBuildCast(body, "arith.bitcast", half,
                       mlirBF16TypeGet(body->context));
}
