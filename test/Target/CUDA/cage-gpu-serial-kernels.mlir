// RUN: cage-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(cage-gpu-serial-kernels))' | FileCheck %s

// Host code that reads or writes buffer elements goes into a one-iteration
// scf.parallel (a kernel of one thread once mapped), unchanged inside; a
// top-level store too. A load whose value the host uses stays, and so do
// scalar loops.
// CHECK-LABEL: func.func @loss
// CHECK-SAME:    (%[[X:.*]]: memref<4x8xf32>, %[[ACC:.*]]: memref<f32>)
// CHECK:         %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK:         scf.parallel (%{{.*}}) = (%[[C0:.*]]) to (%[[C1:.*]]) step (%[[C1]]) {
// CHECK-NEXT:      memref.store %[[ZERO]], %[[ACC]][] : memref<f32>
// CHECK-NEXT:      scf.reduce
// CHECK:         scf.parallel
// CHECK-NEXT:      scf.for
// CHECK-NEXT:        scf.for
// CHECK:               memref.load %[[X]]
// CHECK:               memref.store {{.*}}, %[[ACC]][]
// CHECK:           scf.reduce
// CHECK-NOT:     scf.parallel
// CHECK:         %[[SUM:.*]] = memref.load %[[ACC]][] : memref<f32>
// CHECK:         scf.for {{.*}} -> (f64)
// CHECK:         return %[[SUM]]
func.func @loss(%x: memref<4x8xf32>, %acc: memref<f32>) -> (f32, f64) {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  memref.store %zero, %acc[] : memref<f32>
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %j = %c0 to %c8 step %c1 {
      %v = memref.load %x[%i, %j] : memref<4x8xf32>
      %s = memref.load %acc[] : memref<f32>
      %t = arith.addf %s, %v : f32
      memref.store %t, %acc[] : memref<f32>
    }
  }
  %sum = memref.load %acc[] : memref<f32>
  %one = arith.constant 1.0 : f64
  %p = scf.for %i = %c0 to %c8 step %c1 iter_args(%a = %one) -> (f64) {
    %b = arith.mulf %a, %a : f64
    scf.yield %b : f64
  }
  return %sum, %p : f32, f64
}

// -----

// The fused update's shape: a host loop over rows around a parallel loop (a
// kernel per row) stays; inside it, a loop that writes a buffer and returns
// nothing moves, one whose result the host passes on stays (it reads device
// memory on the host: docs/GPU.md). A loop that allocates stays too, and the
// store inside it moves.
// CHECK-LABEL: func.func @rows
// CHECK:         scf.for
// CHECK:           scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) {
// CHECK-NEXT:        scf.for
// CHECK:               memref.store
// CHECK:             scf.reduce
// CHECK:           %[[MAX:.*]] = scf.for {{.*}} -> (f32)
// CHECK:           scf.parallel (%[[J:.*]]) = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) {
// CHECK:             arith.divf {{.*}}, %[[MAX]]
// CHECK:         scf.for
// CHECK-NEXT:      %[[T:.*]] = memref.alloc
// CHECK:           scf.parallel
// CHECK-NEXT:        memref.store %{{.*}}, %[[T]]
// CHECK-NEXT:        scf.reduce
// CHECK:           memref.dealloc %[[T]]
// CHECK:         return
func.func @rows(%w: memref<4x8xf32>, %s: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %k = %c0 to %c1 step %c1 {
      memref.store %zero, %s[%i] : memref<4xf32>
    }
    %m = scf.for %j = %c0 to %c8 step %c1 iter_args(%a = %zero) -> (f32) {
      %v = memref.load %w[%i, %j] : memref<4x8xf32>
      %b = arith.maximumf %a, %v : f32
      scf.yield %b : f32
    }
    scf.parallel (%j) = (%c0) to (%c8) step (%c1) {
      %v = memref.load %w[%i, %j] : memref<4x8xf32>
      %q = arith.divf %v, %m : f32
      memref.store %q, %w[%i, %j] : memref<4x8xf32>
      scf.reduce
    }
  }
  scf.for %i = %c0 to %c4 step %c1 {
    %t = memref.alloc() : memref<8xf32>
    memref.store %zero, %t[%c0] : memref<8xf32>
    memref.dealloc %t : memref<8xf32>
  }
  return
}

// -----

// An access to a memref.alloca (host memory: cage-cpu-runtime-checks' flag)
// stays on the host.
// CHECK-LABEL: func.func @host_flag
// CHECK-NOT:     scf.parallel
// CHECK:         memref.store
// CHECK-NOT:     scf.parallel
func.func @host_flag(%site: i32) {
  %flag = memref.alloca() : memref<i32>
  memref.store %site, %flag[] : memref<i32>
  return
}
