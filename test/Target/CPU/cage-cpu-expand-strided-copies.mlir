// RUN: cage-opt %s --cage-cpu-expand-strided-copies | FileCheck %s
// A copy from or into a buffer whose layout is not the identity becomes
// linalg.copy (finalize-memref-to-llvm would call memrefCopy of MLIR's
// runtime library for it); a copy between identity layouts stays a
// memref.copy (memcpy).

// CHECK-LABEL: func.func @from_subview(
// CHECK-SAME:    %[[A:.*]]: memref<?x64xf32>, %[[B:.*]]: memref<?x64xf32>, %[[N:.*]]: index)
// CHECK:         %[[S:.*]] = memref.subview %[[A]]
// CHECK-NEXT:    linalg.copy ins(%[[S]] : memref<?x64xf32, strided<[64, 1], offset: ?>>) outs(%[[B]] : memref<?x64xf32>)
// CHECK-NOT:     memref.copy
func.func @from_subview(%a: memref<?x64xf32>, %b: memref<?x64xf32>, %n: index) {
  %s = memref.subview %a[%n, 0] [%n, 64] [1, 1] : memref<?x64xf32> to memref<?x64xf32, strided<[64, 1], offset: ?>>
  memref.copy %s, %b : memref<?x64xf32, strided<[64, 1], offset: ?>> to memref<?x64xf32>
  return
}

// CHECK-LABEL: func.func @into_strided(
// CHECK:         linalg.copy ins(%{{.*}} : memref<4x8xi32>) outs(%{{.*}} : memref<4x8xi32, strided<[16, 2]>>)
func.func @into_strided(%a: memref<4x8xi32>, %b: memref<4x8xi32, strided<[16, 2]>>) {
  memref.copy %a, %b : memref<4x8xi32> to memref<4x8xi32, strided<[16, 2]>>
  return
}

// Nested in a loop, as bufferization makes them for the chunks of a
// parallel loop.
// CHECK-LABEL: func.func @in_loop(
// CHECK:         scf.forall
// CHECK:           linalg.copy ins(%{{.*}} : memref<1x?xbf16, strided<[?, 1], offset: ?>>) outs(%{{.*}} : memref<1x?xbf16>)
func.func @in_loop(%a: memref<?x?xbf16>, %n: index, %m: index) {
  scf.forall (%i) in (%n) {
    %s = memref.subview %a[%i, 0] [1, %m] [1, 1] : memref<?x?xbf16> to memref<1x?xbf16, strided<[?, 1], offset: ?>>
    %b = memref.alloc(%m) : memref<1x?xbf16>
    memref.copy %s, %b : memref<1x?xbf16, strided<[?, 1], offset: ?>> to memref<1x?xbf16>
    memref.dealloc %b : memref<1x?xbf16>
  }
  return
}

// CHECK-LABEL: func.func @contiguous(
// CHECK-NEXT:    memref.copy %{{.*}}, %{{.*}} : memref<?x64xf32> to memref<?x64xf32>
// CHECK-NOT:     linalg.copy
func.func @contiguous(%a: memref<?x64xf32>, %b: memref<?x64xf32>) {
  memref.copy %a, %b : memref<?x64xf32> to memref<?x64xf32>
  return
}
