#!/usr/bin/python3
"""Turns the benchmark results into the tables of docs/Performance.md and
the plots docs/img/bandwidth.png and docs/img/sgemm.png.

    report.py --cpu cpu.json --torch torch.json --doc Performance.md
              --plot bandwidth.png [--run-seconds S]
    report.py --sgemm sgemm.json --doc Performance.md --sgemm-plot sgemm.png

Either or both: bench/run.sh gives the first, bench/sgemm/run.sh the second.

The tables replace what stands between the marker comments
<!-- report:NAME --> and <!-- /report:NAME --> of the document, for NAME in
summary, main, sweep, compute, bf16 and torch; the rest of it is left as it
is. Ratios are ratios of effective bandwidth (28 bytes per parameter over the
median time), so of medians measured in the same rounds of one process. The
bf16 table (the records of section "bf16": the step with bf16 m, v, timed in
the rounds of a main, sweep or compute record) counts 20 bytes per parameter
for that step and gives t_fused / t_bf16, its speed-up over the fp32 fused
step.

The sgemm section (bench/sgemm: cage's matmul against OpenBLAS's
cblas_sgemm, alternating calls in one process) replaces what stands between
<!-- report:sgemm --> and <!-- /report:sgemm -->, if the document has those
markers (otherwise it says so and leaves the document as it is): the machine
and its FMA peak, the targets met per thread count, and one row per shape
and layout with GFLOP/s, the fraction of the peak and time_blas / time_cage
at every thread count.
"""

import argparse
import json
import math
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


# --- sgemm: bench/sgemm/run.sh ---------------------------------------------

SGEMM_LAYOUT_MARKERS = {"NN": "o", "NT": "s", "TN": "^", "TT": "D"}


def sgemm_threads(sgemm):
    return sorted({r["threads"] for r in sgemm["records"]})


def sgemm_meta_line(sgemm):
    m = sgemm["meta"]
    peaks = ", ".join(
        f"{m['peak_gflops_per_core'][t]:.0f} with {t} "
        f"thread{'s' if t != '1' else ''}"
        for t in sorted(m["peak_gflops_per_core"], key=int))
    parts = [f"measured {m['date']} on {m['cpu_model']}",
             f"FMA peak ({m['isa']} loop), GFLOP/s per core: {peaks}",
             f"OpenBLAS core {m['openblas_core']} "
             f"(`{m['openblas_config']}`)",
             f"{m['calls']} timed calls (+{m['warmup']} warm-up) of each "
             "per configuration, alternating, medians",
             f"KMP_BLOCKTIME={m['kmp_blocktime'] or '(unset)'}",
             f"{m['wall_s']:.0f} s (load average {m['load_before']:.1f} → "
             f"{m['load_after']:.1f})"]
    if m["quick"]:
        parts.append("**--quick run: few calls, small shapes, not for "
                     "conclusions**")
    return "_" + "; ".join(parts) + "._"


def sgemm_timed(r):
    return r["cage"] is not None and r["blas"] is not None


def sgemm_summary(sgemm):
    targets = sgemm["meta"]["targets"]
    large = targets["large_min_size"]
    rows = []
    for t in sgemm_threads(sgemm):
        for is_large in (True, False):
            records = [r for r in sgemm["records"]
                       if r["threads"] == t and sgemm_timed(r)
                       and r["passed"]
                       and (min(r["m"], r["n"], r["k"]) >= large) == is_large]
            target = targets["large" if is_large else "small"]
            shapes = (f"M, N, K ≥ {large}" if is_large
                      else f"any of M, N, K < {large}")
            if not records:
                rows.append([t, shapes, f"≥ {target}", "0 of 0", "–", "–"])
                continue
            ratios = [r["ratio"] for r in records]
            mean = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
            low = min(records, key=lambda r: r["ratio"])
            met = sum(r["meets_target"] for r in records)
            rows.append([t, shapes, f"≥ {target}",
                         f"{met} of {len(records)}",
                         cell(mean, 3, target),
                         f"{cell(low['ratio'], 3, target)} ({low['name']})"])
    failed = [r for r in sgemm["records"] if not r["passed"]]
    parts = [table(["threads", "shapes", "target blas/cage",
                    "configurations meeting it", "geometric mean",
                    "lowest"], rows)]
    if failed:
        parts.append("**Not passed:** " + "; ".join(
            f"{r['name']} {r['threads']}T: {r['status']} {r['message']}"
            for r in failed))
    return "\n\n".join(parts)


def sgemm_impl(r, name):
    impl = r[name]
    if impl is None:
        return "–"
    return f"{impl['gflops']:.1f} ({100 * impl['peak_fraction']:.0f}%)"


