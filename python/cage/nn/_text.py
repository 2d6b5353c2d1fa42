"""Spelling of MLIR literals and types."""

import re

import numpy as np


def f32_literal(value):
    """An f32 value as an MLIR float literal that parses back to the same
    bits, spelled as cage's attribute printer spells it (printF32 in
    lib/Dialect/Cage/IR/CageAttrs.cpp), so that emitted attributes read as
    cage-opt prints them.

    MLIR reads a float literal as an f64 and rounds that to f32: the fewest
    significant digits that survive exactly that path are used, positional
    for exponents -4..15 (`0.9`, `10.0`, `0.0001`), else in exponent form
    (`1.0e-08`), always with the `.` that MLIR's lexer needs (`1e-08` would be
    an integer). inf and NaN are hex bit patterns (`0xFF800000`).
    """
    f = np.float32(value)
    if not np.isfinite(f):
        return "0x%08X" % int(np.array(f, np.float32).view(np.uint32))
    d = float(f)
    with np.errstate(over="ignore"):  # 3e+38 rounds to inf: more digits
        for digits in range(1, 10):
            text = "%.*e" % (digits - 1, d)
            if np.float32(float(text)) == f:
                break
    exponent = int(text[text.index("e") + 1:])
    if -4 <= exponent < 16:
        text = "%.*f" % (max(digits - 1 - exponent, 0), d)
    mantissa, e, rest = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + e + rest


def tensor_type(shape, element="f32"):
    shape = tuple(int(d) for d in shape)
    return "tensor<%s%s>" % ("".join("%dx" % d for d in shape), element)


_SSA_BAD = re.compile(r"[^A-Za-z0-9_$.]")


def ssa_identifier(hint):
    """A string usable after `%`: letters, digits and `_$.`, not starting with a digit."""
    s = _SSA_BAD.sub("_", str(hint)).replace(".", "_")
    s = re.sub(r"_+", "_", s).strip("_")
    if not s:
        s = "v"
    if s[0].isdigit():
        s = "p" + s
    return s
