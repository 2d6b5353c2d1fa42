#!/usr/bin/python3
"""Writes the MLIR of the CAGE-AdamW steps that the benchmarks compile.

Every function is an in-place entry point in destination-passing style
(docs/Tools.md, "In-place updates"): for each parameter k it takes the
memrefs w_k, g_k, m_k, v_k (in that order, parameter after parameter), then
lr: f32, lambda_t: f32, t: i64, and writes w, m and v back into their own
buffers (bufferization.materialize_in_destination), all after the last
step; with --store-each, each parameter's right after its own step (then
cage-fuse-multi-tensor leaves the steps apart: a member's results must not
be used before the group's last member).

With --state bf16 (the update spelling only) m and v are bf16 memrefs and
the function takes one more scalar after t, seed: i64, the seed(...)
operand of every parameter's cage.update (the same seed for all of them:
each parameter's stochastic rounding is keyed by the seed and the element's
index in its own tensor). cage-fuse-multi-tensor does not group bf16-state
updates (cage.multi_update is f32 only), so each parameter keeps its own
update.

Spellings of the step of one parameter:
  unfused  what a researcher writes: cage.quant_error, the correction as a
           linalg.generic (no special case for lambda_t == 0,
           docs/Semantics.md §1.3, which cage-fuse-correction requires to
           fuse it), and cage.adamw; coupled: g + lambda_t * e before
           cage.adamw, decoupled: w1 - (lr * lambda_t) * e after it.
  update   one cage.update per parameter.

    gen_step.py SHAPE... [--spelling S] [--state f32|bf16] [--name F]
                [--configs C,...] [--per-shape] [--store-each] [-o FILE]
        for each quantizer x coupling (F_row_decoupled, F_row_coupled,
        F_group_decoupled, F_group_coupled; --configs narrows them) one
        function taking every parameter of the given shapes (ROWSxCOLS, or
        COUNTxROWSxCOLS for COUNT parameters of one shape); with
        --per-shape one function per shape instead, F_<config>_ROWSxCOLS.
"""

import argparse
import sys

QUANTIZERS = {
    "row": "#cage.quantizer<bits = 4>",
    "group": ("#cage.quantizer<bits = 4, granularity = group, "
              "group_size = 128>"),
}
COUPLINGS = ("decoupled", "coupled")
ADAMW_ATTRS = ("{beta1 = 0.9 : f32, beta2 = 0.95 : f32, eps = 1.0e-08 : f32, "
               "weight_decay = 0.1 : f32}")
ADAMW_OPT = ("#cage.adamw<beta1 = 0.9, beta2 = 0.95, eps = 1.0e-08, "
             "weight_decay = 0.1>")


def parse_shapes(specs):
    """["64x512x512", "4096x4096"] -> [(512, 512)] * 64 + [(4096, 4096)]."""
    shapes = []
    for spec in specs:
        dims = [int(d) for d in spec.split("x")]
        if len(dims) == 2:
            dims = [1] + dims
        if len(dims) != 3 or min(dims) < 1:
            sys.exit(f"gen_step.py: bad shape '{spec}' (ROWSxCOLS or "
                     "COUNTxROWSxCOLS)")
        shapes += [(dims[1], dims[2])] * dims[0]
    return shapes


