#!/usr/bin/env bash
# The workflow figures of the README's Performance section, in one command: a node on a fresh
# PostgreSQL database (or H2 with --h2), a JIT warm-up, measured WorkflowLoad runs, and the CPU
# each process spent per completed workflow, read from /proc (Linux only).
#
#   bench/workflow-bench.sh [--h2] [--tls] [--warmup-runs N] [--runs N] [--rate R] [--concurrency C]
#
# --tls: the node serves HTTPS with a throw-away certificate (made with openssl in $OUT/tls) and
# the load program trusts its CA, to measure what TLS costs per request. Other KEEL_* variables
# (KEEL_OTEL, for instance) reach the node as they are.
#
# Run from the repository root after `mvn -B -q -DskipTests package`. Needs psql (for the
# PostgreSQL database) and nothing else listening on the ports below. Prints one summary line per
# measured run; the load program's own report is kept in $OUT (default /tmp/keel-workflow-bench).
set -euo pipefail

H2=""
TLS=""
WARMUP_RUNS=8        # 8 x 4,000 workflows: the C2 compiler still took a fifth of the node's CPU in a run after 24,000
RUNS=3
MEASURED=10000       # per measured run: about 15 s, long enough that one stall or GC does not decide the figure
RATE=""
CONCURRENCY=64
WORKFLOWS=4000
PORT=${KEEL_BENCH_HTTP_PORT:-18080}
CLUSTER_PORT=${KEEL_BENCH_CLUSTER_PORT:-25611}
DB=${KEEL_BENCH_DATABASE:-keel_bench}
# The node's heap: fixed and touched at start, as the README's Operations section advises. A heap
# left to grow (the JVM's default, a quarter of RAM) spent a fifth of the node's CPU in page faults
# while it grew (perf: the kernel zeroing fresh pages), which made each node's first runs the slowest.
NODE_JAVA_OPTS=${KEEL_BENCH_JAVA_OPTS:--Xms4g -Xmx4g -XX:+AlwaysPreTouch}
PGHOST=${PGHOST:-127.0.0.1}
TOKEN=benchbenchbench12345
OUT=${OUT:-/tmp/keel-workflow-bench}

while [ $# -gt 0 ]; do
  case "$1" in
    --h2) H2=1 ;;
    --tls) TLS=1 ;;
    --warmup-runs) WARMUP_RUNS=$2; shift ;;
    --runs) RUNS=$2; shift ;;
    --rate) RATE=$2; shift ;;
    --concurrency) CONCURRENCY=$2; shift ;;
    *) echo "workflow-bench: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

[ -f cli/target/keel.jar ] && [ -f bench/target/keel-bench.jar ] || {
  echo "workflow-bench: build first: mvn -B -q -DskipTests package" >&2; exit 2; }
mkdir -p "$OUT"
DATA="$OUT/data"
rm -rf "$DATA"

DB_ARGS=()
if [ -z "$H2" ]; then
  # WITH (FORCE): a node of an earlier run may still be closing its connections.
  psql -q -h "$PGHOST" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
  DB_ARGS=(--database-url "jdbc:postgresql://$PGHOST:5432/$DB" --database-user postgres)
fi

