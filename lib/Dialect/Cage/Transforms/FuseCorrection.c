/*===- FuseCorrection.c - cage-fuse-correction ----------------------------===*\
|*                                                                            *|
|* Finds the unfused spellings of a CAGE step (cage.quant_error, the          *|
|* correction written in arith or linalg on tensors, cage.adamw/cage.sgd)     *|
|* and rewrites each into one cage.update, when that gives the same bits.     *|
|*                                                                            *|
|* How. For each optimizer op, a small evaluator turns the tensor values      *|
|* around it into expression trees: arith.mulf/addf/subf/select/cmpf (on      *|
|* tensors or scalars), element-wise linalg ops (linalg.generic with identity *|
|* maps and parallel loops, linalg.add/sub/mul/select/elementwise/map), whose *|
|* body is evaluated with its block arguments standing for the expressions    *|
|* of its operands, and broadcasts of scalars (tensor.splat, linalg.fill,     *|
|* tensor.from_elements, linalg.broadcast of a 0-d tensor, inputs read        *|
|* through a map to constant indices). Anything else is a leaf: an opaque     *|
|* value. The trees are then matched against the two CAGE templates           *|
|*                                                                            *|
|*   coupled:    optimizer g operand = g + λ·e                                *|
|*   decoupled:  w2 = w1 − (lr·λ)·e, w1 = the optimizer's new w               *|
|*                                                                            *|
|* with e a cage.quant_error of the optimizer's w operand, λ a scalar, lr     *|
|* the optimizer's lr. These are exactly cage.update's operations             *|
|* (docs/Semantics.md §1.3 applies the correction whatever λ_t is), so the    *|
|* rewrite keeps every bit. Products and sums may be commuted, which is       *|
|* exact in IEEE arithmetic; nothing else may differ: no reassociation, no    *|
|* other sign, scalar or operand order, no select on λ_t.                     *|
|*                                                                            *|
|* Refusals leave the IR as it is; with the option `remarks` each optimizer   *|
|* whose w has a cage.quant_error but is not fused gets a remark saying why.  *|
|* Besides a template mismatch, the pass refuses when fusing would duplicate  *|
|* work (the error, the scaled error or the corrected value has users         *|
|* outside the step), when types differ, when the operands cannot be placed   *|
|* so that they dominate the new op, and when the cage.update it would build  *|
|* fails verification (checked on a detached op whose diagnostics are         *|
|* swallowed).                                                                *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "cage/Dialect/Cage/Transforms/Passes.h"

#include "IR/Builder.h"
#include "IR/Ops.h"
#include "IR/Text.h"

#include "cage-c/Dialect/Cage.h"
#include "cage-c/Dialect/CageOps.h"

#include "mlir-c/AffineExpr.h"
#include "mlir-c/AffineMap.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/Arith.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*===--- Small helpers ----------------------------------------------------===*/

static bool isShaped(MlirValue value) {
  return mlirTypeIsAShaped(mlirValueGetType(value));
}

static MlirType elementType(MlirType type) {
  return mlirTypeIsAShaped(type) ? mlirShapedTypeGetElementType(type) : type;
}

/*===--- Dominance, within nested regions ---------------------------------===*/

/* The ancestor of `op` (op itself included) that lies in `block`, or null. */
static MlirOperation ancestorIn(MlirBlock block, MlirOperation op) {
  while (!mlirOperationIsNull(op)) {
    MlirBlock parent = mlirOperationGetBlock(op);
    if (mlirBlockIsNull(parent))
      break;
    if (mlirBlockEqual(parent, block))
      return op;
    op = mlirBlockGetParentOperation(parent);
  }
  return (MlirOperation){NULL};
}

/* Whether `value` is visible at `op`: defined before it in its block or in
 * an enclosing one. Conservative across blocks of a CFG: false there. */
static bool dominates(MlirValue value, MlirOperation op) {
  if (mlirValueIsABlockArgument(value))
    return !mlirOperationIsNull(
        ancestorIn(mlirBlockArgumentGetOwner(value), op));
  MlirOperation def = mlirOpResultGetOwner(value);
  MlirOperation at = ancestorIn(mlirOperationGetBlock(def), op);
  return !mlirOperationIsNull(at) && !mlirOperationEqual(at, def) &&
         mlirOperationIsBeforeInBlock(def, at);
}

/* Whether `op` comes before `user` (or an op that holds it) in op's block. */
static bool properlyDominatesUser(MlirOperation op, MlirOperation user) {
  MlirOperation at = ancestorIn(mlirOperationGetBlock(op), user);
  return !mlirOperationIsNull(at) && !mlirOperationEqual(at, op) &&
         mlirOperationIsBeforeInBlock(op, at);
}

/*===--- Expressions ------------------------------------------------------===*/

typedef enum NodeKind {
  kOther,    /* cannot be part of a CAGE step; matches nothing */
  kLeaf,     /* an opaque value: a tensor read element for element, or a
                scalar read everywhere */
  kElement,  /* element 0 of the tensor `value`, read everywhere (a 0-d or
                broadcast operand) */
  kConstant, /* a float constant, scalar or splat */
  kMul,
  kAdd,
  kSub,
  kSelect, /* condition, true value, false value */
  kCmp,    /* arith.cmpf `predicate` of two operands */
} NodeKind;

typedef struct Node {
  NodeKind kind;
  bool uniform;    /* the same value at every element */
  MlirValue value; /* the value it was read from (kElement: the tensor) */
  double constant; /* kConstant */
  MlirType type;   /* kConstant: its element type */
  int64_t predicate;
  int operands[3];
} Node;

enum {
  kMaxNodes = 512,
  kMaxDepth = 48,
  kMaxScopes = 8,
  kMaxInterior = 128,
  kMaxErase = 256,
};

