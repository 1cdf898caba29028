#!/usr/bin/env bash
# Runs the API (which starts the local PostgreSQL cluster and the embedded
# NATS server) and the projector; Ctrl-C stops both, projector first.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${CIHUI_DATA_DIR:-./.data}"
mkdir -p "$data"
rm -f "$data/endpoints.json"

./bin/api --dev "$@" &
api=$!
./bin/projector &
proj=$!

stop() {
  trap - INT TERM
  kill -TERM "$proj" 2>/dev/null || true
  wait "$proj" 2>/dev/null || true
  kill -TERM "$api" 2>/dev/null || true
  wait "$api" 2>/dev/null || true
}
trap stop INT TERM

# Exit when either process ends (and stop the other).
wait -n "$api" "$proj" || true
stop
