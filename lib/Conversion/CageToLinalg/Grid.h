/*===- Grid.h - The scalar math of a quantizer, in linalg bodies --*- C -*-===*\
|*                                                                            *|
|* The per-element and per-group formulas of docs/Semantics.md §1.1, §1.2     *|
|* and 1.4 as arith/math ops on f32 scalars, for the bodies of the            *|
|* linalg.generic ops that Quantizer.c builds: the step of a group, q(x),     *|
|* whether x is clipped, the LSQ derivative dq/dα, and the clip value of      *|
|* rms_gaussian. The order of every f32 operation is listed in Quantizer.c.   *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_CONVERSION_CAGETOLINALG_GRID_H
#define CAGE_CONVERSION_CAGETOLINALG_GRID_H

#include "Philox.h"

#include "IR/Builder.h"
#include "cage-c/Dialect/CageEnums.h"

#include <stdbool.h>
#include <stdint.h>

/** The parameters of a #cage.quantizer attribute, read once. */
typedef struct LowerQuantizer {
  int64_t bits;
  CageGranularity granularity;
  int64_t groupSize;
  CageScaleKind scale;
  CageLevels levels;
  CageRotation rotation;
  int64_t block;
  CageRounding rounding;
} LowerQuantizer;

/** Reads a #cage.quantizer attribute (which the caller has checked). */
LowerQuantizer lowerReadQuantizer(MlirAttribute attr);

/** qmax = 2^(b-1) - 1, the integer of the int grid's top level; also the
 * qmax in the LSQ factor γ of both grids. */
int64_t lowerGridQMax(const LowerQuantizer *q);

/** What stochastic rounding of one element needs: the seed's round keys and
 * the element's i64 linear index. A null pointer means round half to even. */
typedef struct LowerStochastic {
  const LowerPhiloxKeys *keys;
  MlirValue index;
} LowerStochastic;

/** The per-group step of the grid from the group's clip value α: the scale
 * s = α / qmax (int) or step = 2α / (2^b - 1) (centered). */
MlirValue lowerGridStep(CageBuilder *body, const LowerQuantizer *q,
                        MlirValue alpha);

/** The per-group tensors the grid reads, in the order the bodies receive
 * them: {s} for int, {α, step} for centered. */
int lowerGridNumScales(const LowerQuantizer *q);

/** Splits body arguments laid out as lowerGridNumScales says into α (null
 * for int, which needs s alone) and the step. */
void lowerGridReadScales(const LowerQuantizer *q, const MlirValue *args,
                         MlirValue *alpha, MlirValue *step);

/** q(x) on the grid of the group (α, step), rounded half to even or, with
 * `stochastic`, stochastically. */
MlirValue lowerGridValue(CageBuilder *body, const LowerQuantizer *q,
                         MlirValue x, MlirValue alpha, MlirValue step,
                         const LowerStochastic *stochastic);

/** Whether the grid can clip an element of a group whose clip value was
 * found from the group itself: false for absmax (Semantics.md §1.2, "Absmax
 * clips nothing"), so masks of absmax quantizers need not be built. */
bool lowerGridMayClip(const LowerQuantizer *q);

/** Whether x is clipped (i1), judged with round half to even. */
MlirValue lowerGridIsClipped(CageBuilder *body, const LowerQuantizer *q,
                             MlirValue x, MlirValue alpha, MlirValue step);

/** dq/dα of section 1.2 (f32), for the LSQ gradient of the clip value. */
MlirValue lowerGridScaleDerivative(CageBuilder *body, const LowerQuantizer *q,
                                   MlirValue x, MlirValue alpha,
                                   MlirValue step);

/** The rms_gaussian clip value (f32) from the f64 sum of squares of a group
 * and its f64 element count. */
MlirValue lowerGridRmsClipValue(CageBuilder *body, const LowerQuantizer *q,
                                MlirValue sumOfSquares, MlirValue count);

#endif /* CAGE_CONVERSION_CAGETOLINALG_GRID_H */
