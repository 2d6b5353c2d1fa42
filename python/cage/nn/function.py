"""The emitter: a model's forward pass as one func.func in MLIR text."""

from dataclasses import dataclass

import numpy as np

from ._emit import Builder, Value
from ._text import tensor_type
from .config import config_for

MODES = ("train", "eval")


@dataclass(frozen=True)
class Argument:
    """One argument of the emitted function.

    name: its SSA name (without `%`); kind: "input", "target", "seed" or
    "param"; shape: the tensor shape (None for the i64 seed); dtype: the
    numpy dtype cage-run and cage.compile take for it; param_name: the
    dotted parameter name (kind "param"); attr: the `#cage.param<...>` it
    carries (train mode), else None.
    """

    name: str
    kind: str
    shape: tuple
    dtype: str
    param_name: str = None
    attr: str = None

    @property
    def type(self):
        return "i64" if self.shape is None else tensor_type(self.shape)


class ForwardFunction:
    """The result of forward_mlir.

    text: the MLIR (also str(fn)); name: the function's name; args: the
    Arguments in order (inputs, target, seed, parameters); results: the
    result kinds and shapes, [("loss", ())] and/or [("output", shape)];
    params: [(dotted name, numpy array)] of the parameter arguments, in
    argument order (the model's arrays themselves, not copies); model: the
    model.
    """

    def __init__(self, name, text, args, results, model):
        self.name = name
        self.text = text
        self.args = args
        self.results = results
        self.model = model

    @property
    def params(self):
        by_name = dict(self.model.named_parameters())
        return [(a.param_name, by_name[a.param_name].data) for a in self.args if a.kind == "param"]

    @property
    def has_seed(self):
        return any(a.kind == "seed" for a in self.args)

    def arguments(self, *inputs, target=None, seed=None):
        """The full argument list for a call, numpy arrays in order: the
        inputs, the target (with a loss), the seed (as a 0-d int64 array,
        when a quantizer is stochastic) and the model's current parameters.
        Shapes and dtypes are checked."""
        out, inputs = [], list(inputs)
        for a in self.args:
            if a.kind == "input":
                if not inputs:
                    raise TypeError("%s: too few inputs" % self.name)
                v = inputs.pop(0)
            elif a.kind == "target":
                if target is None:
                    raise TypeError("%s: the loss needs target=" % self.name)
                v = target
            elif a.kind == "seed":
                if seed is None:
                    raise TypeError("%s: a stochastic quantizer needs seed=" % self.name)
                s = int(seed) & 0xFFFFFFFFFFFFFFFF  # as i64, wrapping
                v = np.array(s - (1 << 64) if s >= 1 << 63 else s, np.int64)
            else:
                v = dict(self.model.named_parameters())[a.param_name].data
            v = np.array(v, dtype=np.dtype(a.dtype), order="C")  # (keeps 0-d arrays 0-d)
            want = () if a.shape is None else tuple(a.shape)
            if v.shape != want:
                raise ValueError("%s: argument %%%s needs shape %s, not %s"
                                 % (self.name, a.name, want, v.shape))
            out.append(v)
        if inputs:
            raise TypeError("%s: too many inputs" % self.name)
        return out

    def __str__(self):
        return self.text

    def __repr__(self):
        return "<ForwardFunction @%s(%s)>" % (
            self.name, ", ".join("%%%s: %s" % (a.name, a.type) for a in self.args))


