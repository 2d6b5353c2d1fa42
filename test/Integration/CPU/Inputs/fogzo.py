"""FOGZO (docs/Semantics.md §1.6) as compiled, against lib/Reference.

    fogzo.py DIR CAGE_RUN LIBCAGEREFERENCE [CAGE_OPT]

CAGE_OPT (default: cage-opt beside CAGE_RUN, else on PATH) runs
cage-autodiff{in-place=false gradients=true} on the forward functions below;
CAGE_RUN JIT-compiles the result and calls one function per run.

a. cage.fogzo_direction, bit for bit. One function holds eight ops (sizes 1,
   7, 129, ?x129, 3x?, 2x3x64, ?x3x64, 5x7, 13, rank 0; one to three
   parameters each; int and centered grids, tensor, row and group
   granularity, absmax and rms_gaussian, Hadamard blocks of 16 and 64, 2 to
   8 bits, `unit` entries; beta_min 0.999, 0.5, 0 and 1; the grid's epsilon
   and explicit ones; ghat of unit norm and of unit RMS (direction =
   unit_rms); a zero gradient (norm taken as 1, signed zeros); t past
   2^32 (only its low 32 bits key the noise); a seed with a high word),
   compiled vectorized and with --no-vectorize. Each op's v and epsilon
   against cageRefFogzo on the raw float32 bits: its loss callback returns
   +eps on the first call and -eps on the second, so that
   G = ((eps - (-eps)) / (2 eps)) v = 1 * v = v exactly (2 eps and eps + eps
   are exact, their quotient is 1). eps is not known inside the callback
   before the trace is written, so it is computed first: the settings'
   epsilon, or (float)(h / (2 sqrt 3)) in double with h from
   cageRefFogzoStep, and the trace must report the same eps. Independently
   of cageRefFogzo: with beta_t = 0 (t >= T, beta_min = 0) v is the noise
   cageRefFogzoNoise(seed, t, k, i) itself, and with beta_t = 1
   (beta_min = 1) v = sigma * (g / f32(norm)) with sigma =
   cageRefFogzoSign(seed, t) and the norm from numpy (math.fsum), both of
   which must equal the trace's.

b. @loss_train_step of a small quantized layer (x Q(w)^T + b, squared sum;
   5x23, 7x23, 7: no size a multiple of 16) with FOGZO on w and b:
   - SGD (lr * G, no momentum), cage = false, start = 0.5: at t = 8 of 10
     (active) the new w and b against w - lr * G_ref, G_ref from
     cageRefFogzo given the straight-through g of @loss_grad and a loss
     callback that runs the compiled @loss at the probe weights it is given;
     at t = 5 and 2 of 10 (r = 0.5 and 0.2, not > start) the plain SGD step
     on g, bit for bit, and the reference inactive (G = g, no loss call).
   - AdamW with the CAGE correction (cage = true on w, linear ramp,
     lambda_t > 0 at t = 9 of 10): against cageRefUpdateAdamW (w) and
     cageRefAdamW (b) applied to G_ref.
   Tolerance: the compiled step computes g, v, eps, the probes and the loss
   at the probes with the same compiled functions and in the orders of the
   reference (§1.6; the f64 norm in row-major order), so the steps come out
   bit-identical today; what the test allows is what may legitimately
   differ: the step's own backward (a copy of @loss_grad's) and its calls
   of @loss are compiled in another function, where another tiling (or
   another back end) may sum a contraction or the f64 norm in another
   order. A few ulps of L+ or L- are amplified by the
   cancellation in L+ - L-: scale = (L+ - L-) / (2 eps) moves by up to
   ulp(max |L+-|) / eps per ulp of each, so G_i by |v_i| times that. The
   bound per element is
     |G_i - G_ref,i| <= 4 * ulp(max(|L+|, |L-|)) / eps * |v_i|
                        + 8 * 2^-24 * |G_ref,i|
   (4 ulps of each loss, plus a few roundings of v and of the scale
   itself), carried through the optimizer: lr times that for SGD (lr =
   0.01), and for AdamW, whose step lr * m^ / (sqrt(v^) + eps) (m^ = m /
   bias1, v^ = v / bias2, the new moments) has a derivative in G of at
   most lr * ((1 - beta1) / bias1 + |m^| (1 - beta2) |G| / (bias2 sqrt(v^)
   (sqrt(v^) + eps))) / (sqrt(v^) + eps), times that (the CAGE correction
   does not depend on G), plus 8 ulps of w for the roundings of the step.
   Inactive steps and the loss output: bit for bit; SGD's buffer
   (momentum 0) is returned unchanged.

c. Unbiasedness, on a smooth quadratic L(w1, w2) = 0.5 ||A w1 + B w2 - y||^2
   (w1 13, w2 3x5 coupled through B: no quantizer) with beta_min = 0,
   epsilon = 0.001, SGD lr = 1 and t >= T (r = 1, beta_t = 0, v = u: pure
   noise of unit variance, new at every t). A driver function calls the
   step N times in an scf.for over t = T .. T + N - 1 and returns the sum
   of G = w - w_new. The central difference of a quadratic is exact, so
   G = (a . u) u with a = grad L (both parameters together; the f32
   roundings of L+ and L- add about ulp(L) / eps |u|, a small noise):
   E[G] = a since
   E[u u^T] = I (independent u_k,i over parameters and elements). Its
   variance, with E[u^2] = 1 and E[u^4] = 9/5 (uniform):
     Var(G_i) = E[(sum_j a_j u_j)^2 u_i^2] - a_i^2 = ||a||^2 + (4/5) a_i^2.
   (E[u] is -sqrt(3) 2^-24, not 0: a bias far below the bound.) With
   N = 20000 steps the mean must be within 4 sigma_i / sqrt(N) of a_i in
   every component and ||mean - a|| <= 4 sqrt(sum_i sigma_i^2 / N) (a
   reproducible draw: Philox is keyed by the seed and t). The check has
   power: the same bound rejects 0 (an estimate without signal), mean / 2
   and 2 mean (a scale off by 2: noise of variance 1/2, a missing 1/2 in
   2 eps). Noise shared by the two parameters (a wrong parameter index in
   the counter) or by the steps (t ignored) would bias the mean too. And
   three steps of the driver against cageRefFogzo + cageRefSgd at each t
   (its loss the quadratic in f32 in the compiled order), the sums of G bit
   for bit.

Prints one line per check and `failures: N`.
"""
import math
import os
import shutil
import subprocess
import sys