/* arith::CmpFPredicate. */
enum { kPredicateOEQ = 1, kPredicateUNE = 13 };

/* A linalg op whose body is being evaluated: its block arguments stand for
 * its operands. */
typedef struct Scope {
  MlirOperation op;
  MlirBlock body;
} Scope;

/* An op the evaluator looked through: part of the step if it matches. */
typedef struct Interior {
  MlirOperation op;
  bool uniform; /* computes a scalar or a broadcast scalar only */
} Interior;

typedef struct Matcher {
  MlirContext context;
  MlirAttribute parallel; /* #linalg.iterator_type<parallel>, when parsed */
  Node nodes[kMaxNodes];
  int numNodes;
  Scope scopes[kMaxScopes];
  int numScopes;
  Interior interior[kMaxInterior];
  int numInterior;
  bool overflow;
} Matcher;

static void reset(Matcher *m) {
  m->numNodes = 1; /* node 0: kOther, for overflows */
  m->nodes[0] = (Node){.kind = kOther};
  m->numScopes = 0;
  m->numInterior = 0;
  m->overflow = false;
}

static int newNode(Matcher *m, NodeKind kind, MlirValue value, bool uniform) {
  if (m->numNodes == kMaxNodes) {
    m->overflow = true;
    return 0;
  }
  int n = m->numNodes++;
  m->nodes[n] = (Node){.kind = kind, .uniform = uniform, .value = value};
  return n;
}

static int other(Matcher *m) {
  return newNode(m, kOther, (MlirValue){NULL}, 0);
}

static int leaf(Matcher *m, MlirValue value) {
  return newNode(m, kLeaf, value, !isShaped(value));
}

/* Whether `op` lies directly in the body of a linalg op being evaluated. */
static bool inScope(Matcher *m, MlirOperation op) {
  MlirBlock block = mlirOperationGetBlock(op);
  for (int i = 0; i < m->numScopes; ++i)
    if (mlirBlockEqual(block, m->scopes[i].body))
      return true;
  return false;
}

/* Notes `op` as looked through (ops in bodies go with their linalg op). */
static void record(Matcher *m, MlirOperation op, bool uniform) {
  if (inScope(m, op))
    return;
  for (int i = 0; i < m->numInterior; ++i)
    if (mlirOperationEqual(m->interior[i].op, op)) {
      m->interior[i].uniform = m->interior[i].uniform && uniform;
      return;
    }
  if (m->numInterior == kMaxInterior) {
    m->overflow = true;
    return;
  }
  m->interior[m->numInterior++] = (Interior){op, uniform};
}

static bool isInterior(Matcher *m, MlirOperation op) {
  for (int i = 0; i < m->numInterior; ++i)
    if (mlirOperationEqual(m->interior[i].op, op))
      return true;
  return false;
}

static int eval(Matcher *m, MlirValue value, int depth);

/* The float constant of an arith.constant: a float or a float splat. */
static bool floatConstant(MlirOperation op, double *result, MlirType *type) {
  MlirAttribute attr = cageOpAttribute(op, "value");
  if (mlirAttributeIsNull(attr))
    return false;
  if (mlirAttributeIsADenseElements(attr)) {
    if (!mlirDenseElementsAttrIsSplat(attr))
      return false;
    attr = mlirDenseElementsAttrGetSplatValue(attr);
  }
  if (!mlirAttributeIsAFloat(attr))
    return false;
  *result = mlirFloatAttrGetValueDouble(attr);
  *type = mlirAttributeGetType(attr);
  return true;
}

/* An operand read at one element for all iterations (a 0-d tensor, or a
 * map to constant indices): its expression if that is uniform, else the
 * element. */
static int evalElement(Matcher *m, MlirValue tensor, int depth) {
  int n = eval(m, tensor, depth + 1);
  if (m->nodes[n].uniform)
    return n;
  if (m->nodes[n].kind == kLeaf && isShaped(tensor) &&
      mlirTypeIsARankedTensor(mlirValueGetType(tensor)))
    return newNode(m, kElement, tensor, true);
  return other(m);
}

/* How a linalg operand is read by the loops. */
typedef enum Access { kAccessBad, kAccessIdentity, kAccessElement } Access;

static Access mapAccess(MlirAttribute mapAttr) {
  if (!mlirAttributeIsAAffineMap(mapAttr))
    return kAccessBad;
  MlirAffineMap map = mlirAffineMapAttrGetValue(mapAttr);
  if (mlirAffineMapIsIdentity(map))
    return kAccessIdentity;
  intptr_t n = mlirAffineMapGetNumResults(map);
  for (intptr_t i = 0; i < n; ++i) {
    MlirAffineExpr expr = mlirAffineMapGetResult(map, i);
    if (!mlirAffineExprIsAConstant(expr) ||
        mlirAffineConstantExprGetValue(expr) != 0)
      return kAccessBad;
  }
  return kAccessElement;
}

/* How operand `i` of the element-wise linalg op `op` is read: named ops
 * without maps read every tensor with the identity, scalars everywhere. */
static Access operandAccess(MlirOperation op, intptr_t i) {
  MlirValue operand = mlirOperationGetOperand(op, i);
  if (!isShaped(operand))
    return kAccessElement;
  MlirAttribute maps = cageOpAttribute(op, "indexing_maps");
  if (mlirAttributeIsNull(maps))
    return kAccessIdentity;
  if (!mlirAttributeIsAArray(maps) || i >= mlirArrayAttrGetNumElements(maps))
    return kAccessBad;
  return mapAccess(mlirArrayAttrGetElement(maps, i));
}

