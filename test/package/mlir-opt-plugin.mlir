// The stock mlir-opt of LLVM 22 (Debian's, linked against libMLIR.so) with
// libCagePlugin.so: the dialect plugin parses and prints cage IR, and the
// cage passes run from --pass-pipeline. (mlir-opt loads plugins while it
// parses its flags, after it has made a flag of each registered pass, so
// `--cage-verify` is not a flag there: name cage passes in a pipeline.)

// Round trip through the stock tool, twice.
// RUN: %mlir_opt --load-dialect-plugin=%cage_plugin %s | %mlir_opt --load-dialect-plugin=%cage_plugin | FileCheck %s --check-prefix=ROUND

// cage-verify and cage-lower-to-linalg; the dialect plugin registers the
// passes too, and the pass plugin alone does the same for the passes.
// RUN: %mlir_opt --load-dialect-plugin=%cage_plugin %s --pass-pipeline='builtin.module(func.func(cage-verify,cage-lower-to-linalg))' | FileCheck %s --check-prefix=LOWER
// RUN: %mlir_opt --load-dialect-plugin=%cage_plugin --load-pass-plugin=%cage_plugin %s -p 'builtin.module(func.func(cage-verify{warn-only=true},cage-lower-to-linalg))' | FileCheck %s --check-prefix=LOWER

// A cage-verify error through the stock tool's diagnostics.
// RUN: not %mlir_opt --load-dialect-plugin=%cage_plugin %S/Inputs/unstable.mlir --pass-pipeline='builtin.module(func.func(cage-verify))' 2>&1 | FileCheck %s --check-prefix=UNSTABLE
// UNSTABLE: unstable.mlir:6:{{[0-9]+}}: error: decoupled CAGE update is unstable: lr * lambda_t reaches 1 (lr = 0.1, lambda_t up to 10); it must stay below 1

// Without the plugin, the stock tool does not know the dialect.
// RUN: not %mlir_opt %s 2>&1 | FileCheck %s --check-prefix=NOPLUGIN
// NOPLUGIN: Dialect `cage' not found for custom op 'cage.quantize'

// ROUND-LABEL: func.func @quantize
// ROUND: cage.quantize %{{.*}} {quantizer = #cage.quantizer<bits = 3, granularity = group, group_size = 8>} : tensor<4x16xf32>
// ROUND: cage.ste %{{.*}}, %{{.*}} {quantizer = #cage.quantizer<bits = 3, granularity = group, group_size = 8>, estimator = clipped} : tensor<4x16xf32>

// LOWER-LABEL: func.func @quantize
// LOWER-NOT: cage.
// LOWER: linalg.generic
// LOWER-NOT: cage.
// LOWER: return
func.func @quantize(%w: tensor<4x16xf32>, %g: tensor<4x16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %q = cage.quantize %w {quantizer = #cage.quantizer<bits = 3, granularity = group, group_size = 8>} : tensor<4x16xf32>
  %d = cage.ste %g, %w {quantizer = #cage.quantizer<bits = 3, granularity = group, group_size = 8>, estimator = clipped} : tensor<4x16xf32>
  return %q, %d : tensor<4x16xf32>, tensor<4x16xf32>
}
