#!/bin/bash
# cage's single-precision matmul against OpenBLAS, in one command:
#
#   bench/sgemm/run.sh [--quick] [BUILD_DIR]
#
# 1. gen.py writes the MLIR of every configuration (shape x layout) and
#    configs.txt into BUILD_DIR/bench/sgemm/SET (SET: default or quick),
# 2. BUILD_DIR/bin/cage-compile compiles each one whose MLIR, compiler or
#    libCAGE-C changed into NAME.so (linked with -lomp); a failure leaves
#    cage-compile's message in NAME.err and the run goes on without it,
# 3. cc builds the driver, sgemm-bench (main.c and the files beside it),
# 4. sgemm-bench runs cage and cblas_sgemm alternately in one process, with
#    OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (OpenBLAS picks its own
#    kernel) and KMP_BLOCKTIME=0 (libomp's idle threads sleep at once rather
#    than spin on the cores OpenBLAS then needs),
# 5. bench/report.py: the sgemm tables of docs/Performance.md (between
#    <!-- report:sgemm --> markers) and docs/img/sgemm.png.
#
# Results: bench/results/sgemm.json and sgemm.txt. With --quick (a handful
# of small shapes, 5 calls each: for development) everything goes to
# BUILD_DIR/bench/sgemm/quick-results and docs/ is left alone. BUILD_DIR
# (default build-bench) must hold a built cage-compile: this script does not
# build the compiler (ninja -C BUILD_DIR cage-compile does).
# Exit status 1 when a configuration failed (error, compile) after
# everything was written.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bench=$(dirname "$here")
repo=$(dirname "$bench")
# shellcheck source=bench/common/args.sh
source "$bench/common/args.sh"
bench_parse_args "$0" 25 "$@"

python=/usr/bin/python3
llvm_lib=/usr/lib/llvm-22/lib
blas_lib=/usr/lib/x86_64-linux-gnu/openblas-pthread
blas_include=/usr/include/x86_64-linux-gnu/openblas-pthread
compiler="$build/bin/cage-compile"
capi="$build/lib/libCAGE-C.so"
if [ ! -x "$compiler" ]; then
  echo "run.sh: no $compiler: build it first (ninja -C $build cage-compile)" >&2
  exit 1
fi
out="$build/bench/sgemm"
if [ -n "$quick" ]; then
  set_name=quick
  results="$out/quick-results"
  doc="$results/Performance.md"
  plot="$results/sgemm.png"
else
  set_name=default
  results="$bench/results"
  doc="$repo/docs/Performance.md"
  plot="$repo/docs/img/sgemm.png"
fi
objects="$out/$set_name"
mkdir -p "$objects" "$out/obj" "$results" "$(dirname "$plot")"
start=$SECONDS
stage() { echo "== sgemm/run.sh: $* ($((SECONDS - start)) s)"; }

stage "MLIR ($set_name set) in $objects"
"$python" "$here/gen.py" --set "$set_name" --out-dir "$objects"

stage "cage-compile ($compiler, $(nproc) at a time)"
# compile_one NAME: NAME.mlir -> NAME.so unless NAME.so is newer than the
# MLIR, the compiler and libCAGE-C (which holds the compiler's code).
compile_one() {
  local name=$1 dir=$objects
  local mlir="$dir/$name.mlir" so="$dir/$name.so"
  if [ "$so" -nt "$mlir" ] && [ "$so" -nt "$compiler" ] &&
    { [ ! -e "$capi" ] || [ "$so" -nt "$capi" ]; }; then
    return 0
  fi
  rm -f "$so" "$dir/$name.err"
  if ! "$compiler" "$mlir" -o "$dir/$name.o" 2>"$dir/$name.err"; then
    echo "   $name: cage-compile FAILED: $(head -n 1 "$dir/$name.err")"
    return 0
  fi
  rm -f "$dir/$name.err"
  echo "   $name.so"
  gcc -shared "$dir/$name.o" -o "$so" -L"$llvm_lib" -lomp -lm \
    -Wl,-rpath,"$llvm_lib"
  rm -f "$dir/$name.o"
}
export -f compile_one
export compiler capi objects llvm_lib
cut -d' ' -f1 "$objects/configs.txt" |
  xargs -P "$(nproc)" -n 1 bash -c 'compile_one "$@"' _

stage "sgemm-bench"
cflags=(-std=c11 -O2 -Wall -Wextra -pedantic -Werror -I"$blas_include"
  -I"$bench/common")
driver_objects=()
for src in "$here"/*.c "$bench"/common/*.c; do
  obj="$out/obj/$(basename "${src%.c}").o"
  cc "${cflags[@]}" -c "$src" -o "$obj"
  driver_objects+=("$obj")
done
# libomp for omp_set_num_threads: the compiled objects' parallel loops run
# on it. OpenBLAS is the pthreads build, with its own threads.
cc "${driver_objects[@]}" -o "$out/sgemm-bench" \
  -L"$blas_lib" -lopenblas -Wl,-rpath,"$blas_lib" \
  -L"$llvm_lib" -lomp -Wl,-rpath,"$llvm_lib" -ldl -lpthread -lm

stage "sgemm-bench ($set_name)"
# OpenBLAS picks its kernel and cache sizes for this CPU only when nothing
# forces them; the thread counts are set by the driver, call by call.
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS \
  GOTO_NUM_THREADS OMP_NUM_THREADS
export KMP_BLOCKTIME=0
# OpenBLAS's workers sleep after 2^4 cycles of waiting instead of spinning
# for 2^28 (about 0.1 s) into cage's next call: the counterpart of
# KMP_BLOCKTIME=0.
export OPENBLAS_THREAD_TIMEOUT=4
status=0
"$out/sgemm-bench" --lib-dir "$objects" --json "$results/sgemm.json" \
  $quick | tee "$results/sgemm.txt" || status=$?

stage "report.py"
if [ -n "$quick" ]; then cp "$repo/docs/Performance.md" "$doc"; fi
"$python" "$bench/report.py" --sgemm "$results/sgemm.json" --doc "$doc" \
  --sgemm-plot "$plot"
stage "done: $results/sgemm.json, $results/sgemm.txt, $doc, $plot"
exit "$status"
