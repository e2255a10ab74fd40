# Leaves processes behind and exits at once: one in a new session, one double-forked daemon. Neither may outlive
# this program's execution.
import os
import subprocess
import time

subprocess.Popen(["setsid", "sleep", "3600"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(3600)
    os._exit(0)
print("left two processes behind and exited", flush=True)
