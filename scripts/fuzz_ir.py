#!/usr/bin/env python3
"""A small structure-aware fuzzer for cage's tools (issue 10).

Bad input must never crash cage's tools: malformed IR, wrong shapes and
unsupported configurations get a diagnostic and a non-zero exit, never a signal
or an abort. This script keeps that true. It mutates the repository's own .mlir
test inputs (test/**/*.mlir split at `// -----`, examples/*.mlir) in ways that
matter for this compiler (static dimensions, element types, ranks, operands,
attribute values, keywords, op names, lines, truncation, byte noise), runs
each mutant through cage-opt (or cage-compile) with a pass pipeline drawn from
PIPELINES, and reports:

  crash  death by a signal (negative return code), or stderr containing one of
         CRASH_PATTERNS ("Stack dump", "LLVM ERROR", "Assertion", "UNREACHABLE",
         "AddressSanitizer", "runtime error:")
  hang   still running after --timeout seconds, and again after three times
         that (the second run rules out a loaded machine)

Crashes are minimized a little (lines deleted while the same crash remains),
deduplicated by their kind and top stack frames, and written to --crash-dir
with the command that reproduces them. Crashes in upstream MLIR that cage
cannot reach are excluded only through KNOWN_UPSTREAM, each with a reason and a
reproduction on stock mlir-opt (see docs/Fuzzing.md).

Mutant i of seed s depends only on (s, i, corpus): the run is deterministic
for a given seed and corpus whatever --jobs is. The last line but one is
`N mutants, N crashes, N hangs`; the exit status is 1 iff a crash or a hang was
found (2 for a usage error).

  scripts/fuzz_ir.py --tool-dir build/bin --seconds 600 --jobs 2 --seed 7 \\
      --crash-dir /tmp/fuzz-findings
  scripts/fuzz_ir.py --tool-dir build/bin --seed 7 --show-mutant 123   # print one
"""

import argparse
import concurrent.futures
import hashlib
import os
import random
import re
import resource
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---------------------------------------------------------------------------
# What is run: (tool, arguments, weight). `{out}` is a scratch output path.
# ---------------------------------------------------------------------------

PIPELINES = [
    ("cage-opt", [], 2),
    ("cage-opt", ["--mlir-print-op-generic"], 1),
    ("cage-opt", ["--cage-verify"], 3),
    ("cage-opt", ["--pass-pipeline=builtin.module(func.func(cage-verify{warn-only=true}))"], 2),
    ("cage-opt", ["--cage-fuse-correction"], 3),
    ("cage-opt", ["--pass-pipeline=builtin.module(func.func(cage-fuse-correction{ignore-signed-zeros=true}))"], 1),
    ("cage-opt", ["--cage-expand-update"], 3),
    ("cage-opt", ["--cage-expand-update", "--cage-fuse-correction"], 2),
    ("cage-opt", ["--cage-fuse-multi-tensor"], 3),
    ("cage-opt", ["--cage-fuse-correction", "--cage-fuse-multi-tensor", "--cage-lower-to-linalg"], 1),
    ("cage-opt", ["--cage-lower-to-linalg"], 4),
    ("cage-opt", ["--cage-lower-to-linalg", "--canonicalize"], 1),
    ("cage-opt", ["--cage-cpu-abi"], 1),
    ("cage-opt", ["--cage-cpu-tile", "--canonicalize"], 1),
    ("cage-opt", ["--pass-pipeline=builtin.module(cage-cpu-tile{threads=false vectorize=false})"], 1),
    ("cage-opt", ["--cage-cpu-check-lowered"], 1),
    ("cage-opt", ["--cage-cpu-pipeline"], 4),
    ("cage-opt", ["--pass-pipeline=builtin.module(cage-cpu-pipeline{vectorize=false threads=false})"], 1),
    ("cage-opt", ["--pass-pipeline=builtin.module(cage-cpu-pipeline{vector-width=8 fuse-elementwise=false})"], 1),
    ("cage-opt", ["--pass-pipeline=builtin.module(cage-cpu-pipeline{fuse-updates=false c-interface=false})"], 1),
    ("cage-compile", ["--emit=mlir", "-o", "-"], 1),
    ("cage-compile", ["--emit=obj", "-O1", "--no-threads", "-o", "{out}"], 1),
]

CRASH_PATTERNS = ["Stack dump", "LLVM ERROR", "Assertion", "UNREACHABLE",
                  "AddressSanitizer", "runtime error:"]

# ---------------------------------------------------------------------------
# Known upstream MLIR 22 crashes outside cage's reach. An exclusion applies
# only when its `frames` pattern matches the crash's stack, its `text` pattern
# (if any) matches the mutant, and no frame of the stack is in cage's code
# (libCAGE-C, or a cage tool beyond main). Each was reproduced with stock
# /usr/lib/llvm-22/bin/mlir-opt and an upstream-only input/pipeline; keep the
# reproduction in `repro` so that it can be checked again on a newer LLVM.
# ---------------------------------------------------------------------------


class Exclusion:
    """`message`, when given, must match the crash's stderr too: for crashes
    whose stack has no symbols (a stripped libMLIR frame) but whose
    "Stack dump" names where it happened."""

    def __init__(self, name, frames, text, reason, repro, message=None):
        self.name = name
        self.frames = re.compile(frames)
        self.text = re.compile(text) if text else None
        self.message = re.compile(message) if message else None
        self.reason = reason
        self.repro = repro


