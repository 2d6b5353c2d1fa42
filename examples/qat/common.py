"""What the QAT experiments of docs/QAT.md share: the method table, seeds,
the lambda sweep and the driver that runs every (method, bits, seed), the
JSON result files, and mean +- std tables.

Each experiment script (digits.py, charlm.py, quadratic.py, ptq_cliff.py)
defines a *task*: how to train a model for a method at a bit width and a
seed, and how to evaluate it. `run_experiment` does the rest, in the same
order for every experiment:

  1. the lambda sweep: every method with `tune_lambda` is trained at each
     lambda of --lambdas on the sweep seeds (1000, 1001, ...: never the
     reported seeds) and evaluated on the task's validation data; the best
     mean wins, ties going to the paper's lambda (10);
  2. the reported runs: for each seed, the full-precision model is trained
     once (methods "fp" and "ptq" both evaluate it: PTQ is the FP weights
     through the quantized model, round to nearest, no retraining), then
     every QAT method at every bit width, with its selected lambda.

Every record is written to <out>/<experiment>.json as soon as it exists, so
an interrupted run keeps what it finished, and --resume skips it.

The package is imported from the source tree (python/ of this repository);
$CAGE_LIBRARY names the compiled library (docs/Python.md, "Where the
package and the library are").
"""

import datetime
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "python"))
sys.dont_write_bytecode = True

import numpy as np  # noqa: E402

import cage  # noqa: E402
from cage import nn  # noqa: E402,F401 (the experiments import it from here)

# ---------------------------------------------------------------------------
# Methods
# ---------------------------------------------------------------------------

PAPER_LAMBDA = 10.0   # the CAGE paper's lambda and silence (docs/Semantics.md §1.3)
PAPER_SILENCE = 0.8

# FOGZO's settings (docs/Semantics.md §1.6) at the defaults of #cage.fogzo:
# beta_min 0.999, active from the first step, epsilon from the grid; FOGZO
# as §1.6 states it (the straight-through part of the direction of unit
# norm) and with that part of unit RMS per element (docs/QAT.md says why
# both). The seed keys the noise; it is part of the compiled step, so it is
# one fixed value for every run (runs differ in their initialisation and
# batches, and the noise of step t differs from step to step).
FOGZO = nn.Fogzo(seed=1)
FOGZO_RMS = nn.Fogzo(seed=1, direction="unit_rms")
# β_min nearer 1: the noise part of the direction has about sqrt((1 - β) n)
# times the norm of the STE part (n the quantized weights); 1 - 2e-5 gives
# the LM (n = 425,984) the ratio of about 3 that the digits MLP (n = 9,472)
# has at the default 0.999 (docs/QAT.md, "FOGZO at this scale").
FOGZO_LM = nn.Fogzo(seed=1, beta_min=0.99998)


@dataclass(frozen=True)
class Method:
    """One training method of the comparison.

    train: "fp" (trained without quantizers) or "qat" (the quantizers are in
    the forward pass, gradients through them by the clipped STE);
    deploy: "fp" (evaluated without quantizers) or "quantized" (evaluated
    with the weight and input quantizers at the bit width of the row);
    weights: the #cage.param changes (nn.ParamConfig fields, as a dict) for
    the quantized weights; tune_lambda: lambda is chosen by the sweep (the
    method has the CAGE correction)."""

    name: str
    label: str
    train: str
    deploy: str
    weights: dict = field(default_factory=dict)
    tune_lambda: bool = False

    @property
    def quantized(self):
        return self.deploy == "quantized"

    def weight_config(self, lam=None, silence=PAPER_SILENCE):
        """The ParamConfig changes for the quantized weights (with lambda and
        silence when the method tunes lambda)."""
        changes = dict(self.weights)
        if self.tune_lambda:
            changes["lambda"] = PAPER_LAMBDA if lam is None else float(lam)
            changes["silence"] = float(silence)
        return changes


