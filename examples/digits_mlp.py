"""A W4A4 MLP trained with CAGE-AdamW on scikit-learn's handwritten digits,
from Python, in seconds.

    python3 examples/digits_mlp.py [--epochs N] [--no-cage] [--save ckpt.npz]

The model is written with cage.nn (64 pixels -> 128 hidden units -> 10
classes, 4-bit weights and activations); cage-autodiff makes its training
step, which is compiled once and updates the parameters and the AdamW state
in place on every call. The digits (1797 8x8 images, bundled with Debian's
python3-sklearn) are split 80/20; the script prints the loss per epoch and
the test accuracy of the quantized model, and with --min-accuracy fails
below it (make demo and the tests use that).
"""

import argparse
import os
import sys
import time

import numpy as np

# From the source tree: the package the build put in build/python (its
# library path is recorded there), unless cage is importable already.
here = os.path.dirname(os.path.abspath(__file__))
for build in (os.environ.get("CAGE_BUILD"), os.path.join(here, "..", "build")):
    if build and os.path.isdir(os.path.join(build, "python", "cage")):
        sys.path.insert(0, os.path.join(build, "python"))
        break

import cage  # noqa: E402
from cage import nn  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--bits", type=int, default=4)
    ap.add_argument("--no-cage", action="store_true", help="plain QAT (STE, no correction)")
    ap.add_argument("--save", help="write the parameters and optimizer state (.npz)")
    ap.add_argument("--min-accuracy", type=float, default=0.0)
    ap.add_argument("--no-progress", action="store_true")
    opts = ap.parse_args()

    from sklearn.datasets import load_digits
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)  # pixels in [0, 1]
    y = digits.target
    order = np.random.default_rng(0).permutation(len(x))
    split = int(0.8 * len(x))
    train, test = order[:split], order[split:]

    nn.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    start = time.perf_counter()
    trainer = cage.compile_training(model, nn.CrossEntropyLoss(), (opts.batch, 64),
                                    optimizer=nn.AdamW(weight_decay=0.01),
                                    cage=not opts.no_cage, quant=opts.bits,
                                    overrides=nn.NO_DECAY_ON_BIASES_AND_NORMS)
    compiled = time.perf_counter()
    print(f"model: {model}")
    print(f"W{opts.bits}A{opts.bits}, {'CAGE-AdamW' if not opts.no_cage else 'AdamW (STE)'}, "
          f"compiled in {compiled - start:.1f} s")

    history = trainer.fit(x[train], nn.one_hot(y[train], 10), epochs=opts.epochs,
                          lr=opts.lr, progress=not opts.no_progress)
    trained = time.perf_counter()
    for epoch in sorted({0, len(history) // 2, len(history) - 1}):
        print(f"epoch {epoch + 1:3d}  loss {history[epoch]:.4f}")
    accuracy = float((trainer.predict(x[test]).argmax(1) == y[test]).mean())
    print(f"{trainer.t} steps in {trained - compiled:.2f} s "
          f"({1e3 * (trained - compiled) / trainer.t:.2f} ms per step)")
    print(f"test accuracy {accuracy:.4f} ({len(test)} images)")
    if opts.save:
        trainer.save(opts.save)
        print(f"saved to {opts.save}")
    if accuracy < opts.min_accuracy:
        print(f"FAIL: test accuracy below {opts.min_accuracy}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
