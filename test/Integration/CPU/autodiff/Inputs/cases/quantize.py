"""cage.quantize on parameters and activations: every granularity (tensor,
row, group), scale (absmax, rms_gaussian, operand: the scale tensor is a
parameter and gets the LSQ d alpha), grid (int, centered), Hadamard
rotation, stochastic rounding (an i64 seed argument), and both estimators
(a parameter's own, #cage.param<estimator = identity>; clipped for
activations and by default). The adjoint of `cage.quantize %x` is
`cage.ste` with the parameter's estimator when %x is a parameter argument,
clipped otherwise.

Torch runs torch_cage.quantize (forward bit for bit cage.quantize, backward
the STE) through T.quantize, which applies the same estimator rule. Inputs
with heavy tails (15% of the elements 4x larger) make rms_gaussian and
operand scales clip some elements: those cases say expect_clipping, so that
the clipped STE's mask (or the identity STE's lack of one) is exercised.
Quantizers of computed values (activations) are checked for fragility (see
torch_cage.py) and the inputs redrawn where needed.
"""

from common import Case, D, P, T, func, heavy, seed, uniform, wsum


def wl_sum(y, wl):
    return (y * wl).sum()


def linear(out, x, w, m, n, k):
    """MLIR lines: out(m, n) = x(m, k) · w(n, k)ᵀ."""
    o = out.lstrip("%")
    return f"""\
  %{o}_zero = arith.constant 0.0 : f32
  %{o}_e = tensor.empty() : {T(m, n)}
  %{o}_z = linalg.fill ins(%{o}_zero : f32) outs(%{o}_e : {T(m, n)}) -> {T(m, n)}
  {out} = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>,
                                          affine_map<(d0, d1, d2) -> (d1, d2)>,
                                          affine_map<(d0, d1, d2) -> (d0, d1)>]
         ins({x}, {w} : {T(m, k)}, {T(n, k)}) outs(%{o}_z : {T(m, n)}) -> {T(m, n)}
"""


def mul(out, a, b, shape):
    """MLIR lines: out = a * b elementwise."""
    rank = len(shape)
    dims = ", ".join(f"d{i}" for i in range(rank))
    ident = f"affine_map<({dims}) -> ({dims})>"
    ty = T(*shape)
    o = out.lstrip("%")
    return f"""\
  %{o}_e = tensor.empty() : {ty}
  {out} = linalg.generic {{indexing_maps = [{ident}, {ident}, {ident}],
                       iterator_types = [{", ".join(['"parallel"'] * rank)}]}}
      ins({a}, {b} : {ty}, {ty}) outs(%{o}_e : {ty}) {{
  ^bb0(%{o}_a: f32, %{o}_b: f32, %{o}_o: f32):
    %{o}_t = arith.mulf %{o}_a, %{o}_b : f32
    linalg.yield %{o}_t : f32
  }} -> {ty}
"""


def qline(out, x, alias, ty, seed_v=None, scale=None, scale_ty=None):
    ops = (f" seed({seed_v})" if seed_v else "") + \
        (f" scale({scale})" if scale else "")
    tys = ty + (f", {scale_ty}" if scale_ty else "")
    return f"  {out} = cage.quantize {x}{ops} {{quantizer = #{alias}}} : {tys}\n"


CASES = []


def qlinear(name, qw, w_shape=(5, 12), m=7, estimator=None, w_gen=None,
            scale_shape=None, scale_gen=None, stochastic=False,
            expect_clipping=False, qa=None):
    """Y = Qa(x) · Qw(w)ᵀ (Qa optional, x data), loss sum(wl * Y); w a
    parameter (with `estimator`), its scale a parameter when scale_shape."""
    n, k = w_shape
    tw = T(*w_shape)
    prelude = f"#qw = #cage.quantizer<{qw}>\n"
    # A weight with a learned scale has no CAGE correction by default (the
    # correction's quantizer takes its scale from the weights): cage = false.
    args = [D("x", T(m, k)),
            P("w", tw, estimator,
              "cage = false" if scale_shape is not None else None)]
    inputs = {"w": w_gen or heavy()}
    if scale_shape is not None:
        args.append(P("alpha", T(*scale_shape)))
        inputs["alpha"] = scale_gen or uniform(0.8, 2.0)
    if stochastic:
        args.append(D("sd", "i64"))
        inputs["sd"] = seed()
    args.append(D("wl", T(m, n)))
    body = ""
    xq = "%x"
    if qa:
        prelude += f"#qa = #cage.quantizer<{qa}>\n"
        body += qline("%xq", "%x", "qa", T(m, k))
        xq = "%xq"
    body += qline("%wq", "%w", "qw", tw, "%sd" if stochastic else None,
                  "%alpha" if scale_shape is not None else None,
                  T(*scale_shape) if scale_shape is not None else None)
    body += linear("%y", xq, "%wq", m, n, k) + wsum("%y", "%wl", (m, n))

    def fn(T, x, w, wl, alpha=None, sd=None):
        xx = T.quantize(x, "qa") if qa else x
        wq = T.quantize(w, "qw", seed=sd, scale=alpha)
        return wl_sum(xx @ wq.T, wl)
    CASES.append(Case(name, func(args, body, prelude=prelude), fn,
                      inputs=inputs, expect_clipping=expect_clipping))


