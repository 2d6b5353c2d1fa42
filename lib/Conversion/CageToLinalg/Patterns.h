/*===- Patterns.h - Rewrite patterns of cage-lower-to-linalg ------*- C -*-===*\
|*                                                                            *|
|* The lowering of each cage op to linalg/tensor/arith/math on tensors, as C *|
|* rewrite patterns. Quantizer.c lowers what quantizes (cage.quantize,       *|
|* cage.ste, cage.quant_error); Optimizers.c lowers the schedule and the     *|
|* optimizer steps (cage.lambda_schedule, cage.adamw, cage.sgd, cage.update, *|
|* the last by way of cage.quant_error); Fogzo.c lowers                      *|
|* cage.fogzo_direction.                                                      *|
|* CageToLinalg.c runs them and holds the few helpers they share.           *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_CONVERSION_CAGETOLINALG_PATTERNS_H
#define CAGE_CONVERSION_CAGETOLINALG_PATTERNS_H

#include "IR/Ops.h"

#include "mlir-c/IR.h"
#include "mlir-c/Rewrite.h"

#include <stdbool.h>

/** Adds the patterns of cage.quantize, cage.ste and cage.quant_error. */
void cagePopulateQuantizerLoweringPatterns(MlirContext ctx,
                                           MlirRewritePatternSet patterns);

/** The shape of the fused step's loops: the CPU's parallel loop over chunks
 * of rows, each group's scale taken while the group is in cache; or, for
 * GPUs, per parameter a reduction per scale group and one element-wise
 * generic (cage-lower-to-linalg{per-element-updates}). */
typedef enum LowerUpdateForm {
  LowerUpdateChunks,
  LowerUpdateElements
} LowerUpdateForm;

/** Adds the patterns of cage.lambda_schedule, cage.adamw, cage.sgd and
 *  cage.update (fused in `form` where FusedUpdate.c can). */
void cagePopulateOptimizerLoweringPatterns(MlirContext ctx,
                                           MlirRewritePatternSet patterns,
                                           LowerUpdateForm form);

/** Adds the pattern of cage.fogzo_direction (Fogzo.c). */
void cagePopulateFogzoLoweringPatterns(MlirContext ctx,
                                       MlirRewritePatternSet patterns);

/** Whether the quantizer patterns can lower `op` (one of the ops they
 *  handle); if not, emits an error at the op saying why. The pass asks
 *  before rewriting, so that a combination without a lowering gets one
 *  diagnostic and never a partial rewrite. */
bool cageCanLowerQuantizerOp(MlirOperation op);

/*===--- Shared by the pattern files --------------------------------------===*/

struct CageBuilder;

/** The values that replace the results of the op being lowered, each with
 * the result it replaces, named by the op's typed accessors
 * (cage-c/Dialect/CageOps.h) so that no pattern knows result positions. */
typedef struct LowerResults {
  MlirValue *from, *to;
  intptr_t size, capacity;
} LowerResults;

/** Records that `to` replaces the result `from`. A null `to` (a build call
 * that failed) fails the rewrite. */
void lowerReplace(LowerResults *results, MlirValue from, MlirValue to);

/** Builds the lowering of `op` with `b` and records, with lowerReplace, the
 * value that replaces each of its results; returns false, or records a null
 * value, when something could not be built. */
typedef bool (*LowerBuild)(struct CageBuilder *b, MlirOperation op,
                           LowerResults *results);

/** A lowering pattern: the ops named `opName`, lowered by `build`. */
typedef struct LowerPattern {
  const char *opName;
  LowerBuild build;
} LowerPattern;

/** Adds the `count` patterns of `table` (a static table: each pattern keeps
 * a pointer to its entry, as the C API's user data). Each
 * rewrite is staged: `build` runs into a detached block, and only when a
 * value was built for every result are its ops moved before the op and the
 * op replaced. A failed build is dropped with the block and leaves the IR
 * untouched (the greedy driver's contract: a pattern that fails has
 * changed nothing). */
void lowerAddPatterns(MlirContext ctx, MlirRewritePatternSet patterns,
                      LowerPattern *table, intptr_t count);

#endif /* CAGE_CONVERSION_CAGETOLINALG_PATTERNS_H */
