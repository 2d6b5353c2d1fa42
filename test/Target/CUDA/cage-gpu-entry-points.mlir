// RUN: cage-opt %s --split-input-file --cage-gpu-entry-points --verify-diagnostics | FileCheck %s

// Each C interface wrapper gets the GPU's entry point: the stream first, the
// wrapper's parameters after it, the frame around the call, the code's own
// check message to the frame's end, a status returned.

// CHECK-LABEL: llvm.func @_mlir_ciface_step
// CHECK-LABEL: llvm.func @__cage_cuda_step(
// CHECK-SAME:      %[[STREAM:.*]]: !llvm.ptr, %[[R:.*]]: !llvm.ptr, %[[W:.*]]: !llvm.ptr, %[[T:.*]]: i64) -> i32
// CHECK-NEXT:    llvm.call @cageCudaCallBegin(%[[STREAM]]) : (!llvm.ptr) -> ()
// CHECK-NEXT:    llvm.call @_mlir_ciface_step(%[[R]], %[[W]], %[[T]]) : (!llvm.ptr, !llvm.ptr, i64) -> ()
// CHECK-NEXT:    %[[M:.*]] = llvm.call @cage_last_error() : () -> !llvm.ptr
// CHECK-NEXT:    %[[S:.*]] = llvm.call @cageCudaCallEnd(%[[M]]) : (!llvm.ptr) -> i32
// CHECK-NEXT:    llvm.return %[[S]] : i32
// A scalar result goes through a pointer after the stream.
// CHECK-LABEL: llvm.func @__cage_cuda_total(
// CHECK-SAME:      %[[STREAM:.*]]: !llvm.ptr, %[[RESULT:.*]]: !llvm.ptr, %[[X:.*]]: !llvm.ptr) -> i32
// CHECK:         %[[V:.*]] = llvm.call @_mlir_ciface_total(%[[X]]) : (!llvm.ptr) -> f32
// CHECK-NEXT:    llvm.store %[[V]], %[[RESULT]] : f32, !llvm.ptr
// CHECK:         llvm.call @cageCudaCallEnd
// The runtime's functions are declared once; cage_last_error is not.
// CHECK-DAG:   llvm.func @cageCudaCallBegin(!llvm.ptr)
// CHECK-DAG:   llvm.func @cageCudaCallEnd(!llvm.ptr) -> i32
// CHECK-NOT:   llvm.func @cage_last_error()
// A function without the wrapper (private, or a declaration) gets none.
// CHECK-NOT:   @__cage_cuda_helper
module {
  llvm.func @step(%w: !llvm.ptr, %t: i64) { llvm.return }
  llvm.func @_mlir_ciface_step(%r: !llvm.ptr, %w: !llvm.ptr, %t: i64) {
    llvm.return
  }
  llvm.func @_mlir_ciface_total(%x: !llvm.ptr) -> f32 {
    %0 = llvm.mlir.constant(0.0 : f32) : f32
    llvm.return %0 : f32
  }
  llvm.func @_mlir_ciface_helper(!llvm.ptr)
  llvm.func weak_odr @cage_last_error() -> !llvm.ptr {
    %0 = llvm.mlir.zero : !llvm.ptr
    llvm.return %0 : !llvm.ptr
  }
}

// -----

// Without run-time checks (no cage_last_error), the frame's end gets null.

// CHECK-LABEL: llvm.func @__cage_cuda_f(
// CHECK:         %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK-NEXT:    llvm.call @cageCudaCallEnd(%[[NULL]])
module {
  llvm.func @_mlir_ciface_f(%x: !llvm.ptr) { llvm.return }
}

// -----

// expected-error @below {{cage-gpu-entry-points: the module already has a symbol named '__cage_cuda_f'}}
llvm.func @_mlir_ciface_f(%x: !llvm.ptr) { llvm.return }
llvm.func @__cage_cuda_f() { llvm.return }
