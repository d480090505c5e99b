#!/usr/bin/env bash
# Stops the broker that scripts/kafka-start.sh started (by its pid file), waiting for a clean exit.
# Its data stays in .cache/kafka/data; delete that folder for a fresh cluster.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PID_FILE="${KAFKA_CACHE_DIR:-$ROOT/.cache/kafka}/kafka.pid"
TIMEOUT_S="${KAFKA_STOP_TIMEOUT_S:-30}"

if [[ ! -f "$PID_FILE" ]]; then
  echo "kafka not running (no $PID_FILE)"
  exit 0
fi
PID="$(cat "$PID_FILE")"
if ! kill -0 "$PID" 2>/dev/null; then
  echo "kafka not running (stale pid $PID)"
  rm -f "$PID_FILE"
  exit 0
fi
kill -TERM "$PID"
deadline=$((SECONDS + TIMEOUT_S))
while kill -0 "$PID" 2>/dev/null; do
  if (( SECONDS >= deadline )); then
    echo "kafka-stop: pid $PID still running after ${TIMEOUT_S}s; sending KILL" >&2
    kill -KILL "$PID" 2>/dev/null || true
    break
  fi
  sleep 0.3
done
rm -f "$PID_FILE"
echo "kafka stopped"
