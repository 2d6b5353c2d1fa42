// No rank limit: affine maps are built with the MLIR C API, not as text,
// cage-cpu-tile plans any number of loops, and cage-run reads and writes
// .npy files of any rank. cage.quantize of rank 70 (all dimensions 1 but the
// innermost, 8): per tensor, per row, per group of 4 with a Hadamard
// rotation (blocks of 8), per group with stochastic rounding; lowered to
// linalg, compiled by cage-cpu-pipeline to the LLVM dialect, and run by
// cage-run on a rank-70 .npy file: @high gives rank-70 results with the
// bits that @low gives for the same values at rank 1. NumPy makes at most
// 64 dimensions (32 before 2.0): tools/Inputs/npy_any_rank.py writes and
// reads the files with numpy.lib.format and compares their data flat.
// REQUIRES: numpy
// RUN: cage-opt %s --cage-lower-to-linalg | FileCheck %s
// RUN: cage-opt %s --cage-cpu-pipeline | FileCheck %s --check-prefix=LLVM
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/../tools/Inputs/npy_any_rank.py write %t/x70.npy float32 '1*69,8' 7
// RUN: %python %S/../tools/Inputs/npy_any_rank.py write %t/x.npy float32 8 7
// RUN: %python %S/../Target/CPU/Inputs/write_npy.py %t/seed.npy '<i8' ''
// RUN: cage-run %s --entry high --in %t/x70.npy --in %t/seed.npy --out %t/h0.npy --out %t/h1.npy --out %t/h2.npy --out %t/h3.npy
// RUN: cage-run %s --entry low --in %t/x.npy --in %t/seed.npy --out %t/l0.npy --out %t/l1.npy --out %t/l2.npy --out %t/l3.npy
// RUN: %python %S/../tools/Inputs/npy_any_rank.py show %t/x70.npy %t/h0.npy %t/h1.npy %t/h2.npy %t/h3.npy | FileCheck %s --check-prefix=SHAPE
// RUN: %python %S/../tools/Inputs/npy_any_rank.py same %t/h0.npy %t/l0.npy | FileCheck %s --check-prefix=SAME
// RUN: %python %S/../tools/Inputs/npy_any_rank.py same %t/h1.npy %t/l1.npy | FileCheck %s --check-prefix=SAME
// RUN: %python %S/../tools/Inputs/npy_any_rank.py same %t/h2.npy %t/l2.npy | FileCheck %s --check-prefix=SAME
// RUN: %python %S/../tools/Inputs/npy_any_rank.py same %t/h3.npy %t/l3.npy | FileCheck %s --check-prefix=SAME
// RUN: not %python %S/../tools/Inputs/npy_any_rank.py same %t/x70.npy %t/h0.npy | FileCheck %s --check-prefix=CHANGED

// SHAPE-COUNT-5: .npy: 1.0 rank 70 (1, {{(1, ){68}8}}) float32
// SAME: h{{[0-3]}}.npy = l{{[0-3]}}.npy: ok
// The quantized values differ from the input.
// CHANGED: x70.npy = h0.npy: MISMATCH values