KNOWN_UPSTREAM = [
    Exclusion(
        "dense-array-of-index",
        frames=r"Parser::parseDenseArrayAttr",
        text=r"array<\s*index",
        reason="llvm-project #179045 (fixed upstream by PR #179075; the "
               "installed 22 still crashes): the builtin attribute parser "
               "segfaults on a dense array of index "
               "type (`array<index: 1>`): parseDenseArrayAttr asks the index "
               "type for its bit width. A mutant gets there by turning "
               "`operandSegmentSizes = array<i32: ...>` into index.",
        repro="printf 'func.func @f() attributes {a = array<index: 1>} {\\n  return\\n}\\n'"
              " | /usr/lib/llvm-22/bin/mlir-opt   # SIGSEGV"),
    Exclusion(
        "unranked-named-contraction",
        frames=r"",
        text=r"linalg\.(batch_)?matmul[\s\S]*tensor<\*x",
        message=r"MLIR Parser: custom op parser 'linalg\.(batch_)?matmul'"
                r"[\s\S]*could not cast operand|could not cast operand"
                r"[\s\S]*MLIR Parser: custom op parser "
                r"'linalg\.(batch_)?matmul'",
        reason="the parser of linalg.matmul and linalg.batch_matmul with "
               "explicit indexing_maps segfaults when an operand is an "
               "unranked tensor: the region builder warns that it 'could not "
               "cast operand of type f32 to tensor<*xf32>' and goes on with a "
               "null value (without indexing_maps the op reports an error). "
               "The crash is in the parser, before any cage pass runs.",
        repro="printf 'func.func @f(%%q: tensor<4x32x16xf32>, %%i: tensor<*xf32>)"
              " -> tensor<*xf32> {\\n  %%r = linalg.batch_matmul indexing_maps"
              " = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n,"
              " k) -> (b, n, k)>, affine_map<(b, m, n, k) -> (b, m, n)>] ins(%%q,"
              " %%q : tensor<4x32x16xf32>, tensor<4x32x16xf32>) outs(%%i :"
              " tensor<*xf32>) -> tensor<*xf32>\\n  return %%r :"
              " tensor<*xf32>\\n}\\n' | /usr/lib/llvm-22/bin/mlir-opt"
              "   # SIGSEGV"),
    Exclusion(
        "index-batch-matmul",
        frames=r"",
        text=r"linalg\.batch_matmul[\s\S]*xindex>",
        message=r"MLIR Parser: custom op parser 'linalg\.batch_matmul'",
        reason="the parser of linalg.batch_matmul segfaults when its operands "
               "are tensors of index (with or without indexing_maps), where "
               "linalg.matmul reports 'Cannot build binary Linalg operation: "
               "expects allComplex, allFloatingPoint, or allInteger'. The "
               "crash is in the parser, before any cage pass runs; a mutant "
               "gets there by changing the element type of the attention "
               "scores' batched product.",
        repro="printf 'func.func @f(%%q: tensor<4x32x16xindex>, %%i:"
              " tensor<4x32x32xindex>) -> tensor<4x32x32xindex> {\\n  %%r ="
              " linalg.batch_matmul ins(%%q, %%q : tensor<4x32x16xindex>,"
              " tensor<4x32x16xindex>) outs(%%i : tensor<4x32x32xindex>) ->"
              " tensor<4x32x32xindex>\\n  return %%r : tensor<4x32x32xindex>"
              "\\n}\\n' | /usr/lib/llvm-22/bin/mlir-opt   # SIGSEGV"),
]

# ---------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------

SPLIT_RE = re.compile(r"^// -----.*$", re.M)


def strip_comments(text):
    """Full-line comments (RUN/CHECK lines, prose, expected-* annotations) go."""
    lines = [l for l in text.split("\n") if not l.lstrip().startswith("//")]
    out = "\n".join(lines)
    out = re.sub(r"\n{3,}", "\n\n", out)
    return out.strip("\n") + "\n"


