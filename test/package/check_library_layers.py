#!/usr/bin/env python3
"""Checks that cage's libraries form a DAG in the order they are declared.

libCAGE-C.so is folded from CMake object libraries (lib/CMakeLists.txt adds
them bottom-up, docs/Design.md draws the layers). Each library may use what
the libraries on lower layers define, never what a library on its own or a
higher layer defines: the passes may call the dialect's C API and the builder
layer, but nothing below lib/CAPI may call Passes.c, the builder layer may not
call a pass, and so on.

The check reads the build tree: for each library, `nm` on its .o files (those
under lib/**/CMakeFiles/<library>.dir/ that compile_commands.json names) gives
the symbols it defines and the ones it leaves undefined. An undefined symbol
is a use of another library when its name is cage's (a C name `cage...`, the
dialect handle `mlirGetDialectHandle__cage__`, or a mangled C++ name with a
`cage` component such as `_ZN4mlir4cage...`) and a listed library defines it.
Everything else (MLIR, LLVM, libc) is ignored. A use that goes to a library on
the same or a higher layer is an UPWARD problem; a cage symbol that no listed
library defines is an UNKNOWN problem (a library missing from LAYERS below).
lib/Reference stands apart: it uses no cage library and none uses it.

Prints the uses between libraries, one line each, then the problems and a
summary line.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

# Bottom-up, as lib/CMakeLists.txt adds them; libraries on one layer are
# independent of each other (neither may use the other).
LAYERS = [
    # lib/CAPI/Pass: the pass shim (C++); lib/Dialect/Cage/IR: the ODS dialect
    ["CagePass", "CageDialectIR"],
    ["CageDialectCAPI"],  # lib/CAPI/Dialect: the dialect's C API
    ["CageIRBuilder"],  # lib/IR: the C builder layer and op queries
    ["CageTransforms"],  # lib/Dialect/Cage/Transforms: passes on the dialect
    ["CageConversionToLinalg", "CageConversionMathToArith"],  # lib/Conversion
    ["CageTargetCPU"],  # lib/Target/CPU: the CPU pipeline, code generation
    ["CageTargetCUDA"],  # lib/Target/CUDA: the GPU pipeline, on the CPU's front
    ["CAGE-C"],  # lib/CAPI: create/register functions, the JIT; libCAGE-C.so
    ["CagePlugin"],  # lib/CAPI/Plugin.cpp: libCagePlugin.so over libCAGE-C.so
]
STANDALONE = ["CageReference"]  # lib/Reference: libCageReference.so

DEFINED_STRONG = set("TDBRCGSi")
DEFINED_WEAK = set("WVu")
UNDEFINED = set("Uwv")
# A mangled name with a source name that starts with "cage" (the namespace
# mlir::cage, a class or function named cage...).
CXX_CAGE = re.compile(r"(?<![0-9])([0-9]+)cage")


def is_cage_symbol(name):
    # cage's C functions and data, and the dialect handle of
    # MLIR_DEFINE_CAPI_DIALECT_REGISTRATION (mlirGetDialectHandle__cage__).
    if name.startswith("cage") or name.endswith("__cage__"):
        return True
    return name.startswith("_Z") and any(
        int(m.group(1)) >= 4 for m in CXX_CAGE.finditer(name))


def nm_tool():
    for tool in ("nm", "llvm-nm"):
        path = shutil.which(tool)
        if path:
            return path
    sys.exit("no nm or llvm-nm on the PATH")


def compiled_objects(build):
    """The object files the build compiles now, from compile_commands.json
    (the project exports it): a glob over CMakeFiles/ would also find the
    objects of sources that moved away since the tree was first built."""
    with open(os.path.join(build, "compile_commands.json")) as f:
        entries = json.load(f)
    objects = []
    for e in entries:
        output = e.get("output")
        if output is None:
            args = e.get("arguments") or shlex.split(e["command"])
            output = args[args.index("-o") + 1] if "-o" in args else None
        if output:
            objects.append(os.path.normpath(
                os.path.join(e.get("directory", build), output)))
    return objects


def library_objects(build, names):
    """{library: its object files}, those under .../CMakeFiles/<library>.dir/
    below build/lib."""
    lib_root = os.path.join(os.path.abspath(build), "lib") + os.sep
    found = {}
    for obj in compiled_objects(build):
        if not os.path.abspath(obj).startswith(lib_root):
            continue
        m = re.search(r"/CMakeFiles/([^/]+)\.dir/", obj)
        if m and m.group(1) in names:
            found.setdefault(m.group(1), []).append(obj)
    return found


def symbols(nm, objects):
    """(strong definitions, weak definitions, undefined) of the objects."""
    out = subprocess.run([nm, "-P"] + objects, check=True,
                         capture_output=True, text=True).stdout
    strong, weak, undefined = set(), set(), set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 2 or len(fields[1]) != 1:
            continue  # a file name header, or not a symbol line
        name, kind = fields[0], fields[1]
        if kind in DEFINED_STRONG:
            strong.add(name)
        elif kind in DEFINED_WEAK:
            weak.add(name)
        elif kind in UNDEFINED:
            undefined.add(name)
    return strong, weak, undefined


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build", help="the build tree (its lib/ is read)")
    args = parser.parse_args()

    level = {}
    for i, layer in enumerate(LAYERS):
        for lib in layer:
            level[lib] = i
    names = list(level) + STANDALONE
    objects = library_objects(args.build, set(names))
    nm = nm_tool()

    problems = []
    strong_by, weak_by, uses = {}, {}, {}
    for lib in names:
        if not objects.get(lib):
            sys.exit("%s: no object files under %s/lib/**/CMakeFiles/%s.dir "
                     "in compile_commands.json" % (lib, args.build, lib))
        missing = [o for o in objects[lib] if not os.path.exists(o)]
        if missing:
            sys.exit("%s: not built: %s" % (lib, ", ".join(missing)))
        strong, weak, undefined = symbols(nm, sorted(objects[lib]))
        for name in strong:
            strong_by.setdefault(name, set()).add(lib)
        for name in weak:
            weak_by.setdefault(name, set()).add(lib)
        uses[lib] = {name for name in undefined - strong - weak
                     if is_cage_symbol(name)}

    def rank(lib):
        return level.get(lib, -1)

    edges = {}
    for lib in names:
        for name in sorted(uses[lib]):
            # A strong definition wins; a weak-only one (an inline function)
            # counts in the lowest library that has it.
            definers = strong_by.get(name) or weak_by.get(name)
            if not definers:
                problems.append("UNKNOWN: %s uses %s, which no listed library "
                                "defines" % (lib, name))
                continue
            target = min(definers, key=rank)
            edges.setdefault((lib, target), []).append(name)

    for (user, used), syms in sorted(edges.items(),
                                     key=lambda e: (rank(e[0][0]), e[0])):
        print("%s -> %s (%d symbols, e.g. %s)"
              % (user, used, len(syms), syms[0]))
        if user in STANDALONE or used in STANDALONE:
            problems.append("STANDALONE: %s uses %s: %s"
                            % (user, used, ", ".join(syms)))
        elif level[used] >= level[user]:
            problems.append("UPWARD: %s (layer %d) uses %s (layer %d): %s"
                            % (user, level[user], used, level[used],
                               ", ".join(syms)))
    for p in problems:
        print(p)
    print("%d libraries, %d uses between them, %d problems"
          % (len(names), len(edges), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