SCHEME=http
CURL_TLS=()
if [ -n "$TLS" ]; then
  TLS_DIR="$OUT/tls"
  mkdir -p "$TLS_DIR"
  if [ ! -f "$TLS_DIR/node.pem" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TLS_DIR/ca.key" \
      -out "$TLS_DIR/ca.pem" -days 30 -subj /CN=bench-ca 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TLS_DIR/node.key" \
      -out "$TLS_DIR/node.csr" -subj /CN=127.0.0.1 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\n' > "$TLS_DIR/san.ext"
    openssl x509 -req -in "$TLS_DIR/node.csr" -CA "$TLS_DIR/ca.pem" -CAkey "$TLS_DIR/ca.key" \
      -CAcreateserial -out "$TLS_DIR/node.pem" -days 30 -extfile "$TLS_DIR/san.ext" 2>/dev/null
  fi
  export KEEL_TLS_CERT="$TLS_DIR/node.pem" KEEL_TLS_KEY="$TLS_DIR/node.key"
  SCHEME=https
  CURL_TLS=(--cacert "$TLS_DIR/ca.pem")
fi
echo "node JVM flags: $NODE_JAVA_OPTS (KEEL_BENCH_JAVA_OPTS); $SCHEME"
KEEL_JAVA_OPTS="$NODE_JAVA_OPTS" ./keel server --http-port "$PORT" --cluster-port "$CLUSTER_PORT" --data-dir "$DATA" --admin-token "$TOKEN" \
  "${DB_ARGS[@]}" > "$OUT/node.log" 2>&1 &
LAUNCHER=$!
stop_node() {
  kill "$LAUNCHER" 2>/dev/null || true
  pkill -f "keel.jar server --http-port $PORT " 2>/dev/null || true
  # Wait for it to leave, so that the next run finds the ports and the database free.
  for _ in $(seq 60); do pgrep -f "keel.jar server --http-port $PORT " > /dev/null || return 0; sleep 0.5; done
}
trap stop_node EXIT
NODE_PID=""
for _ in $(seq 120); do
  NODE_PID=$(pgrep -f "keel.jar server --http-port $PORT " | head -1 || true)
  curl -sf "${CURL_TLS[@]}" "$SCHEME://127.0.0.1:$PORT/ready" > /dev/null && break
  sleep 0.5
done
[ -n "$NODE_PID" ] || { echo "workflow-bench: the node did not start, see $OUT/node.log" >&2; exit 1; }

load() {
  # The node's certificate and key are the node's: the load program only trusts the CA.
  env -u KEEL_TLS_CERT -u KEEL_TLS_KEY ${TLS:+KEEL_TLS_CA="$TLS_DIR/ca.pem"} \
  java -cp bench/target/keel-bench.jar dev.keel.bench.WorkflowLoad --endpoint "$SCHEME://127.0.0.1:$PORT" \
    --token "$TOKEN" --warmup 0 "$@"
}
# CPU ticks (1/100 s) of a process, of all PostgreSQL processes, and of the machine (busy, total).
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
sys_ticks() { awk '{print $15}' "/proc/$1/stat"; }
# Context switches of the whole machine: thread hand-offs cost kernel time the JVM's profilers miss.
switches() { awk '/^ctxt /{print $2}' /proc/stat; }
pg_ticks() {
  local sum=0 t
  for p in $(pgrep -u postgres || true); do
    t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0); sum=$((sum + t))
  done
  echo "$sum"
}
machine() { awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }
per_workflow() { awk -v t="$1" -v n="$2" 'BEGIN{printf "%.1f", t * 10 / n}'; }
figure() { grep -o "\"$1\":[0-9.]*" "$2" | head -1 | cut -d: -f2; }

for i in $(seq "$WARMUP_RUNS"); do
  load --workflows "$WORKFLOWS" --concurrency "$CONCURRENCY" > "$OUT/warmup-$i.txt" 2>&1
  echo "warm-up $i: $(figure completedPerSecond "$OUT/warmup-$i.txt") workflows/s"
done

run() {
  local name=$1; shift
  local n0 p0 b0 t0 s0 c0 n1 p1 b1 t1 s1 c1 done_count
  n0=$(ticks "$NODE_PID"); p0=$(pg_ticks); read -r b0 t0 < <(machine); s0=$(sys_ticks "$NODE_PID"); c0=$(switches)
  load "$@" > "$OUT/$name.txt" 2>&1 || true
  n1=$(ticks "$NODE_PID"); p1=$(pg_ticks); read -r b1 t1 < <(machine); s1=$(sys_ticks "$NODE_PID"); c1=$(switches)
  done_count=$(figure completed "$OUT/$name.txt")
  [ -n "$done_count" ] && [ "$done_count" -gt 0 ] || { echo "$name: nothing completed, see $OUT/$name.txt"; return; }
  local server client
  server=$(grep -A1 "latency ms" "$OUT/$name.txt" | tail -1 | awk '{print $3 " / " $5}')
  client=$(grep -A2 "latency ms" "$OUT/$name.txt" | tail -1 | awk '{print $3 " / " $5}')
  echo "$name: $(figure completedPerSecond "$OUT/$name.txt") completed/s;" \
    "CPU per workflow: node $(per_workflow $((n1 - n0)) "$done_count") ms" \
    "($(( (s1 - s0) * 100 / (n1 - n0 + 1) )) % kernel)," \
    "postgres $(per_workflow $((p1 - p0)) "$done_count") ms," \
    "rest of the machine $(per_workflow $((b1 - b0 - (n1 - n0) - (p1 - p0))) "$done_count") ms" \
    "(machine $(( (b1 - b0) * 100 / (t1 - t0) )) % busy," \
    "$(( (c1 - c0) / done_count )) context switches);" \
    "p50 / p99 ms: node $server, client $client"
}

for i in $(seq "$RUNS"); do
  run "run-$i" --workflows "$MEASURED" --concurrency "$CONCURRENCY"
done
if [ -n "$RATE" ]; then
  run "rate-$RATE" --workflows 8000 --concurrency "$CONCURRENCY" --rate "$RATE"
fi
