"""What whole_step.py and fogzo_cost.py share: the process they time in, the
command-line options they have in common, the log, and the cage.nn models.

Both scripts import this module first, before numpy and cage: they parse
their options and re-execute themselves (ensure_environment) before
anything loads an OpenMP runtime or the cage library. So this module uses
only the standard library at import time; what needs numpy or cage
imports it inside the function.

One builder serves both scripts, so that fogzo_cost.py times FOGZO on
whole_step.py's W4A4 models (the same shapes, weights and batch).
"""

import argparse
import ctypes
import json
import os
import platform
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
LIBOMP = "/usr/lib/llvm-22/lib/libomp.so"
# --malloc retain: glibc keeps freed memory in the heap instead of returning
# it to the kernel (munmap of mmapped blocks, trimming the top of the heap),
# so that a call's buffers reuse pages that are already mapped.
MALLOC_RETAIN = {"MALLOC_MMAP_THRESHOLD_": str(256 << 20),
                 "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}

# name -> (full shapes, quick shapes)
SHAPES = {
    "mlp": ({"batch": 256, "sizes": [784, 1024, 1024, 10]},
            {"batch": 64, "sizes": [196, 256, 256, 10]}),
    "block": ({"batch": 16, "seq": 128, "dim": 256, "heads": 4, "classes": 256},
              {"batch": 4, "seq": 32, "dim": 64, "heads": 4, "classes": 64}),
}


# ---------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------


def argument_parser(doc):
    """The parser with the options that open both scripts' --help: which
    models, at which thread counts, and --quick. The description is the
    first line of the script's docstring."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="small shapes, 3 calls, 1 warm-up (for development)")
    p.add_argument("--models", default="mlp,block")
    p.add_argument("--threads", default="1,2")
    return p


def add_process_arguments(p, memory_help, malloc_help):
    """--memory-limit-gb and --malloc, read by limit_memory and
    ensure_environment; the help is the script's, which words them for what
    it runs (whole_step.py explains them at length)."""
    p.add_argument("--memory-limit-gb", type=float, default=12.0, help=memory_help)
    p.add_argument("--malloc", choices=("default", "retain"), default="default",
                   help=malloc_help)


def add_output_arguments(p, stem, no_reexec_help):
    """--build (the cage library unless $CAGE_LIBRARY is set), --json and
    --txt (by default bench/results/<stem>.* or <stem>-quick.*: see
    parse_args) and --no-reexec, the options that close both scripts'
    --help."""
    p.add_argument("--build", default=os.path.join(REPO, "build-ad"),
                   help="the build whose lib/libCAGE-C.so is used (unless "
                   "$CAGE_LIBRARY is set)")
    p.add_argument("--json", help=f"default bench/results/{stem}.json "
                   f"(--quick: {stem}-quick.json)")
    p.add_argument("--txt", help=f"the printed log; default bench/results/{stem}.txt "
                   f"(--quick: {stem}-quick.txt)")
    p.add_argument("--no-reexec", action="store_true", help=no_reexec_help)


def parse_args(p, stem):
    """The options, with what --quick implies filled in: 3 calls after 1
    warm-up instead of 20 after 2, and the -quick results files. Lists are
    split; an unknown model is an error (the script's own lists, such as
    whole_step.py's --variants, are left to it)."""
    a = p.parse_args()
    a.calls = a.calls or (3 if a.quick else 20)
    a.warmup = a.warmup if a.warmup is not None else (1 if a.quick else 2)
    a.models = [m for m in a.models.split(",") if m]
    a.threads = [int(t) for t in a.threads.split(",") if t]
    for m in a.models:
        if m not in SHAPES:
            p.error(f"unknown model {m!r} (mlp, block)")
    results = os.path.join(REPO, "bench", "results")
    stem = stem + "-quick" if a.quick else stem
    a.json = a.json or os.path.join(results, stem + ".json")
    a.txt = a.txt or os.path.join(results, stem + ".txt")
    return a


# ---------------------------------------------------------------------------
# The process
# ---------------------------------------------------------------------------


def ensure_environment(args, unset=()):
    """Re-executes the script with libomp preloaded, KMP_BLOCKTIME=0, the
    malloc settings of --malloc, $CAGE_LIBRARY set from --build, and without
    the variables named in unset, unless that is already so. The dynamic
    loader and glibc read these at start, so only a new process gets them;
    call it before anything loads an OpenMP runtime."""
    env = dict(os.environ)
    changed = False
    if not args.no_reexec and LIBOMP not in env.get("LD_PRELOAD", "").split(":"):
        env["LD_PRELOAD"] = ":".join(x for x in (LIBOMP, env.get("LD_PRELOAD")) if x)
        changed = True
    if env.get("KMP_BLOCKTIME") is None:
        env["KMP_BLOCKTIME"] = "0"
        changed = True
    for var in unset:
        if var in env:
            del env[var]
            changed = True
    for var, value in MALLOC_RETAIN.items():
        want = value if args.malloc == "retain" else None
        if env.get(var) != want:
            if want is None:
                del env[var]
            else:
                env[var] = want
            changed = True
    if "CAGE_LIBRARY" not in env:
        env["CAGE_LIBRARY"] = os.path.join(os.path.abspath(args.build), "lib", "libCAGE-C.so")
        changed = True
    if changed:
        sys.stdout.flush()
        os.execve(sys.executable, [sys.executable] + sys.argv, env)


def limit_memory(gb):
    """Limits the address space of the process to gb GiB (0: no limit), so
    that a compile that runs away stops with 'LLVM ERROR: out of memory'
    instead of taking the machine's memory."""
    if gb > 0:
        limit = int(gb * (1 << 30))
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))


