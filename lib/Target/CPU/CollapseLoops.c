/*===- CollapseLoops.c - Transpositions over the fewest loops -------------===*\
|*                                                                            *|
|* A transposing linalg.generic (all loops parallel, operands that do not    *|
|* list the loops in the same order) often moves blocks of dimensions that   *|
|* stay together in every operand: the copy that packs a [16, 128, 1024]     *|
|* activation gradient as the [1024, 16 x 128] operand of a weight gradient  *|
|* runs over loops (h, b, s) and reads [b, s, h]. With three loops no        *|
|* operand has the two swapped ones innermost, so cage-cpu-tile cannot give  *|
|* it square tiles (Tile.c) and it gathered one element at a time: a tenth   *|
|* of a transformer block's gradient. Part of cage-cpu-tile, first:          *|
|* consecutive loops that are consecutive dimensions, in the same order, of  *|
|* every operand that has either (and absent together from the others)      *|
|* become one loop, each operand a memref.collapse_shape of its memref. The  *|
|* operands have identity layouts, so the collapsed dimensions are           *|
|* contiguous; the body is unchanged (it reads no linalg.index), so the op   *|
|* computes the same values in the same order per element.                   *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Passes.h"

#include "IR/Builder.h"
#include "IR/Ops.h"
#include "IR/Text.h"

#include "mlir-c/AffineExpr.h"
#include "mlir-c/AffineMap.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

#include <stdbool.h>
#include <stdlib.h>

static MlirWalkResult findIndex(MlirOperation op, void *userData) {
  if (cageOpIs(op, "linalg.index")) {
    *(bool *)userData = true;
    return MlirWalkResultInterrupt;
  }
  return MlirWalkResultAdvance;
}

static bool readsIndex(MlirOperation generic) {
  bool found = false;
  mlirOperationWalk(generic, findIndex, &found, MlirWalkPreOrder);
  return found;
}

/* Whether `operand` can be collapsed: a memref with an identity layout, or
 * a value its map reads no dimension of (a scalar, a rank-0 memref). */
static bool collapsible(MlirValue operand, MlirAffineMap map) {
  if (mlirAffineMapGetNumResults(map) == 0)
    return true;
  MlirType type = mlirValueGetType(operand);
  if (!mlirTypeIsAMemRef(type))
    return false;
  MlirAttribute layout = mlirMemRefTypeGetLayout(type);
  return mlirAttributeIsAAffineMap(layout) &&
         mlirAffineMapIsIdentity(mlirAffineMapAttrGetValue(layout));
}

/* Each map's result position of each loop, or false when a map is not a
 * projected permutation. `positions` holds numMaps x numLoops entries. */
static bool mapPositions(MlirAttribute maps, intptr_t numLoops,
                         intptr_t *positions) {
  intptr_t numMaps = mlirArrayAttrGetNumElements(maps);
  for (intptr_t i = 0; i < numMaps * numLoops; ++i)
    positions[i] = -1;
  for (intptr_t i = 0; i < numMaps; ++i) {
    MlirAffineMap map =
        mlirAffineMapAttrGetValue(mlirArrayAttrGetElement(maps, i));
    for (intptr_t r = 0; r < mlirAffineMapGetNumResults(map); ++r) {
      MlirAffineExpr e = mlirAffineMapGetResult(map, r);
      if (!mlirAffineExprIsADim(e))
        return false;
      intptr_t d = mlirAffineDimExprGetPosition(e);
      if (d < 0 || d >= numLoops || positions[i * numLoops + d] >= 0)
        return false;
      positions[i * numLoops + d] = r;
    }
  }
  return true;
}

/* Whether some map lists its loops out of order (the op transposes). */
static bool listsLoopsOutOfOrder(const intptr_t *positions, intptr_t numMaps,
                                 intptr_t numLoops) {
  for (intptr_t i = 0; i < numMaps; ++i) {
    intptr_t previous = -1;
    for (intptr_t d = 0; d < numLoops; ++d) {
      intptr_t p = positions[i * numLoops + d];
      if (p < 0)
        continue;
      if (p < previous)
        return true;
      previous = p;
    }
  }
  return false;
}

/* Whether loop d + 1 can join loop d: in every map both are absent, or d + 1
 * is the dimension right after d's. */
static bool joins(const intptr_t *positions, intptr_t numMaps,
                  intptr_t numLoops, intptr_t d) {
  for (intptr_t i = 0; i < numMaps; ++i) {
    intptr_t p = positions[i * numLoops + d];
    intptr_t q = positions[i * numLoops + d + 1];
    if ((p < 0) != (q < 0) || (p >= 0 && q != p + 1))
      return false;
  }
  return true;
}

/* The new loop of result `r` of `map` (a projected permutation). */
static intptr_t resultGroup(MlirAffineMap map, const intptr_t *group,
                            intptr_t r) {
  return group[mlirAffineDimExprGetPosition(mlirAffineMapGetResult(map, r))];
}

/* memref.collapse_shape of `memref` along `map`'s results grouped by
 * `group` (the new loop of each old one). */
