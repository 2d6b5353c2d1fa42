// The fused CAGE step on in-place entry points (docs/Tools.md, "In-place
// updates"): cage.update and the unfused spelling of three updates, which
// cage-fuse-correction and cage-fuse-multi-tensor turn into one
// cage.multi_update, compile to code that reads and writes every parameter
// in place: one OpenMP parallel region per function, no allocation, no copy
// (the scale of each row or group is a scalar in a register, the error and
// the corrected gradient never reach memory). Each function has more than
// 8192 elements, so its loop has several chunks and a parallel region.
// Compiled as written (--no-fuse-updates), the same functions allocate
// the error and the corrected gradient.
// RUN: cage-compile %s -o %t.o
// RUN: llvm-nm --undefined-only %t.o | FileCheck %s --check-prefix=SYMBOLS
// RUN: cage-compile %s -o %t-unfused.o --no-fuse-updates
// RUN: llvm-nm --undefined-only %t-unfused.o | FileCheck %s --check-prefix=UNFUSED
// UNFUSED: malloc
// RUN: cage-compile %s -o - --emit=mlir | FileCheck %s
// SYMBOLS-NOT: {{alloc|memcpy|memmove}}
// SYMBOLS: __kmpc_fork_call
// SYMBOLS-NOT: {{alloc|memcpy|memmove}}

// CHECK-LABEL: llvm.func @update_row(
// CHECK-NOT:     llvm.func
// CHECK:         omp.parallel
// CHECK-NOT:     omp.parallel
// CHECK-NOT:     llvm.call @{{.*(alloc|memcpy|memmove)}}
// CHECK-LABEL: llvm.func @_mlir_ciface_update_row(
func.func @update_row(%w: memref<256x300xf32>, %g: memref<256x300xf32>, %m: memref<256x300xf32>,
                      %v: memref<256x300xf32>, %lr: f32, %l: f32, %t: i64) {
  %wt = bufferization.to_tensor %w restrict writable : memref<256x300xf32> to tensor<256x300xf32>
  %gt = bufferization.to_tensor %g restrict : memref<256x300xf32> to tensor<256x300xf32>
  %mt = bufferization.to_tensor %m restrict writable : memref<256x300xf32> to tensor<256x300xf32>
  %vt = bufferization.to_tensor %v restrict writable : memref<256x300xf32> to tensor<256x300xf32>
  %w1, %m1, %v1 = cage.update %wt, %gt, %mt, %vt, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<256x300xf32>
  bufferization.materialize_in_destination %w1 in restrict writable %w : (tensor<256x300xf32>, memref<256x300xf32>) -> ()
  bufferization.materialize_in_destination %m1 in restrict writable %m : (tensor<256x300xf32>, memref<256x300xf32>) -> ()
  bufferization.materialize_in_destination %v1 in restrict writable %v : (tensor<256x300xf32>, memref<256x300xf32>) -> ()
  return
}

