/*===- IR/Ops.c - Reading ops from C --------------------------------------===*/

#include "IR/Ops.h"

#include "cage-c/Dialect/Cage.h"
#include "cage-c/Dialect/CageOps.h"

#include "mlir-c/BuiltinAttributes.h"

#include <stdlib.h>
#include <string.h>

bool cageOpIs(MlirOperation op, const char *name) {
  return mlirStringRefEqual(mlirIdentifierStr(mlirOperationGetName(op)),
                            mlirStringRefCreateFromCString(name));
}

bool cageOpHasPrefix(MlirOperation op, const char *prefix) {
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
  size_t n = strlen(prefix);
  return name.length >= n && strncmp(name.data, prefix, n) == 0;
}

MlirAttribute cageOpAttribute(MlirOperation op, const char *name) {
  return mlirOperationGetInherentAttributeByName(
      op, mlirStringRefCreateFromCString(name));
}

MlirOperation cageDefiningOp(MlirValue value) {
  if (mlirValueIsAOpResult(value))
    return mlirOpResultGetOwner(value);
  return (MlirOperation){NULL};
}

bool cageConstantFloatValue(MlirValue value, double *result) {
  MlirOperation def = cageDefiningOp(value);
  if (mlirOperationIsNull(def) || !cageOpIs(def, "arith.constant"))
    return false;
  MlirAttribute attr = cageOpAttribute(def, "value");
  if (mlirAttributeIsNull(attr) || !mlirAttributeIsAFloat(attr))
    return false;
  *result = mlirFloatAttrGetValueDouble(attr);
  return true;
}

intptr_t cageGenericNumLoops(MlirOperation generic) {
  return mlirArrayAttrGetNumElements(
      cageOpAttribute(generic, "iterator_types"));
}

bool cageGenericLoopIsParallel(MlirOperation generic, intptr_t loop) {
  MlirAttribute parallel = mlirAttributeParseGet(
      mlirOperationGetContext(generic),
      mlirStringRefCreateFromCString("#linalg.iterator_type<parallel>"));
  return mlirAttributeEqual(
      mlirArrayAttrGetElement(cageOpAttribute(generic, "iterator_types"), loop),
      parallel);
}

/*===--- cage.adamw and cage.sgd, by role ---------------------------------===*/

bool cageOpIsOptimizer(MlirOperation op) {
  return cageOperationIsAAdamW(op) || cageOperationIsASGD(op);
}

CageOptimizerOp cageOptimizerOpRead(MlirOperation op) {
  if (cageOperationIsAAdamW(op))
    return (CageOptimizerOp){
        .adamw = true,
        .w = cageAdamWOpGetW(op),
        .g = cageAdamWOpGetG(op),
        .lr = cageAdamWOpGetLr(op),
        .step = cageAdamWOpGetStep(op),
        .numState = 2,
        .state = {cageAdamWOpGetM(op), cageAdamWOpGetV(op)},
        .newW = cageAdamWOpGetNewW(op),
        .newState = {cageAdamWOpGetNewM(op), cageAdamWOpGetNewV(op)},
    };
  return (CageOptimizerOp){
      .adamw = false,
      .w = cageSGDOpGetW(op),
      .g = cageSGDOpGetG(op),
      .lr = cageSGDOpGetLr(op),
      .numState = 1,
      .state = {cageSGDOpGetB(op)},
      .newW = cageSGDOpGetNewW(op),
      .newState = {cageSGDOpGetNewB(op)},
  };
}

MlirAttribute cageOptimizerOpGetAttr(MlirOperation op) {
  MlirContext ctx = mlirOperationGetContext(op);
  if (cageOperationIsAAdamW(op))
    return cageAdamWAttrGet(ctx, cageAdamWOpGetBeta1(op),
                            cageAdamWOpGetBeta2(op), cageAdamWOpGetEps(op),
                            cageAdamWOpGetWeightDecay(op));
  return cageSGDAttrGet(ctx, cageSGDOpGetMomentum(op),
                        cageSGDOpGetDampening(op), cageSGDOpGetNesterov(op),
                        cageSGDOpGetWeightDecay(op));
}

/*===--- Gathering ops ----------------------------------------------------===*/

/* Either `predicate` or the `numNames` `names` select the ops. */
typedef struct Collecting {
  CageOpList list;
  bool (*predicate)(MlirOperation);
  const char *const *names;
  intptr_t numNames;
} Collecting;

bool cageOpIsOneOf(MlirOperation op, const char *const *names,
                   intptr_t numNames) {
  for (intptr_t i = 0; i < numNames; ++i)
    if (cageOpIs(op, names[i]))
      return true;
  return false;
}

static bool wanted(const Collecting *c, MlirOperation op) {
  return c->predicate ? c->predicate(op)
                      : cageOpIsOneOf(op, c->names, c->numNames);
}

static MlirWalkResult collect(MlirOperation op, void *userData) {
  Collecting *c = userData;
  if (!wanted(c, op))
    return MlirWalkResultAdvance;
  CageOpList *list = &c->list;
  if (list->size == list->capacity) {
    intptr_t capacity = list->capacity ? 2 * list->capacity : 16;
    MlirOperation *ops = realloc(list->ops, (size_t)capacity * sizeof *ops);
    if (!ops)
      abort(); /* out of memory while compiling: nothing to recover */
    list->ops = ops;
    list->capacity = capacity;
  }
  list->ops[list->size++] = op;
  return MlirWalkResultAdvance;
}

CageOpList cageCollectOps(MlirOperation root, const char *const *names,
                          intptr_t numNames) {
  Collecting c = {{NULL, 0, 0}, NULL, names, numNames};
  mlirOperationWalk(root, collect, &c, MlirWalkPostOrder);
  return c.list;
}

CageOpList cageCollectOpsWhere(MlirOperation root,
                               bool (*predicate)(MlirOperation)) {
  Collecting c = {{NULL, 0, 0}, predicate, NULL, 0};
  mlirOperationWalk(root, collect, &c, MlirWalkPostOrder);
  return c.list;
}

void cageOpListDestroy(CageOpList *list) {
  free(list->ops);
  *list = (CageOpList){NULL, 0, 0};
}

void cageModuleAddNewSymbols(MlirOperation module, MlirModule from) {
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  MlirSymbolTable symbols = mlirSymbolTableCreate(module);
  MlirOperation op = mlirBlockGetFirstOperation(mlirModuleGetBody(from));
  while (!mlirOperationIsNull(op)) {
    MlirOperation next = mlirOperationGetNextInBlock(op);
    MlirAttribute name = mlirOperationGetAttributeByName(
        op, mlirSymbolTableGetSymbolAttributeName());
    if (mlirAttributeIsNull(name) ||
        mlirOperationIsNull(
            mlirSymbolTableLookup(symbols, mlirStringAttrGetValue(name)))) {
      mlirOperationRemoveFromParent(op);
      mlirBlockAppendOwnedOperation(body, op);
    }
    op = next;
  }
  mlirSymbolTableDestroy(symbols);
  mlirModuleDestroy(from);
}