static bool isElementwiseLinalgName(MlirOperation op) {
  static const char *const names[] = {
      "linalg.generic", "linalg.add",         "linalg.sub", "linalg.mul",
      "linalg.select",  "linalg.elementwise", "linalg.map",
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i)
    if (cageOpIs(op, names[i]))
      return true;
  return false;
}

/* Whether `op` is an element-wise linalg op on tensors that only computes:
 * all loops parallel, outputs written with the identity, inputs read with
 * the identity or at one element, a body of arith and math ops. */
static bool isElementwiseLinalg(Matcher *m, MlirOperation op) {
  if (!isElementwiseLinalgName(op) || mlirOperationGetNumRegions(op) != 1)
    return false;
  intptr_t numResults = mlirOperationGetNumResults(op);
  intptr_t numOperands = mlirOperationGetNumOperands(op);
  if (numResults < 1 || numOperands < numResults)
    return false;
  for (intptr_t i = 0; i < numResults; ++i)
    if (!mlirTypeIsARankedTensor(
            mlirValueGetType(mlirOperationGetResult(op, i))))
      return false;
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
  if (mlirBlockIsNull(body))
    return false;
  /* linalg.map has no block arguments for its init. */
  intptr_t numInputs = numOperands - numResults;
  intptr_t numArgs = mlirBlockGetNumArguments(body);
  if (numArgs != numOperands &&
      !(cageOpIs(op, "linalg.map") && numArgs == numInputs))
    return false;
  MlirAttribute iterators = cageOpAttribute(op, "iterator_types");
  if (!mlirAttributeIsNull(iterators)) {
    if (!mlirAttributeIsAArray(iterators))
      return false;
    if (mlirAttributeIsNull(m->parallel))
      m->parallel = mlirAttributeParseGet(
          m->context, cageStr("#linalg.iterator_type<parallel>"));
    for (intptr_t i = 0; i < mlirArrayAttrGetNumElements(iterators); ++i)
      if (!mlirAttributeEqual(mlirArrayAttrGetElement(iterators, i),
                              m->parallel))
        return false;
  }
  for (intptr_t i = 0; i < numOperands; ++i) {
    Access access = operandAccess(op, i);
    if (access == kAccessBad || (i >= numInputs && access != kAccessIdentity))
      return false;
  }
  for (MlirOperation inner = mlirBlockGetFirstOperation(body);
       !mlirOperationIsNull(inner); inner = mlirOperationGetNextInBlock(inner))
    if (!cageOpHasPrefix(inner, "arith.") && !cageOpHasPrefix(inner, "math.") &&
        !cageOpIs(inner, "linalg.yield") && !cageOpIs(inner, "linalg.index"))
      return false;
  return true;
}

/* Result `index` of an element-wise linalg op: its body's yielded value,
 * with the block arguments standing for the operands. */
static int evalLinalg(Matcher *m, MlirOperation op, intptr_t index, int depth) {
  if (m->numScopes == kMaxScopes)
    return other(m);
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
  MlirOperation yield = mlirBlockGetTerminator(body);
  if (mlirOperationIsNull(yield) || !cageOpIs(yield, "linalg.yield") ||
      mlirOperationGetNumOperands(yield) != mlirOperationGetNumResults(op))
    return other(m);
  m->scopes[m->numScopes++] = (Scope){op, body};
  int n = eval(m, mlirOperationGetOperand(yield, index), depth + 1);
  --m->numScopes;
  record(m, op, m->nodes[n].uniform);
  return n;
}

/* A block argument of a body being evaluated: the operand it reads. */
static int evalBlockArgument(Matcher *m, MlirValue arg, int depth) {
  MlirBlock owner = mlirBlockArgumentGetOwner(arg);
  for (int s = m->numScopes - 1; s >= 0; --s) {
    if (!mlirBlockEqual(owner, m->scopes[s].body))
      continue;
    MlirOperation op = m->scopes[s].op;
    intptr_t i = mlirBlockArgumentGetArgNumber(arg);
    MlirValue operand = mlirOperationGetOperand(op, i);
    /* Evaluated outside this scope and those inside it (the operand is
     * defined outside the op), which are restored afterwards. */
    int saved = m->numScopes;
    Scope inner[kMaxScopes];
    memcpy(inner, m->scopes + s, (size_t)(saved - s) * sizeof *inner);
    m->numScopes = s;
    int n = operandAccess(op, i) == kAccessIdentity
                ? eval(m, operand, depth + 1)
                : evalElement(m, operand, depth);
    memcpy(m->scopes + s, inner, (size_t)(saved - s) * sizeof *inner);
    m->numScopes = saved;
    return n;
  }
  return leaf(m, arg);
}

static int binary(Matcher *m, NodeKind kind, MlirOperation op, int depth) {
  int a = eval(m, mlirOperationGetOperand(op, 0), depth + 1);
  int b = eval(m, mlirOperationGetOperand(op, 1), depth + 1);
  bool uniform = m->nodes[a].uniform && m->nodes[b].uniform;
  int n = newNode(m, kind, mlirOperationGetResult(op, 0), uniform);
  m->nodes[n].operands[0] = a;
  m->nodes[n].operands[1] = b;
  record(m, op, uniform);
  return n;
}

