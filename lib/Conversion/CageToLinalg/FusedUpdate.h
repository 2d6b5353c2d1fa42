/*===- FusedUpdate.h - The fused CAGE step ------------------------*- C -*-===*\
|*                                                                            *|
|* cage.update and cage.multi_update lowered to one parallel loop that       *|
|* touches every parameter once (see FusedUpdate.c).                          *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_CONVERSION_CAGETOLINALG_FUSEDUPDATE_H
#define CAGE_CONVERSION_CAGETOLINALG_FUSEDUPDATE_H

#include "Patterns.h"

#include "mlir-c/IR.h"
#include "mlir-c/Rewrite.h"

#include <stdbool.h>

/** Whether the update `op` (cage.update or cage.multi_update) has a fused
 * lowering: not with a Hadamard rotation, a 0-d tensor, or a tensor of
 * rank > 2 with more than one dynamic leading dimension. */
bool lowerCanFuseUpdate(MlirOperation op);

struct CageBuilder;

/** Builds the fused step of `op` (one lowerCanFuseUpdate accepts) in
 * `form` with `b` and records the values that replace its results in
 * `results`; false if something could not be built (for
 * lowerRewriteStaged). */
bool lowerBuildFusedUpdate(struct CageBuilder *b, MlirOperation op,
                           LowerUpdateForm form, LowerResults *results);

/** Adds the pattern of cage.multi_update: the fused step in `form`, or with
 * a Hadamard rotation one cage.update per parameter. */
void cagePopulateMultiUpdateLoweringPatterns(MlirContext ctx,
                                             MlirRewritePatternSet patterns,
                                             LowerUpdateForm form);

#endif /* CAGE_CONVERSION_CAGETOLINALG_FUSEDUPDATE_H */
