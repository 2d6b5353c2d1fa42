/* Calls the steps of runtime-checks.mlir with shapes and step counts that
 * break their preconditions, then with good ones; prints what
 * cage_last_error() says and whether the buffers were touched. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Memref2d {
  float *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} Memref2d;

typedef struct Memref1d {
  float *allocated, *aligned;
  int64_t offset, sizes[1], strides[1];
} Memref1d;

void _mlir_ciface_step(Memref2d *w, Memref2d *g, Memref2d *m, Memref2d *v,
                       float lr, int64_t t);
void _mlir_ciface_quantize(Memref2d *x);
void _mlir_ciface_quantized_copy(Memref2d *result, Memref2d *x);
float _mlir_ciface_other(Memref1d *x, int64_t total);
const char *cage_last_error(void);

static Memref2d view(float *data, int64_t rows, int64_t cols) {
  Memref2d m = {data, data, 0, {rows, cols}, {cols, 1}};
  return m;
}

/* The message without the directories of its file name. */
static const char *lastError(void) {
  const char *e = cage_last_error();
  if (!e)
    return NULL;
  const char *colon = strchr(e, ':');
  const char *base = e;
  for (const char *p = e; colon && p < colon; ++p)
    if (*p == '/')
      base = p + 1;
  return base;
}

static float w[4 * 64], g[4 * 64], m[4 * 64], v[4 * 64], x[2 * 40];

static int same(const float *a, float value, int n) {
  for (int i = 0; i < n; ++i)
    if (a[i] != value)
      return 0;
  return 1;
}

/* --allocate: a quantized copy whose size cannot be allocated (the sizes
 * claim 10^5 x 10^5 floats; the function fails before reading x), then one
 * that can. */
static int allocate(void) {
  float data[4] = {0.5f, -1.0f, 0.25f, 1.0f};
  Memref2d huge = view(data, 100000, 100000), result;
  _mlir_ciface_quantized_copy(&result, &huge);
  printf("huge: %s\n", lastError());
  Memref2d small = view(data, 2, 2);
  _mlir_ciface_quantized_copy(&result, &small);
  const char *e = lastError();
  printf("small: %s; %g\n", e ? e : "no error", (double)result.aligned[0]);
  free(result.allocated);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--allocate"))
    return allocate();
  for (int i = 0; i < 4 * 64; ++i) {
    w[i] = 0.25f * (float)(i % 7) - 0.5f;
    g[i] = 0.125f;
  }
  float w0[4 * 64];
  memcpy(w0, w, sizeof w);
  Memref2d wv = view(w, 4, 64), gv = view(g, 3, 64), mv = view(m, 4, 64),
           vv = view(v, 4, 64);
  _mlir_ciface_step(&wv, &gv, &mv, &vv, 0.01f, 1);
  printf("rows differ: %s; w %s\n", lastError(),
         memcmp(w, w0, sizeof w) ? "WRITTEN" : "untouched");
  gv = view(g, 4, 64);
  _mlir_ciface_step(&wv, &gv, &mv, &vv, 0.01f, 0);
  printf("t = 0: %s; w %s\n", lastError(),
         memcmp(w, w0, sizeof w) ? "WRITTEN" : "untouched");
  for (int i = 0; i < 2 * 40; ++i)
    x[i] = 0.3f;
  Memref2d xv = view(x, 2, 40);
  _mlir_ciface_quantize(&xv);
  printf("group size: %s; x %s\n", lastError(),
         same(x, 0.3f, 2 * 40) ? "untouched" : "WRITTEN");
  _mlir_ciface_step(&wv, &gv, &mv, &vv, 0.01f, 1);
  const char *e = lastError();
  printf("good call: %s; w %s\n", e ? e : "no error",
         memcmp(w, w0, sizeof w) ? "updated" : "UNCHANGED");
  float one[1] = {0};
  Memref1d ov = {one, one, 0, {1}, {1}};
  (void)_mlir_ciface_other(&ov, 10);
  e = lastError();
  printf("other module: %s\n", e ? e : "no error");
  (void)_mlir_ciface_other(&ov, 0);
  printf("other module, T = 0: %s\n", lastError());
  return 0;
}
