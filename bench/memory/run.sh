#!/bin/bash
# Peak heap memory of the generated training step of examples/mlp.mlir, as
# cage-autodiff makes it by default (forward values saved for the backward)
# and with `remat=true` (cheap element-wise forward values recomputed in the
# backward), each compiled with the allocations hoisted to the entry (the
# default of cage-cpu-pipeline) and where they are needed
# (--no-hoist-allocations), at the example's shapes and at
# 784 -> 1024 -> 10, batch 256.
#
#   bench/memory/run.sh [BUILD]     (default: build)
#
# For each: cage-opt --cage-autodiff[=remat=true], cage-compile (which runs
# the CPU pipeline), a driver that wraps malloc and free (peak.c) and calls
# @mlp_train_step_inplace three times; prints the peak bytes the compiled
# code holds during a call, next to the bytes of the caller's arrays.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
libomp=/usr/lib/llvm-22/lib/libomp.so

# examples/mlp.mlir at batch B, IN inputs, HIDDEN units, OUT classes.
shapes() {
  sed -e "s/^!x = .*/!x = tensor<$1x$2xf32>/" -e "s/^!y = .*/!y = tensor<$1x$4xf32>/" \
      -e "s/^!w1 = .*/!w1 = tensor<$3x$2xf32>/" -e "s/^!w2 = .*/!w2 = tensor<$4x$3xf32>/" \
      -e "s/^!h = .*/!h = tensor<$1x$3xf32>/" \
      -e "s/tensor<64xf32>/tensor<$1xf32>/g" \
      -e "s/%batch = arith.constant 64.0/%batch = arith.constant $1.0/" \
      "$src/examples/mlp.mlir"
}

printf '%-24s %-7s %-9s %14s %14s %10s\n' shape policy buffers "step peak (B)" "arrays (B)" loss
for config in "64 16 32 4" "256 784 1024 10"; do
  set -- $config
  shapes "$@" > "$work/mlp.mlir"
  for policy in saved remat; do
    option=""
    [ "$policy" = remat ] && option="=remat=true"
    "$build/bin/cage-opt" "--cage-autodiff$option" "$work/mlp.mlir" -o "$work/step.mlir"
    for buffers in hoisted in-place; do
      flag=""
      [ "$buffers" = in-place ] && flag="--no-hoist-allocations"
      "$build/bin/cage-compile" $flag "$work/step.mlir" -o "$work/step.o" --header "$work/step.h"
      cc -std=c11 -O2 -I"$work" "$here/peak.c" "$work/step.o" -o "$work/peak" \
         -Wl,--wrap=malloc,--wrap=free "$libomp" -lm -Wl,-rpath,"$(dirname "$libomp")"
      read -r peak arrays loss < <("$work/peak" "$@")
      printf '%-24s %-7s %-9s %14s %14s %10s\n' "$1x$2 -> $3 -> $4" "$policy" "$buffers" \
        "$peak" "$arrays" "$loss"
    done
  done
done
