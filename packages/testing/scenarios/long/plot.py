# The validation loss of every experiment of a long run, in order, coloured by stage (log scale: the ablations that
# remove scaling are orders of magnitude worse).
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

with open("results_all.json") as f:
    experiments = [e for e in json.load(f) if not e["buggy"] and "val_loss" in e["metrics"]]
COLORS = {"baseline": "tab:blue", "tuning": "tab:orange", "research": "tab:green", "ablation": "tab:red"}
fig, ax = plt.subplots(figsize=(9, 3.5))
for stage, color in COLORS.items():
    points = [(i, e["metrics"]["val_loss"]) for i, e in enumerate(experiments) if e["stage"] == stage]
    if points:
        ax.scatter(*zip(*points), color=color, label=stage, s=18)
ax.set_yscale("log")
ax.set_xlabel("experiment (in order)")
ax.set_ylabel("validation log-loss")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig("val_loss.png", dpi=110)
print(f"plotted {len(experiments)} experiments")
