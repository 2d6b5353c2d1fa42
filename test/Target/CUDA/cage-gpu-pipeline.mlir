// RUN: cage-opt %s --cage-gpu-pipeline | FileCheck %s
// RUN: cage-opt %s '--cage-gpu-pipeline=chip=sm_90' | FileCheck %s --check-prefix=SM90
// REQUIRES: libdevice

// cage ops through the CPU's front (cage-lower-to-linalg) and the upstream
// GPU path: the host functions launch kernels on a stream, all of them in one module
// (cage-gpu-merge-kernel-modules), @cage_kernels, a gpu.binary holding its
// PTX for the chip, with the PTX ISA version that first has it. IEEE
// division and square root (sqrt.rn through libdevice and
// __CUDA_PREC_SQRT), libdevice linked (no .extern left for ptxas).

// CHECK-LABEL: llvm.func @quantize_rows
// CHECK: gpu.launch_func <%{{.*}} : !llvm.ptr> @cage_kernels::@quantize_rows_kernel 
// CHECK: gpu.launch_func <%{{.*}} : !llvm.ptr> @cage_kernels::@quantize_rows_kernel_0 
// CHECK: gpu.binary @cage_kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_80", features = "+ptx70">
// CHECK-SAME: .version 7.0\0A.target sm_80
// CHECK-SAME: .entry quantize_rows_kernel(
// CHECK-SAME: .entry adamw_group_error_kernel(
// CHECK-SAME: div.rn.f32
// CHECK-SAME: sqrt.rn.f32
// CHECK-NOT: sqrt.approx
// CHECK-NOT: .extern
// CHECK-LABEL: llvm.func @adamw_group_error
// CHECK: gpu.launch_func <%{{.*}} : !llvm.ptr> @cage_kernels::@adamw_group_error_kernel 
// CHECK-NOT: gpu.binary
// SM90: gpu.binary @cage_kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx78">
// SM90-SAME: .version 7.8\0A.target sm_90

func.func @quantize_rows(%x: tensor<64x256xf32>) -> tensor<64x256xf32> {
  %q = cage.quantize %x {quantizer = #cage.quantizer<bits = 4>} : tensor<64x256xf32>
  return %q : tensor<64x256xf32>
}

func.func @adamw_group_error(%w: tensor<?x64xf32>, %g: tensor<?x64xf32>, %m: tensor<?x64xf32>, %v: tensor<?x64xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) {
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4, granularity = group, group_size = 32>, optimizer = #cage.adamw<>, coupling = coupled, error = zero_clipped} : tensor<?x64xf32>
  return %w1, %m1, %v1 : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>
}