# The comparison. A new method is one entry here: the experiments take every
# QAT method through the same path (a training step compiled with the
# method's #cage.param changes on the quantized weights).
METHODS = {m.name: m for m in [
    Method("fp", "full precision", train="fp", deploy="fp"),
    Method("ptq", "PTQ (RTN of FP)", train="fp", deploy="quantized"),
    Method("ste", "STE-AdamW", train="qat", deploy="quantized", weights={"cage": False}),
    Method("cage-coupled", "CAGE coupled", train="qat", deploy="quantized",
           weights={"cage": True, "coupling": "coupled"}, tune_lambda=True),
    Method("cage-decoupled", "CAGE decoupled", train="qat", deploy="quantized",
           weights={"cage": True, "coupling": "decoupled"}, tune_lambda=True),
    Method("fogzo", "FOGZO-AdamW", train="qat", deploy="quantized",
           weights={"cage": False, "fogzo": FOGZO}),
    Method("fogzo-rms", "FOGZO-AdamW, unit-RMS ĝ", train="qat", deploy="quantized",
           weights={"cage": False, "fogzo": FOGZO_RMS}),
    Method("fogzo-b99998", "FOGZO-AdamW, β_min = 0.99998", train="qat", deploy="quantized",
           weights={"cage": False, "fogzo": FOGZO_LM}),
    Method("fogzo-cage", "FOGZO + CAGE coupled", train="qat", deploy="quantized",
           weights={"cage": True, "coupling": "coupled", "fogzo": FOGZO}, tune_lambda=True),
    Method("fogzo-rms-cage", "FOGZO (unit-RMS ĝ) + CAGE coupled", train="qat",
           deploy="quantized",
           weights={"cage": True, "coupling": "coupled", "fogzo": FOGZO_RMS},
           tune_lambda=True),
]}

FP_TRAINING = METHODS["fp"]   # what the "fp"-trained methods are trained with


def parse_methods(text):
    names = [s.strip() for s in text.split(",") if s.strip()]
    for n in names:
        if n not in METHODS:
            raise SystemExit("unknown method %r (known: %s)" % (n, ", ".join(METHODS)))
    return [METHODS[n] for n in names]


def parse_list(text, kind=float):
    return [kind(s) for s in str(text).split(",") if s.strip()]


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def add_common_arguments(ap, *, methods, bits, seeds, lambdas, sweep_seeds, margin=0.0):
    """The options every experiment has; the defaults are the full run's."""
    ap.add_argument("--quick", action="store_true",
                    help="a smoke run: one seed, few steps, a reduced sweep")
    ap.add_argument("--out", default=os.path.join(REPO, "examples", "qat", "results"),
                    help="directory of the JSON results (default examples/qat/results)")
    ap.add_argument("--methods", default=",".join(methods),
                    help="comma-separated, of: %s (default %%(default)s)" % ", ".join(METHODS))
    ap.add_argument("--bits", default=",".join(str(b) for b in bits),
                    help="bit widths, weights and activations (default %(default)s)")
    ap.add_argument("--seeds", type=int, default=seeds,
                    help="number of seeds, 0 .. N-1 (default %(default)s)")
    ap.add_argument("--lambdas", default=",".join("%g" % v for v in lambdas),
                    help="the lambda sweep of the CAGE methods (default %(default)s); "
                         "one value: no sweep, that lambda")
    ap.add_argument("--sweep-seeds", type=int, default=sweep_seeds,
                    help="seeds of the sweep, 1000 .. (default %(default)s)")
    ap.add_argument("--sweep-margin", type=float, default=margin,
                    help="lambda 10 (the paper's) is kept unless another lambda's mean "
                         "validation metric is better by more than this (default %(default)g)")
    ap.add_argument("--silence", type=float, default=PAPER_SILENCE,
                    help="the CAGE silence (default %(default)s)")
    ap.add_argument("--resume", action="store_true",
                    help="keep the records of an existing result file with the same settings "
                         "and run only what is missing")


# The options that choose what to run, not what an experiment is: a --resume
# may name other methods, bit widths or lambdas (their records are keyed by
# them), so they are not part of the settings a result file must match.
RUN_SELECTION = ("out", "resume", "methods", "method_list", "bits", "bits_list",
                 "lambdas", "lambda_list")


def settings_of(args):
    """The settings of a run: its options less the RUN_SELECTION ones."""
    return {k: v for k, v in vars(args).items() if k not in RUN_SELECTION}


