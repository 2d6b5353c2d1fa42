#!/usr/bin/env bash
# Installs what cage needs to build and test, and nothing that is already there.
# Idempotent: with everything present it only runs dpkg queries. Works as root or
# as a user with sudo.
set -euo pipefail

packages=(
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools libomp-22-dev
  cmake ninja-build make gcc g++ python3 python3-numpy python3-pytest
  python3-torch python3-matplotlib python3-sklearn python3-tqdm pkgconf
  # OpenBLAS: the yardstick of bench/sgemm, and the libblas.so.3 that torch
  # uses in bench/step and the gradient checks.
  libopenblas0-pthread libopenblas-pthread-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "setup.sh: missing packages (${missing[*]}) and neither root nor sudo" >&2
  exit 1
fi

echo "setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
