// One quantization-aware training step of a linear layer y = x·Wᵀ with 4-bit
// weights and activations (W4A4), a mean-squared-error loss, and the CAGE
// correction fused into AdamW.
//
//   cage-opt --cage-verify examples/linear_train_step.mlir

func.func @train_step(%x: tensor<32x64xf32>, %target: tensor<32x16xf32>,
                      %w: tensor<16x64xf32>, %m: tensor<16x64xf32>,
                      %v: tensor<16x64xf32>, %t: i64)
    -> (tensor<16x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>) {
  %T = arith.constant 1000 : i64
  %lr = arith.constant 1.0e-3 : f32
  %zero = arith.constant 0.0 : f32

  // Forward: fake-quantize activations (a scale per token) and weights (a
  // scale per output channel), then the matmul on the quantized values.
  %xq = cage.quantize %x {quantizer = #cage.quantizer<bits = 4>} : tensor<32x64xf32>
  %wq = cage.quantize %w {quantizer = #cage.quantizer<bits = 4>} : tensor<16x64xf32>
  %y0 = tensor.empty() : tensor<32x16xf32>
  %yz = linalg.fill ins(%zero : f32) outs(%y0 : tensor<32x16xf32>) -> tensor<32x16xf32>
  %y = linalg.matmul
         indexing_maps = [affine_map<(i, j, k) -> (i, k)>,
                          affine_map<(i, j, k) -> (j, k)>,
                          affine_map<(i, j, k) -> (i, j)>]
         ins(%xq, %wq : tensor<32x64xf32>, tensor<16x64xf32>)
         outs(%yz : tensor<32x16xf32>) -> tensor<32x16xf32>

  // Backward: dL/dy = y − target (MSE up to a constant folded into lr), then
  // dL/dQ(W) = (dL/dy)ᵀ · Q(x), and through the quantizer with a clipped
  // straight-through estimator.
  %dy = linalg.sub ins(%y, %target : tensor<32x16xf32>, tensor<32x16xf32>)
                   outs(%y0 : tensor<32x16xf32>) -> tensor<32x16xf32>
  %dwq0 = tensor.empty() : tensor<16x64xf32>
  %dwqz = linalg.fill ins(%zero : f32) outs(%dwq0 : tensor<16x64xf32>) -> tensor<16x64xf32>
  %dwq = linalg.matmul
           indexing_maps = [affine_map<(j, k, i) -> (i, j)>,
                            affine_map<(j, k, i) -> (i, k)>,
                            affine_map<(j, k, i) -> (j, k)>]
           ins(%dy, %xq : tensor<32x16xf32>, tensor<32x64xf32>)
           outs(%dwqz : tensor<16x64xf32>) -> tensor<16x64xf32>
  %dw = cage.ste %dwq, %w {quantizer = #cage.quantizer<bits = 4>, estimator = clipped} : tensor<16x64xf32>

  // Optimizer: AdamW with the CAGE correction λ_t·(w − Q(w)), silent for the
  // first 80% of training and ramping to λ = 10 after.
  %l = cage.lambda_schedule %t, %T {lambda = 10.0 : f32, silence = 0.8 : f32, kind = linear_ramp}
  %w1, %m1, %v1 = cage.update %w, %dw, %m, %v, %lr, %l, %t
      {quantizer = #cage.quantizer<bits = 4>,
       optimizer = #cage.adamw<beta1 = 0.9, beta2 = 0.95, eps = 1.0e-08, weight_decay = 0.1>,
       coupling = decoupled} : tensor<16x64xf32>
  return %w1, %m1, %v1 : tensor<16x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>
}
