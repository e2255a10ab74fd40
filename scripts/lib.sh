# Shared by the top-level scripts (test, demo, start). Source it; do not run it.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { printf '\033[1m[autolab]\033[0m %s\n' "$*" >&2; }

# npm dependencies: installed on a fresh clone, re-installed when the lockfile changed.
ensure_node_deps() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing npm dependencies (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error >&2
  fi
}

# Redis, Docker and the sandbox images; remembers what this invocation started so it can stop exactly that.
STARTED_MARK=0
ensure_services() {
  mkdir -p .data
  touch .data/started
  STARTED_MARK=$(wc -l <.data/started)
  bash scripts/ensure-services.sh "$@"
  set -a
  # shellcheck disable=SC1091
  . .data/services.env
  set +a
}

stop_started_services() {
  bash scripts/stop-services.sh "$STARTED_MARK"
}

# Waits until a URL answers 2xx (or the timeout in seconds passes).
wait_for_url() {
  local url="$1" timeout="${2:-60}"
  node -e '
    const [url, timeout] = process.argv.slice(1);
    const end = Date.now() + Number(timeout) * 1000;
    (async () => {
      while (Date.now() < end) {
        try { if ((await fetch(url)).ok) process.exit(0); } catch {}
        await new Promise((r) => setTimeout(r, 200));
      }
      process.exit(1);
    })();' "$url" "$timeout"
}

# Services run as `node --import tsx …` (one process each), so the pid a script records is the one to stop.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# The web dashboard (apps/web → apps/web/dist, served by the API at /): rebuilt when a source is newer than the build.
build_web() {
  local dist=apps/web/dist/index.html
  if [ -f "$dist" ] && [ -z "$(find apps/web/src apps/web/index.html apps/web/vite.config.ts apps/web/package.json \
    packages/api-client/src -newer "$dist" -print -quit 2>/dev/null)" ]; then
    return 0
  fi
  say "building the web dashboard (vite build in apps/web)"
  (cd apps/web && npx vite build --logLevel warn >&2)
}
