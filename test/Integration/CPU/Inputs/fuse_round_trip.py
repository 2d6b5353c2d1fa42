"""The round trip cage.update -> cage-expand-update -> cage-fuse-correction,
run on random inputs and compared bit for bit.

    fuse_round_trip.py gen DIR
        DIR/module.mlir: one function per case, each a cage.update (AdamW
        and SGD, coupled and decoupled, error = keep and zero_clipped; row,
        group, tensor, centered and rotated quantizers; awkward static and
        dynamic shapes; λ_t an argument or from cage.lambda_schedule), and
        @all, which calls them all (one JIT compilation per call);
        DIR/in/*.npy: the inputs of the three calls of @all: λ_t = 0,
        λ_t > 0, and the inputs of the second with λ_t = 0 (w and g hold
        zeros of both signs, w an infinity unless the quantizer has one
        scale per tensor); DIR/runs.json: the calls, and for each case the
        output index of its new w, the position of its infinity and the
        run of elements it makes NaN where λ_t = 0.
    fuse_round_trip.py run DIR VARIANT MODULE CAGE_RUN [FLAG...]
        every call through `CAGE_RUN MODULE FLAG...`, the results in
        DIR/VARIANT/.
    fuse_round_trip.py check DIR VARIANT...
        the results of the variants compared on their raw float32 bits
        (signed zeros and NaN payloads told apart), with counts to check.

cage.update has no special case for λ_t = 0 (docs/Semantics.md §1.3, §3
decision 4): the correction g + λ_t·e (coupled) or w − (lr·λ_t)·e
(decoupled) is applied as written, so an update is bit for bit its unfused
spelling, λ_t = 0 included, and the three variants must agree on every bit,
the signed zeros that g + 0·e or w − 0·e produce and the NaN of the
infinite weights included. An infinite weight makes α infinite, hence e
non-finite, across its scale group (across its Hadamard block too, with
rotation), and 0·e is NaN there: with λ_t = 0 the new w must be NaN exactly
on the scale group or Hadamard block that holds the infinity (the larger of
the two, both aligned runs of the row) and nowhere else; check counts that
on the first variant.
"""

import json
import os
import re
import subprocess
import sys

import numpy as np

f32 = np.float32

# name, optimizer attribute, coupling, error, quantizer, static shape, the
# shape in the function type (None: static), λ_t from a schedule.
CASES = [
    ("adamw_decoupled_row", "#cage.adamw<>", "decoupled", "keep",
     "#cage.quantizer<bits = 4, granularity = row>", (7, 129), None, False),
    ("adamw_coupled_group", "#cage.adamw<beta1 = 0.8, weight_decay = 0.05>",
     "coupled", "zero_clipped",
     "#cage.quantizer<bits = 3, granularity = group, group_size = 32>",
     (5, 96), None, False),
    ("adamw_decoupled_hadamard_dyn", "#cage.adamw<eps = 1.0e-06>",
     "decoupled", "zero_clipped",
     "#cage.quantizer<bits = 4, granularity = group, group_size = 16, "
     "rotation = hadamard, block = 32>", (3, 64), "?x?", False),
    ("sgd_decoupled_nesterov", "#cage.sgd<momentum = 0.9, nesterov = true, "
     "weight_decay = 0.01>", "decoupled", "zero_clipped",
     "#cage.quantizer<bits = 2, granularity = row, levels = centered>",
     (7, 129), None, False),
    ("sgd_coupled_tensor_dyn", "#cage.sgd<momentum = 0.5, dampening = 0.1>",
     "coupled", "keep", "#cage.quantizer<bits = 4, granularity = tensor>",
     (7, 129), "?x129", False),
    ("sgd_coupled_schedule", "#cage.sgd<>", "coupled", "keep",
     "#cage.quantizer<bits = 8, granularity = row>", (129,), None, True),
    ("adamw_coupled_schedule_3d", "#cage.adamw<>", "coupled", "zero_clipped",
     "#cage.quantizer<bits = 4, granularity = row>", (2, 3, 33), None, True),
]


def nan_run(case):
    """The number of consecutive elements (aligned in the row) that an
    infinite weight makes NaN in the new w where λ_t = 0: its scale group
    (row: the row; group: group_size; tensor: everything, not used), or,
    with a Hadamard rotation, its block where that is larger."""
    quantizer, n = case[4], case[5][-1]

    def field(name, default):
        m = re.search(rf"\b{name} = (\w+)", quantizer)
        return m.group(1) if m else default
    granularity = field("granularity", "row")
    run = int(field("group_size", 128)) if granularity == "group" else n
    if field("rotation", "none") == "hadamard":
        run = max(run, int(field("block", 128)))
    return run


def tensor_type(shape, dyn):
    return f"tensor<{dyn or 'x'.join(map(str, shape))}xf32>"


def is_adamw(case):
    return case[1].startswith("#cage.adamw")


