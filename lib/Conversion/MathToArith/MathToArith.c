/*===- MathToArith.c - cage-convert-math-to-arith -------------------------===*\
|*                                                                            *|
|* math.exp and math.erf of f32 scalars become cage's own polynomial          *|
|* evaluations in arith ops (docs/Semantics.md §1.7): no libm call, so the    *|
|* linalg bodies around them vectorize (libm's expf and erff were called one  *|
|* element at a time: 15% of a transformer block's gradient), and the result  *|
|* is the same bits on every target that has IEEE f32 arithmetic (libms       *|
|* differ in the last bit, as for powf in §1.3). Every product and sum is a   *|
|* separate arith.mulf or arith.addf, never an FMA, in the order written      *|
|* here, which is the order of §1.7. Vectors and other element types keep    *|
|* their math op (the CPU pipeline runs this on the scalar bodies of linalg   *|
|* ops, before they are vectorized).                                          *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "cage/Conversion/Passes.h"
#include "cage/Math/ExpErf.h"

#include "IR/Builder.h"
#include "IR/Ops.h"

#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Dialect/Arith.h"
#include "mlir-c/Dialect/Math.h"

#include <math.h>

static MlirValue f32(CageBuilder *b, float value) {
  return cageBuildConstantF32(b, value);
}

/* c[0] + x·(c[1] + x·(... + x·c[n−1])), by Horner's rule from the top. Ops
 * are built one statement at a time, never as two arguments of one call
 * (C leaves their order open), so that the IR's order is the text's. */
static MlirValue horner(CageBuilder *b, MlirValue x, const float *c,
                        intptr_t n) {
  MlirValue p = f32(b, c[n - 1]);
  for (intptr_t k = n - 2; k >= 0; --k) {
    MlirValue px = cageBuildMulF(b, p, x);
    p = cageBuildAddF(b, px, f32(b, c[k]));
  }
  return p;
}

/* 2^k as f32 for the i32 `k` in [−126, 127]: its exponent field. */
static MlirValue powerOfTwo(CageBuilder *b, MlirValue k) {
  MlirType i32 = mlirIntegerTypeGet(b->context, 32);
  MlirValue biased = cageBuildAddI(b, k, cageBuildConstantInt(b, i32, 127));
  MlirValue bits = cageBuildShLI(b, biased, cageBuildConstantInt(b, i32, 23));
  return cageBuildBitcast(b, bits, mlirF32TypeGet(b->context));
}

/* exp(x), §1.7: x = n·ln 2 + r, exp(x) = 2^n·exp(r). */
static MlirValue buildExp(CageBuilder *b, MlirValue x) {
  MlirType i32 = mlirIntegerTypeGet(b->context, 32);
  /* maxnumf/minnumf: a NaN x is clamped too, so that n is an integer
   * (fptosi of NaN is poison); the result is x, selected at the end. */
  MlirValue hi = f32(b, kCageExpMax);
  MlirValue lo = f32(b, kCageExpMin);
  MlirValue clamped = cageBuildMinNumF(b, cageBuildMaxNumF(b, x, lo), hi);
  MlirValue n =
      cageBuildRoundEven(b, cageBuildMulF(b, clamped, f32(b, kCageExpLog2E)));
  MlirValue nHi = cageBuildMulF(b, n, f32(b, kCageExpLn2Hi));
  MlirValue nLo = cageBuildMulF(b, n, f32(b, kCageExpLn2Lo));
  MlirValue r = cageBuildSubF(b, cageBuildSubF(b, clamped, nHi), nLo);
  MlirValue p = horner(b, r, kCageExpP, kCageExpNumP);
  MlirValue r2 = cageBuildMulF(b, r, r);
  MlirValue y = cageBuildAddF(b, cageBuildMulF(b, p, r2), r);
  y = cageBuildAddF(b, y, f32(b, 1.0f));
  /* 2^n in two factors 2^h·2^(n−h), h = floor(n/2): each a normal f32 for
   * n in [−150, 128], and only the last product can round (into the
   * subnormals). */
  MlirValue ni = cageBuildFPToSI(b, n, i32);
  MlirValue h = cageBuildShRSI(b, ni, cageBuildConstantInt(b, i32, 1));
  y = cageBuildMulF(b, y, powerOfTwo(b, h));
  y = cageBuildMulF(b, y, powerOfTwo(b, cageBuildSubI(b, ni, h)));
  MlirValue above = cageBuildCmpF(b, CageCmpFOGT, x, hi);
  y = cageBuildSelect(b, above, f32(b, INFINITY), y);
  MlirValue below = cageBuildCmpF(b, CageCmpFOLT, x, lo);
  y = cageBuildSelect(b, below, f32(b, 0.0f), y);
  return cageBuildSelect(b, cageBuildCmpF(b, CageCmpFUNO, x, x), x, y);
}

