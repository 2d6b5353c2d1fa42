/*===- cage-c/Version.h - Version of the cage C API ---------------*- C -*-===*\
|*                                                                            *|
|* The C API is versioned as a whole: the major number changes when a        *|
|* function or type changes incompatibly, the minor number when one is       *|
|* added. Bindings (python/cage) check the major number at load time.        *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_C_VERSION_H
#define CAGE_C_VERSION_H

#include "mlir-c/Support.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CAGE_C_API_VERSION_MAJOR 1
#define CAGE_C_API_VERSION_MINOR 4

/** Returns (major << 16) | minor of the library actually loaded. */
MLIR_CAPI_EXPORTED int cageGetAPIVersion(void);

#ifdef __cplusplus
}
#endif

#endif /* CAGE_C_VERSION_H */
