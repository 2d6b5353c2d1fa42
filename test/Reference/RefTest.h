/*===- RefTest.h - Printing helpers for the reference tests -------*- C -*-===*\
|*                                                                            *|
|* The C tests of lib/Reference print what they compute and FileCheck        *|
|* compares it with values worked out by hand in the CHECK lines.            *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_TEST_REFERENCE_REFTEST_H
#define CAGE_TEST_REFERENCE_REFTEST_H

#include "Reference/Reference.h"

#include <stdint.h>
#include <stdio.h>

/* "label: v0 v1 ..." with %g (six significant digits, -0 printed as -0). */
static inline void printFloats(const char *label, const float *x, int64_t n) {
  printf("%s:", label);
  for (int64_t i = 0; i < n; ++i)
    printf(" %g", (double)x[i]);
  printf("\n");
}

/* "label: m0 m1 ..." for a mask. */
static inline void printMask(const char *label, const unsigned char *m,
                             int64_t n) {
  printf("%s:", label);
  for (int64_t i = 0; i < n; ++i)
    printf(" %d", (int)m[i]);
  printf("\n");
}

/* Prints "label: status N (text)" when a call fails, so that a CHECK on the
 * values that follow fails loudly rather than reading stale memory. */
static inline int expectOk(const char *label, int status) {
  if (status != CageRefOk)
    printf("%s: status %d (%s)\n", label, status, cageRefStatusString(status));
  return status == CageRefOk;
}

/* A quantizer with the defaults of #cage.quantizer<> and the given bits. */
static inline CageRefQuantizer quantizerWithBits(int64_t bits) {
  CageRefQuantizer q = cageRefQuantizerDefault();
  q.bits = bits;
  return q;
}

#endif /* CAGE_TEST_REFERENCE_REFTEST_H */
