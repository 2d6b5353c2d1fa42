# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %cage_src/examples/linear_train_step.mlir %t | FileCheck %s
# The same bytes as cage-compile --target=cuda --emit=ptx.
# RUN: cage-compile --target=cuda --emit=ptx --chip=sm_90 %cage_src/examples/linear_train_step.mlir -o %t/cage-compile.ptx
# RUN: cmp %t/python.ptx %t/cage-compile.ptx
# REQUIRES: libdevice
# UNSUPPORTED: sanitizers
"""Module.export_ptx: the PTX of a module's kernels for an NVIDIA chip, as
cage-compile --target=cuda --emit=ptx writes it, without a GPU; its errors
as CompileError."""

import os
import sys

import cage

source_path, out = sys.argv[1], sys.argv[2]
with open(source_path) as f:
    module = cage.compile(f.read(), filename="linear_train_step.mlir")

ptx = module.export_ptx(os.path.join(out, "python.ptx"), chip="sm_90")
with open(os.path.join(out, "python.ptx")) as f:
    print("returned = written:", f.read() == ptx)
print(ptx.splitlines()[4], ptx.splitlines()[5])
print("kernels:", ptx.count(".visible .entry"))
# CHECK: returned = written: True
# CHECK-NEXT: .version 7.8 .target sm_90
# CHECK-NEXT: kernels: {{[1-9][0-9]*}}

# The default chip.
print(module.export_ptx().splitlines()[5])
# CHECK-NEXT: .target sm_80


def error(call):
    try:
        call()
    except (cage.CompileError, TypeError) as e:
        print(type(e).__name__ + ":", e)


error(lambda: module.export_ptx(chip="sm_61"))
# CHECK-NEXT: CompileError: cannot build the GPU pipeline: cage-gpu-pipeline: unsupported chip 'sm_61'
error(lambda: module.export_ptx(toolkit=os.path.join(out, "no-toolkit")))
# CHECK-NEXT: CompileError: cannot build the GPU pipeline: cage-gpu-pipeline: no libdevice at {{.*}}no-toolkit/nvvm/libdevice/libdevice.10.bc
error(lambda: module.export_ptx(chip=80))
# CHECK-NEXT: TypeError: chip must be a str such as 'sm_80', not int
scalar = cage.compile("func.func @f(%x: f32) -> f32 {\n  return %x : f32\n}\n",
                      filename="scalar.mlir")
error(lambda: scalar.export_ptx(os.path.join(out, "scalar.ptx")))
print("no file:", not os.path.exists(os.path.join(out, "scalar.ptx")))
# CHECK-NEXT: CompileError: scalar.mlir: error: cage: no GPU kernels: nothing in this module runs on the GPU
# CHECK-NEXT: no file: True
