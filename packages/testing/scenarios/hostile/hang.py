# Never finishes on its own; also leaves a detached child behind.
import subprocess
import time

subprocess.Popen(["sleep", "600"], start_new_session=True)
print("sleeping for ten minutes", flush=True)
time.sleep(600)
