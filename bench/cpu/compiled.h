/*===- compiled.h - Steps compiled by cage-compile, loaded with dlopen ----===*\
|*                                                                            *|
|* A step compiled by cage-compile (bench/gen_step.py's in-place entry        *|
|* points) and linked into a shared object, called through its                *|
|* _mlir_ciface_ entry point: a memref descriptor for each of w, g, m, v of   *|
|* every tensor, parameter after parameter, then lr, lambda_t and t; a step   *|
|* with bf16 state (gen_step.py --state bf16) takes bf16 m, v and one more    *|
|* scalar after t, the seed of its stochastic rounding.                       *|
|* Each shared object is opened RTLD_LOCAL, so objects compiled from the      *|
|* same MLIR with different pipelines (same symbol names) live side by        *|
|* side.                                                                      *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_BENCH_COMPILED_H
#define CAGE_BENCH_COMPILED_H

#include "workload.h"

#include <stdbool.h>
#include <stdint.h>

/** The memref descriptor of a rank-2 memref (docs/Tools.md, the AOT ABI):
 * the generated header's cage_memref_f32_2d (float *) or
 * cage_memref_bf16_2d (uint16_t *), whose layouts are the same; the element
 * type is the compiled function's business. */
typedef struct Memref2d {
  void *allocated, *aligned;
  int64_t offset;
  int64_t sizes[2], strides[2];
} Memref2d;

typedef struct CompiledStep {
  void (*function)(void); /* _mlir_ciface_<name>, cast at the call */
  int numTensors;
  bool bf16State;        /* m, v are the bf16 m16, v16; seed after t */
  Memref2d *descriptors; /* 4 per tensor: w, g, m, v */
  Memref2d **arguments;  /* pointers to them, in call order */
} CompiledStep;

/** The tensor counts a compiled step may take (its arity is fixed at
 * compile time of this program). */
bool compiledArityIsSupported(int numTensors);

/** Opens (once per path) the shared object at `path`, finds
 * _mlir_ciface_<name> and binds it to the buffers of wl: w, g, m, v, or
 * with bf16State w, g, m16, v16 (wl must have them). On failure prints why
 * to stderr and returns false. */
bool compiledStepBind(CompiledStep *step, const char *path, const char *name,
                      const Workload *wl, bool bf16State);
void compiledStepRelease(CompiledStep *step);

/** Calls the step on the bound buffers; seed only goes to a bf16-state
 * step. */
void compiledStepRun(const CompiledStep *step, float lr, float lambda,
                     int64_t t, int64_t seed);

#endif /* CAGE_BENCH_COMPILED_H */
