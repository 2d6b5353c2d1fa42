#!/usr/bin/python3
"""Turns the benchmark results into the tables of docs/Performance.md and
the plot docs/img/bandwidth.png.

    report.py --cpu cpu.json --torch torch.json --doc Performance.md
              --plot bandwidth.png [--run-seconds S]

The tables replace what stands between the marker comments
<!-- report:NAME --> and <!-- /report:NAME --> of the document, for NAME in
summary, main, sweep, compute, bf16 and torch; the rest of it is left as it
is. Ratios are ratios of effective bandwidth (28 bytes per parameter over the
median time), so of medians measured in the same rounds of one process. The
bf16 table (the records of section "bf16": the step with bf16 m, v, timed in
the rounds of a main, sweep or compute record) counts 20 bytes per parameter
for that step and gives t_fused / t_bf16, its speed-up over the fp32 fused
step.
"""

import argparse
import json
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COMPILED = ("fused", "unfused", "update")
IMPLS = ("probe", "hand") + COMPILED
TARGET_N = 1 << 24
FUSED_VS_HAND, FUSED_VS_PROBE, FUSED_VS_TORCH = 0.95, 0.85, 5.0
# Two-thread probe bandwidth above this: the VM's fast memory mode, where
# the exact step is bound by the divider rather than by memory.
FAST_MODE_GBPS = 80.0


def load(path):
    with open(path) as f:
        return json.load(f)


def ratio(record, a, b):
    """Effective bandwidth of a over b: median time of b over a's."""
    impls = record["impls"]
    if a not in impls or b not in impls:
        return None
    return impls[b]["median_s"] / impls[a]["median_s"]


def cell(x, digits=2, target=None):
    if x is None:
        return "–"
    text = f"{x:.{digits}f}"
    return text if target is None or x >= target else f"**{text}**"


def bitwise(record):
    impls = record["impls"]
    flags = [f"{n} {'=' if impls[n]['bitwise_equal_to_hand'] else '≠'}"
             for n in COMPILED if n in impls]
    return ", ".join(flags) if flags else "–"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def present(records):
    return [n for n in IMPLS if any(n in r["impls"] for r in records)]


def gbps(record, name):
    impl = record["impls"].get(name)
    return f"{impl['gbps']:.1f}" if impl else "–"


def ms(record, name):
    impl = record["impls"].get(name)
    return f"{impl['median_s'] * 1e3:.2f}" if impl else "–"


def mode(record):
    fast = record["impls"]["probe"]["gbps"] > FAST_MODE_GBPS
    return "fast" if fast else "slow"


def meta_line(cpu, torch, run_seconds):
    m = cpu["meta"]
    parts = [f"measured {m['date']}",
             f"{m['rounds']} timed rounds (+{m['warmup']} warm-up) per "
             f"configuration, torch {torch['meta']['rounds']}",
             f"arrays {m['pad_kib']} KiB apart",
             f"cage-bench-cpu {cpu['wall_s']:.0f} s (load average "
             f"{cpu['load_before']:.1f} → {cpu['load_after']:.1f})",
             f"torch_step.py {torch['wall_s']:.0f} s (load "
             f"{torch['load_before']:.1f} → {torch['load_after']:.1f})"]
    if run_seconds:
        parts.append(f"whole bench/run.sh {run_seconds:.0f} s")
    if m["quick"]:
        parts.append("**--quick run: few rounds, not for conclusions**")
    return "_" + "; ".join(parts) + "._"


