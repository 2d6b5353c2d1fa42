"""Compares the cage passes that `cage-opt --help` lists with the passes that
docs/Passes.md documents.

Usage: passes_doc.py HELP_TEXT PASSES_MD

A pass is listed by --help on a line `--cage-<name>` at the indentation of
the pass list (options of a pass are indented further). It is documented by
a Markdown heading of docs/Passes.md that names it in backquotes
(## `cage-verify`, ### `cage-cpu-abi`, ## CPU code generation:
`cage-cpu-pipeline`). Exits 1, naming each difference, when the two sets
differ.
"""

import re
import sys


def listed_passes(help_text):
    lines = re.findall(r"^( +)--(cage-[a-z0-9-]+)\b", help_text, re.MULTILINE)
    if not lines:
        return set()
    indent = min(len(spaces) for spaces, _ in lines)
    return {name for spaces, name in lines if len(spaces) == indent}


def documented_passes(markdown):
    names = set()
    in_code = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code or not re.match(r"#{1,6} ", line):
            continue
        names.update(re.findall(r"`(cage-[a-z0-9-]+)`", line))
    return names


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        listed = listed_passes(f.read())
    with open(sys.argv[2], encoding="utf-8") as f:
        documented = documented_passes(f.read())
    if not listed:
        print("error: cage-opt --help lists no --cage-* pass")
        return 1
    status = 0
    for name in sorted(listed - documented):
        print(f"error: cage-opt --help lists `{name}`, but no heading of "
              f"docs/Passes.md documents it")
        status = 1
    for name in sorted(documented - listed):
        print(f"error: docs/Passes.md documents `{name}`, but cage-opt --help "
              f"does not list it")
        status = 1
    if status == 0:
        print("passes documented: " + " ".join(sorted(listed)))
    return status


if __name__ == "__main__":
    sys.exit(main())
