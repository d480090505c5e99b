#!/usr/bin/env bash
# Starts a real single-node Apache Kafka broker (KRaft, broker+controller) from its jars, for
# development and CI on machines without Docker (DESIGN.md, Services). Idempotent: exits 0 at once
# when 127.0.0.1:9092 already answers. Everything lives under ./.cache/kafka.
#   KAFKA_HEAP (default -Xmx1g)   KAFKA_START_TIMEOUT_S (default 60)
#   KAFKA_PORT (default 9092)     KAFKA_CONTROLLER_PORT (default 9093)
#   KAFKA_CACHE_DIR (default ./.cache/kafka): another one for a second, separate broker
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${KAFKA_CACHE_DIR:-$ROOT/.cache/kafka}"
HOST=127.0.0.1
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
TIMEOUT_S="${KAFKA_START_TIMEOUT_S:-60}"

answers() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

if answers "$PORT"; then
  echo "kafka already running at $HOST:$PORT"
  exit 0
fi

command -v java >/dev/null || { echo "kafka-start: java not found (install a JDK 17+)" >&2; exit 3; }
mkdir -p "$CACHE/data"

# A previous broker that is still starting (or hung) owns the data dir: don't start a second one.
if [[ -f "$CACHE/kafka.pid" ]] && kill -0 "$(cat "$CACHE/kafka.pid")" 2>/dev/null; then
  echo "kafka-start: a broker is already starting (pid $(cat "$CACHE/kafka.pid")); waiting for it"
else
  # Classpath: resolved once with Maven, again only when the pom changes.
  CP_FILE="$CACHE/classpath.txt"
  if [[ ! -s "$CP_FILE" || "$ROOT/kafka/pom.xml" -nt "$CP_FILE" ]]; then
    command -v mvn >/dev/null || { echo "kafka-start: mvn not found (needed once to fetch the Kafka jars)" >&2; exit 3; }
    echo "resolving Kafka jars with Maven (cached in ~/.m2 and $CP_FILE)"
    (cd "$ROOT/kafka" && mvn -q dependency:build-classpath -Dmdep.outputFile="$CP_FILE")
  fi
  CP="$ROOT/kafka:$(cat "$CP_FILE")"

  cat > "$CACHE/server.properties" <<PROPS
# Written by scripts/kafka-start.sh: edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$CACHE/data
num.partitions=6
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=3000
# Each new partition's offset and time indexes are sparse files mapped into memory at this size; the
# first write to each faults in and zeroes a disk read-ahead's worth (8 MB on this project's machine).
# 10 MB (Kafka's default) made a run's 42 new partitions cost the broker ~1 s of system time.
log.index.size.max.bytes=1048576
PROPS

  if [[ ! -f "$CACHE/data/meta.properties" ]]; then
    CLUSTER_ID="$(node -e 'process.stdout.write(require("crypto").randomBytes(16).toString("base64url"))')"
    echo "formatting $CACHE/data (cluster $CLUSTER_ID)"
    java -cp "$CP" kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$CACHE/server.properties" >"$CACHE/format.log" 2>&1 \
      || { cat "$CACHE/format.log" >&2; exit 1; }
  fi

  echo "starting kafka (log: $CACHE/kafka.log)"
  # setsid + nohup: the broker outlives this script and the terminal or test run that started it.
  setsid nohup java ${KAFKA_HEAP:--Xmx1g} -XX:+UseG1GC -Djava.awt.headless=true \
    -cp "$CP" kafka.Kafka "$CACHE/server.properties" >"$CACHE/kafka.log" 2>&1 < /dev/null &
  echo $! > "$CACHE/kafka.pid"
fi

PID="$(cat "$CACHE/kafka.pid")"
deadline=$((SECONDS + TIMEOUT_S))
until answers "$PORT"; do
  if ! kill -0 "$PID" 2>/dev/null; then
    echo "kafka-start: the broker exited during startup; last lines of $CACHE/kafka.log:" >&2
    tail -n 30 "$CACHE/kafka.log" >&2 || true
    exit 1
  fi
  if (( SECONDS >= deadline )); then
    echo "kafka-start: no answer on $HOST:$PORT after ${TIMEOUT_S}s (log: $CACHE/kafka.log)" >&2
    exit 1
  fi
  sleep 0.5
done
echo "kafka ready at $HOST:$PORT"
