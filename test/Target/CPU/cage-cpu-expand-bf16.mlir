// RUN: cage-opt %s --split-input-file --cage-cpu-expand-bf16 | FileCheck %s

// bf16 -> f32: the f32 whose bits are h << 16; to f64 through that f32.
// CHECK-LABEL: func.func @extend
// CHECK-SAME: (%[[H:.*]]: bf16)
// CHECK-NOT: arith.extf %[[H]]
// CHECK: %[[BITS:.*]] = arith.bitcast %[[H]] : bf16 to i16
// CHECK: %[[WIDE:.*]] = arith.extui %[[BITS]] : i16 to i32
// CHECK: %[[SHIFTED:.*]] = arith.shli %[[WIDE]], %{{.*}} : i32
// CHECK: %[[F:.*]] = arith.bitcast %[[SHIFTED]] : i32 to f32
// CHECK: arith.extui
// CHECK: %[[F2:.*]] = arith.bitcast %{{.*}} : i32 to f32
// CHECK: %[[D:.*]] = arith.extf %[[F2]] : f32 to f64
// CHECK: return %[[F]], %[[D]]
func.func @extend(%h: bf16) -> (f32, f64) {
  %f = arith.extf %h : bf16 to f32
  %d = arith.extf %h : bf16 to f64
  return %f, %d : f32, f64
}

// -----

// f32 -> bf16 to nearest, ties to even: (b + 0x7FFF + ((b >> 16) & 1)) >> 16;
// a NaN quiet, its sign and the top of its payload kept: (b >> 16) | 0x40.
// CHECK-LABEL: func.func @narrow
// CHECK-SAME: (%[[X:.*]]: f32)
// CHECK: %[[B:.*]] = arith.bitcast %[[X]] : f32 to i32
// CHECK: %[[HIGH:.*]] = arith.shrui %[[B]], %{{.*}} : i32
// CHECK: %[[C1:.*]] = arith.constant 1 : i32
// CHECK: %[[ODD:.*]] = arith.andi %[[HIGH]], %[[C1]] : i32
// CHECK: %[[BIAS:.*]] = arith.constant 32767 : i32
// CHECK: %[[ADD:.*]] = arith.addi %[[ODD]], %[[BIAS]] : i32
// CHECK: %[[SUM:.*]] = arith.addi %[[B]], %[[ADD]] : i32
// CHECK: %[[RNE:.*]] = arith.shrui %[[SUM]], %{{.*}} : i32
// CHECK: %[[QUIET:.*]] = arith.constant 64 : i32
// CHECK: %[[NAN:.*]] = arith.ori %[[HIGH]], %[[QUIET]] : i32
// CHECK: %[[UNO:.*]] = arith.cmpf uno, %[[X]], %[[X]] : f32
// CHECK: %[[SEL:.*]] = arith.select %[[UNO]], %[[NAN]], %[[RNE]] : i32
// CHECK: %[[T:.*]] = arith.trunci %[[SEL]] : i32 to i16
// CHECK: %[[R:.*]] = arith.bitcast %[[T]] : i16 to bf16
// CHECK: return %[[R]]
func.func @narrow(%x: f32) -> bf16 {
  %h = arith.truncf %x : f32 to bf16
  return %h : bf16
}

// -----

// Left to LLVM: another rounding mode, a truncf from f64, other types,
// vectors (the pipeline runs the pass on scalar bodies).
// CHECK-LABEL: func.func @left_alone
// CHECK: arith.truncf %{{.*}} to_nearest_away : f32 to bf16
// CHECK: arith.truncf %{{.*}} : f64 to bf16
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: arith.extf %{{.*}} : vector<8xbf16> to vector<8xf32>
func.func @left_alone(%x: f32, %d: f64, %h: f16, %v: vector<8xbf16>) -> (bf16, bf16, f32, vector<8xf32>) {
  %a = arith.truncf %x to_nearest_away : f32 to bf16
  %b = arith.truncf %d : f64 to bf16
  %c = arith.extf %h : f16 to f32
  %e = arith.extf %v : vector<8xbf16> to vector<8xf32>
  return %a, %b, %c, %e : bf16, bf16, f32, vector<8xf32>
}
