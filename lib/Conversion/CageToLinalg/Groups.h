/*===- Groups.h - Scale groups of a quantizer, for fused lowerings -*- C
-*-===*\
|*                                                                            *|
|* What Quantizer.c builds for the scale groups of a tensor, exported so     *|
|* that the fused optimizer step (FusedUpdate.c) quantizes in the same       *|
|* generic that updates the parameter: the group view of a tensor, its       *|
|* per-group clip values and steps, generics over the view, and the         *|
|* quantization error of one element.                                        *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_CONVERSION_CAGETOLINALG_GROUPS_H
#define CAGE_CONVERSION_CAGETOLINALG_GROUPS_H

#include "Grid.h"

#include "IR/Builder.h"

#include <stdbool.h>

/** A tensor as the generics iterate it: `rank` loops, the first
 * `groupLoops` of which pick the scale group (and index the per-group
 * tensors). */
typedef struct LowerGroupView {
  MlirValue value;
  int64_t rank;
  int64_t groupLoops;
} LowerGroupView;

/** `x` viewed by its scale groups: itself for tensor and row granularity
 * (all loops, or all but the innermost, pick the group), [..., n / G, G]
 * by tensor.expand_shape for granularity = group. */
LowerGroupView lowerViewGroups(CageBuilder *b, const LowerQuantizer *q,
                               MlirValue x);

/** The per-group tensors the grid reads (lowerGridReadScales). */
typedef struct LowerScales {
  MlirValue values[2];
  intptr_t count;
} LowerScales;

/** The scales of the groups of `view`: from the operand α with scale =
 * operand, else from the values of the view (absmax or rms_gaussian). */
LowerScales lowerGroupScales(CageBuilder *b, const LowerQuantizer *q,
                             const LowerGroupView *view, MlirValue operand);

/** A linalg.generic over the loops of a view. `elements` (shaped like the
 * view) are read per element, `perGroup` once per group. The outputs are
 * per element (all loops parallel) or, with `reduce`, per group (the loops
 * within a group are reductions). Body arguments: elements, perGroup, then
 * the outputs. */
typedef struct LowerOverGroups {
  const LowerGroupView *view;
  const MlirValue *elements;
  intptr_t numElements;
  const MlirValue *perGroup;
  intptr_t numPerGroup;
  const MlirValue *outputs;
  intptr_t numOutputs;
  bool reduce;
  CageGenericBodyBuilder body;
  void *userData;
} LowerOverGroups;

/** Builds the generic `g` describes; a null op if it could not. */
MlirOperation lowerBuildOverGroups(CageBuilder *b, const LowerOverGroups *g);

/** e = w − q(w) of one element, +0 where w is clipped with zero_clipped,
 * from the body arguments `scales` laid out as lowerGridNumScales says
 * (without rotation: the caller handles Hadamard quantizers otherwise). */
MlirValue lowerErrorValue(CageBuilder *body, const LowerQuantizer *q,
                          CageErrorMode error, MlirValue w,
                          const MlirValue *scales);

/** The grid step of each scale group of `x` (rotated first when q
 * rotates), from the clip values found in x as cage.quantize finds them
 * (f32, one per group), and in `*groupElements` the number of elements of a
 * group (index). */
MlirValue lowerGroupSteps(CageBuilder *b, const LowerQuantizer *q, MlirValue x,
                          MlirValue *groupElements);

/** The i64 row-major linear index of the current element of a linalg body
 * with `rank` loops of the given sizes (sizes[0] is not needed; 0 for rank
 * 0). */
MlirValue lowerLinearIndex(CageBuilder *body, const MlirValue *sizes,
                           int64_t rank);

#endif /* CAGE_CONVERSION_CAGETOLINALG_GROUPS_H */