def signature(case):
    """The parameters (name, type) and result types of a case's function."""
    _, _, _, _, _, shape, dyn, schedule = case
    t = tensor_type(shape, dyn)
    state = ["m", "v"] if is_adamw(case) else ["b"]
    params = [("w", t), ("g", t)] + [(s, t) for s in state] + [("lr", "f32")]
    params += [("step", "i64"), ("total", "i64")] if schedule else [
        ("lambda", "f32")]
    if is_adamw(case) and not schedule:
        params.append(("step", "i64"))
    return params, [t] * (1 + len(state))


def function_text(case):
    name, opt, coupling, error, quantizer, _, _, schedule = case
    params, results = signature(case)
    body = []
    if schedule:
        body.append("  %lambda = cage.lambda_schedule %step, %total "
                    "{lambda = 3.0 : f32, silence = 0.5 : f32}")
    operands = ["%w", "%g"] + (["%m", "%v"] if is_adamw(case) else ["%b"])
    operands += ["%lr", "%lambda"] + (["%step"] if is_adamw(case) else [])
    values = [f"%r{i}" for i in range(len(results))]
    body.append(f"  {', '.join(values)} = cage.update {', '.join(operands)}"
                f" {{quantizer = {quantizer}, optimizer = {opt}, "
                f"coupling = {coupling}, error = {error}}} : {results[0]}")
    types = ", ".join(results)
    body.append(f"  return {', '.join(values)} : {types}")
    args = ", ".join(f"%{n}: {t}" for n, t in params)
    return (f"func.func @{name}({args}) -> ({types}) {{\n"
            + "\n".join(body) + "\n}\n")


def entry_text():
    """@all calls every case's function on its own arguments: one JIT
    compilation per run rather than one per case (the cases stay separate
    functions, each fused or not on its own)."""
    params, results, body = [], [], []
    for k, case in enumerate(CASES):
        p, r = signature(case)
        args = [f"%a{k}_{n}" for n, _ in p]
        params += [f"{a}: {t}" for a, (_, t) in zip(args, p)]
        values = [f"%c{k}#{i}" for i in range(len(r))]
        body.append(f"  %c{k}:{len(r)} = func.call @{case[0]}"
                    f"({', '.join(args)}) : ({', '.join(t for _, t in p)})"
                    f" -> ({', '.join(r)})")
        results += list(zip(values, r))
    body.append(f"  return {', '.join(v for v, _ in results)} : "
                f"{', '.join(t for _, t in results)}")
    return (f"func.func @all({', '.join(params)}) -> "
            f"({', '.join(t for _, t in results)}) {{\n"
            + "\n".join(body) + "\n}\n")


def signed_zeros(rng, x, fraction):
    """Zeros of both signs at random places of x."""
    zeros = rng.random(x.shape) < fraction
    x[zeros] = np.where(rng.random(int(zeros.sum())) < 0.5, f32(0),
                        f32(-0.0))
    return x


def tensors(rng, case, whole):
    """w, g and the state of one call, and the flat index of w's infinity:
    None for a quantizer with one scale per tensor, and unless `whole`
    where the NaN it makes would cover the whole tensor (a single row)."""
    shape = case[5]
    w = signed_zeros(rng, rng.standard_normal(shape).astype(f32), 0.05)
    inf = None
    if "granularity = tensor" not in case[4] and (
            whole or nan_run(case) < w.size):
        # An infinite weight makes e non-finite in its scale group (and
        # Hadamard block), and 0·e NaN: with λ_t = 0 too the update's new w
        # is NaN across that group, as the unfused g + 0·e or w − 0·e is.
        inf = int(rng.integers(w.size))
        w.reshape(-1)[inf] = rng.choice([np.inf, -np.inf])
    g = signed_zeros(rng, (rng.standard_normal(shape) * 0.1).astype(f32), 0.2)
    if is_adamw(case):
        state = [(rng.standard_normal(shape) * 0.01).astype(f32),
                 (rng.random(shape) * 1e-4).astype(f32)]
    else:
        state = [(rng.standard_normal(shape) * 0.05).astype(f32)]
    return [w, g] + state, inf


def scalars(case, active):
    """lr, then λ_t (or t and T for a schedule: r = t / T, λ_t = 0 at or
    below the silence 0.5, > 0 above it), then t for AdamW."""
    args = [np.array(0.01, f32)]
    if case[7]:
        return args + [np.array(9 if active else 4, np.int64),
                       np.array(10, np.int64)]
    args.append(np.array(0.7 if active else 0.0, f32))
    if is_adamw(case):
        args.append(np.array(3, np.int64))
    return args


