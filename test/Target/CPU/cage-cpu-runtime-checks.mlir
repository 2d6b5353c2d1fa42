// RUN: cage-opt %s --split-input-file --verify-diagnostics --cage-cpu-runtime-checks | FileCheck %s
// Run twice, the module keeps one error slot, one accessor and one clearing
// store: the pass is idempotent.
// RUN: cage-opt %s --split-input-file --verify-diagnostics --cage-cpu-runtime-checks --cage-cpu-runtime-checks | FileCheck %s --check-prefix=TWICE

// The checks of a public function move to its entry, ahead of the first
// buffer access (the load below), and the function branches on all of them:
// on failure it stores the message of the first failed check (the select
// chain is built from the last check) in the error slot and returns
// poison. The slot is cleared on every call.
// CHECK-LABEL: func.func @checked
// CHECK-SAME:    (%[[X:.*]]: memref<?xf32>, %[[T:.*]]: i64) -> f32
// CHECK:         %[[N:.*]] = memref.dim %[[X]], %{{.*}} : memref<?xf32>
// CHECK:         %[[REM:.*]] = arith.remui %[[N]]
// CHECK:         %[[DIVIDES:.*]] = arith.cmpi eq, %[[REM]]
// CHECK:         %[[POSITIVE:.*]] = arith.cmpi sge, %[[T]]
// CHECK:         %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK:         %[[SLOT:.*]] = llvm.mlir.addressof @__cage_last_error : !llvm.ptr
// CHECK:         llvm.store %[[NULL]], %[[SLOT]]
// CHECK:         %[[NONE:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK:         %[[M1:.*]] = llvm.mlir.addressof @[[MSG1:__cage_check_message_[0-9]+]]
// CHECK:         %[[SEL1:.*]] = arith.select %[[POSITIVE]], %[[NONE]], %[[M1]] : !llvm.ptr
// CHECK:         %[[OK1:.*]] = arith.andi %{{.*}}, %[[POSITIVE]] : i1
// CHECK:         %[[M0:.*]] = llvm.mlir.addressof @[[MSG0:__cage_check_message_[0-9]+]]
// CHECK:         %[[SEL0:.*]] = arith.select %[[DIVIDES]], %[[SEL1]], %[[M0]] : !llvm.ptr
// CHECK:         %[[OK:.*]] = arith.andi %[[OK1]], %[[DIVIDES]] : i1
// CHECK:         cf.cond_br %[[OK]], ^[[BODY:.*]], ^[[FAIL:.*]]
// CHECK:       ^[[BODY]]:
// CHECK-NOT:     cf.assert
// CHECK:         memref.load %[[X]]
// CHECK:         return
// CHECK:       ^[[FAIL]]:
// CHECK:         %[[SLOT2:.*]] = llvm.mlir.addressof @__cage_last_error
// CHECK:         llvm.store %[[SEL0]], %[[SLOT2]]
// CHECK:         %[[POISON:.*]] = ub.poison : f32
// CHECK:         return %[[POISON]] : f32
// CHECK-DAG:   llvm.mlir.global internal constant @[[MSG0]]("x.mlir:1:1: 'cage.quantize' innermost size is not a multiple of group_size = 4\00")
// CHECK-DAG:   llvm.mlir.global internal constant @[[MSG1]]("x.mlir:2:1: 'cage.adamw' step t is less than 1\00")
// The slot and the accessor are weak_odr: objects compiled apart share
// them when linked together.
// CHECK-DAG:   llvm.mlir.global weak_odr thread_local @__cage_last_error() {{.*}} : !llvm.ptr
// CHECK-DAG:   func.func @cage_last_error() -> !llvm.ptr attributes {llvm.linkage = #llvm.linkage<weak_odr>}
// TWICE-LABEL: func.func @checked
// TWICE-COUNT-1: llvm.store %{{.*}}, %{{.*}} : !llvm.ptr, !llvm.ptr
// TWICE:         cf.cond_br
// TWICE:         llvm.mlir.global weak_odr thread_local @__cage_last_error()
// TWICE-NOT:     llvm.mlir.global weak_odr thread_local @__cage_last_error()
// TWICE:         func.func @cage_last_error()
// TWICE-NOT:     func.func @cage_last_error()
// TWICE:         // -----
func.func @checked(%x: memref<?xf32>, %t: i64) -> f32 {
  %c0 = arith.constant 0 : index
  %v = memref.load %x[%c0] : memref<?xf32>
  %c4 = arith.constant 4 : index
  %n = memref.dim %x, %c0 : memref<?xf32>
  %rem = arith.remui %n, %c4 : index
  %divides = arith.cmpi eq, %rem, %c0 : index
  cf.assert %divides, "x.mlir:1:1: 'cage.quantize' innermost size is not a multiple of group_size = 4"
  %one = arith.constant 1 : i64
  %positive = arith.cmpi sge, %t, %one : i64
  cf.assert %positive, "x.mlir:2:1: 'cage.adamw' step t is less than 1"
  return %v : f32
}

