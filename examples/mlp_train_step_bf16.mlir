// The training step of mlp_train_step.mlir with the AdamW moments m and v
// stored in bf16 (20 bytes per parameter instead of 28): the same W4A4
// two-layer MLP, forward and backward, and the same CAGE-AdamW update in f32
// on the exactly loaded moments; the new m and v are stored with stochastic
// rounding keyed by a seed (Reference.h, "bf16 optimizer state"), so that
// the stored state is unbiased. The seed changes every step (a fixed seed
// would round each element the same way step after step): W1's is t, W2's
// t + 2^32, so that the two tensors draw from different Philox streams
// (the key is the seed's two 32-bit halves) instead of the same words index
// by index.
//
// Shapes: batch 64, 16 features, 32 hidden units, 4 classes; y is one-hot.
// Returns the loss (of the weights before the step) and the new weights and
// AdamW moments (bf16; a C caller sees their bits as uint16_t).

#rows = affine_map<(b, j, k) -> (b, k)>
#cols = affine_map<(b, j, k) -> (j, k)>
#out = affine_map<(b, j, k) -> (b, j)>
#tr_lhs = affine_map<(j, k, b) -> (b, j)>
#tr_rhs = affine_map<(j, k, b) -> (b, k)>
#tr_out = affine_map<(j, k, b) -> (j, k)>
#id = affine_map<(b, c) -> (b, c)>
#row = affine_map<(b, c) -> (b)>
#all = affine_map<(b, c) -> ()>

!x = tensor<64x16xf32>
!y = tensor<64x4xf32>
!w1 = tensor<32x16xf32>
!w2 = tensor<4x32xf32>
!h = tensor<64x32xf32>
!s1 = tensor<32x16xbf16>
!s2 = tensor<4x32xbf16>

