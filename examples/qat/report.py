#!/usr/bin/python3
"""Turns the JSON results of the QAT experiments into markdown tables and
PNG plots (docs/QAT.md, "Results").

    report.py [--out DIR] [--plots DIR] [--markdown FILE] [--doc docs/QAT.md]

Reads <out>/{digits,charlm,quadratic,ptq_cliff}.json (whichever exist),
draws the plots into --plots (default <out>/plots), writes the tables and
the plot links to --markdown (default <out>/report.md), and with --doc
replaces the part of that file between the lines
    <!-- BEGIN RESULTS (report.py) -->
    <!-- END RESULTS (report.py) -->
with the same text (image links relative to the doc). A result file
written with --quick is labelled as a smoke run. It needs numpy and
matplotlib; not the cage library.
"""

import argparse
import json
import os
import sys

import common
from common import METHODS, np

import charlm
import digits
import quadratic

BEGIN = "<!-- BEGIN RESULTS (report.py) -->"
END = "<!-- END RESULTS (report.py) -->"

EXPERIMENTS = [
    ("digits", "Experiment 1: digits MLP", digits.tables),
    ("charlm", "Experiment 2: character-level transformer LM", charlm.tables),
    ("quadratic", "Experiment 3: noisy quadratic", quadratic.tables),
    ("ptq_cliff", "Experiment 4: the PTQ cliff (digits MLP, 8 to 2 bits)", digits.tables),
]

STYLE = {
    "fp": dict(color="black", marker="", linestyle="--"),
    "ptq": dict(color="tab:gray", marker="s"),
    "ste": dict(color="tab:blue", marker="o"),
    "cage-coupled": dict(color="tab:orange", marker="^"),
    "cage-decoupled": dict(color="tab:green", marker="v"),
}
FALLBACK_COLORS = ["tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan"]


def style(name):
    if name not in STYLE:   # a method added to common.METHODS later
        STYLE[name] = dict(color=FALLBACK_COLORS[len(STYLE) % len(FALLBACK_COLORS)], marker="D")
    return STYLE[name]


def label(name):
    return METHODS[name].label if name in METHODS else name


def pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def stats(records, metric, **key):
    v = [r[metric] for r in records if all(r.get(k) == x for k, x in key.items())
         and r.get(metric) is not None]
    mean, std, n = common.mean_std(v)
    return mean, (std or 0.0), n


def methods_in(records):
    names = {r["method"] for r in records}
    return [m for m in METHODS if m in names] + sorted(names - set(METHODS))


def subtitle(data):
    s = data["settings"]
    text = "%d seed%s" % (s["seeds"], "" if s["seeds"] == 1 else "s")
    if s.get("quick"):
        text += ", --quick smoke run"
    return text


# ---------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------


