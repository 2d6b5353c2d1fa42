// bf16 as users and the fused step use it: arithmetic, conversions, a
// transposition, and a CAGE-AdamW step with bf16 state (Semantics.md §1.5).
func.func @arith(%a: tensor<37xbf16>, %b: tensor<37xbf16>) -> tensor<37xbf16> {
  %c = arith.addf %a, %b : tensor<37xbf16>
  %k = arith.constant dense<1.5> : tensor<37xbf16>
  %d = arith.mulf %c, %k : tensor<37xbf16>
  return %d : tensor<37xbf16>
}
func.func @convert(%x: tensor<7x33xf32>) -> (tensor<7x33xbf16>, tensor<7x33xf32>) {
  %h = arith.truncf %x : tensor<7x33xf32> to tensor<7x33xbf16>
  %w = arith.extf %h : tensor<7x33xbf16> to tensor<7x33xf32>
  return %h, %w : tensor<7x33xbf16>, tensor<7x33xf32>
}
func.func @transpose(%a: tensor<35x37xbf16>) -> tensor<37x35xbf16> {
  %e = tensor.empty() : tensor<37x35xbf16>
  %t = linalg.transpose ins(%a : tensor<35x37xbf16>) outs(%e : tensor<37x35xbf16>) permutation = [1, 0]
  return %t : tensor<37x35xbf16>
}
func.func @step(%w: tensor<7x129xf32>, %g: tensor<7x129xf32>,
                %m: tensor<7x129xbf16>, %v: tensor<7x129xbf16>,
                %lr: f32, %l: f32, %t: i64, %s: i64)
    -> (tensor<7x129xf32>, tensor<7x129xbf16>, tensor<7x129xbf16>) {
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t seed(%s)
      {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>}
      : tensor<7x129xf32>, tensor<7x129xbf16>
  return %w1, %m1, %v1 : tensor<7x129xf32>, tensor<7x129xbf16>, tensor<7x129xbf16>
}
