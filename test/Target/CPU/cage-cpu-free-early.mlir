// RUN: cage-opt %s --split-input-file --cage-cpu-free-early | FileCheck %s

// Each memref.dealloc moves up to just after the last op of its block that
// uses the buffer, or a view of it, nested regions included; the buffer
// then dies at its last use instead of at the end of the function.

// CHECK-LABEL: func.func @last_use
// CHECK:         %[[A:.*]] = memref.alloc() : memref<16xf32>
// CHECK:         %[[B:.*]] = memref.alloc() : memref<16xf32>
// CHECK:         linalg.copy ins(%{{.*}} : memref<16xf32>) outs(%[[A]] : memref<16xf32>)
// CHECK-NEXT:    linalg.copy ins(%[[A]] : memref<16xf32>) outs(%[[B]] : memref<16xf32>)
// CHECK-NEXT:    memref.dealloc %[[A]]
// CHECK-NEXT:    %[[V:.*]] = memref.subview %[[B]][0] [8] [1]
// CHECK:         scf.for
// CHECK:           memref.load %[[V]]
// CHECK:         }
// CHECK-NEXT:    memref.dealloc %[[B]]
// CHECK-NEXT:    linalg.copy ins(%{{.*}} : memref<16xf32>) outs(%{{.*}} : memref<16xf32>)
// CHECK-NEXT:    return
func.func @last_use(%x: memref<16xf32>, %y: memref<16xf32>) {
  %a = memref.alloc() : memref<16xf32>
  %b = memref.alloc() : memref<16xf32>
  linalg.copy ins(%x : memref<16xf32>) outs(%a : memref<16xf32>)
  linalg.copy ins(%a : memref<16xf32>) outs(%b : memref<16xf32>)
  %v = memref.subview %b[0] [8] [1] : memref<16xf32> to memref<8xf32, strided<[1]>>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %i = %c0 to %c8 step %c1 {
    %e = memref.load %v[%i] : memref<8xf32, strided<[1]>>
    memref.store %e, %y[%i] : memref<16xf32>
  }
  linalg.copy ins(%x : memref<16xf32>) outs(%y : memref<16xf32>)
  memref.dealloc %a : memref<16xf32>
  memref.dealloc %b : memref<16xf32>
  return
}

// -----

// A buffer that an op other than a view turns into another memref (which
// may alias it) keeps its deallocation where it is.
// CHECK-LABEL: func.func @may_alias
// CHECK:         call @id
// CHECK-NEXT:    linalg.copy
// CHECK-NEXT:    memref.dealloc
// CHECK-NEXT:    return
func.func private @id(memref<16xf32>) -> memref<16xf32>
func.func @may_alias(%x: memref<16xf32>, %y: memref<16xf32>) {
  %a = memref.alloc() : memref<16xf32>
  %r = call @id(%a) : (memref<16xf32>) -> memref<16xf32>
  linalg.copy ins(%x : memref<16xf32>) outs(%y : memref<16xf32>)
  memref.dealloc %a : memref<16xf32>
  return
}
