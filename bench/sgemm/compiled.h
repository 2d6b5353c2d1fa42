/*===- compiled.h - A matmul compiled by cage-compile, loaded with dlopen -===*\
|*                                                                            *|
|* bench/sgemm/gen.py's entry point, compiled by cage-compile and linked      *|
|* into a shared object with -lomp:                                           *|
|*                                                                            *|
|*   void _mlir_ciface_sgemm(cage_memref_f32_2d *a, cage_memref_f32_2d *b,    *|
|*                           cage_memref_f32_2d *c);                          *|
|*                                                                            *|
|* C = op(A)·op(B), written into c in place. Every object defines the same    *|
|* symbol, so each is opened RTLD_LOCAL and looked up in its own handle.      *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_SGEMM_COMPILED_H
#define CAGE_SGEMM_COMPILED_H

#include <stdbool.h>
#include <stdint.h>

/** The generated header's cage_memref_f32_2d (docs/Tools.md, the AOT
 * ABI). */
typedef struct Memref2d {
  float *allocated, *aligned;
  int64_t offset;
  int64_t sizes[2], strides[2];
} Memref2d;

typedef struct CompiledSgemm {
  void *handle;
  void (*function)(Memref2d *, Memref2d *, Memref2d *);
  const char *(*lastError)(void); /* cage_last_error: NULL after success */
  Memref2d a, b, c;               /* descriptors of the bound buffers */
} CompiledSgemm;

/** Opens the shared object at path and binds its entry point to dense
 * row-major buffers a (aRows x aCols), b (bRows x bCols), c (m x n). On
 * failure prints why to stderr and returns false. */
bool compiledOpen(CompiledSgemm *s, const char *path, float *a, int64_t aRows,
                  int64_t aCols, float *b, int64_t bRows, int64_t bCols,
                  float *c, int64_t m, int64_t n);
void compiledClose(CompiledSgemm *s);

/** One call, and nothing else: what the benchmark times. */
void compiledCall(CompiledSgemm *s);

/** cage_last_error() of the object after a call on this thread: NULL when
 * the call succeeded, else why not (a descriptor the code rejects, an
 * allocation that failed). */
const char *compiledLastError(const CompiledSgemm *s);

/** compiledCall, then compiledLastError. */
const char *compiledRun(CompiledSgemm *s);

#endif /* CAGE_SGEMM_COMPILED_H */
