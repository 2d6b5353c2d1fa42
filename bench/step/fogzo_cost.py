#!/usr/bin/python3
"""What a FOGZO training step costs against a straight-through (STE) step.

The W4A4 models of whole_step.py (same shapes, same cage.nn builders):

  mlp    784 -> 1024 -> 1024 -> 10 (ReLU), batch 256, softmax cross-entropy
  block  one pre-norm transformer block (d 256, 4 heads, sequence 128, batch
         16 = 2048 tokens, causal self-attention, MLP 4*d with GELU) and a
         linear head d -> 256 classes, softmax cross-entropy per token

every Linear quantizing its weight per row and its input per token to 4 bits
(cage's default quantizer), AdamW at the CAGE paper's defaults. Each variant
is compiled once with cage.compile_training (the in-place step):

  ste         cage=True                           the CAGE correction, STE
  fogzo       cage=False, fogzo=nn.Fogzo(seed=1)  FOGZO (docs/Semantics.md 1.6)
  fogzo+cage  cage=True,  fogzo=nn.Fogzo(seed=1)  FOGZO and the correction

and the forward alone (Trainer.loss of the ste training: the loss function
the step's own forward and FOGZO's two probes are). On an active step the
FOGZO step runs the STE step's forward and backward, one pass over the
quantized parameters' gradients for the direction (the norm of g, Philox
noise per element), the two probes L+ and L- (two more forwards) and the
optimizer: (fogzo - ste) / forward should come out near 2 plus the direction
pass. start = 0 makes every step active (r = t/T > 0).

Before timing, per model: the losses of a few FOGZO steps (fogzo and
fogzo+cage) on one batch must fall; a separate training with
nn.Fogzo(seed=1, start=0.99) and cage=True takes its first step (r = 1/T
<= 0.99: inactive) and its parameters and AdamW state must equal the ste
training's after its first step bit for bit.

Rounds: --warmup untimed then --calls timed, each round one call of every
variant, the order reversed every other round; medians and minima. Threads:
the script re-executes itself with LD_PRELOAD=libomp and KMP_BLOCKTIME=0 (as
whole_step.py) and sets omp_set_num_threads per thread count.

    fogzo_cost.py [--quick] [--models mlp,block] [--threads 1,2]
                  [--calls N] [--warmup N] [--malloc default|retain]
                  [--json FILE] [--txt FILE]    (--help: all options)
"""

import datetime
import os
import platform
import sys
import time

sys.dont_write_bytecode = True  # before the first import from bench/step

import harness  # noqa: E402  (the standard library only: importable before the re-exec)
from harness import (MALLOC_RETAIN, SHAPES, clock, cpu_model, load_average,  # noqa: E402
                     say, stats)

LR = 1e-3
BITS = 4
FOGZO_SEED = 1

VARIANTS = ("ste", "fogzo", "fogzo+cage")
TIMED = ("forward",) + VARIANTS


def parse_args():
    p = harness.argument_parser(__doc__)
    p.add_argument("--calls", type=int, help="timed calls per variant (20; --quick 3)")
    p.add_argument("--warmup", type=int, help="untimed rounds first (2; --quick 1)")
    p.add_argument("--check-steps", type=int, default=5,
                   help="FOGZO steps of the sanity check (5)")
    p.add_argument("--attention", choices=("generic", "matmul"), default="generic",
                   help="cage.nn CausalSelfAttention impl of the block (generic)")
    p.add_argument("--pause", type=float, default=0.0,
                   help="seconds of sleep before each call (0)")
    harness.add_process_arguments(
        p, memory_help="address-space limit of the process (RLIMIT_AS; 0: none)",
        malloc_help="retain: MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ "
        "set so that freed memory stays in the heap (no per-call page faults)")
    harness.add_output_arguments(p, "fogzo-cost",
                                 no_reexec_help="do not re-execute with LD_PRELOAD=libomp")
    return harness.parse_args(p, "fogzo-cost")


ARGS = parse_args()
# Re-executes (libomp preloaded, KMP_BLOCKTIME=0, the malloc settings of
# --malloc) unless that is already so, then limits the memory.
harness.start(ARGS)

import numpy as np  # noqa: E402

import cage  # noqa: E402
from cage import nn as cnn  # noqa: E402


# ---------------------------------------------------------------------------
# The trainings (the W4A4 models of harness.build_cage_model, as whole_step.py's)
# ---------------------------------------------------------------------------


