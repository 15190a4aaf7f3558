#!/usr/bin/env bash
# A real schema registry for the integration tests: Apicurio Registry (in-memory H2 storage), which
# serves the Confluent-compatible REST API at /apis/ccompat/v7. Run from its release on Maven Central
# (io.apicurio:apicurio-registry-app:<version>:tar.gz:all, a ready Quarkus fast-jar), with a Java 21+
# found on the machine. No Docker.
#
# Usage: scripts/registry.sh <command>
#   fetch    copy and unpack the release into the cache folder (first run only)
#   start    start the registry in the background (its data lives in memory: every start is empty).
#            Does nothing if 127.0.0.1:$REGISTRY_PORT already answers.
#   wait     block until the Confluent-compatible API answers
#   stop     SIGTERM, wait, SIGKILL after $REGISTRY_STOP_TIMEOUT s
#   status   exit 0 if the registry answers, 1 otherwise
#   url      print the Confluent-compatible API's base URL
#   logs     print the path of the registry log
#
# Environment (all optional):
#   APICURIO_VERSION        3.3.3    another 3.x release of io.apicurio:apicurio-registry-app
#   REGISTRY_PORT           8081     HTTP port on 127.0.0.1 (the Confluent registry's usual port)
#   REGISTRY_CACHE_DIR      <project>/.cache/registry
#   REGISTRY_HEAP           384m     max heap
#   REGISTRY_JAVA                    a java binary of version 21 or newer (else JAVA_HOME's, the
#                                    default java, then the newest under /usr/lib/jvm)
#   REGISTRY_START_TIMEOUT  180      seconds, for wait
#   REGISTRY_STOP_TIMEOUT   30       seconds before SIGKILL
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
VERSION="${APICURIO_VERSION:-3.3.3}"
CACHE="${REGISTRY_CACHE_DIR:-$ROOT/.cache/registry}"
APP="$CACHE/app-$VERSION"
RUN="$CACHE/run"
LOG="$RUN/registry.log"
PIDFILE="$RUN/registry.pid"
HOST=127.0.0.1
PORT="${REGISTRY_PORT:-8081}"
HEAP="${REGISTRY_HEAP:-384m}"
START_TIMEOUT="${REGISTRY_START_TIMEOUT:-180}"
STOP_TIMEOUT="${REGISTRY_STOP_TIMEOUT:-30}"
API="http://$HOST:$PORT/apis/ccompat/v7"
MVN_DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

say() { echo "registry: $*" >&2; }
die() { say "$*"; exit 1; }

# The Confluent-compatible API answers a subject listing (a JSON array).
answers() {
  local body
  body="$(curl -fsS --max-time 2 "$API/subjects" 2>/dev/null)" || return 1
  [ "${body:0:1}" = "[" ]
}

port_open() {
  timeout 1 bash -c "exec 3<>/dev/tcp/$HOST/$PORT" 2>/dev/null
}

alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
  local stat; stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"; [ "${stat%% *}" != Z ]
}

registry_pid() {
  local pid=""
  [ -f "$PIDFILE" ] && pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  alive "$pid" && echo "$pid"
}

java_major() {  # $1 = java binary; prints its feature version (17, 21, 25...)
  "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}

# The release is compiled for Java 21: the first java of version 21 or newer.
find_java() {
  local candidate major
  for candidate in "${REGISTRY_JAVA:-}" "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java || true)" \
    $(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null | sort -rV); do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    major="$(java_major "$candidate")"
    [ -n "$major" ] && [ "$major" -ge 21 ] && { echo "$candidate"; return 0; }
  done
  return 1
}

cmd_fetch() {
  [ -f "$APP/.complete" ] && return 0
  command -v mvn >/dev/null || die "mvn not found (Maven is needed once to fetch the registry release)"
  say "fetching Apicurio Registry $VERSION with Maven into $APP"
  rm -rf "$APP" "$CACHE/download"
  mvn -B -q -Dstyle.color=never "$MVN_DEPENDENCY_PLUGIN:copy" \
    -Dartifact="io.apicurio:apicurio-registry-app:$VERSION:tar.gz:all" \
    -DoutputDirectory="$CACHE/download" 2>&1 | sed -e 's/\x1b\[[0-9;]*m//g' -e '/^[[:space:]]*$/d' >&2
  local archive="$CACHE/download/apicurio-registry-app-$VERSION-all.tar.gz"
  [ -s "$archive" ] || die "fetch failed: no $archive"
  mkdir -p "$APP"
  tar -xzf "$archive" -C "$APP"
  rm -rf "$CACHE/download"
  [ -f "$APP/quarkus-run.jar" ] || die "fetch failed: the release has no quarkus-run.jar"
  touch "$APP/.complete"
}

cmd_start() {
  if answers; then say "already running on $HOST:$PORT (nothing to do)"; return 0; fi
  local pid
  if pid="$(registry_pid)"; then say "already starting (pid $pid); use 'wait'"; return 0; fi
  port_open && die "port $PORT is taken by something that is not a schema registry; set REGISTRY_PORT"
  local java; java="$(find_java)" || die "no Java 21 or newer found (set REGISTRY_JAVA or JAVA_HOME)"
  cmd_fetch
  mkdir -p "$RUN"
  echo "===== start $(date -u +%FT%TZ) =====" >>"$LOG"
  # In-memory H2 storage (the default); loopback only; no management port (it would take 9000).
  # C1 only: start time matters more than throughput for test traffic.
  setsid "$java" -Xms64m -Xmx"$HEAP" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError \
    -Dquarkus.http.host="$HOST" -Dquarkus.http.port="$PORT" -Dquarkus.management.enabled=false \
    -Dquarkus.log.level=WARN -Dquarkus.log.category.\"io.quarkus\".level=INFO -Dquarkus.http.access-log.enabled=false \
    -jar "$APP/quarkus-run.jar" >>"$LOG" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$PIDFILE"
  say "Apicurio Registry $VERSION pid $pid ($java), API $API soon; log: $LOG"
}

cmd_wait() {
  local deadline=$((SECONDS + START_TIMEOUT)) pid
  pid="$(registry_pid || true)"
  [ -z "$pid" ] && ! port_open && die "not running; run: scripts/registry.sh start"
  until answers; do
    if [ -n "$pid" ] && ! alive "$pid"; then
      say "registry exited during startup; last log lines:"; tail -n 40 "$LOG" >&2; exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "no answer from $API after ${START_TIMEOUT}s; last log lines:"; tail -n 40 "$LOG" >&2; exit 1
    fi
    sleep 0.5
  done
}

cmd_stop() {
  local pid i
  if ! pid="$(registry_pid)"; then
    rm -f "$PIDFILE"
    if port_open; then say "something else serves $HOST:$PORT (not started by this script): left alone"
    else say "not running"; fi
    return 0
  fi
  say "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT * 4; i++)); do alive "$pid" || break; sleep 0.25; done
  if alive "$pid"; then
    say "still running after ${STOP_TIMEOUT}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
  say "stopped"
}

cmd_status() {
  if answers; then say "running: $API"; return 0; fi
  say "not running"; return 1
}

lock() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"
  command -v flock >/dev/null && flock 9
  return 0
}

cmd="${1:-}"; [ $# -gt 0 ] && shift
case "$cmd" in
  fetch) lock; cmd_fetch ;;
  start) lock; cmd_start ;;
  wait) cmd_wait ;;
  stop) lock; cmd_stop ;;
  status) cmd_status ;;
  url) echo "$API" ;;
  logs) echo "$LOG" ;;
  *) echo "usage: $0 fetch|start|wait|stop|status|url|logs" >&2; exit 2 ;;
esac
