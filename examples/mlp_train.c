/*===- mlp_train.c - Train the MLP of examples/, ahead of time ----*- C -*-===*\
|*                                                                            *|
|* Drives the training steps that cage-compile made from                      *|
|* examples/mlp_train_step.mlir (AdamW state in f32) and                      *|
|* examples/mlp_train_step_bf16.mlir (the same step with the AdamW moments    *|
|* stored in bf16, stochastic rounding): a synthetic 4-class problem          *|
|* (Gaussian clusters in 16 dimensions, 256 samples in 4 batches of 64),      *|
|* 200 steps of W4A4 CAGE-AdamW from a fixed seed, the loss printed as it     *|
|* falls.                                                                     *|
|*                                                                            *|
|*   cage-compile examples/mlp_train_step.mlir -o step.o \                    *|
|*       --header mlp_train_step.h                                            *|
|*   cage-compile examples/mlp_train_step_bf16.mlir -o step_bf16.o \          *|
|*       --header mlp_train_step_bf16.h                                       *|
|*   cc -std=c11 -I. examples/mlp_train.c step.o step_bf16.o -lm -lomp \      *|
|*       -o mlp_train                                                         *|
|*   ./mlp_train [--steps N] [--max-final-loss L] [--state f32|bf16|both]     *|
|*                                                                            *|
|* --state picks the step (f32 by default); with `both` the two train from    *|
|* the same data and initial weights, side by side, and the final losses      *|
|* are compared. With --max-final-loss the program fails unless the mean      *|
|* loss of the last epoch (4 steps) of every run is below L; the test suite   *|
|* uses it.                                                                   *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "mlp_train_step.h"
#include "mlp_train_step_bf16.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kBatch = 64, kIn = 16, kHidden = 32, kClasses = 4, kBatches = 4 };
enum { kSamples = kBatch * kBatches };
enum { kNumW1 = kHidden * kIn, kNumW2 = kClasses * kHidden };

/* A small deterministic generator, so that every run sees the same data. */
static uint64_t rngState = 0x9E3779B97F4A7C15ull;

