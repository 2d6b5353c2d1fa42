// RUN: cage-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(cage-gpu-thread-loops))' | FileCheck %s

// A loop of one dimension becomes blocks of 128 iterations, the body
// guarded by the trip count and given lb + k * step.
// CHECK-LABEL: func.func @rows
// CHECK-SAME:    (%[[B:.*]]: memref<?xf32>, %[[LB:.*]]: index, %[[UB:.*]]: index, %[[S:.*]]: index)
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:     %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG:     %[[C128:.*]] = arith.constant 128 : index
// CHECK:         %[[SPAN:.*]] = arith.subi %[[UB]], %[[LB]]
// CHECK:         %[[POS:.*]] = arith.maxsi %[[SPAN]], %[[C0]]
// CHECK:         %[[N:.*]] = arith.ceildivui %[[POS]], %[[S]]
// CHECK:         %[[TOTAL:.*]] = arith.muli %[[C1]], %[[N]]
// CHECK:         %[[NB:.*]] = arith.ceildivui %[[TOTAL]], %[[C128]]
// CHECK:         scf.parallel (%[[A:.*]], %[[T:.*]]) = (%[[C0]], %[[C0]]) to (%[[NB]], %[[C128]]) step (%[[C1]], %[[C1]]) {
// CHECK:           %[[AK:.*]] = arith.muli %[[A]], %[[C128]]
// CHECK:           %[[K:.*]] = arith.addi %[[AK]], %[[T]]
// CHECK:           %[[IN:.*]] = arith.cmpi ult, %[[K]], %[[TOTAL]]
// CHECK:           scf.if %[[IN]] {
// CHECK:             %[[KS:.*]] = arith.muli %[[K]], %[[S]]
// CHECK:             %[[I:.*]] = arith.addi %[[LB]], %[[KS]]
// CHECK:             memref.store %{{.*}}, %[[B]][%[[I]]]
// CHECK:           }
// CHECK:           scf.reduce
func.func @rows(%b: memref<?xf32>, %lb: index, %ub: index, %s: index) {
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%lb) to (%ub) step (%s) {
    memref.store %zero, %b[%i] : memref<?xf32>
    scf.reduce
  }
  return
}

// -----

// Two dimensions: one flat iteration k, back to (i, j) with the last
// dimension fastest, so that consecutive threads take consecutive columns.
// CHECK-LABEL: func.func @matrix
// CHECK-SAME:    (%[[B:.*]]: memref<?x?xf32>, %[[M:.*]]: index, %[[N:.*]]: index)
// CHECK:         %[[TM:.*]] = arith.ceildivui
// CHECK:         %[[T0:.*]] = arith.muli %{{.*}}, %[[TM]]
// CHECK:         %[[SN:.*]] = arith.subi %[[N]], %{{.*}}
// CHECK:         %[[PN:.*]] = arith.maxsi %[[SN]]
// CHECK:         %[[TN:.*]] = arith.ceildivui %[[PN]]
// CHECK:         %[[T:.*]] = arith.muli %[[T0]], %[[TN]]
// CHECK:         %[[NB:.*]] = arith.ceildivui %[[T]], %[[C128:.*]] : index
// CHECK:         scf.parallel (%{{.*}}, %{{.*}}) = (%{{.*}}, %{{.*}}) to (%[[NB]], %[[C128]])
// CHECK:           %[[K:.*]] = arith.addi
// CHECK:           %[[IN:.*]] = arith.cmpi ult, %[[K]], %[[T]]
// CHECK:           scf.if %[[IN]] {
// CHECK:             %[[JJ:.*]] = arith.remui %[[K]], %[[TN]]
// CHECK:             %[[II:.*]] = arith.divui %[[K]], %[[TN]]
// CHECK:             %[[JS:.*]] = arith.muli %[[JJ]], %{{.*}}
// CHECK:             %[[J:.*]] = arith.addi %{{.*}}, %[[JS]]
// CHECK:             %[[IS:.*]] = arith.muli %[[II]], %{{.*}}
// CHECK:             %[[I:.*]] = arith.addi %{{.*}}, %[[IS]]
// CHECK:             memref.store %{{.*}}, %[[B]][%[[I]], %[[J]]]
func.func @matrix(%b: memref<?x?xf32>, %m: index, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%m, %n) step (%c1, %c1) {
    memref.store %zero, %b[%i, %j] : memref<?x?xf32>
    scf.reduce
  }
  return
}

// -----

// Loops with reductions, and a parallel loop in another (both), stay.
// CHECK-LABEL: func.func @stay
// CHECK:         scf.parallel (%{{.*}}) = (%c0) to (%c8) step (%c1) init
// CHECK:         scf.parallel (%{{.*}}) = (%c0) to (%c4) step (%c1) {
// CHECK-NEXT:      scf.parallel (%{{.*}}) = (%c0) to (%c8) step (%c1) {
func.func @stay(%b: memref<4x8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %sum = scf.parallel (%j) = (%c0) to (%c8) step (%c1) init (%zero) -> f32 {
    %x = memref.load %b[%c0, %j] : memref<4x8xf32>
    scf.reduce(%x : f32) {
    ^bb0(%l: f32, %r: f32):
      %s = arith.addf %l, %r : f32
      scf.reduce.return %s : f32
    }
  }
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    scf.parallel (%j) = (%c0) to (%c8) step (%c1) {
      memref.store %zero, %b[%i, %j] : memref<4x8xf32>
      scf.reduce
    }
    scf.reduce
  }
  return %sum : f32
}
