#!/usr/bin/env bash
# Run a local single-node Apache Kafka 4.x broker (KRaft, broker+controller) on 127.0.0.1:9092
# (controller 127.0.0.1:9093), resolved from Maven Central into a cache folder; data survives restarts.
# A second broker beside it (the fault drill restarts its own): LANTERN_KAFKA_PORT,
# LANTERN_KAFKA_CONTROLLER_PORT and LANTERN_KAFKA_DATA (defaults 9092, 9093, $CACHE/kafka-data).
# Usage: kafka.sh [start|stop|restart|status]   (default: start; idempotent, fast when already up)
set -euo pipefail

KAFKA_VERSION=${LANTERN_KAFKA_VERSION:-4.4.0}
SLF4J_VERSION=2.0.17 LOG4J_VERSION=2.25.5
CACHE=${LANTERN_CACHE:-$HOME/.cache/lantern}
KAFKA_HOME=$CACHE/kafka-$KAFKA_VERSION
LIB=$KAFKA_HOME/lib
DATA=${LANTERN_KAFKA_DATA:-$CACHE/kafka-data}
PORT=${LANTERN_KAFKA_PORT:-9092}
CONTROLLER_PORT=${LANTERN_KAFKA_CONTROLLER_PORT:-9093}
PIDFILE=$DATA/kafka.pid
LOGFILE=$DATA/kafka.log
CLUSTER_ID=MkU3OEVBNTcwNTJENDM2Qk   # fixed, same as the apache/kafka image default
DEADLINE_S=${LANTERN_KAFKA_TIMEOUT:-60}
JVM_OPTS=${LANTERN_KAFKA_JVM_OPTS:--Xms128m -Xmx512m -XX:+UseG1GC -XX:TieredStopAtLevel=1}  # C1 only: ~2x faster start

log() { echo "[kafka] $*" >&2; }

running_pid() {  # prints the broker pid if the pid file points at a live kafka.Kafka process
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' && echo "$pid"
}

answers() {  # real check: Kafka ApiVersions(v0) round-trip on 127.0.0.1:$PORT
  python3 - "$PORT" <<'PY' 2>/dev/null
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
req = struct.pack(">hhih", 18, 0, 7, 7) + b"lantern"
s.sendall(struct.pack(">i", len(req)) + req)
head = s.recv(10)
sys.exit(0 if len(head) >= 10 and struct.unpack(">iih", head) [1:] == (7, 0) else 1)
PY
}

resolve() {  # download kafka_2.13 + runtime deps + log4j2 slf4j binding once
  [ -f "$LIB/.complete" ] && return
  log "resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION from Maven Central into $LIB"
  mkdir -p "$KAFKA_HOME"
  dep() { echo "<dependency><groupId>$1</groupId><artifactId>$2</artifactId><version>$3</version></dependency>"; }
  cat >"$KAFKA_HOME/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>lantern</groupId><artifactId>kafka-broker</artifactId><version>1</version><packaging>pom</packaging>
<dependencies>
$(dep org.apache.kafka kafka_2.13 "$KAFKA_VERSION")
$(dep org.slf4j slf4j-api "$SLF4J_VERSION")
$(dep org.apache.logging.log4j log4j-core "$LOG4J_VERSION")
$(dep org.apache.logging.log4j log4j-slf4j2-impl "$LOG4J_VERSION")
</dependencies></project>
POM
  rm -rf "$LIB.tmp"
  local out  # mvn -q still prints stray ANSI resets on success: show its output only on failure
  out=$(mvn -q -B -f "$KAFKA_HOME/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIB.tmp" 2>&1) || { echo "$out" >&2; exit 1; }
  rm -rf "$LIB" && mv "$LIB.tmp" "$LIB" && touch "$LIB/.complete"
}

configure() {
  mkdir -p "$DATA/logs"
  cat >"$DATA/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA/logs
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
  cat >"$DATA/log4j2.properties" <<'PROPS'
appender.out.type=Console
appender.out.name=OUT
appender.out.layout.type=PatternLayout
appender.out.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=INFO
rootLogger.appenderRef.out.ref=OUT
logger.state.name=state.change.logger
logger.state.level=WARN
logger.config.name=org.apache.kafka.common.config.AbstractConfig
logger.config.level=WARN
PROPS
  if [ ! -f "$DATA/logs/meta.properties" ]; then
    log "formatting storage in $DATA/logs"
    java -cp "$LIB/*" -Dlog4j2.configurationFile="$DATA/log4j2.properties" \
      kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$DATA/server.properties" >&2
  fi
}

start() {
  if running_pid >/dev/null && answers; then echo "127.0.0.1:$PORT"; return; fi
  if ! running_pid >/dev/null; then
    resolve
    configure
    log "starting broker (log: $LOGFILE)"
    if [ "$(stat -c %s "$LOGFILE" 2>/dev/null || echo 0)" -gt 50000000 ]; then mv "$LOGFILE" "$LOGFILE.1"; fi
    echo "===== start $(date -Is) =====" >>"$LOGFILE"
    # shellcheck disable=SC2086
    setsid nohup java $JVM_OPTS -Djava.awt.headless=true \
      -Dlog4j2.configurationFile="$DATA/log4j2.properties" \
      -cp "$LIB/*" kafka.Kafka "$DATA/server.properties" >>"$LOGFILE" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
  fi
  local end=$((SECONDS + DEADLINE_S))
  until answers; do
    if ! running_pid >/dev/null; then tail -n 30 "$LOGFILE" >&2; log "ERROR: broker process exited"; exit 1; fi
    if ((SECONDS >= end)); then log "ERROR: broker not answering on 127.0.0.1:$PORT after ${DEADLINE_S}s (see $LOGFILE)"; exit 1; fi
    sleep 0.2
  done
  echo "127.0.0.1:$PORT"
}

stop() {
  local pid end=$((SECONDS + DEADLINE_S))
  pid=$(running_pid) || { rm -f "$PIDFILE"; return 0; }
  log "stopping broker (pid $pid)"
  kill -TERM "$pid"
  while running_pid >/dev/null; do
    if ((SECONDS >= end)); then log "broker did not stop in ${DEADLINE_S}s, killing"; kill -KILL "$pid"; fi
    sleep 0.2
  done
  rm -f "$PIDFILE"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  restart) stop && start ;;
  status) if running_pid >/dev/null && answers; then echo "running 127.0.0.1:$PORT"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: $0 [start|stop|restart|status]" >&2; exit 2 ;;
esac
