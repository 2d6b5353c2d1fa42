/*===- mlp_train.c - Train the MLP of mlp_train_step.mlir, ahead of time
---===*\
|*                                                                            *|
|* Drives the training step that cage-compile made from                      *|
|* examples/mlp_train_step.mlir: a synthetic 4-class problem (Gaussian       *|
|* clusters in 16 dimensions, 256 samples in 4 batches of 64), 200 steps of  *|
|* W4A4 CAGE-AdamW from a fixed seed, the loss printed as it falls.          *|
|*                                                                            *|
|*   cage-compile examples/mlp_train_step.mlir -o step.o --header step.h      *|
|*   cc -std=c11 -I. examples/mlp_train.c step.o -lm -lomp -o mlp_train       *|
|*   ./mlp_train [--steps N] [--max-final-loss L]                             *|
|*                                                                            *|
|* With --max-final-loss the program fails unless the mean loss of the last  *|
|* epoch (4 steps) is below L; the test suite uses it.                        *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "mlp_train_step.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kBatch = 64, kIn = 16, kHidden = 32, kClasses = 4, kBatches = 4 };
enum { kSamples = kBatch * kBatches };

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

static cage_memref_f32_2d view(float *data, int64_t rows, int64_t cols) {
  cage_memref_f32_2d m = {data, data, 0, {rows, cols}, {cols, 1}};
  return m;
}

/* A tensor owned by the driver or returned by the step (then malloc'ed by
 * the compiled code, and freed here when replaced). */
typedef struct Param {
  cage_memref_f32_2d value;
  bool owned;
} Param;

static void replace(Param *p, cage_memref_f32_2d next) {
  if (p->owned)
    free(p->value.allocated);
  p->value = next;
  p->owned = true;
}

static void parseArgs(int argc, char **argv, int *steps, double *maxLoss) {
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) {
      *steps = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--max-final-loss") == 0 && i + 1 < argc) {
      *maxLoss = atof(argv[++i]);
    } else {
      fprintf(stderr, "usage: %s [--steps N] [--max-final-loss L]\n", argv[0]);
      exit(2);
    }
  }
  if (*steps < kBatches) {
    fprintf(stderr, "--steps must be at least %d\n", kBatches);
    exit(2);
  }
}

int main(int argc, char **argv) {
  int steps = 200;
  double maxLoss = -1.0;
  parseArgs(argc, argv, &steps, &maxLoss);

  /* Data: a cluster centre per class, samples around it, one-hot labels. */
  static float centres[kClasses][kIn], x[kSamples][kIn], y[kSamples][kClasses];
  for (int c = 0; c < kClasses; ++c)
    for (int j = 0; j < kIn; ++j)
      centres[c][j] = gaussian();
  for (int s = 0; s < kSamples; ++s) {
    int label = s % kClasses;
    for (int j = 0; j < kIn; ++j)
      x[s][j] = centres[label][j] + 3.0f * gaussian();
    y[s][label] = 1.0f;
  }

  /* Weights: scaled Gaussians; AdamW moments at zero. */
  static float w1[kHidden * kIn], w2[kClasses * kHidden];
  static float zeros1[3][kHidden * kIn], zeros2[3][kClasses * kHidden];
  for (int i = 0; i < kHidden * kIn; ++i)
    w1[i] = gaussian() / sqrtf((float)kIn);
  for (int i = 0; i < kClasses * kHidden; ++i)
    w2[i] = gaussian() / sqrtf((float)kHidden);
  Param params[6] = {{view(w1, kHidden, kIn), false},
                     {view(zeros1[0], kHidden, kIn), false},
                     {view(zeros1[1], kHidden, kIn), false},
                     {view(w2, kClasses, kHidden), false},
                     {view(zeros2[0], kClasses, kHidden), false},
                     {view(zeros2[1], kClasses, kHidden), false}};

  const float lr = 0.01f;
  double epochLoss = 0.0, lastEpochLoss = 0.0;
  for (int step = 0; step < steps; ++step) {
    int batch = step % kBatches;
    cage_memref_f32_2d xb = view(x[batch * kBatch], kBatch, kIn);
    cage_memref_f32_2d yb = view(y[batch * kBatch], kBatch, kClasses);
    cage_train_step_results r;
    _mlir_ciface_train_step(&r, &xb, &yb, &params[0].value, &params[1].value,
                            &params[2].value, &params[3].value,
                            &params[4].value, &params[5].value, step + 1, steps,
                            lr);
    cage_memref_f32_2d next[6] = {r.r1, r.r2, r.r3, r.r4, r.r5, r.r6};
    for (int i = 0; i < 6; ++i)
      replace(&params[i], next[i]);

    epochLoss += r.r0;
    if (batch == kBatches - 1) {
      lastEpochLoss = epochLoss / kBatches;
      epochLoss = 0.0;
    }
    if ((step + 1) % 10 == 0 || step == 0)
      printf("step %3d  loss %.4f\n", step + 1, r.r0);
  }
  for (int i = 0; i < 6; ++i)
    if (params[i].owned)
      free(params[i].value.allocated);

  printf("final loss (mean of the last epoch) %.4f\n", lastEpochLoss);
  if (maxLoss >= 0.0) {
    bool ok = lastEpochLoss < maxLoss;
    printf("%s: final loss %s %.4f\n", ok ? "ok" : "FAILED",
           ok ? "below" : "not below", maxLoss);
    return ok ? 0 : 1;
  }
  return 0;
}