def load_corpus(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, names in os.walk(p):
                dirs.sort()
                for n in names:
                    if n.endswith(".mlir"):
                        files.append(os.path.join(root, n))
        elif os.path.isfile(p):
            files.append(p)
        else:
            raise SystemExit("fuzz_ir.py: no such corpus path: %s" % p)
    units = []
    for f in sorted(set(os.path.normpath(x) for x in files),
                    key=lambda x: os.path.relpath(x, REPO)):
        with open(f, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        rel = os.path.relpath(f, REPO)
        for k, chunk in enumerate(SPLIT_RE.split(text)):
            chunk = strip_comments(chunk)
            if not chunk.strip():
                continue
            units.append(["%s#%d" % (rel, k), chunk, rel])
            # Long modules (ops.mlir, the examples) also give one unit per
            # top-level function, with the attribute aliases before the first.
            lines = chunk.split("\n")
            starts = [i for i, l in enumerate(lines) if l.startswith("func.func")]
            if len(lines) > 120 and len(starts) > 1:
                head = lines[:starts[0]]
                for n, (a, b) in enumerate(zip(starts, starts[1:] + [len(lines)])):
                    units.append(["%s#%d.%d" % (rel, k, n),
                                  "\n".join(head + lines[a:b]).strip("\n") + "\n", rel])
    # A unit's weight is 1/sqrt(units of its file): the 200-odd small cases of
    # invalid.mlir do not drown the few valid modules.
    per_file = {}
    for u in units:
        per_file[u[2]] = per_file.get(u[2], 0) + 1
    return [(name, text, 1.0 / per_file[rel] ** 0.5) for name, text, rel in units]


# ---------------------------------------------------------------------------
# Mutators: each takes (rng, text, corpus) and returns the new text, or None
# where it does not apply.
# ---------------------------------------------------------------------------

INT_VALUES = ["0", "1", "-1", "2", "3", "7", "8", "9", "15", "16", "17", "31",
              "32", "33", "63", "64", "65", "128", "129", "1024", "65536",
              "2147483647", "2147483648", "4294967296", "4611686018427387904",
              "9223372036854775807", "-9223372036854775808",
              "18446744073709551616", "-4611686018427387904"]
FLOAT_VALUES = ["0.0", "-0.0", "1.0", "-1.0", "0.5", "2.0", "-2.0", "1.0e-45",
                "1.0e-30", "1.0e+38", "3.5e+38", "1.0e+300", "-1.0e+300",
                "0x7FC00000", "0x7F800000", "0xFF800000", "0xFFFFFFFF",
                "0x7FF8000000000000", "nan", "inf", "-inf"]
DIM_VALUES = ["0", "1", "2", "3", "7", "16", "129", "4611686018427387904",
              "9223372036854775807", "2147483648", "?"]
ELEMENT_TYPES = ["f32", "bf16", "f64", "f16", "i32", "i64", "i1", "i8",
                 "index"]
EXOTIC_ELEMENT_TYPES = ["f8E4M3FN", "complex<f32>", "vector<4xf32>", "i0",
                        "ui32", "none", "tf32"]
PARAM_KEYS = {
    "quantizer": ["bits", "granularity", "group_size", "scale", "levels",
                  "rotation", "block", "rounding"],
    "adamw": ["beta1", "beta2", "eps", "weight_decay"],
    "sgd": ["momentum", "dampening", "nesterov", "weight_decay"],
}
INT_KEYS = {"bits", "group_size", "block"}
FLOAT_KEYS = {"beta1", "beta2", "eps", "weight_decay", "momentum",
              "dampening", "lambda", "silence"}
KEYWORDS = {
    "granularity": ["tensor", "row", "group"],
    "scale": ["absmax", "rms_gaussian", "operand"],
    "levels": ["int", "centered"],
    "rounding": ["nearest", "stochastic"],
    "rotation": ["none", "hadamard"],
    "estimator": ["identity", "clipped"],
    "error": ["keep", "zero_clipped"],
    "coupling": ["coupled", "decoupled"],
    "kind": ["linear_ramp", "constant"],
    "schedule_kind": ["linear_ramp", "constant"],
}
ALL_KEYWORDS = sorted({w for ws in KEYWORDS.values() for w in ws}) + ["bogus", "true", "1"]
CAGE_OPS = ["quantize", "ste", "quant_error", "lambda_schedule", "adamw", "sgd",
            "update", "multi_update"]
CAGE_ATTRS = ["quantizer", "adamw", "sgd", "estimator", "error", "coupling",
              "schedule_kind"]
NOISE_CHARS = list("<>{}()[]%:,=?x*#@^!\"-.0123456789 \n") + ["\x00", "\xff", "\u00e9", "\t"]

SHAPED_RE = re.compile(r"\b(tensor|memref|vector)<([^<>]*)>")
SHAPE_BODY_RE = re.compile(r"^((?:(?:\d+|\?)x)*)(.*)$", re.S)
DIM_RE = re.compile(r"(?<=[<x])(\d+|\?)(?=x)")
ELT_RE = re.compile(r"(?:(?<=[^\w.%#@$!])|(?<=[0-9?]x))"
                    r"(f32|bf16|f64|f16|i1|i8|i16|i32|i64|index)\b")
OPERAND_LIST_RE = re.compile(r"%[\w.$-]+(?:#\d+)?(?:\s*,\s*%[\w.$-]+(?:#\d+)?)+")
SSA_RE = re.compile(r"%[\w.$-]+")
PARAM_RE = re.compile(r"\b(bits|group_size|block|beta1|beta2|eps|weight_decay|"
                      r"momentum|dampening|lambda|silence|nesterov)(\s*=\s*)"
                      r"([-+\w.]+)")
CONST_RE = re.compile(r"(arith\.constant\s+(?:dense<)?)([-+0-9.eExXa-fA-F]+|true|false)"
                      r"(>?\s*:\s*)([\w<>?x]+)")
KEYWORD_RE = re.compile(r"\b(granularity|scale|levels|rounding|rotation|estimator|"
                        r"error|coupling|kind)(\s*=\s*)(#cage\.\w+<)?(\w+)")
ATTR_KW_RE = re.compile(r"#cage\.(estimator|error|coupling|schedule_kind)<(\w+)>")
OPNAME_RE = re.compile(r"(?<![#\w])cage\.(quantize|ste|quant_error|lambda_schedule|"
                       r"adamw|sgd|update|multi_update)\b")
ATTRNAME_RE = re.compile(r"#cage\.(quantizer|adamw|sgd|estimator|error|coupling|"
                         r"schedule_kind)<")
ENTRY_RE = re.compile(r"(,\s*)?\b[a-z_0-9]+\s*=\s*(?:#cage\.\w+<[^<>]*>|[^,{}<>\n]+?)(?=\s*[,}>])")
PARAM_ATTR_RE = re.compile(r"#cage\.(quantizer|adamw|sgd)<")


def _pick(rng, matches):
    return rng.choice(matches) if matches else None


def _replace_span(text, start, end, new):
    return text[:start] + new + text[end:]


def mut_dim(rng, text, corpus):
    """One static/dynamic dimension to 0, 1, 7, huge or `?`: in one use, in
    every use of the same type, or every dimension of that size in every type
    (the last two keep the IR consistent and reach the passes)."""
    mode = rng.random()
    if mode < 0.3:
        m = _pick(rng, list(DIM_RE.finditer(text)))
        if not m:
            return None
        return _replace_span(text, m.start(), m.end(), rng.choice(DIM_VALUES))
    if mode < 0.65:
        m = _pick(rng, list(DIM_RE.finditer(text)))
        if not m:
            return None
        new = rng.choice(DIM_VALUES)
        return DIM_RE.sub(lambda x: new if x.group(0) == m.group(0) else x.group(0), text)
    m = _pick(rng, [m for m in SHAPED_RE.finditer(text) if DIM_RE.search(m.group(0))])
    if not m:
        return None
    old = m.group(0)
    d = _pick(rng, list(DIM_RE.finditer(old)))
    new = _replace_span(old, d.start(), d.end(), rng.choice(DIM_VALUES))
    return text.replace(old, new)


def mut_rank(rng, text, corpus):
    """Ranked <-> unranked (tensor<*xf32>), rank 0, a dimension more or less,
    two dimensions swapped; on one use or on every use of the type."""
    m = _pick(rng, list(SHAPED_RE.finditer(text)))
    if not m:
        return None
    kind, body = m.group(1), m.group(2)
    sm = SHAPE_BODY_RE.match(body)
    dims = [d for d in sm.group(1).split("x") if d]
    elt = sm.group(2)
    if elt.startswith("*x"):
        dims, elt = [], elt[2:]
        choice = "ranked"
    else:
        choice = rng.choice(["unranked", "rank0", "drop", "add", "swap"])
    if choice == "ranked":
        dims = [rng.choice(DIM_VALUES) for _ in range(rng.randint(1, 3))]
    elif choice == "unranked":
        new = "%s<*x%s>" % (kind, elt)
        dims = None
    elif choice == "rank0":
        dims = []
    elif choice == "drop" and dims:
        del dims[rng.randrange(len(dims))]
    elif choice == "add":
        dims.insert(rng.randint(0, len(dims)), rng.choice(DIM_VALUES))
    elif choice == "swap" and len(dims) >= 2:
        i, j = rng.sample(range(len(dims)), 2)
        dims[i], dims[j] = dims[j], dims[i]
    if dims is not None:
        new = "%s<%s%s>" % (kind, "".join(d + "x" for d in dims), elt)
    if rng.random() < 0.35:
        return _replace_span(text, m.start(), m.end(), new)
    return text.replace(m.group(0), new)


def mut_elt_type(rng, text, corpus):
    """f32 <-> bf16 <-> f64 <-> i32 ... on one use or every use."""
    m = _pick(rng, list(ELT_RE.finditer(text)))
    if not m:
        return None
    pool = ELEMENT_TYPES if rng.random() < 0.9 else EXOTIC_ELEMENT_TYPES
    new = rng.choice([t for t in pool if t != m.group(1)])
    if rng.random() < 0.35:
        return _replace_span(text, m.start(), m.end(), new)
    return ELT_RE.sub(lambda x: new if x.group(1) == m.group(1) else x.group(0), text)


def mut_operands(rng, text, corpus):
    """Drop, duplicate, swap or replace an operand of an operand list."""
    m = _pick(rng, list(OPERAND_LIST_RE.finditer(text)))
    if not m:
        return None
    items = [s.strip() for s in m.group(0).split(",")]
    op = rng.choice(["drop", "drop", "dup", "swap", "replace"])
    if op == "drop":
        del items[rng.randrange(len(items))]
    elif op == "dup":
        i = rng.randrange(len(items))
        items.insert(i, items[i])
    elif op == "swap":
        i, j = rng.sample(range(len(items)), 2)
        items[i], items[j] = items[j], items[i]
    else:
        names = sorted(set(SSA_RE.findall(text)))
        items[rng.randrange(len(items))] = rng.choice(names)
    return _replace_span(text, m.start(), m.end(), ", ".join(items))


def mut_ssa(rng, text, corpus):
    """One use of a value replaced by another value of the function."""
    ms = list(SSA_RE.finditer(text))
    if len(ms) < 2:
        return None
    m = rng.choice(ms)
    names = sorted(set(x.group(0) for x in ms))
    return _replace_span(text, m.start(), m.end(), rng.choice(names))


def _value_for(rng, key):
    if key == "nesterov":
        return rng.choice(["true", "false", "1", "0", "maybe"])
    if key in INT_KEYS:
        return rng.choice(INT_VALUES) if rng.random() < 0.8 else rng.choice(FLOAT_VALUES)
    return rng.choice(FLOAT_VALUES) if rng.random() < 0.8 else rng.choice(INT_VALUES)


def mut_param(rng, text, corpus):
    """An attribute parameter (bits, group_size, block, beta1, lambda, ...) to
    0, negative, NaN, infinite or huge."""
    m = _pick(rng, list(PARAM_RE.finditer(text)))
    if not m:
        return None
    return _replace_span(text, m.start(3), m.end(3), _value_for(rng, m.group(1)))


def mut_const(rng, text, corpus):
    """An arith.constant (lr, lambda, t, T, dimensions) to 0, negative, NaN,
    infinite or huge."""
    m = _pick(rng, list(CONST_RE.finditer(text)))
    if not m:
        return None
    ty = m.group(4)
    if re.search(r"(^|x|<)(f\d+|bf16)", ty):
        v = rng.choice(FLOAT_VALUES) if rng.random() < 0.85 else rng.choice(INT_VALUES)
    else:
        v = rng.choice(INT_VALUES) if rng.random() < 0.85 else rng.choice(FLOAT_VALUES)
    return _replace_span(text, m.start(2), m.end(2), v)


def mut_keyword(rng, text, corpus):
    """granularity/scale/levels/rounding/rotation/estimator/error/coupling/kind
    values: another value of the same parameter, now and then any word."""
    cands = [("kw", m) for m in KEYWORD_RE.finditer(text)]
    cands += [("attr", m) for m in ATTR_KW_RE.finditer(text)]
    if not cands:
        return None
    kind, m = rng.choice(cands)
    key, grp = (m.group(1), 4) if kind == "kw" else (m.group(1), 2)
    pool = KEYWORDS.get(key, ALL_KEYWORDS)
    if rng.random() < 0.15 or len(pool) < 2:
        pool = ALL_KEYWORDS
    new = rng.choice([w for w in pool if w != m.group(grp)] or pool)
    return _replace_span(text, m.start(grp), m.end(grp), new)


def mut_opname(rng, text, corpus):
    """A cage op or attribute by another name (cage.adamw <-> cage.sgd,
    #cage.adamw <-> #cage.sgd, cage.quantize <-> cage.ste, ...)."""
    cands = [("op", m) for m in OPNAME_RE.finditer(text)]
    cands += [("attr", m) for m in ATTRNAME_RE.finditer(text)]
    if not cands:
        return None
    kind, m = rng.choice(cands)
    if kind == "op":
        pool = CAGE_OPS
    elif m.group(1) in ("adamw", "sgd") and rng.random() < 0.7:
        pool = ["adamw", "sgd"]
    else:
        pool = CAGE_ATTRS
    new = rng.choice([w for w in pool if w != m.group(1)])
    return _replace_span(text, m.start(1), m.end(1), new)


def mut_attr_entry(rng, text, corpus):
    """Delete, duplicate or rename one `key = value` entry of an attribute or
    attribute dictionary, or add a parameter to a #cage.quantizer/adamw/sgd."""
    if rng.random() < 0.4:
        m = _pick(rng, list(PARAM_ATTR_RE.finditer(text)))
        if not m:
            return None
        key = rng.choice(PARAM_KEYS[m.group(1)] + ["bits", "lambda", "bogus"])
        if key in KEYWORDS:
            val = rng.choice(KEYWORDS[key] + ["bogus"])
        else:
            val = _value_for(rng, key)
        sep = "" if text[m.end():m.end() + 1] == ">" else ", "
        return text[:m.end()] + "%s = %s%s" % (key, val, sep) + text[m.end():]
    m = _pick(rng, list(ENTRY_RE.finditer(text)))
    if not m:
        return None
    op = rng.choice(["delete", "delete", "dup", "rename"])
    entry = m.group(0)
    if op == "delete":
        new = ""
        if not m.group(1):  # the first entry: drop the comma after it
            rest = text[m.end():]
            k = len(rest) - len(rest.lstrip())
            if rest[k:k + 1] == ",":
                return text[:m.start()] + rest[k + 1:].lstrip(" ")
    elif op == "dup":
        new = entry + (entry if m.group(1) else ", " + entry)
    else:
        keys = sorted({k for ks in PARAM_KEYS.values() for k in ks} |
                      {"lambda", "silence", "kind", "quantizer", "optimizer",
                       "coupling", "error", "estimator"})
        new = re.sub(r"\b[a-z_0-9]+(?=\s*=)", rng.choice(keys), entry, count=1)
    return _replace_span(text, m.start(), m.end(), new)


def _lines(text):
    return text.split("\n")


def mut_delete_line(rng, text, corpus):
    ls = _lines(text)
    if len(ls) < 2:
        return None
    del ls[rng.randrange(len(ls))]
    return "\n".join(ls)


def mut_swap_lines(rng, text, corpus):
    ls = _lines(text)
    if len(ls) < 2:
        return None
    i, j = rng.sample(range(len(ls)), 2)
    ls[i], ls[j] = ls[j], ls[i]
    return "\n".join(ls)


def mut_dup_line(rng, text, corpus):
    ls = _lines(text)
    i = rng.randrange(len(ls))
    ls.insert(rng.randrange(len(ls) + 1), ls[i])
    return "\n".join(ls)


def mut_splice(rng, text, corpus):
    """An op line of another corpus unit inserted here."""
    other = rng.choice(corpus)[1]  # uniform: any op line will do
    cands = [l for l in _lines(other) if "cage." in l or " = " in l]
    if not cands:
        return None
    ls = _lines(text)
    ls.insert(rng.randrange(len(ls) + 1), rng.choice(cands))
    return "\n".join(ls)


def mut_truncate(rng, text, corpus):
    if len(text) < 2:
        return None
    return text[:rng.randrange(1, len(text))]


def mut_bytes(rng, text, corpus):
    """Byte-level noise: a few characters replaced, inserted or deleted."""
    s = list(text)
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        i = rng.randrange(len(s) + 1)
        c = rng.choice(NOISE_CHARS) if rng.random() < 0.7 else chr(rng.randrange(32, 127))
        if op < 0.4 and i < len(s):
            s[i] = c
        elif op < 0.7:
            s.insert(i, c)
        elif i < len(s):
            del s[i]
    return "".join(s)


MUTATORS = [
    (mut_dim, 6), (mut_rank, 3), (mut_elt_type, 5), (mut_operands, 4),
    (mut_ssa, 2), (mut_param, 5), (mut_const, 3), (mut_keyword, 4),
    (mut_opname, 2), (mut_attr_entry, 4), (mut_delete_line, 4),
    (mut_swap_lines, 2), (mut_dup_line, 1), (mut_splice, 2),
    (mut_truncate, 1), (mut_bytes, 2),
]


def make_mutant(seed, index, corpus, pipelines):
    """Mutant `index` of `seed`: (unit name, text, mutator names, pipeline)."""
    rng = random.Random("cage-fuzz/%d/%d" % (seed, index))
    name, text, _ = rng.choices(corpus, [w for _, _, w in corpus])[0]
    applied = []
    for _ in range(rng.choice([1, 1, 1, 1, 1, 2, 2, 2, 3, 4])):
        for _attempt in range(8):
            fn = rng.choices([m for m, _ in MUTATORS], [w for _, w in MUTATORS])[0]
            new = fn(rng, text, corpus)
            if new is not None and new != text:
                text = new
                applied.append(fn.__name__[4:])
                break
    pipeline = rng.choices(pipelines, [w for _, _, w in pipelines])[0]
    return name, text, applied, pipeline


# ---------------------------------------------------------------------------
# Running and classifying
# ---------------------------------------------------------------------------

FRAME_RE = re.compile(r"^\s*#(\d+) 0x[0-9a-fA-F]+ (?:in )?(.*)$")
BORING_FRAME_RE = re.compile(
    r"llvm::sys::|PrintStackTrace|RunSignalHandlers|SignalHandler|__restore_rt|"
    r"^raise\b|^abort\b|^gsignal|__pthread_kill|pthread_kill|__assert_fail|"
    r"__assert_fail_base|llvm_unreachable_internal|report_fatal_error|"
    r"reportFatal|__sanitizer|__asan|__ubsan|__interceptor_|^\(|libc\.so")


class Result:
    def __init__(self, status, kind="", frames=(), stderr="", rc=0):
        self.status = status        # ok | crash | hang | excluded
        self.kind = kind
        self.frames = list(frames)  # all parsed frames, in order
        self.stderr = stderr
        self.rc = rc
        self.exclusion = None

    def top(self, n=3):
        return [f for f in self.frames if not BORING_FRAME_RE.search(f)][:n]

    def signature(self):
        names = [frame_function(f) for f in self.top(3)]
        return self.kind + " | " + " <- ".join(names)


def frame_function(frame):
    """`mlir::Foo::bar(int) const (/lib/libMLIR.so+0x12)` -> `mlir::Foo::bar`."""
    f = re.sub(r"\s+\(/[^()]*\+0x[0-9a-f]+\)$", "", frame)     # (module+off)
    f = re.sub(r"\s+/\S+:\d+(:\d+)?$", "", f)                   # file:line:col
    f = re.sub(r"\s+\(\S+\+0x[0-9a-f]+\)$", "", f)
    if f.startswith("("):  # unnamed: keep module+offset
        return f.strip("()")
    depth, out = 0, []
    for ch in f:  # drop argument lists, keep template arguments
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out).replace(" const", "").strip()


def is_cage_frame(frame):
    fn = frame_function(frame)
    if re.match(r"(main|_start|mlir::asMainReturnCode)$", fn):
        return False
    if re.search(r"libCAGE|libCage", frame):
        return True
    if re.search(r"/bin/cage-[\w-]+\+0x", frame):
        return True
    if (REPO + "/lib/") in frame or (REPO + "/tools/") in frame:
        return True
    return bool(re.match(r"(mlir::cage::|cage[A-Z_]|Cage[A-Z]|mlirCage)", fn))


class Runner:
    def __init__(self, tool_dir, timeout, mem_mb, workdir):
        self.tool_dir = tool_dir
        self.timeout = timeout
        self.mem = mem_mb * 1024 * 1024 if mem_mb else 0
        self.workdir = workdir
        self.env = dict(os.environ)
        if "LLVM_SYMBOLIZER_PATH" not in self.env:
            for p in ["/usr/lib/llvm-22/bin/llvm-symbolizer"]:
                if os.path.exists(p):
                    self.env["LLVM_SYMBOLIZER_PATH"] = p
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1")
        self.env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        self.runs = 0
        self.lock = threading.Lock()

    def command(self, pipeline, path, out):
        tool, args, _ = pipeline
        args = [a.replace("{out}", out) for a in args]
        return [os.path.join(self.tool_dir, tool)] + args + [path]

    def run(self, text, pipeline, tag, timeout=None):
        timeout = timeout or self.timeout
        path = os.path.join(self.workdir, tag + ".mlir")
        out = os.path.join(self.workdir, tag + ".out")
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as fh:
            fh.write(text)
        cmd = self.command(pipeline, path, out)
        with self.lock:
            self.runs += 1
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env=self.env, start_new_session=True)
        if self.mem:
            try:
                resource.prlimit(proc.pid, resource.RLIMIT_AS, (self.mem, self.mem))
            except (ProcessLookupError, PermissionError, OSError):
                pass
        try:
            _, err = proc.communicate(timeout=timeout)
            hung = False
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _, err = proc.communicate()
            hung = True
        for p in (path, out):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass
        err = err.decode("utf-8", "replace")
        if hung:
            return Result("hang", "timeout", stderr=err, rc=None)
        return classify(text, proc.returncode, err)


