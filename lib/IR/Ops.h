/*===- IR/Ops.h - Reading ops from C ------------------------------*- C -*-===*\
|*                                                                            *|
|* The few questions every C pass and pattern asks of an op, in one place:   *|
|* its name, an attribute by name, the op that defines a value.              *|
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

/** Whether `op` is named `name` ("cage.update"). */
bool cageOpIs(MlirOperation op, const char *name);

/** Whether the name of `op` starts with `prefix` ("linalg."). */
bool cageOpHasPrefix(MlirOperation op, const char *prefix);

/** The attribute `name` of `op` (inherent or discardable), null if none. */
MlirAttribute cageOpAttribute(MlirOperation op, const char *name);

/** The op whose result `value` is; null for a block argument. */
MlirOperation cageDefiningOp(MlirValue value);

/** Ops gathered before a pass rewrites any of them. */
typedef struct CageOpList {
  MlirOperation *ops;
  intptr_t size, capacity;
} CageOpList;

/** The ops nested in `root` (post-order) named one of the `numNames`
 * `names`; free the list with cageOpListDestroy. */
CageOpList cageCollectOps(MlirOperation root, const char *const *names,
                          intptr_t numNames);

void cageOpListDestroy(CageOpList *list);

#ifdef __cplusplus
}
#endif

#endif /* CAGE_IR_OPS_H */
