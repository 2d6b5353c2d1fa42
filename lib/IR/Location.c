/*===- IR/Location.c - The source position behind a location --------------===*/

#include "IR/Location.h"

#include <stdlib.h>

bool cageLocationFindFile(MlirLocation loc, CageFileLineCol *where) {
  if (mlirLocationIsAFileLineColRange(loc)) {
    where->file =
        mlirIdentifierStr(mlirLocationFileLineColRangeGetFilename(loc));
    where->line = mlirLocationFileLineColRangeGetStartLine(loc);
    where->column = mlirLocationFileLineColRangeGetStartColumn(loc);
    return true;
  }
  if (mlirLocationIsAName(loc))
    return cageLocationFindFile(mlirLocationNameGetChildLoc(loc), where);
  if (mlirLocationIsACallSite(loc))
    return cageLocationFindFile(mlirLocationCallSiteGetCaller(loc), where);
  if (!mlirLocationIsAFused(loc))
    return false;
  unsigned n = mlirLocationFusedGetNumLocations(loc);
  MlirLocation *parts = n ? malloc(n * sizeof *parts) : NULL;
  if (!parts)
    return false;
  mlirLocationFusedGetLocations(loc, parts);
  bool found = false;
  for (unsigned i = 0; i < n && !found; ++i)
    found = cageLocationFindFile(parts[i], where);
  free(parts);
  return found;
}
