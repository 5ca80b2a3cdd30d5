#!/usr/bin/env bash
# A Keel cluster of N nodes on this machine, on the local PostgreSQL.
#
#   deploy/local-cluster.sh start [N]   start N nodes (default 3), wait until all are ready and Up
#   deploy/local-cluster.sh status      each node's pid, URL and /ready, and the members node 1 sees
#   deploy/local-cluster.sh restart I   SIGTERM node I, start it again and wait until it is ready and Up
#   deploy/local-cluster.sh stop        SIGTERM every node and wait until each has exited
#
# Node i (1-based) listens on 127.0.0.1, HTTP port HTTP_BASE+i-1 and cluster port CLUSTER_BASE+i-1.
# Every node lists every node as a seed, node 1 first: node 1 forms the cluster, and a node that
# restarts (node 1 included) joins the others again instead of starting a cluster of its own.
#
# Settings (environment):
#   KEEL_DATABASE_URL       default jdbc:postgresql://127.0.0.1:5432/keel_local (created if missing)
#   KEEL_DATABASE_USER      default postgres;  KEEL_DATABASE_PASSWORD default empty
#   KEEL_ADMIN_TOKEN        default: generated once into <state dir>/admin-token, then reused
#   LOCAL_CLUSTER_HTTP_BASE default 8081;  LOCAL_CLUSTER_CLUSTER_BASE default 25521
#   LOCAL_CLUSTER_DIR       state dir (pids, logs, data dirs), default deploy/.local-cluster
#   KEEL_JAR                default cli/target/keel.jar (built with Maven when missing)
#   KEEL_JAVA_OPTS          extra JVM flags for every node
#   LOCAL_CLUSTER_TIMEOUT   seconds to wait for ready / for exit, default 180
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
root="$(dirname "$here")"
state="${LOCAL_CLUSTER_DIR:-$here/.local-cluster}"
jar="${KEEL_JAR:-$root/cli/target/keel.jar}"
http_base="${LOCAL_CLUSTER_HTTP_BASE:-8081}"
cluster_base="${LOCAL_CLUSTER_CLUSTER_BASE:-25521}"
timeout="${LOCAL_CLUSTER_TIMEOUT:-180}"
db_url="${KEEL_DATABASE_URL:-jdbc:postgresql://127.0.0.1:5432/keel_local}"
db_user="${KEEL_DATABASE_USER:-postgres}"
db_password="${KEEL_DATABASE_PASSWORD:-}"

say() { echo "local-cluster: $*"; }
die() { echo "local-cluster: $*" >&2; exit 1; }

usage() {
  sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
}

# Pids of the nodes this state dir knows, in node order (one "i pid" per line).
nodes() {
  local f
  for f in "$state"/node-*.pid; do
    [[ -e "$f" ]] || continue
    local i="${f##*/node-}"; i="${i%.pid}"
    echo "$i $(cat "$f")"
  done | sort -n
}

alive() { kill -0 "$1" 2>/dev/null; }

http_port() { echo $((http_base + $1 - 1)); }

token() {
  if [[ -n "${KEEL_ADMIN_TOKEN:-}" ]]; then
    echo "$KEEL_ADMIN_TOKEN"
  else
    cat "$state/admin-token"
  fi
}

# HTTP status of GET <path> on node i ("000" when nothing answers).
http_status() {
  curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$(http_port "$1")$2" || true
}

# How many members node i sees as "up" (0 when it does not answer).
up_members() {
  local body
  body="$(curl -s -m 10 -H "Authorization: Bearer $(token)" "http://127.0.0.1:$(http_port "$1")/api/v1/cluster" || true)"
  if command -v jq >/dev/null 2>&1; then
    jq '[.members[]? | select(.status == "up")] | length' <<<"$body" 2>/dev/null || echo 0
  else
    grep -o '"status":"up"' <<<"$body" | wc -l | tr -d ' '
  fi
}

