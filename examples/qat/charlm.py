#!/usr/bin/python3
"""Experiment 2 of docs/QAT.md: a character-level transformer LM, trained
from scratch at W4A4 and W3A3 (and full precision).

Corpus: the Python standard library's own sources as Debian ships them in
the package libpython3.11-stdlib: its top-level modules
/usr/lib/python3.11/*.py (the files that `dpkg-query -L libpython3.11-stdlib`
lists directly in /usr/lib/python3.11, less the generated, architecture-named
_sysconfigdata_*.py: 87 files, 2.4 MB in 3.11.2-6+deb12u6), read in sorted
path order as bytes (vocabulary: the 256 byte values; the
files are almost all ASCII, so bits per byte are bits per character). Split
by file: in that order, file i goes to `val` when i % 10 == 9 (the reported
validation loss), to `tune` when i % 10 == 8 (the lambda sweep), else to
`train`. Each split is its files concatenated. The file list, sizes and a
SHA-256 of each split are recorded in the result file.

Model (cage.nn): one-hot bytes -> Embedding(256, d) -> PositionalEmbedding
-> 2 pre-norm TransformerBlocks (d = 128, 4 heads, MLP 4d, GELU, LayerNorm)
-> LayerNorm -> Linear(d, 256), softmax cross-entropy on every position.
At WbAb every Linear (q, k, v, o, both MLP layers and the head) quantizes its
weight per row and its input per token to b bits; the embeddings, norms,
biases and the attention's own products (Q K^T, P V) stay in f32.

Training: AdamW (betas 0.9, 0.95, weight decay 0.1 on the Linear weights,
none on embeddings, biases, norms), lr 2e-3 with 100 warm-up steps and a
cosine to 2e-4, batches of 32 random windows of 64 bytes, 3000 steps; the
seed sets the initialisation and the windows. Evaluation: mean cross-entropy
over the non-overlapping 64-byte windows of a split (all of it, whole
batches), in bits per character; every --eval-every steps on --curve-batches
batches of windows spread evenly over the split (the curve in the result
file).

    charlm.py [--quick] [--out DIR] [--methods fp,ptq,ste,cage-coupled,cage-decoupled]
              [--bits 4,3] [--seeds 3] [--steps 3000] [--lambdas 3,10,30]
              [--sweep-seeds 1] [--dim 128] [--heads 4] [--blocks 2] [--seq 64]
              [--batch 32] [--lr 2e-3] [--resume] ...

The headline question: does W3A3 CAGE reach W4A4 STE? (printed at the end).
Compiling the training step of this model takes about a minute (per
method, bit width and lambda); each is compiled once and reused for every
seed.
"""

import argparse
import glob
import hashlib
import math
import os
import subprocess
import sys
import time

import common
from common import nn, np

PACKAGE = "libpython3.11-stdlib"
DIRECTORY = "/usr/lib/python3.11"
VOCAB = 256


def _generated(path):
    """The build configuration that Debian generates per architecture
    (_sysconfigdata__x86_64-linux-gnu.py and its link): not source text, and
    named after the architecture."""
    return os.path.basename(path).startswith("_sysconfigdata_")


def corpus_files():
    """The package's top-level .py files, sorted; falls back to the
    directory's files when dpkg-query is missing (recorded)."""
    try:
        out = subprocess.run(["dpkg-query", "-L", PACKAGE], check=True,
                             capture_output=True, text=True).stdout.split("\n")
        version = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", PACKAGE],
                                 check=True, capture_output=True, text=True).stdout
        files = sorted(p for p in out
                       if os.path.dirname(p) == DIRECTORY and p.endswith(".py")
                       and os.path.isfile(p) and not _generated(p))
        source = "%s %s (dpkg-query -L)" % (PACKAGE, version)
    except (OSError, subprocess.CalledProcessError):
        files = sorted(p for p in glob.glob(os.path.join(DIRECTORY, "*.py"))
                       if not _generated(p))
        source = "%s/*.py (dpkg-query unavailable: not only %s)" % (DIRECTORY, PACKAGE)
    if not files:
        raise SystemExit("no corpus: %s lists no %s/*.py" % (PACKAGE, DIRECTORY))
    return files, source


