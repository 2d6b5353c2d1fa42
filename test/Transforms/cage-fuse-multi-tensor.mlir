// RUN: cage-opt %s --split-input-file --cage-fuse-multi-tensor | FileCheck %s
// RUN: cage-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(cage-fuse-multi-tensor))' | FileCheck %s
// RUN: cage-opt %s --split-input-file --cage-fuse-multi-tensor --mlir-print-debuginfo | FileCheck %s --check-prefix=LOC

// Two AdamW updates with the same settings and scalars become one
// cage.multi_update, at the place of the second; results are renumbered
// w, m, v per parameter.
// CHECK-LABEL: func.func @adamw_two(
// CHECK-SAME:    %[[WA:[^:]+]]: tensor<512x512xf32>, %[[GA:[^:]+]]: tensor<512x512xf32>, %[[MA:[^:]+]]: tensor<512x512xf32>, %[[VA:[^:]+]]: tensor<512x512xf32>, %[[WB:[^:]+]]: tensor<64x128xf32>, %[[GB:[^:]+]]: tensor<64x128xf32>, %[[MB:[^:]+]]: tensor<64x128xf32>, %[[VB:[^:]+]]: tensor<64x128xf32>, %[[LR:[^:]+]]: f32, %[[L:[^:]+]]: f32, %[[T:[^:]+]]: i64
// CHECK-NEXT:    %[[R:.*]]:6 = cage.multi_update (%[[WA]], %[[GA]], %[[MA]], %[[VA]]), (%[[WB]], %[[GB]], %[[MB]], %[[VB]]), %[[LR]], %[[L]], %[[T]] {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<512x512xf32>, tensor<64x128xf32>
// CHECK-NEXT:    return %[[R]]#0, %[[R]]#1, %[[R]]#2, %[[R]]#3, %[[R]]#4, %[[R]]#5 :
func.func @adamw_two(%wa: tensor<512x512xf32>, %ga: tensor<512x512xf32>, %ma: tensor<512x512xf32>, %va: tensor<512x512xf32>, %wb: tensor<64x128xf32>, %gb: tensor<64x128xf32>, %mb: tensor<64x128xf32>, %vb: tensor<64x128xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<512x512xf32>, tensor<512x512xf32>, tensor<512x512xf32>, tensor<64x128xf32>, tensor<64x128xf32>, tensor<64x128xf32>) {
  %wa1, %ma1, %va1 = cage.update %wa, %ga, %ma, %va, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<512x512xf32>
  %wb1, %mb1, %vb1 = cage.update %wb, %gb, %mb, %vb, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<64x128xf32>
  return %wa1, %ma1, %va1, %wb1, %mb1, %vb1 : tensor<512x512xf32>, tensor<512x512xf32>, tensor<512x512xf32>, tensor<64x128xf32>, tensor<64x128xf32>, tensor<64x128xf32>
}

// -----

