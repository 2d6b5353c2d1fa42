#!/bin/sh
# The GPU half of an integration family of ../../CPU/Inputs/harness.py:
#
#   run_family.sh FAMILY DIR SRC OBJ PYTHON CC
#
# writes the family's cases and reference outputs into DIR, compiles them
# with cage-compile --target=cuda into a host object, builds the harness's
# AOT driver for it (aot-driver.c with -DCAGE_AOT_CUDA, linked with
# libcage-cuda-runtime.so), runs every call on the GPU (outputs in DIR/gpu)
# and compares them with the reference, bit for bit (harness.py check).
set -e
family=$1 dir=$2 src=$3 obj=$4 python=$5 cc=$6
inputs=$src/test/Integration/CPU/Inputs
"$python" "$inputs/harness.py" gen "$family" "$dir" "$obj/lib/libCageReference.so"
cage-compile --target=cuda "$dir/module.mlir" -o "$dir/module.o" --header "$dir/module.h"
"$python" "$inputs/harness.py" driver "$dir/module.h" "$dir/entries.inc"
"$cc" -std=c11 -O1 -Wall -Wextra -Wno-unused-function -Werror -DCAGE_AOT_CUDA \
  -I"$dir" -I"$src/lib/Tools" -I"$src/include" "$inputs/aot-driver.c" \
  "$src/lib/Tools/Npy.c" "$dir/module.o" -L"$obj/lib" -lcage-cuda-runtime \
  -Wl,-rpath,"$obj/lib" -lm -o "$dir/gpu-driver"
if [ "${RUN_FAMILY_BUILD_ONLY:-0}" = 1 ]; then exit 0; fi
"$dir/gpu-driver" "$dir"
"$python" "$inputs/harness.py" check "$dir" gpu
