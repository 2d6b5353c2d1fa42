/*===- ScalarRules.c - Adjoints of scalar arith and math ops --------------===*/
//
// The table of derivatives that every other rule ends in: at the top level
// of a function (the loss as a scalar expression) and inside the body of a
// linalg op being differentiated (its clone in the adjoint op's body). Each
// rule is the chain rule for one op, written with the forward values that
// are already there (the result r where it is cheaper than recomputing).
//
//===----------------------------------------------------------------------===//

#include "Autodiff.h"

#include "IR/Ops.h"

/* The ops with a rule. arith.constant, comparisons, casts from integers and
 * linalg.index produce no differentiable value and need none. */
static const char *const kRuleOps[] = {
    "arith.addf",    "arith.subf",     "arith.mulf",     "arith.divf",
    "arith.negf",    "arith.maximumf", "arith.minimumf", "arith.maxnumf",
    "arith.minnumf", "arith.select",   "math.exp",       "math.log",
    "math.tanh",     "math.erf",       "math.sqrt",      "math.rsqrt",
    "math.powf",     "math.absf",      "math.log1p",     "math.expm1",
    "math.sin",      "math.cos"};

bool adScalarHasRule(MlirOperation op) {
  for (size_t i = 0; i < sizeof kRuleOps / sizeof kRuleOps[0]; ++i)
    if (cageOpIs(op, kRuleOps[i]))
      return true;
  return false;
}

static MlirValue constantLike(CageBuilder *b, MlirValue like, double value) {
  return cageBuildConstantFloat(b, mlirValueGetType(like), value);
}

/* The math op `name` of one or two operands, of the type of the first. */
static MlirValue unary(CageBuilder *b, const char *name, MlirValue x) {
  MlirType type = mlirValueGetType(x);
  return cageOperationGetResult(cageBuildOp(b, name, 1, &x, 1, &type, 0, NULL),
                                0);
}

static MlirValue binary(CageBuilder *b, const char *name, MlirValue x,
                        MlirValue y) {
  MlirType type = mlirValueGetType(x);
  MlirValue operands[] = {x, y};
  return cageOperationGetResult(
      cageBuildOp(b, name, 2, operands, 1, &type, 0, NULL), 0);
}

/* dy where `take` holds, 0 elsewhere. */
static MlirValue where(CageBuilder *b, MlirValue take, MlirValue dy) {
  return cageBuildSelect(b, take, dy, constantLike(b, dy, 0.0));
}

/* The adjoint of operand `index` (0 or 1) of max (isMax) or min of x, y: the
 * operand that is selected gets dy. On a tie between two differentiated
 * operands each gets dy/2, as torch.maximum and jax.lax.max do; a tie with
 * an operand that is not differentiated (a constant) gives no gradient, the
 * convention of torch.relu and jax.nn.relu at the kink, so that
 * max(x, 0) is ReLU. */
static MlirValue extremumRule(CageBuilder *b, const MlirValue *xy, MlirValue dy,
                              intptr_t index, const bool *active, bool isMax) {
  MlirValue self = xy[index], other = xy[1 - index];
  MlirValue wins =
      cageBuildCmpF(b, isMax ? CageCmpFOGT : CageCmpFOLT, self, other);
  MlirValue grad = where(b, wins, dy);
  if (!active[1 - index])
    return grad;
  MlirValue tie = cageBuildCmpF(b, CageCmpFOEQ, self, other);
  MlirValue half = cageBuildMulF(b, dy, constantLike(b, dy, 0.5));
  return cageBuildSelect(b, tie, half, grad);
}

