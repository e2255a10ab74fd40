# An experiment of about ten seconds that reports progress: long enough to cut Docker away while it runs.
import json
import time

STEPS = 20
for step in range(STEPS):
    print(f"step {step}", flush=True)
    time.sleep(0.5)
with open("results.json", "w") as f:
    json.dump({"steps": STEPS}, f)
print("done", flush=True)
