// The in-place entry point of docs/Tools.md ("In-place updates"), with the
// cage op itself: after cage-lower-to-linalg and the CPU pipeline, the
// object updates w, m and v in place and calls no allocator and no copy.
// RUN: cage-compile %s -o %t.o --header %t.h
// RUN: llvm-nm --undefined-only %t.o | FileCheck %s
// RUN: FileCheck %s --check-prefix=HEADER < %t.h
// CHECK-NOT: {{alloc|memcpy|memmove}}
// CHECK: __kmpc_fork_call
// CHECK-NOT: {{alloc|memcpy|memmove}}
// HEADER: void _mlir_ciface_step(cage_memref_f32_1d *w, cage_memref_f32_1d *g, cage_memref_f32_1d *m, cage_memref_f32_1d *v, float lr, int64_t t);

func.func @step(%w: memref<?xf32>, %g: memref<?xf32>, %m: memref<?xf32>,
                %v: memref<?xf32>, %lr: f32, %t: i64) {
  %wt = bufferization.to_tensor %w restrict writable : memref<?xf32> to tensor<?xf32>
  %gt = bufferization.to_tensor %g restrict : memref<?xf32> to tensor<?xf32>
  %mt = bufferization.to_tensor %m restrict writable : memref<?xf32> to tensor<?xf32>
  %vt = bufferization.to_tensor %v restrict writable : memref<?xf32> to tensor<?xf32>
  %w1, %m1, %v1 = cage.adamw %wt, %gt, %mt, %vt, %lr, %t {} : tensor<?xf32>
  bufferization.materialize_in_destination %w1 in restrict writable %w
      : (tensor<?xf32>, memref<?xf32>) -> ()
  bufferization.materialize_in_destination %m1 in restrict writable %m
      : (tensor<?xf32>, memref<?xf32>) -> ()
  bufferization.materialize_in_destination %v1 in restrict writable %v
      : (tensor<?xf32>, memref<?xf32>) -> ()
  return
}
