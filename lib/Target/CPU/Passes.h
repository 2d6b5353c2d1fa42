/*===- Passes.h - The CPU pass definitions ------------------------*- C -*-===*\
|*                                                                            *|
|* The CagePassDefinitions of lib/Target/CPU; include/cage-c/Target/CPU.h    *|
|* has their public create and register functions.                          *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_LIB_TARGET_CPU_PASSES_H
#define CAGE_LIB_TARGET_CPU_PASSES_H

#include "IR/Builder.h"

#include "cage/Pass/PassDefinition.h"

extern const CagePassDefinition cageCPUPipelinePass;
extern const CagePassDefinition cageCPUABIPass;
extern const CagePassDefinition cageCPUTilePass;
extern const CagePassDefinition cageCPUCheckLoweredPass;
extern const CagePassDefinition cageCPURuntimeChecksPass;
extern const CagePassDefinition cageCPUCheckSizesPass;
extern const CagePassDefinition cageCPUExpandStridedCopiesPass;
extern const CagePassDefinition cageCPUCheckDescriptorsPass;
extern const CagePassDefinition cageCPUBf16AsI16Pass;
extern const CagePassDefinition cageCPUExpandBf16Pass;
extern const CagePassDefinition cageCPUDecomposeSoftmaxPass;
extern const CagePassDefinition cageCPUFreeEarlyPass;
extern const CagePassDefinition cageCPUNameContractionsPass;
extern const CagePassDefinition cageCPUPackContractionsPass;
extern const CagePassDefinition cageCPUTileContractionsPass;
extern const CagePassDefinition cageCPUCacheBuffersPass;

/* The register block of cage-cpu-tile-contractions for vectors of
 * `vectorWidth` f32 lanes: the pack pass pads M and N to multiples of it. */
int64_t cageCPUContractionBlockRows(int64_t vectorWidth);
int64_t cageCPUContractionBlockColumns(int64_t vectorWidth);

/* cage-cpu-name-contractions' part for linalg.generic contractions with
 * several batch loops or a batch loop that is not leading
 * (BatchContractions.c). */
void cageCPUNameBatchedContractions(MlirOperation module);

/* cage-cpu-pack-contractions' first step: a linalg.generic that adds to
 * its output the product of two factors computed in its body (the operands'
 * producers, which elementwise fusion put there) becomes a generic per
 * computed factor and a plain contraction (SplitContractions.c). */
void cageCPUSplitFusedContractions(MlirOperation module);

/* cage-cpu-tile's first step: a transposing all-parallel linalg.generic
 * runs over the fewest loops, those that stay together in every operand
 * joined, its memrefs collapsed (CollapseLoops.c). */
void cageCPUCollapseTranspositionLoops(MlirOperation root);

/* cage-cpu-tile's last step: 2-D vector transfers of whole contiguous rows
 * become 1-D ones on the memref collapsed (FlattenTransfers.c). */
void cageCPUFlattenRowTransfers(MlirOperation root);

/* Whether `width`, the vector-width option of the pass `passName`, is in
 * [1, 1024]; if not, reports it at `op` and fails `pass`. */
bool cageCPUVectorWidthIsValid(MlirOperation op, int64_t width,
                               const char *passName, CagePassHandle pass);

/* Whether `op` is nested in a loop that already runs in parallel
 * (scf.forall, scf.parallel, an OpenMP op): no threads of its own. */
bool cageCPUInsideParallelLoop(MlirOperation op);

/* Whether `op` is a memref view op (subview, expand_shape, collapse_shape,
 * cast, reinterpret_cast, transpose, view): its result aliases operand 0. */
bool cageCPUIsMemRefView(MlirOperation op);

/* The K loops of vectorized register blocks carry this attribute (unit)
 * until cageCPUHoistAccumulators has kept their blocks of C in registers
 * (Accumulators.c). */
#define CAGE_CPU_ACCUMULATOR_LOOP "cage.cpu_accumulator_loop"

/* Contractions whose C a linalg.fill of +0.0 wrote just before start their
 * accumulators from zeros in registers instead (Accumulators.c). For the
 * contraction numbered i (i64 attributes): the fill carries
 * CAGE_CPU_ZERO_FILL = i; its K loop CAGE_CPU_ZERO_ACCUMULATORS = i when K
 * is one cache tile, else CAGE_CPU_ZERO_FIRST_DEPTH_TILE = i, and the loop
 * over K's cache tiles CAGE_CPU_DEPTH_LOOP = i. */
#define CAGE_CPU_ZERO_FILL "cage.cpu_zero_fill"
#define CAGE_CPU_ZERO_ACCUMULATORS "cage.cpu_zero_accumulators"
#define CAGE_CPU_ZERO_FIRST_DEPTH_TILE "cage.cpu_zero_first_depth_tile"
#define CAGE_CPU_DEPTH_LOOP "cage.cpu_depth_loop"

/* Keeps the accumulators of the tagged K loops in registers; where a
 * contraction is zero-initialized, they start from zeros and its fill is
 * erased. Removes the tags. */
void cageCPUHoistAccumulators(MlirOperation root);

/* Shared by cage-cpu-runtime-checks, which makes them, and
 * cage-cpu-check-descriptors, which uses them: the symbol of the thread-local
 * error slot that cage_last_error() reads, and the function attribute that
 * records the argument shapes to check. */
#define CAGE_CPU_ERROR_SLOT "__cage_last_error"
#define CAGE_CPU_DESCRIPTOR_CHECKS "cage.descriptor_checks"

/* llvm.mlir.addressof of the global `global`. */
MlirValue cageCPUAddressOf(CageBuilder *b, MlirStringRef global);

#endif /* CAGE_LIB_TARGET_CPU_PASSES_H */
