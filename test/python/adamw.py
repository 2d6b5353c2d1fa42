# RUN: %python %s %S/../Reference/Inputs | FileCheck %s
# REQUIRES: numpy
# UNSUPPORTED: sanitizers
"""cage.adamw from Python, bit for bit against the numpy reference
(test/Reference/Inputs/numpy_reference.py, `adamw`): as a function on
tensors (new w, m, v returned) and as an in-place entry point on memrefs
(docs/Tools.md, "In-place updates": the arrays passed are updated where
they are, without a copy); three steps each. A step with t = 0 fails the
op's run-time check: RuntimeCheckError naming the op, and nothing written."""

import sys

import numpy as np

sys.path.insert(0, sys.argv[1])
import numpy_reference as nr  # noqa: E402

import cage  # noqa: E402

OPT = dict(beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1)
ATTRS = "{beta1 = 0.9 : f32, beta2 = 0.95 : f32, eps = 1.0e-08 : f32, weight_decay = 0.1 : f32}"

TENSORS = f"""
func.func @step(%w: tensor<?x?xf32>, %g: tensor<?x?xf32>, %m: tensor<?x?xf32>,
                %v: tensor<?x?xf32>, %lr: f32, %t: i64)
    -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) {{
  %w1, %m1, %v1 = cage.adamw %w, %g, %m, %v, %lr, %t {ATTRS} : tensor<?x?xf32>
  return %w1, %m1, %v1 : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
}}
"""

IN_PLACE = f"""
func.func @step(%w: memref<?xf32>, %g: memref<?xf32>, %m: memref<?xf32>,
                %v: memref<?xf32>, %lr: f32, %t: i64) {{
  %wt = bufferization.to_tensor %w restrict writable : memref<?xf32> to tensor<?xf32>
  %gt = bufferization.to_tensor %g restrict : memref<?xf32> to tensor<?xf32>
  %mt = bufferization.to_tensor %m restrict writable : memref<?xf32> to tensor<?xf32>
  %vt = bufferization.to_tensor %v restrict writable : memref<?xf32> to tensor<?xf32>
  %w1, %m1, %v1 = cage.adamw %wt, %gt, %mt, %vt, %lr, %t {ATTRS} : tensor<?xf32>
  bufferization.materialize_in_destination %w1 in restrict writable %w
      : (tensor<?xf32>, memref<?xf32>) -> ()
  bufferization.materialize_in_destination %m1 in restrict writable %m
      : (tensor<?xf32>, memref<?xf32>) -> ()
  bufferization.materialize_in_destination %v1 in restrict writable %v
      : (tensor<?xf32>, memref<?xf32>) -> ()
  return
}}
"""

rng = np.random.default_rng(7)
f32 = np.float32


def state(shape):
    return (rng.uniform(-1, 1, shape).astype(f32), rng.standard_normal(shape).astype(f32),
            (0.1 * rng.standard_normal(shape)).astype(f32),
            rng.uniform(0, 0.01, shape).astype(f32))


def bits(*arrays):
    return b"".join(a.tobytes() for a in arrays)


# On tensors: each step returns new arrays; the inputs stay as they were.
tensors = cage.compile(TENSORS, filename="adamw.mlir")
w, g, m, v = state((7, 129))
rw, rm, rv = w.copy(), m.copy(), v.copy()
first, before = (w, m, v), bits(w, m, v)
for t in (1, 2, 3):
    g = rng.standard_normal(w.shape).astype(f32)
    nr.adamw(OPT, rw, g, rm, rv, 1e-3, t)
    w, m, v = tensors.step(w, g, m, v, 1e-3, t)
    print(f"tensors t={t}:", "PASS" if bits(w, m, v) == bits(rw, rm, rv) else "FAIL")
# CHECK: tensors t=1: PASS
# CHECK: tensors t=2: PASS
# CHECK: tensors t=3: PASS
print("inputs unchanged:", bits(*first) == before)
# CHECK: inputs unchanged: True

# In place: the same arrays, updated where they are.
in_place = cage.compile(IN_PLACE, filename="adamw-dps.mlir")
print(in_place.step)
# CHECK: <cage.Function step : (memref<?xf32>, memref<?xf32>, memref<?xf32>, memref<?xf32>, f32, i64) -> ()>
w, g, m, v = state(1000)
rw, rm, rv = w.copy(), m.copy(), v.copy()
addresses = [a.ctypes.data for a in (w, m, v)]
views = [a[:10] for a in (w, m, v)]
for t in (1, 2, 3):
    g = rng.standard_normal(w.shape).astype(f32)
    nr.adamw(OPT, rw, g, rm, rv, 1e-3, t)
    result = in_place.step(w, g, m, v, 1e-3, t)
    print(f"in place t={t}:", result, "PASS" if bits(w, m, v) == bits(rw, rm, rv) else "FAIL")
# CHECK: in place t=1: None PASS
# CHECK: in place t=2: None PASS
# CHECK: in place t=3: None PASS
print("same buffers:", [a.ctypes.data for a in (w, m, v)] == addresses,
      all(np.shares_memory(view, a) and np.array_equal(view, a[:10])
          for view, a in zip(views, (w, m, v))))
# CHECK: same buffers: True True

# A memref is written: a read-only array is refused before the call.
frozen = w.copy()
frozen.flags.writeable = False
try:
    in_place.step(frozen, g, m, v, 1e-3, 4)
except ValueError as e:
    print("ValueError:", e)
# CHECK: ValueError: argument 0 of 'step' (memref<?xf32>) is a memref, which the function may write: the array must be writable

# t = 0: AdamW counts steps from 1. The check runs before the function
# touches a buffer.
for label, module in (("tensors", tensors), ("in place", in_place)):
    w, g, m, v = state((7, 129) if module is tensors else 1000)
    before = bits(w, g, m, v)
    try:
        module.step(w, g, m, v, 1e-3, 0)
        print(label, "no error")
    except cage.RuntimeCheckError as e:
        print(f"{label}: {e}; unchanged: {bits(w, g, m, v) == before}")
# CHECK: tensors: 'step' failed a run-time check: adamw.mlir:5:19: 'cage.adamw' step t is less than 1 (AdamW counts steps from 1); unchanged: True
# CHECK: in place: 'step' failed a run-time check: adamw-dps.mlir:8:19: 'cage.adamw' step t is less than 1 (AdamW counts steps from 1); unchanged: True
# The function works again after a failed check.
w, g, m, v = state(1000)
rw, rm, rv = w.copy(), m.copy(), v.copy()
nr.adamw(OPT, rw, g, rm, rv, 1e-3, 5)
in_place.step(w, g, m, v, 1e-3, 5)
print("after the error:", "PASS" if bits(w, m, v) == bits(rw, rm, rv) else "FAIL")
# CHECK: after the error: PASS
