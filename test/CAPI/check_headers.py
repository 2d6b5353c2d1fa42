#!/usr/bin/env python3
"""Checks that every public C header compiles on its own as strict C11.

For each header under the given directories (recursively), in sorted order:
  1. a translation unit that includes just that header compiles with
     `-std=c11 -Wall -Wextra -pedantic -Werror -Wstrict-prototypes
     -fsyntax-only`: the header is self-contained and warning-free C;
  2. the same with the header included twice compiles: redefinitions (enums,
     structs) are guarded;
  3. including it twice preprocesses (with -dD, #defines kept) to the same
     non-blank lines as including it once: the header has an include guard
     (or #pragma once), even where a second copy would still compile
     (prototypes, typedefs and identical macros may repeat in C11).

Headers are included as `#include "<path>"`, the path relative to the first
--include directory that contains them (the name users write). Prints one line
per header and stops with a non-zero exit status at the first failure, after
printing the failing translation unit and the compiler's output.
"""

import argparse
import os
import shlex
import subprocess
import sys

# -Wstrict-prototypes on top: `int f();` in a C API header is a K&R
# declaration that takes any arguments (and means `(void)` only from C23).
FLAGS = [
    "-std=c11",
    "-Wall",
    "-Wextra",
    "-pedantic",
    "-Werror",
    "-Wstrict-prototypes",
]

# -pedantic rejects an empty translation unit; a header that only defines
# macros must still pass, so every unit ends with one declaration.
TRAILER = "typedef int check_headers_translation_unit_is_not_empty;\n"


def find_headers(roots):
    headers = []
    for root in roots:
        if os.path.isfile(root):
            headers.append(os.path.abspath(root))
            continue
        if not os.path.isdir(root):
            sys.exit(f"error: {root}: no such file or directory")
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in filenames:
                if name.endswith(".h"):
                    headers.append(os.path.abspath(os.path.join(dirpath, name)))
    return sorted(set(headers))


def include_name(header, include_dirs):
    for directory in include_dirs:
        directory = os.path.abspath(directory)
        if header.startswith(directory + os.sep):
            return os.path.relpath(header, directory).replace(os.sep, "/")
    return None


def significant_lines(text):
    """The non-blank lines of preprocessor output (compilers differ in the
    blank lines they leave for a skipped #include)."""
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def run(command, source):
    return subprocess.run(
        command, input=source, capture_output=True, text=True, check=False
    )


def fail(name, what, command, source, result):
    print(f"FAIL: {name}: {what}")
    print("command: " + shlex.join(command))
    print("translation unit:")
    sys.stdout.write("".join("  " + line + "\n" for line in source.splitlines()))
    output = (result.stdout + result.stderr) if result is not None else ""
    if output:
        print("output:")
        sys.stdout.write(output if output.endswith("\n") else output + "\n")
    sys.stdout.flush()
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cc", required=True, help="C compiler (a command)")
    parser.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="DIR",
        help="include directory (-I), in order; repeatable",
    )
    parser.add_argument("roots", nargs="+", help="header directories or files")
    args = parser.parse_args()

    cc = shlex.split(args.cc)
    includes = [flag for d in args.include for flag in ("-I", d)]
    headers = find_headers(args.roots)
    if not headers:
        sys.exit("error: no headers found under " + " ".join(args.roots))

    for header in headers:
        name = include_name(header, args.include)
        if name is None:
            print(f"FAIL: {header}: not under any --include directory")
            return 1
        once = f'#include "{name}"\n' + TRAILER
        twice = f'#include "{name}"\n#include "{name}"\n' + TRAILER

        compile_cmd = cc + FLAGS + includes + ["-fsyntax-only", "-x", "c", "-"]
        result = run(compile_cmd, once)
        if result.returncode != 0:
            fail(name, "does not compile on its own", compile_cmd, once, result)
        result = run(compile_cmd, twice)
        if result.returncode != 0:
            fail(
                name,
                "does not compile when included twice",
                compile_cmd,
                twice,
                result,
            )

        # -dD keeps the #defines in the output, so that a header of macros
        # alone is checked too.
        preprocess_cmd = (
            cc + FLAGS + includes + ["-E", "-P", "-dD", "-x", "c", "-"]
        )
        first = run(preprocess_cmd, once)
        second = run(preprocess_cmd, twice)
        if first.returncode != 0 or second.returncode != 0:
            failed = second if second.returncode else first
            fail(name, "does not preprocess", preprocess_cmd, twice, failed)
        if significant_lines(first.stdout) != significant_lines(second.stdout):
            fail(
                name,
                "has no include guard: a second #include adds text",
                preprocess_cmd,
                twice,
                None,
            )
        print(f"PASS: {name}")
        sys.stdout.flush()

    print(f"checked {len(headers)} headers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
