#!/usr/bin/env bash
# What the cluster fence costs PostgreSQL itself, without a node: pgbench transactions shaped like a
# journal batch (20 rows of 300 bytes), with no fence, the row-lock fence of before (FOR KEY SHARE),
# the advisory-lock fence of now, and the advisory fence plus a SAVEPOINT (as a read-model batch has).
# Prints, per round and variant: transactions/s, WAL bytes and MultiXacts per transaction.
#
#   bench/fence-pgbench.sh [--port 5432] [--rounds 4] [--seconds 8] [--clients 4]
#
# Needs pgbench and psql. It creates and drops the database keel_fence_bench, issues CHECKPOINTs and
# counts WAL for the whole server: use a server of its own (initdb, pg_ctl) so that nothing else
# writes WAL meanwhile, and turn full_page_writes off there to count only the statements' WAL.
set -euo pipefail

PORT=5432; ROUNDS=4; SECONDS_EACH=8; CLIENTS=4
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --seconds) SECONDS_EACH=$2; shift ;;
    --clients) CLIENTS=$2; shift ;;
    *) echo "fence-pgbench: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

PG=(-h "${PGHOST:-127.0.0.1}" -p "$PORT" -U postgres)
DB=keel_fence_bench
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"; psql "${PG[@]}" -qAt -d postgres -c "DROP DATABASE IF EXISTS $DB" > /dev/null' EXIT
q() { psql "${PG[@]}" -qAt -d "$DB" -c "$1"; }

psql "${PG[@]}" -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
q "CREATE TABLE keel_cluster_fence (id SMALLINT PRIMARY KEY, epoch BIGINT NOT NULL);
   INSERT INTO keel_cluster_fence VALUES (1, 1);
   CREATE TABLE j (ordering BIGSERIAL PRIMARY KEY, pid TEXT NOT NULL, seq BIGINT NOT NULL, payload BYTEA NOT NULL,
     UNIQUE (pid, seq))"

# The key is ClusterFence.LOCK_KEY; "\;" sends both statements in one round trip, as the node does.
ADVISORY='SELECT pg_advisory_xact_lock_shared(7738718383836458595) \; SELECT epoch FROM keel_cluster_fence WHERE id = 1;'
ROWLOCK='SELECT epoch FROM keel_cluster_fence WHERE id = 1 FOR KEY SHARE;'
INSERT="INSERT INTO j (pid, seq, payload) SELECT 'p' || :client_id || '-' || random(), g, decode(repeat('ab', 150), 'hex') FROM generate_series(1, 20) g;"
printf 'BEGIN;\n%s\nCOMMIT;\n' "$INSERT" > "$DIR/none.sql"
printf 'BEGIN;\n%s\n%s\nCOMMIT;\n' "$ROWLOCK" "$INSERT" > "$DIR/rowlock.sql"
printf 'BEGIN;\n%s\n%s\nCOMMIT;\n' "$ADVISORY" "$INSERT" > "$DIR/advisory.sql"
printf 'BEGIN;\n%s\nSAVEPOINT batch;\n%s\nCOMMIT;\n' "$ADVISORY" "$INSERT" > "$DIR/advisory-savepoint.sql"

for round in $(seq "$ROUNDS"); do
  for v in none rowlock advisory advisory-savepoint; do
    q "CHECKPOINT"
    m0=$(q "SELECT next_multixact_id FROM pg_control_checkpoint()"); w0=$(q "SELECT pg_current_wal_lsn()")
    out=$(pgbench "${PG[@]}" -n -c "$CLIENTS" -T "$SECONDS_EACH" -f "$DIR/$v.sql" "$DB" 2>&1)
    w1=$(q "SELECT pg_current_wal_lsn()"); q "CHECKPOINT"
    m1=$(q "SELECT next_multixact_id FROM pg_control_checkpoint()")
    tx=$(echo "$out" | awk '/number of transactions actually processed/{print $NF}' | cut -d/ -f1)
    wal=$(q "SELECT pg_wal_lsn_diff('$w1', '$w0')")
    echo "round $round $v: $(echo "$out" | awk '/^tps/{printf "%.0f", $3}') tx/s," \
      "WAL $(awk -v w="$wal" -v t="$tx" 'BEGIN{printf "%.0f", w / t}') bytes/tx," \
      "MultiXacts $(awk -v m=$((m1 - m0)) -v t="$tx" 'BEGIN{printf "%.2f", m / t}')/tx" \
      "(load $(cut -d' ' -f1 /proc/loadavg))"
  done
done
