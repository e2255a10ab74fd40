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
build_web

if [ -z "${OPENAI_API_KEY:-}" ] && [ -z "${OPENAI_BASE_URL:-}" ]; then
  say "OPENAI_API_KEY is not set: starting the SCRIPTED model server; runs use model 'demo' (a fixed scenario)."
  mkdir -p .data
  node --import tsx packages/testing/src/scripted-server-main.ts >.data/scripted.out &
  PIDS+=($!)
  for _ in $(seq 1 100); do grep -q SCRIPTED_OPENAI_BASE_URL= .data/scripted.out 2>/dev/null && break; sleep 0.1; done
  export OPENAI_BASE_URL="$(sed -n 's/^SCRIPTED_OPENAI_BASE_URL=//p' .data/scripted.out)"
  export OPENAI_API_KEY="scripted" AUTOLAB_MODEL="${AUTOLAB_MODEL:-demo}"
fi

# Authentication is on unless AUTOLAB_AUTH=off. Without AUTOLAB_ADMIN_KEY a random one is made (and printed), and it
# creates a key for tenant "default" for the dashboard and the CLI.
URL="http://${HOST:-127.0.0.1}:${PORT:-8080}"
[ "${HOST:-127.0.0.1}" = 0.0.0.0 ] && URL="http://127.0.0.1:${PORT:-8080}"
GENERATED_ADMIN_KEY=0
if [ "${AUTOLAB_AUTH:-on}" != off ] && [ -z "${AUTOLAB_ADMIN_KEY:-}" ]; then
  AUTOLAB_ADMIN_KEY="$(node -e 'console.log("adm_" + require("crypto").randomBytes(24).toString("base64url"))')"
  GENERATED_ADMIN_KEY=1
fi

AUTOLAB_ADMIN_KEY="${AUTOLAB_ADMIN_KEY:-}" node --import tsx apps/api/src/main.ts &
PIDS+=($!)
node --import tsx apps/worker/src/main.ts &
PIDS+=($!)
if [ "${AUTOLAB_AUTH:-on}" = off ]; then
  say "dashboard and API on $URL (API docs at /docs); AUTHENTICATION IS OFF (AUTOLAB_AUTH=off); Ctrl-C to stop"
else
  wait_for_url "$URL/openapi.json" 60 || { say "the API did not start"; exit 1; }
  TENANT_KEY="$(ADMIN_KEY="$AUTOLAB_ADMIN_KEY" node -e '
    fetch(process.argv[1] + "/v1/admin/keys", {
      method: "POST",
      headers: { authorization: "Bearer " + process.env.ADMIN_KEY, "content-type": "application/json" },
      body: JSON.stringify({ tenant: "default", name: "npm start" }),
    }).then(async (r) => {
      if (r.status !== 201) { console.error("creating an API key failed:", r.status, await r.text()); process.exit(1); }
      console.log((await r.json()).key);
    }, (e) => { console.error(e.message); process.exit(1); });' "$URL")"
  if [ "$GENERATED_ADMIN_KEY" = 1 ]; then
    say "admin key (AUTOLAB_ADMIN_KEY was not set; this one lasts until Ctrl-C): $AUTOLAB_ADMIN_KEY"
  fi
  say "API key of tenant default (for the CLI: export AUTOLAB_API_KEY=...): $TENANT_KEY"
  say "dashboard: $URL/#key=$TENANT_KEY"
  say "queue dashboard (admin): $URL/admin/queues/login?key=<admin key>"
  say "API on $URL (docs at /docs); Ctrl-C to stop"
fi
wait -n "${PIDS[@]}"