def classify(text, rc, err):
    kind = ""
    if rc is not None and rc < 0:
        try:
            kind = signal.Signals(-rc).name
        except ValueError:
            kind = "signal %d" % -rc
    else:
        for pat in CRASH_PATTERNS:
            # A diagnostic quoting the mutant is not a crash.
            if pat in err and pat not in text:
                kind = pat
                break
    if not kind:
        return Result("ok", rc=rc)
    frames = [m.group(2) for m in (FRAME_RE.match(l) for l in err.split("\n")) if m]
    if kind in ("LLVM ERROR", "Assertion", "UNREACHABLE", "runtime error:"):
        # The message itself is the best signature where there is no stack.
        for l in err.split("\n"):
            if kind in l:
                kind = kind + ": " + re.sub(r"\d+", "N", l.split(kind, 1)[1].strip())[:120]
                break
    res = Result("crash", kind, frames, err, rc)
    in_cage = any(is_cage_frame(f) for f in frames)
    if not in_cage:
        stack = "\n".join(frames)
        for ex in KNOWN_UPSTREAM:
            if (ex.frames.search(stack)
                    and (ex.text is None or ex.text.search(text))
                    and (ex.message is None or ex.message.search(err))):
                res.status = "excluded"
                res.exclusion = ex
                break
    return res


