"""cage.multi_update against the updates it replaces, bit for bit.

    multi_update.py gen DIR
        DIR/module.mlir: functions whose updates share their scalars, so
        that cage-fuse-multi-tensor makes one cage.multi_update of each
        group (AdamW and SGD CAGE updates of awkward static, dynamic and
        rank-3 shapes; a group with a Hadamard quantizer, which is lowered
        one update at a time; plain cage.adamw steps, one of them on a 0-d
        tensor); DIR/in/*.npy: random inputs, λ_t > 0.
    multi_update.py run DIR VARIANT MODULE CAGE_RUN [FLAG...]
        every function through `CAGE_RUN MODULE FLAG...`, results in
        DIR/VARIANT/.
    multi_update.py check DIR A B
        the results of two variants compared on their raw float32 bits.

The default pipeline lowers each group as one cage.multi_update (one
parallel loop over all its parameters); --no-fuse-updates lowers every
update on its own. Both must give the same bits: the fused loop runs the
same element step, only its chunking of the parameters differs.
"""

import json
import os
import subprocess
import sys

import numpy as np

f32 = np.float32

# function name, optimizer, quantizer (None: plain cage.adamw/cage.sgd),
# coupling, then the parameters: (static shape, shape in the signature).
GROUPS = [
    ("adamw_row", "#cage.adamw<>", "#cage.quantizer<bits = 4>", "decoupled",
     [((7, 129), None), ((129,), None), ((300, 64), "?x64"),
      ((2, 3, 40), "?x3x40")]),
    ("adamw_group", "#cage.adamw<beta2 = 0.999>",
     "#cage.quantizer<bits = 4, granularity = group, group_size = 128>",
     "coupled", [((3, 256), None), ((70, 384), None), ((1, 128), None)]),
    ("sgd_tensor", "#cage.sgd<momentum = 0.9, nesterov = true>",
     "#cage.quantizer<bits = 3, granularity = tensor, levels = centered>",
     "coupled", [((33, 65), None), ((1000,), None)]),
    ("adamw_hadamard", "#cage.adamw<>",
     "#cage.quantizer<bits = 4, rotation = hadamard, block = 32>",
     "decoupled", [((5, 64), None), ((4, 96), None)]),
    ("adamw_plain", "#cage.adamw<>", None, None,
     [((600, 100), None), ((), None), ((17,), None)]),
]


def tensor_type(shape, dyn):
    if dyn:
        return f"tensor<{dyn}xf32>"
    return f"tensor<{'x'.join(map(str, shape))}{'x' if shape else ''}f32>"


def adamw_attrs(attr):
    """#cage.adamw<...> as the attributes of a cage.adamw op."""
    values = {"beta1": "0.9", "beta2": "0.95", "eps": "1.0e-08",
              "weight_decay": "0.1"}
    body = attr[len("#cage.adamw<"):-1]
    for item in filter(None, (s.strip() for s in body.split(","))):
        key, value = (s.strip() for s in item.split("="))
        values[key] = value
    return ", ".join(f"{k} = {v} : f32" for k, v in values.items())


def function(name, optimizer, quantizer, coupling, params):
    adamw = optimizer.startswith("#cage.adamw")
    state = ["m", "v"] if adamw else ["b"]
    args, body, results, result_types = [], [], [], []
    for k, (shape, dyn) in enumerate(params):
        ty = tensor_type(shape, dyn)
        names = [f"%{t}{k}" for t in ["w", "g"] + state]
        args += [f"{n}: {ty}" for n in names]
        outs = [f"%{t}{k}_1" for t in ["w"] + state]
        if quantizer:
            scalars = "%lr, %l, %t" if adamw else "%lr, %l"
            body.append(
                f"  {', '.join(outs)} = cage.update {', '.join(names)}, "
                f"{scalars} {{quantizer = {quantizer}, optimizer = "
                f"{optimizer}, coupling = {coupling}}} : {ty}")
        else:
            body.append(
                f"  {', '.join(outs)} = cage.adamw {', '.join(names)}, %lr, "
                f"%t {{{adamw_attrs(optimizer)}}} : {ty}")
        results += outs
        result_types += [ty] * len(outs)
    args += ["%lr: f32"] + (["%l: f32"] if quantizer else []) + \
        (["%t: i64"] if adamw else [])
    return (f"func.func @{name}({', '.join(args)}) -> "
            f"({', '.join(result_types)}) {{\n" + "\n".join(body) +
            f"\n  return {', '.join(results)} : {', '.join(result_types)}\n"
            "}\n")


