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
        scale per tensor); DIR/runs.json: the calls.
    fuse_round_trip.py run DIR VARIANT MODULE CAGE_RUN [FLAG...]
        every call through `CAGE_RUN MODULE FLAG...`, the results in
        DIR/VARIANT/.
    fuse_round_trip.py check DIR VARIANT...
        the results of the variants compared on their raw float32 bits
        (signed zeros and NaN payloads told apart), with counts to check.
"""

import json
import os
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


def tensors(rng, case):
    """w, g and the state of one call."""
    shape = case[5]
    w = signed_zeros(rng, rng.standard_normal(shape).astype(f32), 0.05)
    if "granularity = tensor" not in case[4]:
        # An infinite weight makes e NaN in its scale group: where λ_t = 0
        # the update must leave the step alone (g + 0·e would be NaN).
        w.reshape(-1)[rng.integers(w.size)] = rng.choice([np.inf, -np.inf])
    g = signed_zeros(rng, (rng.standard_normal(shape) * 0.1).astype(f32), 0.2)
    if is_adamw(case):
        state = [(rng.standard_normal(shape) * 0.01).astype(f32),
                 (rng.random(shape) * 1e-4).astype(f32)]
    else:
        state = [(rng.standard_normal(shape) * 0.05).astype(f32)]
    return [w, g] + state


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
    # the comparisons would prove little).
    runs = {"zero": [], "active": [], "plain": []}
    new_w = []  # the output index of each case's new w
    outputs = 0
    for case in CASES:
        zero, active = tensors(rng, case), tensors(rng, case)
        runs["zero"] += zero + scalars(case, False)
        runs["active"] += active + scalars(case, True)
        runs["plain"] += active + scalars(case, False)
        new_w.append(outputs)
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
        json.dump({"calls": calls, "new_w": new_w}, f, indent=1)
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
    print(f"compared: {outputs} outputs, {elements} elements, "
          f"{len(variants) - 1} variants against {first}")
    print(f"lambda_t > 0 changes the new w: {changed} of "
          f"{len(spec['new_w'])} functions")
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