def summary(cpu, torch, run_seconds):
    main = [r for r in cpu["records"]
            if r["section"] == "main" and r["numel"] == TARGET_N
            and r["threads"] == 2 and r["cache"] == "cold"]
    names = present(main)
    header = (["layout", "quantizer", "coupling", "memory mode"]
              + [f"{n} GB/s" for n in names]
              + [f"fused/hand (≥ {FUSED_VS_HAND})",
                 f"fused/probe (≥ {FUSED_VS_PROBE})", "hand/probe",
                 "fused/unfused", "bitwise vs hand"])
    rows = [[r["layout"], r["quantizer"], r["coupling"], mode(r)]
            + [gbps(r, n) for n in names]
            + [cell(ratio(r, "fused", "hand"), target=FUSED_VS_HAND),
               cell(ratio(r, "fused", "probe"), target=FUSED_VS_PROBE),
               cell(ratio(r, "hand", "probe")),
               cell(ratio(r, "fused", "unfused")), bitwise(r)]
            for r in main]
    trows = [[r["layout"], r["coupling"], f"{r['threads']}",
              f"{r['torch']['median_s'] * 1e3:.1f}",
              f"{r['fused']['median_s'] * 1e3:.1f}",
              cell(r["fused/torch"], 1, FUSED_VS_TORCH)]
             for r in torch["records"] if r["threads"] == 2]
    ceiling = [r for r in cpu["records"]
               if r["section"] == "compute" and r["threads"] == 2]
    limits = ""
    if ceiling and main:
        probes = [r["impls"]["probe"]["gbps"] for r in main]
        limits = (
            "Limits in this run, 2 threads: the probe moves "
            f"{min(probes):.0f}–{max(probes):.0f} GB/s at N = 2^24; the "
            "hand-written step's arithmetic alone (2^16 parameters in cache, "
            f"back to back) runs at {ceiling[0]['impls']['hand']['gbps']:.0f} "
            "GB/s-equivalent. The step can reach the smaller of the two.")
    return "\n\n".join([
        meta_line(cpu, torch, run_seconds), limits,
        "N = 2^24, 2 threads, cold cache (values below a target in bold; "
        f"memory mode: fast where the probe exceeds {FAST_MODE_GBPS:.0f} "
        "GB/s):",
        table(header, rows),
        "PyTorch eager against the compiled fused step, 2 threads, row "
        "scales:",
        table(["layout", "coupling", "threads", "torch ms", "fused ms",
               f"fused/torch (≥ {FUSED_VS_TORCH:.0f})"], trows)])


def main_table(cpu):
    main = [r for r in cpu["records"] if r["section"] == "main"]
    names = present(main)
    header = (["layout", "quantizer", "coupling", "threads", "cache"]
              + [f"{n} ms" for n in names]
              + ["hand/probe", "fused/hand", "fused/probe", "fused/unfused",
                 "bitwise vs hand"])
    rows = [[r["layout"], r["quantizer"], r["coupling"], r["threads"],
             r["cache"]] + [ms(r, n) for n in names]
            + [cell(ratio(r, "hand", "probe")),
               cell(ratio(r, "fused", "hand"), target=FUSED_VS_HAND),
               cell(ratio(r, "fused", "probe"), target=FUSED_VS_PROBE),
               cell(ratio(r, "fused", "unfused")), bitwise(r)]
            for r in main]
    return table(header, rows)


def sweep_records(cpu):
    return sorted((r for r in cpu["records"] if r["section"] == "sweep"),
                  key=lambda r: r["numel"])


def sweep_table(cpu):
    sweep = sweep_records(cpu)
    names = present(sweep)
    header = (["N", "MiB moved"] + [f"{n} GB/s" for n in names]
              + ["fused/probe", "hand/probe", "bitwise vs hand"])
    rows = [[f"2^{r['numel'].bit_length() - 1}",
             f"{28 * r['numel'] / 2**20:.0f}"] + [gbps(r, n) for n in names]
            + [cell(ratio(r, "fused", "probe")),
               cell(ratio(r, "hand", "probe")), bitwise(r)] for r in sweep]
    return table(header, rows)


def compute_table(cpu):
    records = sorted((r for r in cpu["records"] if r["section"] == "compute"),
                     key=lambda r: r["threads"])
    names = present(records)
    header = (["threads", "N"] + [f"{n} GB/s" for n in names]
              + ["fused/hand", "bitwise vs hand"])
    rows = [[r["threads"], f"2^{r['numel'].bit_length() - 1}"]
            + [gbps(r, n) for n in names]
            + [cell(ratio(r, "fused", "hand")), bitwise(r)] for r in records]
    return table(header, rows)


def bf16_records(cpu, base):
    return [r for r in cpu["records"]
            if r["section"] == "bf16" and r["base_section"] == base]


def reference_check(record):
    return "=" if record["impls"]["bf16"]["bitwise_equal_to_reference"] \
        else "**≠**"