// -----

// No checks: the slot is still cleared, and there is no branch.
// CHECK-LABEL: func.func @unchecked
// CHECK:         llvm.store
// CHECK-NOT:     cf.cond_br
// CHECK:         return
func.func @unchecked(%x: memref<4xf32>) {
  return
}

// -----

// A check that depends on a value read from a buffer cannot run before the
// function reads: a compile-time error.
func.func @data_dependent(%x: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %v = memref.load %x[%c0] : memref<4xf32>
  %zero = arith.constant 0.0 : f32
  %ok = arith.cmpf oge, %v, %zero : f32
  // expected-error @+1 {{cage-cpu-runtime-checks: this run-time check depends on a value the function computes, so it cannot run before the function writes; sizes and step counts must come from the function's arguments}}
  cf.assert %ok, "negative"
  return
}

// -----

// A check in a private function could not stop its caller.
func.func private @helper(%n: index) {
  %c0 = arith.constant 0 : index
  %ok = arith.cmpi ne, %n, %c0 : index
  // expected-error @+1 {{cage-cpu-runtime-checks: a run-time check in a private function cannot stop the step before it writes; call the ops from the public function instead}}
  cf.assert %ok, "empty"
  return
}

// -----

// Allocations at the top level move to the entry, each checked: a null
// pointer fails the call (unless the buffer is empty: malloc(0) may return
// null), and the failure path frees them all (free(NULL) is harmless). An
// allocation in a loop stays where it is, unchecked.
// CHECK-LABEL: func.func @allocating
// CHECK-SAME:    (%[[X:.*]]: memref<?xf32>)
// CHECK:         %[[N:.*]] = memref.dim %[[X]]
// CHECK:         %[[DYN:.*]] = memref.alloc(%[[N]]) : memref<?xf32>
// CHECK:         %[[FIXED:.*]] = memref.alloc() : memref<16xf32>
// CHECK:         llvm.store
// CHECK:         %[[P0:.*]] = memref.extract_aligned_pointer_as_index %[[DYN]]
// CHECK:         %[[NONNULL0:.*]] = arith.cmpi ne, %[[P0]], %{{.*}} : index
// CHECK:         %[[EMPTY:.*]] = arith.cmpi eq, %[[N]], %{{.*}} : index
// CHECK:         arith.ori %[[NONNULL0]], %[[EMPTY]] : i1
// CHECK:         %[[P1:.*]] = memref.extract_aligned_pointer_as_index %[[FIXED]]
// CHECK:         cf.cond_br
// CHECK:         scf.for
// CHECK:           memref.alloc() : memref<4xf32>
// CHECK:       ^{{.*}}:
// CHECK:         memref.dealloc %[[DYN]]
// CHECK:         memref.dealloc %[[FIXED]]
// CHECK:         llvm.store
// CHECK-DAG:   llvm.mlir.global internal constant @{{.*}}("out of memory: cannot allocate memref<?xf32>{{.*}}\00")
// CHECK-DAG:   llvm.mlir.global internal constant @{{.*}}("out of memory: cannot allocate memref<16xf32>{{.*}}\00")
func.func @allocating(%x: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %n = memref.dim %x, %c0 : memref<?xf32>
  %a = memref.alloc(%n) : memref<?xf32>
  memref.copy %x, %a : memref<?xf32> to memref<?xf32>
  %b = memref.alloc() : memref<16xf32>
  scf.for %i = %c0 to %c4 step %c1 {
    %t = memref.alloc() : memref<4xf32>
    memref.dealloc %t : memref<4xf32>
  }
  memref.dealloc %b : memref<16xf32>
  memref.dealloc %a : memref<?xf32>
  return
}

// -----

