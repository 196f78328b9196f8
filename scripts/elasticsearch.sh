#!/usr/bin/env bash
# Run a real single-node Elasticsearch for the tests:
#   scripts/elasticsearch.sh start|stop|status|crash|wipe
#   ES_PORT            http port (default 9200), bound to 127.0.0.1 only
#   ES_TRANSPORT_PORT  transport port (default: Elasticsearch's own, the first free in 9300-9399)
#   ES_STATE_DIR       node state dir, relative to the checkout or absolute (default .es)
#   ES_NODE_NAME       node name (default yuqing-test-node)
#   ES_HEAP            JVM heap, -Xms and -Xmx (default 512m; e.g. 2g for bench/dashboard.py)
#   ES_JAVA_HOME       JDK >= 21 (default: newest under /usr/lib/jvm, temurin-25 preferred)
# Several nodes run side by side when each has its own ES_PORT and ES_STATE_DIR, e.g.
#   ES_PORT=9250 ES_TRANSPORT_PORT=9350 ES_STATE_DIR=.es/other scripts/elasticsearch.sh start
# `crash` kills the node with SIGKILL (no clean shutdown), for outage tests; `wipe` crashes a
# throwaway node (one with its own ES_STATE_DIR) and deletes its state dir.
# The official integ-test-zip comes from Maven Central into .cache/elasticsearch/; it lacks the
# rest-root module (GET /), so we build our own stand-in from scripts/es-rest-root/ with javac.
# It has no reindex or lang-painless module either: no _reindex, _delete_by_query or scripts.
# Node state (unpacked distribution, data, logs, pid) lives in ES_STATE_DIR -- or, if the ES user
# cannot reach the checkout (e.g. under /root), in /var/tmp/yuqing-es-<hash>. Security is off.
set -euo pipefail

ES_VERSION=9.2.4
ES_PORT="${ES_PORT:-9200}"
ES_TRANSPORT_PORT="${ES_TRANSPORT_PORT:-}"
ES_NODE_NAME="${ES_NODE_NAME:-yuqing-test-node}"
ES_HEAP="${ES_HEAP:-512m}"
ES_USER=yuqing-es
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache/elasticsearch"
SRC="$ROOT/scripts/es-rest-root"
URL="http://127.0.0.1:$ES_PORT"

is_root() { [ "$(id -u)" = 0 ]; }
as_es() { if is_root; then runuser -u "$ES_USER" -- "$@"; else "$@"; fi; }

