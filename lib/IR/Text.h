/*===- IR/Text.h - Printing MLIR objects into a fixed buffer ------*- C -*-===*\
|*                                                                            *|
|* The MLIR C API prints through a callback (MlirStringCallback); messages   *|
|* and diagnostics want the text in a buffer. One truncating accumulator for *|
|* the passes, the lowering and the tools.                                   *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_IR_TEXT_H
#define CAGE_IR_TEXT_H

#include "mlir-c/Support.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A NUL-terminated text in `data` (room for `size` bytes, NUL included),
 * `length` bytes long; what does not fit is dropped. */
typedef struct CageText {
  char *data;
  size_t size, length;
} CageText;

/** An empty text over `buffer` of `size` bytes (size >= 1). */
MLIR_CAPI_EXPORTED CageText cageTextOver(char *buffer, size_t size);

/** An MlirStringCallback: appends `s` to the CageText `userData`. */
MLIR_CAPI_EXPORTED void cageTextAppend(MlirStringRef s, void *userData);

/** Whether `s` is a C identifier (a letter or '_', then letters, digits and
 * '_') of fewer than 200 characters: the names that the C interface's
 * entry points and a generated header can take. */
MLIR_CAPI_EXPORTED bool cageIsCIdentifier(MlirStringRef s);

/** The MlirStringRef of a NUL-terminated string (which must outlive it). */
static inline MlirStringRef cageStr(const char *s) {
  return mlirStringRefCreateFromCString(s);
}

#ifdef __cplusplus
}
#endif

#endif /* CAGE_IR_TEXT_H */
