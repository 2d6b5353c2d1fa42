/*===- Npy.h - NumPy .npy files -----------------------------------*- C -*-===*\
|*                                                                            *|
|* Reads and writes NumPy's .npy format (versions 1.0, 2.0 and 3.0): a       *|
|* magic string, a header that is a Python dict literal with 'descr',       *|
|* 'fortran_order' and 'shape', and the raw data in C order. Only            *|
|* little-endian (or byte-sized) booleans, integers and floats are handled;  *|
|* Fortran order, object arrays, structured and big-endian dtypes are        *|
|* rejected with a message. Any rank the header states (NumPy itself makes  *|
|* at most 64 dimensions since 2.0, 32 before): the shape is on the heap.   *|
|* Every length in a file is checked against the file's size before memory  *|
|* is allocated, so a truncated or hostile file gets an error, never a      *|
|* crash or a huge allocation. Plain C11, no MLIR.                          *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_TOOLS_NPY_H
#define CAGE_TOOLS_NPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum NpyDType {
  NpyBool,
  NpyInt8,
  NpyInt16,
  NpyInt32,
  NpyInt64,
  NpyUInt8,
  NpyUInt16,
  NpyUInt32,
  NpyUInt64,
  NpyFloat16,
  NpyFloat32,
  NpyFloat64,
} NpyDType;

typedef struct NpyArray {
  NpyDType dtype;
  int rank; /* 0 for a scalar */
  /* The rank sizes (room for at least one, so never null in an array that
   * npyCreate, npyParse or npyRead made); owned: npyFree. */
  int64_t *shape;
  /* C-order data, 64-byte aligned, at least 64 bytes; owned: npyFree. */
  void *data;
  size_t numElements;
  size_t numBytes;
} NpyArray;

/** Size in bytes of one element. */
size_t npyDTypeSize(NpyDType dtype);

/** NumPy's name of the dtype: "float32", "int64", "bool", ... */
const char *npyDTypeName(NpyDType dtype);

/** Parses a whole .npy file held in memory. On failure returns false,
 *  leaves nothing to free in `array` and writes a message (without the file
 *  name) into `error`. */
bool npyParse(const void *bytes, size_t size, NpyArray *array, char *error,
              size_t errorSize);

/** Reads a .npy file; on failure the message starts with the path. */
bool npyRead(const char *path, NpyArray *array, char *error, size_t errorSize);

/** Makes `array` a zeroed array of `dtype` with the `rank` sizes of `shape`
 *  (copied; null for rank 0). On failure nothing is left to free. */
bool npyCreate(NpyArray *array, NpyDType dtype, int rank, const int64_t *shape,
               char *error, size_t errorSize);

/** Writes `array` as a version 1.0 file, or 2.0 when the header needs more
 *  than 65535 bytes (a rank in the thousands), as NumPy does. */
bool npyWrite(const char *path, const NpyArray *array, char *error,
              size_t errorSize);

/** Frees the data and the shape of `array` (and may be called again). */
void npyFree(NpyArray *array);

#endif /* CAGE_TOOLS_NPY_H */
