// RUN: cage-opt %s --split-input-file --cage-cpu-cache-buffers | FileCheck %s
// RUN: cage-opt %s --split-input-file --cage-cpu-cache-buffers --cage-cpu-cache-buffers | FileCheck %s --check-prefix=TWICE

// Every malloc and free of the code goes through the buffer cache, whose
// functions and slots (weak_odr: one cache per program) join the module;
// the declarations the module had are kept, not duplicated.
// CHECK: llvm.func @malloc(i64) -> !llvm.ptr
// CHECK-LABEL: llvm.func @step(
// CHECK: llvm.call @__cage_buffer_take(%{{.*}}) : (i64) -> !llvm.ptr
// CHECK-NOT: llvm.call @malloc
// CHECK: llvm.call @__cage_buffer_give(%{{.*}}) : (!llvm.ptr) -> ()
// CHECK-NOT: llvm.call @free
// CHECK: llvm.return
// CHECK-NOT: llvm.func @malloc(
// CHECK-DAG: llvm.mlir.global weak_odr @__cage_buffer_slots() {{.*}} : !llvm.array<1024 x ptr>
// CHECK-DAG: llvm.func @malloc_usable_size(!llvm.ptr) -> i64
// CHECK-DAG: llvm.func weak_odr @__cage_buffer_take(%{{.*}}: i64) -> !llvm.ptr
// CHECK-DAG: llvm.func weak_odr @__cage_buffer_give(%{{.*}}: !llvm.ptr)
// CHECK-DAG: llvm.func weak_odr @cage_release_buffers()
// Run twice, the pass changes nothing the second time.
// TWICE-COUNT-1: llvm.func weak_odr @__cage_buffer_take
// TWICE-NOT: llvm.func weak_odr @__cage_buffer_take
module {
  llvm.func @malloc(i64) -> !llvm.ptr
  llvm.func @free(!llvm.ptr)
  llvm.func @step(%n: i64) {
    %p = llvm.call @malloc(%n) : (i64) -> !llvm.ptr
    llvm.call @free(%p) : (!llvm.ptr) -> ()
    llvm.return
  }
}

// -----

// Code that allocates nothing gets no cache.
// CHECK-LABEL: llvm.func @pure(
// CHECK-NOT: __cage_buffer
// CHECK-NOT: cage_release_buffers
module {
  llvm.func @pure(%x: f32) -> f32 {
    llvm.return %x : f32
  }
}
