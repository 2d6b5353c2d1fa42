// RUN: cage-opt %s --split-input-file --cage-gpu-merge-kernel-modules -verify-diagnostics | FileCheck %s

// The outlined kernels, one gpu.module each (two named alike, as outlining
// names a kernel after its function), move into one module, @cage_kernels;
// each takes its old module's name and the launches follow. A module
// outlining did not make (two functions, or already given targets) stays.
// CHECK-LABEL: module
// CHECK-NOT: gpu.module @f_kernel
// CHECK: gpu.launch_func @cage_kernels::@f_kernel
// CHECK: gpu.launch_func @cage_kernels::@f_kernel_0
// CHECK: gpu.launch_func @kept::@a
// CHECK: gpu.module @cage_kernels {
// CHECK: gpu.func @f_kernel(%{{.*}}: memref<4xf32>) kernel
// CHECK: gpu.func @f_kernel_0(%{{.*}}: memref<4xf32>) kernel
// CHECK: gpu.module @kept {
// CHECK: gpu.func @a() kernel
// CHECK: gpu.func @b() kernel
module attributes {gpu.container_module} {
  func.func @f(%x: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @f_kernel::@f_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>)
    gpu.launch_func @f_kernel_0::@f_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>)
    gpu.launch_func @kept::@a blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    return
  }
  gpu.module @f_kernel {
    gpu.func @f_kernel(%arg0: memref<4xf32>) kernel {
      gpu.return
    }
  }
  gpu.module @f_kernel_0 {
    gpu.func @f_kernel(%arg0: memref<4xf32>) kernel {
      gpu.return
    }
  }
  gpu.module @kept {
    gpu.func @a() kernel {
      gpu.return
    }
    gpu.func @b() kernel {
      gpu.return
    }
  }
}

// -----

// The name it would create is taken.
// expected-error @below {{cage-gpu-merge-kernel-modules: the module already has a symbol named 'cage_kernels'}}
module attributes {gpu.container_module} {
  func.func private @cage_kernels()
}
