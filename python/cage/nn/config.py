"""How each parameter is trained: the argument attribute `#cage.param<...>`.

`cage-autodiff` differentiates a forward function whose parameter arguments
carry `{cage.param = #cage.param<...>}`; the attribute says which optimizer
updates the parameter, whether the CAGE correction is added, with which
quantizer, coupling, error mode and λ schedule, which straight-through
estimator the backward pass uses for the parameter's quantizers, and whether
FOGZO replaces the straight-through gradient.
"""

import fnmatch
from dataclasses import dataclass, fields, replace

import numpy as np

from ._text import f32_literal
from .quantizer import as_quantizer

COUPLINGS = ("decoupled", "coupled")
ERRORS = ("keep", "zero_clipped")
SCHEDULES = ("linear_ramp", "constant")
ESTIMATORS = ("clipped", "identity")
FOGZO_DIRECTIONS = ("unit_norm", "unit_rms")


def _print_fields(obj, mnemonic):
    parts = []
    for f in fields(obj):
        value = getattr(obj, f.name)
        if value == f.default:
            continue
        if isinstance(value, bool):
            parts.append("%s = %s" % (f.name, "true" if value else "false"))
        else:
            parts.append("%s = %s" % (f.name, f32_literal(value)))
    return "#cage.%s<%s>" % (mnemonic, ", ".join(parts))


@dataclass(frozen=True)
class AdamW:
    """`#cage.adamw<...>` (docs/Semantics.md §1.3); defaults are the CAGE paper's."""

    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    weight_decay: float = 0.1

    def __post_init__(self):
        # The dialect's checks (lib/Dialect/Cage/IR/CageAttrs.cpp), on the f32 values.
        b1, b2, eps, wd = (np.float32(v) for v in
                           (self.beta1, self.beta2, self.eps, self.weight_decay))
        if not 0 <= b1 < 1 or not 0 <= b2 < 1:
            raise ValueError("AdamW: beta1 and beta2 must be in [0, 1)")
        if not (eps > 0 and np.isfinite(eps)):
            raise ValueError("AdamW: eps must be positive and finite")
        if not (wd >= 0 and np.isfinite(wd)):
            raise ValueError("AdamW: weight_decay must be non-negative and finite")

    def mlir(self):
        return _print_fields(self, "adamw")

    __str__ = mlir


@dataclass(frozen=True)
class SGD:
    """`#cage.sgd<...>` (docs/Semantics.md §1.3); defaults are torch.optim.SGD's."""

    momentum: float = 0.0
    dampening: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0

    def __post_init__(self):
        mu, tau, wd = (np.float32(v) for v in (self.momentum, self.dampening, self.weight_decay))
        if not (mu >= 0 and np.isfinite(mu)):
            raise ValueError("SGD: momentum must be non-negative and finite")
        if not 0 <= tau <= 1:
            raise ValueError("SGD: dampening must be in [0, 1]")
        if not (wd >= 0 and np.isfinite(wd)):
            raise ValueError("SGD: weight_decay must be non-negative and finite")
        if self.nesterov and (mu == 0 or tau != 0):
            raise ValueError("SGD: nesterov requires a positive momentum and zero dampening")

    def mlir(self):
        return _print_fields(self, "sgd")

    __str__ = mlir


