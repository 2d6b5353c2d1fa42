/*===- Philox.c - Philox4x32-10 inside linalg bodies ----------------------===*\
|*                                                                            *|
|* Random123's philox4x32_R(10, ctr, key): round 1 with the key as given,     *|
|* then for rounds 2..10 bump the key by the Weyl constants and do one more   *|
|* round. A round, with (hi0, lo0) = M0 * c0 and (hi1, lo1) = M1 * c2 (the    *|
|* 64-bit products of the zero-extended i32 operands):                        *|
|*   c = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0).                            *|
|* All i32 arithmetic wraps modulo 2^32, as Random123's uint32_t does.        *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Philox.h"

#include "mlir-c/BuiltinTypes.h"

/* Random123's PHILOX_M4x32_0/1 and PHILOX_W32_0/1. */
static const int64_t kMultiplier0 = 0xD2511F53;
static const int64_t kMultiplier1 = 0xCD9E8D57;
static const int64_t kWeyl0 = 0x9E3779B9;
static const int64_t kWeyl1 = 0xBB67AE85;

static MlirType i32Type(CageBuilder *b) {
  return mlirIntegerTypeGet(b->context, 32);
}

/* The low and the high 32 bits of an i64. */
static MlirValue low32(CageBuilder *b, MlirValue v) {
  return cageBuildTruncI(b, v, i32Type(b));
}

static MlirValue high32(CageBuilder *b, MlirValue v) {
  MlirValue shift = cageBuildConstantI64(b, 32);
  return low32(b, cageBuildShRUI(b, v, shift));
}

void lowerBuildPhiloxKeys(CageBuilder *b, MlirValue seed,
                          LowerPhiloxKeys *keys) {
  keys->k0[0] = low32(b, seed);
  keys->k1[0] = high32(b, seed);
  MlirValue weyl0 = cageBuildConstantInt(b, i32Type(b), kWeyl0);
  MlirValue weyl1 = cageBuildConstantInt(b, i32Type(b), kWeyl1);
  for (int r = 1; r < kLowerPhiloxRounds; ++r) {
    keys->k0[r] = cageBuildAddI(b, keys->k0[r - 1], weyl0);
    keys->k1[r] = cageBuildAddI(b, keys->k1[r - 1], weyl1);
  }
}

static MlirValue xor3(CageBuilder *b, MlirValue x, MlirValue y, MlirValue z) {
  return cageBuildXOrI(b, cageBuildXOrI(b, x, y), z);
}

/* The 64-bit product of an i32 `x` and the multiplier `m` (given as an
 * i32 and zero-extended to i64): the low half as an i32 multiplication
 * (which wraps to the same bits), the high half from an i64 one that has
 * no other use, so that LLVM sees a multiply-high: on x86, vpmulld and two
 * vpmuludq per 16 lanes instead of the widening, the four vpmuludq and the
 * narrowing of two 64-bit products. Not arith.mului_extended: once
 * vectorized it becomes an n-D vector op that ArithToLLVM does not convert,
 * while extui/muli/shrui/trunci do. */
static void mulWide(CageBuilder *b, MlirValue m32, MlirValue m64, MlirValue x,
                    MlirValue *lo, MlirValue *hi) {
  *lo = cageBuildMulI(b, x, m32);
  *hi = high32(
      b, cageBuildMulI(
             b, cageBuildExtUI(b, x, mlirIntegerTypeGet(b->context, 64)), m64));
}

/* The multipliers as i32 and as zero-extended i64 constants. */
typedef struct Multipliers {
  MlirValue m32[2], m64[2];
} Multipliers;

/* One Philox round on the counter c[4] with the round key (k0, k1). */
static void philoxRound(CageBuilder *b, MlirValue c[4], const Multipliers *m,
                        MlirValue k0, MlirValue k1) {
  MlirValue lo0, hi0, lo1, hi1;
  mulWide(b, m->m32[0], m->m64[0], c[0], &lo0, &hi0);
  mulWide(b, m->m32[1], m->m64[1], c[2], &lo1, &hi1);
  MlirValue c0 = xor3(b, hi1, c[1], k0);
  MlirValue c2 = xor3(b, hi0, c[3], k1);
  c[0] = c0;
  c[1] = lo1;
  c[2] = c2;
  c[3] = lo0;
}

void lowerBuildPhilox(CageBuilder *body, const LowerPhiloxKeys *keys,
                      MlirValue index, MlirValue out[4]) {
  MlirValue zero = cageBuildConstantInt(body, i32Type(body), 0);
  MlirValue counter[4] = {low32(body, index), high32(body, index), zero, zero};
  lowerBuildPhiloxCounter(body, keys, counter, out);
}

void lowerBuildPhiloxCounter(CageBuilder *body, const LowerPhiloxKeys *keys,
                             const MlirValue counter[4], MlirValue out[4]) {
  for (int i = 0; i < 4; ++i)
    out[i] = counter[i];
  Multipliers m = {{cageBuildConstantInt(body, i32Type(body), kMultiplier0),
                    cageBuildConstantInt(body, i32Type(body), kMultiplier1)},
                   {cageBuildConstantI64(body, kMultiplier0),
                    cageBuildConstantI64(body, kMultiplier1)}};
  for (int r = 0; r < kLowerPhiloxRounds; ++r)
    philoxRound(body, out, &m, keys->k0[r], keys->k1[r]);
}

MlirValue lowerBuildPhiloxUniform(CageBuilder *body,
                                  const LowerPhiloxKeys *keys,
                                  MlirValue index) {
  MlirValue out[4];
  lowerBuildPhilox(body, keys, index, out);
  return lowerBuildUniform24(body, out[0]);
}

MlirValue lowerBuildUniform24(CageBuilder *body, MlirValue word) {
  /* The top 24 bits of the word: uitofp of a 24-bit integer and the scaling
   * by 2^-24 are both exact in f32. */
  MlirValue bits24 =
      cageBuildShRUI(body, word, cageBuildConstantInt(body, i32Type(body), 8));
  MlirValue u = cageBuildUIToFP(body, bits24, mlirF32TypeGet(body->context));
  return cageBuildMulF(body, u, cageBuildConstantF32(body, 0x1p-24f));
}