def same_crash(a, b):
    if b.status not in ("crash", "excluded") or a.kind.split(":")[0] != b.kind.split(":")[0]:
        return False
    ta, tb = a.top(1), b.top(1)
    return not ta or (tb and frame_function(ta[0]) == frame_function(tb[0]))


def minimize(runner, text, pipeline, result, tag, max_runs, max_seconds):
    """Delete chunks of lines (halves, quarters, ..., single lines) while the
    same crash (kind and top frame) remains."""
    lines = text.split("\n")
    start, runs = time.monotonic(), 0
    chunk = max(1, len(lines) // 2)
    while chunk >= 1:
        i = 0
        while i < len(lines):
            if runs >= max_runs or time.monotonic() - start > max_seconds:
                return "\n".join(lines)
            cand = lines[:i] + lines[i + chunk:]
            if not cand:
                i += chunk
                continue
            runs += 1
            r = runner.run("\n".join(cand), pipeline, tag + "-min")
            if same_crash(result, r):
                lines = cand
            else:
                i += chunk
        chunk //= 2
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Main loop
# ---------------------------------------------------------------------------


def sanitized(tool_dir):
    """Whether cage's code in tool_dir is built with AddressSanitizer."""
    for p in [os.path.join(tool_dir, "cage-opt"),
              os.path.join(tool_dir, os.pardir, "lib", "libCAGE-C.so")]:
        try:
            with open(p, "rb") as fh:
                if b"libasan.so" in fh.read():
                    return True
        except OSError:
            pass
    return False


def shell_command(runner, pipeline, path):
    cmd = runner.command(pipeline, path, "/tmp/cage-fuzz.o")
    return " ".join(shlex.quote(c) for c in cmd)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Mutate cage's .mlir test inputs and check that cage-opt and "
                    "cage-compile never crash or hang on them.")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=None,
                    help="mutants to run (default 1000 unless --seconds)")
    ap.add_argument("--seconds", type=float, default=None,
                    help="run new mutants until this many seconds have passed")
    ap.add_argument("--start", type=int, default=0, help="index of the first mutant")
    ap.add_argument("--jobs", "-j", type=int, default=2)
    ap.add_argument("--tool-dir", default=os.path.join(REPO, "build", "bin"))
    ap.add_argument("--corpus", nargs="+",
                    default=[os.path.join(REPO, "test"), os.path.join(REPO, "examples")])
    ap.add_argument("--crash-dir", default=None,
                    help="where findings go (default: a new temporary directory)")
    ap.add_argument("--timeout", type=float, default=20.0,
                    help="seconds per run before it counts as a hang (confirmed "
                         "by a second run at three times this)")
    ap.add_argument("--mem-limit-mb", type=int, default=4096,
                    help="address-space limit per run (0: none; sanitizer builds "
                         "need 0)")
    ap.add_argument("--tools", default="cage-opt,cage-compile",
                    help="tools whose pipelines are drawn (comma-separated)")
    ap.add_argument("--minimize-runs", type=int, default=200)
    ap.add_argument("--no-minimize", action="store_true")
    ap.add_argument("--show-mutant", type=int, metavar="I",
                    help="print mutant I (its unit, mutations and command on "
                         "stderr) and exit")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args(argv)

    corpus = load_corpus(args.corpus)
    if not corpus:
        ap.error("empty corpus")
    tools = set(args.tools.split(","))
    pipelines = [p for p in PIPELINES if p[0] in tools]
    if not pipelines:
        ap.error("no pipeline for --tools %s" % args.tools)
    for t in sorted(tools):
        if not os.access(os.path.join(args.tool_dir, t), os.X_OK):
            ap.error("%s not found in --tool-dir %s" % (t, args.tool_dir))

    if args.show_mutant is not None:
        name, text, applied, pipe = make_mutant(args.seed, args.show_mutant, corpus, pipelines)
        sys.stdout.write(text)
        runner = Runner(args.tool_dir, args.timeout, 0, ".")
        sys.stderr.write("// unit %s, mutations %s\n// %s\n" % (
            name, ",".join(applied), shell_command(runner, pipe, "MUTANT.mlir")))
        return 0

    if args.iterations is None and args.seconds is None:
        args.iterations = 1000
    if args.crash_dir is None:
        args.crash_dir = tempfile.mkdtemp(prefix="cage-fuzz-")
    workdir = tempfile.mkdtemp(prefix="cage-fuzz-work-")
    mem = args.mem_limit_mb
    if mem and sanitized(args.tool_dir):
        mem = 0  # ASan reserves terabytes of shadow address space
    runner = Runner(args.tool_dir, args.timeout, mem, workdir)

    seen = {}  # signature -> count
    counts = {"mutants": 0, "crashes": 0, "hangs": 0, "excluded": 0, "slow": 0,
              "accepted": 0, "diagnosed": 0}
    excluded = {}
    lock = threading.Lock()

    def report(kind_dir, sig, index, name, applied, pipe, text, orig, res):
        d = os.path.join(args.crash_dir, kind_dir)
        os.makedirs(d, exist_ok=True)
        h = hashlib.sha1(sig.encode()).hexdigest()[:10]
        path = os.path.join(d, "%s.mlir" % h)
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as fh:
            fh.write(text)
        if orig is not None and orig != text:
            with open(os.path.join(d, "%s.orig.mlir" % h), "w", encoding="utf-8",
                      errors="surrogateescape") as fh:
                fh.write(orig)
        with open(os.path.join(d, "%s.txt" % h), "w", encoding="utf-8") as fh:
            fh.write("signature: %s\nmutant: --seed %d --show-mutant %d (unit %s, "
                     "mutations %s)\ncommand: %s\nexit: %s\n" % (
                         sig, args.seed, index, name, ",".join(applied),
                         shell_command(runner, pipe, path), res.rc))
            if res.exclusion:
                fh.write("excluded: %s: %s\n" % (res.exclusion.name, res.exclusion.reason))
            fh.write("top frames:\n%s\n\nstderr:\n%s" % (
                "\n".join("  " + f for f in res.top(8)), res.stderr[-20000:]))
        return path

    def one(index):
        name, text, applied, pipe = make_mutant(args.seed, index, corpus, pipelines)
        tag = "m%d" % index
        res = runner.run(text, pipe, tag)
        if res.status == "hang":
            again = runner.run(text, pipe, tag, timeout=3 * args.timeout)
            if again.status != "hang":
                with lock:
                    counts["slow"] += 1
                print("note: mutant %d ran past %gs once, then finished (loaded machine?)"
                      % (index, args.timeout), flush=True)
                res = again
        with lock:
            counts["mutants"] += 1
            if res.status == "ok":
                counts["accepted" if res.rc == 0 else "diagnosed"] += 1
        if res.status == "ok":
            return
        if res.status == "excluded":
            with lock:
                counts["excluded"] += 1
                first = res.exclusion.name not in excluded
                excluded[res.exclusion.name] = excluded.get(res.exclusion.name, 0) + 1
            if first:
                report("excluded", res.exclusion.name, index, name, applied, pipe, text, None, res)
            return
        sig = res.signature() if res.status == "crash" else "hang | " + " ".join(pipe[1])
        with lock:
            counts["crashes" if res.status == "crash" else "hangs"] += 1
            first = sig not in seen
            seen[sig] = seen.get(sig, 0) + 1
        if not first:
            if args.verbose:
                print("again: mutant %d: %s" % (index, sig), flush=True)
            return
        small = text
        if res.status == "crash" and not args.no_minimize:
            small = minimize(runner, text, pipe, res, tag, args.minimize_runs, 120)
        path = report("crashes" if res.status == "crash" else "hangs", sig, index,
                      name, applied, pipe, small, text, res)
        if res.status == "hang":
            where = ""
        elif any(is_cage_frame(f) for f in res.frames):
            where = " [in cage's code]"
        else:
            where = " [upstream]" if res.frames else " [no stack]"
        print("%s: mutant %d (%s; %s): %s%s\n  %s" % (
            res.status.upper(), index, name, ",".join(applied), sig, where,
            shell_command(runner, pipe, path)), flush=True)

    start = time.monotonic()
    deadline = start + args.seconds if args.seconds is not None else None
    end_index = args.start + args.iterations if args.iterations is not None else None
    index = args.start
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        pending = set()
        while True:
            while len(pending) < 2 * args.jobs:
                if end_index is not None and index >= end_index:
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    break
                pending.add(pool.submit(one, index))
                index += 1
            if not pending:
                break
            done, pending = concurrent.futures.wait(
                pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for f in done:
                f.result()
    elapsed = time.monotonic() - start
    try:
        os.rmdir(workdir)
    except OSError:
        pass

    print("%d mutants, %d crashes, %d hangs" % (counts["mutants"], counts["crashes"],
                                                counts["hangs"]))
    extra = ("seed %d, mutants %d..%d (%d accepted, %d diagnosed), %d runs in %.1fs, "
             "%d distinct findings" % (args.seed, args.start, index - 1, counts["accepted"],
                                       counts["diagnosed"], runner.runs, elapsed, len(seen)))
    if counts["excluded"]:
        extra += ", %d known upstream crashes excluded (%s)" % (
            counts["excluded"], ", ".join("%s: %d" % kv for kv in sorted(excluded.items())))
    if counts["slow"]:
        extra += ", %d slow runs" % counts["slow"]
    if seen or excluded:
        extra += "; findings in %s" % args.crash_dir
    print(extra)
    return 1 if counts["crashes"] or counts["hangs"] else 0


if __name__ == "__main__":
    sys.exit(main())