static int eval(Matcher *m, MlirValue value, int depth) {
  if (depth > kMaxDepth || m->overflow)
    return other(m);
  if (mlirValueIsABlockArgument(value))
    return evalBlockArgument(m, value, depth);
  MlirOperation op = cageDefiningOp(value);
  bool inBody = inScope(m, op);
  intptr_t numOperands = mlirOperationGetNumOperands(op);

  if (cageOpIs(op, "arith.constant")) {
    double c;
    MlirType type;
    if (!floatConstant(op, &c, &type))
      return leaf(m, value);
    int n = newNode(m, kConstant, value, true);
    m->nodes[n].constant = c;
    m->nodes[n].type = type;
    record(m, op, true);
    return n;
  }
  if (cageOpIs(op, "arith.mulf") && numOperands == 2)
    return binary(m, kMul, op, depth);
  if (cageOpIs(op, "arith.addf") && numOperands == 2)
    return binary(m, kAdd, op, depth);
  if (cageOpIs(op, "arith.subf") && numOperands == 2)
    return binary(m, kSub, op, depth);
  if (cageOpIs(op, "arith.cmpf") && numOperands == 2) {
    MlirAttribute predicate = cageOpAttribute(op, "predicate");
    if (!mlirAttributeIsAInteger(predicate))
      return other(m);
    int n = binary(m, kCmp, op, depth);
    m->nodes[n].predicate = mlirIntegerAttrGetValueInt(predicate);
    return n;
  }
  if (cageOpIs(op, "arith.select") && numOperands == 3) {
    int c = eval(m, mlirOperationGetOperand(op, 0), depth + 1);
    int t = eval(m, mlirOperationGetOperand(op, 1), depth + 1);
    int f = eval(m, mlirOperationGetOperand(op, 2), depth + 1);
    bool uniform =
        m->nodes[c].uniform && m->nodes[t].uniform && m->nodes[f].uniform;
    int n = newNode(m, kSelect, value, uniform);
    m->nodes[n].operands[0] = c;
    m->nodes[n].operands[1] = t;
    m->nodes[n].operands[2] = f;
    record(m, op, uniform);
    return n;
  }
  if (inBody) /* math ops, linalg.index: not part of a CAGE step */
    return other(m);

  /* Broadcasts of a scalar. */
  if ((cageOpIs(op, "tensor.splat") && numOperands >= 1) ||
      (cageOpIs(op, "linalg.fill") && numOperands == 2 &&
       !isShaped(mlirOperationGetOperand(op, 0))) ||
      (cageOpIs(op, "tensor.from_elements") && numOperands == 1)) {
    int n = eval(m, mlirOperationGetOperand(op, 0), depth + 1);
    if (!m->nodes[n].uniform)
      return other(m);
    record(m, op, true);
    return n;
  }
  if (cageOpIs(op, "linalg.broadcast") && numOperands == 2 &&
      mlirOperationGetNumResults(op) == 1) {
    MlirValue input = mlirOperationGetOperand(op, 0);
    MlirType type = mlirValueGetType(input);
    if (mlirTypeIsARankedTensor(type) && mlirShapedTypeGetRank(type) == 0) {
      int n = evalElement(m, input, depth);
      if (m->nodes[n].kind != kOther)
        record(m, op, true);
      return n;
    }
    return leaf(m, value);
  }
  if (isElementwiseLinalg(m, op))
    return evalLinalg(m, op, mlirOpResultGetResultNumber(value), depth);
  return leaf(m, value);
}

/* Whether two expressions compute the same value: the same leaves and
 * constants combined by the same ops, products and sums maybe commuted. */
static bool same(Matcher *m, int a, int b, int depth) {
  if (a == b)
    return m->nodes[a].kind != kOther;
  const Node *x = &m->nodes[a], *y = &m->nodes[b];
  if (x->kind != y->kind || depth > kMaxDepth ||
      (x->kind == kCmp && x->predicate != y->predicate))
    return false;
  switch (x->kind) {
  case kOther:
    return false;
  case kLeaf:
  case kElement:
    return mlirValueEqual(x->value, y->value);
  case kConstant:
    return memcmp(&x->constant, &y->constant, sizeof x->constant) == 0 &&
           mlirTypeEqual(x->type, y->type);
  case kCmp: /* oeq and une are symmetric; other predicates only in order */
  case kMul:
  case kAdd:
  case kSub:
  case kSelect: {
    if (mlirValueEqual(x->value, y->value))
      return true;
    int n = x->kind == kSelect ? 3 : 2;
    bool inOrder = true;
    for (int i = 0; i < n && inOrder; ++i)
      inOrder = same(m, x->operands[i], y->operands[i], depth + 1);
    if (inOrder)
      return true;
    bool symmetric = x->kind == kMul || x->kind == kAdd ||
                     (x->kind == kCmp && (x->predicate == kPredicateOEQ ||
                                          x->predicate == kPredicateUNE));
    return symmetric && same(m, x->operands[0], y->operands[1], depth + 1) &&
           same(m, x->operands[1], y->operands[0], depth + 1);
  }
  }
  return false;
}

/*===--- The CAGE templates -----------------------------------------------===*/

typedef struct Step {
  MlirOperation optimizer; /* cage.adamw or cage.sgd */
  CageOptimizerOp opt;     /* its operands and results */
  MlirValue w;             /* its w operand */
  bool coupled;
  MlirOperation quantError;
  MlirValue root;     /* coupled: the optimizer's g; decoupled: the new w */
  MlirValue gradient; /* the update's g */
  int lambda;         /* λ_t */
} Step;

/* Why the last candidate was not fused, for the remarks: the more of the
 * template matched before the refusal, the more the reason says, and it wins
 * over the others (a decoupled w1 − s·e found with the wrong s says more
 * than "no coupled form"). */
typedef enum MissLevel {
  kMissNone,
  kMissTemplate, /* no template matched */
  kMissPartial,  /* part of a template matched */
  kMissChecks    /* a template matched; a check refused */
} MissLevel;

typedef struct Miss {
  MissLevel level;
  const char *why;
} Miss;

/* Records `why` unless a reason of a higher level is known; returns false,
 * so that a refusal reads `return refuse(...)`. */
static bool refuse(Miss *miss, MissLevel level, const char *why) {
  if (level > miss->level) {
    miss->level = level;
    miss->why = why;
  }
  return false;
}