static double uniform(void) {
  rngState = rngState * 6364136223846793005ull + 1442695040888963407ull;
  return ((rngState >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static float gaussian(void) {
  return (float)(sqrt(-2.0 * log(uniform())) *
                 cos(6.283185307179586 * uniform()));
}

/* The data set and the initial weights, made once, so that every run starts
 * from the same point. */
typedef struct Problem {
  float x[kSamples][kIn], y[kSamples][kClasses];
  float w1[kNumW1], w2[kNumW2];
} Problem;

static void makeProblem(Problem *p) {
  /* A cluster centre per class, samples around it, one-hot labels. */
  float centres[kClasses][kIn];
  for (int c = 0; c < kClasses; ++c)
    for (int j = 0; j < kIn; ++j)
      centres[c][j] = gaussian();
  memset(p->y, 0, sizeof p->y);
  for (int s = 0; s < kSamples; ++s) {
    int label = s % kClasses;
    for (int j = 0; j < kIn; ++j)
      p->x[s][j] = centres[label][j] + 3.0f * gaussian();
    p->y[s][label] = 1.0f;
  }
  /* Weights: scaled Gaussians. */
  for (int i = 0; i < kNumW1; ++i)
    p->w1[i] = gaussian() / sqrtf((float)kIn);
  for (int i = 0; i < kNumW2; ++i)
    p->w2[i] = gaussian() / sqrtf((float)kHidden);
}

/* The AdamW moments at zero: +0.0 in f32 and in bf16 (bits 0). Tensor
 * arguments are only read, so every zero state can share them. */
static float zerosF32[kNumW1];
static uint16_t zerosBf16[kNumW1];

static cage_memref_f32_2d viewF32(float *data, int64_t rows, int64_t cols) {
  cage_memref_f32_2d m = {data, data, 0, {rows, cols}, {cols, 1}};
  return m;
}

static cage_memref_bf16_2d viewBf16(uint16_t *data, int64_t rows,
                                    int64_t cols) {
  cage_memref_bf16_2d m = {data, data, 0, {rows, cols}, {cols, 1}};
  return m;
}

/* A tensor owned by the driver or returned by the step (then malloc'ed by
 * the compiled code, and freed here when replaced). */
typedef struct F32Tensor {
  cage_memref_f32_2d value;
  bool owned;
} F32Tensor;

typedef struct Bf16Tensor {
  cage_memref_bf16_2d value;
  bool owned;
} Bf16Tensor;

static void releaseF32(F32Tensor *t) {
  if (t->owned)
    free(t->value.allocated);
  t->owned = false;
}

static void releaseBf16(Bf16Tensor *t) {
  if (t->owned)
    free(t->value.allocated);
  t->owned = false;
}

static void replaceF32(F32Tensor *t, cage_memref_f32_2d next) {
  releaseF32(t);
  t->value = next;
  t->owned = true;
}

static void replaceBf16(Bf16Tensor *t, cage_memref_bf16_2d next) {
  releaseBf16(t);
  t->value = next;
  t->owned = true;
}

typedef enum StateKind { kStateF32, kStateBf16 } StateKind;

static const char *stateName(StateKind kind) {
  return kind == kStateF32 ? "f32" : "bf16";
}

/* The weights and the AdamW state (m1, v1, m2, v2) of one run; the state
 * lives in f32 or bf16 tensors according to `kind`. */
typedef struct Run {
  StateKind kind;
  F32Tensor w1, w2;
  F32Tensor stateF32[4];
  Bf16Tensor stateBf16[4];
  double epochLoss, lastEpochLoss;
} Run;

static void startRun(Run *run, StateKind kind, Problem *p) {
  memset(run, 0, sizeof *run);
  run->kind = kind;
  run->w1.value = viewF32(p->w1, kHidden, kIn);
  run->w2.value = viewF32(p->w2, kClasses, kHidden);
  for (int i = 0; i < 4; ++i) {
    int64_t rows = i < 2 ? kHidden : kClasses, cols = i < 2 ? kIn : kHidden;
    run->stateF32[i].value = viewF32(zerosF32, rows, cols);
    run->stateBf16[i].value = viewBf16(zerosBf16, rows, cols);
  }
}

static void endRun(Run *run) {
  releaseF32(&run->w1);
  releaseF32(&run->w2);
  for (int i = 0; i < 4; ++i) {
    releaseF32(&run->stateF32[i]);
    releaseBf16(&run->stateBf16[i]);
  }
}

/* One training step (0-based `step` of `steps`) on its batch; returns the
 * loss of the weights before the step and keeps the epoch means. */
static float stepRun(Run *run, Problem *p, int step, int steps, float lr) {
  int batch = step % kBatches;
  cage_memref_f32_2d xb = viewF32(p->x[batch * kBatch], kBatch, kIn);
  cage_memref_f32_2d yb = viewF32(p->y[batch * kBatch], kBatch, kClasses);
  float loss;
  if (run->kind == kStateF32) {
    F32Tensor *s = run->stateF32;
    cage_train_step_results r;
    _mlir_ciface_train_step(&r, &xb, &yb, &run->w1.value, &s[0].value,
                            &s[1].value, &run->w2.value, &s[2].value,
                            &s[3].value, step + 1, steps, lr);
    replaceF32(&run->w1, r.r1);
    replaceF32(&s[0], r.r2);
    replaceF32(&s[1], r.r3);
    replaceF32(&run->w2, r.r4);
    replaceF32(&s[2], r.r5);
    replaceF32(&s[3], r.r6);
    loss = r.r0;
  } else {
    Bf16Tensor *s = run->stateBf16;
    cage_train_step_bf16_results r;
    _mlir_ciface_train_step_bf16(&r, &xb, &yb, &run->w1.value, &s[0].value,
                                 &s[1].value, &run->w2.value, &s[2].value,
                                 &s[3].value, step + 1, steps, lr);
    replaceF32(&run->w1, r.r1);
    replaceBf16(&s[0], r.r2);
    replaceBf16(&s[1], r.r3);
    replaceF32(&run->w2, r.r4);
    replaceBf16(&s[2], r.r5);
    replaceBf16(&s[3], r.r6);
    loss = r.r0;
  }
  run->epochLoss += loss;
  if (batch == kBatches - 1) {
    run->lastEpochLoss = run->epochLoss / kBatches;
    run->epochLoss = 0.0;
  }
  return loss;
}

typedef struct Options {
  int steps;
  double maxLoss;
  int numRuns;
  StateKind kinds[2];
} Options;

static void usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s [--steps N] [--max-final-loss L] "
          "[--state f32|bf16|both]\n",
          argv0);
  exit(2);
}

static Options parseArgs(int argc, char **argv) {
  Options o = {200, -1.0, 1, {kStateF32, kStateBf16}};
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) {
      o.steps = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--max-final-loss") == 0 && i + 1 < argc) {
      o.maxLoss = atof(argv[++i]);
    } else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc) {
      const char *s = argv[++i];
      if (strcmp(s, "f32") == 0) {
        o.numRuns = 1;
        o.kinds[0] = kStateF32;
      } else if (strcmp(s, "bf16") == 0) {
        o.numRuns = 1;
        o.kinds[0] = kStateBf16;
      } else if (strcmp(s, "both") == 0) {
        o.numRuns = 2;
        o.kinds[0] = kStateF32;
        o.kinds[1] = kStateBf16;
      } else {
        usage(argv[0]);
      }
    } else {
      usage(argv[0]);
    }
  }
  if (o.steps < kBatches) {
    fprintf(stderr, "--steps must be at least %d\n", kBatches);
    exit(2);
  }
  return o;
}

