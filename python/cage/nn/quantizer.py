"""Quantizer specs: `#cage.quantizer<...>` (docs/Semantics.md §1.1) in Python."""

from dataclasses import asdict, dataclass, fields, replace

GRANULARITIES = ("tensor", "row", "group")
SCALES = ("absmax", "rms_gaussian", "operand")
LEVELS = ("int", "centered")
ROTATIONS = ("none", "hadamard")
ROUNDINGS = ("nearest", "stochastic")


def _power_of_two(n):
    return isinstance(n, int) and n > 0 and n & (n - 1) == 0


@dataclass(frozen=True)
class Quantizer:
    """A fake quantizer Q, the fields and defaults of `#cage.quantizer<...>`.

    >>> Quantizer(bits=4).mlir()
    '#cage.quantizer<>'
    >>> Quantizer(bits=3, granularity="group", group_size=64).mlir()
    '#cage.quantizer<bits = 3, granularity = group, group_size = 64>'

    The checks of the dialect's verifier are made here too (bits 2..8, powers
    of two, no `group_size` without `granularity = group`, no `block` without
    `rotation = hadamard`), so that a bad spec fails in Python, where it is
    written. Whether `group_size` and `block` divide the innermost dimension
    is checked when a tensor is quantized (`check_shape`).
    """

    bits: int = 4
    granularity: str = "row"
    group_size: int = 128
    scale: str = "absmax"
    levels: str = "int"
    rotation: str = "none"
    block: int = 128
    rounding: str = "nearest"

    def __post_init__(self):
        if not isinstance(self.bits, int) or not 2 <= self.bits <= 8:
            raise ValueError("Quantizer: bits must be an integer in 2..8, not %r" % (self.bits,))
        for name, allowed in (("granularity", GRANULARITIES), ("scale", SCALES),
                              ("levels", LEVELS), ("rotation", ROTATIONS),
                              ("rounding", ROUNDINGS)):
            if getattr(self, name) not in allowed:
                raise ValueError("Quantizer: %s must be one of %s, not %r"
                                 % (name, ", ".join(allowed), getattr(self, name)))
        if not _power_of_two(self.group_size):
            raise ValueError("Quantizer: group_size must be a power of two, not %r" % (self.group_size,))
        if not _power_of_two(self.block) or self.block < 2:
            raise ValueError("Quantizer: block must be a power of two >= 2, not %r" % (self.block,))
        if self.group_size != 128 and self.granularity != "group":
            raise ValueError("Quantizer: group_size without granularity = group has no effect")
        if self.block != 128 and self.rotation != "hadamard":
            raise ValueError("Quantizer: block without rotation = hadamard has no effect")

    @property
    def stochastic(self):
        """True when the quantizer needs a seed (rounding = stochastic)."""
        return self.rounding == "stochastic"

    def mlir(self):
        """The attribute, printed as cage-opt prints it: non-defaults only, in
        declaration order."""
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value != f.default:
                parts.append("%s = %s" % (f.name, value))
        return "#cage.quantizer<%s>" % ", ".join(parts)

    __str__ = mlir

    def as_dict(self):
        """The fields as a dict (the form test/Reference/Inputs/numpy_reference.py takes)."""
        return asdict(self)

    def replace(self, **changes):
        return replace(self, **changes)

    def check_shape(self, shape, what="tensor"):
        """Raises ValueError unless this quantizer can quantize a tensor of `shape`."""
        shape = tuple(shape)
        if len(shape) < 1:
            raise ValueError("%s: cage.quantize needs a tensor of rank >= 1" % what)
        n = shape[-1]
        if self.granularity == "group" and n % self.group_size:
            raise ValueError("%s: group_size %d does not divide the innermost dimension %d"
                             % (what, self.group_size, n))
        if self.rotation == "hadamard" and n % self.block:
            raise ValueError("%s: block %d does not divide the innermost dimension %d"
                             % (what, self.block, n))
        if self.scale == "operand":
            raise NotImplementedError(
                "%s: scale = operand (learned clip values) is not supported by cage.nn" % what)


def as_quantizer(spec):
    """None, a Quantizer, an int (bits, the other fields default) or a dict of fields."""
    if spec is None or isinstance(spec, Quantizer):
        return spec
    if isinstance(spec, bool):
        raise TypeError("a quantizer spec is a Quantizer, an int (bits) or a dict, not a bool")
    if isinstance(spec, int):
        return Quantizer(bits=spec)
    if isinstance(spec, dict):
        return Quantizer(**spec)
    raise TypeError("a quantizer spec is a Quantizer, an int (bits) or a dict, not %r" % (spec,))
