#!/usr/bin/env python3
"""Checks what libCAGE-C.so and libCagePlugin.so export (nm -D --defined-only).

libCAGE-C.so may export only
  - C functions of the MLIR C API it carries (names `mlir...`), and
  - cage functions declared MLIR_CAPI_EXPORTED in a header under
    include/cage-c/ (the public API) or lib/ (the builder layer cage's own
    tests call);
and it must export every function of include/cage-c/. No C++ symbol (a
mangled `_Z...` name), no other C name. libCagePlugin.so exports exactly the
two MLIR plugin entry points.

Prints one line per problem (UNEXPECTED / MISSING) and a summary line.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

DECL = re.compile(r"MLIR_CAPI_EXPORTED[^;(){}#]*?\b(cage\w*)\s*\(")
C_NAME = re.compile(r"^(mlir|cage)\w*$")


def nm_tool():
    for tool in ("nm", "llvm-nm"):
        path = shutil.which(tool)
        if path:
            return path
    sys.exit("no nm or llvm-nm on the PATH")


def exported(lib):
    out = subprocess.run([nm_tool(), "-D", "--defined-only", lib],
                         check=True, capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            names.add(fields[2].split("@")[0])
    return names


def declared(root):
    names = set()
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f.endswith(".h"):
                with open(os.path.join(dirpath, f)) as h:
                    # The greedy match of the build's generator and this lazy
                    # one agree on one declaration per match.
                    names.update(DECL.findall(h.read()))
    return names


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lib", required=True)
    parser.add_argument("--plugin", required=True)
    parser.add_argument("--src", required=True)
    args = parser.parse_args()

    public = declared(os.path.join(args.src, "include", "cage-c"))
    internal = declared(os.path.join(args.src, "lib"))
    symbols = exported(args.lib)
    problems = 0
    counts = {"mlir": 0, "cage": 0}
    for s in sorted(symbols):
        if not C_NAME.match(s):
            print(f"UNEXPECTED: {s}")
            problems += 1
        elif s.startswith("cage"):
            if s not in public and s not in internal:
                print(f"UNEXPECTED: {s} (cage, in no header as MLIR_CAPI_EXPORTED)")
                problems += 1
            counts["cage"] += 1
        else:
            counts["mlir"] += 1
    for name in sorted(public - symbols):
        print(f"MISSING: {name}")
        problems += 1
    # The C API the README's examples and the tools need.
    for name in ("mlirContextCreate", "mlirGetDialectHandle__cage__",
                 "mlirPassManagerRunOnOp", "mlirRegisterAllDialects"):
        if name not in symbols:
            print(f"MISSING: {name}")
            problems += 1

    plugin = exported(args.plugin)
    for s in sorted(plugin ^ {"mlirGetDialectPluginInfo", "mlirGetPassPluginInfo"}):
        print(f"{'UNEXPECTED' if s in plugin else 'MISSING'}: {s} (plugin)")
        problems += 1

    print(f"libCAGE-C.so: {counts['mlir']} mlir, {counts['cage']} cage "
          f"({len(public)} public) symbols; plugin: {len(plugin)}; "
          f"{problems} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
