// RUN: cage-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(cage-gpu-device-buffers))' | FileCheck %s

// A host function after kernel outlining: its buffers become device
// memory, its copies device copies, and the scalar it returns is copied to
// a host alloca and loaded there.
// CHECK-LABEL: func.func @step
// CHECK-SAME:    (%[[A:.*]]: memref<4x8xf32>, %[[N:.*]]: index)
// CHECK-NOT:     memref.alloc(
// CHECK:         %[[D:.*]] = gpu.alloc  (%[[N]]) : memref<?xf32>
// CHECK:         %[[C:.*]] = gpu.alloc  () : memref<4x8xf32>
// CHECK:         gpu.memcpy  %[[C]], %[[A]] : memref<4x8xf32>, memref<4x8xf32>
// CHECK:         %[[S:.*]] = gpu.alloc  () : memref<f32>
// CHECK:         %[[H:.*]] = memref.alloca() : memref<f32>
// CHECK:         gpu.memcpy  %[[H]], %[[S]] : memref<f32>, memref<f32>
// CHECK:         %[[V:.*]] = memref.load %[[H]][] : memref<f32>
// CHECK:         gpu.dealloc  %[[S]] : memref<f32>
// CHECK:         return %[[D]], %[[C]], %[[V]]
func.func @step(%a: memref<4x8xf32>, %n: index) -> (memref<?xf32>, memref<4x8xf32>, f32) {
  %d = memref.alloc(%n) {alignment = 64 : i64} : memref<?xf32>
  %c = memref.alloc() : memref<4x8xf32>
  memref.copy %a, %c : memref<4x8xf32> to memref<4x8xf32>
  %s = memref.alloc() : memref<f32>
  %v = memref.load %s[] : memref<f32>
  memref.dealloc %s : memref<f32>
  return %d, %c, %v : memref<?xf32>, memref<4x8xf32>, f32
}

// -----

// Host control flow around kernels is searched too.
// CHECK-LABEL: func.func @in_a_loop
// CHECK:         scf.for
// CHECK-NEXT:      %[[T:.*]] = gpu.alloc  () : memref<8xf32>
// CHECK-NEXT:      gpu.dealloc  %[[T]] : memref<8xf32>
func.func @in_a_loop(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    %t = memref.alloc() : memref<8xf32>
    memref.dealloc %t : memref<8xf32>
  }
  return
}

// -----

// What the host cannot do to a device buffer is an error at the op.
func.func @element_read(%a: memref<4xf32>, %i: index) -> f32 {
  // expected-error @+1 {{cage-gpu-device-buffers: an element read with indices: the host cannot do this to a device buffer (docs/GPU.md)}}
  %v = memref.load %a[%i] : memref<4xf32>
  return %v : f32
}

// -----

func.func @element_write(%a: memref<4xf32>, %i: index, %v: f32) {
  // expected-error @+1 {{cage-gpu-device-buffers: an element access outside a kernel}}
  memref.store %v, %a[%i] : memref<4xf32>
  return
}

// -----

func.func @strided_copy(%a: memref<4x8xf32>, %b: memref<4x4xf32>) {
  %v = memref.subview %a[0, 0] [4, 4] [1, 1] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 1]>>
  // expected-error @+1 {{cage-gpu-device-buffers: a copy between strided views}}
  memref.copy %v, %b : memref<4x4xf32, strided<[8, 1]>> to memref<4x4xf32>
  return
}

// -----

func.func @layout_alloc() {
  // expected-error @+1 {{cage-gpu-device-buffers: an allocation with a layout}}
  %t = memref.alloc() : memref<4x4xf32, strided<[8, 1]>>
  return
}

// -----

// A memref.alloca is host memory (cage-cpu-runtime-checks' flag of a failed
// allocation): the host reads and writes it as it is.
// CHECK-LABEL: func.func @host_flag
// CHECK:         %[[F:.*]] = memref.alloca() : memref<i32>
// CHECK-NEXT:    memref.store %{{.*}}, %[[F]][] : memref<i32>
// CHECK-NEXT:    memref.atomic_rmw assign %{{.*}}, %[[F]][] : (i32, memref<i32>) -> i32
// CHECK-NEXT:    %[[V:.*]] = memref.load %[[F]][] : memref<i32>
// CHECK-NEXT:    return %[[V]]
func.func @host_flag(%site: i32) -> i32 {
  %zero = arith.constant 0 : i32
  %flag = memref.alloca() : memref<i32>
  memref.store %zero, %flag[] : memref<i32>
  %old = memref.atomic_rmw assign %site, %flag[] : (i32, memref<i32>) -> i32
  %v = memref.load %flag[] : memref<i32>
  return %v : i32
}

// -----

// No kernel may touch host memory.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @k(%flag: memref<i32>) kernel { gpu.return }
  }
  func.func @host_flag_in_kernel() {
    %c1 = arith.constant 1 : index
    // expected-error @below {{a host buffer (memref.alloca) passed to a kernel}}
    %flag = memref.alloca() : memref<i32>
    gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%flag : memref<i32>)
    return
  }
}
