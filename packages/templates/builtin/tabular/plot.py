"""Figures for the `tabular` template, drawn from the run's recorded results (the JSON files the figures step puts
in the working directory): the mean accuracy of every experiment by stage, and the best experiment against the
baseline on each dataset."""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

nodes = json.load(open("results_all.json"))
metric = json.load(open("metric.json"))
name = metric["name"]
good = [n for n in nodes if not n["buggy"] and name in n["metrics"]]

# 1. The primary metric of every working experiment, in order, coloured by stage.
stages = list(dict.fromkeys(n["stage"] for n in good))
fig, ax = plt.subplots(figsize=(6, 3.2))
for stage in stages:
    xs = [i for i, n in enumerate(good) if n["stage"] == stage]
    ax.scatter(xs, [good[i]["metrics"][name] for i in xs], label=stage)
ax.set_xticks(range(len(good)), [n["id"] for n in good], rotation=45, fontsize=7)
ax.set_xlabel("experiment")
ax.set_ylabel(f"{name} (mean over datasets)")
ax.legend(fontsize=7)
fig.tight_layout()
fig.savefig("accuracy_by_experiment.png", dpi=130)

# 2. Per dataset: the first working experiment (the baseline) against the best one.
best = json.load(open("best_results.json"))
if good and best:
    first = good[0]
    datasets = sorted({k.split(".")[1] for k in best["metrics"] if k.startswith("datasets.") and k.endswith(".accuracy")})
    if datasets:
        bars = {
            f"first working ({first['id']})": first["metrics"],
            f"best ({best['id']})": best["metrics"],
        }
        fig, ax = plt.subplots(figsize=(6, 3.2))
        width = 0.38
        lowest = 1.0
        for offset, (label, metrics) in zip((-width / 2, width / 2), bars.items()):
            values = [metrics.get(f"datasets.{d}.accuracy", float("nan")) for d in datasets]
            lowest = min([lowest] + [v for v in values if v == v])
            ax.bar([i + offset for i in range(len(datasets))], values, width, label=label)
        ax.set_xticks(range(len(datasets)), datasets)
        ax.set_ylabel("5-fold CV accuracy")
        ax.set_ylim(max(0.0, lowest - 0.05), 1.0)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig("accuracy_by_dataset.png", dpi=130)
