/*===- compiled.c - A matmul compiled by cage-compile, loaded with dlopen -===*\
|*                                                                            *|
|* See compiled.h.                                                            *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "compiled.h"

#include <dlfcn.h>
#include <stdio.h>

static Memref2d describe(float *data, int64_t rows, int64_t cols) {
  Memref2d d = {data, data, 0, {rows, cols}, {cols, 1}};
  return d;
}

bool compiledOpen(CompiledSgemm *s, const char *path, float *a, int64_t aRows,
                  int64_t aCols, float *b, int64_t bRows, int64_t bCols,
                  float *c, int64_t m, int64_t n) {
  *s = (CompiledSgemm){0};
  s->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!s->handle) {
    fprintf(stderr, "%s\n", dlerror());
    return false;
  }
  /* POSIX's way to turn dlsym's void * into a function pointer. */
  *(void **)&s->function = dlsym(s->handle, "_mlir_ciface_sgemm");
  *(void **)&s->lastError = dlsym(s->handle, "cage_last_error");
  if (!s->function) {
    fprintf(stderr, "%s: no symbol _mlir_ciface_sgemm\n", path);
    compiledClose(s);
    return false;
  }
  s->a = describe(a, aRows, aCols);
  s->b = describe(b, bRows, bCols);
  s->c = describe(c, m, n);
  return true;
}

void compiledClose(CompiledSgemm *s) {
  /* Closing lets the next configuration's object (same symbols) load
   * without this one's code staying mapped for the rest of the run. */
  if (s->handle)
    dlclose(s->handle);
  *s = (CompiledSgemm){0};
}

void compiledCall(CompiledSgemm *s) { s->function(&s->a, &s->b, &s->c); }

const char *compiledLastError(const CompiledSgemm *s) {
  return s->lastError ? s->lastError() : NULL;
}

const char *compiledRun(CompiledSgemm *s) {
  compiledCall(s);
  return compiledLastError(s);
}
