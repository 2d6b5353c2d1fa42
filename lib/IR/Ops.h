/*===- IR/Ops.h - Reading ops from C ------------------------------*- C -*-===*\
|*                                                                            *|
|* The few questions every C pass and pattern asks of an op, in one place:   *|
|* its name, an inherent attribute by name, the op that defines a value, the *|
|* ops of a kind in a function. The cage ops themselves are read through     *|
|* their typed accessors (cage-c/Dialect/CageOps.h), never by position; the  *|
|* two stand-alone optimizer ops, which several passes treat alike, have a   *|
|* view by role here.                                                        *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_IR_OPS_H
#define CAGE_IR_OPS_H

#include "mlir-c/IR.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Whether `op` is named `name` ("linalg.generic"). */
bool cageOpIs(MlirOperation op, const char *name);

/** Whether `op` is named one of the `numNames` `names`. */
bool cageOpIsOneOf(MlirOperation op, const char *const *names,
                   intptr_t numNames);

/** Whether the name of `op` starts with `prefix` ("linalg."). */
bool cageOpHasPrefix(MlirOperation op, const char *prefix);

/** The inherent attribute `name` of `op` (a property of a registered op),
 * null if none. */
MlirAttribute cageOpAttribute(MlirOperation op, const char *name);

/** The op whose result `value` is; null for a block argument. */
MlirOperation cageDefiningOp(MlirValue value);

/** Whether `value` is an arith.constant of float type; its value into
 * `*result`. */
bool cageConstantFloatValue(MlirValue value, double *result);

/** The number of loops of the linalg.generic `generic`, and whether loop
 * `loop` is parallel (its iterator type), from its `iterator_types`. */
intptr_t cageGenericNumLoops(MlirOperation generic);
bool cageGenericLoopIsParallel(MlirOperation generic, intptr_t loop);

/*===--- cage.adamw and cage.sgd, by role ---------------------------------===*/

/** The most state tensors an optimizer keeps (m, v for AdamW). */
enum { kCageMaxOptimizerState = 2 };

/** A cage.adamw or cage.sgd read through its typed accessors, so that the
 * passes that treat both alike (lowering, fusing) name their operands and
 * results by role. The state is that of cage.update's `state` operands:
 * m, v (AdamW) or b (SGD). */
typedef struct CageOptimizerOp {
  bool adamw;
  MlirValue w, g, lr;
  MlirValue step; /* t: AdamW; null for SGD */
  intptr_t numState;
  MlirValue state[kCageMaxOptimizerState];
  MlirValue newW;
  MlirValue newState[kCageMaxOptimizerState];
} CageOptimizerOp;

/** Whether `op` is a cage.adamw or a cage.sgd. */
bool cageOpIsOptimizer(MlirOperation op);

/** The view of the cage.adamw or cage.sgd `op`. */
CageOptimizerOp cageOptimizerOpRead(MlirOperation op);

/** The #cage.adamw or #cage.sgd attribute of the hyper-parameters of the
 * cage.adamw or cage.sgd `op` (what cage.update carries); null when they
 * make no valid attribute. */
MlirAttribute cageOptimizerOpGetAttr(MlirOperation op);

/*===--- Gathering ops ----------------------------------------------------===*/

/** Ops gathered before a pass rewrites any of them. */
typedef struct CageOpList {
  MlirOperation *ops;
  intptr_t size, capacity;
} CageOpList;

/** The ops nested in `root` (post-order) named one of the `numNames`
 * `names`; free the list with cageOpListDestroy. */
CageOpList cageCollectOps(MlirOperation root, const char *const *names,
                          intptr_t numNames);

/** The ops nested in `root` (post-order) for which `predicate` holds (a
 * typed predicate such as cageOperationIsAUpdate); free the list with
 * cageOpListDestroy. */
CageOpList cageCollectOpsWhere(MlirOperation root,
                               bool (*predicate)(MlirOperation));

void cageOpListDestroy(CageOpList *list);

/*===--- Adding parsed code -----------------------------------------------===*/

/** Moves the top-level ops of `from` (code a pass parsed from text) to the
 * end of the body of `module`, but for the symbols `module` already has
 * (the declarations the text needed to verify), and destroys `from`. */
void cageModuleAddNewSymbols(MlirOperation module, MlirModule from);

#ifdef __cplusplus
}
#endif

#endif /* CAGE_IR_OPS_H */
