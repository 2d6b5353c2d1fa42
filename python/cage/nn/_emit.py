"""A small text builder for one func.func of linalg/tensor/arith/math/cage ops.

Only what cage.nn's modules need: SSA names that are readable and unique,
shared affine maps as `#name` aliases, hoisted scalar constants, and helpers
for the ops the modules are written with (linalg.generic, linalg.matmul,
linalg.fill, tensor.empty/expand_shape/collapse_shape/extract_slice/concat,
cage.quantize).

Naming: every SSA value of the function body gets a name from `fresh`, unique
in the whole function, never starting with `_`. Values inside the regions of
linalg.generic are named `%_...` (unique within their region): a region may
use the names of values defined before it, and MLIR rejects a region that
redefines one, which a leading `_` rules out.
"""

from contextlib import contextmanager

import numpy as np

from ._text import f32_literal, ssa_identifier, tensor_type


class Value:
    """An SSA value: a ranked f32 tensor of static `shape`, or a scalar
    (`shape` None, `element` the scalar type)."""

    __slots__ = ("name", "shape", "element")

    def __init__(self, name, shape, element="f32"):
        self.name = name
        self.shape = None if shape is None else tuple(int(d) for d in shape)
        self.element = element

    @property
    def type(self):
        if self.shape is None:
            return self.element
        return tensor_type(self.shape, self.element)

    @property
    def rank(self):
        return len(self.shape)

    def __str__(self):
        return self.name

    def __repr__(self):
        return "Value(%s : %s)" % (self.name, self.type)


def _dims(n):
    return ", ".join("d%d" % i for i in range(n))


def affine_map(ndims, results):
    """affine_map<(d0, ...) -> (results)>; results are loop indices (ints) or
    expression strings over d0..."""
    res = ", ".join("d%d" % r if isinstance(r, int) else str(r) for r in results)
    return "affine_map<(%s) -> (%s)>" % (_dims(ndims), res)


class Region:
    """The body of a linalg.generic being written: arith/math ops on scalars,
    with local `%_` names."""

    def __init__(self, builder):
        self.builder = builder
        self.lines = []
        self.used = set()

    def fresh(self, hint):
        base = "_" + ssa_identifier(hint)
        name, i = base, 0
        while name in self.used:
            i += 1
            name = "%s%d" % (base, i)
        self.used.add(name)
        return "%" + name

    def op(self, text, hint="t", ty="f32"):
        """`%name = text : ty`; text is the op and its operands."""
        name = self.fresh(hint)
        self.lines.append("%s = %s : %s" % (name, text, ty))
        return name

    # Arithmetic on f32 scalars.
    def addf(self, a, b, hint="sum"):
        return self.op("arith.addf %s, %s" % (a, b), hint)

    def subf(self, a, b, hint="diff"):
        return self.op("arith.subf %s, %s" % (a, b), hint)

    def mulf(self, a, b, hint="prod"):
        return self.op("arith.mulf %s, %s" % (a, b), hint)

    def divf(self, a, b, hint="quot"):
        return self.op("arith.divf %s, %s" % (a, b), hint)

    def maxf(self, a, b, hint="max"):
        return self.op("arith.maximumf %s, %s" % (a, b), hint)

    def negf(self, a, hint="neg"):
        return self.op("arith.negf %s" % a, hint)

    def math(self, fn, a, hint=None):
        return self.op("math.%s %s" % (fn, a), hint or fn)

    def select(self, cond, a, b, hint="sel"):
        return self.op("arith.select %s, %s, %s" % (cond, a, b), hint)

    def cmpf(self, predicate, a, b, hint="cmp"):
        return self.op("arith.cmpf %s, %s, %s" % (predicate, a, b), hint, "f32")

    def index(self, dim, hint=None):
        return self.op("linalg.index %d" % dim, hint or "i%d" % dim, "index")

    def cmpi(self, predicate, a, b, hint="cmp"):
        return self.op("arith.cmpi %s, %s, %s" % (predicate, a, b), hint, "index")

    def const(self, value):
        """An f32 constant of the function (hoisted; usable in regions)."""
        return self.builder.const(value)