def finish_arguments(ap, args, quick):
    """Applies the --quick reductions (`quick`: {option: value}, to the
    options left at their defaults) and parses the lists."""
    if args.quick:
        for k, v in quick.items():
            if getattr(args, k) == ap.get_default(k):
                setattr(args, k, v)
    args.method_list = parse_methods(args.methods)
    args.bits_list = parse_list(args.bits, int)
    args.lambda_list = parse_list(args.lambdas, float)
    return args


def seed_list(n):
    return list(range(n))


def sweep_seed_list(n):
    return [1000 + i for i in range(n)]


# ---------------------------------------------------------------------------
# Learning-rate schedule
# ---------------------------------------------------------------------------


def lr_at(t, total, peak, warmup=0, final=0.1):
    """Linear warm-up over `warmup` steps, then a cosine from `peak` down to
    `final * peak` at step `total` (t counts from 1)."""
    if warmup and t <= warmup:
        return peak * t / warmup
    r = min(max((t - warmup) / max(total - warmup, 1), 0.0), 1.0)
    return peak * (final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * r)))


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------


def compile_trainer(model, batch_shape, method, bits, lam, args, overrides):
    """The compiled Trainer of `method` at `bits` bits and CAGE lambda `lam`
    for `model` (cross-entropy loss, AdamW with args.weight_decay; the
    method's #cage.param changes on every "@weight", over `overrides`),
    printing how long it took to compile."""
    overrides = dict(overrides)
    overrides["@weight"] = method.weight_config(lam, args.silence)
    t0 = time.perf_counter()
    trainer = cage.compile_training(
        model, nn.CrossEntropyLoss(), batch_shape,
        optimizer=nn.AdamW(weight_decay=args.weight_decay),
        quant=bits if method.train == "qat" else None, overrides=overrides)
    print("compiled %s %s%s in %.1f s" % (
        method.name, bits_label(bits) if method.train == "qat" else "FP",
        " lambda %g" % lam if lam is not None else "", time.perf_counter() - t0),
        flush=True)
    return trainer


def reinitialize(trainer, fresh_model):
    """Starts a compiled Trainer over: the parameters of `fresh_model` (the
    same architecture, initialised from another seed) are copied into the
    trainer's model arrays, the optimizer state is zeroed, t = 0. A compiled
    step is then reused for every seed (compiling is seconds to a minute;
    the step is the same code whatever the weights)."""
    src = dict(fresh_model.named_parameters())
    for name, p in trainer.model.named_parameters():
        np.copyto(p.data, src[name].data)
    for arrays in trainer.state.values():
        for a in arrays:
            a.fill(0.0)
    trainer.t = 0
    trainer.total_steps = 1


def copy_parameters(dst_model, src_model):
    """Copies the parameter values of src_model into dst_model's arrays
    (same architecture; the quantizers may differ)."""
    src = dict(src_model.named_parameters())
    for name, p in dst_model.named_parameters():
        np.copyto(p.data, src[name].data)


class Evaluator:
    """The compiled evaluation function of a model (cage.nn eval mode), with
    no training step: for PTQ, the FP-trained weights are copied into a
    model that has the quantizers and evaluated through it.

    With a loss, `loss(x, target)` is the mean loss over batches (every
    batch full); without, `outputs(x)` gives the model's output for any
    number of rows (the last batch padded)."""

    def __init__(self, model, batch_shape, loss=None, **compile_options):
        self.model = model
        self.batch_shape = tuple(batch_shape)
        self.function = model.forward_mlir(self.batch_shape, loss=loss, mode="eval")
        module = cage.compile(self.function.text, filename="<qat eval>", **compile_options)
        self._call = module[self.function.name]
        self.has_loss = loss is not None

    def _params(self):
        return [p for _, p in self.function.params]

    def loss(self, x, target):
        b = self.batch_shape[0]
        if len(x) % b:
            raise ValueError("loss: %d rows are not whole batches of %d" % (len(x), b))
        total = 0.0
        for start in range(0, len(x), b):
            xb = np.ascontiguousarray(x[start:start + b], np.float32)
            yb = np.ascontiguousarray(target[start:start + b], np.float32)
            loss, _ = self._call(xb, yb, *self._params())
            total += float(loss)
        return total / (len(x) // b)

    def outputs(self, x):
        n, b = len(x), self.batch_shape[0]
        out = []
        for start in range(0, n, b):
            chunk = np.zeros(self.batch_shape, np.float32)
            rows = min(b, n - start)
            chunk[:rows] = x[start:start + rows]
            if self.has_loss:
                raise TypeError("outputs: this evaluator was compiled with a loss")
            out.append(np.asarray(self._call(chunk, *self._params()))[:rows])
        return np.concatenate(out)


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


def environment():
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    env = {"python": platform.python_version(), "numpy": np.__version__,
           "platform": platform.platform(), "cpu": cpu, "cpus": os.cpu_count(),
           "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")}
    try:
        env["cage_library"] = cage.library_path()
        env["cage_api"] = "%d.%d" % cage.api_version()
    except Exception as e:  # noqa: BLE001 (recorded, not fatal)
        env["cage_library"] = "unavailable: %s" % e
    return env


