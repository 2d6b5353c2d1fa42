#!/bin/sh
# The GPU bundle of cage (made by `make gpu-bundle`, docs/GPU.md): on a
# machine with an NVIDIA GPU and driver, nothing else of cage, LLVM or MLIR.
#
#   ./run.sh [RESULTS]       (RESULTS: ./results)
#
# 1. every integration case on the GPU against the reference outputs made
#    by cage's C reference: PASS or FAIL per family, the details in
#    RESULTS/FAMILY.txt;
# 2. the fused CAGE-AdamW step against a device-to-device copy
#    (RESULTS/fused-step.json), and PyTorch's fused AdamW with an eager CAGE
#    correction where PyTorch with CUDA is installed (RESULTS/torch.json).
# Exit status 1 if a case failed. CAGE_LIBCUDA names another driver library;
# FUSED_STEP_FLAGS are fused-step's flags (default: N = 2^24 ... 2^28, 20
# calls each).
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/results}
mkdir -p "$out"
status=0
for d in "$here"/cases/*/; do
  family=$(basename "$d")
  mkdir -p "$d/gpu"
  if "$d/gpu-driver" "$d" --compare > "$out/$family.txt" 2>&1; then
    echo "PASS $family: $(tail -n 1 "$out/$family.txt")"
  else
    echo "FAIL $family: $(tail -n 1 "$out/$family.txt") (see $out/$family.txt)"
    status=1
  fi
done
# shellcheck disable=SC2086
if "$here/bench/fused-step" ${FUSED_STEP_FLAGS:-} > "$out/fused-step.json" 2> "$out/fused-step.err"; then
  cat "$out/fused-step.json"
else
  echo "FAIL fused-step: $(cat "$out/fused-step.err")"
  status=1
fi
if python3 -c "import sys, torch; sys.exit(not torch.cuda.is_available())" 2> /dev/null; then
  python3 "$here/bench/torch_adamw.py" > "$out/torch.json" && cat "$out/torch.json"
else
  echo "no PyTorch with CUDA here: the comparison with torch.optim.AdamW(fused=True) is skipped"
fi
exit $status
