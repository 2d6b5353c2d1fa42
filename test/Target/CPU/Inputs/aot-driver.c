/* C driver for aot.test: calls the kernels of kernels.mlir through the
 * header cage-compile generated (-include), on awkward shapes, compares
 * with the same arithmetic in C (bit for bit: -ffp-contract=off, ordered
 * sums), and frees every returned buffer once. */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

static void check(int ok, const char *what, long long a, long long b) {
  if (!ok) {
    printf("FAIL %s (%lld x %lld)\n", what, a, b);
    ++failures;
  }
}

static float value(int64_t i, int k) {
  unsigned x = (unsigned)(i * 2654435761u + (unsigned)k * 97u);
  return (float)(x % 4099u) / 1024.0f - 2.0f;
}

static cage_memref_f32_2d matrix(float *p, int64_t r, int64_t c) {
  cage_memref_f32_2d d = {p, p, 0, {r, c}, {c, 1}};
  return d;
}

static void testShape(int64_t rows, int64_t cols) {
  size_t n = (size_t)(rows * cols);
  float *a = malloc(sizeof(float) * (n ? n : 1));
  float *b = malloc(sizeof(float) * (n ? n : 1));
  for (size_t i = 0; i < n; ++i) {
    a[i] = value((int64_t)i, 1);
    b[i] = value((int64_t)i, 2);
  }
  cage_memref_f32_2d A = matrix(a, rows, cols), B = matrix(b, rows, cols);

  /* Elementwise: a fresh buffer the caller frees. */
  cage_memref_f32_2d r;
  _mlir_ciface_ew_dyn(&r, &A, &B);
  int ok = r.sizes[0] == rows && r.sizes[1] == cols && r.allocated != a &&
           r.allocated != b;
  for (int64_t i = 0; ok && i < rows; ++i)
    for (int64_t j = 0; ok && j < cols; ++j) {
      float x = a[i * cols + j], y = b[i * cols + j];
      float want = sqrtf(fabsf(x * y + x));
      float got = r.aligned[r.offset + i * r.strides[0] + j * r.strides[1]];
      ok = memcmp(&want, &got, sizeof want) == 0;
    }
  check(ok, "ew_dyn", rows, cols);
  free(r.allocated);

  /* Row max |a|, row sum of squares (in order), column sum (in order). */
  cage_memref_f32_1d m, s, c;
  _mlir_ciface_rowmax_dyn(&m, &A);
  _mlir_ciface_rowsumsq_dyn(&s, &A);
  _mlir_ciface_colsum_dyn(&c, &A);
  ok = m.sizes[0] == rows && s.sizes[0] == rows && c.sizes[0] == cols;
  for (int64_t i = 0; ok && i < rows; ++i) {
    float mx = 0.0f, sq = 0.0f;
    for (int64_t j = 0; j < cols; ++j) {
      float x = a[i * cols + j];
      mx = fmaxf(fabsf(x), mx);
      sq = sq + x * x;
    }
    ok = m.aligned[m.offset + i * m.strides[0]] == mx &&
         memcmp(&s.aligned[s.offset + i * s.strides[0]], &sq, 4) == 0;
  }
  check(ok, "rowmax/rowsumsq", rows, cols);
  ok = c.sizes[0] == cols;
  for (int64_t j = 0; ok && j < cols; ++j) {
    float sum = 0.0f;
    for (int64_t i = 0; i < rows; ++i)
      sum = sum + a[i * cols + j];
    ok = memcmp(&c.aligned[c.offset + j * c.strides[0]], &sum, 4) == 0;
  }
  check(ok, "colsum", rows, cols);
  free(m.allocated);
  free(s.allocated);
  free(c.allocated);

  /* identity returns a copy the caller owns, never the argument. */
  cage_memref_f32_2d id;
  _mlir_ciface_identity(&id, &A);
  ok = id.allocated != a && id.sizes[0] == rows && id.sizes[1] == cols;
  for (int64_t i = 0; ok && i < rows; ++i)
    for (int64_t j = 0; ok && j < cols; ++j)
      ok = id.aligned[id.offset + i * id.strides[0] + j * id.strides[1]] ==
           a[i * cols + j];
  check(ok, "identity", rows, cols);
  free(id.allocated);

  /* Rank 1 over all elements, rank 3 as rows x 1 x cols. */
  cage_memref_f32_1d flat = {a, a, 0, {(int64_t)n}, {1}}, f1;
  _mlir_ciface_ew_1d(&f1, &flat);
  ok = f1.sizes[0] == (int64_t)n;
  for (size_t i = 0; ok && i < n; ++i)
    ok = f1.aligned[f1.offset + (int64_t)i] == a[i] * 2.0f + 1.0f;
  check(ok, "ew_1d", rows, cols);
  free(f1.allocated);
  cage_memref_f32_3d cube = {a, a, 0, {rows, 1, cols}, {cols, cols, 1}}, c3;
  _mlir_ciface_ew_3d(&c3, &cube);
  ok = c3.sizes[0] == rows && c3.sizes[1] == 1 && c3.sizes[2] == cols;
  for (size_t i = 0; ok && i < n; ++i)
    ok = c3.aligned[c3.offset + (int64_t)i] == a[i] * 2.0f + 1.0f;
  check(ok, "ew_3d", rows, cols);
  free(c3.allocated);

  free(a);
  free(b);
}

static void testScalars(void) {
  float t0 = 3.25f;
  int32_t k[5] = {1, -2, 3, 40000, -7};
  bool mask[5] = {true, false, true, true, false};
  cage_memref_f32_0d t = {&t0, &t0, 0};
  cage_memref_i32_1d kd = {k, k, 0, {5}, {1}};
  cage_memref_i1_1d md = {mask, mask, 0, {5}, {1}};
  cage_scalars_results r;
  _mlir_ciface_scalars(&r, 1.5f, 41, &t, &kd, &md, 0.5);
  int ok = r.r0 == 3.0f && r.r1 == 42 && r.r2.aligned[r.r2.offset] == 6.5f &&
           r.r5 == 0.25 && r.r3.sizes[0] == 5 && r.r4.sizes[0] == 5;
  for (int i = 0; ok && i < 5; ++i)
    ok = r.r3.aligned[r.r3.offset + i] == k[i] * k[i] &&
         r.r4.aligned[r.r4.offset + i] == !mask[i];
  check(ok, "scalars", 0, 0);
  free(r.r2.allocated);
  free(r.r3.allocated);
  free(r.r4.allocated);

  /* Two results may share one buffer: free it once. */
  float v[3] = {1.0f, 2.0f, 3.0f};
  cage_memref_f32_1d vd = {v, v, 0, {3}, {1}};
  cage_twice_results tw;
  _mlir_ciface_twice(&tw, &vd);
  ok = tw.r0.aligned[tw.r0.offset + 2] == 6.0f &&
       tw.r1.aligned[tw.r1.offset + 2] == 6.0f && v[2] == 3.0f;
  check(ok, "twice", 0, 0);
  free(tw.r0.allocated);
  if (tw.r1.allocated != tw.r0.allocated)
    free(tw.r1.allocated);
}

int main(void) {
  static const int64_t shapes[][2] = {{1, 1},    {1, 7},  {7, 1},
                                      {3, 16},   {5, 17}, {33, 129},
                                      {2, 1000}, {0, 5},  {300, 64}};
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; ++i)
    testShape(shapes[i][0], shapes[i][1]);
  testScalars();
  puts(failures ? "FAILED" : "all kernels agree");
  return failures != 0;
}