// Three, in program order; results used in another order.
// CHECK-LABEL: func.func @adamw_three(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<8x16xf32>, %[[B:[^:]+]]: tensor<7xf32>, %[[C:[^:]+]]: tensor<3x5x129xf32>, %[[LR:[^:]+]]: f32, %[[L:[^:]+]]: f32, %[[T:[^:]+]]: i64
// CHECK-NEXT:    %[[R:.*]]:9 = cage.multi_update (%[[A]], %[[A]], %[[A]], %[[A]]), (%[[B]], %[[B]], %[[B]], %[[B]]), (%[[C]], %[[C]], %[[C]], %[[C]]), %[[LR]], %[[L]], %[[T]] {quantizer = #cage.quantizer<bits = 3, granularity = tensor>, optimizer = #cage.adamw<beta2 = 0.999>, coupling = coupled, error = zero_clipped} : tensor<8x16xf32>, tensor<7xf32>, tensor<3x5x129xf32>
// CHECK-NEXT:    return %[[R]]#6, %[[R]]#3, %[[R]]#0, %[[R]]#8 :
func.func @adamw_three(%a: tensor<8x16xf32>, %b: tensor<7xf32>, %c: tensor<3x5x129xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<3x5x129xf32>, tensor<7xf32>, tensor<8x16xf32>, tensor<3x5x129xf32>) {
  %a1:3 = cage.update %a, %a, %a, %a, %lr, %l, %t {quantizer = #cage.quantizer<bits = 3, granularity = tensor>, optimizer = #cage.adamw<beta2 = 0.999>, coupling = coupled, error = zero_clipped} : tensor<8x16xf32>
  %b1:3 = cage.update %b, %b, %b, %b, %lr, %l, %t {quantizer = #cage.quantizer<bits = 3, granularity = tensor>, optimizer = #cage.adamw<beta2 = 0.999>, coupling = coupled, error = zero_clipped} : tensor<7xf32>
  %c1:3 = cage.update %c, %c, %c, %c, %lr, %l, %t {quantizer = #cage.quantizer<bits = 3, granularity = tensor>, optimizer = #cage.adamw<beta2 = 0.999>, coupling = coupled, error = zero_clipped} : tensor<3x5x129xf32>
  return %c1#0, %b1#0, %a1#0, %c1#2 : tensor<3x5x129xf32>, tensor<7xf32>, tensor<8x16xf32>, tensor<3x5x129xf32>
}

// -----

// SGD: w, g, b per parameter, no step.
// CHECK-LABEL: func.func @sgd(
// CHECK-SAME:    %[[WA:[^:]+]]: tensor<7x129xf32>, %[[GA:[^:]+]]: tensor<7x129xf32>, %[[BA:[^:]+]]: tensor<7x129xf32>, %[[WB:[^:]+]]: tensor<3xf32>, %[[GB:[^:]+]]: tensor<3xf32>, %[[BB:[^:]+]]: tensor<3xf32>, %[[LR:[^:]+]]: f32, %[[L:[^:]+]]: f32
// CHECK-NEXT:    %[[R:.*]]:4 = cage.multi_update (%[[WA]], %[[GA]], %[[BA]]), (%[[WB]], %[[GB]], %[[BB]]), %[[LR]], %[[L]] {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<momentum = 0.9>, coupling = coupled} : tensor<7x129xf32>, tensor<3xf32>
// CHECK-NEXT:    return %[[R]]#0, %[[R]]#1, %[[R]]#2, %[[R]]#3 :
func.func @sgd(%wa: tensor<7x129xf32>, %ga: tensor<7x129xf32>, %ba: tensor<7x129xf32>, %wb: tensor<3xf32>, %gb: tensor<3xf32>, %bb: tensor<3xf32>, %lr: f32, %l: f32) -> (tensor<7x129xf32>, tensor<7x129xf32>, tensor<3xf32>, tensor<3xf32>) {
  %wa1, %ba1 = cage.update %wa, %ga, %ba, %lr, %l {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.sgd<momentum = 0.9>, coupling = coupled} : tensor<7x129xf32>
  %wb1, %bb1 = cage.update %wb, %gb, %bb, %lr, %l {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.sgd<momentum = 0.9>, coupling = coupled} : tensor<3xf32>
  return %wa1, %ba1, %wb1, %bb1 : tensor<7x129xf32>, tensor<7x129xf32>, tensor<3xf32>, tensor<3xf32>
}

// -----

// Plain cage.adamw steps: a cage.multi_update without quantizer (and so
// without lambda), the optimizer attribute made from their
// hyper-parameters.
// CHECK-LABEL: func.func @plain_adamw(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<8xf32>, %[[B:[^:]+]]: tensor<2x2xf32>, %[[LR:[^:]+]]: f32, %[[T:[^:]+]]: i64
// CHECK-NEXT:    %[[R:.*]]:6 = cage.multi_update (%[[A]], %[[A]], %[[A]], %[[A]]), (%[[B]], %[[B]], %[[B]], %[[B]]), %[[LR]], %[[T]] {optimizer = #cage.adamw<beta2 = 0.999, weight_decay = 0.01>} : tensor<8xf32>, tensor<2x2xf32>
// CHECK-NEXT:    return %[[R]]#0, %[[R]]#5 :
func.func @plain_adamw(%a: tensor<8xf32>, %b: tensor<2x2xf32>, %lr: f32, %t: i64) -> (tensor<8xf32>, tensor<2x2xf32>) {
  %a1:3 = cage.adamw %a, %a, %a, %a, %lr, %t {beta1 = 0.9 : f32, beta2 = 0.999 : f32, eps = 1.0e-08 : f32, weight_decay = 0.01 : f32} : tensor<8xf32>
  %b1:3 = cage.adamw %b, %b, %b, %b, %lr, %t {beta2 = 0.999 : f32, weight_decay = 0.01 : f32} : tensor<2x2xf32>
  return %a1#0, %b1#2 : tensor<8xf32>, tensor<2x2xf32>
}

// -----

// Plain cage.sgd steps, rank 0 included (no quantizer, so any rank).
// CHECK-LABEL: func.func @plain_sgd(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<f32>, %[[B:[^:]+]]: tensor<5x3xf32>, %[[LR:[^:]+]]: f32
// CHECK-NEXT:    %[[R:.*]]:4 = cage.multi_update (%[[A]], %[[A]], %[[A]]), (%[[B]], %[[B]], %[[B]]), %[[LR]] {optimizer = #cage.sgd<momentum = 0.9, nesterov = true, weight_decay = 0.0001>} : tensor<f32>, tensor<5x3xf32>
// CHECK-NEXT:    return %[[R]]#1, %[[R]]#2 :
func.func @plain_sgd(%a: tensor<f32>, %b: tensor<5x3xf32>, %lr: f32) -> (tensor<f32>, tensor<5x3xf32>) {
  %a1:2 = cage.sgd %a, %a, %a, %lr {momentum = 0.9 : f32, nesterov = true, weight_decay = 1.0e-04 : f32} : tensor<f32>
  %b1:2 = cage.sgd %b, %b, %b, %lr {momentum = 0.9 : f32, dampening = 0.0 : f32, nesterov = true, weight_decay = 1.0e-04 : f32} : tensor<5x3xf32>
  return %a1#1, %b1#0 : tensor<f32>, tensor<5x3xf32>
}

// -----

// Groups by lr value: interleaved updates with two learning rates become
// two multi_updates, each at the place of its last member, in the order of
// their first members.
// CHECK-LABEL: func.func @group_by_lr(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<4xf32>, %[[B:[^:]+]]: tensor<5xf32>, %[[C:[^:]+]]: tensor<6xf32>, %[[D:[^:]+]]: tensor<7xf32>, %[[LR1:[^:]+]]: f32, %[[LR2:[^:]+]]: f32, %[[L:[^:]+]]: f32
// CHECK-NEXT:    %[[R1:.*]]:4 = cage.multi_update (%[[A]], %[[A]], %[[A]]), (%[[C]], %[[C]], %[[C]]), %[[LR1]], %[[L]] {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<4xf32>, tensor<6xf32>
// CHECK-NEXT:    %[[R2:.*]]:4 = cage.multi_update (%[[B]], %[[B]], %[[B]]), (%[[D]], %[[D]], %[[D]]), %[[LR2]], %[[L]] {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<5xf32>, tensor<7xf32>
// CHECK-NEXT:    return %[[R1]]#0, %[[R2]]#0, %[[R1]]#2, %[[R2]]#2 :
func.func @group_by_lr(%a: tensor<4xf32>, %b: tensor<5xf32>, %c: tensor<6xf32>, %d: tensor<7xf32>, %lr1: f32, %lr2: f32, %l: f32) -> (tensor<4xf32>, tensor<5xf32>, tensor<6xf32>, tensor<7xf32>) {
  %a1:2 = cage.update %a, %a, %a, %lr1, %l {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<4xf32>
  %b1:2 = cage.update %b, %b, %b, %lr2, %l {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<5xf32>
  %c1:2 = cage.update %c, %c, %c, %lr1, %l {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<6xf32>
  %d1:2 = cage.update %d, %d, %d, %lr2, %l {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<7xf32>
  return %a1#0, %b1#0, %c1#0, %d1#0 : tensor<4xf32>, tensor<5xf32>, tensor<6xf32>, tensor<7xf32>
}

// -----

// Equal constants are not the same value: only the SSA value counts.
// CHECK-LABEL: func.func @same_constant_different_values(
// CHECK-COUNT-2: cage.update
// CHECK-NOT:     cage.multi_update
func.func @same_constant_different_values(%a: tensor<4xf32>, %b: tensor<5xf32>, %l: f32) -> (tensor<4xf32>, tensor<5xf32>) {
  %lr1 = arith.constant 0.01 : f32
  %lr2 = arith.constant 0.01 : f32
  %a1:2 = cage.update %a, %a, %a, %lr1, %l {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<4xf32>
  %b1:2 = cage.update %b, %b, %b, %lr2, %l {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<5xf32>
  return %a1#0, %b1#0 : tensor<4xf32>, tensor<5xf32>
}

// -----

// Quantizers differ: bits = 4 twice (fused), bits = 3 once (left alone).
// CHECK-LABEL: func.func @group_by_quantizer(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<4x8xf32>, %[[B:[^:]+]]: tensor<5x8xf32>, %[[C:[^:]+]]: tensor<6x8xf32>, %[[LR:[^:]+]]: f32, %[[L:[^:]+]]: f32, %[[T:[^:]+]]: i64
// CHECK-NEXT:    %[[S:[^,]*]], %{{.*}}:2 = cage.update %[[B]], %[[B]], %[[B]], %[[B]], %[[LR]], %[[L]], %[[T]] {quantizer = #cage.quantizer<bits = 3>, optimizer = #cage.adamw<>} : tensor<5x8xf32>
// CHECK-NEXT:    %[[R:.*]]:6 = cage.multi_update (%[[A]], %[[A]], %[[A]], %[[A]]), (%[[C]], %[[C]], %[[C]], %[[C]]), %[[LR]], %[[L]], %[[T]] {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<4x8xf32>, tensor<6x8xf32>
// CHECK-NEXT:    return %[[R]]#0, %[[S]], %[[R]]#3 :
func.func @group_by_quantizer(%a: tensor<4x8xf32>, %b: tensor<5x8xf32>, %c: tensor<6x8xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<4x8xf32>, tensor<5x8xf32>, tensor<6x8xf32>) {
  %a1:3 = cage.update %a, %a, %a, %a, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<4x8xf32>
  %b1:3 = cage.update %b, %b, %b, %b, %lr, %l, %t {quantizer = #cage.quantizer<bits = 3>, optimizer = #cage.adamw<>} : tensor<5x8xf32>
  %c1:3 = cage.update %c, %c, %c, %c, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<6x8xf32>
  return %a1#0, %b1#0, %c1#0 : tensor<4x8xf32>, tensor<5x8xf32>, tensor<6x8xf32>
}

// -----

// Couplings differ: two groups of two, each at the place of its last
// member. Error modes, optimizer hyper-parameters and step values also
// separate groups (singletons here, left alone).
// CHECK-LABEL: func.func @group_by_settings(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<4xf32>, %[[B:[^:]+]]: tensor<5xf32>, %[[C:[^:]+]]: tensor<6xf32>, %[[D:[^:]+]]: tensor<7xf32>, %[[LR:[^:]+]]: f32, %[[L:[^:]+]]: f32, %[[T:[^:]+]]: i64, %[[T2:[^:]+]]: i64
// CHECK-NEXT:    cage.multi_update (%[[A]], %[[A]], %[[A]], %[[A]]), (%[[C]], %[[C]], %[[C]], %[[C]]), %[[LR]], %[[L]], %[[T]] {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>, coupling = coupled} : tensor<4xf32>, tensor<6xf32>
// CHECK-NEXT:    cage.update %[[A]], {{.*}} {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>, error = zero_clipped} : tensor<4xf32>
// CHECK-NEXT:    cage.update %[[B]], {{.*}} {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<beta1 = 0.8>} : tensor<5xf32>
// CHECK-NEXT:    cage.update %[[C]], {{.*}}, %[[T2]] {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<6xf32>
// CHECK-NEXT:    cage.multi_update (%[[B]], %[[B]], %[[B]], %[[B]]), (%[[D]], %[[D]], %[[D]], %[[D]]), %[[LR]], %[[L]], %[[T]] {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<5xf32>, tensor<7xf32>
// CHECK-NEXT:    return
func.func @group_by_settings(%a: tensor<4xf32>, %b: tensor<5xf32>, %c: tensor<6xf32>, %d: tensor<7xf32>, %lr: f32, %l: f32, %t: i64, %t2: i64) {
  %0:3 = cage.update %a, %a, %a, %a, %lr, %l, %t {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>, coupling = coupled} : tensor<4xf32>
  %1:3 = cage.update %b, %b, %b, %b, %lr, %l, %t {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<5xf32>
  %2:3 = cage.update %c, %c, %c, %c, %lr, %l, %t {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>, coupling = coupled} : tensor<6xf32>
  %3:3 = cage.update %a, %a, %a, %a, %lr, %l, %t {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>, error = zero_clipped} : tensor<4xf32>
  %4:3 = cage.update %b, %b, %b, %b, %lr, %l, %t {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<beta1 = 0.8>} : tensor<5xf32>
  %5:3 = cage.update %c, %c, %c, %c, %lr, %l, %t2 {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<6xf32>
  %6:3 = cage.update %d, %d, %d, %d, %lr, %l, %t {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<7xf32>
  return
}

// -----

// CAGE and plain steps never share a multi_update, even with the same
// optimizer; plain steps group by their hyper-parameters.
// CHECK-LABEL: func.func @update_and_plain(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<4xf32>, %[[B:[^:]+]]: tensor<5xf32>, %[[LR:[^:]+]]: f32, %[[L:[^:]+]]: f32, %[[T:[^:]+]]: i64
// CHECK-NEXT:    cage.sgd %[[A]], %[[A]], %[[A]], %[[LR]] {momentum = 0.5 : f32} : tensor<4xf32>
// CHECK-NEXT:    cage.multi_update (%[[A]], %[[A]], %[[A]], %[[A]]), (%[[B]], %[[B]], %[[B]], %[[B]]), %[[LR]], %[[L]], %[[T]] {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<4xf32>, tensor<5xf32>
// CHECK-NEXT:    cage.multi_update (%[[A]], %[[A]], %[[A]], %[[A]]), (%[[B]], %[[B]], %[[B]], %[[B]]), %[[LR]], %[[T]] {optimizer = #cage.adamw<>} : tensor<4xf32>, tensor<5xf32>
// CHECK-NEXT:    cage.multi_update (%[[B]], %[[B]], %[[B]]), (%[[A]], %[[A]], %[[A]]), %[[LR]] {optimizer = #cage.sgd<>} : tensor<5xf32>, tensor<4xf32>
// CHECK-NEXT:    return
func.func @update_and_plain(%a: tensor<4xf32>, %b: tensor<5xf32>, %lr: f32, %l: f32, %t: i64) {
  %0:3 = cage.update %a, %a, %a, %a, %lr, %l, %t {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<4xf32>
  %1:3 = cage.adamw %a, %a, %a, %a, %lr, %t : tensor<4xf32>
  %2:2 = cage.sgd %b, %b, %b, %lr : tensor<5xf32>
  %3:2 = cage.sgd %a, %a, %a, %lr {momentum = 0.5 : f32} : tensor<4xf32>
  %4:3 = cage.update %b, %b, %b, %b, %lr, %l, %t {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<5xf32>
  %5:3 = cage.adamw %b, %b, %b, %b, %lr, %t : tensor<5xf32>
  %6:2 = cage.sgd %a, %a, %a, %lr : tensor<4xf32>
  return
}

// -----

// A result used before the last member: moving the first update down would
// break that use, so neither is fused.
// CHECK-LABEL: func.func @used_before_last(
// CHECK:         cage.update
// CHECK-NEXT:    arith.addf
// CHECK-NEXT:    cage.update
// CHECK-NOT:     cage.multi_update
func.func @used_before_last(%a: tensor<4xf32>, %b: tensor<4xf32>, %lr: f32, %l: f32) -> tensor<4xf32> {
  %a1:2 = cage.update %a, %a, %a, %lr, %l {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<4xf32>
  %g = arith.addf %a1#0, %b : tensor<4xf32>
  %b1:2 = cage.update %b, %g, %b, %lr, %l {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<4xf32>
  return %b1#0 : tensor<4xf32>
}

// -----

// The same with the use in the last member itself.
// CHECK-LABEL: func.func @used_by_last(
// CHECK-COUNT-2: cage.sgd
// CHECK-NOT:     cage.multi_update
func.func @used_by_last(%a: tensor<4xf32>, %b: tensor<4xf32>, %lr: f32) -> tensor<4xf32> {
  %a1:2 = cage.sgd %a, %a, %a, %lr : tensor<4xf32>
  %b1:2 = cage.sgd %b, %a1#1, %b, %lr : tensor<4xf32>
  return %b1#0 : tensor<4xf32>
}

// -----

// The offending member is dropped and the others are still fused: %a1 is
// used before %c1, so %a1 stays; %b1 and %c1 become one op.
// CHECK-LABEL: func.func @drop_offending(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<4xf32>, %[[B:[^:]+]]: tensor<5xf32>, %[[C:[^:]+]]: tensor<6xf32>, %[[LR:[^:]+]]: f32, %[[L:[^:]+]]: f32
// CHECK-NEXT:    %[[A1:[^,]*]], %{{.*}} = cage.update %[[A]], %[[A]], %[[A]], %[[LR]], %[[L]]
// CHECK-NEXT:    %[[X:.*]] = arith.addf %[[A1]], %[[A1]]
// CHECK-NEXT:    %[[R:.*]]:4 = cage.multi_update (%[[B]], %[[B]], %[[B]]), (%[[C]], %[[C]], %[[C]]), %[[LR]], %[[L]] {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<5xf32>, tensor<6xf32>
// CHECK-NEXT:    return %[[X]], %[[R]]#0, %[[R]]#2 :
func.func @drop_offending(%a: tensor<4xf32>, %b: tensor<5xf32>, %c: tensor<6xf32>, %lr: f32, %l: f32) -> (tensor<4xf32>, tensor<5xf32>, tensor<6xf32>) {
  %a1:2 = cage.update %a, %a, %a, %lr, %l {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<4xf32>
  %b1:2 = cage.update %b, %b, %b, %lr, %l {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<5xf32>
  %x = arith.addf %a1#0, %a1#0 : tensor<4xf32>
  %c1:2 = cage.update %c, %c, %c, %lr, %l {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<6xf32>
  return %x, %b1#0, %c1#0 : tensor<4xf32>, tensor<5xf32>, tensor<6xf32>
}

// -----

// A use inside a region counts at the op that holds the region: before the
// last member (not fused) ...
// CHECK-LABEL: func.func @nested_use_before(
// CHECK:         cage.update
// CHECK:         scf.if
// CHECK:         cage.update
// CHECK-NOT:     cage.multi_update
func.func @nested_use_before(%a: tensor<4xf32>, %b: tensor<4xf32>, %lr: f32, %l: f32, %p: i1) -> tensor<4xf32> {
  %a1:2 = cage.update %a, %a, %a, %lr, %l {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<4xf32>
  %x = scf.if %p -> tensor<4xf32> {
    scf.yield %a1#0 : tensor<4xf32>
  } else {
    scf.yield %b : tensor<4xf32>
  }
  %b1:2 = cage.update %b, %b, %b, %lr, %l {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<4xf32>
  return %x : tensor<4xf32>
}

// -----

// ... or after it (fused).
// CHECK-LABEL: func.func @nested_use_after(
// CHECK-NEXT:    %[[R:.*]]:4 = cage.multi_update
// CHECK-NEXT:    scf.if
// CHECK-NEXT:      scf.yield %[[R]]#0
// CHECK-NOT:     cage.update
func.func @nested_use_after(%a: tensor<4xf32>, %b: tensor<4xf32>, %lr: f32, %l: f32, %p: i1) -> tensor<4xf32> {
  %a1:2 = cage.update %a, %a, %a, %lr, %l {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<4xf32>
  %b1:2 = cage.update %b, %b, %b, %lr, %l {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<4xf32>
  %x = scf.if %p -> tensor<4xf32> {
    scf.yield %a1#0 : tensor<4xf32>
  } else {
    scf.yield %b1#0 : tensor<4xf32>
  }
  return %x : tensor<4xf32>
}

// -----

// Members must be in one block: an update inside an scf.if region and one
// outside stay apart; two in the same region are fused there.
// CHECK-LABEL: func.func @different_blocks(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<4xf32>, %[[B:[^:]+]]: tensor<5xf32>
// CHECK:         cage.update %[[A]]
// CHECK:         scf.if
// CHECK-NEXT:      %[[R:.*]]:4 = cage.multi_update (%[[B]], %[[B]], %[[B]]), (%[[A]], %[[A]], %[[A]]), {{.*}} : tensor<5xf32>, tensor<4xf32>
// CHECK-NEXT:      scf.yield %[[R]]#0, %[[R]]#2
// CHECK-NEXT:    } else {
// CHECK-NEXT:      cage.update %[[B]]
// CHECK-NEXT:      scf.yield
// CHECK-NOT:     cage.multi_update
func.func @different_blocks(%a: tensor<4xf32>, %b: tensor<5xf32>, %lr: f32, %l: f32, %p: i1) -> (tensor<4xf32>, tensor<5xf32>, tensor<4xf32>) {
  %a1:2 = cage.update %a, %a, %a, %lr, %l {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<4xf32>
  %x:2 = scf.if %p -> (tensor<5xf32>, tensor<4xf32>) {
    %b1:2 = cage.update %b, %b, %b, %lr, %l {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<5xf32>
    %a2:2 = cage.update %a, %a, %a, %lr, %l {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<4xf32>
    scf.yield %b1#0, %a2#0 : tensor<5xf32>, tensor<4xf32>
  } else {
    %b2:2 = cage.update %b, %b, %b, %lr, %l {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<5xf32>
    scf.yield %b2#0, %a : tensor<5xf32>, tensor<4xf32>
  }
  return %a1#0, %x#0, %x#1 : tensor<4xf32>, tensor<5xf32>, tensor<4xf32>
}

// -----

// A single update is left alone.
// CHECK-LABEL: func.func @single(
// CHECK-NEXT:    cage.update
// CHECK-NOT:     cage.multi_update
func.func @single(%a: tensor<4xf32>, %lr: f32, %l: f32, %t: i64) -> tensor<4xf32> {
  %a1:3 = cage.update %a, %a, %a, %a, %lr, %l, %t {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<4xf32>
  return %a1#0 : tensor<4xf32>
}

// -----

// Dynamic shapes: each parameter keeps its type.
// CHECK-LABEL: func.func @dynamic(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<?x?xf32>, %[[B:[^:]+]]: tensor<?xf32>, %[[C:[^:]+]]: tensor<?x128xf32>, %[[LR:[^:]+]]: f32, %[[L:[^:]+]]: f32, %[[T:[^:]+]]: i64
// CHECK-NEXT:    %[[R:.*]]:9 = cage.multi_update (%[[A]], %[[A]], %[[A]], %[[A]]), (%[[B]], %[[B]], %[[B]], %[[B]]), (%[[C]], %[[C]], %[[C]], %[[C]]), %[[LR]], %[[L]], %[[T]] {quantizer = #cage.quantizer<granularity = group, group_size = 64>, optimizer = #cage.adamw<>} : tensor<?x?xf32>, tensor<?xf32>, tensor<?x128xf32>
// CHECK-NEXT:    return %[[R]]#0, %[[R]]#3, %[[R]]#6 :
func.func @dynamic(%a: tensor<?x?xf32>, %b: tensor<?xf32>, %c: tensor<?x128xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<?x?xf32>, tensor<?xf32>, tensor<?x128xf32>) {
  %a1:3 = cage.update %a, %a, %a, %a, %lr, %l, %t {quantizer = #cage.quantizer<granularity = group, group_size = 64>, optimizer = #cage.adamw<>} : tensor<?x?xf32>
  %b1:3 = cage.update %b, %b, %b, %b, %lr, %l, %t {quantizer = #cage.quantizer<granularity = group, group_size = 64>, optimizer = #cage.adamw<>} : tensor<?xf32>
  %c1:3 = cage.update %c, %c, %c, %c, %lr, %l, %t {quantizer = #cage.quantizer<granularity = group, group_size = 64>, optimizer = #cage.adamw<>} : tensor<?x128xf32>
  return %a1#0, %b1#0, %c1#0 : tensor<?x?xf32>, tensor<?xf32>, tensor<?x128xf32>
}

// -----

// An op with an attribute the pass does not know (here a discardable one,
// which the multi_update could not keep per parameter) is left alone.
// CHECK-LABEL: func.func @unknown_attribute(
// CHECK:         cage.sgd {{.*}} {my.tag} : tensor<4xf32>
// CHECK:         cage.sgd {{.*}} : tensor<5xf32>
// CHECK-NOT:     cage.multi_update
func.func @unknown_attribute(%a: tensor<4xf32>, %b: tensor<5xf32>, %lr: f32) -> (tensor<4xf32>, tensor<5xf32>) {
  %a1:2 = cage.sgd %a, %a, %a, %lr {my.tag} : tensor<4xf32>
  %b1:2 = cage.sgd %b, %b, %b, %lr : tensor<5xf32>
  return %a1#0, %b1#0 : tensor<4xf32>, tensor<5xf32>
}

// -----

// The multi_update carries the locations of its members.
// CHECK-LABEL: func.func @locations(
// CHECK-NEXT:    cage.multi_update
// LOC-LABEL:   func.func @locations(
// LOC:           cage.multi_update {{.*}} loc(#[[LOC:loc[0-9]*]])
// LOC-DAG:       #[[A:loc[0-9]*]] = loc("a.py":1:1)
// LOC-DAG:       #[[B:loc[0-9]*]] = loc("b.py":2:2)
// LOC-DAG:       #[[LOC]] = loc(fused[#[[A]], #[[B]]])
func.func @locations(%a: tensor<4xf32>, %b: tensor<5xf32>, %lr: f32) -> (tensor<4xf32>, tensor<5xf32>) {
  %a1:2 = cage.sgd %a, %a, %a, %lr : tensor<4xf32> loc("a.py":1:1)
  %b1:2 = cage.sgd %b, %b, %b, %lr : tensor<5xf32> loc("b.py":2:2)
  return %a1#0, %b1#0 : tensor<4xf32>, tensor<5xf32>
}

// -----

// The in-place form of docs/Tools.md: each parameter written back right
// after its update. The write-backs move below the fused op, in their order.
// CHECK-LABEL: func.func @write_backs(
// CHECK-SAME:    %[[WA:[^:]+]]: memref<8x16xf32>, %[[GA:[^:]+]]: memref<8x16xf32>, %[[WB:[^:]+]]: memref<32xf32>, %[[GB:[^:]+]]: memref<32xf32>
// CHECK:         %[[R:.*]]:4 = cage.multi_update
// CHECK-NEXT:    bufferization.materialize_in_destination %[[R]]#0 in restrict writable %[[WA]]
// CHECK-NEXT:    bufferization.materialize_in_destination %[[R]]#1 in restrict writable %[[GA]]
// CHECK-NEXT:    bufferization.materialize_in_destination %[[R]]#2 in restrict writable %[[WB]]
// CHECK-NEXT:    bufferization.materialize_in_destination %[[R]]#3 in restrict writable %[[GB]]
// CHECK-NEXT:    return
func.func @write_backs(%wa: memref<8x16xf32>, %ga: memref<8x16xf32>, %wb: memref<32xf32>, %gb: memref<32xf32>, %lr: f32, %l: f32) {
  %wat = bufferization.to_tensor %wa restrict writable : memref<8x16xf32> to tensor<8x16xf32>
  %gat = bufferization.to_tensor %ga restrict writable : memref<8x16xf32> to tensor<8x16xf32>
  %wa1, %ba1 = cage.update %wat, %gat, %gat, %lr, %l {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.sgd<momentum = 0.9>} : tensor<8x16xf32>
  bufferization.materialize_in_destination %wa1 in restrict writable %wa : (tensor<8x16xf32>, memref<8x16xf32>) -> ()
  bufferization.materialize_in_destination %ba1 in restrict writable %ga : (tensor<8x16xf32>, memref<8x16xf32>) -> ()
  %wbt = bufferization.to_tensor %wb restrict writable : memref<32xf32> to tensor<32xf32>
  %gbt = bufferization.to_tensor %gb restrict writable : memref<32xf32> to tensor<32xf32>
  %wb1, %bb1 = cage.update %wbt, %gbt, %gbt, %lr, %l {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.sgd<momentum = 0.9>} : tensor<32xf32>
  bufferization.materialize_in_destination %wb1 in restrict writable %wb : (tensor<32xf32>, memref<32xf32>) -> ()
  bufferization.materialize_in_destination %bb1 in restrict writable %gb : (tensor<32xf32>, memref<32xf32>) -> ()
  return
}

// -----

// A write-back that a later op reads (here the second update's input comes
// from the same buffer) must stay where it is: the first update is left
// alone, and so nothing is fused.
// CHECK-LABEL: func.func @write_back_read_again(
// CHECK-NOT:     cage.multi_update
// CHECK-COUNT-2: cage.update
func.func @write_back_read_again(%wa: memref<32xf32>, %ga: memref<32xf32>, %gb: memref<32xf32>, %lr: f32, %l: f32) {
  %wat = bufferization.to_tensor %wa restrict writable : memref<32xf32> to tensor<32xf32>
  %gat = bufferization.to_tensor %ga restrict writable : memref<32xf32> to tensor<32xf32>
  %wa1, %ba1 = cage.update %wat, %gat, %gat, %lr, %l {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.sgd<momentum = 0.9>} : tensor<32xf32>
  bufferization.materialize_in_destination %wa1 in restrict writable %wa : (tensor<32xf32>, memref<32xf32>) -> ()
  %again = bufferization.to_tensor %wa restrict writable : memref<32xf32> to tensor<32xf32>
  %gbt = bufferization.to_tensor %gb restrict writable : memref<32xf32> to tensor<32xf32>
  %wb1, %bb1 = cage.update %again, %gbt, %gbt, %lr, %l {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.sgd<momentum = 0.9>} : tensor<32xf32>
  bufferization.materialize_in_destination %wb1 in restrict writable %wa : (tensor<32xf32>, memref<32xf32>) -> ()
  bufferization.materialize_in_destination %ba1 in restrict writable %ga : (tensor<32xf32>, memref<32xf32>) -> ()
  bufferization.materialize_in_destination %bb1 in restrict writable %gb : (tensor<32xf32>, memref<32xf32>) -> ()
  return
}

// -----

// An op with unknown memory effects between a write-back and the last
// member (a call) keeps the write-back, and its update, in place.
// CHECK-LABEL: func.func @write_back_then_call(
// CHECK-NOT:     cage.multi_update
func.func private @observe()
func.func @write_back_then_call(%wa: memref<32xf32>, %ga: memref<32xf32>, %wb: memref<32xf32>, %gb: memref<32xf32>, %lr: f32, %l: f32) {
  %wat = bufferization.to_tensor %wa restrict writable : memref<32xf32> to tensor<32xf32>
  %gat = bufferization.to_tensor %ga restrict writable : memref<32xf32> to tensor<32xf32>
  %wa1, %ba1 = cage.update %wat, %gat, %gat, %lr, %l {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.sgd<momentum = 0.9>} : tensor<32xf32>
  bufferization.materialize_in_destination %wa1 in restrict writable %wa : (tensor<32xf32>, memref<32xf32>) -> ()
  func.call @observe() : () -> ()
  %wbt = bufferization.to_tensor %wb restrict writable : memref<32xf32> to tensor<32xf32>
  %gbt = bufferization.to_tensor %gb restrict writable : memref<32xf32> to tensor<32xf32>
  %wb1, %bb1 = cage.update %wbt, %gbt, %gbt, %lr, %l {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.sgd<momentum = 0.9>} : tensor<32xf32>
  bufferization.materialize_in_destination %ba1 in restrict writable %ga : (tensor<32xf32>, memref<32xf32>) -> ()
  bufferization.materialize_in_destination %wb1 in restrict writable %wb : (tensor<32xf32>, memref<32xf32>) -> ()
  bufferization.materialize_in_destination %bb1 in restrict writable %gb : (tensor<32xf32>, memref<32xf32>) -> ()
  return
}

// -----

// A step on a tensor with empty rows (a static innermost 0) stays on its
// own: cage.multi_update rejects it; the other two still fuse.
// CHECK-LABEL: func.func @empty_rows_stay
// CHECK:         cage.sgd %{{.*}} : tensor<4x0xf32>
// CHECK:         cage.multi_update
// CHECK-NOT:     cage.multi_update
func.func @empty_rows_stay(%w0: tensor<4x0xf32>, %g0: tensor<4x0xf32>, %b0: tensor<4x0xf32>,
                           %w1: tensor<8xf32>, %g1: tensor<8xf32>, %b1: tensor<8xf32>,
                           %w2: tensor<16xf32>, %g2: tensor<16xf32>, %b2: tensor<16xf32>, %lr: f32)
    -> (tensor<4x0xf32>, tensor<8xf32>, tensor<16xf32>) {
  %x0, %c0 = cage.sgd %w0, %g0, %b0, %lr : tensor<4x0xf32>
  %x1, %c1 = cage.sgd %w1, %g1, %b1, %lr : tensor<8xf32>
  %x2, %c2 = cage.sgd %w2, %g2, %b2, %lr : tensor<16xf32>
  return %x0, %x1, %x2 : tensor<4x0xf32>, tensor<8xf32>, tensor<16xf32>
}