def bf16_table(cpu):
    main = bf16_records(cpu, "main")
    if not main:
        return "_No bf16-state records in this run (no LAYOUT.bf16.so)._"
    speedup = "t_fused / t_bf16"
    header = ["layout", "quantizer", "coupling", "threads", "cache",
              "memory mode", "probe GB/s", "fused ms", "bf16 ms",
              "fused GB/s (28 B)", "bf16 GB/s (20 B)", speedup,
              "bf16 vs reference"]
    rows = [[r["layout"], r["quantizer"], r["coupling"], r["threads"],
             r["cache"], mode(r), gbps(r, "probe"), ms(r, "fused"),
             ms(r, "bf16"), gbps(r, "fused"), gbps(r, "bf16"),
             cell(r["ratios"]["t_fused/t_bf16"]), reference_check(r)]
            for r in main]
    parts = [table(header, rows)]
    small = sorted(bf16_records(cpu, "compute"),
                   key=lambda r: r["threads"]) + sorted(
                       bf16_records(cpu, "sweep"), key=lambda r: r["numel"])
    if small:
        srows = [[{"compute": "in cache"}.get(r["base_section"],
                                              r["base_section"]),
                  f"2^{r['numel'].bit_length() - 1}", r["threads"],
                  r["cache"], gbps(r, "probe"), gbps(r, "fused"),
                  gbps(r, "bf16"), cell(r["ratios"]["t_fused/t_bf16"]),
                  reference_check(r)] for r in small]
        parts += ["The arithmetic's limit (2^16 parameters in cache, back "
                  "to back) and the sweep (one N/1024 × 1024 tensor, row "
                  "scales, decoupled, cold):",
                  table(["section", "N", "threads", "cache", "probe GB/s",
                         "fused GB/s (28 B)", "bf16 GB/s (20 B)", speedup,
                         "bf16 vs reference"], srows)]
    return "\n\n".join(parts)


def torch_table(torch):
    header = ["layout", "coupling", "threads", "torch ms", "torch GB/s",
              "fused ms", "fused GB/s", "fused/torch",
              "max rel. diff w / m / v"]
    rows = []
    for r in torch["records"]:
        d = r["max_relative_difference"]
        rows.append([r["layout"], r["coupling"], r["threads"],
                     f"{r['torch']['median_s'] * 1e3:.1f}",
                     f"{r['torch']['gbps']:.1f}",
                     f"{r['fused']['median_s'] * 1e3:.2f}",
                     f"{r['fused']['gbps']:.1f}",
                     cell(r["fused/torch"], 1, FUSED_VS_TORCH),
                     f"{d['w']:.0e} / {d['m']:.0e} / {d['v']:.0e}"])
    note = (f"OpenMP runtime: `{torch['meta']['runtime']}` (torch "
            f"{torch['meta']['torch']}); GB/s counts 28 B per parameter for "
            "both, whatever each moves.")
    return note + "\n\n" + table(header, rows)


def plot(cpu, path):
    sweep = sweep_records(cpu)
    if not sweep:
        sys.exit("report.py: no sweep records")
    fig, ax = plt.subplots(figsize=(7, 4.2))
    styles = {"probe": ("k", "--"), "hand": ("tab:blue", "-"),
              "fused": ("tab:red", "-"), "unfused": ("tab:orange", ":"),
              "update": ("tab:green", "-.")}
    for name in present(sweep):
        points = [(r["numel"].bit_length() - 1, r["impls"][name]["gbps"])
                  for r in sweep if name in r["impls"]]
        color, style = styles[name]
        ax.plot([p[0] for p in points], [p[1] for p in points], style,
                color=color, marker="o", markersize=3, label=name)
    first = sweep[0]
    ax.set_xlabel("N (parameters), log2")
    ax.set_ylabel("effective GB/s (28 B × N / median)")
    ax.set_xticks([r["numel"].bit_length() - 1 for r in sweep])
    ax.set_title(f"CAGE-AdamW step, one N/1024 × 1024 tensor, row scales, "
                 f"decoupled,\n{first['threads']} threads, cold cache "
                 f"({cpu['meta']['date'][:10]})", fontsize=10)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def replace_section(text, name, content):
    pattern = re.compile(
        rf"(<!-- report:{name} -->\n).*?(<!-- /report:{name} -->)", re.S)
    if not pattern.search(text):
        sys.exit(f"report.py: no <!-- report:{name} --> markers in the doc")
    return pattern.sub(lambda m: m.group(1) + content + "\n" + m.group(2),
                       text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpu", required=True)
    parser.add_argument("--torch", required=True)
    parser.add_argument("--doc", required=True)
    parser.add_argument("--plot", required=True)
    parser.add_argument("--run-seconds", type=float)
    args = parser.parse_args()
    cpu, torch = load(args.cpu), load(args.torch)
    with open(args.doc) as f:
        text = f.read()
    sections = {"summary": summary(cpu, torch, args.run_seconds),
                "main": main_table(cpu), "sweep": sweep_table(cpu),
                "compute": compute_table(cpu), "bf16": bf16_table(cpu),
                "torch": torch_table(torch)}
    for name, content in sections.items():
        text = replace_section(text, name, content)
    with open(args.doc, "w") as f:
        f.write(text)
    plot(cpu, args.plot)
    print(f"report.py: wrote {args.doc} and {args.plot}")


if __name__ == "__main__":
    main()
