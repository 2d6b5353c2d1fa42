#!/bin/bash
# make gpu-bundle: a folder that checks and measures cage's GPU code on any
# machine with an NVIDIA GPU and driver, without LLVM, MLIR or this
# repository (docs/GPU.md, "The GPU bundle"):
#
#   scripts/gpu-bundle.sh BUILD [OUT]      (OUT: BUILD/gpu-bundle)
#
#   OUT/run.sh            runs it all: every case, then the benchmark
#   OUT/lib/              libcage-cuda-runtime.so
#   OUT/cases/FAMILY/     the integration harness's cases of FAMILY
#                         (test/Integration/CPU/Inputs/harness.py, and
#                         update_bf16_state.py for bf16 state): inputs,
#                         reference outputs of lib/Reference made here, and
#                         gpu-driver, the harness's driver linked with the
#                         cases' GPU host object (cage-compile --target=cuda)
#   OUT/bench/            fused-step (bench/gpu/main.c over gen_step.py's
#                         steps) and torch_adamw.py
#
# and OUT.tar.gz of it. GPU_BUNDLE_FAMILIES overrides the list of families.
set -euo pipefail
build=${1:?usage: gpu-bundle.sh BUILD [OUT]}
out=${2:-$build/gpu-bundle}
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)
python=/usr/bin/python3
cc=${CC:-cc}
inputs=$src/test/Integration/CPU/Inputs
families=${GPU_BUNDLE_FAMILIES:-quantize quantize_stochastic ste quant_error schedule optimizers update_adamw update_sgd update_bf16_state}
compile() { "$build/bin/cage-compile" --target=cuda "$@"; }

rm -rf "$out" "$out.tar.gz"
mkdir -p "$out/lib" "$out/cases" "$out/bench"
cp "$build/lib/libcage-cuda-runtime.so" "$out/lib/"
for family in $families; do
  d=$out/cases/$family
  echo "gpu-bundle: $family"
  generator=$inputs/harness.py
  if [ "$family" = update_bf16_state ]; then generator=$inputs/update_bf16_state.py; fi
  if [ "$generator" = "$inputs/harness.py" ]; then
    "$python" "$generator" gen "$family" "$d" "$build/lib/libCageReference.so" > /dev/null
  else
    "$python" "$generator" gen "$d" "$build/lib/libCageReference.so" > /dev/null
  fi
  compile "$d/module.mlir" -o "$d/module.o" --header "$d/module.h"
  "$python" "$generator" driver "$d/module.h" "$d/entries.inc"
  "$cc" -std=c11 -O1 -Wall -Wextra -Wno-unused-function -Werror -DCAGE_AOT_CUDA \
    -I"$d" -I"$src/lib/Tools" -I"$src/include" "$inputs/aot-driver.c" \
    "$src/lib/Tools/Npy.c" "$d/module.o" -L"$build/lib" -lcage-cuda-runtime \
    -Wl,-rpath,'$ORIGIN/../../lib' -lm -o "$d/gpu-driver"
  rm -rf "$d/module.o" "$d/module.h" "$d/entries.inc" "$d/fn" "$d/jit" "$d/aot" "$d/gpu"
done

echo "gpu-bundle: bench"
b=$out/bench
"$python" "$src/bench/gpu/gen_step.py" "$b/fused_step.mlir" "$b/fused_step_call.h"
compile "$b/fused_step.mlir" -o "$b/fused_step.o" --header "$b/fused_step.h"
"$cc" -std=c11 -O2 -Wall -Wextra -Werror -I"$b" -I"$src/include" \
  -I"$src/bench/common" "$src/bench/gpu/main.c" "$src/bench/common/clock.c" \
  "$b/fused_step.o" -L"$build/lib" -lcage-cuda-runtime \
  -Wl,-rpath,'$ORIGIN/../lib' -lm -o "$b/fused-step"
rm -f "$b/fused_step.o" "$b/fused_step.h" "$b/fused_step_call.h"
cp "$src/bench/gpu/torch_adamw.py" "$b/"
cp "$src/bench/gpu/run-bundle.sh" "$out/run.sh"
chmod +x "$out/run.sh"
tar -C "$(dirname "$out")" -czf "$out.tar.gz" "$(basename "$out")"
echo "gpu-bundle: $out ($(du -sh "$out" | cut -f1)), $out.tar.gz"