def forward_mlir(model, *input_shapes, loss=None, mode="train", name=None, config=None,
                 overrides=None, input_names=None):
    """The forward pass of `model` as MLIR text (a ForwardFunction).

    input_shapes: the static shape of each input of the model (a batch).
    loss: a loss (CrossEntropyLoss()) or None; with a loss the function
    takes a target of the model output's shape (one-hot rows).
    mode "train" (needs a loss): `-> f32`, the loss; every parameter
    argument carries `{cage.param = #cage.param<...>}` for cage-autodiff.
    mode "eval": `-> tensor` (the model's output, logits), or `-> (f32,
    tensor)` with a loss; parameters are plain arguments.
    name: the function's name ("loss" in train mode, "forward" in eval).
    config: the ParamConfig of every parameter (or a dict of changes to the
    defaults); overrides: {pattern: ParamConfig or dict of changes}, applied
    in order to the parameters that match (`@bias`, `@norm`, `@weight`,
    `@embedding` by kind, or an fnmatch glob on the dotted name); a
    Parameter's own `.config` comes last. A parameter that the forward does
    not quantize gets `cage = false`.
    input_names: the SSA names of the inputs (default x, or x0, x1, ...).

    Arguments, in order: inputs, target (with a loss), seed: i64 (only when
    some quantizer rounds stochastically), then the parameters in
    model.named_parameters() order.
    """
    if mode not in MODES:
        raise ValueError("mode is 'train' or 'eval', not %r" % (mode,))
    if mode == "train" and loss is None:
        raise ValueError("mode='train' needs a loss (the function returns it)")
    if not input_shapes:
        raise ValueError("forward_mlir needs the shape of each input")
    input_shapes = [tuple(int(d) for d in s) for s in input_shapes]
    name = name or ("loss" if mode == "train" else "forward")
    if input_names is None:
        input_names = ["x"] if len(input_shapes) == 1 else ["x%d" % i for i in range(len(input_shapes))]
    if len(input_names) != len(input_shapes):
        raise ValueError("one input name per input shape")

    b = Builder()
    args = []
    inputs = []
    for n, shape in zip(input_names, input_shapes):
        v = Value(b.reserve(n), shape)
        inputs.append(v)
        args.append(Argument(v.name[1:], "input", shape, "float32"))
    out_shape = model.output_shape(*input_shapes)
    target = None
    if loss is not None:
        target = Value(b.reserve("target"), out_shape)
        args.append(Argument(target.name[1:], "target", out_shape, "float32"))
    b.seed = Value(b.reserve("seed"), None, "i64")
    seed_index = len(args)
    for pname, p in model.named_parameters():
        v = Value(b.reserve(pname), p.data.shape)
        b.params[id(p)] = v
        attr = None
        if mode == "train":
            attr = config_for(pname, p, config, overrides).mlir(p.quantizer)
        args.append(Argument(v.name[1:], "param", p.data.shape, "float32", pname, attr))

    y = model.emit(b, *inputs)
    results = []
    if loss is not None:
        b.comment("loss: %s" % type(loss).__name__)
        lv = loss.emit(b, y, target)
        results.append(("loss", lv))
    if mode == "eval":
        results.append(("output", y))

    seed_lines, subst = b.finish_seeds()
    if b.stochastic:
        args.insert(seed_index, Argument(b.seed.name[1:], "seed", None, "int64"))

    def fix(line):
        for k, v in subst.items():
            line = line.replace(k, v)
        return line

    lines = []
    for row in repr(model).splitlines():
        lines.append("// " + row)
    for alias, text in b.map_defs:
        lines.append("#%s = %s" % (alias, text))
    head = "func.func @%s(" % name
    pad = " " * len(head)
    arg_texts = []
    for a in args:
        t = "%%%s: %s" % (a.name, a.type)
        if a.attr is not None:
            t += " {cage.param = %s}" % a.attr
        arg_texts.append(t)
    result_types = [v.type for _, v in results]
    rt = result_types[0] if len(result_types) == 1 else "(%s)" % ", ".join(result_types)
    lines.append(head + (",\n" + pad).join(arg_texts) + ") -> %s {" % rt)
    for line in b.prologue + seed_lines + b.body:
        lines.append("  " + fix(line))
    lines.append("  return %s : %s" % (", ".join(v.name for _, v in results),
                                       ", ".join(result_types)))
    lines.append("}")
    text = "\n".join(lines) + "\n"
    out_results = [(kind, () if v.shape is None else v.shape) for kind, v in results]
    return ForwardFunction(name, text, args, out_results, model)
