/*===- Bf16.c - Optimizer state stored in bf16 ----------------------------===*/

#include "Bf16.h"

#include "mlir-c/BuiltinTypes.h"

MlirValue lowerBuildBf16Load(CageBuilder *body, MlirValue x) {
  return cageBuildExtF(body, x, mlirF32TypeGet(body->context));
}

void lowerBuildBf16StateRandomBits(CageBuilder *body,
                                   const LowerPhiloxKeys *keys, MlirValue group,
                                   MlirValue lane, MlirValue bits[2]) {
  MlirType i32 = mlirIntegerTypeGet(body->context, 32);
  MlirValue out[4];
  lowerBuildPhilox(body, keys, group, out);
  /* out[lane], chosen by the lane's two bits. */
  MlirValue odd = cageBuildCmpI(
      body, CageCmpINE,
      cageBuildAndI(body, lane, cageBuildConstantInt(body, i32, 1)),
      cageBuildConstantInt(body, i32, 0));
  MlirValue upper = cageBuildCmpI(body, CageCmpIUGE, lane,
                                  cageBuildConstantInt(body, i32, 2));
  MlirValue word =
      cageBuildSelect(body, upper, cageBuildSelect(body, odd, out[3], out[2]),
                      cageBuildSelect(body, odd, out[1], out[0]));
  bits[0] = cageBuildAndI(body, word, cageBuildConstantInt(body, i32, 0xFFFF));
  bits[1] = cageBuildShRUI(body, word, cageBuildConstantInt(body, i32, 16));
}

MlirValue lowerBuildBf16StoreStochastic(CageBuilder *body, MlirValue x,
                                        MlirValue random) {
  MlirType i32 = mlirIntegerTypeGet(body->context, 32);
  MlirValue bits = cageBuildBitcast(body, x, i32);
  MlirValue high =
      cageBuildShRUI(body, bits, cageBuildConstantInt(body, i32, 16));
  MlirValue low =
      cageBuildAndI(body, bits, cageBuildConstantInt(body, i32, 0xFFFF));
  /* Round the magnitude up iff r < low: probability low / 2^16; low = 0
   * (values on the bf16 grid, ±0, ±Inf) never rounds up. */
  MlirValue up = cageBuildCmpI(body, CageCmpIULT, random, low);
  MlirValue rounded = cageBuildAddI(body, high, cageBuildExtUI(body, up, i32));
  /* NaN: the quiet NaN of its sign. */
  MlirValue quietNaN = cageBuildOrI(
      body, cageBuildAndI(body, high, cageBuildConstantInt(body, i32, 0x8000)),
      cageBuildConstantInt(body, i32, 0x7FC0));
  MlirValue stored = cageBuildSelect(
      body, cageBuildCmpF(body, CageCmpFUNO, x, x), quietNaN, rounded);
  MlirValue half =
      cageBuildTruncI(body, stored, mlirIntegerTypeGet(body->context, 16));
  return cageBuildBitcast(body, half, mlirBF16TypeGet(body->context));
}