def start(args, unset=()):
    """What each script does first, before it imports numpy or cage:
    ensure_environment (which does not return when it re-executes),
    limit_memory, and the cage package of the source tree (python/) on the
    path."""
    ensure_environment(args, unset)
    limit_memory(args.memory_limit_gb)
    sys.path.insert(0, os.path.join(REPO, "python"))


class Threads:
    """The thread count of cage's compiled code: its parallel loops run on
    libomp (the preloaded copy: CDLL opens the same), whose pool follows
    omp_set_num_threads. whole_step.py adds torch's and OpenBLAS's."""

    def __init__(self):
        self.omp = ctypes.CDLL(LIBOMP)

    def set_threads(self, n):
        self.omp.omp_set_num_threads(n)


def cpu_model():
    """The CPU's model name, for the log and the JSON (timings are only
    comparable on the same CPU), with its family and model numbers, which
    tell CPUs apart where a VM shows a bare name ("AMD EPYC": family 25 is
    Zen 3/4, with one 512-bit FMA per cycle; family 26 Zen 5, with two)."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "cpu family", "model") and key not in fields:
                    fields[key] = value.strip()
                if not line.strip() and fields:
                    break
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or "unknown"
    if "cpu family" in fields and "model" in fields:
        name += f" (family {fields['cpu family']}, model {fields['model']})"
    return name


def load_average():
    """The 1-minute load average: above 1 on this 2-core VM, other processes
    take a core from the calls timed."""
    return os.getloadavg()[0]


# ---------------------------------------------------------------------------
# The log and the results
# ---------------------------------------------------------------------------

LOG = []


def say(*parts, **kw):
    """Prints a line and keeps it for the .txt log (write_results)."""
    line = " ".join(str(p) for p in parts)
    LOG.append(line)
    print(line, flush=True, **kw)


def write_results(args, result, done, final):
    """The JSON (result) and the log so far to --json and --txt; written
    after each model, so that a model that fails to compile keeps the
    others' results (the log then ends with the models done)."""
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    with open(args.txt, "w") as f:
        f.write("\n".join(LOG) + "\n")
        if not final:
            f.write("(incomplete: written after %s)\n" % ", ".join(done))


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------


def clock():
    """The time and the process's minor page faults so far: a call's
    faults are the fresh pages its allocations touch."""
    return time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def stats(samples):
    """Median, minimum and quartiles of samples in seconds, in ms."""
    import numpy as np
    a = np.array(samples) * 1e3
    return {"median_ms": float(np.median(a)), "min_ms": float(a.min()),
            "q1_ms": float(np.quantile(a, 0.25)), "q3_ms": float(np.quantile(a, 0.75))}


# ---------------------------------------------------------------------------
# The models
# ---------------------------------------------------------------------------


def build_cage_model(name, shapes, bits, attention="generic"):
    """(cage.nn model, input shape, number of classes) of model name at
    shapes (an entry of SHAPES), every Linear quantizing its weight and
    input to bits (None: float); from cnn.manual_seed(0), so that every call
    returns the same initial weights."""
    from cage import nn as cnn
    cnn.manual_seed(0)
    if name == "mlp":
        sizes = shapes["sizes"]
        layers = []
        for i in range(len(sizes) - 1):
            if i:
                layers.append(cnn.ReLU())
            layers.append(cnn.Linear(sizes[i], sizes[i + 1], weight_quantizer=bits,
                                     input_quantizer=bits))
        return cnn.Sequential(*layers), (shapes["batch"], sizes[0]), sizes[-1]
    d, h, c = shapes["dim"], shapes["heads"], shapes["classes"]
    model = cnn.Sequential(
        cnn.TransformerBlock(d, h, weight_quantizer=bits, input_quantizer=bits,
                             attention_impl=attention),
        cnn.Linear(d, c, weight_quantizer=bits, input_quantizer=bits))
    return model, (shapes["batch"], shapes["seq"], d), c


def make_batch(in_shape, classes, seed=1):
    """A fixed random batch: inputs, class indices (one per row of the
    output) and their one-hot rows (what cage.nn's cross-entropy takes)."""
    import numpy as np
    from cage import nn as cnn
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(in_shape).astype(np.float32)
    labels = rng.integers(0, classes, in_shape[:-1])
    return x, labels, cnn.one_hot(labels, classes)
