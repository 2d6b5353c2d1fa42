# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# REQUIRES: numpy
# UNSUPPORTED: sanitizers
"""bf16 and f16 from Python. numpy has no bf16 (without ml_dtypes): a bf16
tensor travels as a uint16 array of its bit patterns, in and out, as
through cage-run; f16 as float16. Conversions against numpy bit for bit,
and a CAGE-AdamW step with bf16 optimizer state (stochastic rounding keyed
by a seed) against the same step run by cage-run on .npy files."""

import os
import subprocess
import sys

import numpy as np

import cage

CONVERT = """
func.func @widen(%x: tensor<?xbf16>) -> tensor<?xf32> {
  %r = arith.extf %x : tensor<?xbf16> to tensor<?xf32>
  return %r : tensor<?xf32>
}
func.func @narrow(%x: tensor<?xf32>) -> tensor<?xbf16> {
  %r = arith.truncf %x : tensor<?xf32> to tensor<?xbf16>
  return %r : tensor<?xbf16>
}
func.func @half(%x: tensor<?xf16>, %s: f16) -> (tensor<?xf32>, f16) {
  %r = arith.extf %x : tensor<?xf16> to tensor<?xf32>
  %d = arith.addf %s, %s : f16
  return %r, %d : tensor<?xf32>, f16
}
"""

STEP = """
func.func @step(%w: tensor<7x129xf32>, %g: tensor<7x129xf32>,
                %m: tensor<7x129xbf16>, %v: tensor<7x129xbf16>,
                %lr: f32, %l: f32, %t: i64, %s: i64)
    -> (tensor<7x129xf32>, tensor<7x129xbf16>, tensor<7x129xbf16>) {
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t seed(%s)
      {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>}
      : tensor<7x129xf32>, tensor<7x129xbf16>
  return %w1, %m1, %v1 : tensor<7x129xf32>, tensor<7x129xbf16>, tensor<7x129xbf16>
}
"""

rng = np.random.default_rng(3)
f32 = np.float32


def bf16_round(x):
    """f32 -> bf16 bits, rounding to nearest even (finite inputs)."""
    b = x.view(np.uint32).astype(np.uint64)
    return ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16)


convert = cage.compile(CONVERT, filename="convert.mlir")
print([v.dtype.name for v in convert.widen.arguments + convert.narrow.results])
# CHECK: ['uint16', 'uint16']
x = rng.standard_normal(1000).astype(f32) * f32(100)
bits = bf16_round(x)
wide = convert.widen(bits)
print("widen:", wide.dtype, np.array_equal(wide.view(np.uint32), bits.astype(np.uint32) << 16))
# CHECK: widen: float32 True
narrow = convert.narrow(x)
print("narrow:", narrow.dtype, np.array_equal(narrow, bits))
# CHECK: narrow: uint16 True
# Special values, the same bits on every machine (cage-cpu-expand-bf16):
# overflow to infinity, denormals rounded (not flushed), NaNs quiet with
# their sign and the top of their payload.
special_bits = np.array([0x7F800000, 0xFF800000, 0x7F7FFFFF, 0x00000001,
                         0x80008000, 0x00018000, 0x7FC00000, 0xFFC00000,
                         0x7F800001, 0x7FA00000, 0x3F808000, 0x3F818000],
                        dtype=np.uint32)
expected = [0x7F80, 0xFF80, 0x7F80, 0x0000, 0x8000, 0x0002, 0x7FC0, 0xFFC0,
            0x7FC0, 0x7FE0, 0x3F80, 0x3F82]
got = convert.narrow(special_bits.view(f32))
print("special:", [hex(int(b)) for b in got] == [hex(b) for b in expected])
# CHECK: special: True
try:
    convert.widen(x)
except TypeError as e:
    print("TypeError:", e)
# CHECK: TypeError: argument 0 of 'widen' (tensor<?xbf16>) needs dtype uint16 (bf16 as its bit patterns), not float32
# bf16 arithmetic: each op in f32, its result rounded to bf16.
ARITH = """
func.func @arith(%a: tensor<37xbf16>, %b: tensor<37xbf16>) -> tensor<37xbf16> {
  %c = arith.addf %a, %b : tensor<37xbf16>
  %k = arith.constant dense<1.5> : tensor<37xbf16>
  %d = arith.mulf %c, %k : tensor<37xbf16>
  return %d : tensor<37xbf16>
}
"""
a16 = bf16_round(rng.standard_normal(37).astype(f32))
b16 = bf16_round(rng.standard_normal(37).astype(f32))
widen = lambda u: (u.astype(np.uint32) << 16).view(f32)
want = bf16_round(widen(bf16_round(widen(a16) + widen(b16))) * f32(1.5))
print("arith:", np.array_equal(cage.compile(ARITH).arith(a16, b16), want))
# CHECK: arith: True
h = rng.standard_normal(33).astype(np.float16)
r, d = convert.half(h, 1.5)
print("half:", np.array_equal(r, h.astype(f32)), repr(d))
# CHECK: half: True 3.0

# The bf16 step through cage.compile and through cage-run, same inputs:
# the same bits (the rounding depends only on the seed and the index).
directory = sys.argv[1]
step = cage.compile(STEP, filename="step.mlir")
w = rng.uniform(-1, 1, (7, 129)).astype(f32)
g = (0.1 * rng.standard_normal((7, 129))).astype(f32)
m = bf16_round((0.01 * rng.standard_normal((7, 129))).astype(f32))
v = bf16_round(rng.uniform(0, 1e-3, (7, 129)).astype(f32))
scalars = [f32(0.01), f32(0.5), np.int64(3), np.int64(12345)]
w1, m1, v1 = step.step(w, g, m, v, *scalars)
print("dtypes:", w1.dtype, m1.dtype, v1.dtype, "changed:", not np.array_equal(m1, m))
# CHECK: dtypes: float32 uint16 uint16 changed: True

files = []
for i, a in enumerate([w, g, m, v] + [np.array(s) for s in scalars]):
    files += ["--in", os.path.join(directory, f"in{i}.npy")]
    np.save(files[-1], a)
with open(os.path.join(directory, "step.mlir"), "w") as f:
    f.write(STEP)
outs = [os.path.join(directory, f"out{i}.npy") for i in range(3)]
subprocess.run(["cage-run", os.path.join(directory, "step.mlir")] + files
               + [a for o in outs for a in ("--out", o)], check=True)
same = [np.load(o).tobytes() == r.tobytes() for o, r in zip(outs, (w1, m1, v1))]
print("same as cage-run:", same)
# CHECK: same as cage-run: [True, True, True]
