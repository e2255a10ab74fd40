# Probes the sandbox from inside and reports what it could do, as metrics (1 = possible, 0 = blocked).
import json
import os
import socket
import sys

results = {"uid": os.getuid()}
results["env_has_secret"] = int(any("sk-" in v or "API_KEY" in k or "OPENAI" in k for k, v in os.environ.items()))
try:
    socket.create_connection(("1.1.1.1", 80), timeout=3)
    results["network_reachable"] = 1
except OSError:
    results["network_reachable"] = 0
try:
    socket.getaddrinfo("deb.debian.org", 80)
    results["dns_works"] = 1
except OSError:
    results["dns_works"] = 0
try:
    with open("/evil.txt", "w") as f:
        f.write("x")
    results["root_writable"] = 1
except OSError:
    results["root_writable"] = 0
results["network_interfaces"] = len(os.listdir("/sys/class/net"))
results["docker_socket_visible"] = int(os.path.exists("/var/run/docker.sock"))
# Processes besides the container's keeper (PID 1) and this one: whatever earlier programs left must be gone.
results["stray_processes"] = len([p for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, os.getpid())])
# A file over the per-file output limit (20 MB by default): it stays in the sandbox and the node says so.
with open("big.bin", "wb") as f:
    f.write(b"\0" * (30 * 1024 * 1024))
print("environment:", sorted(os.environ), flush=True)
# A flood of output: 20 MB in 1 KB lines. The sandbox keeps the head and the tail.
line = "x" * 1023 + "\n"
for _ in range(20 * 1024):
    sys.stdout.write(line)
sys.stdout.flush()
results["probe_ok"] = 1
with open("results.json", "w") as f:
    json.dump(results, f)
print("probe finished", flush=True)
