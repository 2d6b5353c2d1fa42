// RUN: cage-opt %s --split-input-file --cage-autodiff --verify-diagnostics

// Every diagnostic of cage-autodiff: what it cannot differentiate, and
// forward functions it cannot make a training step of. Nothing is ever
// given a wrong gradient silently.

#id = affine_map<(i) -> (i)>
#all = affine_map<(i) -> ()>
// expected-error @+1 {{a function with parameters (cage.param) must return one f32 loss; this one has 2 results}}
func.func @two_results(%w: tensor<4xf32> {cage.param = #cage.param<>}) -> (f32, f32) {
  %c = arith.constant 1.0 : f32
  return %c, %c : f32, f32
}

// -----

// expected-error @+1 {{parameter argument #0 must be a ranked tensor of f32}}
func.func @scalar_param(%w: f32 {cage.param = #cage.param<>}) -> f32 {
  return %w : f32
}

// -----

// expected-error @+1 {{parameter argument #0 is quantized by several quantizers: say which one the CAGE correction uses (#cage.param<quantizer = ...>)}}
func.func @two_quantizers(%w: tensor<4xf32> {cage.param = #cage.param<>}) -> f32 {
  %a = cage.quantize %w {quantizer = #cage.quantizer<bits = 4>} : tensor<4xf32>
  %b = cage.quantize %w {quantizer = #cage.quantizer<bits = 3>} : tensor<4xf32>
  %c = arith.constant 1.0 : f32
  return %c : f32
}

// -----

// expected-error @+1 {{parameter argument #0 is quantized with scale = operand: give the CAGE correction a quantizer with a scale of its own (#cage.param<quantizer = ...>) or use cage = false}}
func.func @learned_scale(%w: tensor<4xf32> {cage.param = #cage.param<>}, %a: tensor<f32>) -> f32 {
  %q = cage.quantize %w scale(%a) {quantizer = #cage.quantizer<granularity = tensor, scale = operand>} : tensor<4xf32>, tensor<f32>
  %c = arith.constant 1.0 : f32
  return %c : f32
}

// -----

#id = affine_map<(i) -> (i)>
#all = affine_map<(i) -> ()>
func.func @no_rule_in_body(%w: tensor<4xf32> {cage.param = #cage.param<>}) -> f32 {
  %zero = arith.constant 0.0 : f32
  %s0 = tensor.empty() : tensor<f32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<f32>) -> tensor<f32>
  // expected-error @+1 {{cage-autodiff cannot differentiate 'linalg.generic': its body computes with 'math.floor', which has no derivative rule}}
  %l = linalg.generic {indexing_maps = [#id, #all], iterator_types = ["reduction"]}
      ins(%w : tensor<4xf32>) outs(%sz : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %f = math.floor %a : f32
    %r = arith.addf %acc, %f : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  %v = tensor.extract %l[] : tensor<f32>
  return %v : f32
}

// -----

#id = affine_map<(i) -> (i)>
#all = affine_map<(i) -> ()>
func.func @product_reduction(%w: tensor<4xf32> {cage.param = #cage.param<>}) -> f32 {
  %one = arith.constant 1.0 : f32
  %s0 = tensor.empty() : tensor<f32>
  %sz = linalg.fill ins(%one : f32) outs(%s0 : tensor<f32>) -> tensor<f32>
  // expected-error @+1 {{cage-autodiff cannot differentiate 'linalg.generic': it reduces with a body other than acc + f, acc - f, max(acc, f) or min(acc, f), where f does not read acc}}
  %l = linalg.generic {indexing_maps = [#id, #all], iterator_types = ["reduction"]}
      ins(%w : tensor<4xf32>) outs(%sz : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.mulf %acc, %a : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  %v = tensor.extract %l[] : tensor<f32>
  return %v : f32
}

// -----

#id = affine_map<(i) -> (i)>
#all = affine_map<(i) -> ()>
func.func @two_results(%w: tensor<4xf32> {cage.param = #cage.param<>}) -> f32 {
  %e = tensor.empty() : tensor<4xf32>
  // expected-error @+1 {{cage-autodiff cannot differentiate 'linalg.generic': it has 2 results; linalg ops with one result are differentiated (write one op per result)}}
  %a, %b = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
      ins(%w : tensor<4xf32>) outs(%e, %e : tensor<4xf32>, tensor<4xf32>) {
  ^bb0(%x: f32, %o: f32, %p: f32):
    %n = arith.negf %x : f32
    linalg.yield %x, %n : f32, f32
  } -> (tensor<4xf32>, tensor<4xf32>)
  %c0 = arith.constant 0 : index
  %v = tensor.extract %a[%c0] : tensor<4xf32>
  return %v : f32
}

// -----

#map = affine_map<(i) -> (i floordiv 2)>
#id = affine_map<(i) -> (i)>
func.func @not_a_projection(%w: tensor<4xf32> {cage.param = #cage.param<>}) -> f32 {
  %e = tensor.empty() : tensor<8xf32>
  // expected-error @+1 {{cage-autodiff cannot differentiate 'linalg.generic': an operand that it reads through an indexing map other than a projected permutation of its loops is differentiated}}
  %r = linalg.generic {indexing_maps = [#map, #id], iterator_types = ["parallel"]}
      ins(%w : tensor<4xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<8xf32>
  %c0 = arith.constant 0 : index
  %v = tensor.extract %r[%c0] : tensor<8xf32>
  return %v : f32
}

// -----

func.func @no_rule(%w: tensor<4xf32> {cage.param = #cage.param<>}) -> f32 {
  %c0 = arith.constant 0 : index
  %v = tensor.extract %w[%c0] : tensor<4xf32>
  // expected-error @+1 {{cage-autodiff cannot differentiate 'math.floor': it has no derivative rule (docs/Training.md lists the supported ops)}}
  %f = math.floor %v : f32
  return %f : f32
}

// -----

// expected-warning @+1 {{parameter argument #1 does not affect the loss: its gradient is zero}}
func.func @unused(%w: tensor<4xf32> {cage.param = #cage.param<>}, %u: tensor<4xf32> {cage.param = #cage.param<>}) -> f32 {
  %c0 = arith.constant 0 : index
  %v = tensor.extract %w[%c0] : tensor<4xf32>
  return %v : f32
}

// -----

// expected-error @+1 {{cage-autodiff cannot add 'taken_train_step': a symbol of that name exists}}
func.func @taken(%w: tensor<4xf32> {cage.param = #cage.param<>}) -> f32 {
  %c0 = arith.constant 0 : index
  %v = tensor.extract %w[%c0] : tensor<4xf32>
  return %v : f32
}
func.func @taken_train_step() {
  return
}

// -----

// FOGZO: one sign, one epsilon and one schedule per step for all of P.
// expected-error @+1 {{the FOGZO parameters of a function share one #cage.fogzo (one sign, one epsilon and one schedule per step); parameter argument #1 has another}}
func.func @fogzo_disagree(%w: tensor<4xf32> {cage.param = #cage.param<fogzo = #cage.fogzo<seed = 1>>}, %b: tensor<4xf32> {cage.param = #cage.param<fogzo = #cage.fogzo<seed = 2>>}) -> f32 {
  %q = cage.quantize %w {quantizer = #cage.quantizer<bits = 4>} : tensor<4xf32>
  %c = arith.constant 1.0 : f32
  return %c : f32
}

// -----

// expected-error @+1 {{FOGZO derives epsilon from the grids of its parameters, but none of the 1 FOGZO parameters is quantized: give #cage.fogzo an epsilon > 0}}
func.func @fogzo_no_grid(%w: tensor<4xf32> {cage.param = #cage.param<fogzo = #cage.fogzo<>>}) -> f32 {
  %c = arith.constant 1.0 : f32
  return %c : f32
}

// -----

// expected-error @+1 {{parameter argument #0 is quantized with scale = operand: FOGZO cannot derive epsilon from it; give #cage.fogzo an epsilon > 0 or #cage.param a quantizer}}
func.func @fogzo_learned_scale(%w: tensor<4xf32> {cage.param = #cage.param<cage = false, fogzo = #cage.fogzo<>>}, %a: tensor<f32>) -> f32 {
  %q = cage.quantize %w scale(%a) {quantizer = #cage.quantizer<granularity = tensor, scale = operand>} : tensor<4xf32>, tensor<f32>
  %c = arith.constant 1.0 : f32
  return %c : f32
}

// -----

// expected-error @+1 {{parameter argument #0 is quantized by several quantizers: say which grid FOGZO's epsilon comes from (#cage.param<quantizer = ...>)}}
func.func @fogzo_two_quantizers(%w: tensor<4xf32> {cage.param = #cage.param<cage = false, fogzo = #cage.fogzo<>>}) -> f32 {
  %a = cage.quantize %w {quantizer = #cage.quantizer<bits = 4>} : tensor<4xf32>
  %b = cage.quantize %w {quantizer = #cage.quantizer<bits = 3>} : tensor<4xf32>
  %c = arith.constant 1.0 : f32
  return %c : f32
}
