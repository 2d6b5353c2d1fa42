#!/bin/bash
# The whole QAT training step, cage against PyTorch eager, in one process:
#
#   bench/step/run.sh [--quick] [whole_step.py options...]
#
# Runs bench/step/whole_step.py with Debian's python3, the cage package of
# the source tree (python/) and libCAGE-C.so of build-ad/ (unless
# $CAGE_LIBRARY or --build names another). Without --quick it writes
# bench/results/step.json and step.txt; with --quick (small shapes, 3 calls)
# bench/results/step-quick.json and step-quick.txt. Examples:
#
#   bench/step/run.sh --quick                       # both models, 1 and 2 threads, ~1-2 min
#   bench/step/run.sh --models mlp --threads 2      # the full MLP at 2 threads, ~1 min
#   bench/step/run.sh                               # everything, 20 calls
#
# It compiles nothing but the MLIR of the models (cage.compile, in process).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
case "${1:-}" in
-h | --help)
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
  /usr/bin/python3 "$here/whole_step.py" --help
  exit 0
  ;;
esac
exec /usr/bin/python3 "$here/whole_step.py" "$@"
