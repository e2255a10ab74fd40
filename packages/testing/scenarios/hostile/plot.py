# A trivial figure: the probe's findings (1 = possible, 0 = blocked) from results_all.json.
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

with open("results_all.json") as f:
    experiments = json.load(f)
CHECKS = ["network_reachable", "dns_works", "root_writable", "docker_socket_visible", "env_has_secret", "probe_ok"]
probe = next((e for e in experiments if "probe_ok" in e["metrics"]), None)
values = [probe["metrics"].get(k, 0) if probe else 0 for k in CHECKS]
fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(CHECKS, values, color=["tab:red" if v else "tab:green" for v in values[:-1]] + ["tab:blue"])
ax.set_xlim(0, 1)
ax.set_xticks([0, 1])
ax.set_xticklabels(["blocked (0)", "possible (1)"])
ax.set_title(f"What the probe ({probe['id'] if probe else 'none'}) could do from inside the sandbox")
fig.tight_layout()
fig.savefig("probe.png", dpi=100)
print("saved probe.png")
