// cage-cpu-check-lowered: everything must be in the LLVM (or OpenMP) dialect.
// RUN: cage-opt %s --split-input-file --cage-cpu-check-lowered --verify-diagnostics | FileCheck %s

// CHECK-LABEL: llvm.func @ok(
llvm.func @ok(%x: f32) -> f32 {
  %y = llvm.fadd %x, %x : f32
  llvm.return %y : f32
}

// -----

// expected-error @+1 {{cage-cpu-pipeline: 'func.func' was not lowered to the LLVM dialect}}
func.func @not_lowered(%x: f32) -> f32 {
  return %x : f32
}

// -----

llvm.func @cast(%p: !llvm.ptr) {
  // expected-error @+1 {{cage-cpu-pipeline: a value here was not lowered to the LLVM dialect (an unrealized conversion cast is left)}}
  %m = builtin.unrealized_conversion_cast %p : !llvm.ptr to memref<f32>
  llvm.return
}

// -----

// The first op that is neither LLVM nor a cast is named, even after a cast.
llvm.func @both(%p: !llvm.ptr) {
  %m = builtin.unrealized_conversion_cast %p : !llvm.ptr to memref<4xf32>
  // expected-error @+1 {{'memref.dealloc' was not lowered}}
  memref.dealloc %m : memref<4xf32>
  llvm.return
}
