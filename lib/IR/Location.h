/*===- IR/Location.h - The source position behind a location ------*- C -*-===*\
|*                                                                            *|
|* Messages name the line of the op they are about. Passes wrap file         *|
|* locations: fusion makes fused locations, inlining call-site ones, users    *|
|* name them. One search for the file location inside, for the messages of   *|
|* the run-time checks, of allocation failures and of the tools.             *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_IR_LOCATION_H
#define CAGE_IR_LOCATION_H

#include "mlir-c/IR.h"

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A file, line and column; line 0 for the implicit module of a file. */
typedef struct CageFileLineCol {
  MlirStringRef file;
  int line, column;
} CageFileLineCol;

/** The first file location in `loc`, looking through name locations, the
 * caller of call-site locations and, in order, the parts of fused ones;
 * false when there is none (unknown locations). */
MLIR_CAPI_EXPORTED bool cageLocationFindFile(MlirLocation loc,
                                             CageFileLineCol *where);

#ifdef __cplusplus
}
#endif

#endif /* CAGE_IR_LOCATION_H */
