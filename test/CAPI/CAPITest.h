/*===- CAPITest.h - What every C API test program needs -----------*- C -*-===*\
|*                                                                            *|
|* The two helpers each test in this directory used to define for itself:    *|
|* a string reference from a C string, and the MlirStringCallback that       *|
|* prints to stderr (where FileCheck reads).                                 *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_TEST_CAPI_CAPITEST_H
#define CAGE_TEST_CAPI_CAPITEST_H

#include "mlir-c/Support.h"

#include <stdio.h>

static inline MlirStringRef str(const char *s) {
  return mlirStringRefCreateFromCString(s);
}

static inline void printToStderr(MlirStringRef text, void *userData) {
  (void)userData;
  fwrite(text.data, 1, text.length, stderr);
}

#endif /* CAGE_TEST_CAPI_CAPITEST_H */
