#!/usr/bin/env bash
# Stops the services scripts/ensure-services.sh started, from line N+1 of .data/started on (default: all).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FILE="$ROOT/.data/started"
[ -f "$FILE" ] || exit 0
FROM="${1:-0}"
tail -n +"$((FROM + 1))" "$FILE" | tac | while read -r name pid; do
  [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null || continue
  printf '[services] stopping %s (pid %s)\n' "$name" "$pid" >&2
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
done
head -n "$FROM" "$FILE" >"$FILE.tmp" && mv "$FILE.tmp" "$FILE"
