// cage-cpu-abi: public functions get C interface wrappers and read-only
// tensor arguments; private functions and declarations are untouched.
// RUN: cage-opt %s --cage-cpu-abi | FileCheck %s
// RUN: cage-opt %s --pass-pipeline='builtin.module(cage-cpu-abi{c-interface=false})' | FileCheck %s --check-prefix=NOCI

// CHECK-LABEL: func.func @tensors(
// CHECK-SAME:    %{{.*}}: tensor<?xf32> {bufferization.writable = false},
// CHECK-SAME:    %{{.*}}: f32,
// CHECK-SAME:    %{{.*}}: tensor<4xi32> {bufferization.writable = false, test.keep = 1 : i32})
// CHECK-SAME:    attributes {llvm.emit_c_interface}
// NOCI-LABEL:  func.func @tensors(
// NOCI-SAME:     {bufferization.writable = false}
// NOCI-NOT:      llvm.emit_c_interface
func.func @tensors(%a: tensor<?xf32>, %s: f32, %b: tensor<4xi32> {test.keep = 1 : i32}) -> tensor<?xf32> {
  return %a : tensor<?xf32>
}

// Memref arguments are buffers the caller owns: no attribute.
// CHECK-LABEL: func.func @memrefs(
// CHECK-SAME:    %{{.*}}: memref<?xf32>, %{{.*}}: f32)
// CHECK-SAME:    attributes {llvm.emit_c_interface}
func.func @memrefs(%a: memref<?xf32>, %s: f32) {
  return
}

// CHECK-LABEL: func.func private @private(
// CHECK-SAME:    %{{.*}}: tensor<?xf32>) -> tensor<?xf32> {
func.func private @private(%a: tensor<?xf32>) -> tensor<?xf32> {
  return %a : tensor<?xf32>
}

// CHECK-LABEL: func.func private @declaration(tensor<?xf32>)
// CHECK-NOT:     llvm.emit_c_interface
func.func private @declaration(tensor<?xf32>)
