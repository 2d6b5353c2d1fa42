// A CAGE-AdamW step written unfused: quant_error, the correction and
// cage.adamw, which cage-fuse-correction makes one cage.update.
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @step(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %lr: f32, %t: i64, %T: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %l = cage.lambda_schedule %t, %T
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %init = tensor.empty() : tensor<8x16xf32>
  %gc = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%g, %e : tensor<8x16xf32>, tensor<8x16xf32>) outs(%init : tensor<8x16xf32>) {
  ^bb0(%gi: f32, %ei: f32, %o: f32):
    %p = arith.mulf %l, %ei : f32
    %s = arith.addf %gi, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  %w1, %m1, %v1 = cage.adamw %w, %gc, %m, %v, %lr, %t {beta1 = 0.85 : f32, beta2 = 0.95 : f32, eps = 1.0e-06 : f32, weight_decay = 0.0 : f32} : tensor<8x16xf32>
  return %w1, %m1, %v1 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}
