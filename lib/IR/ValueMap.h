/*===- IR/ValueMap.h - Maps and sets keyed by SSA values ----------*- C -*-===*\
|*                                                                            *|
|* The C API has no IRMapping or DenseMap: passes that follow values (the     *|
|* adjoints of cage-autodiff, the values its activity analysis marks, the     *|
|* clones of an op's body) keep them in this open-addressing hash map keyed   *|
|* by the value's pointer.                                                    *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_IR_VALUEMAP_H
#define CAGE_IR_VALUEMAP_H

#include "mlir-c/IR.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct CageValueMapEntry {
  MlirValue key, value;
} CageValueMapEntry;

/** Zero-initialize (`CageValueMap m = {0};`) before use; free with
 * cageValueMapDestroy. */
typedef struct CageValueMap {
  CageValueMapEntry *entries;
  intptr_t capacity, size;
} CageValueMap;

/** The value stored for `key`, or a null value. */
MlirValue cageValueMapLookup(const CageValueMap *map, MlirValue key);

/** Whether `key` has an entry. */
bool cageValueMapContains(const CageValueMap *map, MlirValue key);

/** Stores `value` for `key` (replacing any earlier one). */
void cageValueMapSet(CageValueMap *map, MlirValue key, MlirValue value);

void cageValueMapDestroy(CageValueMap *map);

#ifdef __cplusplus
}
#endif

#endif /* CAGE_IR_VALUEMAP_H */
