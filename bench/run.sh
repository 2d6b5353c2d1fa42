#!/bin/bash
# The CPU benchmarks of the fused CAGE-AdamW step, in one command:
#
#   bench/run.sh [--quick] [BUILD_DIR]
#
# 1. builds cage-compile and libCageReference in BUILD_DIR (default
#    build-bench; configured with CMake + Ninja, Release, if it is not yet),
# 2. generates the step MLIR (bench/gen_step.py) and compiles what is out of
#    date with cage-compile: fused (default pipeline), unfused
#    (--no-fuse-updates), the cage.update spelling and cage.update with bf16
#    optimizer state, each linked into a shared object in
#    BUILD_DIR/bench/steps,
# 3. builds cage-bench-cpu (bench/cpu) and runs its --verify mode,
# 4. runs cage-bench-cpu and bench/torch_step.py,
# 5. bench/report.py: the tables in docs/Performance.md and the plot
#    docs/img/bandwidth.png.
#
# Results go to bench/results (cpu.json, torch.json and the printed logs);
# with --quick (few rounds, a shorter sweep: for development) everything goes
# to BUILD_DIR/bench/quick instead and docs/ is left alone.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
# shellcheck source=bench/common/args.sh
source "$here/common/args.sh"
bench_parse_args "$0" 20 "$@"

python=/usr/bin/python3
llvm_lib=/usr/lib/llvm-22/lib
out="$build/bench"
steps="$out/steps"
if [ -n "$quick" ]; then
  results="$out/quick"
  doc="$results/Performance.md"
  plot="$results/bandwidth.png"
else
  results="$here/results"
  doc="$repo/docs/Performance.md"
  plot="$repo/docs/img/bandwidth.png"
fi
mkdir -p "$steps" "$out/obj" "$results" "$(dirname "$plot")"
start=$SECONDS
stage() { echo "== run.sh: $* ($((SECONDS - start)) s)"; }

stage "tools in $build"
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release
fi
ninja -C "$build" cage-compile CageReference
compiler="$build/bin/cage-compile"

stage "step MLIR"
# Writes gen_step.py's output to FILE only if it changed, so that the
# objects compiled from it stay up to date.
generate() {
  local file=$1
  shift
  "$python" "$here/gen_step.py" "$@" -o "$file.new"
  if cmp -s "$file.new" "$file"; then rm "$file.new"; else mv "$file.new" "$file"; fi
}
layouts="64x512x512 1x4096x4096"
sweep_shapes=""
for log2n in $(seq 16 26); do
  sweep_shapes="$sweep_shapes 1x$(((1 << log2n) / 1024))x1024"
done
for layout in $layouts; do
  generate "$steps/$layout.mlir" "$layout"
  generate "$steps/$layout.update.mlir" "$layout" --spelling update
  generate "$steps/$layout.bf16.mlir" "$layout" --spelling update --state bf16
done
# shellcheck disable=SC2086 # the shapes are separate arguments
generate "$steps/sweep.mlir" $sweep_shapes --per-shape --name sweep \
  --configs row_decoupled
# shellcheck disable=SC2086
generate "$steps/sweep.update.mlir" $sweep_shapes --per-shape --name sweep \
  --configs row_decoupled --spelling update
# shellcheck disable=SC2086
generate "$steps/sweep.bf16.mlir" $sweep_shapes --per-shape --name sweep \
  --configs row_decoupled --spelling update --state bf16

stage "compiled steps (cage-compile, $(nproc) at a time)"
# compile_step MLIR VARIANT SO: cage-compile with the variant's flags, then a
# shared object, unless SO is newer than the MLIR and the compiler.
compile_step() {
  local mlir=$1 variant=$2 so=$3 flags=""
  if [ "$so" -nt "$mlir" ] && [ "$so" -nt "$compiler" ] &&
    [ "$so" -nt "$build/lib/libCAGE-C.so" ]; then
    return 0
  fi
  [ "$variant" = unfused ] && flags="--no-fuse-updates"
  local t0=$SECONDS
  # shellcheck disable=SC2086
  "$compiler" "$mlir" -o "${so%.so}.o" $flags
  gcc -shared "${so%.so}.o" -o "$so" -L"$llvm_lib" -lomp -lm \
    -Wl,-rpath,"$llvm_lib"
  echo "   $(basename "$so"): $((SECONDS - t0)) s"
}
export -f compile_step
export compiler build llvm_lib
for base in $layouts sweep; do
  echo "$steps/$base.mlir fused $steps/$base.fused.so"
  echo "$steps/$base.mlir unfused $steps/$base.unfused.so"
  echo "$steps/$base.update.mlir update $steps/$base.update.so"
  echo "$steps/$base.bf16.mlir bf16 $steps/$base.bf16.so"
done | xargs -P "$(nproc)" -L 1 bash -c 'compile_step "$@"' _

stage "cage-bench-cpu"
cflags=(-std=c11 -O3 -march=native -ffp-contract=off -fno-math-errno -fopenmp
  -Wall -Wextra -pedantic -Werror -I"$repo/lib" -I"$repo/include"
  -I"$here/common")
objects=()
for src in "$here"/cpu/*.c "$here"/common/*.c; do
  obj="$out/obj/$(basename "${src%.c}").o"
  gcc "${cflags[@]}" -c "$src" -o "$obj"
  objects+=("$obj")
done
# Compiled with gcc -fopenmp (GOMP_* calls) but linked with libomp only,
# which implements them: one OpenMP runtime for the probe, the hand kernel
# and the compiled steps.
gcc "${objects[@]}" -o "$out/cage-bench-cpu" -L"$build/lib" -lCageReference \
  -Wl,-rpath,"$build/lib" -L"$llvm_lib" -lomp -Wl,-rpath,"$llvm_lib" -lm -ldl

stage "cage-bench-cpu --verify"
"$out/cage-bench-cpu" --verify >"$results/verify.txt" || {
  cat "$results/verify.txt"
  exit 1
}
tail -n 1 "$results/verify.txt"

stage "cage-bench-cpu"
"$out/cage-bench-cpu" --lib-dir "$steps" --json "$results/cpu.json" $quick |
  tee "$results/cpu.txt"

stage "torch_step.py"
"$python" "$here/torch_step.py" --lib-dir "$steps" \
  --json "$results/torch.json" $quick | tee "$results/torch.txt"

stage "report.py"
if [ -n "$quick" ]; then cp "$repo/docs/Performance.md" "$doc"; fi
"$python" "$here/report.py" --cpu "$results/cpu.json" \
  --torch "$results/torch.json" --doc "$doc" --plot "$plot" \
  --run-seconds $((SECONDS - start))
stage "done: $doc, $plot"
