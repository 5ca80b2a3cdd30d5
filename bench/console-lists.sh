#!/usr/bin/env bash
# The console's list and count calls against a node whose read model holds 100,000 executions.
#
#   bench/console-lists.sh <database> [http://127.0.0.1:8080]
#
# <database> is the PostgreSQL database (on 127.0.0.1:5432, user postgres) of a running node that
# has started once (its migrations applied); KEEL_ADMIN_TOKEN is that node's admin token. It adds
# 100,000 rows 'bench-000001'... to keel_workflows (the read model only: no journal, no entity),
# prints the median of five timed calls of each kind (after one warm-up), then removes the rows.
set -euo pipefail
db="${1:?usage: bench/console-lists.sh <database> [base URL]}"
base="${2:-http://127.0.0.1:8080}"
token="${KEEL_ADMIN_TOKEN:?set KEEL_ADMIN_TOKEN to the admin token of the node}"
sql() { psql -h 127.0.0.1 -U postgres -d "$db" -qAt -c "$1"; }

sql "INSERT INTO keel_workflows (id, workflow, tenant_id, status, phase, paused, version, created_at, updated_at)
     SELECT 'bench-' || lpad(g::text, 6, '0'), (ARRAY['example','http-sequence','orders','billing'])[1 + g % 4],
            CASE WHEN g % 10 = 0 THEN 'tenant-a' END,
            (ARRAY['completed','completed','completed','failed','running','waiting','cancelled'])[1 + g % 7],
            'x', false, 1, now() - g * interval '1 second', now() - g * interval '1 second'
     FROM generate_series(1, 100000) g"
sql "ANALYZE keel_workflows"
cleanup() { sql "DELETE FROM keel_workflows WHERE id LIKE 'bench-%'"; }
trap cleanup EXIT

timed() {
  local label="$1" path="$2" times=()
  for i in 0 1 2 3 4 5; do
    local s ms
    s=$(curl -s -o /dev/null -w "%{time_total}" -H "Authorization: Bearer $token" "$base$path")
    ms=$(awk -v s="$s" 'BEGIN { printf "%.1f", s * 1000 }')
    if [[ $i -gt 0 ]]; then times+=("$ms"); fi
  done
  printf "%-40s median %6s ms   (%s)\n" "$label" "$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)" "${times[*]}"
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
after500=$(curl -s -H "Authorization: Bearer $token" "$base/api/v1/workflows?limit=500" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["nextCursor"])')
hour_from=$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)
hour_to=$(date -u -d '-1 hours' +%Y-%m-%dT%H:%M:%SZ)
timed "list, first page (50)" "/api/v1/workflows"
timed "list, page after 500" "/api/v1/workflows?cursor=$after500"
timed "list, status=failed" "/api/v1/workflows?status=failed"
timed "list, workflow=orders" "/api/v1/workflows?workflow=orders"
timed "list, one tenant (10%)" "/api/v1/workflows?tenantId=tenant-a"
timed "list, one hour (from, to)" "/api/v1/workflows?from=$hour_from&to=$hour_to"
timed "list, idPrefix (10 match)" "/api/v1/workflows?idPrefix=bench-0999"
timed "list, idPrefix (none match)" "/api/v1/workflows?idPrefix=nothing"
timed "counts, all" "/api/v1/workflow-counts"
timed "counts, workflow=orders" "/api/v1/workflow-counts?workflow=orders"
timed "counts, idPrefix (10 match)" "/api/v1/workflow-counts?idPrefix=bench-0999"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
