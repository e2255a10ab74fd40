#!/usr/bin/env bash
# Sandbox latency benchmark (`npm run bench`): the sandbox package against plain Docker on this machine;
# `npm run bench -- dialects` measures the model dialects instead (scripts/dialects.ts, docs/models.md).
# What it measures and how to read it: docs/performance.md.
#
# Knobs: BENCH_ITERATIONS (create -> first command, default 15), BENCH_EXEC_ITERATIONS (one exec, default 50),
# AUTOLAB_PYTHON_IMAGE (image to start; default: the tag scripts/ensure-services.sh built).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# An image chosen by the caller wins over the one ensure-services.sh records.
CALLER_IMAGE="${AUTOLAB_PYTHON_IMAGE:-}"
bash scripts/ensure-services.sh
set -a
# shellcheck disable=SC1091
. "$ROOT/.data/services.env"
set +a
[ -n "$CALLER_IMAGE" ] && export AUTOLAB_PYTHON_IMAGE="$CALLER_IMAGE"

# `npm run bench -- dialects`: the demo in every model dialect (docs/models.md) instead of the sandbox benchmark.
if [ "${1:-}" = "dialects" ]; then
  shift
  exec npx tsx scripts/dialects.ts "$@"
fi
exec npx tsx scripts/bench.ts "$@"
