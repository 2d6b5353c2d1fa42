/*===- CAPITest.h - What every C API test program needs -----------*- C -*-===*\
|*                                                                            *|
|* The helpers the tests in this directory share: a string reference from a *|
|* C string, the MlirStringCallback that prints to stderr (where FileCheck   *|
|* reads), and a diagnostic handler that prints there.                       *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_TEST_CAPI_CAPITEST_H
#define CAGE_TEST_CAPI_CAPITEST_H

#include "mlir-c/Diagnostics.h"
#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#include <stdio.h>

static inline MlirStringRef str(const char *s) {
  return mlirStringRefCreateFromCString(s);
}

static inline void printToStderr(MlirStringRef text, void *userData) {
  (void)userData;
  fwrite(text.data, 1, text.length, stderr);
}

/* Prints each diagnostic as `diagnostic: <location>: <message>` and
 * consumes it. */
static inline MlirLogicalResult printDiagnostic(MlirDiagnostic diagnostic,
                                                void *userData) {
  (void)userData;
  fprintf(stderr, "diagnostic: ");
  mlirLocationPrint(mlirDiagnosticGetLocation(diagnostic), printToStderr, NULL);
  fprintf(stderr, ": ");
  mlirDiagnosticPrint(diagnostic, printToStderr, NULL);
  fprintf(stderr, "\n");
  return mlirLogicalResultSuccess();
}

#endif /* CAGE_TEST_CAPI_CAPITEST_H */
