/*===- Reference/Internal.h - Helpers shared by the reference files -*- C -*-=*\
|*                                                                            *|
|* Not part of the library's interface: the library is built with hidden     *|
|* visibility, so only the CAGE_REF_EXPORT functions of Reference.h are      *|
|* exported. See Reference.h for the orders and precisions implemented.      *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_REFERENCE_INTERNAL_H
#define CAGE_REFERENCE_INTERNAL_H

#include "Reference/Reference.h"

#include <stdint.h>

/* Shapes and quantizer parameters (Shape.c). */

/** Checks rank >= 1, dims != NULL, every dimension >= 1 and that numel (and
 * a few float buffers of that size) fit in memory sizes; sets *numel. */
int refCheckShape(int64_t rank, const int64_t *dims, int64_t *numel);

/** Checks the shape, then q: bits 2..8, every enum in range, group_size a
 * power of two dividing n (granularity = group), block a power of two >= 2
 * dividing n (rotation = hadamard). Sets *numel. */
int refCheckQuantizer(const CageRefQuantizer *q, int64_t rank,
                      const int64_t *dims, int64_t *numel);

/** Checks that alpha is present exactly when q takes its scale from an
 * operand, and that each of its numGroups values is finite and > 0. */
int refCheckAlphaOperand(const CageRefQuantizer *q, int64_t rank,
                         const int64_t *dims, const float *alpha);

/** The innermost dimension n and the number of rows (product of the others). */
int64_t refInnermost(int64_t rank, const int64_t *dims);
int64_t refRows(int64_t rank, const int64_t *dims);

/** Scale groups (Reference.h, "Scale groups"): their number and the number
 * of elements in each. Group g is the run of linear indices
 * [g * elements, (g + 1) * elements). */
int64_t refGroupCount(const CageRefQuantizer *q, int64_t rank,
                      const int64_t *dims);
int64_t refGroupElements(const CageRefQuantizer *q, int64_t rank,
                         const int64_t *dims);

/** A float buffer of count elements (count >= 1), NULL when out of memory. */
float *refAllocFloats(int64_t count);

/* The Hadamard rotation (Hadamard.c). */

/** x = x * H in place, blockwise over numel elements (block divides numel). */
void refHadamardInPlace(float *x, int64_t numel, int64_t block);

/* Philox and bf16 (Philox.c). */

/** The four Philox4x32-10 output words for element index under seed, with
 * section 1.4's key = (seed low 32, seed high 32) and counter = (index low
 * 32, index high 32, 0, 0). */
void refPhiloxWords(uint64_t seed, uint64_t index, uint32_t out[4]);

/** The 32-bit word of element `index` of a bf16 state tensor (Reference.h,
 * "bf16 optimizer state"): out[index mod 4] of the Philox4x32-10 call for
 * counter floor(index / 4). m and b round with its low 16 bits, v with its
 * high 16 bits. */
uint32_t refBf16StateWord(uint64_t seed, uint64_t index);

/** The bf16 bits of x stochastically rounded with the 16 random bits r
 * (Reference.h, "bf16 optimizer state"). */
uint16_t refBf16RoundStochastic(float x, uint16_t r);

/* Clip values and grids (Quantizer.c). */

/** alpha[g] for every group g of the already rotated values xr, for
 * scale = absmax or rms_gaussian. */
void refClipValuesOf(const CageRefQuantizer *q, int64_t rank,
                     const int64_t *dims, const float *xr, float *alpha);

/** The rotated input and the clip values that Q, the masks, the STE and
 * quant_error all start from: *xr = x (rotated when q rotates), *alphaOut =
 * the operand (copied) or the values found on *xr. Both are allocated here;
 * on success the caller frees them. */
int refPrepare(const CageRefQuantizer *q, int64_t rank, const int64_t *dims,
               int64_t numel, const float *x, const float *alpha, float **xr,
               float **alphaOut);

/** The distance between two levels of q's grid for clip value alpha (section
 * 1.1), in f32: alpha / qmax on the int grid, (2 * alpha) / (2^b - 1) on the
 * centered grid, exactly as the grids compute s and step. */
float refGridStep(const CageRefQuantizer *q, float alpha);

/** Whether x is clipped in a group with clip value alpha (section 1.1). */
int refIsClipped(const CageRefQuantizer *q, float x, float alpha);

/** q(x) on the grid of clip value alpha, with rounding mode `rounding` (seed
 * and index used only for stochastic rounding). */
float refGridValue(const CageRefQuantizer *q, CageRounding rounding, float x,
                   float alpha, uint64_t seed, uint64_t index);

#endif /* CAGE_REFERENCE_INTERNAL_H */