/* `n` is the error e = w − Q(w) of the step's w: a cage.quant_error. */
static bool isErrorOf(Matcher *m, int n, Step *step) {
  const Node *e = &m->nodes[n];
  if (e->kind != kLeaf || !mlirValueIsAOpResult(e->value))
    return false;
  MlirOperation op = mlirOpResultGetOwner(e->value);
  if (!cageOperationIsAQuantError(op) ||
      !mlirValueEqual(cageQuantErrorOpGetW(op), step->w))
    return false;
  step->quantError = op;
  return true;
}

/* `n` is s·e (either order); stores s. */
static bool matchScaledError(Matcher *m, int n, Step *step, int *scale) {
  const Node *p = &m->nodes[n];
  if (p->kind != kMul)
    return false;
  for (int k = 0; k < 2; ++k)
    if (isErrorOf(m, p->operands[k], step)) {
      *scale = p->operands[1 - k];
      return true;
    }
  return false;
}

/* Coupled: the optimizer's g is g + λ·e. */
static bool matchCoupled(Matcher *m, Step *step, Miss *miss) {
  step->coupled = true;
  step->root = step->opt.g;
  const Node *sum = &m->nodes[eval(m, step->root, 0)];
  if (sum->kind == kAdd)
    for (int k = 0; k < 2; ++k) {
      int g = sum->operands[k], scale;
      if (m->nodes[g].kind != kLeaf || !isShaped(m->nodes[g].value) ||
          !matchScaledError(m, sum->operands[1 - k], step, &scale))
        continue;
      step->lambda = scale;
      step->gradient = m->nodes[g].value;
      return true;
    }
  return refuse(miss, kMissTemplate,
                "the optimizer's gradient is not g + lambda_t * e (coupled) "
                "and no use of its new w computes w1 - (lr * lambda_t) * e "
                "(decoupled), with e the cage.quant_error of its w");
}

/* Decoupled: `root` is w1 − (lr·λ)·e, w1 the optimizer's new w. */
static bool matchDecoupled(Matcher *m, Step *step, MlirValue root, Miss *miss) {
  step->coupled = false;
  step->root = root;
  step->gradient = step->opt.g;
  MlirValue w1 = step->opt.newW;
  int lr = eval(m, step->opt.lr, 0);
  const Node *difference = &m->nodes[eval(m, root, 0)];
  if (difference->kind != kSub)
    return false;
  const Node *x = &m->nodes[difference->operands[0]];
  if (x->kind != kLeaf || !mlirValueEqual(x->value, w1))
    return false;
  int factor;
  if (!matchScaledError(m, difference->operands[1], step, &factor))
    return refuse(miss, kMissPartial,
                  "w1 - s * e is found, but e is not the cage.quant_error of "
                  "the optimizer's w");
  const Node *f = &m->nodes[factor];
  if (f->kind == kMul)
    for (int k = 0; k < 2; ++k)
      if (same(m, f->operands[k], lr, 0)) {
        step->lambda = f->operands[1 - k];
        return true;
      }
  return refuse(miss, kMissPartial,
                "w1 - s * e is found, but s is not lr * lambda_t with the "
                "optimizer's lr (the product must be formed as written in "
                "docs/Semantics.md section 1.3, not reassociated)");
}

/*===--- Checks before rewriting ------------------------------------------===*/

/* A tensor.dim of a tensor of the step (the size of a tensor.empty, say):
 * it reads w's shape, and is pointed at w when the step is rewritten. */
static bool isDimOfStep(const Step *step, MlirOpOperand use) {
  MlirOperation user = mlirOpOperandGetOwner(use);
  return cageOpIs(user, "tensor.dim") &&
         mlirOpOperandGetOperandNumber(use) == 0 && dominates(step->w, user);
}

/* Whether every use of `value` is by an op of the step or reads its shape. */
static bool usedOnlyInside(Matcher *m, const Step *step, MlirValue value) {
  for (MlirOpOperand use = mlirValueGetFirstUse(value);
       !mlirOpOperandIsNull(use); use = mlirOpOperandGetNextUse(use))
    if (!isInterior(m, mlirOpOperandGetOwner(use)) && !isDimOfStep(step, use))
      return false;
  return true;
}

/* The number of operands of `user` that are `value`. */
static intptr_t numUsesBy(MlirValue value, MlirOperation user) {
  intptr_t n = 0;
  for (MlirOpOperand use = mlirValueGetFirstUse(value);
       !mlirOpOperandIsNull(use); use = mlirOpOperandGetNextUse(use))
    n += mlirOperationEqual(mlirOpOperandGetOwner(use), user) ? 1 : 0;
  return n;
}

/* Fusing must not leave work behind: the error, every tensor the step
 * computes and (decoupled) the optimizer's new w are used by the step only;
 * the coupled correction's result only as the optimizer's g. */
static bool isSelfContained(Matcher *m, const Step *step) {
  if (!usedOnlyInside(m, step, cageQuantErrorOpGetErrorValue(step->quantError)))
    return false;
  if (!step->coupled && !usedOnlyInside(m, step, step->opt.newW))
    return false;
  for (int i = 0; i < m->numInterior; ++i) {
    if (m->interior[i].uniform)
      continue;
    MlirOperation op = m->interior[i].op;
    for (intptr_t r = 0; r < mlirOperationGetNumResults(op); ++r) {
      MlirValue result = mlirOperationGetResult(op, r);
      if (!step->coupled && mlirValueEqual(result, step->root))
        continue; /* replaced by the update's new w */
      for (MlirOpOperand use = mlirValueGetFirstUse(result);
           !mlirOpOperandIsNull(use); use = mlirOpOperandGetNextUse(use)) {
        MlirOperation user = mlirOpOperandGetOwner(use);
        if (isInterior(m, user) || isDimOfStep(step, use))
          continue;
        /* The root is the optimizer's g: allowed there, and only there
         * (used once by the optimizer). */
        if (step->coupled && mlirValueEqual(result, step->root) &&
            mlirOperationEqual(user, step->optimizer) &&
            numUsesBy(result, user) == 1)
          continue;
        return false;
      }
    }
  }
  return true;
}