def sgemm_table(sgemm):
    threads = sgemm_threads(sgemm)
    by_name = {}
    for r in sgemm["records"]:
        by_name.setdefault(r["name"], {})[r["threads"]] = r
    header = ["configuration", "group", "layout", "M", "N", "K"]
    for t in threads:
        header += [f"cage GFLOP/s (peak) {t}T",
                   f"OpenBLAS GFLOP/s (peak) {t}T", f"blas/cage {t}T"]
    header += ["error", "status"]
    rows = []
    for name, per_thread in by_name.items():
        first = next(iter(per_thread.values()))
        row = [name, first["group"], first["layout"], first["m"], first["n"],
               first["k"]]
        for t in threads:
            r = per_thread.get(t)
            if r is None:
                row += ["–", "–", "–"]
                continue
            row += [sgemm_impl(r, "cage"), sgemm_impl(r, "blas"),
                    cell(r["ratio"], 3, r["target"])]
        error = first["error"]
        row += ["–" if error is None else f"{error:.1e}",
                first["status"] if first["passed"]
                else f"**{first['status']}**"]
        rows.append(row)
    return table(header, rows)


def sgemm_section(sgemm):
    targets = sgemm["meta"]["targets"]
    return "\n\n".join([
        sgemm_meta_line(sgemm),
        "blas/cage = OpenBLAS's median time over cage's, from the same "
        "alternating calls (> 1: cage is faster); targets "
        f"≥ {targets['large']} where all of M, N, K are at least "
        f"{targets['large_min_size']}, ≥ {targets['small']} below (values "
        "below their target in bold). GFLOP/s = 2·M·N·K / median; peak: "
        "the fraction of the FMA peak at that thread count. Error: "
        "max |C_cage − C_blas| / (K · max|a| · max|b|), a failure above "
        f"{sgemm['meta']['max_error']:.0e}.",
        sgemm_summary(sgemm), sgemm_table(sgemm)])


def sgemm_plot(sgemm, path):
    threads = sgemm_threads(sgemm)
    fig, axes = plt.subplots(1, len(threads), figsize=(5 * len(threads), 4.2),
                             sharey=True, squeeze=False)
    for ax, t in zip(axes[0], threads):
        records = [r for r in sgemm["records"]
                   if r["threads"] == t and sgemm_timed(r)]
        for impl, color, label in (("blas", "k", "OpenBLAS"),
                                   ("cage", "tab:red", "cage")):
            for layout, marker in SGEMM_LAYOUT_MARKERS.items():
                points = [(r["flops"] / 1e9, 100 * r[impl]["peak_fraction"])
                          for r in records if r["layout"] == layout]
                if points:
                    ax.scatter([p[0] for p in points],
                               [p[1] for p in points], c=color, s=14,
                               marker=marker, alpha=0.8,
                               label=f"{label} {layout}")
        ax.set_xscale("log")
        ax.set_xlabel("GFLOP per call (2·M·N·K)")
        ax.set_title(f"{t} thread{'s' if t != 1 else ''}", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("% of the FMA peak")
    axes[0][0].set_ylim(0, 100)
    axes[0][-1].legend(fontsize=7, ncol=2)
    m = sgemm["meta"]
    fig.suptitle(f"sgemm, cage against OpenBLAS ({m['openblas_core']}), "
                 f"{m['cpu_model']} ({m['date'][:10]})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def replace_section(text, name, content):
    pattern = re.compile(
        rf"(<!-- report:{name} -->\n).*?(<!-- /report:{name} -->)", re.S)
    if not pattern.search(text):
        sys.exit(f"report.py: no <!-- report:{name} --> markers in the doc")
    return pattern.sub(lambda m: m.group(1) + content + "\n" + m.group(2),
                       text)


def has_markers(text, name):
    return f"<!-- report:{name} -->\n" in text and \
        f"<!-- /report:{name} -->" in text


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpu")
    parser.add_argument("--torch")
    parser.add_argument("--plot")
    parser.add_argument("--sgemm")
    parser.add_argument("--sgemm-plot")
    parser.add_argument("--doc", required=True)
    parser.add_argument("--run-seconds", type=float)
    args = parser.parse_args()
    if not args.cpu and not args.sgemm:
        parser.error("give --cpu, --torch and --plot, or --sgemm")
    if args.cpu and not (args.torch and args.plot):
        parser.error("--cpu needs --torch and --plot")
    with open(args.doc) as f:
        text = f.read()
    wrote = []
    if args.cpu:
        cpu, torch = load(args.cpu), load(args.torch)
        sections = {"summary": summary(cpu, torch, args.run_seconds),
                    "main": main_table(cpu), "sweep": sweep_table(cpu),
                    "compute": compute_table(cpu), "bf16": bf16_table(cpu),
                    "torch": torch_table(torch)}
        for name, content in sections.items():
            text = replace_section(text, name, content)
        plot(cpu, args.plot)
        wrote.append(args.plot)
    if args.sgemm:
        sgemm = load(args.sgemm)
        # The sgemm markers are placed by hand; until they are, the tables
        # have nowhere to go, which is no reason to fail the run.
        if has_markers(text, "sgemm"):
            text = replace_section(text, "sgemm", sgemm_section(sgemm))
        else:
            print(f"report.py: no <!-- report:sgemm --> markers in "
                  f"{args.doc}: sgemm tables not written", file=sys.stderr)
        if args.sgemm_plot:
            sgemm_plot(sgemm, args.sgemm_plot)
            wrote.append(args.sgemm_plot)
    with open(args.doc, "w") as f:
        f.write(text)
    print(f"report.py: wrote {', '.join([args.doc] + wrote)}")

if __name__ == "__main__":
    main()
