// One function of each kind of signature the GPU's entry points carry: a
// memref result, a scalar result, several results with run-time checks
// (the sizes of w, g, m and v agree; t >= 1).
func.func @scale_rows(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %y = cage.quantize %x {quantizer = #cage.quantizer<bits = 4>} : tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

func.func @total(%x: tensor<?xf32>) -> f32 {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<f32>
  %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<f32>) -> tensor<f32>
  %sum = linalg.reduce ins(%x : tensor<?xf32>) outs(%acc : tensor<f32>) dimensions = [0]
    (%a: f32, %b: f32) {
      %r = arith.addf %a, %b : f32
      linalg.yield %r : f32
    }
  %s = tensor.extract %sum[] : tensor<f32>
  return %s : f32
}

func.func @step(%w: tensor<?x16xf32>, %g: tensor<?x16xf32>, %m: tensor<?x16xf32>,
                %v: tensor<?x16xf32>, %lr: f32, %t: i64)
    -> (tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>) {
  %l = arith.constant 1.0 : f32
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t
      {quantizer = #cage.quantizer<bits = 4>,
       optimizer = #cage.adamw<beta1 = 0.9, beta2 = 0.95, eps = 1.0e-08, weight_decay = 0.1>,
       coupling = decoupled} : tensor<?x16xf32>
  return %w1, %m1, %v1 : tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>
}

// In place: the caller's buffers are updated (destination-passing style).
func.func @sgd_in_place(%w: memref<?x16xf32>, %g: memref<?x16xf32>, %b: memref<?x16xf32>, %lr: f32) {
  %wt = bufferization.to_tensor %w restrict writable : memref<?x16xf32> to tensor<?x16xf32>
  %gt = bufferization.to_tensor %g restrict : memref<?x16xf32> to tensor<?x16xf32>
  %bt = bufferization.to_tensor %b restrict writable : memref<?x16xf32> to tensor<?x16xf32>
  %w1, %b1 = cage.sgd %wt, %gt, %bt, %lr {momentum = 0.9 : f32} : tensor<?x16xf32>
  bufferization.materialize_in_destination %w1 in restrict writable %w : (tensor<?x16xf32>, memref<?x16xf32>) -> ()
  bufferization.materialize_in_destination %b1 in restrict writable %b : (tensor<?x16xf32>, memref<?x16xf32>) -> ()
  return
}
