#!/usr/bin/env bash
# `npm run demo`: one research run end to end on this machine, through the real service.
# Installs what is missing, starts Redis/Docker (if needed), builds the sandbox images, starts the API and a worker,
# submits the demo goal with the CLI, shows its progress live, downloads the results into ./demo-output/<run-id>/,
# then stops everything it started. `npm run demo -- --keep` (or AUTOLAB_DEMO_KEEP=1) keeps the API, the worker and
# the dashboard up after the run until Ctrl-C. `npm run demo -- --template tabular` starts the run from a built-in
# template instead (packages/templates/builtin/): its baseline runs as the first experiment and its goal is the run's.
# `npm run demo -- --evolve` runs evolve mode instead (docs/evolve.md): the circle-packing example's program improved
# against its evaluator over four generations, with two scripted mutation models when no real model is configured.
#
# Without OPENAI_API_KEY the model is the project's scripted OpenAI-compatible server (the replies are a fixed
# scenario; the experiment code in them really runs in the sandbox and the paper's numbers are what it printed).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KEEP="${AUTOLAB_DEMO_KEEP:-0}"
TEMPLATE=""
EVOLVE=0
usage() { echo "usage: npm run demo [-- --keep] [-- --template NAME | --evolve]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) KEEP=1 ;;
    --template) [ $# -ge 2 ] || usage; TEMPLATE="$2"; shift ;;
    --template=*) TEMPLATE="${1#--template=}" ;;
    --evolve) EVOLVE=1 ;;
    *) usage ;;
  esac
  shift
done
if [ -n "$TEMPLATE" ] && [ "$EVOLVE" = 1 ]; then
  echo "--template and --evolve do not go together (an evolve run starts from a program, not a template)" >&2
  exit 2
fi
if [ -n "$TEMPLATE" ] && [ ! -f "packages/templates/builtin/$TEMPLATE/template.yaml" ]; then
  echo "no template $TEMPLATE; the built-in ones: $(ls packages/templates/builtin | grep -v '\.' | tr '\n' ' ')" >&2
  exit 2
fi
# With a template the goal is the template's (DEMO_GOAL still overrides it).
GOAL="${DEMO_GOAL:-}"
[ -n "$TEMPLATE" ] || GOAL="${GOAL:-How does standardizing the features affect the convergence of logistic regression trained by batch gradient descent on synthetic data?}"
LOGS="$ROOT/.data/demo"
mkdir -p "$LOGS"
PIDS=()
cleanup() {
  local code=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  stop_started_services
  exit $code
}
trap cleanup EXIT INT TERM

ensure_node_deps
ensure_services
build_web

SCRIPTED=0
if [ -z "${OPENAI_API_KEY:-}" ] && [ -z "${OPENAI_BASE_URL:-}" ]; then
  SCRIPTED=1
  # The scripted model's name is the scenario it replays: demo.yaml, or template-<name>.yaml for a template.
  SCENARIO="demo"
  [ -n "$TEMPLATE" ] && SCENARIO="template-$TEMPLATE"
  # Evolve mode: two scripted mutation models, one whose children improve and one whose never do (docs/evolve.md).
  [ "$EVOLVE" = 1 ] && SCENARIO="evolve-good"
  if [ ! -f "packages/testing/scenarios/$SCENARIO.yaml" ]; then
    say "there is no scripted scenario for the template $TEMPLATE (only for: $(ls packages/testing/scenarios | sed -n 's/^template-\(.*\)\.yaml$/\1/p' | tr '\n' ' '))."
    say "  Run it with a real model: OPENAI_API_KEY=sk-... npm run demo -- --template $TEMPLATE"
    exit 2
  fi
  say "OPENAI_API_KEY is not set: using the SCRIPTED model (packages/testing/scenarios/$SCENARIO.yaml)."
  say "  To use a real model: OPENAI_API_KEY=sk-... [OPENAI_BASE_URL=...] AUTOLAB_MODEL=gpt-4o-mini npm run demo"
  # Its own free port: PORT is the API's.
  node --import tsx packages/testing/src/scripted-server-main.ts >"$LOGS/scripted.out" 2>"$LOGS/scripted.log" &
  PIDS+=($!)
  for _ in $(seq 1 100); do grep -q SCRIPTED_OPENAI_BASE_URL= "$LOGS/scripted.out" 2>/dev/null && break; sleep 0.1; done
  export OPENAI_BASE_URL="$(sed -n 's/^SCRIPTED_OPENAI_BASE_URL=//p' "$LOGS/scripted.out")"
  [ -n "$OPENAI_BASE_URL" ] || { say "the scripted model server did not start; see $LOGS/scripted.log"; exit 1; }
  export OPENAI_API_KEY="scripted-demo-key"
  # Token counts are real (the scripted server reports them); price them like gpt-4o-mini so cost and budget show.
  # Built first: a `}` inside ${VAR:-default} would end the default early.
  DEMO_PRICE='{"inputPerMTok": 0.15, "outputPerMTok": 0.6}'
  DEMO_PRICES="{\"$SCENARIO\": $DEMO_PRICE, \"evolve-flat\": $DEMO_PRICE}"
  export AUTOLAB_MODEL_PRICES="${AUTOLAB_MODEL_PRICES:-$DEMO_PRICES}"
  say "  Its tokens are priced like gpt-4o-mini (\$0.15 / \$0.60 per million) so cost and budget are visible."
  export AUTOLAB_MODEL="$SCENARIO"
fi

PORT="${PORT:-8080}"
if ! node -e 'const s=require("net").createServer();s.once("error",()=>process.exit(1));s.listen(process.argv[1],"127.0.0.1",()=>s.close())' "$PORT"; then
  PORT="$(free_port)"
