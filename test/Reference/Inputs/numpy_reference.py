"""docs/Semantics.md §1 in numpy float32: a second, independent implementation
of the reference (lib/Reference), written with whole-array operations instead
of the C library's loops, in the orders that Reference.h fixes.

Quantizer parameters are dicts with the keys of reference.quantizer(): bits,
granularity, group_size, scale, levels, rotation, block, rounding. Arrays are
float32; every operation on them below is one IEEE single-precision rounding
per element (numpy neither fuses nor reassociates elementwise arithmetic), so
the results can be compared with the C reference bit for bit.
"""

import numpy as np

f32 = np.float32

# ---------------------------------------------------------------------------
# Philox4x32-10 (section 1.4); uint64 products of uint32 words are exact.
# ---------------------------------------------------------------------------
M0, M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
W0, W1 = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)
MASK32 = np.uint64(0xFFFFFFFF)


def philox(c0, c1, c2, c3, k0, k1):
    c = [np.asarray(v, np.uint64) for v in (c0, c1, c2, c3)]
    k0, k1 = np.uint64(k0), np.uint64(k1)
    for round_ in range(10):
        if round_ > 0:
            k0 = (k0 + W0) & MASK32
            k1 = (k1 + W1) & MASK32
        p0 = M0 * c[0]
        p1 = M1 * c[2]
        hi0, lo0 = p0 >> np.uint64(32), p0 & MASK32
        hi1, lo1 = p1 >> np.uint64(32), p1 & MASK32
        c = [hi1 ^ c[1] ^ k0, lo1, hi0 ^ c[3] ^ k1, lo0]
    return c


def uniform(seed, count):
    index = np.arange(count, dtype=np.uint64)
    out = philox(index & MASK32, index >> np.uint64(32), 0, 0,
                 seed & 0xFFFFFFFF, seed >> 32)
    return (out[0] >> np.uint64(8)).astype(f32) * f32(2.0 ** -24)


# ---------------------------------------------------------------------------
# The quantizer (sections 1.1, 1.2).
# ---------------------------------------------------------------------------
CB = [0.79788, 1.49353, 2.05107, 2.51393, 2.91609, 3.27660, 3.60105, 3.88494]


