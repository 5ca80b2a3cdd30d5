#!/usr/bin/env bash
# The scale-out figures of the README (Performance, "Scaling out"), in one command: ScaleBench starts a
# private PostgreSQL (fsync on) and 1 to 4 nodes, each node in a CPU group of its own with the same
# quota and a network namespace of its own, and prints per cluster size completed workflows/s, CPU per
# workflow of the nodes, PostgreSQL and the load, the starts that crossed nodes and heartbeats/s held;
# then the longest gap in completions while a node joins or leaves under load.
#
#   bench/scale-bench.sh [ScaleBench options...]     e.g. --short, --node-cpu 0.25, --route-to-owner
#
# Run as root from the repository root after `mvn -B -q -DskipTests package` (Linux with cgroup v1 cpu
# and cpuacct, iproute2, and PostgreSQL's server binaries under /usr/lib/postgresql). Report, progress,
# node logs and the plot (scale.svg) stay in $OUT (default /tmp/keel-scale-bench).
set -euo pipefail

OUT=${OUT:-/tmp/keel-scale-bench}
JAR=${KEEL_NODE_JAR:-cli/target/keel.jar}

[ -f "$JAR" ] && [ -f bench/target/keel-bench.jar ] || {
  echo "scale-bench: build first: mvn -B -q -DskipTests package" >&2; exit 2; }
rm -rf "$OUT"
mkdir -p "$OUT"
# A copy of the bench jar: a build during the run must not change classes not loaded yet.
cp bench/target/keel-bench.jar "$OUT/keel-bench.jar"
java -cp "$OUT/keel-bench.jar" dev.keel.bench.ScaleBench --jar "$JAR" --work-dir "$OUT" "$@" \
  2> >(tee "$OUT/progress.log" >&2) | tee "$OUT/report.txt"