fi
export PORT HOST=127.0.0.1
export AUTOLAB_URL="http://127.0.0.1:$PORT"
export AUTOLAB_REDIS_PREFIX="${AUTOLAB_REDIS_PREFIX:-autolab}"

# Authentication is on: the API gets a fresh random admin key (only the API process sees it), which creates a key
# for tenant "demo"; the CLI uses that one (AUTOLAB_API_KEY).
ADMIN_KEY="${AUTOLAB_ADMIN_KEY:-$(node -e 'console.log("adm_" + require("crypto").randomBytes(24).toString("base64url"))')}"
AUTOLAB_ADMIN_KEY="$ADMIN_KEY" node --import tsx apps/api/src/main.ts >"$LOGS/api.log" 2>&1 &
PIDS+=($!)
node --import tsx apps/worker/src/main.ts >"$LOGS/worker.log" 2>&1 &
PIDS+=($!)
wait_for_url "$AUTOLAB_URL/healthz" 90 || { say "the service did not become healthy; logs in $LOGS"; exit 1; }
AUTOLAB_API_KEY="$(ADMIN_KEY="$ADMIN_KEY" node -e '
  fetch(process.argv[1] + "/v1/admin/keys", {
    method: "POST",
    headers: { authorization: "Bearer " + process.env.ADMIN_KEY, "content-type": "application/json" },
    body: JSON.stringify({ tenant: "demo", name: "npm run demo" }),
  }).then(async (r) => {
    if (r.status !== 201) { console.error("creating the demo API key failed:", r.status, await r.text()); process.exit(1); }
    console.log((await r.json()).key);
  }, (e) => { console.error(e.message); process.exit(1); });' "$AUTOLAB_URL")"
export AUTOLAB_API_KEY
say "Autolab is up at $AUTOLAB_URL (API docs: $AUTOLAB_URL/docs; logs: $LOGS)"
say "dashboard (tenant demo): $AUTOLAB_URL/#key=$AUTOLAB_API_KEY"

[ "$KEEP" = 1 ] || say "(the service stops when the run ends; npm run demo -- --keep leaves it up for the dashboard)"

# The scripted scenario tells its story (draft crashes → debug → tune → research → ablation) with one draft; a real
# model gets the engine's default search policy. A template's scenario is shorter: its baseline, one improvement.
MAX_ITERATIONS=6
[ -n "$TEMPLATE" ] && [ "$SCRIPTED" = 1 ] && MAX_ITERATIONS=2
SUBMIT_FLAGS=(--max-iterations "$MAX_ITERATIONS")
[ "$SCRIPTED" = 1 ] && SUBMIT_FLAGS+=(--num-drafts 1)
[ -n "$TEMPLATE" ] && SUBMIT_FLAGS+=(--template "$TEMPLATE")
# A USD budget binds only a model with a price (the API refuses one otherwise): a model without one (a local
# server's) gets a token cap instead.
if node --import tsx -e 'import("@autolab/contracts").then(({ PricesSetting, priceOf }) => process.exit(priceOf(PricesSetting.parse(process.env.AUTOLAB_MODEL_PRICES), process.env.AUTOLAB_MODEL || "gpt-4o-mini") ? 0 : 1))'; then
  SUBMIT_FLAGS+=(--budget-usd 2)
else
  say "no price is known for ${AUTOLAB_MODEL:-gpt-4o-mini} (AUTOLAB_MODEL_PRICES): the run has no USD budget; its tokens are capped at 3,000,000."
  SUBMIT_FLAGS+=(--max-tokens 3000000)
fi
GOAL_ARGS=()
[ -n "$GOAL" ] && GOAL_ARGS=("$GOAL")
if [ "$EVOLVE" = 1 ]; then
  # The circle-packing example (examples/evolve/circle-packing): the program and its evaluator, uploaded by the CLI.
  EVOLVE_FLAGS=(--generations 4 --population 2 --islands 2 --meta-interval 2)
  [ "$SCRIPTED" = 1 ] && EVOLVE_FLAGS+=(--models evolve-good,evolve-flat)
  RUN_ID="$(npx tsx apps/cli/src/main.ts evolve --json --time-limit-minutes 20 "${EVOLVE_FLAGS[@]}" \
    --evaluator examples/evolve/circle-packing/evaluator examples/evolve/circle-packing/program.py \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).id))')"
else
  RUN_ID="$(npx tsx apps/cli/src/main.ts submit --json --time-limit-minutes 20 "${SUBMIT_FLAGS[@]}" "${GOAL_ARGS[@]}" \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).id))')"
fi
say "submitted run $RUN_ID; following its events:"
set +e
npx tsx apps/cli/src/main.ts watch "$RUN_ID"
WATCH_STATUS=$?
set -e
say "the tree (autolab tree $RUN_ID):"
npx tsx apps/cli/src/main.ts tree "$RUN_ID" || true

OUT="$ROOT/demo-output/$RUN_ID"
npx tsx apps/cli/src/main.ts download "$RUN_ID" all --out "$OUT" || true
say "results: $OUT"
ls -la "$OUT" >&2 || true
if [ "$SCRIPTED" = 1 ]; then
  say "Reminder: the model was SCRIPTED (offline demo). The code it wrote really ran in the sandbox; the paper's"
  say "numbers are what that code printed. Set OPENAI_API_KEY (and OPENAI_BASE_URL, AUTOLAB_MODEL) for a real model."
fi
if [ "$KEEP" = 1 ]; then
  say "the service stays up (--keep): dashboard $AUTOLAB_URL/#key=$AUTOLAB_API_KEY — Ctrl-C stops everything"
  wait "${PIDS[@]}" || true
fi
exit $WATCH_STATUS
