// cage-cpu-pipeline in the stock mlir-opt of LLVM 22 with libCagePlugin.so:
// the plugin registers it as a pass pipeline, so its passes are passes of
// mlir-opt's own pass manager (IR printing and timing see each of them), and
// the upstream passes it names are mlir-opt's.

// RUN: %mlir_opt --load-dialect-plugin=%cage_plugin %s --pass-pipeline='builtin.module(cage-cpu-pipeline{threads=false vector-width=8})' --mlir-print-ir-after-all -o /dev/null 2>&1 | FileCheck %s --check-prefix=PRINT
// PRINT-NOT: IR Dump After CageCPUPipeline
// PRINT:     IR Dump After CageCPUCheckSizes (cage-cpu-check-sizes)
// PRINT:     IR Dump After CageLowerToLinalg (cage-lower-to-linalg)
// PRINT:     IR Dump After OneShotBufferizePass (one-shot-bufferize)
// PRINT:     IR Dump After ConvertToLLVMPass (convert-to-llvm)
// PRINT:     IR Dump After CageCPUCheckLowered (cage-cpu-check-lowered)

// RUN: %mlir_opt --load-pass-plugin=%cage_plugin --load-dialect-plugin=%cage_plugin %s -p 'builtin.module(cage-cpu-pipeline{threads=false vector-width=8})' | FileCheck %s --check-prefix=LOWER
// LOWER-LABEL: llvm.func @step(
// LOWER-NOT:     omp.
// LOWER:         vector<8xf32>
// LOWER-LABEL: llvm.func @_mlir_ciface_step(

// RUN: not %mlir_opt --load-dialect-plugin=%cage_plugin %s --pass-pipeline='builtin.module(cage-cpu-pipeline{vector-width=0})' 2>&1 | FileCheck %s --check-prefix=BADWIDTH
// BADWIDTH: error: cage-cpu-pipeline: vector-width must be in [1, 1024]

func.func @step(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<8x16xf32>
  return %w1, %m1, %v1 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}