import numpy as np

# The ctypes bindings of the reference, without leaving bytecode behind.
sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "Reference", "Inputs"))
from reference import AdamW, Reference, Sgd, fogzo, quantizer  # noqa: E402

f32 = np.float32
failures = 0


def fail(condition):
    global failures
    failures += 0 if condition else 1
    return "ok" if condition else "FAIL"


def flt(value):
    """An f32 value as an MLIR float literal that parses back to it."""
    return "%.9e" % float(f32(value))


def tensor_type(shape, dyn=()):
    dims = "".join(("?" if d in dyn else str(s)) + "x"
                   for d, s in enumerate(shape))
    return f"tensor<{dims}f32>"


# ---------------------------------------------------------------------------
# Running things.
# ---------------------------------------------------------------------------


class Runner:
    def __init__(self, out, cage_run, cage_opt):
        self.out, self.cage_run, self.cage_opt = out, cage_run, cage_opt
        self.count = 0

    def autodiff(self, name, text):
        src = os.path.join(self.out, name + ".mlir")
        dst = os.path.join(self.out, name + "-ad.mlir")
        with open(src, "w") as f:
            f.write(text)
        subprocess.run([self.cage_opt, src,
                        "--cage-autodiff=in-place=false gradients=true",
                        "-o", dst], check=True)
        return dst

    def run(self, module, entry, inputs, num_outputs, flags=()):
        """Calls entry of module on inputs (numpy arrays or 0-d scalars);
        returns its results as arrays."""
        self.count += 1
        d = os.path.join(self.out, f"run{self.count}")
        os.makedirs(d, exist_ok=True)
        command = [self.cage_run, module, "--entry", entry] + list(flags)
        for i, x in enumerate(inputs):
            path = os.path.join(d, f"in{i}.npy")
            np.save(path, x)
            command += ["--in", path]
        outs = [os.path.join(d, f"out{i}.npy") for i in range(num_outputs)]
        for path in outs:
            command += ["--out", path]
        subprocess.run(command, check=True)
        return [np.load(path) for path in outs]


def bits(x):
    return np.asarray(x, f32).view(np.uint32)


# ---------------------------------------------------------------------------
# a. cage.fogzo_direction bit for bit.
# ---------------------------------------------------------------------------

# Quantizers: (attribute text, reference struct). None: `unit`.
def q(**p):
    text = []
    for key in ("bits", "granularity", "group_size", "scale", "levels",
                "rotation", "block"):
        if key in p:
            text.append(f"{key} = {p[key]}")
    return ("#cage.quantizer<" + ", ".join(text) + ">", quantizer(**p))