# --- Parameters -------------------------------------------------------------
# The MLP's quantizers: 4-bit row absmax on weights and inputs (nothing is
# clipped by absmax: the clipped STE is the identity there).
qlinear("param_row_absmax_int", "bits = 4", qa="bits = 4", w_gen=None)
# Tensor granularity, rms_gaussian: clips outliers.
qlinear("param_tensor_rms_int", "bits = 3, granularity = tensor, "
        "scale = rms_gaussian", w_shape=(13, 7), expect_clipping=True)
# Groups of 4, centered grid, the identity estimator: clipped elements
# must get their gradient all the same.
qlinear("param_group_centered_identity", "bits = 2, granularity = group, "
        "group_size = 4, scale = rms_gaussian, levels = centered",
        w_shape=(5, 20), estimator="identity", expect_clipping=True)
# Hadamard rotation: clipping judged on w·H, the mask applied to dy·H.
qlinear("param_row_rms_hadamard", "bits = 2, scale = rms_gaussian, "
        "rotation = hadamard, block = 4", expect_clipping=True)
# Stochastic rounding with a seed argument, groups and rotation of 8.
qlinear("param_group_hadamard_stochastic", "bits = 4, granularity = group, "
        "group_size = 8, rotation = hadamard, block = 8, "
        "rounding = stochastic", w_shape=(13, 24), stochastic=True)
# scale = operand: alpha a parameter, its gradient the LSQ d alpha.
qlinear("scale_operand_tensor", "bits = 4, granularity = tensor, "
        "scale = operand", scale_shape=(), scale_gen=uniform(2.0, 4.0),
        expect_clipping=True)
qlinear("scale_operand_row_centered", "bits = 3, scale = operand, "
        "levels = centered", w_shape=(5, 13), scale_shape=(5,),
        expect_clipping=True)
qlinear("scale_operand_group_hadamard_stochastic_identity",
        "bits = 4, granularity = group, group_size = 4, scale = operand, "
        "rotation = hadamard, block = 4, rounding = stochastic",
        scale_shape=(5, 3), stochastic=True, estimator="identity",
        expect_clipping=True)

# A rank-3 parameter, 8 bits, rows: y = Q(w) * a.
CASES.append(Case(
    "param_rank3_row_8bit",
    func([P("w", T(3, 5, 12)), P("a", T(3, 5, 12)), D("wl", T(3, 5, 12))],
         qline("%wq", "%w", "q8", T(3, 5, 12)) +
         mul("%y", "%wq", "%a", (3, 5, 12)) + wsum("%y", "%wl", (3, 5, 12)),
         prelude="#q8 = #cage.quantizer<bits = 8>\n"),
    lambda T, w, a, wl: wl_sum(T.quantize(w, "q8") * a, wl)))

# One parameter through two quantizers (int rows, centered tensor) and used
# unquantized as well: the gradients add up.
CASES.append(Case(
    "param_two_quantizers_and_raw",
    func([P("w", T(7, 13), extra="quantizer = #cage.quantizer<bits = 2, "
            "scale = rms_gaussian>"),
          D("wl", T(7, 13)), D("wl2", T(7, 13)),
          D("wl3", T(7, 13))],
         qline("%q1", "%w", "qi", T(7, 13)) + qline("%q2", "%w", "qc",
                                                    T(7, 13)) +
         wsum("%q1", "%wl", (7, 13), out="%l1") +
         wsum("%q2", "%wl2", (7, 13), out="%l2") +
         wsum("%w", "%wl3", (7, 13), out="%l3") + """\
  %l12 = arith.addf %l1, %l2 : f32
  %loss = arith.addf %l12, %l3 : f32
""", prelude="#qi = #cage.quantizer<bits = 2, scale = rms_gaussian>\n"
             "#qc = #cage.quantizer<bits = 3, granularity = tensor, "
             "scale = rms_gaussian, levels = centered>\n"),
    lambda T, w, wl, wl2, wl3: wl_sum(T.quantize(w, "qi"), wl) +
    wl_sum(T.quantize(w, "qc"), wl2) + wl_sum(w, wl3),
    inputs={"w": heavy()}, expect_clipping=True))

