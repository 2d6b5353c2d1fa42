// cage-cpu-check-sizes, the first pass of cage-cpu-pipeline: a static shape
// whose size overflows int64, in elements or bytes, fails at every op that
// carries it (the cage ops reject such shapes in their verifiers; this
// catches the others), before anything is lowered. A dimension of size 0
// counts as 1: the strides of the other dimensions must fit.
// RUN: cage-opt %s --split-input-file --cage-cpu-check-sizes --verify-diagnostics | FileCheck %s
// RUN: cage-opt %s --split-input-file --cage-cpu-pipeline --verify-diagnostics | FileCheck %s --check-prefix=PIPELINE

// The largest shapes that fit pass: 2^63 - 1 bytes of i8, and a tensor of
// 2^61 f32 elements (2^63 bytes would not fit: 2^61 - 1 does).
// CHECK-LABEL: func.func @fits(
// PIPELINE-LABEL: llvm.func @fits(
func.func @fits(%a: tensor<9223372036854775807xi8>, %b: tensor<?x2305843009213693951xf32>) -> tensor<9223372036854775807xi8> {
  return %a : tensor<9223372036854775807xi8>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
// A linalg.generic of 2^63 elements: the signature, the tensor.empty and the
// generic each report.
// expected-error @+1 {{cage-cpu-pipeline: function argument #0 of type 'tensor<4611686018427387904x2xf32>' is too large: the product of its static dimensions overflows int64}}
func.func @generic(%x: tensor<4611686018427387904x2xf32>) {
  // expected-error @+1 {{cage-cpu-pipeline: result #0 of type 'tensor<4611686018427387904x2xf32>' is too large: the product of its static dimensions overflows int64}}
  %e = tensor.empty() : tensor<4611686018427387904x2xf32>
  // expected-error @+1 {{cage-cpu-pipeline: result #0 of type 'tensor<4611686018427387904x2xf32>' is too large: the product of its static dimensions overflows int64}}
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4611686018427387904x2xf32>) outs(%e : tensor<4611686018427387904x2xf32>) {
  ^bb0(%a: f32, %b: f32):
    linalg.yield %a : f32
  } -> tensor<4611686018427387904x2xf32>
  return
}

// -----

// 2^62 f32 elements fit; their 2^64 bytes do not. A declaration has only its
// signature.
// expected-error @+1 {{cage-cpu-pipeline: function result #0 of type 'memref<4611686018427387904xf32>' is too large: its size in bytes overflows int64}}
func.func private @declared(tensor<2xf32>) -> memref<4611686018427387904xf32>

// -----

// expected-error @+1 {{cage-cpu-pipeline: the type attribute of type 'memref<2x1152921504606846976xf32>' is too large: its size in bytes overflows int64}}
memref.global "private" @global : memref<2x1152921504606846976xf32>

// -----

// An empty tensor whose other dimensions overflow; a dynamic dimension does
// not help either.
// expected-error @+1 {{cage-cpu-pipeline: function argument #0 of type 'tensor<0x4611686018427387904x4xf32>' is too large: the product of its static dimensions overflows int64}}
func.func @empty(%x: tensor<0x4611686018427387904x4xf32>) {
  return
}

// -----

// expected-error @+1 {{cage-cpu-pipeline: function argument #1 of type 'tensor<?x4611686018427387904x4xi8>' is too large: the product of its static dimensions overflows int64}}
func.func @dynamic(%n: index, %x: tensor<?x4611686018427387904x4xi8>) {
  return
}

// -----

// Elements of vector and complex type count all their bytes.
// expected-error @+1 {{cage-cpu-pipeline: function argument #0 of type 'memref<1152921504606846976xvector<2xf32>>' is too large: its size in bytes overflows int64}}
func.func @vectors(%x: memref<1152921504606846976xvector<2xf32>>, %y: memref<576460752303423487xcomplex<f64>>) {
  return
}

// -----

// A block argument that the signature does not show.
// expected-error @+1 {{cage-cpu-pipeline: block argument #0 of type 'tensor<3074457345618258603x3xi8>' is too large: the product of its static dimensions overflows int64}}
func.func @block(%c: i1) {
  cf.br ^bb1(%c : i1)
^bb1(%d: i1):
  return
^bb2(%x: tensor<3074457345618258603x3xi8>):
  return
}