int main(int argc, char **argv) {
  Options o = parseArgs(argc, argv);
  static Problem problem;
  makeProblem(&problem);

  Run runs[2];
  for (int k = 0; k < o.numRuns; ++k)
    startRun(&runs[k], o.kinds[k], &problem);
  printf("AdamW state: %s\n",
         o.numRuns == 1 ? stateName(o.kinds[0])
                        : "f32 and bf16, from the same data and weights");

  const float lr = 0.01f;
  for (int step = 0; step < o.steps; ++step) {
    float loss[2];
    for (int k = 0; k < o.numRuns; ++k)
      loss[k] = stepRun(&runs[k], &problem, step, o.steps, lr);
    if ((step + 1) % 10 != 0 && step != 0)
      continue;
    if (o.numRuns == 1)
      printf("step %3d  loss %.4f\n", step + 1, loss[0]);
    else
      printf("step %3d  loss f32 %.4f  bf16 %.4f\n", step + 1, loss[0],
             loss[1]);
  }

  bool ok = true;
  for (int k = 0; k < o.numRuns; ++k) {
    double final = runs[k].lastEpochLoss;
    if (o.numRuns == 1)
      printf("final loss (mean of the last epoch) %.4f\n", final);
    else
      printf("final loss (mean of the last epoch) %.4f (%s state)\n", final,
             stateName(runs[k].kind));
    ok = ok && final < o.maxLoss;
    endRun(&runs[k]);
  }
  if (o.numRuns == 2)
    printf("final loss ratio bf16 / f32 %.3f\n",
           runs[1].lastEpochLoss / runs[0].lastEpochLoss);
  if (o.maxLoss >= 0.0) {
    printf("%s: final loss %s %.4f\n", ok ? "ok" : "FAILED",
           ok ? "below" : "not below", o.maxLoss);
    return ok ? 0 : 1;
  }
  return 0;
}
