#!/usr/bin/env bash
# `make demo`: compiles the MLP training step of examples/ ahead of time with
# cage-compile, links it with its C driver, and trains the W4A4 MLP with
# CAGE-AdamW for 200 steps, printing the loss as it falls; then again with
# the AdamW moments in bf16 (examples/mlp_train_step_bf16.mlir) beside the
# f32 run, ending with both final losses. The example graphs go through
# cage-verify first. Then examples/digits_mlp.py trains a W4A4 MLP on
# scikit-learn's digits from Python (cage.nn, cage-autodiff). Last, the
# reduced digits experiment of docs/QAT.md (one seed, 10 epochs, W4A4 to
# W2A2): full precision, PTQ, STE, CAGE, FOGZO and FOGZO + CAGE, and its
# table.
set -euo pipefail
build=${1:-build}
bin="$build/bin"
out="$build/demo"
mkdir -p "$out"

for f in examples/*.mlir; do
  echo "== cage-opt --cage-verify $f"
  "$bin/cage-opt" --cage-verify "$f" > /dev/null && echo "ok"
done

for step in mlp_train_step mlp_train_step_bf16; do
  echo "== cage-compile examples/$step.mlir -o $out/$step.o --header $out/$step.h"
  "$bin/cage-compile" "examples/$step.mlir" -o "$out/$step.o" \
    --header "$out/$step.h"
done
libomp=/usr/lib/llvm-22/lib
cc -std=c11 -O2 -I"$out" examples/mlp_train.c "$out/mlp_train_step.o" \
  "$out/mlp_train_step_bf16.o" -o "$out/mlp_train" \
  -L"$libomp" -lomp -Wl,-rpath,"$libomp" -lm

echo "== $out/mlp_train: 200 steps of W4A4 CAGE-AdamW on a synthetic 4-class task"
"$out/mlp_train" --steps 200

echo "== $out/mlp_train --state both: the same with the AdamW moments in bf16"
echo "   (stochastic rounding), side by side with f32 from the same start"
"$out/mlp_train" --steps 200 --state both | grep -E '^(AdamW|step +(1|50|100|150|200) |final)'

# From Python: a W4A4 MLP on scikit-learn's digits, written with cage.nn,
# its training step made by cage-autodiff and compiled once.
echo "== python3 examples/digits_mlp.py: W4A4 CAGE-AdamW on scikit-learn's digits"
# Debian's interpreter, which has the python3-* packages setup.sh installs.
python=/usr/bin/python3
[ -x "$python" ] || python=python3
CAGE_BUILD="$build" "$python" examples/digits_mlp.py --no-progress --min-accuracy 0.9

echo "== python3 examples/qat/digits.py --quick: docs/QAT.md's digits experiment, reduced"
echo "   (one seed, 10 epochs: noisy smoke numbers; the full experiment's, 5 seeds, are in"
echo "   docs/QAT.md, and examples/qat/run_all.sh reproduces them)"
CAGE_LIBRARY="$(cd "$build" && pwd)/lib/libCAGE-C.so" OMP_NUM_THREADS=1 "$python" \
  examples/qat/digits.py --quick --out "$out/qat" \
  --methods fp,ptq,ste,cage-coupled,fogzo,fogzo-cage
