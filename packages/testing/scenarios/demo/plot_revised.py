"""Paper figure, revised after the vision model's critique: each panel has its own legend (stages by colour on the
left, preprocessings by marker on the right), instead of one legend on the left that explained both panels.

How far from the optimum every experiment ended, and how fast it got there, per preprocessing.

Reads only the files the engine provides (results_all.json and metric.json); never invents data. Experiments that
failed, or lack a value, are left out of a panel rather than drawn as zero. The excess loss (final training loss minus
the optimal training loss that each experiment computed with Newton's method) spans many orders of magnitude, so it is
drawn on a log scale, with values below 1e-10 drawn at 1e-10 ("at the optimum").
"""
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

with open("results_all.json") as f:
    experiments = json.load(f)
with open("metric.json") as f:
    metric = json.load(f)

STAGE_COLORS = {"baseline": "tab:blue", "tuning": "tab:orange", "research": "tab:green", "ablation": "tab:red"}
# (metric key, label, marker) per preprocessing; a key missing from an experiment is simply not drawn.
LOSSES = [
    (metric["name"], "standardized", "o"),
    ("final_loss_minmax", "min-max", "^"),
    ("final_loss_raw", "raw", "s"),
]
STEPS = [
    ("steps_to_tol_standardized", "standardized", "o"),
    ("steps_to_tol_minmax", "min-max", "^"),
    ("steps_to_tol_raw", "raw", "s"),
]

FLOOR = 1e-10
ran = [e for e in experiments if not e["buggy"] and e["metrics"]]
print(f"{len(experiments)} experiments, {len(ran)} with results")
ids = [e["id"] for e in ran]
x = np.arange(len(ran))

fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4.6), constrained_layout=True)
for panel, series, ylabel in (
    (left, LOSSES, "training loss − optimum"),
    (right, STEPS, "steps to tolerance"),
):
    for i, (key, label, marker) in enumerate(series):
        for j, e in enumerate(ran):
            value = e["metrics"].get(key)
            if value is None:
                continue
            if panel is left:
                if "optimal_loss" not in e["metrics"]:
                    continue
                value = max(value - e["metrics"]["optimal_loss"], FLOOR)
            panel.scatter(
                x[j] + (i - 1) * 0.18,
                value,
                marker=marker,
                s=46,
                color=STAGE_COLORS.get(e["stage"], "gray"),
                edgecolor="black",
                linewidth=0.5,
                zorder=3,
            )
    panel.set_xticks(x)
    panel.set_xticklabels(ids)
    panel.set_xlabel("experiment")
    panel.set_ylabel(ylabel)
    panel.grid(axis="y", alpha=0.3)

left.set_yscale("log")
left.axhline(FLOOR, color="gray", linestyle="--", linewidth=1)
left.text(-0.4, FLOOR * 3, "at the optimum", color="gray")
right.set_yscale("log")
budget = max((e["metrics"].get("steps", 0) for e in ran), default=0)
if budget:
    right.axhline(budget, color="gray", linestyle="--", linewidth=1)
    right.text(-0.4, budget * 0.45, "step budget: never within tolerance", color="gray", va="top")

stage_handles = [
    plt.Line2D([], [], marker="o", linestyle="", color=c, markeredgecolor="black", label=s)
    for s, c in STAGE_COLORS.items()
    if any(e["stage"] == s for e in ran)
]
setting_handles = [
    plt.Line2D([], [], marker=m, linestyle="", color="white", markeredgecolor="black", label=label)
    for _, label, m in LOSSES
    if any(k in e["metrics"] for e in ran for k, lab, _ in LOSSES if lab == label)
]
left.legend(handles=stage_handles, title="stage", loc="upper right", framealpha=0.9)
right.legend(handles=setting_handles, title="features", loc="center right", framealpha=0.9)
left.set_title("Excess training loss")
right.set_title("Speed of convergence")
fig.savefig("final_losses.png", dpi=130)
print("saved final_losses.png")
