# A long experiment that reports progress: used to cancel a run, or kill its worker, while it is running.
# Two minutes of progress lines; if nobody stops it, it records how many steps it completed.
import json
import time

STEPS = 240
for step in range(STEPS):
    print(f"step {step}", flush=True)
    time.sleep(0.5)
with open("results.json", "w") as f:
    json.dump({"steps": STEPS}, f)
print("done", flush=True)
