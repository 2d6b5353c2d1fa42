#!/usr/bin/python3
"""Markdown tables from the results of whole_step.py (bench/results/step.json).

    report_step.py [step.json]        prints the tables

markdown(result) is what a `step` section of bench/report.py would put
between <!-- report:step --> markers; line(record) is the one-line summary
whole_step.py prints per measurement. Only the standard library.
"""

import json
import sys

TORCH_OVER_CAGE = 1.3      # target: torch total / cage step >= 1.3
W4A4_OVER_FLOAT = 1.15     # target: cage W4A4 step / cage float step <= 1.15


def ms(x):
    return "–" if x is None else (f"{x:.1f}" if x >= 10 else f"{x:.2f}")


def med(rec, key):
    return rec[key]["median_ms"] if key in rec else None


def line(r):
    """One measurement (model, variant, threads) on one line."""
    s = (f"{r['model']:5} {r['variant']:5} {r['threads']}T | cage fwd {ms(med(r, 'cage_forward'))}"
         f" grad {ms(med(r, 'cage_grad'))} step {ms(med(r, 'cage_step'))} (opt "
         f"{ms(med(r, 'cage_optimizer'))}) ms | torch fwd {ms(med(r, 'torch_forward'))} bwd "
         f"{ms(med(r, 'torch_backward'))} opt {ms(med(r, 'torch_optimizer'))} total "
         f"{ms(med(r, 'torch_total'))} ms | torch/cage {r['torch_total/cage_step']:.2f}")
    if "cage_w4a4_step/cage_float_step" in r and r["variant"] == "w4a4":
        s += f" | cage w4a4/float {r['cage_w4a4_step/cage_float_step']:.2f}"
    f = r.get("page_faults")
    if f:
        s += (f" | faults cage {f['cage_forward']}/{f['cage_grad']}/{f['cage_step']} torch "
              f"{f['torch_forward']}/{f['torch_backward']}/{f['torch_optimizer']}")
    return s


def _cell(rec, key):
    if key not in rec:
        return "–"
    return f"{ms(rec[key]['median_ms'])} ({ms(rec[key]['min_ms'])})"


def _flag(x, ok):
    return f"{x:.2f}" if ok else f"**{x:.2f}**"


def _min(rec, key):
    x = rec.get(key + " (min)")
    return "" if x is None else f" ({x:.2f})"