class Function:
    """The text of one entry point."""

    def __init__(self, name, shapes, quantizer, coupling, spelling,
                 store_each, state="f32"):
        self.shapes = shapes
        self.state = state
        self.store_each = store_each
        self.stores = []
        self.quantizer = QUANTIZERS[quantizer]
        self.coupling = coupling
        self.spelling = spelling
        self.lines = []
        args = []
        for k, (rows, cols) in enumerate(shapes):
            args.append(", ".join(f"%{x}{k}: {self.memref(x, (rows, cols))}"
                                  for x in "wgmv"))
        args.append("%lr: f32, %lambda: f32, %t: i64" +
                    (", %seed: i64" if state == "bf16" else ""))
        self.header = f"func.func @{name}(" + ",\n    ".join(args) + ") {"

    def element(self, x):
        """The element type of w, g, m or v."""
        return self.state if x in "mv" else "f32"

    def memref(self, x, shape):
        return f"memref<{shape[0]}x{shape[1]}x{self.element(x)}>"

    def tensor(self, x, shape):
        return f"tensor<{shape[0]}x{shape[1]}x{self.element(x)}>"

    def emit(self, line):
        self.lines.append("  " + line)

    def text(self):
        if self.spelling == "unfused":
            # The decoupled factor, once (per parameter CSE would merge it
            # anyway).
            if self.coupling == "decoupled":
                self.emit("%lr_lambda = arith.mulf %lr, %lambda : f32")
        for k, shape in enumerate(self.shapes):
            self.parameter(k, shape)
        for line in self.stores:
            self.emit(line)
        self.emit("return")
        return "\n".join([self.header] + self.lines + ["}"]) + "\n"

    def parameter(self, k, shape):
        tt = self.tensor("w", shape)
        for x, writable in (("w", True), ("g", False), ("m", True),
                            ("v", True)):
            self.emit(f"%{x}t{k} = bufferization.to_tensor %{x}{k} restrict"
                      f"{' writable' if writable else ''} : "
                      f"{self.memref(x, shape)} to {self.tensor(x, shape)}")
        if self.spelling == "update":
            seed, types = "", tt
            if self.state == "bf16":
                seed, types = " seed(%seed)", f"{tt}, {self.tensor('m', shape)}"
            self.emit(f"%w{k}n, %m{k}n, %v{k}n = cage.update %wt{k}, %gt{k}, "
                      f"%mt{k}, %vt{k}, %lr, %lambda, %t{seed} {{quantizer = "
                      f"{self.quantizer}, optimizer = {ADAMW_OPT}, coupling = "
                      f"{self.coupling}}} : {types}")
        else:
            self.unfused(k, tt)
        stores = [f"bufferization.materialize_in_destination %{x}{k}n in "
                  f"restrict writable %{x}{k} : ({self.tensor(x, shape)}, "
                  f"{self.memref(x, shape)}) -> ()"
                  for x in ("w", "m", "v")]
        if self.store_each:
            for line in stores:
                self.emit(line)
        else:
            self.stores += stores

    def unfused(self, k, tt):
        self.emit(f"%e{k} = cage.quant_error %wt{k} {{quantizer = "
                  f"{self.quantizer}}} : {tt}")
        if self.coupling == "coupled":
            # g' = g + lambda_t * e
            self.correction(f"%gc{k}", f"%gt{k}", f"%e{k}", "%lambda",
                            "arith.addf", tt)
            grad = f"%gc{k}"
            w1 = f"%w{k}n"
        else:
            grad = f"%gt{k}"
            w1 = f"%w{k}s"
        self.emit(f"{w1}, %m{k}n, %v{k}n = cage.adamw %wt{k}, {grad}, "
                  f"%mt{k}, %vt{k}, %lr, %t {ADAMW_ATTRS} : {tt}")
        if self.coupling == "decoupled":
            # w = w1 - (lr * lambda_t) * e
            self.correction(f"%w{k}n", w1, f"%e{k}", "%lr_lambda",
                            "arith.subf", tt)

    def correction(self, result, x, e, factor, combine, tt):
        init = result + "_init"
        self.emit(f"{init} = tensor.empty() : {tt}")
        self.emit(f"{result} = linalg.generic {{indexing_maps = [#id, #id, "
                  "#id], iterator_types = [\"parallel\", \"parallel\"]}")
        self.emit(f"    ins({x}, {e} : {tt}, {tt}) outs({init} : {tt}) {{")
        self.emit("^bb0(%x: f32, %e: f32, %out: f32):")
        self.emit(f"  %scaled = arith.mulf {factor}, %e : f32")
        self.emit(f"  %corrected = {combine} %x, %scaled : f32")
        self.emit("  linalg.yield %corrected : f32")
        self.emit(f"}} -> {tt}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("shapes", nargs="+",
                        help="ROWSxCOLS or COUNTxROWSxCOLS, repeatable")
    parser.add_argument("--spelling", choices=("unfused", "update"),
                        default="unfused")
    parser.add_argument("--state", choices=("f32", "bf16"), default="f32",
                        help="element type of m and v (bf16: --spelling "
                        "update only; adds the seed argument)")
    parser.add_argument("--name", default="step")
    parser.add_argument("--configs", default="row_decoupled,row_coupled,"
                        "group_decoupled,group_coupled",
                        help="comma-separated QUANTIZER_COUPLING list")
    parser.add_argument("--per-shape", action="store_true",
                        help="one function per shape")
    parser.add_argument("--store-each", action="store_true",
                        help="write each parameter's w, m, v back right after "
                        "its step (default: all at the end, after every "
                        "step)")
    parser.add_argument("-o", "--output", default="-")
    args = parser.parse_args()
    shapes = parse_shapes(args.shapes)
    if args.state == "bf16" and args.spelling != "update":
        sys.exit("gen_step.py: --state bf16 needs --spelling update")
    parts = ["// Generated by bench/gen_step.py " +
             " ".join(sys.argv[1:]) + "\n",
             "#id = affine_map<(d0, d1) -> (d0, d1)>\n"]
    for config in args.configs.split(","):
        quantizer, _, coupling = config.partition("_")
        if quantizer not in QUANTIZERS or coupling not in COUPLINGS:
            sys.exit(f"gen_step.py: bad config '{config}'")
        if quantizer == "group" and any(c % 128 for _, c in shapes):
            sys.exit("gen_step.py: group_size 128 must divide every row")
        if args.per_shape:
            for rows, cols in dict.fromkeys(shapes):
                parts.append(Function(f"{args.name}_{config}_{rows}x{cols}",
                                      [(rows, cols)], quantizer, coupling,
                                      args.spelling, args.store_each,
                                      args.state).text())
        else:
            parts.append(Function(f"{args.name}_{config}", shapes, quantizer,
                                  coupling, args.spelling, args.store_each,
                                  args.state).text())
    text = "\n".join(parts)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