def gen(out):
    rng = np.random.default_rng(20261123)
    os.makedirs(os.path.join(out, "in"), exist_ok=True)
    module, runs = [], []
    for name, optimizer, quantizer, coupling, params in GROUPS:
        module.append(function(name, optimizer, quantizer, coupling, params))
        adamw = optimizer.startswith("#cage.adamw")
        inputs = []
        for k, (shape, _) in enumerate(params):
            w = rng.standard_normal(shape).astype(f32)
            g = (0.1 * rng.standard_normal(shape)).astype(f32)
            state = [(0.01 * rng.standard_normal(shape)).astype(f32)]
            if adamw:
                state = [state[0], (0.001 * rng.random(shape)).astype(f32)]
            for j, a in enumerate([w, g] + state):
                path = os.path.join(out, "in", f"{name}_{k}_{j}.npy")
                np.save(path, np.asarray(a, dtype=f32))
                inputs.append(path)
        scalars = [("lr", f32(0.01))]
        if quantizer:
            scalars.append(("l", f32(3.0)))
        if adamw:
            scalars.append(("t", np.int64(7)))
        for s, value in scalars:
            path = os.path.join(out, "in", f"{name}_{s}.npy")
            np.save(path, np.array(value))
            inputs.append(path)
        num_results = len(params) * (3 if adamw else 2)
        runs.append({"entry": name, "inputs": inputs,
                     "results": num_results})
    with open(os.path.join(out, "module.mlir"), "w") as f:
        f.write("// Generated by multi_update.py gen.\n\n" + "\n".join(module))
    with open(os.path.join(out, "runs.json"), "w") as f:
        json.dump(runs, f, indent=1)
    print(f"multi_update: {len(runs)} functions, "
          f"{sum(len(g[4]) for g in GROUPS)} parameters")


def run(out, variant, module, cage_run, flags):
    with open(os.path.join(out, "runs.json")) as f:
        runs = json.load(f)
    os.makedirs(os.path.join(out, variant), exist_ok=True)
    for r in runs:
        cmd = [cage_run, module, "--entry", r["entry"]] + flags
        for path in r["inputs"]:
            cmd += ["--in", path]
        for i in range(r["results"]):
            cmd += ["--out", os.path.join(out, variant,
                                          f"{r['entry']}_{i}.npy")]
        subprocess.run(cmd, check=True)


def check(out, a, b):
    with open(os.path.join(out, "runs.json")) as f:
        runs = json.load(f)
    outputs = elements = differ = 0
    for r in runs:
        for i in range(r["results"]):
            x = np.load(os.path.join(out, a, f"{r['entry']}_{i}.npy"))
            y = np.load(os.path.join(out, b, f"{r['entry']}_{i}.npy"))
            bad = x.shape != y.shape or not np.array_equal(
                x.view(np.uint32), y.view(np.uint32))
            outputs += 1
            elements += x.size
            if bad:
                differ += 1
                print(f"FAIL: {r['entry']} result {i} differs")
    print(f"{a} vs {b}: {outputs} outputs, {elements} elements, "
          f"{outputs - differ} bit-identical")
    print(f"failures: {differ}")
    return differ == 0


def main(argv):
    if len(argv) == 3 and argv[1] == "gen":
        gen(argv[2])
    elif len(argv) >= 6 and argv[1] == "run":
        run(argv[2], argv[3], argv[4], argv[5], argv[6:])
    elif len(argv) == 5 and argv[1] == "check":
        return 0 if check(argv[2], argv[3], argv[4]) else 1
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