MlirValue adScalarRule(CageBuilder *b, MlirOperation op,
                       const MlirValue *operands, MlirValue result,
                       MlirValue dy, intptr_t index,
                       const bool *operandsActive) {
  MlirValue x = operands[0];
  if (cageOpIs(op, "arith.addf"))
    return dy;
  if (cageOpIs(op, "arith.subf"))
    return index == 0 ? dy : cageBuildNegF(b, dy);
  if (cageOpIs(op, "arith.mulf"))
    return cageBuildMulF(b, dy, operands[1 - index]);
  if (cageOpIs(op, "arith.divf")) {
    /* r = x / y: dx = dy / y, dy_ = -dy * r / y. */
    MlirValue dx = cageBuildDivF(b, dy, operands[1]);
    return index == 0 ? dx : cageBuildNegF(b, cageBuildMulF(b, dx, result));
  }
  if (cageOpIs(op, "arith.negf"))
    return cageBuildNegF(b, dy);
  if (cageOpIs(op, "arith.maximumf") || cageOpIs(op, "arith.maxnumf"))
    return extremumRule(b, operands, dy, index, operandsActive, true);
  if (cageOpIs(op, "arith.minimumf") || cageOpIs(op, "arith.minnumf"))
    return extremumRule(b, operands, dy, index, operandsActive, false);
  if (cageOpIs(op, "arith.select")) {
    /* The condition (operand 0) is not differentiable. */
    MlirValue zero = constantLike(b, dy, 0.0);
    if (index == 0)
      return (MlirValue){NULL};
    return index == 1 ? cageBuildSelect(b, x, dy, zero)
                      : cageBuildSelect(b, x, zero, dy);
  }
  if (cageOpIs(op, "math.exp"))
    return cageBuildMulF(b, dy, result);
  if (cageOpIs(op, "math.log"))
    return cageBuildDivF(b, dy, x);
  if (cageOpIs(op, "math.tanh")) {
    /* 1 - r^2 */
    MlirValue one = constantLike(b, x, 1.0);
    return cageBuildMulF(
        b, dy, cageBuildSubF(b, one, cageBuildMulF(b, result, result)));
  }
  if (cageOpIs(op, "math.erf")) {
    /* 2/sqrt(pi) * exp(-x^2) */
    MlirValue e =
        unary(b, "math.exp", cageBuildNegF(b, cageBuildMulF(b, x, x)));
    return cageBuildMulF(
        b, dy,
        cageBuildMulF(
            b, e, constantLike(b, x, 1.1283791670955126 /* 2 / sqrt(pi) */)));
  }
  if (cageOpIs(op, "math.sqrt"))
    /* 1 / (2 r) */
    return cageBuildDivF(b, cageBuildMulF(b, dy, constantLike(b, x, 0.5)),
                         result);
  if (cageOpIs(op, "math.rsqrt")) {
    /* r = x^(-1/2): -r^3 / 2 */
    MlirValue r3 = cageBuildMulF(b, cageBuildMulF(b, result, result), result);
    return cageBuildMulF(b, dy, cageBuildMulF(b, r3, constantLike(b, x, -0.5)));
  }
  if (cageOpIs(op, "math.powf")) {
    MlirValue y = operands[1];
    if (index == 0) {
      /* y * x^(y-1) = y * r / x would divide by zero at x = 0. */
      MlirValue ym1 = cageBuildSubF(b, y, constantLike(b, y, 1.0));
      MlirValue p = binary(b, "math.powf", x, ym1);
      return cageBuildMulF(b, dy, cageBuildMulF(b, y, p));
    }
    /* r * log(x) */
    MlirValue logx = unary(b, "math.log", x);
    return cageBuildMulF(b, dy, cageBuildMulF(b, result, logx));
  }
  if (cageOpIs(op, "math.absf")) {
    /* sign(x), 0 at 0 as torch.abs. */
    MlirValue zero = constantLike(b, x, 0.0);
    MlirValue pos = cageBuildCmpF(b, CageCmpFOGT, x, zero);
    MlirValue neg = cageBuildCmpF(b, CageCmpFOLT, x, zero);
    return cageBuildSelect(b, pos, dy,
                           cageBuildSelect(b, neg, cageBuildNegF(b, dy), zero));
  }
  if (cageOpIs(op, "math.log1p"))
    return cageBuildDivF(b, dy, cageBuildAddF(b, x, constantLike(b, x, 1.0)));
  if (cageOpIs(op, "math.expm1"))
    return cageBuildMulF(b, dy,
                         cageBuildAddF(b, result, constantLike(b, x, 1.0)));
  if (cageOpIs(op, "math.sin") || cageOpIs(op, "math.cos")) {
    bool sin = cageOpIs(op, "math.sin");
    MlirValue d = unary(b, sin ? "math.cos" : "math.sin", x);
    return cageBuildMulF(b, dy, sin ? d : cageBuildNegF(b, d));
  }
  return (MlirValue){NULL};
}
