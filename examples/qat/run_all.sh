#!/bin/sh
# The full QAT experiments of docs/QAT.md, then the report (tables and plots
# into docs/QAT.md and docs/img/qat/). Estimated times on a 2-core x86-64
# machine at OMP_NUM_THREADS=1 (estimates from short runs, docs/QAT.md):
# digits 5 min, ptq_cliff 7 min, quadratic 2-3 min, charlm about 5 h.
#
#   CAGE_LIBRARY=/path/to/libCAGE-C.so examples/qat/run_all.sh
#
# Environment: CAGE_LIBRARY (default build/lib/libCAGE-C.so of this tree),
# OUT (default examples/qat/results), PYTHON (default /usr/bin/python3),
# OMP_NUM_THREADS (default 1). Each script is run with --resume: run again
# after an interruption and it continues where it stopped.
set -eu
cd "$(dirname "$0")/../.."
OUT=${OUT:-examples/qat/results}
PYTHON=${PYTHON:-/usr/bin/python3}
: "${CAGE_LIBRARY:=$PWD/build/lib/libCAGE-C.so}"
: "${OMP_NUM_THREADS:=1}"
export CAGE_LIBRARY OMP_NUM_THREADS
LIBOMP=${CAGE_LIBOMP:-/usr/lib/llvm-22/lib/libomp.so}
if [ -e "$LIBOMP" ]; then
    LD_PRELOAD=$LIBOMP
    export LD_PRELOAD
fi

set -x
"$PYTHON" examples/qat/digits.py --out "$OUT" --resume
"$PYTHON" examples/qat/ptq_cliff.py --out "$OUT" --resume
"$PYTHON" examples/qat/quadratic.py --out "$OUT" --resume
"$PYTHON" examples/qat/charlm.py --out "$OUT" --resume
"$PYTHON" examples/qat/report.py --out "$OUT" --plots docs/img/qat --doc docs/QAT.md