/* erf(x), §1.7: odd, a polynomial below 0.8, 1 − exp(−b²)·Q(t) above. */
static MlirValue buildErf(CageBuilder *b, MlirValue x) {
  MlirValue a = cageBuildAbsF(b, x);
  MlirValue s = cageBuildMulF(b, a, a);
  MlirValue rs = cageBuildMulF(b, horner(b, s, kCageErfR, kCageErfNumR), s);
  MlirValue pr = cageBuildAddF(b, rs, f32(b, kCageErfC0Minus1));
  MlirValue small = cageBuildAddF(b, a, cageBuildMulF(b, a, pr));

  MlirValue split = f32(b, kCageErfSplit);
  MlirValue atLeastSplit = cageBuildMaxNumF(b, a, split);
  MlirValue bounded =
      cageBuildMinNumF(b, atLeastSplit, f32(b, kCageErfLargeMax));
  MlirValue scaled = cageBuildMulF(b, bounded, f32(b, kCageErfT1));
  MlirValue t = cageBuildSubF(b, scaled, f32(b, kCageErfT0));
  MlirValue q = horner(b, t, kCageErfQ, kCageErfNumQ);
  MlirValue e =
      buildExp(b, cageBuildNegF(b, cageBuildMulF(b, bounded, bounded)));
  MlirValue large = cageBuildSubF(b, f32(b, 1.0f), cageBuildMulF(b, e, q));

  MlirValue isSmall = cageBuildCmpF(b, CageCmpFOLT, a, split);
  MlirValue y =
      cageBuildCopySign(b, cageBuildSelect(b, isSmall, small, large), x);
  return cageBuildSelect(b, cageBuildCmpF(b, CageCmpFUNO, x, x), x, y);
}

static bool isF32Math(MlirOperation op) {
  return (cageOpIs(op, "math.exp") || cageOpIs(op, "math.erf")) &&
         mlirTypeIsAF32(mlirValueGetType(mlirOperationGetResult(op, 0)));
}

static MlirValue buildMath(CageBuilder *b, MlirOperation op) {
  MlirValue x = mlirOperationGetOperand(op, 0);
  return cageOpIs(op, "math.exp") ? buildExp(b, x) : buildErf(b, x);
}

static void run(MlirOperation root, const CagePassOptionValue *options,
                CagePassHandle pass) {
  (void)options, (void)pass;
  cageReplaceOpsWhere(root, isF32Math, buildMath);
}

static MlirDialectHandle (*const dependentDialects[])(void) = {
    mlirGetDialectHandle__arith__, mlirGetDialectHandle__math__};

const CagePassDefinition cageConvertMathToArithPass = {
    .argument = "cage-convert-math-to-arith",
    .name = "CageConvertMathToArith",
    .summary = "Compute math.exp and math.erf of f32 scalars with cage's own "
               "polynomials in arith ops (vectorizable, the same bits on "
               "every target)",
    .anchorOp = NULL,
    .options = NULL,
    .numOptions = 0,
    .dependentDialects = dependentDialects,
    .numDependentDialects =
        sizeof dependentDialects / sizeof dependentDialects[0],
    .run = run,
};