def variant_options(variant, start=0.0):
    """compile_training's keyword arguments of a variant."""
    if variant == "ste":
        return {"cage": True, "fogzo": None}
    fz = cnn.Fogzo(seed=FOGZO_SEED, start=start)
    return {"cage": variant == "fogzo+cage", "fogzo": fz}


class Training:
    """One variant: its own model (the same initial weights as the others),
    its compiled Trainer, and a reset to the initial state."""

    def __init__(self, name, shapes, variant, attention, start=0.0, attempts=3):
        self.variant = variant
        self.model, self.in_shape, self.classes = harness.build_cage_model(
            name, shapes, BITS, attention)
        self.params = [p for _, p in self.model.named_parameters()]
        self.initial = [p.data.copy() for p in self.params]
        opts = variant_options(variant if start == 0.0 else "fogzo+cage", start)
        for attempt in range(attempts):
            try:
                t0 = time.perf_counter()
                self.trainer = cage.compile_training(self.model, cnn.CrossEntropyLoss(),
                                                     self.in_shape, quant=BITS, **opts)
                self.compile_s = time.perf_counter() - t0
                break
            except Exception as e:  # a library rebuilt under us: try again
                if attempt + 1 == attempts:
                    raise
                say(f"  compile failed ({type(e).__name__}: {str(e)[:200]}); retrying")
                time.sleep(5)
        self.text = self.trainer.train_function.text

    def reset(self, total_steps):
        for p, a in zip(self.params, self.initial):
            np.copyto(p.data, a)
        for arrays in self.trainer.state.values():
            for a in arrays:
                a.fill(0)
        self.trainer.t = 0
        self.trainer.total_steps = total_steps

    def arrays(self):
        """Parameters and optimizer state, in order (the arrays themselves)."""
        out = []
        for n, p in self.model.named_parameters():
            out.append((n, p.data))
            for i, s in enumerate(self.trainer.state.get(n, [])):
                out.append((f"{n}/state{i}", s))
        return out


def bitwise_equal(a, b):
    return a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))


# ---------------------------------------------------------------------------
# Sanity checks
# ---------------------------------------------------------------------------


def sanity_check(name, trainings, inactive, x, y, steps):
    rec = {"model": name, "steps": steps}
    ok = True
    # The FOGZO losses fall over a few steps on one batch (T = steps: every
    # step active, r = t/T > 0 = start).
    for v in ("fogzo", "fogzo+cage"):
        tr = trainings[v]
        tr.reset(steps)
        losses = [tr.trainer.step(x, y, LR) for _ in range(steps)]
        losses.append(tr.trainer.loss(x, y))
        falls = bool(losses[-1] < losses[0])
        rec[f"losses_{v}"] = losses
        rec[f"falls_{v}"] = falls
        ok = ok and falls
        say(f"  check {name} {v}: {steps} active steps, loss "
            + " -> ".join(f"{l:.4f}" for l in losses)
            + f" ({'falls' if falls else 'DOES NOT FALL'})")
    # First step of the ste training and of the inactive FOGZO training (start
    # 0.99, t = 1 of T = steps: r = 1/steps <= 0.99), from the same state.
    ste = trainings["ste"]
    ste.reset(steps)
    inactive.reset(steps)
    loss_ste = ste.trainer.step(x, y, LR)
    loss_inactive = inactive.trainer.step(x, y, LR)
    differ = [n for (n, a), (_, b) in zip(ste.arrays(), inactive.arrays())
              if not bitwise_equal(a, b)]
    n_arrays = len(ste.arrays())
    rec["inactive_first_step"] = {
        "start": 0.99, "t": 1, "T": steps, "loss_ste": loss_ste,
        "loss_inactive": loss_inactive, "arrays": n_arrays,
        "bitwise_equal": not differ, "differing": differ}
    ok = ok and not differ
    say(f"  check {name} inactive step (Fogzo(seed={FOGZO_SEED}, start=0.99), cage=True, t=1 "
        f"of T={steps}) against ste (cage=True): parameters and AdamW state "
        + ("bit for bit equal" if not differ else "DIFFER: " + ", ".join(differ))
        + f" ({n_arrays} arrays); losses {loss_ste:.7f} / {loss_inactive:.7f}")
    # For information: the active FOGZO step does move the parameters
    # elsewhere than the STE step.
    fc = trainings["fogzo+cage"]
    fc.reset(steps)
    fc.trainer.step(x, y, LR)
    moved = sum(not bitwise_equal(a, b) for (n, a), (_, b)
                in zip(ste.arrays(), fc.arrays()))
    rec["active_first_step_arrays_differing_from_ste"] = moved
    say(f"  check {name} active step (fogzo+cage, t=1) against ste: {moved} of {n_arrays} "
        "arrays differ (FOGZO changes the quantized weights' gradients)")
    rec["ok"] = bool(ok)
    return rec


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------