@dataclass(frozen=True)
class Fogzo:
    """`#cage.fogzo<...>` (docs/Semantics.md §1.6): train the parameter with
    FOGZO, the finite-difference estimate along a direction guided by the
    straight-through gradient. `epsilon` 0 derives ε from the grid of the
    parameters' quantizers. `direction` "unit_norm" (§1.6 as stated) or
    "unit_rms" (the straight-through part scaled like the noise). Every
    FOGZO parameter of a model must use the same settings."""

    beta_min: float = 0.999
    start: float = 0.0
    seed: int = 0
    epsilon: float = 0.0
    direction: str = "unit_norm"

    def __post_init__(self):
        b, st, e = (np.float32(v) for v in (self.beta_min, self.start, self.epsilon))
        if not 0 <= b <= 1:
            raise ValueError("Fogzo: beta_min must be in [0, 1]")
        if not 0 <= st < 1:
            raise ValueError("Fogzo: start must be in [0, 1)")
        if not (e >= 0 and np.isfinite(e)):
            raise ValueError("Fogzo: epsilon must be non-negative and finite (0: from the grid)")
        if not isinstance(self.seed, (int, np.integer)) or not -2**63 <= self.seed < 2**63:
            raise ValueError("Fogzo: seed must be a 64-bit integer")
        if self.direction not in FOGZO_DIRECTIONS:
            raise ValueError("Fogzo: direction must be one of %s, not %r"
                             % (", ".join(FOGZO_DIRECTIONS), self.direction))

    def mlir(self):
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value == f.default:
                continue
            text = (str(int(value)) if f.name == "seed" else
                    value if f.name == "direction" else f32_literal(value))
            parts.append("%s = %s" % (f.name, text))
        return "#cage.fogzo<%s>" % ", ".join(parts)

    __str__ = mlir


class _Forward:
    """The sentinel default of ParamConfig.quantizer: the forward's quantizer."""

    def __repr__(self):
        return "FORWARD"

    def __reduce__(self):
        return "FORWARD"


FORWARD = _Forward()


@dataclass(frozen=True)
class ParamConfig:
    """The training configuration of one parameter, `#cage.param<...>`.

    Fields and defaults are those of the attribute: `optimizer` AdamW(),
    `quantizer` FORWARD (the quantizer of the `cage.quantize` that reads the
    parameter in the forward), `cage` True, `coupling` "decoupled", `error`
    "keep", `lambda_` 10.0, `silence` 0.8, `schedule` "linear_ramp",
    `estimator` "clipped", `fogzo` None (the straight-through gradient; a
    Fogzo(...) trains the parameter with FOGZO, with or without the CAGE
    correction).
    """

    optimizer: object = AdamW()
    quantizer: object = FORWARD
    cage: bool = True
    coupling: str = "decoupled"
    error: str = "keep"
    lambda_: float = 10.0
    silence: float = 0.8
    schedule: str = "linear_ramp"
    estimator: str = "clipped"
    fogzo: object = None

    def __post_init__(self):
        if self.fogzo is not None and not isinstance(self.fogzo, Fogzo):
            raise TypeError("ParamConfig: fogzo must be None or Fogzo(...), not %r"
                            % (self.fogzo,))
        if not isinstance(self.optimizer, (AdamW, SGD)):
            raise TypeError("ParamConfig: optimizer must be AdamW(...) or SGD(...), not %r"
                            % (self.optimizer,))
        if self.quantizer is not FORWARD:
            object.__setattr__(self, "quantizer", as_quantizer(self.quantizer))
            if self.quantizer is None:
                raise ValueError("ParamConfig: quantizer is FORWARD or a Quantizer; "
                                 "use cage=False for no correction")
        for name, allowed in (("coupling", COUPLINGS), ("error", ERRORS),
                              ("schedule", SCHEDULES), ("estimator", ESTIMATORS)):
            if getattr(self, name) not in allowed:
                raise ValueError("ParamConfig: %s must be one of %s, not %r"
                                 % (name, ", ".join(allowed), getattr(self, name)))
        if not (np.float32(self.lambda_) >= 0 and np.isfinite(np.float32(self.lambda_))):
            raise ValueError("ParamConfig: lambda must be non-negative and finite")
        if not 0 <= np.float32(self.silence) < 1:
            raise ValueError("ParamConfig: silence must be in [0, 1)")

    def replace(self, **changes):
        """dataclasses.replace, with two spellings more: `lambda` for
        `lambda_`, and `weight_decay` for the optimizer's weight decay."""
        changes = dict(changes)
        if "lambda" in changes:
            changes["lambda_"] = changes.pop("lambda")
        if "weight_decay" in changes:
            wd = changes.pop("weight_decay")
            opt = changes.get("optimizer", self.optimizer)
            changes["optimizer"] = replace(opt, weight_decay=wd)
        return replace(self, **changes)

    def resolved(self, forward_quantizer):
        """The configuration that applies to a parameter whose forward
        quantizer is `forward_quantizer` (None: not quantized)."""
        c = self
        if c.quantizer is FORWARD and forward_quantizer is None:
            # No grid to pull the parameter toward: the plain optimizer; no
            # rounding for FOGZO to see past: the exact gradient.
            c = c.replace(cage=False, fogzo=None)
        if not c.cage:
            # The attribute's verifier rejects correction parameters that
            # have no effect; the estimator has none without a quantizer.
            c = ParamConfig(optimizer=c.optimizer, cage=False,
                            estimator=c.estimator if forward_quantizer else "clipped",
                            fogzo=c.fogzo)
        return c

    def mlir(self, forward_quantizer=None):
        """`#cage.param<...>` for a parameter whose forward quantizer is
        `forward_quantizer`, non-defaults only, in the attribute's declaration
        order (optimizer, cage, quantizer, coupling, error, lambda, silence,
        schedule, estimator, fogzo)."""
        c = self.resolved(forward_quantizer)
        parts = []
        if c.optimizer != AdamW():
            parts.append("optimizer = %s" % c.optimizer.mlir())
        if not c.cage:
            parts.append("cage = false")
        q = c.quantizer
        if c.cage:
            if q is FORWARD and forward_quantizer.rounding != "nearest":
                # The correction's quantizer must round to nearest
                # (cage.quant_error has no seed): the forward's, made
                # deterministic, is spelled out.
                q = forward_quantizer.replace(rounding="nearest")
            if q is not FORWARD and q.rounding != "nearest":
                raise ValueError("the CAGE correction's quantizer must round to nearest")
            if q is not FORWARD and q != forward_quantizer:
                parts.append("quantizer = %s" % q.mlir())
            if c.coupling != "decoupled":
                parts.append("coupling = %s" % c.coupling)
            if c.error != "keep":
                parts.append("error = %s" % c.error)
            if c.lambda_ != 10.0:
                parts.append("lambda = %s" % f32_literal(c.lambda_))
            if c.silence != 0.8:
                parts.append("silence = %s" % f32_literal(c.silence))
            if c.schedule != "linear_ramp":
                parts.append("schedule = %s" % c.schedule)
        if c.estimator != "clipped":
            parts.append("estimator = %s" % c.estimator)
        if c.fogzo is not None:
            parts.append("fogzo = %s" % c.fogzo.mlir())
        return "#cage.param<%s>" % ", ".join(parts)


