# Mean 5-fold accuracy of every working experiment, and the per-dataset accuracies of the first and the best one.
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

nodes = [n for n in json.load(open("results_all.json")) if not n["buggy"] and "accuracy" in n["metrics"]]
best = json.load(open("best_results.json"))
datasets = sorted(k.split(".")[1] for k in best["metrics"] if k.startswith("datasets.") and k.endswith(".accuracy"))
fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2))
left.bar([n["id"] for n in nodes], [n["metrics"]["accuracy"] for n in nodes])
left.set_ylim(0.95, 0.99)
left.set_ylabel("mean 5-fold accuracy")
for offset, node in ((-0.2, nodes[0]), (0.2, best)):
    values = [node["metrics"][f"datasets.{d}.accuracy"] for d in datasets]
    right.bar([i + offset for i in range(len(datasets))], values, 0.4, label=node["id"])
right.set_xticks(range(len(datasets)), datasets, fontsize=8)
right.set_ylim(0.9, 1.0)
right.legend(fontsize=7)
fig.tight_layout()
fig.savefig("accuracy.png", dpi=130)