def measure(name, trainings, threads, x, y, args):
    total = args.warmup + args.calls
    for tr in trainings.values():
        # t <= T on every timed step (and start = 0: every FOGZO step active).
        tr.reset(total)
    samples = {k: [] for k in TIMED}
    faults = {k: [] for k in TIMED}
    calls = {"forward": lambda: trainings["ste"].trainer.loss(x, y)}
    for v in VARIANTS:
        calls[v] = (lambda tr: lambda: tr.trainer.step(x, y, LR))(trainings[v])
    order = list(TIMED)
    for r in range(total):
        for k in (order if r % 2 == 0 else order[::-1]):
            if args.pause:
                time.sleep(args.pause)
            t0 = clock()
            calls[k]()
            t1 = clock()
            if r >= args.warmup:
                samples[k].append(t1[0] - t0[0])
                faults[k].append(t1[1] - t0[1])
    for v in VARIANTS:
        tr = trainings[v].trainer
        assert tr.t == total and tr.t <= max(tr.total_steps, 1), (v, tr.t, tr.total_steps)
    rec = {"model": name, "threads": threads, "calls": args.calls, "warmup": args.warmup,
           "T": total}
    for k in TIMED:
        rec[k] = stats(samples[k])
    rec["page_faults"] = {k: int(np.median(faults[k])) for k in TIMED}
    for which in ("median_ms", "min_ms"):
        tag = "" if which == "median_ms" else " (min)"
        ste, fwd = rec["ste"][which], rec["forward"][which]
        for v in ("fogzo", "fogzo+cage"):
            rec[f"{v}/ste{tag}"] = rec[v][which] / ste
            rec[f"({v}-ste)/forward{tag}"] = (rec[v][which] - ste) / fwd
    rec["ste/forward"] = rec["ste"]["median_ms"] / rec["forward"]["median_ms"]
    rec["load_after"] = load_average()
    return rec


HEADER = ("| model | threads | forward | ste | fogzo | fogzo+cage | fogzo/ste | "
          "(fogzo+cage)/ste | (fogzo−ste)/fwd | (fogzo+cage−ste)/fwd |")


def table(records):
    lines = [HEADER, "|" + "---|" * 10]
    for r in records:
        cells = [r["model"], str(r["threads"])]
        for k in TIMED:
            cells.append(f"{r[k]['median_ms']:.2f} ({r[k]['min_ms']:.2f})")
        for k in ("fogzo/ste", "fogzo+cage/ste", "(fogzo-ste)/forward",
                  "(fogzo+cage-ste)/forward"):
            cells.append(f"{r[k]:.2f} ({r[k + ' (min)']:.2f})")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def line(r):
    return (f"{r['model']:5} {r['threads']}T | fwd {r['forward']['median_ms']:.2f} ste "
            f"{r['ste']['median_ms']:.2f} fogzo {r['fogzo']['median_ms']:.2f} fogzo+cage "
            f"{r['fogzo+cage']['median_ms']:.2f} ms | fogzo/ste {r['fogzo/ste']:.2f} "
            f"(fogzo+cage)/ste {r['fogzo+cage/ste']:.2f} | extra in forwards: fogzo "
            f"{r['(fogzo-ste)/forward']:.2f}, fogzo+cage {r['(fogzo+cage-ste)/forward']:.2f} "
            f"| faults/call {r['page_faults']}")


