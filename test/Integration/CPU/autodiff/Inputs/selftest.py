"""Self-test of torch_cage.py: the torch Function against cage-run running
cage.quantize and cage.ste themselves (no autodiff involved).

    python3 selftest.py [--build DIR] [--keep DIR]

For every quantizer configuration and awkward shape below, one module with
three functions (Q(x); cage.ste with estimator = clipped; with identity) is
run by cage-run on random inputs, and compared bit for bit (float32 bits,
signed zeros told apart) with torch_cage.quantize in float32:
- the forward Q(x) with cage.quantize;
- x.grad after Q(x).backward(dy) with cage.ste's dx, for both estimators;
- scale.grad with cage.ste's d alpha (scale = operand).
The float64 estimator (torch_cage.ste64, the reference of the gradient
checks) is compared with the f32 one: it must agree within a few f32
roundings (tolerances below).

The cage tools are those of --build DIR (DIR/bin or DIR itself), else the
ones on PATH. Prints one line per configuration and shape, then the totals
and `failures: N`.
"""

import argparse
import os
import shutil
import sys
import tempfile
import zlib

import numpy as np
import torch

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_cage as tc  # noqa: E402
from gradcheck import Tools, call  # noqa: E402
from torch_cage import nr  # noqa: E402

# The spelling of a quantizer that the CPU integration tests use.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "Inputs"))
from harness import quantizer_attr  # noqa: E402

f32 = np.float32
U = 2.0 ** -24

Q = tc.parse_quantizer
# (quantizer, shapes): every granularity, scale, grid, rotation and rounding;
# bits 2, 3, 4, 5, 8; shapes of rank 1 to 3 whose free sizes are awkward (1,
# 7, 13, 129) and whose innermost size is a multiple of the group size and
# Hadamard block where needed, but not of 16.
CONFIGS = [
    (Q("bits = 4"), [(1,), (7,), (13, 7), (3, 5, 129)]),
    (Q("bits = 2, granularity = tensor, scale = rms_gaussian"),
     [(129,), (7, 13)]),
    (Q("bits = 3, granularity = group, group_size = 4, levels = centered"),
     [(52,), (7, 12), (3, 5, 20)]),
    (Q("bits = 4, scale = rms_gaussian, rotation = hadamard, block = 8"),
     [(104,), (13, 24)]),
    (Q("bits = 8, granularity = group, group_size = 2, levels = centered, "
       "rotation = hadamard, block = 4, rounding = stochastic"),
     [(7, 12), (1, 3, 4)]),
    (Q("bits = 5, granularity = tensor, scale = absmax, "
       "rounding = stochastic"), [(13, 7)]),
    (Q("bits = 4, granularity = tensor, scale = operand"), [(7,), (13, 7)]),
    (Q("bits = 3, scale = operand, levels = centered"), [(1,), (13, 7),
                                                        (3, 5, 13)]),
    (Q("bits = 4, granularity = group, group_size = 4, scale = operand, "
       "rotation = hadamard, block = 8, rounding = stochastic"),
     [(7, 24), (56,)]),
    (Q("bits = 2, granularity = group, group_size = 8, scale = operand, "
       "levels = centered, rotation = hadamard, block = 2"), [(13, 8)]),
]


def ttype(shape):
    return "tensor<" + "".join(f"{d}x" for d in shape) + "f32>"


