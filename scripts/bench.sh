#!/usr/bin/env bash
# Sandbox latency benchmark (`npm run bench`): the sandbox package against plain Docker on this machine;
# `npm run bench -- dialects` measures the model dialects instead (scripts/dialects.ts, docs/models.md), and
# `npm run bench -- api` only the API's requests per second against a bare Fastify (scripts/bench-api.ts),
# `npm run bench -- redis` only what a long run keeps in and writes to Redis (scripts/bench-redis.ts), and
# `npm run bench -- first span rss` (any of sandbox, first, span, rss) only those parts of scripts/bench.ts.
# What it measures and how to read it: docs/performance.md. Works from a fresh clone: installs the npm packages and
# starts Redis, Docker and the images like `npm test`, and stops afterwards what it started.
#
# Knobs: BENCH_ITERATIONS (create -> first command, default 15), BENCH_EXEC_ITERATIONS (one exec, default 50),
# AUTOLAB_PYTHON_IMAGE (image to start; default: the tag scripts/ensure-services.sh built).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# An image chosen by the caller wins over the one ensure-services.sh records.
CALLER_IMAGE="${AUTOLAB_PYTHON_IMAGE:-}"
ensure_node_deps
ensure_services
trap stop_started_services EXIT
[ -n "$CALLER_IMAGE" ] && export AUTOLAB_PYTHON_IMAGE="$CALLER_IMAGE"

# `npm run bench -- dialects`: the demo in every model dialect (docs/models.md) instead of the sandbox benchmark.
if [ "${1:-}" = "dialects" ]; then
  shift
  npx tsx scripts/dialects.ts "$@"
elif [ "${1:-}" = "api" ]; then
  # Only the API's hot path against a bare Fastify hello-world (scripts/bench-api.ts).
  shift
  npx tsx scripts/bench-api.ts "$@"
elif [ "${1:-}" = "redis" ]; then
  # Only the Redis bytes of the `long` scenario at 11, 22 and 44 nodes (scripts/bench-redis.ts).
  shift
  npx tsx scripts/bench-redis.ts "$@"
else
  npx tsx scripts/bench.ts "$@"
fi
