# RUN: %python %s | FileCheck %s
# REQUIRES: numpy
# UNSUPPORTED: sanitizers
"""Compile errors as exceptions: parse errors, verifier errors (MLIR's and
cage's), pipeline failures and a missing entry function are CompileError,
with the lines the tools print (file:line:col: error: message, notes after
their error) and the errors as (location, message) pairs; garbage input is
an error, never a crash. A function whose types the C interface cannot
carry compiles, and calling it is a TypeError. How the library is found:
CAGE_LIBRARY, and a clear LibraryError when it names no library."""

import os
import subprocess
import sys

import numpy

import cage


def compile_error(label, source, **kw):
    try:
        cage.compile(source, filename=f"{label}.mlir", **kw)
        print(label, "compiled")
    except cage.CompileError as e:
        print(f"{label}: {e}")
        print(f"{label} errors: {e.errors}")


compile_error("syntax", "func.func @f(%a: f32) -> f32 {\n  return %b : f32\n}\n")
# CHECK: syntax: syntax.mlir:2:10: error: use of undeclared SSA value name
# CHECK-NEXT: syntax errors: [('syntax.mlir:2:10', 'use of undeclared SSA value name')]
compile_error("verifier", "func.func @f(%a: f32) -> i32 {\n  return %a : f32\n}\n")
# CHECK: verifier: verifier.mlir:2:3: error: type of return operand 0 ('f32') doesn't match function result type ('i32') in function @f
# CHECK-NEXT: verifier.mlir:2:3: note: see current operation: "func.return"(%arg0) : (f32) -> ()
# CHECK-NEXT: verifier errors: [('verifier.mlir:2:3', "type of return operand 0 ('f32') doesn't match function result type ('i32') in function @f")]
compile_error("cage", """func.func @f(%x: tensor<16x64xf32>) -> tensor<16x64xf32> {
  %q = cage.quantize %x {quantizer = #cage.quantizer<bits = 9>} : tensor<16x64xf32>
  return %q : tensor<16x64xf32>
}
""")
# CHECK: cage: cage.mlir:2:53: error: bits must be in 2..8, got 9
# cage-verify inside cage-cpu-pipeline rejects a decoupled update with
# lr * lambda_t = 1.
compile_error("pipeline", """func.func @f(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>,
             %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %t: i64) -> tensor<8x16xf32> {
  %lr = arith.constant 0.1 : f32
  %l = arith.constant 10.0 : f32
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t
      {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<8x16xf32>
  return %w1 : tensor<8x16xf32>
}
""")
# CHECK: pipeline: pipeline.mlir:5:19: error: decoupled CAGE update is unstable: lr * lambda_t reaches 1
compile_error("two", "func.func @f(%a: f32) -> f32 {\n"
                     "  %x = arith.addf %a, %q : f32\n"
                     "  return %z : f32\n"
                     "}\n")
# CHECK: two: two.mlir:2:23: error: use of undeclared SSA value name
# CHECK-NEXT: two.mlir:3:10: error: use of undeclared SSA value name
# CHECK-NEXT: two errors: [('two.mlir:2:23', 'use of undeclared SSA value name'), ('two.mlir:3:10', 'use of undeclared SSA value name')]
compile_error("entry", "func.func @f(%a: f32) -> f32 {\n  return %a : f32\n}\n", entry="g")
# CHECK: entry: no public function 'g' in 'entry.mlir' (public functions: f)
# CHECK-NEXT: entry errors: [('', "no public function 'g' in 'entry.mlir' (public functions: f)")]
compile_error("empty", "")
# CHECK: empty compiled
compile_error("garbage", bytes(range(256)) * 4)
# CHECK: garbage: garbage.mlir:1:2: error: unexpected character
compile_error("bytecode", b"ML\xefR" + bytes(range(200)))
# CHECK: bytecode: bytecode.mlir: error: bytecode version
compile_error("unicode", "func.func @\u00e9(")
# CHECK: unicode: unicode.mlir:1:12: error: @ identifier expected to start with letter or '_'

# Types the C interface cannot carry: the module compiles, the function
# cannot be called from Python, the others can.
module = cage.compile("""func.func @vec(%a: vector<4xf32>) {
  return
}
func.func @ok(%a: i32) -> i32 {
  return %a : i32
}
""", filename="vec.mlir")
print("ok:", module.ok(41))
# CHECK: ok: 41
try:
    module.vec(None)
except TypeError as e:
    print("TypeError:", e)
# CHECK: TypeError: 'vec' cannot be called from Python: argument 0 has type vector<4xf32>: only tensors, memrefs and scalars are supported

# The library: found from the build tree's _paths.py; CAGE_LIBRARY overrides
# it, and one that names nothing is an error with the path.
print("api:", cage.api_version()[0] == cage.API_MAJOR, os.path.basename(cage.library_path()))
# CHECK: api: True libCAGE-C.so.{{[0-9]+}}
missing = subprocess.run(
    [sys.executable, "-c", "import cage; cage.compile('')"],
    env=dict(os.environ, CAGE_LIBRARY="/nonexistent/libCAGE-C.so"),
    capture_output=True, text=True)
print(missing.stderr.strip().splitlines()[-1])
# CHECK: cage._capi.LibraryError: cannot find libCAGE-C.so (tried /nonexistent/libCAGE-C.so (not found)): build cage, import the package from <build>/python or an installed prefix, or set CAGE_LIBRARY to the library's path
# A shared library that is not cage's: numpy's own.
other = numpy.core._multiarray_umath.__file__
not_cage = subprocess.run(
    [sys.executable, "-c", "import cage; cage.compile('')"],
    env=dict(os.environ, CAGE_LIBRARY=other), capture_output=True, text=True)
print(not_cage.stderr.strip().splitlines()[-1].replace(other, "OTHER"))
# CHECK: LibraryError: OTHER is not libCAGE-C (no cageGetAPIVersion)
# Importing the package does not load the library.
print(subprocess.run([sys.executable, "-c", "import cage, sys; print(cage.compile.__name__)"],
                     env=dict(os.environ, CAGE_LIBRARY="/nonexistent"),
                     capture_output=True, text=True).stdout.strip())
# CHECK: compile