// The maps of the generics of @high: 70 loops for the element-wise ops
// (identity) and the reductions per tensor (to a 0-d α) and per row (into
// 69), 71 for the groups of 4 (the innermost 8 split into 2 x 4), 72 for a
// Hadamard stage (8 split into [8 / 2h, 2, h]) whose `2` loop (d70) is fixed
// to 0 and to 1 for the two halves of each pair.
// CHECK-DAG: #[[ID70:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16, d17, d18, d19, d20, d21, d22, d23, d24, d25, d26, d27, d28, d29, d30, d31, d32, d33, d34, d35, d36, d37, d38, d39, d40, d41, d42, d43, d44, d45, d46, d47, d48, d49, d50, d51, d52, d53, d54, d55, d56, d57, d58, d59, d60, d61, d62, d63, d64, d65, d66, d67, d68, d69) -> (d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16, d17, d18, d19, d20, d21, d22, d23, d24, d25, d26, d27, d28, d29, d30, d31, d32, d33, d34, d35, d36, d37, d38, d39, d40, d41, d42, d43, d44, d45, d46, d47, d48, d49, d50, d51, d52, d53, d54, d55, d56, d57, d58, d59, d60, d61, d62, d63, d64, d65, d66, d67, d68, d69)>
// CHECK-DAG: #[[ALL70:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16, d17, d18, d19, d20, d21, d22, d23, d24, d25, d26, d27, d28, d29, d30, d31, d32, d33, d34, d35, d36, d37, d38, d39, d40, d41, d42, d43, d44, d45, d46, d47, d48, d49, d50, d51, d52, d53, d54, d55, d56, d57, d58, d59, d60, d61, d62, d63, d64, d65, d66, d67, d68, d69) -> ()>
// CHECK-DAG: #[[ROW70:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16, d17, d18, d19, d20, d21, d22, d23, d24, d25, d26, d27, d28, d29, d30, d31, d32, d33, d34, d35, d36, d37, d38, d39, d40, d41, d42, d43, d44, d45, d46, d47, d48, d49, d50, d51, d52, d53, d54, d55, d56, d57, d58, d59, d60, d61, d62, d63, d64, d65, d66, d67, d68, d69) -> (d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16, d17, d18, d19, d20, d21, d22, d23, d24, d25, d26, d27, d28, d29, d30, d31, d32, d33, d34, d35, d36, d37, d38, d39, d40, d41, d42, d43, d44, d45, d46, d47, d48, d49, d50, d51, d52, d53, d54, d55, d56, d57, d58, d59, d60, d61, d62, d63, d64, d65, d66, d67, d68)>
// CHECK-DAG: #[[ID71:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16, d17, d18, d19, d20, d21, d22, d23, d24, d25, d26, d27, d28, d29, d30, d31, d32, d33, d34, d35, d36, d37, d38, d39, d40, d41, d42, d43, d44, d45, d46, d47, d48, d49, d50, d51, d52, d53, d54, d55, d56, d57, d58, d59, d60, d61, d62, d63, d64, d65, d66, d67, d68, d69, d70) -> (d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16, d17, d18, d19, d20, d21, d22, d23, d24, d25, d26, d27, d28, d29, d30, d31, d32, d33, d34, d35, d36, d37, d38, d39, d40, d41, d42, d43, d44, d45, d46, d47, d48, d49, d50, d51, d52, d53, d54, d55, d56, d57, d58, d59, d60, d61, d62, d63, d64, d65, d66, d67, d68, d69, d70)>
// CHECK-DAG: #[[GROUP71:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16, d17, d18, d19, d20, d21, d22, d23, d24, d25, d26, d27, d28, d29, d30, d31, d32, d33, d34, d35, d36, d37, d38, d39, d40, d41, d42, d43, d44, d45, d46, d47, d48, d49, d50, d51, d52, d53, d54, d55, d56, d57, d58, d59, d60, d61, d62, d63, d64, d65, d66, d67, d68, d69, d70) -> (d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16, d17, d18, d19, d20, d21, d22, d23, d24, d25, d26, d27, d28, d29, d30, d31, d32, d33, d34, d35, d36, d37, d38, d39, d40, d41, d42, d43, d44, d45, d46, d47, d48, d49, d50, d51, d52, d53, d54, d55, d56, d57, d58, d59, d60, d61, d62, d63, d64, d65, d66, d67, d68, d69)>
// CHECK-DAG: #[[LOW72:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16, d17, d18, d19, d20, d21, d22, d23, d24, d25, d26, d27, d28, d29, d30, d31, d32, d33, d34, d35, d36, d37, d38, d39, d40, d41, d42, d43, d44, d45, d46, d47, d48, d49, d50, d51, d52, d53, d54, d55, d56, d57, d58, d59, d60, d61, d62, d63, d64, d65, d66, d67, d68, d69, d70, d71) -> (d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16, d17, d18, d19, d20, d21, d22, d23, d24, d25, d26, d27, d28, d29, d30, d31, d32, d33, d34, d35, d36, d37, d38, d39, d40, d41, d42, d43, d44, d45, d46, d47, d48, d49, d50, d51, d52, d53, d54, d55, d56, d57, d58, d59, d60, d61, d62, d63, d64, d65, d66, d67, d68, d69, 0, d71)>
// CHECK-DAG: #[[HIGH72:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16, d17, d18, d19, d20, d21, d22, d23, d24, d25, d26, d27, d28, d29, d30, d31, d32, d33, d34, d35, d36, d37, d38, d39, d40, d41, d42, d43, d44, d45, d46, d47, d48, d49, d50, d51, d52, d53, d54, d55, d56, d57, d58, d59, d60, d61, d62, d63, d64, d65, d66, d67, d68, d69, d70, d71) -> (d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16, d17, d18, d19, d20, d21, d22, d23, d24, d25, d26, d27, d28, d29, d30, d31, d32, d33, d34, d35, d36, d37, d38, d39, d40, d41, d42, d43, d44, d45, d46, d47, d48, d49, d50, d51, d52, d53, d54, d55, d56, d57, d58, d59, d60, d61, d62, d63, d64, d65, d66, d67, d68, d69, 1, d71)>
// CHECK-DAG: #[[ID72:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16, d17, d18, d19, d20, d21, d22, d23, d24, d25, d26, d27, d28, d29, d30, d31, d32, d33, d34, d35, d36, d37, d38, d39, d40, d41, d42, d43, d44, d45, d46, d47, d48, d49, d50, d51, d52, d53, d54, d55, d56, d57, d58, d59, d60, d61, d62, d63, d64, d65, d66, d67, d68, d69, d70, d71) -> (d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16, d17, d18, d19, d20, d21, d22, d23, d24, d25, d26, d27, d28, d29, d30, d31, d32, d33, d34, d35, d36, d37, d38, d39, d40, d41, d42, d43, d44, d45, d46, d47, d48, d49, d50, d51, d52, d53, d54, d55, d56, d57, d58, d59, d60, d61, d62, d63, d64, d65, d66, d67, d68, d69, d70, d71)>
// CHECK-LABEL: func.func @high
// CHECK: linalg.generic {indexing_maps = [#[[ID70]], #[[ALL70]]]
// CHECK-SAME: iterator_types = [{{("reduction", ){69}"reduction"}}]
// CHECK: linalg.generic {indexing_maps = [#[[ID70]], #[[ROW70]]]
// CHECK-SAME: iterator_types = [{{("parallel", ){69}"reduction"}}]
// CHECK: linalg.generic {indexing_maps = [#[[LOW72]], #[[HIGH72]], #[[ID72]]]
// CHECK-SAME: iterator_types = [{{("parallel", ){71}"parallel"}}]
// CHECK: linalg.generic {indexing_maps = [#[[ID71]], #[[GROUP71]]]
// CHECK-SAME: iterator_types = [{{("parallel", ){70}"reduction"}}]
// CHECK-LABEL: func.func @low
// CHECK-NOT: cage.

