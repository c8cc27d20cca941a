#!/usr/bin/env bash
# Compaction benchmark (issue 13): the 2M-record stream flushed as many small files, Q1-Q10 before and after the
# compactor merged them (median of 5 warm runs), against the same records flushed as big files and ClickHouse in
# the same run; the merge's throughput (MB of Parquet read per second per core); ingest with and without the
# compactor merging that day meanwhile.
#   bench/compaction.sh [records=2000000] [small_flush_mb=2] [--no-peer]
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-2000000}; small=${2:-2}; peer=${3:-}
benchdir=$PWD/bench
source bench/lib.sh
# 4 MB bodies: a body's records reach one flush at least, so the small-file phase writes 250+ files.
workload "$records" 4M
dotnet build src/Silo -c Release -v q -nologo >/dev/null
bin=$PWD/src/Silo/bin/Release/net10.0/molesignal.dll
command -v sqlite3 >/dev/null || apt-get install -y -qq sqlite3 >/dev/null
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null || true' EXIT

# start DIR VAR=VALUE...: a standalone node in DIR (kept if it exists) with the extra settings; sets PID, HTTP.
start() {
  local dir=$1; shift
  mkdir -p "$dir"
  HTTP=$(port)
  (cd "$dir" && exec env MS_HTTP.BIND=127.0.0.1 MS_GRPC.BIND=127.0.0.1 MS_HTTP.PORT=$HTTP MS_GRPC.PORT=$(port) \
     MS_CLUSTER.SILO_PORT=$(port) MS_CLUSTER.GATEWAY_PORT=$(port) MS_INGESTER.FLUSH_INTERVAL_SECS=5 $MS_ENV "$@" \
     dotnet "$bin" >>"$dir/node.log" 2>&1) &
  PID=$!
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP/readyz")" = 200 ]; do sleep 0.05; done
}
stop() { kill $PID; wait $PID 2>/dev/null || true; PID=; }
sql() { sqlite3 "$1/data/meta.db" "$2"; }
# ingest DIR: posts every chunk (8 clients), prints the seconds until the last is acknowledged, then waits until
# every record is in a data file.
ingest() {
  local s e
  s=$(date +%s%N)
  ls "$work"/chunks/* | xargs -P 8 -I{} bash -c 'post "$0" "$1"' "http://127.0.0.1:$HTTP/api/v1/ingest/bench" {}
  e=$(date +%s%N)
  echo "scale=2; ($e - $s) / 1000000000" | bc
  until [ "$(sql "$1" "SELECT COALESCE(SUM(rows),0) FROM file_meta WHERE stream='bench'")" = "$records" ]; do sleep 0.5; done
}
files() { sql "$1" "SELECT COUNT(*) FROM file_meta WHERE stream='bench'"; }
metric() { curl -s -u "$AUTH" "http://127.0.0.1:$HTTP/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
cpu_secs() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$PID/stat"; }
q() { curl -s -u "$AUTH" "http://127.0.0.1:$HTTP/api/v1/query" -H 'Content-Type: application/json' -d "$1"; }
run_queries() { median_of_5 "$1" "http://127.0.0.1:$HTTP" "${queries[@]}"; }

# 1. Small files, compactor idle (an hour between runs): ingest alone, then the queries over the small files.
small_dir=$work/compact-small
rm -rf "$small_dir"
start "$small_dir" MS_INGESTER.FLUSH_THRESHOLD_MB=$small MS_COMPACTOR.INTERVAL_SECS=3600
ingest_alone=$(ingest "$small_dir")
small_files=$(files "$small_dir")
trace=$(q "$(query_body "SELECT trace_id FROM bench ORDER BY _timestamp LIMIT 1")" | python3 -c 'import json,sys;print(json.load(sys.stdin)["rows"][0][0])')
bench_queries "$trace"
queries=("${QUERIES[@]}")
declare -A before after big
run_queries before
stop

# 2. The same node with the compactor every second: until the small files are merged; its CPU and bytes read.
start "$small_dir" MS_INGESTER.FLUSH_THRESHOLD_MB=$small MS_COMPACTOR.INTERVAL_SECS=1
cpu0=$(cpu_secs); t0=$(date +%s%N)
# Done when at most one file is left unmerged (a group of one is not merged).
until [ "$(sql "$small_dir" "SELECT COUNT(*) FROM file_meta WHERE stream='bench' AND file_id NOT LIKE 'c%'")" -le 1 ]; do sleep 0.2; done
t1=$(date +%s%N); cpu1=$(cpu_secs)
read_bytes=$(metric compactor_bytes_read_total); written=$(metric compactor_bytes_written_total)
merge_secs=$(metric compactor_run_duration_seconds_sum)
merged_files=$(files "$small_dir")
stages=$(curl -s -u "$AUTH" "http://127.0.0.1:$HTTP/metrics" | awk '/^compactor_stage_seconds_total/ { printf "%s ", $0 }')
run_queries after
stop

# 3. The same records flushed as big files (flush_threshold_mb 256, no compaction).
big_dir=$work/compact-big
rm -rf "$big_dir"
start "$big_dir" MS_INGESTER.FLUSH_THRESHOLD_MB=256 MS_COMPACTOR.INTERVAL_SECS=3600
ingest "$big_dir" >/dev/null
big_files=$(files "$big_dir")
run_queries big
stop

# 4. Ingest while the compactor merges that very day (small files, the compactor every second).
busy_dir=$work/compact-busy
rm -rf "$busy_dir"
start "$busy_dir" MS_INGESTER.FLUSH_THRESHOLD_MB=$small MS_COMPACTOR.INTERVAL_SECS=1
ingest_busy=$(ingest "$busy_dir")
busy_merges=$(metric 'compactor_merges_total{result="ok"}')
stop

if [ "$peer" != "--no-peer" ]; then
  "$benchdir/peers/clickhouse-peer.sh" load "$logs" >/dev/null
  mapfile -t ch < <("$benchdir/peers/clickhouse-peer.sh" queries "$trace")
  stop_peer "$benchdir"
fi

echo "records $records; small files $small_files (flush_threshold_mb $small) -> $merged_files merged; big files $big_files"
wall=$(echo "scale=2; ($t1 - $t0) / 1000000000" | bc)
echo "merge: $(echo "scale=1; $read_bytes / 1048576" | bc) MB Parquet read, $(echo "scale=1; $written / 1048576" | bc) MB written;" \
  "$wall s wall, $(echo "$cpu1 - $cpu0" | bc) s CPU of the node, ${merge_secs} s in compactor runs"
echo "merge stages: $stages"
echo "merge throughput: $(echo "scale=1; $read_bytes / 1048576 / ($cpu1 - $cpu0)" | bc) MB/s per core (CPU)," \
  "$(echo "scale=1; $read_bytes / 1048576 / $merge_secs" | bc) MB/s per run-second"
echo "ingest acknowledged: alone ${ingest_alone} s, while merging ${ingest_busy} s ($busy_merges merges meanwhile):" \
  "cost $(echo "scale=1; 100 * ($ingest_busy - $ingest_alone) / $ingest_busy" | bc)% of throughput"
printf '%-4s %10s %10s %10s %10s %12s %12s\n' query small_ms merged_ms big_ms ch_ms merged/big merged/ch
for i in "${!queries[@]}"; do
  b=$(echo "scale=1; ${before[$i]} / 1000" | bc); a=$(echo "scale=1; ${after[$i]} / 1000" | bc)
  g=$(echo "scale=1; ${big[$i]} / 1000" | bc); c=$(echo "${ch[$i]:-}" | awk '{print $2}')
  printf '%-4s %10s %10s %10s %10s %12s %12s\n' "Q$((i+1))" "$b" "$a" "$g" "${c:--}" \
    "$(echo "scale=2; $a / $g" | bc)" "$([ -n "$c" ] && echo "scale=2; $a / $c" | bc || echo -)"
done
