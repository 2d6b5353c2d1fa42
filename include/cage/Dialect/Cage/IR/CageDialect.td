//===- CageDialect.td - The cage dialect --------------------*- tablegen -*-===//
//
// The `cage` dialect: fake quantization, straight-through estimators and the
// CAGE-corrected optimizer step as first-class operations of a training graph.
//
//===----------------------------------------------------------------------===//

#ifndef CAGE_DIALECT_CAGE_IR_CAGEDIALECT_TD
#define CAGE_DIALECT_CAGE_IR_CAGEDIALECT_TD

include "mlir/IR/OpBase.td"

def Cage_Dialect : Dialect {
  let name = "cage";
  let cppNamespace = "::mlir::cage";
  let summary = "Quantization-aware training with curvature-aware gradient estimation";
  let description = [{
    The `cage` dialect names the pieces of a quantization-aware training (QAT)
    step: the fake quantizer Q applied to weights and activations in the
    forward pass (`cage.quantize`), the straight-through estimator that carries
    gradients through it in the backward pass (`cage.ste`), and the optimizer
    step with the CAGE correction λ_t·(w − Q(w)) that pulls the latent weights
    toward the quantization grid (`cage.quant_error`, `cage.lambda_schedule`,
    `cage.adamw`, `cage.sgd`, and the fused `cage.update`).

    All tensors are ranked tensors of `f32` of rank at least 1; the learning
    rate and λ are `f32` scalars, the step count `t` and total step count `T`
    are `i64` scalars (`t` is 1-based: the count of updates, this one
    included).

    A quantizer is described once, by `#cage.quantizer<...>`, and shared by
    every operation that needs it, so that the forward quantizer, the
    straight-through estimator and the correction agree on the grid.

    Ops print their attributes as a dictionary in which enumerated values are
    bare keywords (`estimator = clipped`) and parameters equal to their
    default are omitted; every parameter may be spelled out when parsing,
    defaults included.
  }];
  let useDefaultAttributePrinterParser = 1;
}

class Cage_Op<string mnemonic, list<Trait> traits = []>
    : Op<Cage_Dialect, mnemonic, traits>;

#endif // CAGE_DIALECT_CAGE_IR_CAGEDIALECT_TD