class Builder:
    """Collects the text of one function."""

    def __init__(self):
        self.body = []           # lines of the function body (unindented)
        self.prologue = []       # constants, at the top of the body
        self.used = set()
        self.maps = {}           # map text -> alias name
        self.map_defs = []       # (alias, text) in order of first use
        self.consts = {}         # (type, literal, hint) -> name
        self.scope = []          # module path, for value names
        self.path = []           # the same, as written (dotted)
        self.params = {}         # id(Parameter) -> Value of its argument
        self.seed = None         # the Value of the i64 seed argument
        self.stochastic = []     # placeholders of the per-quantizer seeds, in order
        self.memo = {}           # (op, operands...) -> Value, for ops emitted once

    # -- names --------------------------------------------------------------
    def reserve(self, hint):
        """A fresh function-wide name (without the scope prefix)."""
        base = ssa_identifier(hint)
        name, i = base, 0
        while name in self.used:
            i += 1
            name = "%s_%d" % (base, i)
        self.used.add(name)
        return "%" + name

    def fresh(self, hint):
        """A fresh name for a value computed in the current module scope."""
        return self.reserve("_".join(self.scope + [hint]))

    @contextmanager
    def module_scope(self, name, comment=None):
        """Values emitted inside are named after the module path; `comment`
        (if given) is written first, after the dotted path."""
        self.scope.append(ssa_identifier(name))
        self.path.append(str(name))
        if comment:
            self.comment("%s: %s" % (".".join(self.path), comment))
        try:
            yield
        finally:
            self.scope.pop()
            self.path.pop()

    def param(self, p):
        """The argument Value of Parameter p."""
        try:
            return self.params[id(p)]
        except KeyError:
            raise ValueError("a parameter that is not one of the model's was used: %r" % (p,))

    def comment(self, text):
        self.body.append("// " + text)

    def emit(self, line):
        self.body.append(line)

    # -- shared things ------------------------------------------------------
    def map(self, ndims, results, alias=None):
        text = affine_map(ndims, results)
        if text not in self.maps:
            # By default named after the loops and results: #m2_0 is
            # (d0, d1) -> (d0), #m2_ (d0, d1) -> ().
            name = alias or "m%d_%s" % (ndims, "_".join(
                str(r) if isinstance(r, int) else "e" for r in results))
            taken = {a for a, _ in self.map_defs}
            base, i = name, 0
            while name in taken:
                i += 1
                name = "%s_%d" % (base, i)
            self.maps[text] = name
            self.map_defs.append((name, text))
        return "#" + self.maps[text]

    def identity_map(self, rank):
        return self.map(rank, list(range(rank)), "id%d" % rank)

    def const(self, value, ty="f32", hint=None):
        """The name of a constant of the function (emitted once, at the top);
        `hint` names it where it is first asked for."""
        if ty == "f32":
            literal = f32_literal(value)
        else:
            literal = str(int(value))
        key = (ty, literal, hint)
        if key not in self.consts:
            if hint:
                pass
            elif ty == "f32":
                hint = {"0.0": "zero", "1.0": "one", "0xFF800000": "neg_inf",
                        "0.5": "half"}.get(literal, "cst")
            else:
                hint = "c%s" % literal.replace("-", "m")
            name = self.reserve(hint)
            self.prologue.append("%s = arith.constant %s : %s" % (name, literal, ty))
            self.consts[key] = name
        return self.consts[key]

    def seed_for_quantizer(self):
        """The seed operand of the next stochastic quantizer. The k-th of K
        such quantizers (in the order of the function) draws from
        seed * K + k (i64, wrapping), so that with a new seed per step (the
        step count) no two quantizers of any two steps share a Philox key;
        with K = 1 that is the seed argument itself. The text holds a
        placeholder until `finish_seeds` knows K."""
        if self.seed is None:
            raise ValueError("a stochastic quantizer needs the function's seed argument")
        placeholder = "\x00seed%d\x00" % len(self.stochastic)
        self.stochastic.append(placeholder)
        return placeholder

    def finish_seeds(self):
        """Defines the per-quantizer seeds (prologue lines) and returns the
        placeholder substitutions for the body."""
        k_total = len(self.stochastic)
        if k_total == 1:
            return [], {self.stochastic[0]: self.seed.name}
        lines, subst = [], {}
        if k_total:
            scaled = self.reserve("seed_scaled")
            lines.append("%s = arith.muli %s, %s : i64"
                         % (scaled, self.seed.name, self.const(k_total, "i64")))
        for k, placeholder in enumerate(self.stochastic):
            name = self.reserve("seed_q%d" % k)
            lines.append("%s = arith.addi %s, %s : i64" % (name, scaled, self.const(k, "i64")))
            subst[placeholder] = name
        return lines, subst

    # -- ops ----------------------------------------------------------------
    def empty(self, shape, hint="init"):
        name = self.fresh(hint)
        v = Value(name, shape)
        self.emit("%s = tensor.empty() : %s" % (name, v.type))
        return v

    def fill(self, value, shape, hint="zeros"):
        init = self.empty(shape, hint + "_init")
        name = self.fresh(hint)
        v = Value(name, shape)
        self.emit("%s = linalg.fill ins(%s : f32) outs(%s : %s) -> %s"
                  % (name, self.const(value), init.name, v.type, v.type))
        return v

    def generic(self, hint, ins, out_shape, out_results, iterators, body, init=None):
        """A linalg.generic over len(iterators) loops.

        ins: list of (Value, results) where results are the loop indices (or
        expressions) of the input's indexing map; out_shape/out_results the
        same for the one output; iterators "parallel"/"reduction" per loop;
        body(region, *args) returns the yielded scalar, args being the names of
        the input elements and, last, the output element (the accumulator of
        a reduction). init: the output's initial value (a Value); by default
        tensor.empty (fine when every iteration overwrites its element).
        """
        n = len(iterators)
        maps = [self.map(n, res) if res != list(range(n)) else self.identity_map(n)
                for res in [list(r) for _, r in ins] + [list(out_results)]]
        if init is None:
            init = self.empty(out_shape, hint + "_init")
        out = Value(self.fresh(hint), out_shape)
        region = Region(self)
        args = [region.fresh(h) for h in
                ["in" if len(ins) == 1 else "in%d" % i for i in range(len(ins))] + ["out"]]
        result = body(region, *args)
        in_names = ", ".join(v.name for v, _ in ins)
        in_types = ", ".join(v.type for v, _ in ins)
        its = ", ".join('"%s"' % it for it in iterators)
        self.emit("%s = linalg.generic {indexing_maps = [%s], iterator_types = [%s]}"
                  % (out.name, ", ".join(maps), its))
        self.emit("    ins(%s : %s) outs(%s : %s) {" % (in_names, in_types, init.name, out.type))
        self.emit("^bb0(%s):" % ", ".join("%s: f32" % a for a in args))
        for line in region.lines:
            self.emit("  " + line)
        self.emit("  linalg.yield %s : f32" % result)
        self.emit("} -> %s" % out.type)
        return out

    def elementwise(self, hint, inputs, body, shape=None):
        """A parallel generic over the output's shape (that of inputs[0] by
        default). Each input is a Value of the output's shape, or (Value,
        results) for one that is broadcast (results: the loop indices it uses)."""
        ins = []
        first = inputs[0][0] if isinstance(inputs[0], tuple) else inputs[0]
        shape = tuple(shape or first.shape)
        for item in inputs:
            if isinstance(item, tuple):
                ins.append(item)
            else:
                assert item.shape == shape, (item, shape)
                ins.append((item, list(range(len(shape)))))
        return self.generic(hint, ins, shape, list(range(len(shape))),
                            ["parallel"] * len(shape),
                            lambda r, *a: body(r, *a[:-1]))

    def reduce_last(self, hint, inputs, body, init_value):
        """A reduction over the innermost dimension of inputs[0]'s shape into
        a tensor of the leading dimensions (initialised with init_value).
        body(region, *elements, acc) returns the new accumulator."""
        shape = inputs[0].shape
        r = len(shape)
        init = self.fill(init_value, shape[:-1], hint + "_acc")
        ins = []
        for v in inputs:
            if v.shape == shape:
                ins.append((v, list(range(r))))
            else:
                assert v.shape == shape[:-1], (v, shape)
                ins.append((v, list(range(r - 1))))
        return self.generic(hint, ins, shape[:-1], list(range(r - 1)),
                            ["parallel"] * (r - 1) + ["reduction"], body, init)

    def matmul(self, hint, a, b, transpose_b=False):
        """a [M, K] times b [K, N], or times b[N, K] transposed (the layout of a
        Linear's weight), as linalg.matmul into a zero-filled [M, N]."""
        assert a.rank == 2 and b.rank == 2, (a, b)
        m, k = a.shape
        n = b.shape[0] if transpose_b else b.shape[1]
        assert (b.shape[1] if transpose_b else b.shape[0]) == k, (a, b)
        zeros = self.fill(0.0, (m, n), hint + "_zeros")
        out = Value(self.fresh(hint), (m, n))
        maps = ""
        if transpose_b:
            maps = "indexing_maps = [%s, %s, %s] " % (
                self.map(3, [0, 2], "mm_lhs"), self.map(3, [1, 2], "mm_rhs_t"),
                self.map(3, [0, 1], "mm_out"))
        self.emit("%s = linalg.matmul %sins(%s, %s : %s, %s) outs(%s : %s) -> %s"
                  % (out.name, maps, a.name, b.name, a.type, b.type, zeros.name,
                     out.type, out.type))
        return out

    def collapse(self, v, groups, hint="flat"):
        shape = []
        for g in groups:
            size = 1
            for d in g:
                size *= v.shape[d]
            shape.append(size)
        out = Value(self.fresh(hint), shape)
        self.emit("%s = tensor.collapse_shape %s %s : %s into %s"
                  % (out.name, v.name, _groups(groups), v.type, out.type))
        return out

    def expand(self, v, groups, shape, hint="unflat"):
        out = Value(self.fresh(hint), shape)
        self.emit("%s = tensor.expand_shape %s %s output_shape [%s] : %s into %s"
                  % (out.name, v.name, _groups(groups), ", ".join(map(str, shape)),
                     v.type, out.type))
        return out

    def to_2d(self, v):
        """[..., n] as [prod(...), n] (v itself when it is 2-d; once per value)."""
        if v.rank == 2:
            return v
        key = ("rows", v.name)
        if key not in self.memo:
            r = v.rank
            groups = [list(range(r - 1)), [r - 1]]
            out = Value(self.reserve(v.name[1:] + "_rows"), (int(np.prod(v.shape[:-1])), v.shape[-1]))
            self.emit("%s = tensor.collapse_shape %s %s : %s into %s"
                      % (out.name, v.name, _groups(groups), v.type, out.type))
            self.memo[key] = out
        return self.memo[key]

    def from_2d(self, v, leading):
        """[prod(leading), n] back to [*leading, n]."""
        if len(leading) == 1:
            return v
        r = len(leading) + 1
        return self.expand(v, [list(range(r - 1)), [r - 1]], tuple(leading) + (v.shape[-1],))

    def extract_slice(self, v, offsets, sizes, hint="slice"):
        out = Value(self.fresh(hint), sizes)
        self.emit("%s = tensor.extract_slice %s[%s] [%s] [%s] : %s to %s"
                  % (out.name, v.name, ", ".join(map(str, offsets)),
                     ", ".join(map(str, sizes)), ", ".join("1" for _ in sizes),
                     v.type, out.type))
        return out

    def concat(self, values, dim, hint="cat"):
        if len(values) == 1:
            return values[0]
        shape = list(values[0].shape)
        shape[dim] = sum(v.shape[dim] for v in values)
        out = Value(self.fresh(hint), shape)
        self.emit("%s = tensor.concat dim(%d) %s : (%s) -> %s"
                  % (out.name, dim, ", ".join(v.name for v in values),
                     ", ".join(v.type for v in values), out.type))
        return out

    def quantize(self, v, quantizer, hint=None):
        """cage.quantize of v (with a seed when the rounding is stochastic).
        A deterministic quantizer is applied once per value: the q, k and v
        projections of attention share Q(x)."""
        quantizer.check_shape(v.shape, hint or v.name)
        key = ("quantize", v.name, quantizer)
        if not quantizer.stochastic and key in self.memo:
            return self.memo[key]
        seed = ""
        if quantizer.stochastic:
            seed = " seed(%s)" % self.seed_for_quantizer()
        out = Value(self.fresh(hint or "q"), v.shape)
        self.emit("%s = cage.quantize %s%s {quantizer = %s} : %s"
                  % (out.name, v.name, seed, quantizer.mlir(), v.type))
        if not quantizer.stochastic:
            self.memo[key] = out
        return out

    def extract_scalar(self, v, hint="scalar"):
        """The element of a rank-0 tensor."""
        assert v.shape == (), v
        name = self.fresh(hint)
        self.emit("%s = tensor.extract %s[] : %s" % (name, v.name, v.type))
        return Value(name, None)

    def scalar(self, text, hint, ty="f32"):
        name = self.fresh(hint)
        self.emit("%s = %s : %s" % (name, text, ty))
        return Value(name, None, ty)


def _groups(groups):
    return "[%s]" % ", ".join("[%s]" % ", ".join(map(str, g)) for g in groups)
