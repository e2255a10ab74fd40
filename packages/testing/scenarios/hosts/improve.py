# The improved experiment: about eight seconds, mostly waiting: long enough to take its host away while it runs, cheap
# enough that many runs at once do not compete for the CPU.
import json
import time

for step in range(16):
    print(f"step {step}", flush=True)
    time.sleep(0.5)
with open("results.json", "w") as f:
    json.dump({"score": 2.0}, f)
print("score 2.0", flush=True)