def markdown(result):
    """The tables: times per model × threads × variant, the ratios against
    their targets, the sanity checks. Bold ratios miss their target."""
    meta = result.get("meta", {})
    out = []
    shapes = meta.get("shapes", {})
    out.append(f"Medians (min) of {meta.get('calls')} calls after {meta.get('warmup')} "
               f"warm-up, ms{'; quick shapes' if meta.get('quick') else ''}. cage: "
               f"forward = `loss`, grad = `loss_grad`, step = `loss_train_step_inplace`, "
               f"optimizer = step − grad. torch: forward (zero_grad + loss), backward, "
               f"optimizer (AdamW step + CAGE correction), total per call. OpenBLAS core "
               f"{meta.get('openblas', {}).get('corename', '?')}; attention "
               f"{meta.get('attention_impl', 'generic')}; malloc "
               f"{meta.get('malloc', 'default')}; load average "
               f"{meta.get('load_before', 0):.2f} before, {meta.get('load_after', 0):.2f} after.")
    for m, s in shapes.items():
        out.append(f"- {m}: {s}")
    out.append("")
    out.append("| model | threads | training | cage forward | cage grad | cage step | cage opt "
               "| torch forward | torch backward | torch opt | torch total | torch/cage |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in result.get("records", []):
        ratio = r["torch_total/cage_step"]
        out.append(
            f"| {r['model']} | {r['threads']} | {r['variant']} | {_cell(r, 'cage_forward')} | "
            f"{_cell(r, 'cage_grad')} | {_cell(r, 'cage_step')} | "
            f"{ms(r['cage_optimizer']['median_ms'])} | {_cell(r, 'torch_forward')} | "
            f"{_cell(r, 'torch_backward')} | {_cell(r, 'torch_optimizer')} | "
            f"{_cell(r, 'torch_total')} | {_flag(ratio, ratio >= TORCH_OVER_CAGE)} |")
    out.append("")
    out.append(f"Ratios of medians, and in parentheses of minima (targets: torch total / cage "
               f"step ≥ {TORCH_OVER_CAGE}, cage W4A4 step / cage float step ≤ "
               f"{W4A4_OVER_FLOAT}; bold: the median's missed):")
    out.append("")
    out.append("| model | threads | torch/cage W4A4 | torch/cage float | cage W4A4/float "
               "| torch W4A4/float |")
    out.append("|---|---|---|---|---|---|")
    groups = {}
    for r in result.get("records", []):
        groups.setdefault((r["model"], r["threads"]), {})[r["variant"]] = r
    for (model, threads), g in groups.items():
        cells = []
        for v in ("w4a4", "float"):
            if v in g:
                x = g[v]["torch_total/cage_step"]
                cells.append(_flag(x, x >= TORCH_OVER_CAGE) + _min(g[v], "torch_total/cage_step"))
            else:
                cells.append("–")
        any_r = next(iter(g.values()))
        x = any_r.get("cage_w4a4_step/cage_float_step")
        cells.append("–" if x is None else _flag(x, x <= W4A4_OVER_FLOAT) +
                     _min(any_r, "cage_w4a4_step/cage_float_step"))
        x = any_r.get("torch_w4a4_total/torch_float_total")
        cells.append("–" if x is None else f"{x:.2f}")
        out.append(f"| {model} | {threads} | " + " | ".join(cells) + " |")
    recs = [r for r in result.get("records", []) if r.get("page_faults")]
    if recs:
        out.append("")
        out.append("Minor page faults per call (median; the whole process): fresh pages "
                   "touched by the call's allocations.")
        out.append("")
        out.append("| model | threads | training | cage forward | cage grad | cage step "
                   "| torch forward | torch backward | torch opt |")
        out.append("|---|---|---|---|---|---|---|---|---|")
        for r in recs:
            f = r["page_faults"]
            out.append(f"| {r['model']} | {r['threads']} | {r['variant']} | "
                       + " | ".join(str(f[k]) for k in (
                           "cage_forward", "cage_grad", "cage_step", "torch_forward",
                           "torch_backward", "torch_optimizer")) + " |")
    checks = result.get("checks", [])
    if checks:
        out.append("")
        out.append("Sanity checks (same weights and batch): the loss of one forward, cage "
                   "against torch (relative difference, tolerance), the gradients of "
                   "`loss_grad` against autograd (largest difference relative to the "
                   "parameter's largest gradient, floored at 1e-3 of the model's largest), "
                   "the loss before the first and after the last of a few steps on the "
                   "batch, the parameters after them:")
        out.append("")
        out.append("| model | training | loss cage | loss torch | rel. diff (tol) | grads "
                   "max rel. | steps | cage loss | torch loss | params after, max rel. | ok |")
        out.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for c in checks:
            out.append(
                f"| {c['model']} | {c['variant']} | {c['loss_cage']:.6f} | "
                f"{c['loss_torch']:.6f} | {c['loss_rel_diff']:.1e} ({c['loss_tol']:.0e}) | "
                f"{c['grad_max_rel_diff']:.1e} | {c['steps']} | "
                f"{c['losses_cage'][0]:.4f} → {c['losses_cage'][-1]:.4f} | "
                f"{c['losses_torch'][0]:.4f} → {c['losses_torch'][-1]:.4f} | "
                f"{c['params_max_rel_diff_after_steps']:.1e} | "
                f"{'yes' if c['ok'] else '**no**'} |")
    q = result.get("quantizer_checks", [])
    if q:
        same = sum(x["bitwise_equal"] for x in q)
        out.append("")
        out.append(f"`cage.quantize` (4 bits, per row) against the torch FakeQuant: bit for "
                   f"bit on {same} of {len(q)} tensors (the batch and every weight matrix).")
    return "\n".join(out)


def main(argv):
    path = argv[1] if len(argv) > 1 else "bench/results/step.json"
    with open(path) as f:
        print(markdown(json.load(f)))


if __name__ == "__main__":
    main(sys.argv)
