"""Uses the installed Python package: where it found libCAGE-C.so, a
compiled function called from Python, and its object and header for C."""

import os
import sys

import numpy as np

import cage

prefix, out = sys.argv[1], sys.argv[2]


def shown(path):
    return os.path.realpath(path).replace(os.path.realpath(prefix), "PREFIX")


print("library:", shown(cage.library_path()))
print("package:", shown(cage.__file__))
module = cage.compile("""
func.func @step(%x: tensor<?xf32>) -> tensor<?xf32> {
  %c = arith.constant 0.5 : f32
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?xf32>
  %h = tensor.splat %c[%n] : tensor<?xf32>
  %r = arith.addf %x, %h : tensor<?xf32>
  return %r : tensor<?xf32>
}
""", filename="step.mlir", threads=False)
print("step:", module.step(np.arange(4, dtype=np.float32)))
module.export(os.path.join(out, "step.o"), os.path.join(out, "step.h"))
with open(os.path.join(out, "app.c"), "w") as f:
    f.write(r"""#include "step.h"
#include <stdio.h>
#include <stdlib.h>
int main(void) {
  float x[4] = {0, 1, 2, 3};
  cage_memref_f32_1d in = {x, x, 0, {4}, {1}}, r;
  _mlir_ciface_step(&r, &in);
  for (int i = 0; i < 4; ++i)
    printf("%g%s", r.aligned[r.offset + i], i < 3 ? " " : "\n");
  free(r.allocated);
  return 0;
}
""")