# Each case: fogzo settings, t, T, and its parameters as
# (shape, dynamic dims, quantizer or None, kind of g).
SEED_HIGH = 0x9E3779B97F4A7C15 - (1 << 64)  # an i64 with a high word
CASES = [
    dict(name="b0.999 grid", beta_min=0.999, seed=5, epsilon=0.0, t=3, T=10,
         params=[((7,), (), q(bits=4, granularity="row"), "normal"),
                 ((129,), (), q(bits=3, granularity="tensor",
                                levels="centered"), "normal"),
                 ((), (), None, "normal")]),
    dict(name="b0.5 grid hadamard", beta_min=0.5, seed=SEED_HIGH, epsilon=0.0,
         t=7, T=10,
         params=[((3, 129), (0,), q(bits=4, scale="rms_gaussian"), "normal"),
                 ((2, 3, 64), (), q(bits=8, granularity="group", group_size=32,
                                    levels="centered", rotation="hadamard",
                                    block=16), "small"),
                 ((1,), (), None, "normal")]),
    dict(name="b0 explicit unit", beta_min=0.0, seed=0, epsilon=0.01, t=20,
         T=10,
         params=[((1,), (), None, "normal"),
                 ((3, 129), (1,), None, "large")]),
    dict(name="b0.999 explicit", beta_min=0.999, seed=123, epsilon=0.05, t=1,
         T=3,
         params=[((129,), (), q(bits=2, granularity="tensor",
                                scale="rms_gaussian", levels="centered"),
                  "normal"),
                 ((2, 3, 64), (0,), q(bits=2, granularity="group",
                                      group_size=64, scale="rms_gaussian",
                                      rotation="hadamard", block=64),
                  "normal")]),
    dict(name="b0.5 zero g, t > 2^32", beta_min=0.5, seed=9, epsilon=0.0,
         t=(1 << 32) + 5, T=1 << 33,
         params=[((7, 129), (), q(bits=8), "zero"),
                 ((64,), (), q(bits=5, granularity="tensor",
                               rotation="hadamard", block=64), "zero")]),
    dict(name="b1 grid", beta_min=1.0, seed=77, epsilon=0.0, t=5, T=10,
         params=[((5, 7), (), q(bits=4, levels="centered"), "normal"),
                 ((13,), (), None, "normal")]),
    # ghat with unit RMS (direction = unit_rms): nf = norm / sqrt(n).
    dict(name="b0.5 grid unit_rms", beta_min=0.5, seed=11, epsilon=0.0, t=4,
         T=10, direction="unit_rms",
         params=[((3, 129), (0,), q(bits=4), "normal"),
                 ((7,), (), None, "small")]),
    dict(name="b1 unit_rms", beta_min=1.0, seed=12, epsilon=0.02, t=2, T=10,
         direction="unit_rms",
         params=[((2, 3, 64), (), q(bits=3, granularity="tensor"), "normal")]),
]


