/*===- IR/Ops.c - Reading ops from C --------------------------------------===*/

#include "IR/Ops.h"

#include <stdlib.h>
#include <string.h>

bool cageOpIs(MlirOperation op, const char *name) {
  return mlirStringRefEqual(mlirIdentifierStr(mlirOperationGetName(op)),
                            mlirStringRefCreateFromCString(name));
}

bool cageOpHasPrefix(MlirOperation op, const char *prefix) {
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
  size_t n = strlen(prefix);
  return name.length >= n && strncmp(name.data, prefix, n) == 0;
}

MlirAttribute cageOpAttribute(MlirOperation op, const char *name) {
  return mlirOperationGetAttributeByName(op,
                                         mlirStringRefCreateFromCString(name));
}

MlirOperation cageDefiningOp(MlirValue value) {
  if (mlirValueIsAOpResult(value))
    return mlirOpResultGetOwner(value);
  return (MlirOperation){NULL};
}

typedef struct Collecting {
  CageOpList list;
  const char *const *names;
  intptr_t numNames;
} Collecting;

static MlirWalkResult collect(MlirOperation op, void *userData) {
  Collecting *c = userData;
  bool wanted = false;
  for (intptr_t i = 0; i < c->numNames && !wanted; ++i)
    wanted = cageOpIs(op, c->names[i]);
  if (!wanted)
    return MlirWalkResultAdvance;
  CageOpList *list = &c->list;
  if (list->size == list->capacity) {
    intptr_t capacity = list->capacity ? 2 * list->capacity : 16;
    MlirOperation *ops = realloc(list->ops, (size_t)capacity * sizeof *ops);
    if (!ops)
      abort(); /* out of memory while compiling: nothing to recover */
    list->ops = ops;
    list->capacity = capacity;
  }
  list->ops[list->size++] = op;
  return MlirWalkResultAdvance;
}

CageOpList cageCollectOps(MlirOperation root, const char *const *names,
                          intptr_t numNames) {
  Collecting c = {{NULL, 0, 0}, names, numNames};
  mlirOperationWalk(root, collect, &c, MlirWalkPostOrder);
  return c.list;
}

void cageOpListDestroy(CageOpList *list) {
  free(list->ops);
  *list = (CageOpList){NULL, 0, 0};
}