/* Whether λ can be given to an op at `at`: its value is an f32 visible
 * there, or it can be made there (a constant, an element of a visible
 * tensor). */
static bool canPlaceLambda(Matcher *m, const Step *step, MlirOperation at) {
  const Node *l = &m->nodes[step->lambda];
  if (!l->uniform)
    return false;
  if (!mlirValueIsNull(l->value) &&
      mlirTypeIsAF32(mlirValueGetType(l->value)) && dominates(l->value, at))
    return true;
  if (l->kind == kConstant)
    return mlirTypeIsAF32(l->type);
  if (l->kind == kElement)
    return mlirTypeIsAF32(elementType(mlirValueGetType(l->value))) &&
           dominates(l->value, at);
  return false;
}

/* Builds λ where the rewriter points, if it is not there already; the ops
 * made are stored in `made` (at most 2) so that a refusal can erase them. */
static MlirValue placeLambda(Matcher *m, const Step *step, MlirOperation at,
                             CageBuilder *b, MlirOperation *made,
                             int *numMade) {
  const Node *l = &m->nodes[step->lambda];
  if (!mlirValueIsNull(l->value) &&
      mlirTypeIsAF32(mlirValueGetType(l->value)) && dominates(l->value, at))
    return l->value;
  MlirValue result;
  if (l->kind == kConstant) {
    result = cageBuildConstantF32(b, (float)l->constant);
  } else {
    intptr_t rank = mlirShapedTypeGetRank(mlirValueGetType(l->value));
    MlirValue *indices = cageAllocArray(rank, sizeof *indices);
    if (rank > 0) {
      MlirValue zero = cageBuildConstantIndex(b, 0);
      made[(*numMade)++] = cageDefiningOp(zero);
      for (intptr_t i = 0; i < rank; ++i)
        indices[i] = zero;
    }
    result = cageBuildExtract(b, l->value, indices, rank);
    free(indices);
  }
  if (!mlirValueIsNull(result))
    made[(*numMade)++] = cageDefiningOp(result);
  return result;
}

/*===--- Building the update ----------------------------------------------===*/

/* Swallows the diagnostics of the detached update being verified (they
 * carry its unique location), lets every other through. */
static MlirLogicalResult swallowProbe(MlirDiagnostic diagnostic,
                                      void *userData) {
  MlirLocation *probe = userData;
  return mlirLocationEqual(mlirDiagnosticGetLocation(diagnostic), *probe)
             ? mlirLogicalResultSuccess()
             : mlirLogicalResultFailure();
}

/* The cage.update of `step`, detached, if it verifies; a null op (and no
 * diagnostic: those at its unique location are swallowed, the create
 * function's included) if not. */
static MlirOperation buildUpdate(const Step *step, MlirValue lambda) {
  MlirContext ctx = mlirOperationGetContext(step->optimizer);
  MlirLocation probe = mlirLocationNameGet(
      ctx, cageStr("cage-fuse-correction probe"), mlirLocationUnknownGet(ctx));
  MlirDiagnosticHandlerID handler =
      mlirContextAttachDiagnosticHandler(ctx, swallowProbe, &probe, NULL);
  MlirOperation op = cageUpdateOpCreate(
      probe, step->w, step->gradient, step->opt.numState, step->opt.state,
      step->opt.lr, lambda, step->opt.step, (MlirValue){NULL},
      cageQuantErrorOpGetQuantizer(step->quantError),
      cageOptimizerOpGetAttr(step->optimizer),
      step->coupled ? CageCouplingCoupled : CageCouplingDecoupled,
      cageQuantErrorOpGetError(step->quantError));
  bool valid = !mlirOperationIsNull(op) && mlirOperationVerify(op);
  mlirContextDetachDiagnosticHandler(ctx, handler);
  if (valid)
    return op;
  if (!mlirOperationIsNull(op))
    mlirOperationDestroy(op);
  return (MlirOperation){NULL};
}

/* The location of the update: those of the ops it replaces, fused. */
static MlirLocation stepLocation(const Step *step) {
  MlirLocation locs[3];
  intptr_t n = 0;
  locs[n++] = mlirOperationGetLocation(step->quantError);
  locs[n++] = mlirOperationGetLocation(step->optimizer);
  MlirOperation root = cageDefiningOp(step->root);
  if (!step->coupled && !mlirOperationIsNull(root))
    locs[n++] = mlirOperationGetLocation(root);
  MlirContext ctx = mlirOperationGetContext(step->optimizer);
  return mlirLocationFusedGet(ctx, n, locs, (MlirAttribute){NULL});
}

/*===--- Rewriting --------------------------------------------------------===*/

/* Ops to erase once dead, without repeats. */
typedef struct EraseList {
  MlirOperation ops[kMaxErase];
  int size;
} EraseList;

static void addToErase(EraseList *list, MlirOperation op) {
  if (mlirOperationIsNull(op))
    return;
  for (int i = 0; i < list->size; ++i)
    if (mlirOperationEqual(list->ops[i], op))
      return;
  if (list->size < kMaxErase)
    list->ops[list->size++] = op;
}

static bool isDead(MlirOperation op) {
  for (intptr_t r = 0; r < mlirOperationGetNumResults(op); ++r)
    if (!mlirOpOperandIsNull(
            mlirValueGetFirstUse(mlirOperationGetResult(op, r))))
      return false;
  return true;
}