// Three parameters of different shapes, coupled CAGE-SGD with group-128
// scales, each written as a researcher writes it: the quantization error,
// the corrected gradient g + λ_t·e in a linalg.generic, the plain optimizer
// op.
// CHECK-LABEL: llvm.func @three_unfused(
// CHECK-NOT:     llvm.func
// CHECK:         omp.parallel
// CHECK-NOT:     omp.parallel
// CHECK-NOT:     llvm.call @{{.*(alloc|memcpy|memmove)}}
// CHECK-LABEL: llvm.func @_mlir_ciface_three_unfused(
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @three_unfused(%wa: memref<16x256xf32>, %ga: memref<16x256xf32>, %ba: memref<16x256xf32>,
                         %wb: memref<3x128xf32>, %gb: memref<3x128xf32>, %bb: memref<3x128xf32>,
                         %wc: memref<200x512xf32>, %gc: memref<200x512xf32>, %bc: memref<200x512xf32>,
                         %lr: f32, %l: f32) {
  %wat = bufferization.to_tensor %wa restrict writable : memref<16x256xf32> to tensor<16x256xf32>
  %gat = bufferization.to_tensor %ga restrict : memref<16x256xf32> to tensor<16x256xf32>
  %bat = bufferization.to_tensor %ba restrict writable : memref<16x256xf32> to tensor<16x256xf32>
  %ea = cage.quant_error %wat {quantizer = #cage.quantizer<bits = 4, granularity = group, group_size = 128>} : tensor<16x256xf32>
  %ia = tensor.empty() : tensor<16x256xf32>
  %gca = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%gat, %ea : tensor<16x256xf32>, tensor<16x256xf32>) outs(%ia : tensor<16x256xf32>) {
  ^bb0(%g0: f32, %e0: f32, %o0: f32):
    %p = arith.mulf %l, %e0 : f32
    %s = arith.addf %g0, %p : f32
    linalg.yield %s : f32
  } -> tensor<16x256xf32>
  %wa1, %ba1 = cage.sgd %wat, %gca, %bat, %lr {momentum = 0.9 : f32} : tensor<16x256xf32>
  %wbt = bufferization.to_tensor %wb restrict writable : memref<3x128xf32> to tensor<3x128xf32>
  %gbt = bufferization.to_tensor %gb restrict : memref<3x128xf32> to tensor<3x128xf32>
  %bbt = bufferization.to_tensor %bb restrict writable : memref<3x128xf32> to tensor<3x128xf32>
  %eb = cage.quant_error %wbt {quantizer = #cage.quantizer<bits = 4, granularity = group, group_size = 128>} : tensor<3x128xf32>
  %ib = tensor.empty() : tensor<3x128xf32>
  %gcb = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%gbt, %eb : tensor<3x128xf32>, tensor<3x128xf32>) outs(%ib : tensor<3x128xf32>) {
  ^bb0(%g0: f32, %e0: f32, %o0: f32):
    %p = arith.mulf %l, %e0 : f32
    %s = arith.addf %g0, %p : f32
    linalg.yield %s : f32
  } -> tensor<3x128xf32>
  %wb1, %bb1 = cage.sgd %wbt, %gcb, %bbt, %lr {momentum = 0.9 : f32} : tensor<3x128xf32>
  %wct = bufferization.to_tensor %wc restrict writable : memref<200x512xf32> to tensor<200x512xf32>
  %gct = bufferization.to_tensor %gc restrict : memref<200x512xf32> to tensor<200x512xf32>
  %bct = bufferization.to_tensor %bc restrict writable : memref<200x512xf32> to tensor<200x512xf32>
  %ec = cage.quant_error %wct {quantizer = #cage.quantizer<bits = 4, granularity = group, group_size = 128>} : tensor<200x512xf32>
  %ic = tensor.empty() : tensor<200x512xf32>
  %gcc = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%gct, %ec : tensor<200x512xf32>, tensor<200x512xf32>) outs(%ic : tensor<200x512xf32>) {
  ^bb0(%g0: f32, %e0: f32, %o0: f32):
    %p = arith.mulf %l, %e0 : f32
    %s = arith.addf %g0, %p : f32
    linalg.yield %s : f32
  } -> tensor<200x512xf32>
  %wc1, %bc1 = cage.sgd %wct, %gcc, %bct, %lr {momentum = 0.9 : f32} : tensor<200x512xf32>
  bufferization.materialize_in_destination %wa1 in restrict writable %wa : (tensor<16x256xf32>, memref<16x256xf32>) -> ()
  bufferization.materialize_in_destination %ba1 in restrict writable %ba : (tensor<16x256xf32>, memref<16x256xf32>) -> ()
  bufferization.materialize_in_destination %wb1 in restrict writable %wb : (tensor<3x128xf32>, memref<3x128xf32>) -> ()
  bufferization.materialize_in_destination %bb1 in restrict writable %bb : (tensor<3x128xf32>, memref<3x128xf32>) -> ()
  bufferization.materialize_in_destination %wc1 in restrict writable %wc : (tensor<200x512xf32>, memref<200x512xf32>) -> ()
  bufferization.materialize_in_destination %bc1 in restrict writable %bc : (tensor<200x512xf32>, memref<200x512xf32>) -> ()
  return
}