def load_corpus():
    files, source = corpus_files()
    parts = {"train": [], "tune": [], "val": []}
    listing = {"train": [], "tune": [], "val": []}
    for i, path in enumerate(files):
        split = "val" if i % 10 == 9 else "tune" if i % 10 == 8 else "train"
        with open(path, "rb") as f:
            parts[split].append(f.read())
        listing[split].append(os.path.basename(path))
    streams = {k: np.frombuffer(b"".join(v), np.uint8) for k, v in parts.items()}
    info = {"source": source, "files": listing,
            "bytes": {k: int(v.size) for k, v in streams.items()},
            "sha256": {k: hashlib.sha256(v.tobytes()).hexdigest() for k, v in streams.items()},
            "non_ascii_fraction": float(np.mean(np.concatenate(list(streams.values())) >= 128))}
    return streams, info


class CharLMTask:
    metric = "bpc"
    higher_is_better = False
    # The driver's splits: "val" (the sweep) is the corpus' tune split,
    # "test" (the reported number) its val split.
    SPLITS = {"val": "tune", "test": "val"}

    def __init__(self, args, streams):
        self.args = args
        self.streams = streams
        self.trainers = {}
        self.evaluators = {}
        self.windows = {k: self._windows(v) for k, v in streams.items() if k != "train"}

    def _windows(self, stream):
        """Non-overlapping windows: inputs stream[k S : k S + S], targets one
        byte later; as many as fill whole batches."""
        s, b = self.args.seq, self.args.batch
        n = ((len(stream) - 1) // s) // b * b
        starts = np.arange(n) * s
        return stream[starts[:, None] + np.arange(s + 1)]

    def build(self, seed):
        a = self.args
        nn.manual_seed(seed)
        layers = [nn.Embedding(VOCAB, a.dim), nn.PositionalEmbedding(a.seq, a.dim)]
        layers += [nn.TransformerBlock(a.dim, a.heads) for _ in range(a.blocks)]
        layers += [nn.LayerNorm(a.dim), nn.Linear(a.dim, VOCAB)]
        return nn.Sequential(*layers)

    def batch_shape(self):
        return (self.args.batch, self.args.seq, VOCAB)

    def trainer(self, method, bits, lam):
        key = (method.name, bits, lam)
        if key not in self.trainers:
            no_decay = {"weight_decay": 0.0}
            self.trainers[key] = common.compile_trainer(
                self.build(0), self.batch_shape(), method, bits, lam, self.args,
                {"@bias": no_decay, "@norm": no_decay, "@embedding": no_decay})
        return self.trainers[key]

    def evaluator(self, bits):
        """The quantized model's evaluation function with the loss (PTQ)."""
        if bits not in self.evaluators:
            model = self.build(0)
            q = nn.Quantizer(bits=bits)
            for _, layer in model.named_modules():
                if isinstance(layer, nn.Linear):
                    layer.weight_quantizer = layer.weight.quantizer = q
                    layer.input_quantizer = q
            self.evaluators[bits] = common.Evaluator(model, self.batch_shape(),
                                                     loss=nn.CrossEntropyLoss())
        return self.evaluators[bits]

    def bpc(self, loss_fn, split, batches=None):
        """Mean cross-entropy in bits per byte over the split's windows (all
        of them), or over `batches` batches of windows spread evenly over the
        split (the curve)."""
        w = self.windows[split]
        b = self.args.batch
        if batches is not None and batches < len(w) // b:
            w = w[np.linspace(0, len(w) - 1, batches * b).round().astype(np.int64)]
        n = len(w) // b
        total = 0.0
        for k in range(n):
            chunk = w[k * b:(k + 1) * b]
            total += loss_fn(nn.one_hot(chunk[:, :-1], VOCAB), nn.one_hot(chunk[:, 1:], VOCAB))
        return total / n / math.log(2.0)

    def prepare(self, method, bits, lam):
        self.trainer(method, bits, lam)

    def release(self, method, bits, lam):
        self.trainers.pop((method.name, bits, lam), None)

    def train(self, method, bits, lam, seed, cond, phase):
        a = self.args
        tr = self.trainer(method, bits, lam)
        common.reinitialize(tr, self.build(seed))
        tr.total_steps = a.steps
        stream = self.streams["train"]
        rng = np.random.default_rng([seed, 2])
        curve_split = self.SPLITS["val" if phase == "sweep" else "test"]
        curve, losses = [], []
        offsets = np.arange(a.seq + 1)
        for t in range(1, a.steps + 1):
            starts = rng.integers(0, len(stream) - a.seq - 1, a.batch)
            tok = stream[starts[:, None] + offsets]
            lr = common.lr_at(t, a.steps, a.lr, a.warmup, a.final_lr)
            losses.append(tr.step(nn.one_hot(tok[:, :-1], VOCAB), nn.one_hot(tok[:, 1:], VOCAB), lr))
            if not math.isfinite(losses[-1]):
                raise FloatingPointError("%s: loss %r at step %d" % (method.name, losses[-1], t))
            if t % a.eval_every == 0 or t == a.steps:
                curve.append({"step": t, "train_bpc": float(np.mean(losses)) / math.log(2.0),
                              "eval_bpc": self.bpc(tr.loss, curve_split, a.curve_batches)})
                losses = []
        return {"trainer": tr, "curve": curve}

    def evaluate(self, h, method, bits, cond, split):
        tr = h["trainer"]
        split = self.SPLITS[split]
        if method.train == "fp" and method.quantized:
            ev = self.evaluator(bits)
            common.copy_parameters(ev.model, tr.model)
            bpc = self.bpc(ev.loss, split)
        else:
            bpc = self.bpc(tr.loss, split)
        out = {"bpc": bpc, "split": split, "steps": tr.t}
        if method.train == "qat" or not method.quantized:
            out["curve"] = h["curve"]
        return out


QUICK = {"seeds": 1, "steps": 30, "bits": "4", "lambdas": "10", "blocks": 1, "seq": 32,
         "batch": 16, "warmup": 5, "eval_every": 10, "curve_batches": 2,
         "methods": "fp,ptq,ste,cage-decoupled"}


def tables(data):
    """[(caption, markdown)] of a result file's data."""
    recs = data["records"]
    bits = sorted({r["bits"] for r in recs if r["bits"] is not None}, reverse=True)
    out = [("validation bits per character, mean ± std over seeds",
            common.method_table(recs, "bpc", bits, digits=3))]
    sw = common.sweep_table(data, "bpc", digits=3)
    if sw:
        out.append(("lambda sweep: bits per character on the tune split, mean over the sweep "
                    "seeds", sw))
    head = headline(recs)
    if head:
        out.append(("does W3A3 CAGE reach W4A4 STE?", head))
    return out


def headline(recs):
    ste4 = [r["bpc"] for r in recs if r["method"] == "ste" and r["bits"] == 4]
    if not ste4:
        return ""
    m4, s4, n4 = common.mean_std(ste4)
    lines = ["| W3A3 method | bpc | W4A4 STE | difference | reaches W4A4 STE (mean) | "
             "within one std |", "|---|---|---|---|---|---|"]
    found = False
    for name in ("cage-coupled", "cage-decoupled"):
        v = [r["bpc"] for r in recs if r["method"] == name and r["bits"] == 3]
        if not v:
            continue
        found = True
        m3, s3, n3 = common.mean_std(v)
        spread = math.hypot(s3 or 0.0, s4 or 0.0)
        lines.append("| %s | %s | %s | %+.3f | %s | %s |" % (
            common.METHODS[name].label, common.format_mean_std(v, 3),
            common.format_mean_std(ste4, 3), m3 - m4, "yes" if m3 <= m4 else "no",
            ("yes" if m3 - m4 <= spread else "no") if n3 > 1 and n4 > 1 else "n/a (one seed)"))
    return "\n".join(lines) if found else ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_common_arguments(
        ap, methods=["fp", "ptq", "ste", "cage-coupled", "cage-decoupled"], bits=[4, 3],
        seeds=3, lambdas=[3, 10, 30], sweep_seeds=1)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--blocks", type=int, default=2)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--final-lr", type=float, default=0.1,
                    help="the cosine ends at this fraction of --lr (default %(default)s)")
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--curve-batches", type=int, default=16)
    args = common.finish_arguments(ap, ap.parse_args(), QUICK)
    streams, info = load_corpus()
    print("corpus: %s; bytes %s; non-ASCII %.4f%%" % (
        info["source"], info["bytes"], 100 * info["non_ascii_fraction"]), flush=True)
    settings = common.settings_of(args)
    settings["corpus"] = info
    results = common.Results(args.out, "charlm", settings, args.resume)
    t0 = time.perf_counter()
    common.run_experiment(CharLMTask(args, streams), args, results)
    for caption, table in tables(results.data):
        print("\n%s:\n%s" % (caption, table))
    print("\ncharlm: %.0f s; results in %s" % (time.perf_counter() - t0, results.path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
