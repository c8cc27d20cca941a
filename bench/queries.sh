#!/usr/bin/env bash
# Query benchmark (issue 4): Q1-Q10 of bench/queries.md over the 2M-record stream, median of 5 warm runs,
# side by side with ClickHouse on the same records in the same run.
#   bench/queries.sh [records=2000000] [--no-peer]
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-2000000}; peer=${2:-}
benchdir=$PWD/bench  # the workload generator (genlogs.py) and the peers (peers/) are the repository's own
source bench/lib.sh
workload "$records" 8M
dotnet build src/Silo -c Release -v q -nologo >/dev/null
bin=$PWD/src/Silo/bin/Release/net10.0/molesignal.dll
HTTP=$(port)
rm -rf "$work/qnode" && mkdir -p "$work/qnode"
(cd "$work/qnode" && exec env MS_HTTP.BIND=127.0.0.1 MS_GRPC.BIND=127.0.0.1 MS_HTTP.PORT=$HTTP MS_GRPC.PORT=$(port) \
   MS_CLUSTER.SILO_PORT=$(port) MS_CLUSTER.GATEWAY_PORT=$(port) MS_INGESTER.FLUSH_INTERVAL_SECS=5 $MS_ENV dotnet "$bin" >"$work/qnode.log" 2>&1) &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP/readyz")" = 200 ]; do sleep 0.05; done
ls "$work"/chunks/* | xargs -P 8 -I{} bash -c 'post "$0" "$1"' "http://127.0.0.1:$HTTP/api/v1/ingest/bench" {}
command -v sqlite3 >/dev/null || apt-get install -y -qq sqlite3 >/dev/null
until [ "$(sqlite3 "$work/qnode/data/meta.db" "SELECT COALESCE(SUM(rows),0) FROM file_meta WHERE stream='bench'")" = "$records" ]; do sleep 0.5; done
files=$(sqlite3 "$work/qnode/data/meta.db" "SELECT COUNT(*) FROM file_meta WHERE stream='bench'")
q() { curl -s -u "$AUTH" "http://127.0.0.1:$HTTP/api/v1/query" -H 'Content-Type: application/json' -d "$1"; }
trace=$(q "$(query_body "SELECT trace_id FROM bench ORDER BY _timestamp LIMIT 1")" | python3 -c 'import json,sys;print(json.load(sys.stdin)["rows"][0][0])')
bench_queries "$trace"
queries=("${QUERIES[@]}")
echo "MoleSignal: $records records in $files files; Q9 trace_id $trace"
declare -A ours
median_of_5 ours "http://127.0.0.1:$HTTP" "${queries[@]}"
kill $PID; wait $PID 2>/dev/null || true
if [ "$peer" != "--no-peer" ]; then
  "$benchdir/peers/clickhouse-peer.sh" load "$logs" >/dev/null
  mapfile -t ch < <("$benchdir/peers/clickhouse-peer.sh" queries "$trace")
  stop_peer "$benchdir"
fi
printf '%-4s %12s %12s %8s\n' query molesignal_ms clickhouse_ms ratio
logsum=0
for i in "${!queries[@]}"; do
  m=$(echo "scale=1; ${ours[$i]} / 1000" | bc)
  c=$(echo "${ch[$i]:-}" | awk '{print $2}')
  if [ -n "$c" ]; then r=$(echo "scale=2; $m / $c" | bc); logsum=$(echo "$logsum + l($m / $c)" | bc -l); else r=-; fi
  printf '%-4s %12s %12s %8s\n' "Q$((i+1))" "$m" "${c:--}" "$r"
done
[ -n "${ch[0]:-}" ] && echo "geometric mean ratio: $(echo "scale=2; e($logsum / ${#queries[@]})" | bc -l)"
