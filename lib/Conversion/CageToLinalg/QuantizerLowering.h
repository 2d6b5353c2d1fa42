/*===- QuantizerLowering.h - quant_error for other patterns -------*- C -*-===*\
|*                                                                            *|
|* What the quantizer lowering (Quantizer.c) offers the other patterns of     *|
|* cage-lower-to-linalg: the quantization error of cage.quant_error, built    *|
|* at any CageBuilder, for a lowering of cage.update that wants it inline.    *|
|* (Creating a cage.quant_error op and letting its pattern lower it gives     *|
|* the same IR.)                                                              *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_CONVERSION_CAGETOLINALG_QUANTIZERLOWERING_H
#define CAGE_CONVERSION_CAGETOLINALG_QUANTIZERLOWERING_H

#include "IR/Builder.h"
#include "cage-c/Dialect/CageEnums.h"

/** e = w - Q(w) (error = keep) or the same with e = +0 where w is clipped
 * (zero_clipped; with rotation e = H(clipped(w·H) ? +0 : w·H - q(w·H))),
 * for the f32 tensor `w` and the #cage.quantizer `quantizer`, which must
 * round to nearest and find its own scale (not scale = operand), as
 * cage.quant_error and cage.update require. The result has w's type.
 * Ops go where `b` points. Returns null only when an op cannot be built
 * (reported at the builder's location); cageCanLowerQuantizerOp accepts
 * every op whose quantizer this is called for. */
MlirValue lowerBuildQuantError(CageBuilder *b, MlirAttribute quantizer,
                               CageErrorMode error, MlirValue w);

#endif /* CAGE_CONVERSION_CAGETOLINALG_QUANTIZERLOWERING_H */