def _jsonable(v):
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError("not JSON: %r" % (v,))


class Results:
    """<out>/<experiment>.json: settings, environment, the sweep, the
    selected lambdas and the records; rewritten (atomically) after each
    record."""

    def __init__(self, out, experiment, settings, resume=False):
        os.makedirs(out, exist_ok=True)
        self.path = os.path.join(out, experiment + ".json")
        self.data = {
            "experiment": experiment,
            "created": datetime.datetime.now().isoformat(timespec="seconds"),
            # Every command that wrote to the file, in order (a --resume adds
            # its own).
            "commands": [" ".join([os.path.relpath(sys.argv[0], REPO)] + sys.argv[1:])],
            "settings": settings,
            "environment": environment(),
            "sweep": [],
            "selected_lambda": [],
            "records": [],
        }
        if resume and os.path.exists(self.path):
            with open(self.path) as f:
                old = json.load(f)
            old_settings = {k: v for k, v in old.get("settings", {}).items()
                            if k not in RUN_SELECTION}
            if old_settings != json.loads(json.dumps(settings, default=_jsonable)):
                raise SystemExit("--resume: %s was written with other settings" % self.path)
            for k in ("sweep", "selected_lambda", "records"):
                self.data[k] = old.get(k, [])
            earlier = old.get("commands", [old["command"]] if "command" in old else [])
            self.data["commands"] = earlier + self.data["commands"]
            print("resuming %s: %d sweep runs, %d records" % (
                self.path, len(self.data["sweep"]), len(self.data["records"])))
        self.write()

    def find(self, kind, **key):
        for r in self.data[kind]:
            if all(r.get(k) == v for k, v in key.items()):
                return r
        return None

    def add(self, kind, record):
        self.data[kind].append(record)
        self.write()

    def write(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.data, f, indent=1, default=_jsonable)
            f.write("\n")
        os.replace(tmp, self.path)


# ---------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------


def _condition_key(cond):
    return {("cond_" + k): v for k, v in sorted(cond.items())}


def _say(*parts):
    print(*parts, flush=True)


def select_lambda(sweep, higher_is_better, default=PAPER_LAMBDA, margin=0.0):
    """{lambda: [values]} -> (lambda, {lambda: mean}): the paper's lambda
    unless another one's mean is better by more than `margin` (in the
    metric's units); then the best one (ties to the smaller lambda). Without
    the paper's lambda in the sweep: the best one."""
    means = {lam: float(np.mean(v)) for lam, v in sweep.items()}
    sign = -1.0 if higher_is_better else 1.0
    best = min(means, key=lambda lam: (sign * means[lam], lam))
    if default in means and sign * (means[default] - means[best]) <= margin:
        best = default
    return best, means