pick_state() {  # STATE must be reachable/writable by the ES user
  local key="$ROOT"  # the default state dir keeps its old fallback name
  STATE="${ES_STATE_DIR:-.es}"
  [[ "$STATE" = /* ]] || STATE="$ROOT/$STATE"
  [ -z "${ES_STATE_DIR:-}" ] || key="$STATE"
  local parent="$ROOT"
  case "$STATE" in "$ROOT"/*) ;; *) parent="$(dirname "$STATE")" ;; esac
  if is_root && ! { id "$ES_USER" >/dev/null 2>&1 && as_es test -x "$parent"; }; then
    STATE="/var/tmp/yuqing-es-$(printf %s "$key" | md5sum | cut -c1-10)"
  fi
  ES_HOME="$STATE/elasticsearch-$ES_VERSION"
  PIDFILE="$STATE/es.pid"
}

find_jdk() {  # ES_JAVA_HOME override, else temurin-25, else any JDK with JAVA_VERSION >= 21
  if [ -n "${ES_JAVA_HOME:-}" ]; then echo "$ES_JAVA_HOME"; return; fi
  local d v
  for d in /usr/lib/jvm/temurin-25* /usr/lib/jvm/*; do
    [ -f "$d/release" ] && [ -x "$d/bin/javac" ] || continue
    v="$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$d/release")"
    if [ "${v:-0}" -ge 21 ]; then echo "$d"; return; fi
  done
  echo "no JDK >= 21 found under /usr/lib/jvm; set ES_JAVA_HOME" >&2; return 1
}

running_pid() {  # pid of the node we started, if it is still alive
  local pid
  pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
  [ -n "$pid" ] && grep -qF "$ES_HOME" "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

healthy() { curl -sf "$URL/_cluster/health?wait_for_status=yellow&timeout=${1:-1s}" >/dev/null 2>&1; }

report() {  # one line: version, start time, RSS
  local ver rss
  ver="$(curl -s "$URL/" | sed -n 's/.*"number" *: *"\([^"]*\)".*/\1/p')"
  rss="$(awk '/^VmRSS/ {printf "%d", $2/1024}' "/proc/$1/status")"
  echo "elasticsearch ${ver:-?} up on $URL$2, rss $rss MiB (pid $1)"
}

setup() {
  if is_root && ! id "$ES_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$ES_USER"
  fi
  pick_state
  mkdir -p "$CACHE" "$STATE"
  local zip="$CACHE/elasticsearch-$ES_VERSION.zip"
  if [ ! -f "$zip" ]; then
    echo "downloading elasticsearch $ES_VERSION (integ-test-zip) from Maven Central..."
    local out  # mvn -q still emits colour codes; show its output only on failure
    out="$(mvn -B -q dependency:copy -DoutputDirectory="$CACHE" \
      -Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip" 2>&1)" \
      || { echo "$out" >&2; exit 1; }
  fi
  if [ ! -x "$ES_HOME/bin/elasticsearch" ]; then
    rm -rf "$ES_HOME.tmp" && mkdir -p "$ES_HOME.tmp"
    unzip -q "$zip" -d "$ES_HOME.tmp"
    mv "$ES_HOME.tmp/elasticsearch-$ES_VERSION" "$ES_HOME" && rmdir "$ES_HOME.tmp"
  fi
  # our stand-in rest-root module, rebuilt only when its source changes
  local jar="$CACHE/yuqing-rest-root-$ES_VERSION.jar" classes="$CACHE/rest-root-classes"
  if [ ! -f "$jar" ] || [ -n "$(find "$SRC" -newer "$jar" -type f)" ]; then
    echo "building rest-root module from $SRC..."
    rm -rf "$classes" && mkdir -p "$classes"
    find "$SRC/src" -name '*.java' -print0 | xargs -0 "$JDK/bin/javac" --release 21 -nowarn \
      -cp "$ES_HOME/lib/*" -d "$classes"
    "$JDK/bin/jar" --create --file "$jar" -C "$classes" .
  fi
  mkdir -p "$ES_HOME/modules/rest-root"
  cp "$jar" "$ES_HOME/modules/rest-root/rest-root.jar"
  sed "s/@ES_VERSION@/$ES_VERSION/g" "$SRC/plugin-descriptor.properties" \
    >"$ES_HOME/modules/rest-root/plugin-descriptor.properties"
  mkdir -p "$STATE/data" "$STATE/logs"
  if is_root; then chown -R "$ES_USER:" "$STATE"; chmod 755 "$STATE"; fi
}

start() {
  JDK="$(find_jdk)"
  setup
  local pid t0
  t0="$(date +%s.%N)"
  if pid="$(running_pid)"; then
    if healthy 5s; then echo "already running: $(report "$pid" "")"; return 0; fi
    echo "our node (pid $pid) is running but not healthy yet; waiting..."
  else
    if curl -s -o /dev/null "$URL/"; then echo "ERROR: port $ES_PORT is already in use" >&2; exit 1; fi
    # -d waits until the node has started (or failed); its console output goes to startup.out
    (cd "$ES_HOME" && as_es env ES_JAVA_HOME="$JDK" ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP" \
      bin/elasticsearch -d -p "$PIDFILE" \
      -Ecluster.name=yuqing-test -Enode.name="$ES_NODE_NAME" \
      -Ediscovery.type=single-node -Expack.security.enabled=false \
      -Enetwork.host=127.0.0.1 -Ehttp.port="$ES_PORT" \
      ${ES_TRANSPORT_PORT:+-Etransport.port="$ES_TRANSPORT_PORT"} \
      -Epath.data="$STATE/data" -Epath.logs="$STATE/logs" \
      -Ecluster.routing.allocation.disk.threshold_enabled=false) \
      >"$STATE/startup.out" 2>&1 || fail "elasticsearch failed to start"
  fi
  local deadline=$((SECONDS + 120))
  until healthy 2s; do
    running_pid >/dev/null || fail "elasticsearch process exited"
    [ "$SECONDS" -lt "$deadline" ] || fail "cluster not yellow after 120s"
    sleep 1
  done
  report "$(running_pid)" " in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')s"
}

fail() {
  echo "ERROR: $1 -- full logs in $STATE/logs" >&2
  local f  # tails of the console output and the node log, without stack frames
  for f in "$STATE/startup.out" "$STATE/logs/yuqing-test.log"; do
    [ -f "$f" ] || continue
    echo "--- $f" >&2
    grep -vE '^[[:space:]]+(at |\.\.\. [0-9]+ (more|common))' "$f" | tail -n 15 >&2 || true
  done
  exit 1
}

stop() {
  pick_state
  local pid _
  if ! pid="$(running_pid)"; then echo "elasticsearch not running"; return 0; fi
  kill "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { echo "elasticsearch stopped (pid $pid)"; return 0; }
    sleep 1
  done
  echo "elasticsearch did not exit in 60s; killing pid $pid" >&2
  kill -9 "$pid"
}

crash() {  # SIGKILL: the node gets no chance to flush or close anything
  pick_state
  local pid
  if ! pid="$(running_pid)"; then echo "elasticsearch not running"; return 0; fi
  kill -9 "$pid"
  while running_pid >/dev/null; do sleep 0.1; done  # (a zombie's cmdline is empty)
  echo "elasticsearch killed (pid $pid)"
}

wipe() {  # only a node with its own ES_STATE_DIR: never the default node's data
  [ -n "${ES_STATE_DIR:-}" ] || { echo "wipe needs ES_STATE_DIR (a throwaway node's)" >&2; exit 2; }
  crash
  rm -rf "$STATE"
  echo "deleted $STATE"
}

status() {
  pick_state
  local pid
  if pid="$(running_pid)" && healthy; then report "$pid" ""; return 0; fi
  echo "elasticsearch down${pid:+ (pid $pid alive but not healthy)}"; return 1
}

case "${1:-}" in
  start | stop | crash | wipe | status) "$1" ;;
  *) echo "usage: $0 start|stop|crash|wipe|status" >&2; exit 2 ;;
esac
