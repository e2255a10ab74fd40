"""Figures for the `char-lm` template, drawn from the run's recorded results (the JSON files the figures step puts
in the working directory): validation against training bits per character for every experiment, and the spread of
the best program over seeds when it was re-run."""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

nodes = json.load(open("results_all.json"))
metric = json.load(open("metric.json"))
name = metric["name"]
good = [n for n in nodes if not n["buggy"] and name in n["metrics"]]

# 1. Validation and training bits per character of every working experiment (a gap means over-fitting).
fig, ax = plt.subplots(figsize=(6, 3.2))
xs = range(len(good))
ax.plot(xs, [n["metrics"][name] for n in good], "o-", label="validation")
if all("train_bpc" in n["metrics"] for n in good):
    ax.plot(xs, [n["metrics"]["train_bpc"] for n in good], "s--", label="training")
ax.set_xticks(list(xs), [f"{n['id']}\n{n['stage']}" for n in good], fontsize=7)
ax.set_ylabel("bits per character")
ax.legend(fontsize=7)
fig.tight_layout()
fig.savefig("bits_per_char.png", dpi=130)

# 2. The best program over seeds, when the run re-ran it (seeds.json is null otherwise).
seeds = json.load(open("seeds.json"))
if seeds and seeds.get("values"):
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.scatter(seeds["seeds"], seeds["values"])
    ax.axhline(seeds["mean"], color="grey", linestyle="--", label=f"mean {seeds['mean']:.3f}")
    ax.set_xlabel("seed")
    ax.set_ylabel(f"{name} of {seeds['nodeId']}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig("seeds.png", dpi=130)