def run_experiment(task, args, results, conditions=({},)):
    """Runs the sweep and the reported runs of `task` for args.method_list x
    args.bits_list x seeds (x conditions, the quadratic's kappas).

    The task provides: metric (the record field of the main number),
    higher_is_better, optionally prepare(method, bits, lam) (compiles what
    train will use, so that train_seconds is the training alone) and
    release(method, bits, lam) (frees it: a lambda the sweep did not select),
    and
      train(method, bits, lam, seed, cond, phase) -> handle   (bits None for FP)
      evaluate(handle, method, bits, cond, split) -> {field: value}
    where split is "val" (the sweep) or "test" (the reported number); for
    "fp"-trained methods the driver trains once per seed and calls evaluate
    with each deployed bit width."""
    methods = args.method_list
    qat = [m for m in methods if m.train == "qat"]
    from_fp = [m for m in methods if m.train == "fp"]
    lambdas = args.lambda_list
    selected = {}
    lbl = getattr(task, "bits_label", bits_label)
    # Compiling (task.prepare) is left out of the records' train_seconds.
    prepare = getattr(task, "prepare", lambda method, bits, lam: None)
    # What the reported runs will not use again (task.release) can be freed.
    release = getattr(task, "release", lambda method, bits, lam: None)

    # 1. The lambda sweep.
    for cond in conditions:
        ck = _condition_key(cond)
        for m in qat:
            if not m.tune_lambda:
                continue
            for bits in args.bits_list:
                if len(lambdas) == 1:
                    selected[(m.name, bits, tuple(sorted(cond.items())))] = lambdas[0]
                    continue
                prev = results.find("selected_lambda", method=m.name, bits=bits, **ck)
                if prev is not None:
                    selected[(m.name, bits, tuple(sorted(cond.items())))] = prev["lambda"]
                    continue
                values = {}
                for lam in lambdas:
                    for seed in sweep_seed_list(args.sweep_seeds):
                        key = dict(method=m.name, bits=bits, seed=seed, **{"lambda": lam}, **ck)
                        r = results.find("sweep", **key)
                        if r is None:
                            prepare(m, bits, lam)
                            t0 = time.perf_counter()
                            h = task.train(m, bits, lam, seed, cond, "sweep")
                            t1 = time.perf_counter()
                            r = dict(key, silence=args.silence, **task.evaluate(h, m, bits, cond, "val"),
                                     train_seconds=round(t1 - t0, 3))
                            results.add("sweep", r)
                            _say("sweep  %-15s %-6s %s lambda %-5g seed %d: %s %.5g" % (
                                m.name, lbl(bits), _cond_text(cond), lam, seed,
                                task.metric, r[task.metric]))
                        values.setdefault(lam, []).append(r[task.metric])
                best, means = select_lambda(values, task.higher_is_better,
                                            margin=args.sweep_margin)
                for lam in lambdas:
                    if lam != best:
                        release(m, bits, lam)
                selected[(m.name, bits, tuple(sorted(cond.items())))] = best
                results.add("selected_lambda", dict(
                    method=m.name, bits=bits, **ck, **{"lambda": best},
                    means={("%g" % k): v for k, v in means.items()}, metric=task.metric,
                    split="val", seeds=sweep_seed_list(args.sweep_seeds),
                    margin=args.sweep_margin))
                _say("sweep  %-15s %-6s %s: lambda %g selected (%s)" % (
                    m.name, lbl(bits), _cond_text(cond), best,
                    ", ".join("%g: %.5g" % kv for kv in means.items())))

    # 2. The reported runs.
    for cond in conditions:
        ck = _condition_key(cond)
        for seed in seed_list(args.seeds):
            if from_fp:
                wanted = [(m, b) for m in from_fp for b in (args.bits_list if m.quantized else [None])]
                missing = [(m, b) for m, b in wanted
                           if results.find("records", method=m.name, bits=b, seed=seed, **ck) is None]
                if missing:
                    prepare(FP_TRAINING, None, None)
                    t0 = time.perf_counter()
                    h = task.train(FP_TRAINING, None, None, seed, cond, "test")
                    t1 = time.perf_counter()
                    for m, b in missing:
                        r = dict(method=m.name, bits=b, seed=seed, **ck, **{"lambda": None},
                                 **task.evaluate(h, m, b, cond, "test"),
                                 train_seconds=round(t1 - t0, 3))
                        results.add("records", r)
                        _say("run    %-15s %-6s %s seed %d: %s %.5g" % (
                            m.name, lbl(b), _cond_text(cond), seed,
                            task.metric, r[task.metric]))
            for m in qat:
                for bits in args.bits_list:
                    if results.find("records", method=m.name, bits=bits, seed=seed, **ck):
                        continue
                    lam = selected.get((m.name, bits, tuple(sorted(cond.items())))) if m.tune_lambda else None
                    prepare(m, bits, lam)
                    t0 = time.perf_counter()
                    h = task.train(m, bits, lam, seed, cond, "test")
                    t1 = time.perf_counter()
                    r = dict(method=m.name, bits=bits, seed=seed, **ck, **{"lambda": lam},
                             silence=args.silence if m.tune_lambda else None,
                             **task.evaluate(h, m, bits, cond, "test"),
                             train_seconds=round(t1 - t0, 3))
                    results.add("records", r)
                    _say("run    %-15s %-6s %s seed %d%s: %s %.5g" % (
                        m.name, lbl(bits), _cond_text(cond), seed,
                        " lambda %g" % lam if lam is not None else "", task.metric, r[task.metric]))


