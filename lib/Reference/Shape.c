/*===- Shape.c - Shapes, quantizer parameters and scale groups ------------===*\
|*                                                                            *|
|* Argument validation shared by every entry point, and the mapping from an  *|
|* element's linear index to its scale group (docs/Semantics.md §1.1).       *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Reference/Internal.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* Section 1 is specified in f32 arithmetic: intermediate results must not be
 * kept in a wider format (x87), or the reference would round differently
 * from the compiled code. */
#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "the cage reference needs FLT_EVAL_METHOD == 0 (f32 evaluated in f32)"
#endif

const char *cageRefStatusString(int status) {
  switch (status) {
  case CageRefOk:
    return "ok";
  case CageRefErrorNull:
    return "null pointer (or a pointer given that must be null)";
  case CageRefErrorShape:
    return "invalid shape";
  case CageRefErrorQuantizer:
    return "invalid quantizer";
  case CageRefErrorArgument:
    return "invalid argument";
  case CageRefErrorMemory:
    return "out of memory";
  default:
    return "unknown status";
  }
}

CageRefQuantizer cageRefQuantizerDefault(void) {
  CageRefQuantizer q;
  q.bits = 4;
  q.granularity = CageGranularityRow;
  q.groupSize = 128;
  q.scale = CageScaleKindAbsmax;
  q.levels = CageLevelsInt;
  q.rotation = CageRotationNone;
  q.block = 128;
  q.rounding = CageRoundingNearest;
  return q;
}

/* Room for a handful of float buffers of numel elements each. */
static const int64_t kMaxNumel = INT64_C(1) << 40;

int refCheckShape(int64_t rank, const int64_t *dims, int64_t *numel) {
  if (!dims || !numel)
    return CageRefErrorNull;
  if (rank < 1)
    return CageRefErrorShape;
  int64_t count = 1;
  for (int64_t k = 0; k < rank; ++k) {
    if (dims[k] < 1 || dims[k] > kMaxNumel)
      return CageRefErrorShape;
    count *= dims[k]; /* both factors <= 2^40 and count <= 2^40: no overflow */
    if (count > kMaxNumel)
      return CageRefErrorShape;
  }
  if ((uint64_t)count > SIZE_MAX / (8 * sizeof(float)))
    return CageRefErrorShape;
  *numel = count;
  return CageRefOk;
}

static int isPowerOfTwo(int64_t value) {
  return value >= 1 && (value & (value - 1)) == 0;
}

int64_t refInnermost(int64_t rank, const int64_t *dims) {
  return dims[rank - 1];
}

int64_t refRows(int64_t rank, const int64_t *dims) {
  int64_t rows = 1;
  for (int64_t k = 0; k + 1 < rank; ++k)
    rows *= dims[k];
  return rows;
}

int refCheckQuantizer(const CageRefQuantizer *q, int64_t rank,
                      const int64_t *dims, int64_t *numel) {
  if (!q)
    return CageRefErrorNull;
  int status = refCheckShape(rank, dims, numel);
  if (status != CageRefOk)
    return status;
  int64_t n = refInnermost(rank, dims);
  if (q->bits < 2 || q->bits > 8)
    return CageRefErrorQuantizer;
  /* The enums are compared as ints: an out-of-range value read through the
   * enum type is still caught. */
  int granularity = (int)q->granularity;
  if (granularity != CageGranularityTensor &&
      granularity != CageGranularityRow && granularity != CageGranularityGroup)
    return CageRefErrorQuantizer;
  int scale = (int)q->scale;
  if (scale != CageScaleKindAbsmax && scale != CageScaleKindRmsGaussian &&
      scale != CageScaleKindOperand)
    return CageRefErrorQuantizer;
  int levels = (int)q->levels;
  if (levels != CageLevelsInt && levels != CageLevelsCentered)
    return CageRefErrorQuantizer;
  int rotation = (int)q->rotation;
  if (rotation != CageRotationNone && rotation != CageRotationHadamard)
    return CageRefErrorQuantizer;
  int rounding = (int)q->rounding;
  if (rounding != CageRoundingNearest && rounding != CageRoundingStochastic)
    return CageRefErrorQuantizer;
  /* group_size: a power of two dividing the innermost dimension. */
  if (granularity == CageGranularityGroup &&
      (!isPowerOfTwo(q->groupSize) || n % q->groupSize != 0))
    return CageRefErrorQuantizer;
  /* block: a power of two >= 2 dividing the innermost dimension. */
  if (rotation == CageRotationHadamard &&
      (q->block < 2 || !isPowerOfTwo(q->block) || n % q->block != 0))
    return CageRefErrorQuantizer;
  return CageRefOk;
}

/* Scale groups (1.1). Element (row, col) of a tensor of `rows` rows of n
 * elements has linear index row * n + col and belongs to
 *   tensor: group 0 (numel elements),
 *   row:    group row (n elements),
 *   group:  group row * (n / group_size) + col / group_size (group_size
 *           elements).
 * In each case group g is the contiguous run of linear indices
 * [g * elements, (g + 1) * elements): for `group`,
 * (row * (n / gs) + col / gs) * gs = row * n + (col / gs) * gs. The code
 * walks groups as such runs. */
int64_t refGroupCount(const CageRefQuantizer *q, int64_t rank,
                      const int64_t *dims) {
  switch (q->granularity) {
  case CageGranularityTensor:
    return 1;
  case CageGranularityRow:
    return refRows(rank, dims);
  case CageGranularityGroup:
    return refRows(rank, dims) * (refInnermost(rank, dims) / q->groupSize);
  }
  return 0; /* not reached: the quantizer was checked */
}

int64_t refGroupElements(const CageRefQuantizer *q, int64_t rank,
                         const int64_t *dims) {
  switch (q->granularity) {
  case CageGranularityTensor:
    return refRows(rank, dims) * refInnermost(rank, dims);
  case CageGranularityRow:
    return refInnermost(rank, dims);
  case CageGranularityGroup:
    return q->groupSize;
  }
  return 0; /* not reached: the quantizer was checked */
}

int refCheckAlphaOperand(const CageRefQuantizer *q, int64_t rank,
                         const int64_t *dims, const float *alpha) {
  if (q->scale != CageScaleKindOperand)
    return alpha ? CageRefErrorNull : CageRefOk;
  if (!alpha)
    return CageRefErrorNull;
  int64_t count = refGroupCount(q, rank, dims);
  for (int64_t k = 0; k < count; ++k)
    if (!isfinite(alpha[k]) || !(alpha[k] > 0.0f))
      return CageRefErrorArgument;
  return CageRefOk;
}

float *refAllocFloats(int64_t count) {
  return (float *)malloc((size_t)count * sizeof(float));
}

int cageRefNumGroups(const CageRefQuantizer *q, int64_t rank,
                     const int64_t *dims, int64_t *numGroups) {
  int64_t numel;
  int status = refCheckQuantizer(q, rank, dims, &numel);
  if (status != CageRefOk)
    return status;
  if (!numGroups)
    return CageRefErrorNull;
  *numGroups = refGroupCount(q, rank, dims);
  return CageRefOk;
}