def fwht(x, block):
    """x * H_B blockwise along the last axis, in Reference.h's order."""
    y = x.reshape(-1, block).copy()
    h = 1
    while h < block:
        y = y.reshape(-1, block // (2 * h), 2, h)
        a = y[:, :, 0, :].copy()
        b = y[:, :, 1, :].copy()
        y[:, :, 0, :] = a + b
        y[:, :, 1, :] = a - b
        h *= 2
    return y.reshape(x.shape) * f32(1.0 / np.sqrt(block))


def group_elements(p, shape):
    n = shape[-1]
    if p["granularity"] == "tensor":
        return int(np.prod(shape))
    if p["granularity"] == "row":
        return n
    return p["group_size"]


def rotate(p, x):
    return fwht(x, p["block"]) if p["rotation"] == "hadamard" else x.copy()


def sequential_sum(terms):
    """Sum over axis 1 in double, in index order, from +0.0 (as the C loop
    `sum = 0.0; sum += term`): np.cumsum starts from the first term instead,
    which keeps a lone -0.0."""
    zero = np.zeros((terms.shape[0], 1), np.float64)
    return np.cumsum(np.concatenate([zero, terms], axis=1), axis=1)[:, -1]


def clip_values(p, xr):
    groups = xr.reshape(-1, group_elements(p, xr.shape))
    if p["scale"] == "rms_gaussian":
        total = sequential_sum(groups.astype(np.float64) ** 2)
        mean = (total / groups.shape[1]).astype(f32)
        return f32(CB[p["bits"] - 1]) * np.sqrt(mean) + f32(1e-8)
    m = np.max(np.abs(groups), axis=1)
    return np.where(m > f32(1e-8), m, f32(1e-8)).astype(f32)


def grid_constants(p):
    bits = p["bits"]
    return (f32(2 ** (bits - 1) - 1), f32(-(2 ** (bits - 1))),
            f32(2 ** bits - 1))


def centered_levels(p):
    """The lowest and highest level index l of the centered grid (q = (l -
    1/2) step): 1 - 2^(b-1) and 2^(b-1). y = -alpha / step + 1/2 should be
    the lowest exactly, but its f32 rounding lands just below it for about
    one alpha in ten, and stochastic rounding then goes down one level with
    the probability of an ulp of y unless the index is clamped."""
    top = f32(2 ** (p["bits"] - 1))
    return f32(1) - top, top


def rnd(y, p, seed):
    if p["rounding"] == "stochastic":
        u = uniform(seed, y.size).reshape(y.shape)
        down = np.floor(y)
        return down + np.where(u < y - down, f32(1), f32(0))
    return np.rint(y)


def grid(p, xr, alpha, rounding, seed=0):
    """q(xr) with the per-group alpha, xr grouped as (groups, elements)."""
    qmax, qmin, steps = grid_constants(p)
    a = alpha[:, None]
    pr = dict(p, rounding=rounding)
    if p["levels"] == "centered":
        step = (f32(2) * a) / steps
        c = np.minimum(np.maximum(xr, -a), a)
        # The level index, clamped to the grid [1 - 2^(b-1), 2^(b-1)]: a
        # no-op with nearest rounding; stochastic rounding can otherwise go
        # one level below the lowest (see centered_levels).
        low, high = centered_levels(p)
        level = np.minimum(np.maximum(rnd(c / step + f32(0.5), pr, seed), low),
                           high)
        return (level - f32(0.5)) * step
    s = a / qmax
    r = np.minimum(np.maximum(rnd(xr / s, pr, seed), qmin), qmax)
    return r * s


def clipped(p, xr, alpha):
    qmax, qmin, _ = grid_constants(p)
    a = alpha[:, None]
    if p["levels"] == "centered":
        return np.abs(xr) > a
    r = np.rint(xr / (a / qmax))
    return (r < qmin) | (r > qmax)


def prepare(p, x, alpha):
    xr = rotate(p, x)
    a = alpha if p["scale"] == "operand" else clip_values(p, xr)
    return xr.reshape(-1, group_elements(p, x.shape)), a


def quantize(p, x, alpha, seed):
    xr, a = prepare(p, x, alpha)
    q = grid(p, xr, a, p["rounding"], seed).reshape(x.shape)
    return rotate(p, q)


def ties(p, xr, alpha):
    """How many elements round from an exact tie k + 1/2 (coverage only)."""
    qmax, _, steps = grid_constants(p)
    a = alpha[:, None]
    if p["levels"] == "centered":
        c = np.minimum(np.maximum(xr, -a), a)
        y = c / ((f32(2) * a) / steps) + f32(0.5)
    else:
        y = xr / (a / qmax)
    return int(np.count_nonzero(y - np.floor(y) == f32(0.5)))


def lsq(p, xr, dyr, a):
    qmax, qmin, steps = grid_constants(p)
    if p["levels"] == "centered":
        h = steps / f32(2)
        r = np.rint((xr * h) / a + f32(0.5))
        inside = (r - f32(0.5)) / h - xr / a
        d = np.where(xr > a, f32(1), np.where(xr < -a, f32(-1), inside))
    else:
        z = xr / (a / qmax)
        r = np.rint(z)
        d = np.where(r < qmin, qmin / qmax,
                     np.where(r > qmax, f32(1), (r - z) / qmax))
    total = sequential_sum(dyr.astype(np.float64) *
                           d.astype(f32).astype(np.float64))
    gamma = f32(1) / np.sqrt(f32(xr.shape[1] * int(qmax)))
    return total.astype(f32) * gamma


def ste(p, estimator, dy, x, alpha):
    xr, a = prepare(p, x, alpha)
    dyr = rotate(p, dy).reshape(xr.shape)
    if estimator == "identity":
        dx = dy.copy()
    else:
        masked = np.where(clipped(p, xr, a), f32(0), dyr)
        dx = rotate(p, masked.reshape(x.shape))
    dalpha = lsq(p, xr, dyr, a[:, None]) if p["scale"] == "operand" else None
    return dx, dalpha


def quant_error(p, w, error):
    wr, a = prepare(p, w, None)
    q = grid(p, wr, a, "nearest")
    if error == "keep":
        return w - rotate(p, q.reshape(w.shape))
    e = np.where(clipped(p, wr, a), f32(0), wr - q)
    return rotate(p, e.reshape(w.shape))


def same_bits(a, b):
    """Equal bit for bit (signed zeros told apart, NaNs by payload)."""
    return a.shape == b.shape and np.array_equal(
        np.ascontiguousarray(a, f32).view(np.uint32),
        np.ascontiguousarray(b, f32).view(np.uint32))


# ---------------------------------------------------------------------------
# Optimizers and the CAGE update (section 1.3), in place on float32 arrays,
# with float32 scalars.
# ---------------------------------------------------------------------------


def bias_correction(beta, t):
    """AdamW's bias correction 1 - beta^t as Reference.h fixes it: p = beta^t
    in double by binary exponentiation (p = 1, sq = the double value of the
    f32 beta; for each bit of t from the lowest: if it is set p = p * sq, then
    sq = sq * sq), then 1 - p in double, rounded once to f32. Python floats
    are IEEE doubles and every * and - on them is one correctly rounded
    operation, so this is the C loop, operation for operation."""
    t = int(t)
    assert t >= 1
    p, square = 1.0, float(f32(beta))
    while t:
        if t & 1:
            p = p * square
        square = square * square
        t >>= 1
    return f32(1.0 - p)


def adamw(opt, w, g, m, v, lr, t):
    beta1, beta2, eps, wd = (f32(opt[k]) for k in
                             ("beta1", "beta2", "eps", "weight_decay"))
    lr = f32(lr)
    correction1 = bias_correction(beta1, t)
    correction2 = bias_correction(beta2, t)
    w *= f32(1) - lr * wd
    m[...] = beta1 * m + (f32(1) - beta1) * g
    v[...] = beta2 * v + (f32(1) - beta2) * (g * g)
    mhat = m / correction1
    vhat = v / correction2
    w -= (lr * mhat) / (np.sqrt(vhat) + eps)


def sgd(opt, w, g, b, lr):
    mu, dampening, wd = (f32(opt[k]) for k in
                         ("momentum", "dampening", "weight_decay"))
    lr = f32(lr)
    if wd != 0:
        g = g + wd * w
    d = g
    if mu != 0:
        b[...] = mu * b + (f32(1) - dampening) * g
        d = g + mu * b if opt["nesterov"] else b
    w -= lr * d


def update(p, error, coupling, optimizer, opt, w, g, state, lr, lam, t=None):
    """The CAGE step: state is (m, v) for "adamw", (b,) for "sgd". The
    correction is applied whatever lambda_t is, 0 included (g + 0 * e turns
    a -0.0 gradient into +0.0; a non-finite w makes e NaN)."""
    lam = f32(lam)
    step = adamw if optimizer == "adamw" else sgd
    extra = (t,) if optimizer == "adamw" else ()
    e = quant_error(p, w, error)
    if coupling == "coupled":
        step(opt, w, g + lam * e, *state, lr, *extra)
    else:
        step(opt, w, g, *state, lr, *extra)
        w -= (f32(lr) * lam) * e
