#!/usr/bin/env bash
# `npm test`: installs and starts everything the tests need (npm packages, Redis, Docker, sandbox images), then runs
# the type check, the linter and every test. Ends with one line "N passed, N failed".
set -uo pipefail
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set -e
ensure_node_deps
ensure_services --test-tools
build_web
set +e
# The whole suite: the multi-host test's second Docker engine gets its image cache filled in the background meanwhile
# (2-4 minutes the first time; the test waits for it). A run of chosen files leaves that to the test itself.
PREPARE_PID=""
if [ $# -eq 0 ]; then
  mkdir -p test-output
  node --import tsx tests/prepare-test-engine.ts >test-output/test-engine.log 2>&1 &
  PREPARE_PID=$!
fi
finish_background() {
  if [ -n "$PREPARE_PID" ] && kill -0 "$PREPARE_PID" 2>/dev/null; then
    kill "$PREPARE_PID" 2>/dev/null
    wait "$PREPARE_PID" 2>/dev/null
  fi
  return 0
}
trap 'finish_background; stop_started_services' EXIT

mkdir -p test-output
status=0
say "type check (turbo run typecheck)"
npx turbo run typecheck typecheck:root --output-logs=errors-only || status=1
say "lint (biome)"
npx biome check . || status=1

say "tests (vitest)"
npx vitest run --reporter=default --reporter=json --outputFile.json=test-output/vitest.json "$@" || status=1

if [ -f test-output/vitest.json ]; then
  summary="$(node -e '
    const r = require("./test-output/vitest.json");
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0)} failed`);
    if (r.numTotalTests === 0) { console.log("no test ran"); process.exit(1); }
  ')" || status=1
else
  summary="0 passed, 1 failed (vitest wrote no report)"
  status=1
fi
# Stop the services first, so that the summary is the very last line.
finish_background
stop_started_services
trap - EXIT
echo "$summary"
exit $status
