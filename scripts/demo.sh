#!/usr/bin/env bash
# `make demo`: compiles the MLP training step of examples/ ahead of time with
# cage-compile, links it with its C driver, and trains the W4A4 MLP with
# CAGE-AdamW for 200 steps, printing the loss as it falls. The example graphs
# go through cage-verify first.
set -euo pipefail
build=${1:-build}
bin="$build/bin"
out="$build/demo"
mkdir -p "$out"

for f in examples/*.mlir; do
  echo "== cage-opt --cage-verify $f"
  "$bin/cage-opt" --cage-verify "$f" > /dev/null && echo "ok"
done

echo "== cage-compile examples/mlp_train_step.mlir -o $out/step.o --header $out/mlp_train_step.h"
"$bin/cage-compile" examples/mlp_train_step.mlir -o "$out/step.o" \
  --header "$out/mlp_train_step.h"
libomp=/usr/lib/llvm-22/lib
cc -std=c11 -O2 -I"$out" examples/mlp_train.c "$out/step.o" -o "$out/mlp_train" \
  -L"$libomp" -lomp -Wl,-rpath,"$libomp" -lm

echo "== $out/mlp_train: 200 steps of W4A4 CAGE-AdamW on a synthetic 4-class task"
"$out/mlp_train" --steps 200
