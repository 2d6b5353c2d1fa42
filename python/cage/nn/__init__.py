"""cage.nn: a small module library that writes a model's forward pass as MLIR.

    from cage import nn
    model = nn.Sequential(nn.Linear(64, 64, weight_quantizer=4, input_quantizer=4),
                          nn.ReLU(),
                          nn.Linear(64, 10, weight_quantizer=4, input_quantizer=4))
    fn = model.forward_mlir((32, 64), loss=nn.CrossEntropyLoss())
    fn.text     # func.func @loss(%x, %target, %p0_weight {cage.param = ...}, ...) -> f32
    fn.params   # [("0.weight", array), ("0.bias", array), ...] in argument order

See docs/Python.md, "cage.nn". Nothing here imports the rest of the cage
package (the compiler bindings); only numpy.
"""

from .config import (FORWARD, NO_DECAY_ON_BIASES_AND_NORMS, SGD, AdamW, Fogzo, ParamConfig,
                     config_for)
from .function import Argument, ForwardFunction, forward_mlir
from .modules import (MLP, CausalSelfAttention, CrossEntropyLoss, Embedding, GELU, LayerNorm,
                      Linear, Module, Parameter, PositionalEmbedding, ReLU, RMSNorm, Sequential,
                      TransformerBlock, manual_seed, one_hot)
from .quantizer import Quantizer

__all__ = [
    "AdamW", "Argument", "CausalSelfAttention", "CrossEntropyLoss", "Embedding", "FORWARD", "Fogzo",
    "ForwardFunction", "GELU", "LayerNorm", "Linear", "MLP", "Module",
    "NO_DECAY_ON_BIASES_AND_NORMS", "ParamConfig", "Parameter", "PositionalEmbedding",
    "Quantizer", "ReLU", "RMSNorm", "SGD", "Sequential", "TransformerBlock", "config_for",
    "forward_mlir", "manual_seed", "one_hot",
]
