# slow.py's count at a quarter of its pace: thirty seconds of progress lines, long enough to kill a worker while it
# runs, short enough that the resumed run re-runs it quickly (tests/e2e/resume.int.test.ts).
import json
import time

STEPS = 240
for step in range(STEPS):
    print(f"step {step}", flush=True)
    time.sleep(0.125)
with open("results.json", "w") as f:
    json.dump({"steps": STEPS}, f)
print("done", flush=True)
