// RUN: cage-opt %s --split-input-file --cage-lower-to-linalg --verify-diagnostics

// bf16 optimizer state lowers only fused; a Hadamard rotation and tensors
// of rank > 2 with several dynamic leading dimensions take the unfused
// lowering, which has no bf16 state.
func.func @bf16_hadamard(%w: tensor<4x64xf32>, %m: tensor<4x64xbf16>, %lr: f32, %l: f32, %t: i64, %s: i64) -> tensor<4x64xbf16> {
  // expected-error @+1 {{cage-lower-to-linalg cannot lower a cage.update with bf16 optimizer state and a Hadamard rotation, or with a tensor of rank > 2 with more than one dynamic leading dimension}}
  %0:3 = cage.update %w, %w, %m, %m, %lr, %l, %t seed(%s) {quantizer = #cage.quantizer<rotation = hadamard, block = 64>, optimizer = #cage.adamw<>} : tensor<4x64xf32>, tensor<4x64xbf16>
  return %0#1 : tensor<4x64xbf16>
}

// -----

func.func @bf16_dynamic_rank3(%w: tensor<?x?x8xf32>, %b: tensor<?x?x8xbf16>, %lr: f32, %l: f32, %s: i64) -> tensor<?x?x8xbf16> {
  // expected-error @+1 {{cage-lower-to-linalg cannot lower a cage.update with bf16 optimizer state and a Hadamard rotation, or with a tensor of rank > 2 with more than one dynamic leading dimension}}
  %0:2 = cage.update %w, %w, %b, %lr, %l seed(%s) {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<momentum = 0.9>} : tensor<?x?x8xf32>, tensor<?x?x8xbf16>
  return %0#1 : tensor<?x?x8xbf16>
}
