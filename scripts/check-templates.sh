#!/usr/bin/env bash
# `npm run check-templates [-- NAME …]`: every built-in template's baseline run in the sandbox image (1 CPU, no
# network) must finish in under 2 minutes and record its metric; its plot.py must draw from those results.
# What it checks: scripts/check-templates.ts. Knob: AUTOLAB_PYTHON_IMAGE (default: the tag ensure-services.sh built).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# An image chosen by the caller wins over the one ensure-services.sh records.
CALLER_IMAGE="${AUTOLAB_PYTHON_IMAGE:-}"
ensure_node_deps
ensure_services
trap stop_started_services EXIT
[ -n "$CALLER_IMAGE" ] && export AUTOLAB_PYTHON_IMAGE="$CALLER_IMAGE"

npx tsx scripts/check-templates.ts "$@"
