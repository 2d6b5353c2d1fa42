"""attention-products.test: `gen DIR` writes t.mlir and the inputs (the
reference products' operands transposed by NumPy); `check DIR` compares
each product with its reference bit for bit and with NumPy in float64."""
import os
import sys

import numpy as np

# name: (batch, heads, sequence, head width)
SHAPES = {"s": (2, 3, 36, 24), "l": (2, 4, 128, 64)}

# The generic of each product over the loops (b, h, m, n, k): the maps of
# its two inputs and of C, as cage-autodiff writes attention.
FORMS = {
    "qk": ("(b, h, i, j, c) -> (b, i, h, c)", "(b, h, i, j, c) -> (b, j, h, c)",
           "(b, h, i, j, c) -> (b, h, i, j)"),
    "pv": ("(b, h, i, c, j) -> (b, h, i, j)", "(b, h, i, c, j) -> (b, j, h, c)",
           "(b, h, i, c, j) -> (b, i, h, c)"),
    "ptdo": ("(b, h, j, c, i) -> (b, h, i, j)", "(b, h, j, c, i) -> (b, i, h, c)",
             "(b, h, j, c, i) -> (b, j, h, c)"),
}


def types(shape):
    b, h, s, c = shape
    f = lambda *d: "tensor<%sxf32>" % "x".join(map(str, d))
    return {"bshc": f(b, s, h, c), "bhss": f(b, h, s, s)}


def operand_types(form, shape):
    t = types(shape)
    return {"qk": (t["bshc"], t["bshc"], t["bhss"]),
            "pv": (t["bhss"], t["bshc"], t["bshc"]),
            "ptdo": (t["bhss"], t["bshc"], t["bshc"])}[form]


def generic(form, shape, init):
    am, bm, cm = FORMS[form]
    at, bt, ct = operand_types(form, shape)
    return ("  %%r = linalg.generic {indexing_maps = [affine_map<%s>, affine_map<%s>, "
            "affine_map<%s>], iterator_types = [\"parallel\", \"parallel\", \"parallel\", "
            "\"parallel\", \"reduction\"]} ins(%%a, %%b : %s, %s) outs(%s : %s) {\n"
            "  ^bb0(%%x: f32, %%y: f32, %%acc: f32):\n"
            "    %%m = arith.mulf %%x, %%y : f32\n"
            "    %%s = arith.addf %%acc, %%m : f32\n"
            "    linalg.yield %%s : f32\n"
            "  } -> %s\n  return %%r : %s\n}\n") % (am, bm, cm, at, bt, init, ct, ct, ct)


def mlir():
    out = []
    for key, shape in SHAPES.items():
        b, h, s, c = shape
        for form in FORMS:
            at, bt, ct = operand_types(form, shape)
            out.append("func.func @%s_%s(%%a: %s, %%b: %s) -> %s {\n"
                       "  %%zero = arith.constant 0.0 : f32\n"
                       "  %%e = tensor.empty() : %s\n"
                       "  %%c = linalg.fill ins(%%zero : f32) outs(%%e : %s) -> %s\n"
                       % (form, key, at, bt, ct, ct, ct, ct) + generic(form, shape, "%c"))
        at, bt, ct = operand_types("ptdo", shape)
        out.append("func.func @ptdo_acc_%s(%%a: %s, %%b: %s, %%c: %s) -> %s {\n"
                   % (key, at, bt, ct, ct) + generic("ptdo", shape, "%c"))
        # The references: [b*h, M, K] x [b*h, K, N] into a given C.
        for name, (m, k, n) in (("qk", (s, c, s)), ("pv", (s, s, c))):
            f = lambda *d: "tensor<%sxf32>" % "x".join(map(str, d))
            out.append("func.func @ref_%s_%s(%%a: %s, %%b: %s, %%c: %s) -> %s {\n"
                       "  %%r = linalg.batch_matmul ins(%%a, %%b : %s, %s) outs(%%c : %s) -> %s\n"
                       "  return %%r : %s\n}\n"
                       % (name, key, f(b * h, m, k), f(b * h, k, n), f(b * h, m, n), f(b * h, m, n),
                          f(b * h, m, k), f(b * h, k, n), f(b * h, m, n), f(b * h, m, n),
                          f(b * h, m, n)))
    return "".join(out)


def gen(d):
    with open(os.path.join(d, "t.mlir"), "w") as f:
        f.write(mlir())
    rng = np.random.default_rng(5)
    save = lambda name, a: np.save(os.path.join(d, name + ".npy"),
                                   np.ascontiguousarray(a, dtype=np.float32))
    for key, (b, h, s, c) in SHAPES.items():
        x = lambda *shape: rng.standard_normal(shape).astype(np.float32)
        q, k, v, do, init = x(b, s, h, c), x(b, s, h, c), x(b, s, h, c), x(b, s, h, c), x(b, s, h, c)
        p = x(b, h, s, s)
        for name, a in (("q", q), ("k", k), ("v", v), ("do", do), ("p", p), ("init", init)):
            save("%s_%s" % (name, key), a)
        bh = b * h
        save("qk_a_" + key, q.transpose(0, 2, 1, 3).reshape(bh, s, c))
        save("qk_b_" + key, k.transpose(0, 2, 3, 1).reshape(bh, c, s))
        save("zero_qk_" + key, np.zeros((bh, s, s)))
        save("pv_a_" + key, p.reshape(bh, s, s))
        save("pv_b_" + key, v.transpose(0, 2, 1, 3).reshape(bh, s, c))
        save("zero_pv_" + key, np.zeros((bh, s, c)))
        save("ptdo_a_" + key, p.transpose(0, 1, 3, 2).reshape(bh, s, s))
        save("ptdo_b_" + key, do.transpose(0, 2, 1, 3).reshape(bh, s, c))
        save("ptdo_acc_c_" + key, init.transpose(0, 2, 1, 3).reshape(bh, s, c))


def check(d):
    load = lambda name: np.load(os.path.join(d, name + ".npy"))
    for key, (b, h, s, c) in SHAPES.items():
        q, k, v, do, p, init = (load("%s_%s" % (n, key)).astype(np.float64)
                                for n in ("q", "k", "v", "do", "p", "init"))
        exact = {
            "qk": (np.einsum("bihc,bjhc->bhij", q, k), c, q, k),
            "pv": (np.einsum("bhij,bjhc->bihc", p, v), s, p, v),
            "ptdo": (np.einsum("bhij,bihc->bjhc", p, do), s, p, do),
            "ptdo_acc": (init + np.einsum("bhij,bihc->bjhc", p, do), s, p, do),
        }
        for form, (want, depth, x, y) in exact.items():
            name = "%s_%s" % (form, key)
            got, ref = load(name), load("%s_ref_%s" % (form, key))
            # The reference is [b*h, M, N]; outputs in [b, s, h, c] are
            # compared after putting it back in that layout.
            ref = ref.reshape(b, h, *ref.shape[1:])
            if form != "qk":
                ref = ref.transpose(0, 2, 1, 3)
            same = got.shape == ref.shape and np.array_equal(got.view(np.uint32),
                                                             ref.view(np.uint32))
            scale = depth * np.abs(x).max() * np.abs(y).max() + np.abs(init).max()
            error = np.abs(got - want).max() / scale
            print("%s: %s, error %s (%.1e)" % (name, "same bits" if same else "BITS DIFFER",
                                              "ok" if error <= 1e-5 else "TOO LARGE", error))


if __name__ == "__main__":
    {"gen": gen, "check": check}[sys.argv[1]](sys.argv[2])
