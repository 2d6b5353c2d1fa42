// cage-cpu-pipeline is a registered pass pipeline, not one pass running a
// nested pass manager: its passes are passes of the pass manager it is named
// in, so IR printing, timing and crash reproducers see each of them, on the
// command line and in a textual pipeline alike.

// RUN: cage-opt %s --cage-cpu-pipeline --mlir-print-ir-after-all -o /dev/null 2>&1 | FileCheck %s --check-prefix=PRINT
// RUN: cage-opt %s --pass-pipeline='builtin.module(cage-cpu-pipeline{threads=false vector-width=8})' --mlir-print-ir-after-all -o /dev/null 2>&1 | FileCheck %s --check-prefix=PRINT
// PRINT-NOT:  IR Dump After CageCPUPipeline
// PRINT:      IR Dump After CageAutodiff (cage-autodiff)
// PRINT:      IR Dump After CageCPUCheckSizes (cage-cpu-check-sizes)
// PRINT:      IR Dump After CageVerify (cage-verify)
// PRINT:      IR Dump After CageLowerToLinalg (cage-lower-to-linalg)
// PRINT-NEXT: func.func @step(
// PRINT-NOT:    cage.update %
// PRINT:        linalg.generic
// PRINT:      IR Dump After CageCPUABI (cage-cpu-abi)
// PRINT:      IR Dump After OneShotBufferizePass (one-shot-bufferize)
// PRINT:      IR Dump After CageCPUTile (cage-cpu-tile)
// PRINT:      IR Dump After ConvertToLLVMPass (convert-to-llvm)
// PRINT:      IR Dump After CageCPUCheckLowered (cage-cpu-check-lowered)
// PRINT-NEXT: module {
// PRINT:        llvm.func @step(
// PRINT-NOT:  IR Dump After

// RUN: cage-opt %s --cage-cpu-pipeline --mlir-timing -o /dev/null 2>&1 | FileCheck %s --check-prefix=TIMING
// TIMING:      Execution time report
// TIMING-NOT:  CageCPUPipeline
// TIMING:      CageAutodiff
// TIMING:      CageCPUCheckSizes
// TIMING:      'func.func' Pipeline
// TIMING:        CageVerify
// TIMING:        CageLowerToLinalg
// TIMING:      OneShotBufferizePass
// TIMING:      CageCPUTile
// TIMING:      ConvertSCFToOpenMPPass
// TIMING:      ConvertToLLVMPass
// TIMING:      CageCPUCheckLowered

// The options, in a textual pipeline and on the command line; the pipeline
// also runs in an op-agnostic pass manager.
// RUN: cage-opt %s --pass-pipeline='builtin.module(cage-cpu-pipeline{threads=false vector-width=8})' | FileCheck %s --check-prefix=W8
// RUN: cage-opt %s --cage-cpu-pipeline='threads=false vector-width=8' | FileCheck %s --check-prefix=W8
// RUN: cage-opt %s --pass-pipeline='any(cage-cpu-pipeline{threads=false vector-width=8})' | FileCheck %s --check-prefix=W8
// W8-LABEL: llvm.func @step(
// W8-NOT:     omp.
// W8:         vector<8xf32>
// W8-LABEL: llvm.func @_mlir_ciface_step(

// Bad options are errors when the pipeline is parsed, before anything runs.
// RUN: not cage-opt %s --pass-pipeline='builtin.module(cage-cpu-pipeline{threads=false vector-width=0})' 2>&1 | FileCheck %s --check-prefix=BADWIDTH
// RUN: not cage-opt %s --cage-cpu-pipeline='vector-width=2000' 2>&1 | FileCheck %s --check-prefix=BADWIDTH
// BADWIDTH:     error: cage-cpu-pipeline: vector-width must be in [1, 1024]
// BADWIDTH-NOT: llvm.func
// RUN: not cage-opt %s --pass-pipeline='builtin.module(cage-cpu-pipeline{vector-width=eight})' 2>&1 | FileCheck %s --check-prefix=BADVALUE
// BADVALUE: 'eight' value invalid for long argument
// BADVALUE: error: cage-cpu-pipeline: invalid options `vector-width=eight`
// RUN: not cage-opt %s --pass-pipeline='builtin.module(cage-cpu-pipeline{bogus=1})' 2>&1 | FileCheck %s --check-prefix=BADOPT
// BADOPT: error: {{.*}}no such option bogus
// The pipeline runs on builtin.module, not nested in a function.
// RUN: not cage-opt %s --pass-pipeline='builtin.module(func.func(cage-cpu-pipeline))' 2>&1 | FileCheck %s --check-prefix=NESTED
// NESTED: error: cage-cpu-pipeline runs on 'builtin.module', not on 'func.func'

// A crash reproducer names the pass that failed inside the pipeline, and
// the reproducer runs.
// RUN: rm -f %t.repro.mlir %t.local.mlir
// RUN: not cage-opt %S/Inputs/unstable-update.mlir --cage-cpu-pipeline --mlir-pass-pipeline-crash-reproducer=%t.repro.mlir 2>&1 | FileCheck %s --check-prefix=FAIL
// RUN: FileCheck %s --check-prefix=REPRO < %t.repro.mlir
// RUN: not cage-opt %S/Inputs/unstable-update.mlir --cage-cpu-pipeline --mlir-pass-pipeline-crash-reproducer=%t.local.mlir --mlir-pass-pipeline-local-reproducer --mlir-disable-threading 2>&1 | FileCheck %s --check-prefix=FAIL
// RUN: FileCheck %s --check-prefix=LOCAL < %t.local.mlir
// RUN: not cage-opt --run-reproducer %t.local.mlir 2>&1 | FileCheck %s --check-prefix=REPLAY
// FAIL:  error: decoupled CAGE update is unstable
// FAIL:  Pipeline failed while executing {{.*}}`CageVerify` on 'func.func' operation: @unstable{{.*}} reproducer generated at
// REPRO: pipeline: "builtin.module(cage-autodiff{{.*}}, cage-cpu-check-sizes, func.func({{.*}}cage-verify{{.*}}cage-lower-to-linalg{{.*}}), cage-cpu-decompose-softmax, cage-convert-math-to-arith, func.func(arith-emulate-unsupported-floats{{.*}}), cage-cpu-expand-bf16, cage-cpu-abi{{.*}}one-shot-bufferize{{.*}}cage-cpu-check-lowered)"
// LOCAL: pipeline: "builtin.module(func.func(cage-verify{warn-only=false}))"
// REPLAY: error: decoupled CAGE update is unstable

func.func @step(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<8x16xf32>
  return %w1, %m1, %v1 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}
