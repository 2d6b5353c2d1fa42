#!/usr/bin/env bash
# `make demo`: runs the training-step graphs in examples/ through cage-opt:
# parse and verify them, run cage-verify, and print what the compiler sees.
set -euo pipefail
build=${1:-build}
opt="$build/bin/cage-opt"
for f in examples/*.mlir; do
  echo "== $f: cage-verify"
  "$opt" --cage-verify "$f"
done