def plot_accuracy_vs_bits(data, path, title):
    """Digits and the PTQ cliff: accuracy against bit width, one line per
    method (mean, ± std band), the FP accuracy as a dashed line."""
    plt = pyplot()
    recs = data["records"]
    bits = sorted({r["bits"] for r in recs if r["bits"] is not None}, reverse=True)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name in methods_in(recs):
        st = style(name)
        if name == "fp":
            mean, std, n = stats(recs, "accuracy", method="fp", bits=None)
            if n:
                ax.axhline(100 * mean, label=label(name), color=st["color"], linestyle="--")
            continue
        pts = [(b,) + stats(recs, "accuracy", method=name, bits=b) for b in bits]
        pts = [p for p in pts if p[3]]
        if not pts:
            continue
        x = np.array([p[0] for p in pts])
        m = 100 * np.array([p[1] for p in pts])
        s = 100 * np.array([p[2] for p in pts])
        ax.plot(x, m, label=label(name), color=st["color"], marker=st["marker"])
        ax.fill_between(x, m - s, m + s, color=st["color"], alpha=0.15)
    ax.set_xlabel("bits (weights and activations)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_xticks(bits)
    ax.invert_xaxis()
    ax.grid(alpha=0.3)
    ax.set_title("%s (%s)" % (title, subtitle(data)))
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_charlm(data, path):
    """Bits per character per method and bit width (bars with ± std), the FP
    model as a dashed line."""
    plt = pyplot()
    recs = data["records"]
    bits = sorted({r["bits"] for r in recs if r["bits"] is not None}, reverse=True)
    names = [n for n in methods_in(recs) if n != "fp"]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        xs, ms, ss = [], [], []
        for j, b in enumerate(bits):
            mean, std, n = stats(recs, "bpc", method=name, bits=b)
            if n:
                xs.append(j + (i - (len(names) - 1) / 2) * width)
                ms.append(mean)
                ss.append(std)
        if xs:
            ax.bar(xs, ms, width, yerr=ss, label=label(name), color=style(name)["color"],
                   capsize=3)
    mean, std, n = stats(recs, "bpc", method="fp", bits=None)
    if n:
        ax.axhline(mean, color="black", linestyle="--", label=label("fp"))
    ax.set_xticks(range(len(bits)))
    ax.set_xticklabels([common.bits_label(b) for b in bits])
    lo = min([r["bpc"] for r in recs] + [mean or 1e9])
    hi = max(r["bpc"] for r in recs)
    ax.set_ylim(lo - 0.1 * (hi - lo + 0.1), hi + 0.1 * (hi - lo + 0.1))
    ax.set_ylabel("validation bits per character")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title("char LM (%s)" % subtitle(data))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_charlm_curves(data, path):
    """Validation bits per character during training, mean over seeds."""
    plt = pyplot()
    recs = [r for r in data["records"] if r.get("curve")]
    if not recs:
        return False
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    dashes = {4: "-", 3: ":", None: "--"}
    for name in methods_in(recs):
        for b in sorted({r["bits"] for r in recs if r["method"] == name},
                        key=lambda b: -1 if b is None else -b):
            cs = [r["curve"] for r in recs if r["method"] == name and r["bits"] == b]
            steps = [c["step"] for c in cs[0]]
            vals = np.mean([[c["eval_bpc"] for c in curve] for curve in cs
                            if len(curve) == len(steps)], axis=0)
            ax.plot(steps, vals, color=style(name)["color"], linestyle=dashes.get(b, "-."),
                    label="%s %s" % (label(name), common.bits_label(b)))
    ax.set_xlabel("step")
    ax.set_ylabel("bits per character (curve subset of val)")
    ax.grid(alpha=0.3)
    ax.set_title("char LM training curves (%s)" % subtitle(data))
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def plot_quadratic(data, path):
    """Deployed loss against kappa, one panel per bit width, log-log; the
    RTN of the exact optimum as a dotted reference."""
    plt = pyplot()
    recs = data["records"]
    bits = sorted({r["bits"] for r in recs if r["bits"] is not None}, reverse=True)
    kappas = sorted({r["cond_kappa"] for r in recs})
    fig, axes = plt.subplots(1, max(len(bits), 1), figsize=(5.0 * max(len(bits), 1), 4.0),
                             squeeze=False)
    for ax, b in zip(axes[0], bits):
        for name in methods_in(recs):
            key = dict(method=name, bits=None if name == "fp" else b)
            pts = [(k,) + stats(recs, "deployed_loss", cond_kappa=k, **key) for k in kappas]
            pts = [p for p in pts if p[3]]
            if not pts:
                continue
            x = np.array([p[0] for p in pts])
            m = np.array([p[1] for p in pts])
            s = np.array([p[2] for p in pts])
            st = style(name)
            ax.errorbar(x, m, yerr=s, label=label(name), color=st["color"],
                        marker=st["marker"] or "x", linestyle=st.get("linestyle", "-"),
                        capsize=3)
        ref = []
        for k in kappas:
            per_seed = {r["seed"]: r["rtn_optimum_loss"] for r in recs
                        if r["cond_kappa"] == k and r["bits"] == b
                        and r.get("rtn_optimum_loss") is not None}
            if per_seed:
                ref.append((k, float(np.mean(list(per_seed.values())))))
        if ref:
            ax.plot([p[0] for p in ref], [p[1] for p in ref], color="tab:red", linestyle=":",
                    label="f(Q(x*)) (reference)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("kappa (condition number)")
        ax.set_ylabel("deployed loss f(Q(x_T))")
        ax.set_title("%d bits, per tensor (%s)" % (b, subtitle(data)))
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_sweep(data, path, metric, scale=1.0, ylabel=None):
    """The lambda sweep: the validation metric against lambda per (method,
    bits[, kappa]), the selected lambda circled."""
    sel = data.get("selected_lambda", [])
    if not sel or len({float(k) for s in sel for k in s["means"]}) < 2:
        return False
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    bits_styles = ["-", "--", ":", "-."]
    all_bits = sorted({s["bits"] for s in sel}, reverse=True)
    for s in sel:
        lam = sorted(float(k) for k in s["means"])
        val = [scale * s["means"]["%g" % v] for v in lam]
        cond = " kappa %g" % s["cond_kappa"] if "cond_kappa" in s else ""
        bits = "%d bits" % s["bits"] if "cond_kappa" in s else common.bits_label(s["bits"])
        ls = bits_styles[all_bits.index(s["bits"]) % len(bits_styles)]
        ax.plot(lam, val, color=style(s["method"])["color"], linestyle=ls, marker="o",
                markersize=3, label="%s %s%s" % (label(s["method"]), bits, cond))
        ax.plot([s["lambda"]], [scale * s["means"]["%g" % s["lambda"]]], marker="o",
                markersize=9, markerfacecolor="none", color=style(s["method"])["color"])
    ax.set_xscale("log")
    if "cond_kappa" in sel[0]:
        ax.set_yscale("log")
    ax.set_xlabel("lambda")
    ax.set_ylabel(ylabel or metric)
    ax.grid(alpha=0.3)
    ax.set_title("lambda sweep, %s (selected: circled)" % data["experiment"])
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


# ---------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------


def describe(data):
    s = data["settings"]
    env = data.get("environment", {})
    # PTQ records repeat the training time of the FP run they evaluate.
    secs = sum(r.get("train_seconds", 0) for r in data["records"] + data["sweep"]
               if not (r["method"] in METHODS and METHODS[r["method"]].train == "fp"
                       and METHODS[r["method"]].quantized))
    lines = []
    if s.get("quick"):
        lines.append("**Smoke run (`--quick`): one seed and a reduced budget (the script's "
                     "QUICK settings); these numbers test the scripts, they are not the "
                     "experiment's results.**")
        lines.append("")
    commands = data.get("commands", [data.get("command", "?")])
    lines.append("%s %s; %s; written %s on %s, OMP_NUM_THREADS=%s; training "
                 "time %.0f s (compiling not included)." % (
                     "Commands (in order):" if len(commands) > 1 else "Command:",
                     ", then ".join("`%s`" % c for c in commands), subtitle(data),
                     data["created"], env.get("cpu", "?"),
                     env.get("OMP_NUM_THREADS") or "unset", secs))
    return "\n".join(lines)


def build(out, plots, link_base):
    """The markdown (image links relative to link_base) and the plots."""
    os.makedirs(plots, exist_ok=True)
    parts = []
    found = False
    for name, title, tables in EXPERIMENTS:
        path = os.path.join(out, name + ".json")
        if not os.path.exists(path):
            continue
        found = True
        with open(path) as f:
            data = json.load(f)
        parts.append("### %s\n\n%s\n" % (title, describe(data)))
        for caption, table in tables(data):
            parts.append("%s:\n\n%s\n" % (caption[0].upper() + caption[1:], table))
        images = []
        if name in ("digits", "ptq_cliff"):
            p = os.path.join(plots, name + ".png")
            plot_accuracy_vs_bits(data, p, "digits MLP" if name == "digits" else "PTQ cliff")
            images.append(p)
            metric, scale, yl = "accuracy", 100.0, "validation accuracy (%)"
        elif name == "charlm":
            p = os.path.join(plots, "charlm.png")
            plot_charlm(data, p)
            images.append(p)
            p = os.path.join(plots, "charlm_curves.png")
            if plot_charlm_curves(data, p):
                images.append(p)
            metric, scale, yl = "bpc", 1.0, "bits per character (tune split)"
        else:
            p = os.path.join(plots, "quadratic.png")
            plot_quadratic(data, p)
            images.append(p)
            metric, scale, yl = "deployed_loss", 1.0, "deployed loss (sweep instances)"
        p = os.path.join(plots, name + "_sweep.png")
        if plot_sweep(data, p, metric, scale, yl):
            images.append(p)
        for p in images:
            rel = os.path.relpath(p, link_base)
            parts.append("![%s](%s)\n" % (os.path.basename(p)[:-4], rel))
    if not found:
        parts.append("No result files in %s yet.\n" % out)
    return "\n".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(common.REPO, "examples", "qat", "results"),
                    help="the directory of the JSON results (default examples/qat/results)")
    ap.add_argument("--plots", help="where the PNGs go (default <out>/plots)")
    ap.add_argument("--markdown", help="the report (default <out>/report.md)")
    ap.add_argument("--doc", help="also replace the results section of this markdown file "
                                  "(docs/QAT.md)")
    args = ap.parse_args()
    plots = args.plots or os.path.join(args.out, "plots")
    md_path = args.markdown or os.path.join(args.out, "report.md")
    text = build(args.out, plots, os.path.dirname(os.path.abspath(md_path)))
    with open(md_path, "w") as f:
        f.write(text)
    print(text)
    print("wrote %s and the plots in %s" % (md_path, plots))
    if args.doc:
        with open(args.doc) as f:
            doc = f.read()
        if BEGIN not in doc or END not in doc:
            raise SystemExit("%s has no %s ... %s section" % (args.doc, BEGIN, END))
        text = build(args.out, plots, os.path.dirname(os.path.abspath(args.doc)))
        head, rest = doc.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        with open(args.doc, "w") as f:
            f.write(head + BEGIN + "\n\n" + text + "\n" + END + tail)
        print("updated %s" % args.doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