/* What an erased op leaves dead besides the step: the inits of linalg ops,
 * their sizes, constants. */
static bool isCheapLeftover(MlirOperation op) {
  return cageOpIs(op, "tensor.empty") || cageOpIs(op, "tensor.dim") ||
         cageOpIs(op, "arith.constant");
}

/* Erases the ops of `list` that have become dead, and the cheap ops that
 * only they used, until nothing more dies. */
static void eraseDead(MlirRewriterBase rewriter, EraseList *list) {
  bool erased[kMaxErase] = {false};
  bool changed = true;
  while (changed) {
    changed = false;
    for (int i = 0; i < list->size; ++i) {
      if (erased[i] || !isDead(list->ops[i]))
        continue;
      MlirOperation op = list->ops[i];
      for (intptr_t k = 0; k < mlirOperationGetNumOperands(op); ++k) {
        MlirOperation def = cageDefiningOp(mlirOperationGetOperand(op, k));
        if (!mlirOperationIsNull(def) && isCheapLeftover(def))
          addToErase(list, def);
      }
      mlirRewriterBaseEraseOp(rewriter, op);
      erased[i] = true;
      changed = true;
    }
  }
}

/* Points the tensor.dim ops that read the shape of `value` at w. */
static void retargetDimsOf(const Step *step, MlirRewriterBase rewriter,
                           MlirValue value) {
  MlirOpOperand use = mlirValueGetFirstUse(value);
  while (!mlirOpOperandIsNull(use)) {
    MlirOpOperand next = mlirOpOperandGetNextUse(use);
    if (isDimOfStep(step, use)) {
      MlirOperation dim = mlirOpOperandGetOwner(use);
      mlirRewriterBaseStartOpModification(rewriter, dim);
      mlirOperationSetOperand(dim, 0, step->w);
      mlirRewriterBaseFinalizeOpModification(rewriter, dim);
    }
    use = next;
  }
}

/* The tensors of the step that die are all shaped like w: sizes read from
 * them are read from w, so that they do not keep the step alive. */
static void retargetDims(Matcher *m, const Step *step,
                         MlirRewriterBase rewriter) {
  retargetDimsOf(step, rewriter,
                 cageQuantErrorOpGetErrorValue(step->quantError));
  if (!step->coupled)
    retargetDimsOf(step, rewriter, step->opt.newW);
  for (int i = 0; i < m->numInterior; ++i) {
    if (m->interior[i].uniform)
      continue;
    MlirOperation op = m->interior[i].op;
    for (intptr_t r = 0; r < mlirOperationGetNumResults(op); ++r)
      retargetDimsOf(step, rewriter, mlirOperationGetResult(op, r));
  }
}

typedef struct FuseState {
  Matcher *matcher;
  MlirRewriterBase rewriter;
  Miss miss; /* why the current optimizer was not fused */
} FuseState;

/* Checks what the templates leave open and, if all holds, rewrites. */
static bool rewriteStep(FuseState *s, Step *step) {
  Matcher *m = s->matcher;
  Miss *miss = &s->miss;
  if (m->overflow)
    return refuse(miss, kMissChecks,
                  "the expressions around the step are too large to match");
  /* The update's new w replaces the root: same type. (That g and the state
   * have w's type is left to the verifier of cage.update, in buildUpdate.) */
  if (!mlirTypeEqual(mlirValueGetType(step->root), mlirValueGetType(step->w)))
    return refuse(miss, kMissChecks,
                  "the corrected value's type differs from w's");
  if (!isSelfContained(m, step))
    return refuse(miss, kMissChecks,
                  "the quantization error or a value of the correction has "
                  "users outside the step: fusing would compute it twice");

  /* Where the update goes: in place of the optimizer, where λ is visible;
   * else (decoupled) in place of the correction, if the optimizer's state
   * results are used only after it. */
  static const char *const notVisible =
      "lambda_t is not visible where the update would go";
  if (!m->nodes[step->lambda].uniform)
    return refuse(miss, kMissChecks,
                  "lambda_t is not one scalar: it varies from element to "
                  "element");
  MlirOperation at = step->optimizer;
  if (!canPlaceLambda(m, step, at)) {
    if (step->coupled)
      return refuse(miss, kMissChecks, notVisible);
    at = cageDefiningOp(step->root);
    if (!canPlaceLambda(m, step, at))
      return refuse(miss, kMissChecks, notVisible);
    for (intptr_t i = 0; i < step->opt.numState; ++i)
      for (MlirOpOperand use = mlirValueGetFirstUse(step->opt.newState[i]);
           !mlirOpOperandIsNull(use); use = mlirOpOperandGetNextUse(use))
        if (!properlyDominatesUser(at, mlirOpOperandGetOwner(use)))
          return refuse(miss, kMissChecks,
                        "the optimizer's new state is used before the "
                        "correction, where the update would go");
  }

  /* g flows into the step, so it is visible there; checked all the same. */
  if (!dominates(step->gradient, at))
    return refuse(miss, kMissChecks,
                  "g is not visible where the update would go");

  MlirRewriterBase rewriter = s->rewriter;
  mlirRewriterBaseSetInsertionPointBefore(rewriter, at);
  MlirLocation loc = stepLocation(step);
  CageBuilder b = cageBuilderAtInsertionPoint(rewriter, loc);
  MlirOperation made[2];
  int numMade = 0;
  MlirValue lambda = placeLambda(m, step, at, &b, made, &numMade);
  MlirOperation update = mlirValueIsNull(lambda) ? (MlirOperation){NULL}
                                                 : buildUpdate(step, lambda);
  if (mlirOperationIsNull(update)) {
    for (int i = numMade - 1; i >= 0; --i)
      mlirRewriterBaseEraseOp(rewriter, made[i]);
    return refuse(miss, kMissChecks,
                  "the cage.update it would build does not verify (the "
                  "scalars, shapes or quantizer are not those of an update)");
  }
  mlirOperationSetLocation(update, loc);
  mlirRewriterBaseInsert(rewriter, update);

  retargetDims(m, step, rewriter);
  EraseList dead = {.size = 0};
  /* The update's new w replaces the optimizer's (coupled) or the corrected
   * value (decoupled); its new state, the optimizer's. */
  mlirRewriterBaseReplaceAllUsesWith(
      rewriter, step->coupled ? step->opt.newW : step->root,
      cageUpdateOpGetNewW(update));
  for (intptr_t i = 0; i < step->opt.numState; ++i)
    mlirRewriterBaseReplaceAllUsesWith(rewriter, step->opt.newState[i],
                                       cageUpdateOpGetNewState(update, i));
  if (step->coupled)
    mlirRewriterBaseEraseOp(rewriter, step->optimizer);
  else
    addToErase(&dead, step->optimizer);
  for (int i = 0; i < m->numInterior; ++i)
    addToErase(&dead, m->interior[i].op);
  addToErase(&dead, step->quantError);
  eraseDead(rewriter, &dead);
  return true;
}

