"""Figures for the `grokking` template, drawn from the run's recorded results (the JSON files the figures step puts
in the working directory): steps to grok for every experiment, and training against validation accuracy at the end
of each experiment."""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

nodes = json.load(open("results_all.json"))
metric = json.load(open("metric.json"))
name = metric["name"]
good = [n for n in nodes if not n["buggy"] and name in n["metrics"]]

# 1. Steps until validation accuracy reached 99% (hollow markers: never within the budget).
fig, ax = plt.subplots(figsize=(6, 3.2))
for i, n in enumerate(good):
    grokked = n["metrics"].get("grokked", 1) >= 1
    ax.scatter(i, n["metrics"][name], facecolors="C0" if grokked else "none", edgecolors="C0")
ax.set_xticks(range(len(good)), [f"{n['id']}\n{n['stage']}" for n in good], fontsize=7)
ax.set_ylabel("steps to 99% validation accuracy")
ax.set_xlabel("experiment (hollow: did not grok within the budget)")
fig.tight_layout()
fig.savefig("steps_to_grok.png", dpi=130)

# 2. Final training and validation accuracy of every experiment: memorised (train high, validation low) or grokked.
with_acc = [n for n in good if "final_train_acc" in n["metrics"] and "final_val_acc" in n["metrics"]]
if with_acc:
    fig, ax = plt.subplots(figsize=(6, 3.2))
    xs = range(len(with_acc))
    ax.bar([x - 0.2 for x in xs], [n["metrics"]["final_train_acc"] for n in with_acc], 0.4, label="train")
    ax.bar([x + 0.2 for x in xs], [n["metrics"]["final_val_acc"] for n in with_acc], 0.4, label="validation")
    ax.set_xticks(list(xs), [n["id"] for n in with_acc], fontsize=7)
    ax.set_ylabel("final accuracy")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig("final_accuracy.png", dpi=130)
