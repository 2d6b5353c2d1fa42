/*===- Hadamard.h - The blockwise Hadamard rotation on tensors ----*- C -*-===*\
|*                                                                            *|
|* x·H_B along the innermost dimension (docs/Semantics.md §1.1, "Rotation"),  *|
|* as a fast Walsh-Hadamard transform in linalg: one linalg.generic per       *|
|* butterfly stage, never a dense matmul.                                     *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_CONVERSION_CAGETOLINALG_HADAMARD_H
#define CAGE_CONVERSION_CAGETOLINALG_HADAMARD_H

#include "IR/Builder.h"

#include <stdint.h>

/** x·H_B for each block of `block` elements (a power of two >= 2 dividing
 * the innermost dimension) of the f32 tensor `x`; the result has x's type.
 * H is its own inverse, so the same call rotates back. */
MlirValue lowerBuildHadamard(CageBuilder *b, MlirValue x, int64_t block);

#endif /* CAGE_CONVERSION_CAGETOLINALG_HADAMARD_H */