def main(args):
    wall0 = time.perf_counter()
    load_before = load_average()
    omp = harness.Threads()
    cpu = cpu_model()
    say(f"fogzo_cost.py: cage library {cage.library_path()} "
        f"(-> {os.path.realpath(cage.library_path())}, API {cage.api_version()}), "
        f"numpy {np.__version__}, python {platform.python_version()}")
    say(f"  CPU {cpu}, {os.cpu_count()} logical CPUs; LD_PRELOAD="
        f"{os.environ.get('LD_PRELOAD', '')} KMP_BLOCKTIME={os.environ.get('KMP_BLOCKTIME')} "
        f"malloc {args.malloc}")
    say(f"  {'quick: ' if args.quick else ''}{args.calls} timed calls after {args.warmup} "
        f"warm-up per variant, threads {args.threads}, medians (min); load average "
        f"{load_before:.2f}")
    if load_before > 1:
        say(f"  warning: load average {load_before:.2f} > 1: other processes share the cores")

    checks, records, compiles, loads, done = [], [], [], [], []

    def result():
        return {
            "meta": {
                "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "quick": args.quick, "calls": args.calls, "warmup": args.warmup,
                "threads": args.threads, "models": args.models, "models_done": list(done),
                "variants": {v: {k: str(o) for k, o in variant_options(v).items()}
                             for v in VARIANTS},
                "forward": "Trainer.loss of the ste training (the train-mode loss function)",
                "shapes": {m: SHAPES[m][1 if args.quick else 0] for m in args.models},
                "attention_impl": args.attention, "bits": BITS, "lr": LR,
                "optimizer": "nn.AdamW() (0.9, 0.95, 1e-8, weight decay 0.1)",
                "check_steps": args.check_steps, "pause_s": args.pause,
                "malloc": args.malloc,
                "malloc_env": {v: os.environ.get(v) for v in MALLOC_RETAIN},
                "cpu": cpu, "cpu_count": os.cpu_count(),
                "cage_library": cage.library_path(),
                "cage_library_file": os.path.realpath(cage.library_path()),
                "cage_api": cage.api_version(),
                "ld_preload": os.environ.get("LD_PRELOAD", ""),
                "kmp_blocktime": os.environ.get("KMP_BLOCKTIME"),
                "load_before": load_before, "load_warning": load_before > 1,
                "loads": loads, "load_after": load_average(),
                "wall_s": time.perf_counter() - wall0,
            },
            "compiles": compiles, "checks": checks, "records": records,
        }

    def write(final):
        harness.write_results(args, result(), done, final)

    omp.set_threads(max(args.threads))
    for name in args.models:
        shapes = SHAPES[name][1 if args.quick else 0]
        trainings = {}
        for v in VARIANTS:
            say(f"{name} {v}: compiling ({shapes}) ...")
            tr = Training(name, shapes, v, args.attention)
            trainings[v] = tr
            compiles.append({"model": name, "variant": v, "compile_s": tr.compile_s,
                             "mlir_lines": tr.text.count("\n"),
                             "fogzo_params": tr.text.count("#cage.fogzo")})
            say(f"  compiled in {tr.compile_s:.1f} s (train and eval functions); "
                f"{tr.text.count('#cage.fogzo')} FOGZO parameters")
        say(f"{name} inactive (Fogzo(start=0.99), cage=True): compiling ...")
        inactive = Training(name, shapes, "fogzo+cage", args.attention, start=0.99)
        compiles.append({"model": name, "variant": "inactive (start 0.99, cage)",
                         "compile_s": inactive.compile_s})
        say(f"  compiled in {inactive.compile_s:.1f} s")
        first = trainings["ste"].initial
        for tr in list(trainings.values()) + [inactive]:
            assert all(bitwise_equal(a, b) for a, b in zip(first, tr.initial)), \
                "the builds start from different weights"
        x, _, y = harness.make_batch(trainings["ste"].in_shape, trainings["ste"].classes)
        rec = sanity_check(name, trainings, inactive, x, y, args.check_steps)
        checks.append(rec)
        del inactive
        for threads in args.threads:
            omp.set_threads(threads)
            before = load_average()
            if before > 1:
                say(f"  warning: load average {before:.2f} > 1 before {name} at "
                    f"{threads} thread(s)")
            r = measure(name, trainings, threads, x, y, args)
            r["load_before"] = before
            records.append(r)
            loads.append({"model": name, "threads": threads, "before": before,
                          "after": r["load_after"]})
            say("  " + line(r))
            say(f"  load average {before:.2f} before, {r['load_after']:.2f} after")
        done.append(name)
        del trainings
        write(final=False)
    say("")
    say(f"Medians (min) of {args.calls} calls after {args.warmup} warm-up, ms; "
        "forward = the training's loss function alone; (v−ste)/fwd = the extra time "
        "in forward passes. Load average "
        f"{load_before:.2f} at the start, {load_average():.2f} at the end.")
    say("")
    say(table(records))
    say("")
    say("checks: " + ", ".join(f"{c['model']} {'ok' if c['ok'] else 'FAILED'}"
                              for c in checks))
    say(f"fogzo_cost.py: {time.perf_counter() - wall0:.1f} s")
    write(final=True)
    return 0 if all(c["ok"] for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main(ARGS))