# --- Activations ------------------------------------------------------------
# h = x·w1ᵀ quantized (row absmax), then ·w2ᵀ: the STE of an activation.
CASES.append(Case(
    "activation_row_absmax",
    func([D("x", T(7, 13)), P("w1", T(12, 13)), P("w2", T(5, 12)),
          D("wl", T(7, 5))],
         linear("%h", "%x", "%w1", 7, 12, 13) +
         qline("%hq", "%h", "qa", T(7, 12)) +
         linear("%y", "%hq", "%w2", 7, 5, 12) + wsum("%y", "%wl", (7, 5)),
         prelude="#qa = #cage.quantizer<bits = 4>\n"),
    lambda T, x, w1, w2, wl: wl_sum(T.quantize(x @ w1.T, "qa") @ w2.T, wl)))

# An activation with rms_gaussian groups on the centered grid: clipped
# elements of h must stop their gradient (activations: clipped STE).
CASES.append(Case(
    "activation_group_rms_centered",
    func([D("x", T(7, 13)), P("w1", T(12, 13)), P("b", T(7, 12)),
          D("wl", T(7, 12))],
         linear("%h", "%x", "%w1", 7, 12, 13) +
         qline("%hq", "%h", "qa", T(7, 12)) +
         mul("%y", "%hq", "%b", (7, 12)) + wsum("%y", "%wl", (7, 12)),
         prelude="#qa = #cage.quantizer<bits = 2, granularity = group, "
                 "group_size = 4, scale = rms_gaussian, levels = centered>\n"),
    lambda T, x, w1, b, wl: wl_sum(T.quantize(x @ w1.T, "qa") * b, wl),
    expect_clipping=True))

# Stochastic rounding of an activation (a product of two parameters).
CASES.append(Case(
    "activation_stochastic",
    func([P("a", T(13, 8)), P("b", T(13, 8)), D("sd", "i64"),
          D("wl", T(13, 8))],
         mul("%h", "%a", "%b", (13, 8)) +
         qline("%hq", "%h", "qs", T(13, 8), seed_v="%sd") +
         wsum("%hq", "%wl", (13, 8)),
         prelude="#qs = #cage.quantizer<bits = 3, granularity = tensor, "
                 "scale = rms_gaussian, rounding = stochastic>\n"),
    lambda T, a, b, sd, wl: wl_sum(T.quantize(a * b, "qs", seed=sd), wl),
    inputs={"a": heavy()}, expect_clipping=True))

# An activation whose clip values are a parameter: d alpha of an
# activation quantizer, and the clipped STE with the given alpha.
CASES.append(Case(
    "activation_scale_operand",
    func([D("x", T(7, 13)), P("w", T(12, 13)), P("alpha", T(7)),
          D("wl", T(7, 12))],
         linear("%h", "%x", "%w", 7, 12, 13) +
         qline("%hq", "%h", "qa", T(7, 12), scale="%alpha",
               scale_ty=T(7)) + wsum("%hq", "%wl", (7, 12)),
         prelude="#qa = #cage.quantizer<bits = 4, scale = operand>\n"),
    lambda T, x, w, alpha, wl: wl_sum(T.quantize(x @ w.T, "qa",
                                                 scale=alpha), wl),
    inputs={"alpha": uniform(3.0, 7.0)}, expect_clipping=True))

# One quantizer alias for a parameter (estimator = identity) and for an
# activation computed from it (clipped): the estimator belongs to the use.
CASES.append(Case(
    "shared_alias_param_identity_activation_clipped",
    func([P("w", T(7, 13), "identity"), P("s", T(7, 13)),
          D("wl", T(7, 13)), D("wl2", T(7, 13))],
         qline("%wq", "%w", "q", T(7, 13)) +
         mul("%h", "%w", "%s", (7, 13)) +
         qline("%hq", "%h", "q", T(7, 13)) +
         wsum("%wq", "%wl", (7, 13), out="%l1") +
         wsum("%hq", "%wl2", (7, 13), out="%l2") +
         "  %loss = arith.addf %l1, %l2 : f32\n",
         prelude="#q = #cage.quantizer<bits = 2, granularity = tensor, "
                 "scale = rms_gaussian>\n"),
    lambda T, w, s, wl, wl2: wl_sum(T.quantize(w, "q"), wl) +
    wl_sum(T.quantize(w * s, "q"), wl2),
    inputs={"w": heavy()}, expect_clipping=True))
