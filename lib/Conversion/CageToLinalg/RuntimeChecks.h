/*===- RuntimeChecks.h - Preconditions checked when the step runs -*- C -*-===*\
|*                                                                            *|
|* The preconditions of cage ops that the verifiers cannot prove (dynamic    *|
|* sizes, scalar operands), emitted as cf.assert before each op.             *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_CONVERSION_CAGETOLINALG_RUNTIMECHECKS_H
#define CAGE_CONVERSION_CAGETOLINALG_RUNTIMECHECKS_H

#include "mlir-c/IR.h"

/** Emits, before each cage op nested in `func`, one cf.assert per
 * precondition that depends on a dynamic size or a scalar operand (see
 * RuntimeChecks.c for the list); the message names the op's location, the
 * op and what is wrong. Preconditions that static types decide are left to
 * the verifiers and get no assert. */
void lowerEmitRuntimeChecks(MlirOperation func);

#endif /* CAGE_CONVERSION_CAGETOLINALG_RUNTIMECHECKS_H */
