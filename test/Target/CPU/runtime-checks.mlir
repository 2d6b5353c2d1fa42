// Run-time checks of what the verifiers cannot prove, in an ahead-of-time
// object (docs/Semantics.md §2.4): the step below takes tensors whose row
// counts and step t are only known when it is called. A call that breaks a
// precondition returns before touching any buffer, and cage_last_error()
// says which check failed, where; a good call clears it. The object of a
// second module links with the first (one shared cage_last_error).
// RUN: cage-compile %s -o %t.o
// RUN: cage-compile %S/Inputs/runtime-checks-other.mlir -o %t-other.o
// RUN: %cc -std=c11 -O1 -Wall -Wextra -Werror %S/Inputs/runtime-checks-driver.c %t.o %t-other.o -o %t.exe %libomp -lm
// RUN: %t.exe | FileCheck %s
// An allocation that fails (here 40 GB under a 4 GB address-space limit) is
// reported the same way, before anything is written, instead of crashing.
// RUN: sh -c 'ulimit -v 4000000 && %t.exe --allocate' | FileCheck %s --check-prefix=ALLOC
// ALLOC: huge: out of memory: cannot allocate memref<?x?xf32> for the op at {{.*}}runtime-checks.mlir:{{[0-9]+}}:{{[0-9]+}}
// ALLOC-NEXT: small: no error; 0.428571
// CHECK: rows differ: runtime-checks.mlir:[[#LINE:]]:{{[0-9]+}}: 'cage.update' w and g differ in a dynamic size; w untouched
// CHECK-NEXT: t = 0: runtime-checks.mlir:[[#LINE]]:{{[0-9]+}}: 'cage.update' step t is less than 1 (AdamW counts steps from 1); w untouched
// CHECK-NEXT: group size: runtime-checks.mlir:{{[0-9]+}}:{{[0-9]+}}: 'cage.quantize' innermost size is not a multiple of group_size = 32; x untouched
// CHECK-NEXT: good call: no error; w updated
// CHECK-NEXT: other module: no error
// CHECK-NEXT: other module, T = 0: runtime-checks-other.mlir:{{[0-9]+}}:{{[0-9]+}}: 'cage.lambda_schedule' total steps T is less than 1
func.func @step(%w: memref<?x64xf32>, %g: memref<?x64xf32>, %m: memref<?x64xf32>,
                %v: memref<?x64xf32>, %lr: f32, %t: i64) attributes {llvm.emit_c_interface} {
  %wt = bufferization.to_tensor %w restrict writable : memref<?x64xf32> to tensor<?x64xf32>
  %gt = bufferization.to_tensor %g restrict : memref<?x64xf32> to tensor<?x64xf32>
  %mt = bufferization.to_tensor %m restrict writable : memref<?x64xf32> to tensor<?x64xf32>
  %vt = bufferization.to_tensor %v restrict writable : memref<?x64xf32> to tensor<?x64xf32>
  %l = arith.constant 0.5 : f32
  %w1, %m1, %v1 = cage.update %wt, %gt, %mt, %vt, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4, granularity = group, group_size = 32>, optimizer = #cage.adamw<>} : tensor<?x64xf32>
  bufferization.materialize_in_destination %w1 in restrict writable %w : (tensor<?x64xf32>, memref<?x64xf32>) -> ()
  bufferization.materialize_in_destination %m1 in restrict writable %m : (tensor<?x64xf32>, memref<?x64xf32>) -> ()
  bufferization.materialize_in_destination %v1 in restrict writable %v : (tensor<?x64xf32>, memref<?x64xf32>) -> ()
  return
}

func.func @quantize(%x: memref<2x?xf32>) attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict writable : memref<2x?xf32> to tensor<2x?xf32>
  %q = cage.quantize %xt {quantizer = #cage.quantizer<bits = 4, granularity = group, group_size = 32>} : tensor<2x?xf32>
  bufferization.materialize_in_destination %q in restrict writable %x : (tensor<2x?xf32>, memref<2x?xf32>) -> ()
  return
}

// The quantized copy of x: a new buffer of x's (dynamic) size.
func.func @quantized_copy(%x: tensor<?x?xf32>) -> tensor<?x?xf32> attributes {llvm.emit_c_interface} {
  %q = cage.quantize %x {quantizer = #cage.quantizer<bits = 4>} : tensor<?x?xf32>
  return %q : tensor<?x?xf32>
}
