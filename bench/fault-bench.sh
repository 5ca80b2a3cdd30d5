#!/usr/bin/env bash
# The fault figures of the README (Operations: running a cluster), in one command: a fresh PostgreSQL
# database, then FaultBench, which starts the nodes itself (child JVMs of cli/target/keel.jar on
# 127.0.0.1), injects each fault scenario under a steady workflow load and prints one line per scenario.
#
#   bench/fault-bench.sh [FaultBench options...]     e.g. --repetitions 2, --short, --scenarios kill-any
#
# Run from the repository root after `mvn -B -q -DskipTests package`. Needs psql and a PostgreSQL on
# $PGHOST:5432 (user postgres). Node data and logs stay in $OUT (default /tmp/keel-fault-bench).
set -euo pipefail

PGHOST=${PGHOST:-127.0.0.1}
DB=${KEEL_FAULT_DATABASE:-keel_fault}
OUT=${OUT:-/tmp/keel-fault-bench}

[ -f cli/target/keel.jar ] && [ -f bench/target/keel-bench.jar ] || {
  echo "fault-bench: build first: mvn -B -q -DskipTests package" >&2; exit 2; }
rm -rf "$OUT"
mkdir -p "$OUT"
# WITH (FORCE): a node of an earlier run may still be closing its connections.
psql -q -h "$PGHOST" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"

# A copy of the bench jar: a build during the run (minutes) must not change classes not loaded yet.
cp bench/target/keel-bench.jar "$OUT/keel-bench.jar"
java -cp "$OUT/keel-bench.jar" dev.keel.bench.FaultBench \
  --database-url "jdbc:postgresql://$PGHOST:5432/$DB" --database-user postgres \
  --jar cli/target/keel.jar --work-dir "$OUT" "$@" 2> >(tee "$OUT/progress.log" >&2) | tee "$OUT/report.txt"
