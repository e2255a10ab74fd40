# Forks until the pid limit refuses, then exits with an error while every child lives on holding its pid: the
# sandbox must end the children before anything else runs there (copying files out needs a free pid).
import os
import sys
import time

forked = 0
while True:
    try:
        pid = os.fork()
    except BlockingIOError as error:
        print(f"forked {forked} children, then: {error}", flush=True)
        raise SystemExit(f"BlockingIOError after {forked} forks") from error
    if pid == 0:
        time.sleep(3600)
        os._exit(0)
    forked += 1