static MlirValue collapseOperand(CageBuilder *b, MlirValue memref,
                                 MlirAffineMap map, const intptr_t *group) {
  MlirContext ctx = b->context;
  MlirType type = mlirValueGetType(memref);
  intptr_t rank = mlirAffineMapGetNumResults(map);
  int64_t *shape = cageAllocArray(rank, sizeof(int64_t));
  MlirAttribute *groups = cageAllocArray(rank, sizeof(MlirAttribute));
  MlirAttribute *members = cageAllocArray(rank, sizeof(MlirAttribute));
  MlirType i64 = mlirIntegerTypeGet(ctx, 64);
  intptr_t numGroups = 0;
  for (intptr_t r = 0; r < rank;) {
    intptr_t g = resultGroup(map, group, r);
    intptr_t numMembers = 0;
    int64_t size = 1;
    for (; r < rank && resultGroup(map, group, r) == g; ++r) {
      members[numMembers++] = mlirIntegerAttrGet(i64, r);
      if (mlirShapedTypeIsDynamicDim(type, r))
        size = mlirShapedTypeGetDynamicSize();
      else if (!mlirShapedTypeIsDynamicSize(size))
        size *= mlirShapedTypeGetDimSize(type, r);
    }
    groups[numGroups] = mlirArrayAttrGet(ctx, numMembers, members);
    shape[numGroups++] = size;
  }
  /* A null layout: the identity, which collapsing an identity layout keeps. */
  MlirType collapsedType = mlirMemRefTypeGet(
      mlirShapedTypeGetElementType(type), numGroups, shape,
      mlirAttributeGetNull(), mlirMemRefTypeGetMemorySpace(type));
  MlirNamedAttribute reassociation = cageNamedAttribute(
      b, "reassociation", mlirArrayAttrGet(ctx, numGroups, groups));
  MlirValue collapsed =
      cageOperationGetResult(cageBuildOp(b, "memref.collapse_shape", 1, &memref,
                                         1, &collapsedType, 1, &reassociation),
                             0);
  free(shape);
  free(groups);
  free(members);
  return collapsed;
}

/* `map` over the new loops: each run of results in one group becomes that
 * group's dimension. */
static MlirAffineMap collapseMap(MlirContext ctx, MlirAffineMap map,
                                 const intptr_t *group, intptr_t numGroups) {
  intptr_t rank = mlirAffineMapGetNumResults(map);
  MlirAffineExpr *results = cageAllocArray(rank, sizeof(MlirAffineExpr));
  intptr_t n = 0;
  intptr_t previous = -1;
  for (intptr_t r = 0; r < rank; ++r) {
    intptr_t g = resultGroup(map, group, r);
    if (g != previous)
      results[n++] = mlirAffineDimExprGet(ctx, g);
    previous = g;
  }
  MlirAffineMap collapsed = mlirAffineMapGet(ctx, numGroups, 0, n, results);
  free(results);
  return collapsed;
}

/* Collapses the loops of `generic` if it is a transposition with loops to
 * join; leaves it alone otherwise. */
static void collapseLoops(MlirOperation generic) {
  intptr_t numLoops = cageGenericNumLoops(generic);
  if (numLoops < 3 || readsIndex(generic))
    return;
  for (intptr_t d = 0; d < numLoops; ++d)
    if (!cageGenericLoopIsParallel(generic, d))
      return;
  MlirAttribute maps = cageOpAttribute(generic, "indexing_maps");
  intptr_t numMaps = mlirArrayAttrGetNumElements(maps);
  if (numMaps != mlirOperationGetNumOperands(generic))
    return;
  for (intptr_t i = 0; i < numMaps; ++i)
    if (!collapsible(
            mlirOperationGetOperand(generic, i),
            mlirAffineMapAttrGetValue(mlirArrayAttrGetElement(maps, i))))
      return;

  intptr_t *positions = cageAllocArray(numMaps * numLoops, sizeof(intptr_t));
  intptr_t *group = cageAllocArray(numLoops, sizeof(intptr_t));
  intptr_t numGroups = 0;
  if (mapPositions(maps, numLoops, positions) &&
      listsLoopsOutOfOrder(positions, numMaps, numLoops)) {
    for (intptr_t d = 0; d < numLoops; ++d) {
      if (d > 0 && !joins(positions, numMaps, numLoops, d - 1))
        ++numGroups;
      group[d] = numGroups;
    }
    ++numGroups;
  }
  free(positions);
  if (numGroups == 0 || numGroups == numLoops) {
    free(group);
    return;
  }

  MlirContext ctx = mlirOperationGetContext(generic);
  CageBuilder b = cageBuilderDetached(mlirOperationGetLocation(generic));
  MlirAttribute *newMaps = cageAllocArray(numMaps, sizeof(MlirAttribute));
  for (intptr_t i = 0; i < numMaps; ++i) {
    MlirAffineMap map =
        mlirAffineMapAttrGetValue(mlirArrayAttrGetElement(maps, i));
    MlirValue operand = mlirOperationGetOperand(generic, i);
    if (mlirAffineMapGetNumResults(map) > 0)
      mlirOperationSetOperand(generic, i,
                              collapseOperand(&b, operand, map, group));
    newMaps[i] = mlirAffineMapAttrGet(collapseMap(ctx, map, group, numGroups));
  }
  cageBuilderMoveBefore(&b, generic);

  MlirAttribute parallel =
      mlirArrayAttrGetElement(cageOpAttribute(generic, "iterator_types"), 0);
  MlirAttribute *iterators = cageAllocArray(numGroups, sizeof(MlirAttribute));
  for (intptr_t g = 0; g < numGroups; ++g)
    iterators[g] = parallel;
  mlirOperationSetInherentAttributeByName(
      generic, cageStr("indexing_maps"),
      mlirArrayAttrGet(ctx, numMaps, newMaps));
  mlirOperationSetInherentAttributeByName(
      generic, cageStr("iterator_types"),
      mlirArrayAttrGet(ctx, numGroups, iterators));
  free(iterators);
  free(newMaps);
  free(group);
}

void cageCPUCollapseTranspositionLoops(MlirOperation root) {
  static const char *const names[] = {"linalg.generic"};
  CageOpList generics = cageCollectOps(root, names, 1);
  for (intptr_t i = 0; i < generics.size; ++i)
    collapseLoops(generics.ops[i]);
  cageOpListDestroy(&generics);
}