def _cond_text(cond):
    return " ".join("%s %s" % kv for kv in cond.items())


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------


def mean_std(values):
    v = np.asarray([x for x in values if x is not None], np.float64)
    if v.size == 0:
        return None, None, 0
    return float(v.mean()), (float(v.std(ddof=1)) if v.size > 1 else None), int(v.size)


def format_mean_std(values, digits=2, scale=1.0, seeds=None):
    """mean ± std; with `seeds` (the runs a full row has), "(n seeds)" where
    there are fewer."""
    mean, std, n = mean_std(values)
    if mean is None:
        return ""
    fmt = "%%.%df" % digits
    s = fmt % (mean * scale)
    if std is not None:
        s += " ± " + fmt % (std * scale)
    if seeds is not None and n < seeds:
        s += " (%d seed%s)" % (n, "" if n == 1 else "s")
    return s


def bits_label(b):
    return "FP" if b is None else "W%dA%d" % (b, b)


def method_table(records, metric, bits_list, methods=None, digits=2, scale=1.0,
                 filter_=None, fp_column=True, label=bits_label):
    """A markdown table: one row per method, one column per bit width (and
    an FP column for the full-precision model), mean ± std over seeds."""
    rows = [r for r in records if filter_ is None or filter_(r)]
    names = [m for m in (methods or METHODS) if any(r["method"] == m for r in rows)]
    counts = {}
    for r in rows:
        key = (r["method"], r["bits"])
        counts[key] = counts.get(key, 0) + 1
    seeds = max(counts.values(), default=0)
    cols = list(bits_list)
    show_fp = fp_column and any(r["bits"] is None for r in rows)
    header = ["method"] + (["FP"] if show_fp else []) + [label(b) for b in cols]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name in names:
        label = METHODS[name].label if name in METHODS else name
        cells = [label]
        if show_fp:
            cells.append(format_mean_std([r[metric] for r in rows
                                          if r["method"] == name and r["bits"] is None],
                                         digits, scale, seeds))
        for b in cols:
            cells.append(format_mean_std([r[metric] for r in rows
                                          if r["method"] == name and r["bits"] == b],
                                         digits, scale, seeds))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def sweep_table(results_data, metric, digits=3, scale=1.0, cond_keys=(), label=bits_label):
    """The lambda sweep: one row per (method, bits[, condition]), one column
    per lambda (mean over the sweep seeds), and the lambda selected."""
    sel = results_data.get("selected_lambda", [])
    if not sel:
        return ""

    def means_of(s):
        """The mean of every lambda swept for s's method, width and
        condition: the selection's own, and those of a later sweep run to
        look further (shown beside it; the selection stands)."""
        values = {}
        for r in results_data.get("sweep", []):
            if r["method"] == s["method"] and r["bits"] == s["bits"] and all(
                    r.get("cond_" + k) == s.get("cond_" + k) for k in cond_keys):
                values.setdefault(float(r["lambda"]), []).append(r[metric])
        means = {float(k): v for k, v in s["means"].items()}
        means.update({lam: float(np.mean(v)) for lam, v in values.items() if lam not in means})
        return means

    all_means = [means_of(s) for s in sel]
    lams = sorted({lam for means in all_means for lam in means})
    header = ["method", "bits"] + list(cond_keys) + ["λ = %g" % v for v in lams] + ["selected"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for s, means in zip(sel, all_means):
        cells = [METHODS[s["method"]].label if s["method"] in METHODS else s["method"],
                 label(s["bits"])] + ["%g" % s["cond_" + k] for k in cond_keys]
        for v in lams:
            cells.append(("%%.%df" % digits) % (means[v] * scale) if v in means else "")
        cells.append("%g" % s["lambda"])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