// LLVM-LABEL: llvm.func @high
// LLVM-LABEL: llvm.func @low
// LLVM-NOT: {{ cage\.|linalg\.}}

func.func @high(%x: tensor<1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x8xf32>, %seed: i64) -> (tensor<1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x8xf32>, tensor<1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x8xf32>, tensor<1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x8xf32>, tensor<1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x8xf32>) {
  %q0 = cage.quantize %x {quantizer = #cage.quantizer<bits = 2, granularity = tensor>} : tensor<1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x8xf32>
  %q1 = cage.quantize %x {quantizer = #cage.quantizer<bits = 3>} : tensor<1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x8xf32>
  %q2 = cage.quantize %x {quantizer = #cage.quantizer<bits = 4, granularity = group, group_size = 4, rotation = hadamard, block = 8>} : tensor<1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x8xf32>
  %q3 = cage.quantize %x seed(%seed) {quantizer = #cage.quantizer<bits = 4, granularity = group, group_size = 4, rounding = stochastic>} : tensor<1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x8xf32>
  return %q0, %q1, %q2, %q3 : tensor<1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x8xf32>, tensor<1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x8xf32>, tensor<1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x8xf32>, tensor<1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x8xf32>
}

func.func @low(%x: tensor<8xf32>, %seed: i64) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %q0 = cage.quantize %x {quantizer = #cage.quantizer<bits = 2, granularity = tensor>} : tensor<8xf32>
  %q1 = cage.quantize %x {quantizer = #cage.quantizer<bits = 3>} : tensor<8xf32>
  %q2 = cage.quantize %x {quantizer = #cage.quantizer<bits = 4, granularity = group, group_size = 4, rotation = hadamard, block = 8>} : tensor<8xf32>
  %q3 = cage.quantize %x seed(%seed) {quantizer = #cage.quantizer<bits = 4, granularity = group, group_size = 4, rounding = stochastic>} : tensor<8xf32>
  return %q0, %q1, %q2, %q3 : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
}
