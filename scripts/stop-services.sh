#!/usr/bin/env bash
# Stops the services scripts/ensure-services.sh started, from line N+1 of .data/started on (default: all), newest
# first, and forgets those that are gone. A process that does not stop stays in the record for the next attempt.
#
# Runs when a script ends, often because of Ctrl-C: its stdout and stderr may be a pipe whose reader (`| tee`) died
# of the same Ctrl-C. Writing there must not end this script before it has stopped everything (SIGPIPE ignored, and
# every message is best effort), or a service keeps running while the record no longer names it.
set -uo pipefail
trap '' PIPE INT
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FILE="$ROOT/.data/started"
[ -f "$FILE" ] || exit 0
FROM="${1:-0}"
note() { printf '[services] %s\n' "$*" >&2 2>/dev/null || true; }

mapfile -t ENTRIES < <(tail -n +"$((FROM + 1))" "$FILE")
STILL_RUNNING=()
for ((i = ${#ENTRIES[@]} - 1; i >= 0; i--)); do
  read -r name pid <<<"${ENTRIES[$i]}"
  [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null || continue
  note "stopping $name (pid $pid)"
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    note "$name (pid $pid) did not stop; it stays in $FILE"
    STILL_RUNNING=("${ENTRIES[$i]}" "${STILL_RUNNING[@]}")
  fi
done
{
  head -n "$FROM" "$FILE"
  for entry in "${STILL_RUNNING[@]}"; do printf '%s\n' "$entry"; done
} >"$FILE.tmp" && mv "$FILE.tmp" "$FILE"