# jdbc:postgresql://host[:port]/db[?...] → "host port db"
parse_db_url() {
  local rest="${db_url#jdbc:postgresql://}"
  [[ "$rest" != "$db_url" ]] || die "KEEL_DATABASE_URL must be jdbc:postgresql://host[:port]/database, got a different URL"
  local hostport="${rest%%/*}" db="${rest#*/}"
  db="${db%%\?*}"
  local host="${hostport%%:*}" port=5432
  [[ "$hostport" == *:* ]] && port="${hostport##*:}"
  echo "$host $port $db"
}

ensure_database() {
  local host port db
  read -r host port db < <(parse_db_url)
  [[ "$db" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "database name '$db' in KEEL_DATABASE_URL: use letters, digits and _"
  if ! command -v psql >/dev/null 2>&1; then
    say "psql not found: assuming database $db exists on $host:$port"
    return
  fi
  local exists
  exists="$(PGPASSWORD="$db_password" psql -h "$host" -p "$port" -U "$db_user" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$db'")" \
    || die "cannot reach PostgreSQL at $host:$port as $db_user (is it running?)"
  if [[ "$exists" != "1" ]]; then
    PGPASSWORD="$db_password" psql -h "$host" -p "$port" -U "$db_user" -d postgres -qc "CREATE DATABASE $db" \
      || die "cannot create database $db"
    say "created database $db on $host:$port"
  fi
}

ensure_jar() {
  [[ -f "$jar" ]] && return
  command -v mvn >/dev/null 2>&1 || die "no $jar and no mvn to build it"
  say "building $jar ..."
  (cd "$root" && mvn -B -q -DskipTests -pl cli -am package) >&2 || die "building $jar failed"
}

# Starts node i of a cluster of n in the background (its log appended to, not replaced).
launch() {
  local i="$1" n="$2" seeds="" j
  for ((j = 1; j <= n; j++)); do
    seeds+="${seeds:+,}127.0.0.1:$((cluster_base + j - 1))"
  done
  mkdir -p "$state/node-$i"
  # Secrets go through the environment, not the command line, so that ps does not show them.
  # shellcheck disable=SC2086  # KEEL_JAVA_OPTS is a list of flags
  KEEL_ADMIN_TOKEN="$(token)" KEEL_DATABASE_PASSWORD="$db_password" \
    nohup java ${KEEL_JAVA_OPTS:-} -jar "$jar" server \
      --host 127.0.0.1 --http-port "$(http_port "$i")" --cluster-port "$((cluster_base + i - 1))" \
      --seed-nodes "$seeds" --data-dir "$state/node-$i" \
      --database-url "$db_url" --database-user "$db_user" \
      >>"$state/node-$i.log" 2>&1 </dev/null &
  echo $! >"$state/node-$i.pid"
  say "node $i pid $! http=http://127.0.0.1:$(http_port "$i") cluster=127.0.0.1:$((cluster_base + i - 1)) log=$state/node-$i.log"
}

# Waits until node i answers /ready with 200; dies when it exits or the deadline passes.
await_ready() {
  local i="$1" deadline="$2" pid
  until [[ "$(http_status "$i" /ready)" == "200" ]]; do
    pid="$(cat "$state/node-$i.pid")"
    alive "$pid" || { tail -n 20 "$state/node-$i.log" >&2; die "node $i exited before it was ready (log: $state/node-$i.log)"; }
    ((SECONDS < deadline)) || die "node $i not ready within ${timeout}s (log: $state/node-$i.log)"
    sleep 1
  done
}

# SIGTERM to pid, then wait for its exit; SIGKILL once the timeout has passed.
terminate() {
  local name="$1" pid="$2" deadline=$((SECONDS + timeout))
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  while alive "$pid"; do
    if ((SECONDS >= deadline)); then
      say "$name (pid $pid) still runs ${timeout}s after SIGTERM: killing it"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.5
  done
}

restart() {
  local i="${1:-}"
  [[ "$i" =~ ^[1-9][0-9]*$ ]] || die "restart needs a node number (1-based), got '$i'"
  [[ -f "$state/node-$i.pid" ]] || die "no node $i in $state (start the cluster first)"
  local n
  n="$(cat "$state/size" 2>/dev/null || true)"
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || n="$(nodes | wc -l | tr -d ' ')"
  ((i <= n)) || die "node $i is not one of the $n nodes"
  terminate "node $i" "$(cat "$state/node-$i.pid")"
  say "node $i stopped; starting it again"
  launch "$i" "$n"
  local deadline=$((SECONDS + timeout))
  await_ready "$i" "$deadline"
  until [[ "$(up_members "$i")" == "$n" ]]; do
    ((SECONDS < deadline)) || die "node $i does not see $n Up members within ${timeout}s"
    sleep 1
  done
  say "node $i ready and Up again ($n nodes Up): http://127.0.0.1:$(http_port "$i")"
}

start() {
  local n="${1:-3}"
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "N must be a positive number, got '$n'"
  mkdir -p "$state"
  local i pid
  while read -r i pid; do
    [[ -n "${pid:-}" ]] || continue
    alive "$pid" && die "node $i (pid $pid) is still running; run '$0 stop' first"
    rm -f "$state/node-$i.pid"
  done < <(nodes)
  command -v java >/dev/null 2>&1 || die "java not found on PATH"
  command -v curl >/dev/null 2>&1 || die "curl not found on PATH"
  ensure_jar
  ensure_database
  if [[ -z "${KEEL_ADMIN_TOKEN:-}" && ! -s "$state/admin-token" ]]; then
    (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$state/admin-token")
  fi

  echo "$n" >"$state/size"
  for ((i = 1; i <= n; i++)); do : >"$state/node-$i.log"; done
  for ((i = 1; i <= n; i++)); do launch "$i" "$n"; done

  local deadline=$((SECONDS + timeout))
  for ((i = 1; i <= n; i++)); do await_ready "$i" "$deadline"; done
  until [[ "$(up_members 1)" == "$n" ]]; do
    ((SECONDS < deadline)) || die "node 1 does not see $n Up members within ${timeout}s"
    sleep 1
  done
  say "$n nodes ready and Up"
  for ((i = 1; i <= n; i++)); do echo "http://127.0.0.1:$(http_port "$i")"; done
  if [[ -z "${KEEL_ADMIN_TOKEN:-}" ]]; then
    say "admin token in $state/admin-token (Authorization: Bearer \$(cat $state/admin-token))"
  fi
}

stop() {
  local i pid any=0
  while read -r i pid; do
    [[ -n "${pid:-}" ]] || continue
    any=1
    if alive "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
  done < <(nodes)
  ((any)) || { say "no nodes to stop in $state"; return 0; }
  local deadline=$((SECONDS + timeout)) left
  while :; do
    left=0
    while read -r i pid; do
      alive "$pid" && left=1
    done < <(nodes)
    ((left)) || break
    if ((SECONDS >= deadline)); then
      while read -r i pid; do
        if alive "$pid"; then
          say "node $i (pid $pid) still runs ${timeout}s after SIGTERM: killing it"
          kill -KILL "$pid" 2>/dev/null || true
        fi
      done < <(nodes)
      break
    fi
    sleep 0.5
  done
  while read -r i pid; do
    rm -f "$state/node-$i.pid"
    say "node $i (pid $pid) stopped"
  done < <(nodes)
}

status() {
  local i pid found=0
  while read -r i pid; do
    found=1
    if alive "$pid"; then
      echo "node $i pid $pid running http://127.0.0.1:$(http_port "$i") ready=$(http_status "$i" /ready)"
    else
      echo "node $i pid $pid not running (log: $state/node-$i.log)"
    fi
  done < <(nodes)
  ((found)) || { say "no nodes in $state"; return 1; }
  echo "members Up seen by node 1: $(up_members 1)"
}

case "${1:-}" in
  start) start "${2:-3}" ;;
  stop) stop ;;
  status) status ;;
  restart) restart "${2:-}" ;;
  *) usage ;;
esac