def as_config(spec, base=None):
    """None (the base or the defaults), a ParamConfig, or a dict of changes to
    the base (keys: ParamConfig's fields, `lambda`, `weight_decay`)."""
    base = base if base is not None else ParamConfig()
    if spec is None:
        return base
    if isinstance(spec, ParamConfig):
        return spec
    if isinstance(spec, dict):
        return base.replace(**spec)
    raise TypeError("a parameter config is a ParamConfig or a dict of changes, not %r" % (spec,))


def matches(pattern, name, kind):
    """An override key selects parameters: `@kind` (`@weight`, `@bias`,
    `@norm`, `@embedding`) by kind, anything else as an fnmatch glob on the
    dotted name (`fc1.*`, `*.bias`, `blocks.0.attn.q.weight`)."""
    if pattern.startswith("@"):
        return kind == pattern[1:]
    return fnmatch.fnmatchcase(name, pattern)


def config_for(name, param, config=None, overrides=None):
    """The ParamConfig of one parameter: `config` (a ParamConfig, a dict of
    changes to the defaults, or None), then each matching entry of
    `overrides` in order, then the parameter's own `param.config`."""
    c = as_config(config)
    for pattern, spec in (overrides or {}).items():
        if matches(pattern, name, param.kind):
            c = as_config(spec, c)
    if param.config is not None:
        c = as_config(param.config, c)
    return c


# A common policy, ready to pass as `overrides=`: no weight decay on biases
# and norm weights (not quantized, they get the plain optimizer anyway).
NO_DECAY_ON_BIASES_AND_NORMS = {"@bias": {"weight_decay": 0.0},
                                "@norm": {"weight_decay": 0.0}}