def make_inputs(rng, shape, kind):
    n = int(np.prod(shape))
    # w: rows of different magnitudes, so that the groups' steps differ.
    magnitude = np.exp(rng.uniform(-2, 2, n // 7 + 1)).repeat(7)[:n]
    w = rng.standard_normal(n) * magnitude
    w = w.astype(f32).reshape(shape)
    if kind == "zero":
        g = np.where(rng.random(n) < 0.5, f32(0.0), f32(-0.0)).astype(f32)
    else:
        scale = {"normal": 1.0, "small": 1e-6, "large": 1e4}[kind]
        g = (rng.standard_normal(n) * scale).astype(f32)
    return w, g.reshape(shape)


def direction_module(cases):
    args, body, results, rtypes = [], [], [], []
    for c, case in enumerate(cases):
        types, pairs, qs = [], [], []
        for k, (shape, dyn, qz, _) in enumerate(case["params"]):
            ty = tensor_type(shape, dyn)
            types.append(ty)
            args += [f"%g{c}_{k}: {ty}", f"%w{c}_{k}: {ty}"]
            pairs.append(f"(%g{c}_{k}, %w{c}_{k})")
            qs.append("unit" if qz is None else qz[0])
        args += [f"%t{c}: i64", f"%T{c}: i64"]
        n = len(types)
        attr = (f"#cage.fogzo<beta_min = {flt(case['beta_min'])}, "
                f"seed = {case['seed']}, epsilon = {flt(case['epsilon'])}, "
                f"direction = {case.get('direction', 'unit_norm')}>")
        body.append(f"  %v{c}:{n}, %e{c} = cage.fogzo_direction "
                    + ", ".join(pairs) + f", %t{c}, %T{c} {{fogzo = {attr}, "
                    f"quantizers = [{', '.join(qs)}]}} : " + ", ".join(types))
        results += [f"%v{c}#{k}" for k in range(n)] + [f"%e{c}"]
        rtypes += types + ["f32"]
    return ("func.func @directions(" + ", ".join(args) + ") -> ("
            + ", ".join(rtypes) + ") {\n" + "\n".join(body) + "\n  return "
            + ", ".join(results) + " : " + ", ".join(rtypes) + "\n}\n")


def reference_direction(ref, case, data):
    """v (per parameter) and eps of the reference, through cageRefFogzo
    with the +eps / -eps loss; and the trace."""
    params = []
    for (shape, _, qz, _), (w, g) in zip(case["params"], data):
        # The reference takes rank >= 1: a rank-0 parameter is its one
        # element (same index 0) as shape (1,).
        shape1 = shape if shape else (1,)
        params.append((w.reshape(shape1), g.reshape(shape1),
                       None if qz is None else qz[1]))
    if case["epsilon"] > 0:
        eps = f32(case["epsilon"])
    else:
        eps = f32(ref.fogzo_step(params) / (2.0 * math.sqrt(3.0)))
    calls = []

    def loss(_probes):
        calls.append(None)
        return eps if len(calls) == 1 else -eps

    settings = fogzo(beta_min=case["beta_min"], seed=case["seed"],
                     epsilon=case["epsilon"],
                     direction=case.get("direction", "unit_norm"))
    G, trace = ref.fogzo(settings, case["t"], case["T"], params, loss)
    assert len(calls) == 2 and trace.active == 1 and trace.scale == 1.0
    return [x.reshape(p[0]) for x, p in zip(G, case["params"])], eps, trace


def check_directions(ref, runner):
    rng = np.random.default_rng(1)
    data = [[make_inputs(rng, shape, kind) for shape, _, _, kind in c["params"]]
            for c in CASES]
    module = os.path.join(runner.out, "directions.mlir")
    with open(module, "w") as f:
        f.write(direction_module(CASES))
    inputs = []
    for case, d in zip(CASES, data):
        for w, g in d:
            inputs += [g, w]
        inputs += [np.array(case["t"], np.int64), np.array(case["T"], np.int64)]
    want = [reference_direction(ref, case, d) for case, d in zip(CASES, data)]
    num_outputs = sum(len(c["params"]) + 1 for c in CASES)
    elements = sum(int(np.prod(p[0])) for c in CASES for p in c["params"])
    for mode, flags in (("vectorized", []), ("scalar", ["--no-vectorize"])):
        got = runner.run(module, "directions", inputs, num_outputs, flags)
        differ_v = differ_eps = 0
        at = 0
        for c, (case, (v_ref, eps, trace)) in enumerate(zip(CASES, want)):
            for k, vr in enumerate(v_ref):
                v = got[at]
                at += 1
                bad = bits(v).ravel() != bits(vr).ravel()
                differ_v += int(bad.sum())
                for i in np.flatnonzero(bad)[:3]:
                    print(f"  {mode} {case['name']} param {k} element {i}: "
                          f"v = {v.ravel()[i]!r} ({bits(v).ravel()[i]:#010x}), "
                          f"reference {vr.ravel()[i]!r} "
                          f"({bits(vr).ravel()[i]:#010x})")
            e = got[at]
            at += 1
            if bits(e) != bits(eps) or bits(trace.epsilon) != bits(eps):
                differ_eps += 1
                print(f"  {mode} {case['name']}: eps = {float(e)!r}, "
                      f"reference {float(eps)!r}, trace {trace.epsilon!r}")
        print(f"{mode} fogzo_direction: {len(CASES)} ops, {elements} elements, "
              f"{differ_v} v and {differ_eps} eps differ from the reference "
              f"{fail(differ_v == 0 and differ_eps == 0)}")

    # The trace against the sign, noise and a numpy norm, independently of
    # cageRefFogzo's v.
    bad = []
    for case, d, (v_ref, _, trace) in zip(CASES, data, want):
        seed, t = case["seed"], case["t"]
        if trace.sigma != ref.fogzo_sign(seed, t):
            bad.append(case["name"] + " sigma")
        gs = [g.astype(np.float64).ravel() for _, g in d]
        total = math.fsum(x * x for g in gs for x in g)
        norm = math.sqrt(total) if math.sqrt(total) >= 1e-12 else 1.0
        if case.get("direction") == "unit_rms" and norm != 1.0:
            norm /= math.sqrt(sum(g.size for g in gs))
        if abs(trace.norm - norm) > 1e-14 * norm:
            bad.append(case["name"] + " norm")
        if case["beta_min"] == 0.0 and t >= case["T"]:  # beta_t = 0: v = u
            for k, vr in enumerate(v_ref):
                u = [ref.fogzo_noise(seed, t, k, i) for i in range(vr.size)]
                if not np.array_equal(vr.ravel(), np.array(u, f32)):
                    bad.append(case["name"] + f" noise {k}")
        if case["beta_min"] == 1.0:  # beta_t = 1: v = sigma g / f32(norm)
            sigma = ref.fogzo_sign(seed, t)
            for k, (vr, (_, g)) in enumerate(zip(v_ref, d)):
                if not np.array_equal(vr, f32(sigma) * (g / f32(norm))):
                    bad.append(case["name"] + f" sign {k}")
    signs = sorted({ref.fogzo_sign(c["seed"], c["t"]) for c in CASES})
    print(f"trace: sigma, noise and norm of {len(CASES)} ops as "
          f"cageRefFogzoSign, cageRefFogzoNoise and numpy find them, signs "
          f"{signs} {fail(not bad)}")
    for b in bad:
        print("  differs:", b)


# ---------------------------------------------------------------------------
# b. The training step against the reference.
# ---------------------------------------------------------------------------

LAYER = """
func.func @loss(%x: tensor<5x23xf32>,
                %w: tensor<7x23xf32> {cage.param = PW},
                %b: tensor<7xf32> {cage.param = PB}) -> f32 {
  %q = cage.quantize %w {quantizer = QW} : tensor<7x23xf32>
  %e = tensor.empty() : tensor<5x7xf32>
  %z = arith.constant 0.0 : f32
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x7xf32>) -> tensor<5x7xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>] ins(%x, %q : tensor<5x23xf32>, tensor<7x23xf32>) outs(%f : tensor<5x7xf32>) -> tensor<5x7xf32>
  %s0 = tensor.empty() : tensor<f32>
  %s1 = linalg.fill ins(%z : f32) outs(%s0 : tensor<f32>) -> tensor<f32>
  %s = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> ()>], iterator_types = ["reduction", "reduction"]} ins(%y, %b : tensor<5x7xf32>, tensor<7xf32>) outs(%s1 : tensor<f32>) {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %t = arith.addf %a, %bb : f32
    %t2 = arith.mulf %t, %t : f32
    %r = arith.addf %acc, %t2 : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  %l = tensor.extract %s[] : tensor<f32>
  return %l : f32
}
"""
QW_TEXT, QW = q(bits=4, granularity="row")


def layer(pw, pb):
    return (LAYER.replace("PW", pw).replace("PB", pb).replace("QW", QW_TEXT))


def ulp(x):
    return float(np.spacing(f32(abs(x))))


def g_bound(trace, v, G_ref):
    """The bound on |G - G_ref| per element (see the docstring)."""
    lmax = max(abs(trace.lossPlus), abs(trace.lossMinus))
    return (4.0 * ulp(lmax) / float(trace.epsilon)
            * np.abs(v.astype(np.float64))
            + 8.0 * 2.0 ** -24 * np.abs(G_ref.astype(np.float64)))


def fogzo_reference(ref, runner, module, settings, t, T, x, w, b, gw, gb):
    """G_ref and the trace of cageRefFogzo, its loss the compiled @loss at
    the probe weights; and the number of loss calls."""
    calls = []

    def loss(probes):
        calls.append(None)
        (value,) = runner.run(module, "loss", [x, probes[0], probes[1]], 1)
        return float(value)
    G, trace = ref.fogzo(settings, t, T, [(w, gw, QW), (b, gb, None)], loss)
    return G, trace, len(calls)


def check_sgd(ref, runner, rng):
    fz = "#cage.fogzo<beta_min = 0.5, start = 0.5, seed = 11>"
    p = f"#cage.param<optimizer = #cage.sgd<>, cage = false, fogzo = {fz}>"
    module = runner.autodiff("sgd", layer(p, p))
    settings = fogzo(beta_min=0.5, start=0.5, seed=11)
    x = rng.standard_normal((5, 23)).astype(f32)
    w = (rng.standard_normal((7, 23)) * 0.3).astype(f32)
    b = rng.standard_normal(7).astype(f32)
    bw, bb = np.zeros_like(w), np.zeros_like(b)
    lr = f32(0.01)
    T = 10
    loss0, gw, gb = runner.run(module, "loss_grad", [x, w, b], 3)
    (loss_fwd,) = runner.run(module, "loss", [x, w, b], 1)
    opt = Sgd(0.0, 0.0, False, 0.0)
    for t in (8, 5, 2):
        got = runner.run(module, "loss_train_step",
                         [x, w, bw, b, bb, np.array(t, np.int64),
                          np.array(T, np.int64), np.array(lr, f32)], 5)
        G, trace, calls = fogzo_reference(ref, runner, module, settings, t, T,
                                          x, w, b, gw, gb)
        want = []
        for p0, G0 in ((w, G[0]), (b, G[1])):
            p1, buf = p0.copy(), np.zeros_like(p0)
            ref.sgd(opt, p1, G0, buf, float(lr))
            want.append(p1)
        loss_ok = (bits(got[0]) == bits(loss_fwd)
                   and bits(loss0) == bits(loss_fwd))
        state_ok = all(np.array_equal(bits(s), bits(np.zeros_like(s)))
                       for s in (got[2], got[4]))
        if trace.active:
            worst = 0.0
            for new, ref_new, G0, p0 in ((got[1], want[0], G[0], w),
                                         (got[3], want[1], G[1], b)):
                v = G0 / f32(trace.scale)
                bound = (float(lr) * g_bound(trace, v, G0)
                         + 4.0 * np.spacing(np.abs(p0)).astype(np.float64))
                err = np.abs(new.astype(np.float64) - ref_new) / bound
                worst = max(worst, float(err.max()))
            exact = all(np.array_equal(bits(a), bits(c))
                        for a, c in ((got[1], want[0]), (got[3], want[1])))
            # FOGZO changed the step: G_ref is not g, nor is the new w the
            # STE step's.
            ste = w.copy()
            ref.sgd(opt, ste, gw, np.zeros_like(w), float(lr))
            changed = (not np.array_equal(G[0], gw)
                       and not np.array_equal(got[1], ste))
            ok = (worst <= 1.0 and loss_ok and state_ok and calls == 2
                  and changed)
            print(f"sgd step t = {t}/{T} active: w and b within the bound of "
                  f"w - lr G_ref (worst {worst:.2g} of it"
                  f"{', bit-exact' if exact else ''}), loss bit-exact, not "
                  f"the STE step {fail(ok)}")
        else:
            # Inactive: G = g bit for bit, the plain SGD step on g.
            same = all(np.array_equal(bits(a), bits(c))
                       for a, c in ((G[0], gw), (G[1], gb)))
            exact = all(np.array_equal(bits(a), bits(c))
                        for a, c in ((got[1], want[0]), (got[3], want[1])))
            ok = (same and exact and loss_ok and state_ok and calls == 0
                  and trace.active == 0)
            print(f"sgd step t = {t}/{T} inactive: the STE step bit for bit "
                  f"{fail(ok)}")


def check_adamw(ref, runner, rng):
    fz = "#cage.fogzo<beta_min = 0.9, seed = 42>"
    pw = f"#cage.param<fogzo = {fz}>"
    pb = f"#cage.param<cage = false, fogzo = {fz}>"
    module = runner.autodiff("adamw", layer(pw, pb))
    settings = fogzo(beta_min=0.9, seed=42)
    x = rng.standard_normal((5, 23)).astype(f32)
    w = (rng.standard_normal((7, 23)) * 0.3).astype(f32)
    b = rng.standard_normal(7).astype(f32)
    # A state as after some steps: m of either sign, v > 0.
    mw = (rng.standard_normal(w.shape) * 0.5).astype(f32)
    vw = (rng.random(w.shape) * 2 + 0.1).astype(f32)
    mb = (rng.standard_normal(b.shape) * 0.5).astype(f32)
    vb = (rng.random(b.shape) * 2 + 0.1).astype(f32)
    lr, t, T = f32(0.001), 9, 10
    _, gw, gb = runner.run(module, "loss_grad", [x, w, b], 3)
    got = runner.run(module, "loss_train_step",
                     [x, w, mw, vw, b, mb, vb, np.array(t, np.int64),
                      np.array(T, np.int64), np.array(lr, f32)], 7)
    G, trace, calls = fogzo_reference(ref, runner, module, settings, t, T,
                                      x, w, b, gw, gb)
    opt = AdamW(0.9, 0.95, 1e-8, 0.1)  # #cage.adamw<>
    lam = ref.schedule("linear_ramp", 10.0, 0.8, t, T)
    want_w, want_mw, want_vw = w.copy(), mw.copy(), vw.copy()
    ref.update_adamw(QW, "keep", "decoupled", opt, want_w, G[0], want_mw,
                     want_vw, float(lr), float(lam), t)
    want_b, want_mb, want_vb = b.copy(), mb.copy(), vb.copy()
    ref.adamw(opt, want_b, G[1], want_mb, want_vb, float(lr), t)
    bias1 = 1.0 - 0.9 ** t
    bias2 = 1.0 - 0.95 ** t
    worst = 0.0
    for new, ref_new, G0, p0, m_new, v_new in (
            (got[1], want_w, G[0], w, want_mw, want_vw),
            (got[4], want_b, G[1], b, want_mb, want_vb)):
        v = G0 / f32(trace.scale)
        m_hat = np.abs(m_new.astype(np.float64)) / bias1
        root = np.sqrt(v_new.astype(np.float64) / bias2)
        slope = float(lr) * ((1 - 0.9) / bias1 + m_hat * (1 - 0.95)
                             * np.abs(G0.astype(np.float64))
                             / (bias2 * root * (root + 1e-8))) / (root + 1e-8)
        bound = (slope * g_bound(trace, v, G0)
                 + 8.0 * np.spacing(np.abs(p0)).astype(np.float64))
        err = np.abs(new.astype(np.float64) - ref_new) / bound
        worst = max(worst, float(err.max()))
    exact = all(np.array_equal(bits(a), bits(c))
                for a, c in ((got[1], want_w), (got[4], want_b),
                             (got[2], want_mw), (got[3], want_vw),
                             (got[5], want_mb), (got[6], want_vb)))
    moved = float(np.abs(want_w - w).max())
    print(f"adamw + cage step t = {t}/{T} (lambda_t = {float(lam):g}): w and b "
          f"within the bound of the reference update on G_ref (worst "
          f"{worst:.2g} of it{', bit-exact' if exact else ''}) "
          f"{fail(worst <= 1.0 and calls == 2 and moved > 0)}")


# ---------------------------------------------------------------------------
# c. Unbiasedness on a quadratic.
# ---------------------------------------------------------------------------

QUADRATIC = """
func.func @loss(%A: tensor<9x13xf32>, %B: tensor<9x3x5xf32>, %y: tensor<9xf32>,
                %w1: tensor<13xf32> {cage.param = P},
                %w2: tensor<3x5xf32> {cage.param = P}) -> f32 {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<9xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<9xf32>) -> tensor<9xf32>
  %r1 = linalg.generic {indexing_maps = [affine_map<(j, i) -> (j, i)>, affine_map<(j, i) -> (i)>, affine_map<(j, i) -> (j)>], iterator_types = ["parallel", "reduction"]} ins(%A, %w1 : tensor<9x13xf32>, tensor<13xf32>) outs(%f : tensor<9xf32>) {
  ^bb0(%a: f32, %w: f32, %acc: f32):
    %p = arith.mulf %a, %w : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<9xf32>
  %r2 = linalg.generic {indexing_maps = [affine_map<(j, k, l) -> (j, k, l)>, affine_map<(j, k, l) -> (k, l)>, affine_map<(j, k, l) -> (j)>], iterator_types = ["parallel", "reduction", "reduction"]} ins(%B, %w2 : tensor<9x3x5xf32>, tensor<3x5xf32>) outs(%r1 : tensor<9xf32>) {
  ^bb0(%b: f32, %w: f32, %acc: f32):
    %p = arith.mulf %b, %w : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<9xf32>
  %s0 = tensor.empty() : tensor<f32>
  %s1 = linalg.fill ins(%z : f32) outs(%s0 : tensor<f32>) -> tensor<f32>
  %half = arith.constant 0.5 : f32
  %l = linalg.generic {indexing_maps = [affine_map<(j) -> (j)>, affine_map<(j) -> (j)>, affine_map<(j) -> ()>], iterator_types = ["reduction"]} ins(%r2, %y : tensor<9xf32>, tensor<9xf32>) outs(%s1 : tensor<f32>) {
  ^bb0(%r: f32, %yy: f32, %acc: f32):
    %d = arith.subf %r, %yy : f32
    %d2 = arith.mulf %d, %d : f32
    %h = arith.mulf %half, %d2 : f32
    %s = arith.addf %acc, %h : f32
    linalg.yield %s : f32
  } -> tensor<f32>
  %v = tensor.extract %l[] : tensor<f32>
  return %v : f32
}
"""

DRIVER = """
func.func @drive(%A: tensor<9x13xf32>, %B: tensor<9x3x5xf32>, %y: tensor<9xf32>,
                 %w1: tensor<13xf32>, %w2: tensor<3x5xf32>, %t0: i64, %T: i64,
                 %n: index) -> (tensor<13xf32>, tensor<3x5xf32>) {
  %lr = arith.constant 1.0 : f32
  %z = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %e1 = tensor.empty() : tensor<13xf32>
  %s1 = linalg.fill ins(%z : f32) outs(%e1 : tensor<13xf32>) -> tensor<13xf32>
  %e2 = tensor.empty() : tensor<3x5xf32>
  %s2 = linalg.fill ins(%z : f32) outs(%e2 : tensor<3x5xf32>) -> tensor<3x5xf32>
  %b1 = linalg.fill ins(%z : f32) outs(%e1 : tensor<13xf32>) -> tensor<13xf32>
  %b2 = linalg.fill ins(%z : f32) outs(%e2 : tensor<3x5xf32>) -> tensor<3x5xf32>
  %r:2 = scf.for %i = %c0 to %n step %c1 iter_args(%a1 = %s1, %a2 = %s2) -> (tensor<13xf32>, tensor<3x5xf32>) {
    %ii = arith.index_cast %i : index to i64
    %t = arith.addi %t0, %ii : i64
    %l, %n1, %m1, %n2, %m2 = func.call @loss_train_step(%A, %B, %y, %w1, %b1, %w2, %b2, %t, %T, %lr) : (tensor<9x13xf32>, tensor<9x3x5xf32>, tensor<9xf32>, tensor<13xf32>, tensor<13xf32>, tensor<3x5xf32>, tensor<3x5xf32>, i64, i64, f32) -> (f32, tensor<13xf32>, tensor<13xf32>, tensor<3x5xf32>, tensor<3x5xf32>)
    %a1n = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]} ins(%w1, %n1 : tensor<13xf32>, tensor<13xf32>) outs(%a1 : tensor<13xf32>) {
    ^bb0(%w: f32, %nw: f32, %acc: f32):
      %g = arith.subf %w, %nw : f32
      %s = arith.addf %acc, %g : f32
      linalg.yield %s : f32
    } -> tensor<13xf32>
    %a2n = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%w2, %n2 : tensor<3x5xf32>, tensor<3x5xf32>) outs(%a2 : tensor<3x5xf32>) {
    ^bb0(%w: f32, %nw: f32, %acc: f32):
      %g = arith.subf %w, %nw : f32
      %s = arith.addf %acc, %g : f32
      linalg.yield %s : f32
    } -> tensor<3x5xf32>
    scf.yield %a1n, %a2n : tensor<13xf32>, tensor<3x5xf32>
  }
  return %r#0, %r#1 : tensor<13xf32>, tensor<3x5xf32>
}
"""


def check_unbiased(ref, runner, rng):
    p = ("#cage.param<optimizer = #cage.sgd<>, cage = false, fogzo = "
         "#cage.fogzo<beta_min = 0.0, epsilon = 1.000000e-03, seed = 3>>")
    path = runner.autodiff("quadratic", QUADRATIC.replace("= P", "= " + p))
    with open(path) as f:
        text = f.read().rstrip()
    assert text.endswith("}")
    with open(path, "w") as f:
        f.write(text[:-1] + DRIVER + "}\n")
    A = (rng.standard_normal((9, 13)) * 0.3).astype(f32)
    B = (rng.standard_normal((9, 3, 5)) * 0.3).astype(f32)
    y = rng.standard_normal(9).astype(f32)
    w1 = rng.standard_normal(13).astype(f32)
    w2 = rng.standard_normal((3, 5)).astype(f32)
    # The exact gradient, in f64: a = [A B]^T (A w1 + B w2 - y).
    M = np.concatenate([A, B.reshape(9, 15)], axis=1).astype(np.float64)
    wv = np.concatenate([w1, w2.ravel()]).astype(np.float64)
    a = M.T @ (M @ wv - y.astype(np.float64))
    N, T = 20000, 100
    s1, s2 = runner.run(path, "drive", [A, B, y, w1, w2, np.array(T, np.int64),
                                        np.array(T, np.int64),
                                        np.array(N, np.int64)], 2)
    mean = np.concatenate([s1, s2.ravel()]).astype(np.float64) / N
    # Var(G_i) = ||a||^2 + (9/5 - 1) a_i^2 (see the docstring).
    sigma = np.sqrt(a @ a + 0.8 * a * a) / math.sqrt(N)
    z = np.abs(mean - a) / sigma
    norm_bound = 4.0 * math.sqrt(float(sigma @ sigma))
    dist = float(np.linalg.norm(mean - a))
    ok = z.max() <= 4.0 and dist <= norm_bound
    print(f"unbiased: mean of G over {N} steps within 4 sigma of grad L in "
          f"each of {a.size} components (max {z.max():.2f} sigma) and in norm "
          f"({dist / norm_bound:.2f} of the bound) {fail(ok)}")
    # Power: the same check rejects a zero estimate and a factor 2.
    far_zero = float(np.linalg.norm(mean)) > norm_bound
    half = float(np.linalg.norm(0.5 * mean - a)) > norm_bound
    double = float(np.linalg.norm(2.0 * mean - a)) > norm_bound
    print(f"unbiased: the check rejects 0, mean / 2 and 2 mean "
          f"{fail(far_zero and half and double)}")
    # A few steps of the same driver against the reference: its loss the
    # quadratic in f32 in the compiled order (sums from +0.0 in index
    # order, no FMA), so the sums of G are bit for bit the compiled ones.
    steps = 3
    t0 = T + 7
    c1, c2 = runner.run(path, "drive", [A, B, y, w1, w2, np.array(t0, np.int64),
                                        np.array(T, np.int64),
                                        np.array(steps, np.int64)], 2)

    def loss(probes):
        r = np.zeros(9, f32)
        for i in range(13):
            r = r + A[:, i] * probes[0][i]
        for k in range(3):
            for m in range(5):
                r = r + B[:, k, m] * probes[1][k, m]
        total = f32(0.0)
        for j in range(9):
            d = r[j] - y[j]
            total = total + f32(0.5) * (d * d)
        return total

    settings = fogzo(beta_min=0.0, seed=3, epsilon=0.001)
    sums = [np.zeros_like(w1), np.zeros_like(w2)]
    for t in range(t0, t0 + steps):
        G, _ = ref.fogzo(settings, t, T, [(w1, np.ones_like(w1), None),
                                          (w2, np.ones_like(w2), None)], loss)
        for k, (wk, Gk) in enumerate(zip((w1, w2), G)):
            new = wk.copy()
            ref.sgd(Sgd(0.0, 0.0, False, 0.0), new, Gk, np.zeros_like(wk), 1.0)
            sums[k] = sums[k] + (wk - new)
    exact = all(np.array_equal(bits(c), bits(want))
                for c, want in ((c1, sums[0]), (c2, sums[1])))
    print(f"unbiased: {steps} steps of the driver bit for bit as cageRefFogzo "
          f"and cageRefSgd at t = {t0}..{t0 + steps - 1} {fail(exact)}")
    if not exact:
        print("  compiled", c1, c2.ravel(), "\n  reference", sums[0],
              sums[1].ravel())


def main():
    out, cage_run, reflib = sys.argv[1:4]
    cage_opt = sys.argv[4] if len(sys.argv) > 4 else None
    if cage_opt is None:
        beside = os.path.join(os.path.dirname(os.path.abspath(cage_run)),
                              "cage-opt")
        cage_opt = (beside if os.path.exists(beside)
                    else shutil.which("cage-opt"))
    if os.sep not in cage_run:
        cage_run = shutil.which(cage_run) or cage_run
    os.makedirs(out, exist_ok=True)
    ref = Reference(reflib)
    runner = Runner(out, cage_run, cage_opt)
    rng = np.random.default_rng(2)
    check_directions(ref, runner)
    check_sgd(ref, runner, rng)
    check_adamw(ref, runner, rng)
    check_unbiased(ref, runner, rng)
    print(f"failures: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