func.func @train_step_bf16(%x: !x, %y: !y,
                           %w1: !w1, %m1: !s1, %v1: !s1,
                           %w2: !w2, %m2: !s2, %v2: !s2,
                           %t: i64, %T: i64, %lr: f32)
    -> (f32, !w1, !s1, !s1, !w2, !s2, !s2) {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %batch = arith.constant 64.0 : f32

  // ---- Forward ----------------------------------------------------------
  %xq = cage.quantize %x {quantizer = #cage.quantizer<bits = 4>} : !x
  %w1q = cage.quantize %w1 {quantizer = #cage.quantizer<bits = 4>} : !w1
  %h0 = tensor.empty() : !h
  %hz = linalg.fill ins(%zero : f32) outs(%h0 : !h) -> !h
  %hpre = linalg.matmul indexing_maps = [#rows, #cols, #out]
            ins(%xq, %w1q : !x, !w1) outs(%hz : !h) -> !h
  %h = linalg.generic {indexing_maps = [#id, #id],
                       iterator_types = ["parallel", "parallel"]}
         ins(%hpre : !h) outs(%h0 : !h) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %a, %zero : f32
    linalg.yield %r : f32
  } -> !h
  %hq = cage.quantize %h {quantizer = #cage.quantizer<bits = 4>} : !h
  %w2q = cage.quantize %w2 {quantizer = #cage.quantizer<bits = 4>} : !w2
  %l0 = tensor.empty() : !y
  %lz = linalg.fill ins(%zero : f32) outs(%l0 : !y) -> !y
  %logits = linalg.matmul indexing_maps = [#rows, #cols, #out]
              ins(%hq, %w2q : !h, !w2) outs(%lz : !y) -> !y

  // Softmax cross-entropy, stable: p = exp(z − max z) / Σ exp(z − max z).
  %r0 = tensor.empty() : tensor<64xf32>
  %rmin = linalg.fill ins(%ninf : f32) outs(%r0 : tensor<64xf32>) -> tensor<64xf32>
  %rzero = linalg.fill ins(%zero : f32) outs(%r0 : tensor<64xf32>) -> tensor<64xf32>
  %zmax = linalg.generic {indexing_maps = [#id, #row],
                          iterator_types = ["parallel", "reduction"]}
            ins(%logits : !y) outs(%rmin : tensor<64xf32>) {
  ^bb0(%z: f32, %acc: f32):
    %m = arith.maximumf %acc, %z : f32
    linalg.yield %m : f32
  } -> tensor<64xf32>
  %e = linalg.generic {indexing_maps = [#id, #row, #id],
                       iterator_types = ["parallel", "parallel"]}
         ins(%logits, %zmax : !y, tensor<64xf32>) outs(%l0 : !y) {
  ^bb0(%z: f32, %m: f32, %o: f32):
    %d = arith.subf %z, %m : f32
    %ex = math.exp %d : f32
    linalg.yield %ex : f32
  } -> !y
  %esum = linalg.generic {indexing_maps = [#id, #row],
                          iterator_types = ["parallel", "reduction"]}
            ins(%e : !y) outs(%rzero : tensor<64xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %s = arith.addf %acc, %v : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  %p = linalg.generic {indexing_maps = [#id, #row, #id],
                       iterator_types = ["parallel", "parallel"]}
         ins(%e, %esum : !y, tensor<64xf32>) outs(%l0 : !y) {
  ^bb0(%v: f32, %s: f32, %o: f32):
    %q = arith.divf %v, %s : f32
    linalg.yield %q : f32
  } -> !y
  // loss = −(1/B) Σ_b Σ_c y·(z − max z − log Σ exp(z − max z))
  %s0 = tensor.empty() : tensor<f32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<f32>) -> tensor<f32>
  %nll = linalg.generic {indexing_maps = [#id, #id, #row, #row, #all],
                         iterator_types = ["reduction", "reduction"]}
           ins(%y, %logits, %zmax, %esum : !y, !y, tensor<64xf32>, tensor<64xf32>)
           outs(%sz : tensor<f32>) {
  ^bb0(%yy: f32, %z: f32, %m: f32, %s: f32, %acc: f32):
    %d = arith.subf %z, %m : f32
    %ls = math.log %s : f32
    %logp = arith.subf %d, %ls : f32
    %term = arith.mulf %yy, %logp : f32
    %a = arith.subf %acc, %term : f32
    linalg.yield %a : f32
  } -> tensor<f32>
  %nllsum = tensor.extract %nll[] : tensor<f32>
  %loss = arith.divf %nllsum, %batch : f32

  // ---- Backward ---------------------------------------------------------
  // dL/dlogits = (p − y) / B
  %dlogits = linalg.generic {indexing_maps = [#id, #id, #id],
                             iterator_types = ["parallel", "parallel"]}
               ins(%p, %y : !y, !y) outs(%l0 : !y) {
  ^bb0(%pp: f32, %yy: f32, %o: f32):
    %d = arith.subf %pp, %yy : f32
    %g = arith.divf %d, %batch : f32
    linalg.yield %g : f32
  } -> !y
  // dL/dQ(W2) = dlogitsᵀ · Q(h), then through Q with a clipped STE.
  %gw2_0 = tensor.empty() : !w2
  %gw2_z = linalg.fill ins(%zero : f32) outs(%gw2_0 : !w2) -> !w2
  %dw2q = linalg.matmul indexing_maps = [#tr_lhs, #tr_rhs, #tr_out]
            ins(%dlogits, %hq : !y, !h) outs(%gw2_z : !w2) -> !w2
  %dw2 = cage.ste %dw2q, %w2 {quantizer = #cage.quantizer<bits = 4>, estimator = clipped} : !w2
  // dL/dQ(h) = dlogits · Q(W2), through Q(h), then through the ReLU.
  %dhq = linalg.matmul indexing_maps = [affine_map<(b, j, k) -> (b, k)>,
                                        affine_map<(b, j, k) -> (k, j)>,
                                        affine_map<(b, j, k) -> (b, j)>]
           ins(%dlogits, %w2q : !y, !w2) outs(%hz : !h) -> !h
  %dh = cage.ste %dhq, %h {quantizer = #cage.quantizer<bits = 4>, estimator = clipped} : !h
  %dhpre = linalg.generic {indexing_maps = [#id, #id, #id],
                           iterator_types = ["parallel", "parallel"]}
             ins(%dh, %hpre : !h, !h) outs(%h0 : !h) {
  ^bb0(%g: f32, %a: f32, %o: f32):
    %pos = arith.cmpf ogt, %a, %zero : f32
    %r = arith.select %pos, %g, %zero : f32
    linalg.yield %r : f32
  } -> !h
  // dL/dQ(W1) = dhpreᵀ · Q(x), through Q(W1).
  %gw1_0 = tensor.empty() : !w1
  %gw1_z = linalg.fill ins(%zero : f32) outs(%gw1_0 : !w1) -> !w1
  %dw1q = linalg.matmul indexing_maps = [#tr_lhs, #tr_rhs, #tr_out]
            ins(%dhpre, %xq : !h, !x) outs(%gw1_z : !w1) -> !w1
  %dw1 = cage.ste %dw1q, %w1 {quantizer = #cage.quantizer<bits = 4>, estimator = clipped} : !w1

  // ---- CAGE-AdamW, bf16 state ------------------------------------------
  %l = cage.lambda_schedule %t, %T {lambda = 10.0 : f32, silence = 0.8 : f32, kind = linear_ramp}
  %high = arith.constant 4294967296 : i64
  %seed2 = arith.addi %t, %high : i64
  %w1n, %m1n, %v1n = cage.update %w1, %dw1, %m1, %v1, %lr, %l, %t seed(%t)
      {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<weight_decay = 0.0>} : !w1, !s1
  %w2n, %m2n, %v2n = cage.update %w2, %dw2, %m2, %v2, %lr, %l, %t seed(%seed2)
      {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<weight_decay = 0.0>} : !w2, !s2
  return %loss, %w1n, %m1n, %v1n, %w2n, %m2n, %v2n : f32, !w1, !s1, !s1, !w2, !s2, !s2
}
