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
    `cage.adamw`, `cage.sgd`, and the fused `cage.update`), and FOGZO's
finite-difference direction (`cage.fogzo_direction`).

    Tensors are ranked, static or dynamic; unranked tensors are rejected.
    Parameters, gradients, activations and scales are tensors of `f32`; the
    optimizer state of `cage.update` (m, v or the momentum buffer) is `f32`
    or `bf16` (stochastically rounded on the store; see `cage.update`). The
    ops that quantize need a rank of at least 1. The learning rate and λ are
    `f32` scalars, the step count `t` and total step count `T` are `i64`
    scalars (`t` is 1-based: the count of updates, this one included).

    Sizes: every op rejects a tensor type whose static size overflows int64,
    in elements or in bytes (the product of its static dimensions, a
    dimension of size 0 counted as 1, since the strides of the others must
    still fit). Empty tensors (a dimension of size 0) give empty results,
    with two exceptions, both rejected by the verifier where the size is
    static: a static innermost dimension of 0 in `cage.update` and
    `cage.multi_update`, and empty scale groups in `cage.ste` with a
    `scale(...)` operand (see the ops).

    A quantizer is described once, by `#cage.quantizer<...>`, and shared by
    every operation that needs it, so that the forward quantizer, the
    straight-through estimator and the correction agree on the grid.

    Ops print their attributes as a dictionary in which enumerated values are
    bare keywords (`estimator = clipped`) and parameters equal to their
    default are omitted; every parameter may be spelled out when parsing,
    defaults included. The f32 hyper-parameters of the ops (`lambda`,
    `beta1`, `momentum`, ...) are written like those of `#cage.adamw<...>`:
    a float without a type is an f32 (`lambda = 10.0`), `: f32` may follow
    and no other type; they print with `: f32`.
  }];
  let useDefaultAttributePrinterParser = 1;
}

// verifyStaticSizesFitInt64 (CageOps.cpp) on every op.
def Cage_StaticSizesFitInt64 : NativeOpTrait<"StaticSizesFitInt64"> {
  let cppNamespace = "::mlir::OpTrait::cage";
}

class Cage_Op<string mnemonic, list<Trait> traits = []>
    : Op<Cage_Dialect, mnemonic,
         !listconcat(traits, [Cage_StaticSizesFitInt64])>;

#endif // CAGE_DIALECT_CAGE_IR_CAGEDIALECT_TD
