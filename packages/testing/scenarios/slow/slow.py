# A long experiment that reports progress: used to cancel a run while it is running.
import time

for step in range(240):
    print(f"step {step}", flush=True)
    time.sleep(0.5)
