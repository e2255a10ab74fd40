#!/usr/bin/env bash
# `npm start`: the API and one worker in the foreground (Ctrl-C stops both, and the services this started).
# Without OPENAI_API_KEY (and OPENAI_BASE_URL) the scripted model server is started instead, and it says so.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  stop_started_services
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_node_deps
ensure_services

if [ -z "${OPENAI_API_KEY:-}" ] && [ -z "${OPENAI_BASE_URL:-}" ]; then
  say "OPENAI_API_KEY is not set: starting the SCRIPTED model server; runs use model 'demo' (a fixed scenario)."
  mkdir -p .data
  node --import tsx packages/testing/src/scripted-server-main.ts >.data/scripted.out &
  PIDS+=($!)
  for _ in $(seq 1 100); do grep -q SCRIPTED_OPENAI_BASE_URL= .data/scripted.out 2>/dev/null && break; sleep 0.1; done
  export OPENAI_BASE_URL="$(sed -n 's/^SCRIPTED_OPENAI_BASE_URL=//p' .data/scripted.out)"
  export OPENAI_API_KEY="scripted" AUTOLAB_MODEL="${AUTOLAB_MODEL:-demo}"
fi

node --import tsx apps/api/src/main.ts &
PIDS+=($!)
node --import tsx apps/worker/src/main.ts &
PIDS+=($!)
say "API on http://${HOST:-127.0.0.1}:${PORT:-8080} (docs at /docs); Ctrl-C to stop"
wait -n "${PIDS[@]}"
