// RUN: cage-reference-hadamard-test 2>&1 | FileCheck %s

/*===- hadamard.c - The blockwise Hadamard rotation -----------------------===*\
|*                                                                            *|
|* docs/Semantics.md §1.1, "Rotation": x * H_B along the innermost          *|
|* dimension, H[i][j] = (-1)^popcount(i & j) / sqrt(B), by the fast         *|
|* Walsh-Hadamard transform of Reference.h.                                  *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "RefTest.h"

#include <math.h>

static int popcount(unsigned v) {
  int count = 0;
  for (; v; v >>= 1)
    count += (int)(v & 1u);
  return count;
}

int main(void) {
  printf("hadamard 4\n");
  /* H_4 = 1/2 [[1 1 1 1] [1 -1 1 -1] [1 1 -1 -1] [1 -1 -1 1]]:
   * [1 2 3 4] H = [10 -2 -4 0] / 2 = [5 -1 -2 0]. */
  {
    const int64_t dims[1] = {4};
    const float x[4] = {1, 2, 3, 4};
    float y[4], back[4];
    if (expectOk("hadamard", cageRefHadamard(1, dims, 4, x, y)))
      printFloats("x H", y, 4);
    /* H is its own inverse; with B = 4 every step is exact. */
    if (expectOk("hadamard", cageRefHadamard(1, dims, 4, y, back)))
      printFloats("x H H", back, 4);
  }
  // CHECK-LABEL: hadamard 4
  // CHECK-NEXT: x H: 5 -1 -2 0
  // CHECK-NEXT: x H H: 1 2 3 4

  printf("hadamard blocks\n");
  /* Rank 2, two rows of 4, block 2: each pair (a, b) becomes
   * ((a + b), (a - b)) / sqrt(2), with 1/sqrt(2) = 0.70710677f. */
  {
    const int64_t dims[2] = {2, 4};
    const float x[8] = {1, 2, 3, 4, -1, 1, 0.5f, 0.5f};
    float y[8];
    if (expectOk("hadamard", cageRefHadamard(2, dims, 2, x, y)))
      printFloats("blocks of 2", y, 8);
  }
  // CHECK-LABEL: hadamard blocks
  // 3/sqrt2 -1/sqrt2 7/sqrt2 -1/sqrt2 0 -2/sqrt2 1/sqrt2 0
  // CHECK-NEXT: blocks of 2: 2.12132 -0.707107 4.94975 -0.707107 0 -1.41421
  // CHECK-SAME: 0.707107 0

  printf("hadamard matrix\n");
  /* B = 8 against the matrix definition, in double: the FWHT in f32 is
   * within a few ulp of it; and in-place use (y aliasing x) works. */
  {
    const int64_t dims[2] = {3, 16};
    float x[48], y[48];
    for (int i = 0; i < 48; ++i)
      x[i] = (float)sin(1.7 * i + 0.3) * 3.0f;
    double worst = 0.0;
    if (expectOk("hadamard", cageRefHadamard(2, dims, 8, x, y))) {
      for (int start = 0; start < 48; start += 8) {
        for (int j = 0; j < 8; ++j) {
          double sum = 0.0;
          for (int i = 0; i < 8; ++i)
            sum += (double)x[start + i] *
                   (popcount((unsigned)(i & j)) % 2 ? -1.0 : 1.0);
          sum /= sqrt(8.0);
          double error = fabs(sum - (double)y[start + j]);
          worst = error > worst ? error : worst;
        }
      }
    }
    printf("max |fwht - matrix| below 1e-5: %s\n", worst < 1e-5 ? "yes" : "no");
    float inPlace[48];
    for (int i = 0; i < 48; ++i)
      inPlace[i] = x[i];
    cageRefHadamard(2, dims, 8, inPlace, inPlace);
    int same = 1;
    for (int i = 0; i < 48; ++i)
      same = same && inPlace[i] == y[i];
    printf("in place: %s\n", same ? "same" : "different");
  }
  // CHECK-LABEL: hadamard matrix
  // CHECK-NEXT: max |fwht - matrix| below 1e-5: yes
  // CHECK-NEXT: in place: same

  printf("hadamard invalid\n");
  {
    const int64_t dims[1] = {12};
    float x[12] = {0}, y[12];
    /* block 1, block 3 (not a power of two), block 8 (does not divide 12) */
    printf("block 1: %d, block 3: %d, block 8: %d, block 4: %d\n",
           cageRefHadamard(1, dims, 1, x, y), cageRefHadamard(1, dims, 3, x, y),
           cageRefHadamard(1, dims, 8, x, y),
           cageRefHadamard(1, dims, 4, x, y));
  }
  // CHECK-LABEL: hadamard invalid
  // CHECK-NEXT: block 1: 4, block 3: 4, block 8: 4, block 4: 0
  return 0;
}
