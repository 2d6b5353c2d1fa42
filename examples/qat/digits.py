#!/usr/bin/python3
"""Experiment 1 of docs/QAT.md: the digits MLP at W4A4, W3A3 and W2A2.

scikit-learn's handwritten digits (load_digits: 1797 8x8 images, pixels
/ 16), split once by a fixed permutation (numpy default_rng(0)) into 60%
train, 20% validation, 20% test. The model is an MLP 64 -> 128 -> 10 (ReLU)
written with cage.nn; at WbAb every Linear quantizes its weight per row
(output channel) and its input per token (row) to b bits (cage's default
quantizer: absmax, int grid, round to nearest), the first layer's input (the
pixels) included. Training: Trainer.fit, batch 64, constant lr 3e-3, AdamW
(betas 0.9, 0.95, weight decay 0.01, none on biases), 50 epochs (800 steps).

Methods (common.METHODS): full precision, PTQ (the FP model's weights
through the quantized model, no retraining), STE-AdamW (QAT without the
correction), CAGE coupled and decoupled (silence 0.8, lambda from a sweep on
the validation split, 10 unless the sweep says otherwise). Seeds 0..4 set
the initialisation and the data order; the number reported is test accuracy.

    digits.py [--quick] [--out DIR] [--methods fp,ptq,ste,...] [--bits 4,3,2]
              [--seeds 5] [--lambdas 1,3,10,30] [--sweep-seeds 3]
              [--sweep-margin 0.005]
              [--epochs 50] [--lr 3e-3] [--hidden 128] [--resume]

ptq_cliff.py runs the same task at bit widths 8..2.
"""

import argparse
import sys
import time

import common
from common import nn, np

SPLIT_SEED = 0
SPLIT = (0.6, 0.2, 0.2)


def digits_split():
    """x (float32, pixels / 16), y, and the fixed train / val / test row
    indices (60/20/20 of a permutation by default_rng(0))."""
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(x))
    n_train = int(round(SPLIT[0] * len(x)))
    n_val = int(round(SPLIT[1] * len(x)))
    return x, y, {"train": order[:n_train], "val": order[n_train:n_train + n_val],
                  "test": order[n_train + n_val:]}


class DigitsTask:
    metric = "accuracy"
    higher_is_better = True

    def __init__(self, args):
        self.args = args
        self.x, self.y, self.split = digits_split()
        self.y1 = nn.one_hot(self.y, 10)
        self.trainers = {}
        self.evaluators = {}

    def build(self, seed):
        nn.manual_seed(seed)
        return nn.Sequential(nn.Linear(64, self.args.hidden), nn.ReLU(),
                             nn.Linear(self.args.hidden, 10))

    def trainer(self, method, bits, lam):
        key = (method.name, bits, lam)
        if key not in self.trainers:
            self.trainers[key] = common.compile_trainer(
                self.build(0), (self.args.batch, 64), method, bits, lam, self.args,
                nn.NO_DECAY_ON_BIASES_AND_NORMS)
        return self.trainers[key]

    def prepare(self, method, bits, lam):
        self.trainer(method, bits, lam)

    def release(self, method, bits, lam):
        self.trainers.pop((method.name, bits, lam), None)

    def train(self, method, bits, lam, seed, cond, phase):
        tr = self.trainer(method, bits, lam)
        common.reinitialize(tr, self.build(seed))
        rows = self.split["train"]
        tr.fit(self.x[rows], self.y1[rows], epochs=self.args.epochs, lr=self.args.lr,
               rng=np.random.default_rng(seed), progress=False)
        return tr

    def evaluator(self, bits):
        """The quantized model's evaluation function (for PTQ)."""
        if bits not in self.evaluators:
            model = self.build(0)
            q = nn.Quantizer(bits=bits)
            for layer in (model[0], model[2]):
                layer.weight_quantizer = layer.weight.quantizer = q
                layer.input_quantizer = q
            self.evaluators[bits] = common.Evaluator(model, (self.args.batch, 64))
        return self.evaluators[bits]

    def evaluate(self, tr, method, bits, cond, split):
        rows = self.split[split]
        if method.train == "fp" and method.quantized:
            ev = self.evaluator(bits)
            common.copy_parameters(ev.model, tr.model)
            logits = ev.outputs(self.x[rows])
        else:
            logits = tr.predict(self.x[rows])
        return {"accuracy": float((logits.argmax(1) == self.y[rows]).mean()),
                "steps": tr.t}


def add_arguments(ap, bits):
    common.add_common_arguments(
        ap, methods=["fp", "ptq", "ste", "cage-coupled", "cage-decoupled"], bits=bits,
        seeds=5, lambdas=[1, 3, 10, 30], sweep_seeds=3, margin=0.005)
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--hidden", type=int, default=128)


QUICK = {"seeds": 1, "epochs": 10, "lambdas": "3,10", "sweep_seeds": 1}


def tables(data):
    """[(caption, markdown)] of a result file's data."""
    recs = data["records"]
    bits = sorted({r["bits"] for r in recs if r["bits"] is not None}, reverse=True)
    out = [("test accuracy (%), mean ± std over seeds",
            common.method_table(recs, "accuracy", bits, digits=2, scale=100.0))]
    sw = common.sweep_table(data, "accuracy", digits=2, scale=100.0)
    if sw:
        out.append(("lambda sweep: validation accuracy (%), mean over the sweep seeds", sw))
    return out


def main(experiment="digits", bits=(4, 3, 2), quick=None, doc=None):
    ap = argparse.ArgumentParser(description=(doc or __doc__).split("\n\n")[0])
    add_arguments(ap, list(bits))
    args = common.finish_arguments(ap, ap.parse_args(), quick or QUICK)
    results = common.Results(args.out, experiment, common.settings_of(args), args.resume)
    t0 = time.perf_counter()
    common.run_experiment(DigitsTask(args), args, results)
    for caption, table in tables(results.data):
        print("\n%s:\n%s" % (caption, table))
    print("\n%s: %.0f s; results in %s" % (experiment, time.perf_counter() - t0, results.path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