static bool tryCoupled(FuseState *s, MlirOperation optimizer,
                       const CageOptimizerOp *opt) {
  Matcher *m = s->matcher;
  reset(m);
  Step step = {.optimizer = optimizer, .opt = *opt, .w = opt->w};
  return matchCoupled(m, &step, &s->miss) && rewriteStep(s, &step);
}

/* The decoupled correction reads the optimizer's new w: try each op that
 * does as the end of the step. */
static bool tryDecoupled(FuseState *s, MlirOperation optimizer,
                         const CageOptimizerOp *opt) {
  Matcher *m = s->matcher;
  MlirValue w1 = opt->newW;
  for (MlirOpOperand use = mlirValueGetFirstUse(w1); !mlirOpOperandIsNull(use);
       use = mlirOpOperandGetNextUse(use)) {
    MlirOperation user = mlirOpOperandGetOwner(use);
    for (intptr_t r = 0; r < mlirOperationGetNumResults(user); ++r) {
      MlirValue root = mlirOperationGetResult(user, r);
      if (!mlirTypeIsARankedTensor(mlirValueGetType(root)))
        continue;
      reset(m);
      Step step = {.optimizer = optimizer, .opt = *opt, .w = opt->w};
      if (matchDecoupled(m, &step, root, &s->miss) && rewriteStep(s, &step))
        return true;
    }
  }
  return false;
}

enum { kRemarks };

/* Whether `w` has a cage.quant_error user: then the optimizer on w is a CAGE
 * step the user meant to write, and a refusal is worth a remark. */
static bool hasQuantError(MlirValue w) {
  for (MlirOpOperand use = mlirValueGetFirstUse(w); !mlirOpOperandIsNull(use);
       use = mlirOpOperandGetNextUse(use))
    if (cageOperationIsAQuantError(mlirOpOperandGetOwner(use)))
      return true;
  return false;
}

static void remarkMissed(MlirOperation optimizer, const Miss *miss) {
  char message[512];
  snprintf(message, sizeof message, "cage-fuse-correction: not fused: %s",
           miss->why ? miss->why : "no CAGE correction of this step found");
  cageEmitRemark(mlirOperationGetLocation(optimizer), message);
}

static void run(MlirOperation func, const CagePassOptionValue *options,
                CagePassHandle pass) {
  (void)pass; /* not fusing is never an error */
  CageOpList optimizers = cageCollectOpsWhere(func, cageOpIsOptimizer);
  if (optimizers.size == 0) {
    cageOpListDestroy(&optimizers);
    return;
  }
  Matcher *matcher = calloc(1, sizeof *matcher);
  if (!matcher)
    abort();
  matcher->context = mlirOperationGetContext(func);
  FuseState state = {
      matcher, mlirIRRewriterCreateFromOp(func), {kMissNone, NULL}};
  for (intptr_t i = 0; i < optimizers.size; ++i) {
    MlirOperation op = optimizers.ops[i];
    CageOptimizerOp opt = cageOptimizerOpRead(op);
    state.miss = (Miss){kMissNone, NULL};
    /* Asked before the rewrite, which erases the quant_error. */
    bool candidate = options[kRemarks].b && hasQuantError(opt.w);
    if (!tryCoupled(&state, op, &opt) && !tryDecoupled(&state, op, &opt) &&
        candidate)
      remarkMissed(op, &state.miss);
  }
  mlirIRRewriterDestroy(state.rewriter);
  free(matcher);
  cageOpListDestroy(&optimizers);
}

static const CagePassOption fuseOptions[] = {
    [kRemarks] = {"remarks",
                  "Emit a remark at each optimizer op whose w has a "
                  "cage.quant_error but that is not fused, saying why",
                  CagePassOptionBool,
                  {.b = false}},
};

static MlirDialectHandle (*const dependentDialects[])(void) = {
    mlirGetDialectHandle__arith__,
};

const CagePassDefinition cageFuseCorrectionPass = {
    .argument = "cage-fuse-correction",
    .name = "CageFuseCorrection",
    .summary = "Fuse cage.quant_error, the CAGE correction and "
               "cage.adamw/cage.sgd into cage.update where the result is "
               "the same",
    .anchorOp = "func.func",
    .options = fuseOptions,
    .numOptions = sizeof fuseOptions / sizeof fuseOptions[0],
    .dependentDialects = dependentDialects,
    .numDependentDialects =
        sizeof dependentDialects / sizeof dependentDialects[0],
    .run = run,
};