def scale_shape(p, shape):
    if p["granularity"] == "tensor":
        return ()
    if p["granularity"] == "row":
        return tuple(shape[:-1])
    return tuple(shape[:-1]) + (shape[-1] // p["group_size"],)


def module(p, shape):
    t = ttype(shape)
    operand = p["scale"] == "operand"
    s = ttype(scale_shape(p, shape))
    q = quantizer_attr(p)
    seed_arg = ", %seed: i64" if p["rounding"] == "stochastic" else ""
    seed_use = " seed(%seed)" if seed_arg else ""
    a_arg = f", %a: {s}" if operand else ""
    a_use = " scale(%a)" if operand else ""
    a_ty = f", {s}" if operand else ""
    text = [f"func.func @q(%x: {t}{seed_arg}{a_arg}) -> {t} {{",
            f"  %q = cage.quantize %x{seed_use}{a_use} {{quantizer = {q}}}"
            f" : {t}{a_ty}",
            f"  return %q : {t}", "}"]
    for e in ("clipped", "identity"):
        res = f"({t}, {s})" if operand else t
        outs = "%dx, %da" if operand else "%dx"
        text += [f"func.func @ste_{e}(%dy: {t}, %x: {t}{a_arg}) -> {res} {{",
                 f"  {outs} = cage.ste %dy, %x{a_use} {{quantizer = {q}, "
                 f"estimator = {e}}} : {t}{a_ty}",
                 f"  return {outs} : {res[1:-1] if operand else t}", "}"]
    return "\n".join(text) + "\n"


def inputs(p, shape, rng):
    # Heavy tails: rms_gaussian and operand scales clip some elements.
    x = rng.standard_normal(shape) * np.where(rng.random(shape) < 0.15, 4, 1)
    x = x.astype(f32)
    a = None
    if p["scale"] == "operand":
        a = rng.uniform(0.5, 2.0, scale_shape(p, shape)).astype(f32)
        # Some exact ties of the int grid: x = (k + 1/2) * (alpha / qmax)
        # (without rotation, where x is what the grid sees).
        if p["rotation"] == "none" and p["levels"] == "int":
            qmax = nr.grid_constants(p)[0]
            groups = x.reshape(-1, nr.group_elements(p, shape))
            s = a.reshape(-1) / qmax
            k = rng.integers(-3, 3, groups.shape[0]).astype(f32)
            groups[:, 0] = (k + f32(0.5)) * s
    seed = int(rng.integers(0, 2 ** 63)) * 2 - int(rng.integers(0, 2))
    seed = np.array(seed & (2 ** 64 - 1), np.uint64).view(np.int64)
    dy = rng.standard_normal(shape).astype(f32)
    return x, a, seed, dy


def same_bits(a, b):
    return nr.same_bits(np.asarray(a, f32), np.asarray(b, f32))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", help="build dir holding bin/cage-run")
    ap.add_argument("--keep", help="write the files here and keep them")
    args = ap.parse_args()
    cage_run = Tools(args.build).run
    work = args.keep or tempfile.mkdtemp(prefix="torch-cage-")
    os.makedirs(work, exist_ok=True)
    failures = outputs = cases = clipped = ties = 0
    for ci, (p, shapes) in enumerate(CONFIGS):
        for shape in shapes:
            cases += 1
            name = f"c{ci}_" + "x".join(map(str, shape))
            rng = np.random.default_rng(zlib.crc32(name.encode()))
            x, a, seed, dy = inputs(p, shape, rng)
            d = os.path.join(work, name)
            os.makedirs(d, exist_ok=True)
            src = os.path.join(d, "m.mlir")
            with open(src, "w") as f:
                f.write(module(p, shape))
            files = {}
            for key, v in (("x", x), ("a", a), ("seed", seed), ("dy", dy)):
                if v is not None:
                    files[key] = os.path.join(d, key + ".npy")
                    np.save(files[key], v)
            stochastic = p["rounding"] == "stochastic"
            operand = p["scale"] == "operand"
            problems = []
            try:
                ins = ["--in", files["x"]]
                if stochastic:
                    ins += ["--in", files["seed"]]
                if operand:
                    ins += ["--in", files["a"]]
                call([cage_run, src, "--entry", "q", *ins,
                     "--out", os.path.join(d, "q.npy")])
                for e in ("clipped", "identity"):
                    outs = ["--out", os.path.join(d, f"dx_{e}.npy")]
                    if operand:
                        outs += ["--out", os.path.join(d, f"da_{e}.npy")]
                    call([cage_run, src, "--entry", "ste_" + e,
                         "--in", files["dy"], "--in", files["x"],
                         *(["--in", files["a"]] if operand else []), *outs])
            except RuntimeError as err:
                print(f"FAIL {name}: {err}")
                failures += 1
                continue
            seed_v = int(seed) if stochastic else None
            xr, al = nr.prepare(p, x, None if a is None else a.reshape(-1))
            clipped += int(np.count_nonzero(nr.clipped(p, xr, al)))
            ties += nr.ties(p, xr, al)
            for e in ("clipped", "identity"):
                xt = torch.tensor(x, requires_grad=True)
                at = None if a is None else torch.tensor(a, requires_grad=True)
                q = tc.quantize(xt, p, seed=seed_v, scale=at, estimator=e)
                if e == "clipped":
                    outputs += 1
                    if not same_bits(q.detach().numpy(),
                                     np.load(os.path.join(d, "q.npy"))):
                        problems.append("Q(x) differs from cage.quantize")
                q.backward(torch.tensor(dy))
                outputs += 1
                if not same_bits(xt.grad.numpy(),
                                 np.load(os.path.join(d, f"dx_{e}.npy"))):
                    problems.append(f"dx ({e}) differs from cage.ste")
                if operand:
                    outputs += 1
                    if not same_bits(at.grad.numpy(),
                                     np.load(os.path.join(d, f"da_{e}.npy"))):
                        problems.append(f"d alpha ({e}) differs from cage.ste")
                # The float64 estimator: within a few f32 roundings of the
                # f32 one. dx: a masked (and rotated) copy of dy, so a few
                # ulps of max|dy| (log2(block) + 1 roundings with rotation).
                # d alpha: a sum of products of the f32 d_i (each within an
                # ulp or two of its f64 value) and dy_i: within 8 u of the
                # sum of their magnitudes (times gamma).
                a_flat = None if a is None else a.reshape(-1)
                dx64, da64 = tc.ste64(p, e, dy.astype(np.float64), x, a_flat)
                dx32, da32 = nr.ste(p, e, dy, x, a_flat)
                tol_dx = 16 * U * np.abs(dy).max()
                if np.abs(dx64 - dx32).max() > tol_dx:
                    problems.append(f"ste64 dx ({e}) off by "
                                    f"{np.abs(dx64 - dx32).max():.3g}")
                if operand:
                    _, qmin, _ = nr.grid_constants(p)
                    dyr = (tc.fwht64(dy, p["block"])
                           if p["rotation"] == "hadamard" else dy)
                    mag = np.abs(dyr).reshape(xr.shape).sum(axis=1)
                    gamma = 1 / np.sqrt(xr.shape[1] *
                                        float(nr.grid_constants(p)[0]))
                    bound = 8 * U * mag * gamma * max(1.0, abs(float(qmin)))
                    if np.any(np.abs(da64 - da32) > bound):
                        problems.append(f"ste64 d alpha ({e}) off by "
                                        f"{np.abs(da64 - da32).max():.3g}")
            status = "FAIL" if problems else "ok"
            failures += bool(problems)
            print(f"{status} {name}: {quantizer_attr(p)} {shape}"
                  + ("" if not problems else ": " + "; ".join(problems)))
    if not args.keep:
        shutil.rmtree(work)
    print(f"torch_cage: {cases} cases, {outputs} outputs compared")
    print(f"clipped elements: {clipped}, exact ties: {ties}")
    print(f"failures: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
