// RUN: cage-reference-schedule-test 2>&1 | FileCheck %s

/*===- schedule.c - The lambda schedule -----------------------------------===*\
|*                                                                            *|
|* docs/Semantics.md §1.3: r = min(f32(t) / f32(T), 1); lambda_t = 0 if      *|
|* r <= s, else (lambda (r - s)) / (1 - s) (linear_ramp) or lambda.          *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "RefTest.h"

static void schedule(CageScheduleKind kind, float lambda, float silence,
                     int64_t total, const int64_t *steps, int count) {
  printf("%s lambda %g s %g T %lld:",
         kind == CageScheduleKindLinearRamp ? "linear_ramp" : "constant",
         (double)lambda, (double)silence, (long long)total);
  for (int k = 0; k < count; ++k) {
    float value = -1;
    int status =
        cageRefLambdaSchedule(kind, lambda, silence, steps[k], total, &value);
    if (status != CageRefOk)
      printf(" (t %lld: status %d)", (long long)steps[k], status);
    else
      printf(" %g", (double)value);
  }
  printf("\n");
}

int main(void) {
  /* s = 0.5, T = 4: r = 0, 0.25, 0.5 (r <= s: still 0), 0.75 -> 10 * 0.25 /
   * 0.5 = 5, 1 -> 10, t = 6 > T: r = min(1.5, 1) = 1 -> 10. */
  const int64_t steps[6] = {0, 1, 2, 3, 4, 6};
  schedule(CageScheduleKindLinearRamp, 10, 0.5f, 4, steps, 6);
  // CHECK: linear_ramp lambda 10 s 0.5 T 4: 0 0 0 5 10 10
  schedule(CageScheduleKindConstant, 3, 0.5f, 4, steps, 6);
  // CHECK: constant lambda 3 s 0.5 T 4: 0 0 0 3 3 3

  /* The paper's defaults: lambda = 10, s = 0.8, T = 100. f32(80) / f32(100)
   * is 0.8f, the same float as s: r <= s, 0. t = 90: 10 (0.9 - 0.8) / 0.2
   * = 5 (up to f32 rounding); t = 100 and t = 1000: 10. */
  const int64_t paper[5] = {79, 80, 90, 100, 1000};
  schedule(CageScheduleKindLinearRamp, 10, 0.8f, 100, paper, 5);
  // CHECK: linear_ramp lambda 10 s 0.8 T 100: 0 0 5 10 10

  /* s = 0: only t <= 0 gives 0. */
  const int64_t early[3] = {-3, 0, 1};
  schedule(CageScheduleKindConstant, 2, 0, 1000, early, 3);
  // CHECK: constant lambda 2 s 0 T 1000: 0 0 2

  /* Invalid: T = 0, s = 1, s < 0, lambda < 0, lambda = inf, kind 2. */
  float value = 0;
  printf(
      "T 0: %d, s 1: %d, s -0.1: %d, lambda -1: %d, inf: %d, kind 2: %d\n",
      cageRefLambdaSchedule(CageScheduleKindConstant, 1, 0.5f, 1, 0, &value),
      cageRefLambdaSchedule(CageScheduleKindConstant, 1, 1.0f, 1, 4, &value),
      cageRefLambdaSchedule(CageScheduleKindConstant, 1, -0.1f, 1, 4, &value),
      cageRefLambdaSchedule(CageScheduleKindConstant, -1, 0.5f, 1, 4, &value),
      cageRefLambdaSchedule(CageScheduleKindConstant, 1.0f / 0.0f, 0.5f, 1, 4,
                            &value),
      cageRefLambdaSchedule((CageScheduleKind)2, 1, 0.5f, 1, 4, &value));
  // CHECK: T 0: 4, s 1: 4, s -0.1: 4, lambda -1: 4, inf: 4, kind 2: 4
  printf("untouched: %g\n", (double)value);
  // CHECK: untouched: 0
  return 0;
}