def gen(d):
    rng = np.random.default_rng(20240611)
    os.makedirs(os.path.join(d, "in"), exist_ok=True)
    with open(os.path.join(d, "module.mlir"), "w") as f:
        f.write("\n".join([function_text(c) for c in CASES] + [entry_text()]))
    # zero: λ_t = 0; active: λ_t > 0; plain: the inputs of active with
    # λ_t = 0, so that the correction is seen to change the new w (else
    # the comparisons would prove little; so active has no infinity where
    # it would make the whole new w NaN with λ_t = 0 and > 0 alike).
    runs = {"zero": [], "active": [], "plain": []}
    new_w = []  # the output index of each case's new w
    infinities = {"zero": [], "plain": []}  # per case: (index, run) or None
    outputs = 0
    for case in CASES:
        (zero, inf_zero), (active, inf_active) = (
            tensors(rng, case, True), tensors(rng, case, False))
        runs["zero"] += zero + scalars(case, False)
        runs["active"] += active + scalars(case, True)
        runs["plain"] += active + scalars(case, False)
        new_w.append(outputs)
        for run, inf in (("zero", inf_zero), ("plain", inf_active)):
            infinities[run].append(None if inf is None else
                                   (inf, nan_run(case)))
        outputs += len(signature(case)[1])
    calls = []
    for run, args in runs.items():
        inputs = []
        for i, a in enumerate(args):
            name = f"{run}_{i}.npy"
            np.save(os.path.join(d, "in", name), a)
            inputs.append(name)
        calls.append({"run": run, "inputs": inputs, "outputs": outputs})
    with open(os.path.join(d, "runs.json"), "w") as f:
        json.dump({"calls": calls, "new_w": new_w,
                   "infinities": infinities}, f, indent=1)
    print(f"gen: {len(CASES)} functions, {len(calls)} calls of @all, "
          f"{outputs} results each")


def run_all(d, variant, module, cage_run, flags):
    with open(os.path.join(d, "runs.json")) as f:
        calls = json.load(f)["calls"]
    out = os.path.join(d, variant)
    os.makedirs(out, exist_ok=True)
    failed = 0
    for c in calls:
        command = [cage_run, module, "--entry", "all"] + flags
        for name in c["inputs"]:
            command += ["--in", os.path.join(d, "in", name)]
        for i in range(c["outputs"]):
            command += ["--out", os.path.join(out, f"{c['run']}_out{i}.npy")]
        p = subprocess.run(command, capture_output=True, text=True)
        if p.returncode != 0:
            failed += 1
            print(f"FAIL: {variant} {c['run']}: cage-run exited with "
                  f"{p.returncode}: {p.stderr}")
    print(f"{variant}: {len(calls)} calls, {failed} failed")


def bits(a):
    return np.ascontiguousarray(a, np.float32).view(np.uint32).reshape(-1)


def load(d, variant, name):
    try:
        return np.load(os.path.join(d, variant, name))
    except OSError as error:
        print(f"FAIL: {variant}/{name}: {error}")
        return None


def check(d, variants):
    with open(os.path.join(d, "runs.json")) as f:
        spec = json.load(f)
    first = variants[0]
    outputs = elements = mismatches = 0
    for c in spec["calls"]:
        for i in range(c["outputs"]):
            name = f"{c['run']}_out{i}.npy"
            ref = load(d, first, name)
            for v in variants[1:]:
                got = load(d, v, name)
                if ref is None or got is None:
                    mismatches += 1
                    continue
                if got.dtype != ref.dtype or got.shape != ref.shape:
                    print(f"FAIL: {v}/{name}: {got.dtype}{list(got.shape)}"
                          f", {first} has {ref.dtype}{list(ref.shape)}")
                    mismatches += 1
                    continue
                differ = int(np.count_nonzero(bits(got) != bits(ref)))
                if differ:
                    print(f"FAIL: {v}/{name}: {differ} of {ref.size} "
                          f"elements differ from {first}")
                    mismatches += 1
                outputs += 1
                elements += ref.size
    changed = 0
    for i in spec["new_w"]:
        active = load(d, first, f"active_out{i}.npy")
        plain = load(d, first, f"plain_out{i}.npy")
        if active is not None and plain is not None and np.count_nonzero(
                bits(active) != bits(plain)):
            changed += 1
    # λ_t = 0 with an infinite weight: NaN exactly on its group.
    nan_groups = checked = 0
    for run, cases in spec["infinities"].items():
        for i, inf in zip(spec["new_w"], cases):
            if inf is None:
                continue
            checked += 1
            w = load(d, first, f"{run}_out{i}.npy")
            if w is None:
                mismatches += 1
                continue
            index, size = inf
            want = np.zeros(w.size, bool)
            start = index - index % size
            want[start:start + size] = True
            nan = np.isnan(w.reshape(-1))
            if np.array_equal(nan, want):
                nan_groups += 1
            else:
                print(f"FAIL: {first}/{run}_out{i}.npy: λ_t = 0 with "
                      f"w[{index}] infinite: NaN at {int(nan.sum())} "
                      f"elements, expected exactly the {size} of "
                      f"[{start}, {start + size}) (first other: "
                      f"{int(np.argmax(nan != want))})")
                mismatches += 1
    print(f"compared: {outputs} outputs, {elements} elements, "
          f"{len(variants) - 1} variants against {first}")
    print(f"lambda_t > 0 changes the new w: {changed} of "
          f"{len(spec['new_w'])} functions")
    print(f"lambda_t = 0 with an infinite w: the new w NaN exactly on its "
          f"group: {nan_groups} of {checked}")
    print(f"mismatches: {mismatches}")


def main(argv):
    command = argv[1]
    if command == "gen":
        gen(argv[2])
    elif command == "run":
        run_all(argv[2], argv[3], argv[4], argv[5], argv[6:])
    elif command == "check":
        check(argv[2], argv[3:])
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv)
