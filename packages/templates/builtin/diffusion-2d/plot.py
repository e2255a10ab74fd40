"""Figures for the `diffusion-2d` template, drawn from the run's recorded results (the JSON files the figures step
puts in the working directory): the mean energy distance of every experiment, and the best experiment against the
first working one on each point cloud, with the noise floor."""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

nodes = json.load(open("results_all.json"))
metric = json.load(open("metric.json"))
name = metric["name"]
good = [n for n in nodes if not n["buggy"] and name in n["metrics"]]

# 1. The primary metric of every working experiment (log scale: distances span orders of magnitude).
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(range(len(good)), [n["metrics"][name] for n in good], "o-")
floors = [n["metrics"]["noise_floor"] for n in good if "noise_floor" in n["metrics"]]
if floors:
    ax.axhline(sum(floors) / len(floors), color="grey", linestyle="--", label="noise floor (two data samples)")
    ax.legend(fontsize=7)
ax.set_yscale("log")
ax.set_xticks(range(len(good)), [f"{n['id']}\n{n['stage']}" for n in good], fontsize=7)
ax.set_ylabel("energy distance (mean over clouds)")
fig.tight_layout()
fig.savefig("energy_distance_by_experiment.png", dpi=130)

# 2. Per cloud: the first working experiment against the best one.
best = json.load(open("best_results.json"))
if good and best:
    clouds = sorted({k.split(".")[1] for k in best["metrics"] if k.startswith("clouds.") and k.endswith("." + name)})
    if clouds:
        fig, ax = plt.subplots(figsize=(6, 3.2))
        series = {f"first working ({good[0]['id']})": good[0]["metrics"], f"best ({best['id']})": best["metrics"]}
        for offset, (label, metrics) in zip((-0.2, 0.2), series.items()):
            values = [metrics.get(f"clouds.{c}.{name}", float("nan")) for c in clouds]
            ax.bar([i + offset for i in range(len(clouds))], values, 0.4, label=label)
        ax.set_xticks(range(len(clouds)), clouds)
        ax.set_yscale("log")
        ax.set_ylabel("energy distance")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig("energy_distance_by_cloud.png", dpi=130)
