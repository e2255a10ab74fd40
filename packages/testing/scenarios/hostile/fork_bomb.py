# Forks without end; the pid limit stops the growth and the timeout ends the rest.
import os

print("forking without end", flush=True)
while True:
    try:
        os.fork()
    except OSError:
        pass