// An allocation that cannot move to the entry (here: inside a parallel
// loop) is checked where it happens. On failure the rest of its block is
// skipped (the deallocations of buffers made before it stay in place, and
// the failure branch frees those buffers too), the site's
// number goes into a flag of the call (atomically: loop iterations run on
// several threads), and the function's return puts that site's message in
// the error slot.
// CHECK-LABEL: func.func @in_loop
// CHECK-SAME:    (%[[A:.*]]: memref<?x64xf32>, %[[N:.*]]: index) -> memref<?x64xf32>
// CHECK:         %[[FLAG:.*]] = memref.alloca() : memref<i32>
// CHECK:         memref.store %{{.*}}, %[[FLAG]][] : memref<i32>
// CHECK:         %[[OUT:.*]] = memref.alloc(%{{.*}}) : memref<?x64xf32>
// CHECK:         cf.cond_br
// CHECK:         scf.forall
// CHECK:           %[[TMP:.*]] = memref.alloc() : memref<64xf32>
// CHECK:           %[[P:.*]] = memref.extract_aligned_pointer_as_index %[[TMP]]
// CHECK:           %[[OK:.*]] = arith.cmpi ne, %[[P]]
// CHECK:           scf.if %[[OK]] {
// CHECK-NEXT:        memref.copy %{{.*}}, %[[TMP]]
// CHECK-NEXT:        memref.subview %[[OUT]]
// CHECK-NEXT:        memref.copy %[[TMP]]
// CHECK-NEXT:        memref.dealloc %[[TMP]] : memref<64xf32>
// CHECK-NEXT:      } else {
// CHECK-NEXT:        %[[SITE:.*]] = arith.constant 1 : i32
// CHECK-NEXT:        memref.atomic_rmw assign %[[SITE]], %[[FLAG]][] : (i32, memref<i32>) -> i32
// CHECK-NEXT:      }
// CHECK:         %[[FAILED:.*]] = memref.load %[[FLAG]][] : memref<i32>
// CHECK:         %[[SLOT:.*]] = llvm.mlir.addressof @__cage_last_error
// CHECK:         %[[NOW:.*]] = llvm.load %[[SLOT]]
// CHECK:         %[[IS1:.*]] = arith.cmpi eq, %[[FAILED]], %{{.*}} : i32
// CHECK:         %[[MSG:.*]] = llvm.mlir.addressof @[[LOOP_MSG:__cage_check_message_[0-9]+]]
// CHECK:         %[[NEW:.*]] = arith.select %[[IS1]], %[[MSG]], %[[NOW]]
// CHECK:         llvm.store %[[NEW]], %[[SLOT]]
// CHECK-NEXT:    return %[[OUT]]
// CHECK:       ^bb2:
// CHECK-NOT:     memref.load %[[FLAG]]
// CHECK:         return

// In a private function every allocation is checked in place; values used
// after the skipped ops become results of the scf.if (poison on failure).
// CHECK-LABEL: func.func private @helper
// CHECK:         %[[B:.*]] = memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK:         %[[R:.*]] = scf.if %{{.*}} -> (f32) {
// CHECK:           %[[X:.*]] = memref.load %[[B]]
// CHECK-NEXT:      memref.dealloc %[[B]]
// CHECK-NEXT:      scf.yield %[[X]] : f32
// CHECK-NEXT:    } else {
// CHECK:           memref.atomic_rmw assign
// CHECK-NEXT:      %[[POISON:.*]] = ub.poison : f32
// CHECK-NEXT:      scf.yield %[[POISON]] : f32
// CHECK-NEXT:    }
// CHECK:         return %[[R]] : f32
// CHECK-DAG:   llvm.mlir.global internal constant @[[LOOP_MSG]]("out of memory: cannot allocate memref<64xf32> for the op at {{.*}}cage-cpu-runtime-checks.mlir:[[#@LINE+7]]:{{[0-9]+}}\00")
func.func @in_loop(%a: memref<?x64xf32>, %n: index) -> memref<?x64xf32> {
  %c0 = arith.constant 0 : index
  %rows = memref.dim %a, %c0 : memref<?x64xf32>
  %out = memref.alloc(%rows) : memref<?x64xf32>
  scf.forall (%i) in (%n) {
    %s = memref.subview %a[%i, 0] [1, 64] [1, 1] : memref<?x64xf32> to memref<64xf32, strided<[1], offset: ?>>
    %tmp = memref.alloc() : memref<64xf32>
    memref.copy %s, %tmp : memref<64xf32, strided<[1], offset: ?>> to memref<64xf32>
    %d = memref.subview %out[%i, 0] [1, 64] [1, 1] : memref<?x64xf32> to memref<64xf32, strided<[1], offset: ?>>
    memref.copy %tmp, %d : memref<64xf32> to memref<64xf32, strided<[1], offset: ?>>
    memref.dealloc %tmp : memref<64xf32>
  }
  return %out : memref<?x64xf32>
}

func.func private @helper(%n: index) -> f32 {
  %b = memref.alloc(%n) : memref<?xf32>
  %c0 = arith.constant 0 : index
  %x = memref.load %b[%c0] : memref<?xf32>
  memref.dealloc %b : memref<?xf32>
  return %x : f32
}
