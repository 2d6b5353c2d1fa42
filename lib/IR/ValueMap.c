/*===- IR/ValueMap.c - Maps and sets keyed by SSA values ------------------===*/

#include "IR/ValueMap.h"

#include "IR/Builder.h"

#include <stdlib.h>

static uintptr_t hashPointer(const void *p) {
  uintptr_t h = (uintptr_t)p;
  h ^= h >> 17;
  h *= (uintptr_t)0x9E3779B97F4A7C15ull;
  return h ^ (h >> 29);
}

/* The slot of `key`, or the empty slot where it would go. */
static CageValueMapEntry *slotOf(const CageValueMap *map, MlirValue key) {
  uintptr_t mask = (uintptr_t)map->capacity - 1;
  for (uintptr_t i = hashPointer(key.ptr) & mask;; i = (i + 1) & mask) {
    CageValueMapEntry *e = &map->entries[i];
    if (mlirValueIsNull(e->key) || mlirValueEqual(e->key, key))
      return e;
  }
}

MlirValue cageValueMapLookup(const CageValueMap *map, MlirValue key) {
  if (map->capacity == 0)
    return (MlirValue){NULL};
  return slotOf(map, key)->value;
}

bool cageValueMapContains(const CageValueMap *map, MlirValue key) {
  return map->capacity != 0 && !mlirValueIsNull(slotOf(map, key)->key);
}

void cageValueMapSet(CageValueMap *map, MlirValue key, MlirValue value) {
  /* Grow at half load, so that probes stay short and a slot is always free. */
  if (2 * (map->size + 1) > map->capacity) {
    CageValueMap grown = {cageAllocArray(map->capacity ? 2 * map->capacity : 64,
                                         sizeof(CageValueMapEntry)),
                          map->capacity ? 2 * map->capacity : 64, 0};
    for (intptr_t i = 0; i < map->capacity; ++i)
      if (!mlirValueIsNull(map->entries[i].key))
        cageValueMapSet(&grown, map->entries[i].key, map->entries[i].value);
    free(map->entries);
    *map = grown;
  }
  CageValueMapEntry *e = slotOf(map, key);
  if (mlirValueIsNull(e->key)) {
    e->key = key;
    ++map->size;
  }
  e->value = value;
}

void cageValueMapDestroy(CageValueMap *map) {
  free(map->entries);
  *map = (CageValueMap){0};
}
