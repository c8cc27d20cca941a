#!/usr/bin/env bash
# Ingest benchmark (issue 3): N genlogs records posted in ~8 MB NDJSON bodies by C concurrent clients with
# flush_strategy = batch, into a fresh node each round; then WAL replay speed; then the same records into
# ClickHouse as the peer, as many rounds. Both sides vary ±10% run to run on 2 cores: the ratio is of medians.
#   bench/ingest.sh [records=2000000] [clients=8] [--no-peer]      (ROUNDS=3 by default)
# BENCH_AUTH=token (default) posts with Basic over an ingester service token; BENCH_AUTH=off runs the node with
# [auth].enabled = false (the baseline of the auth cost). ONLY_INGEST=1 stops after the ingest rounds.
# Prints records/s, MB/s, stored/raw, replay MB/s, peak RSS, and the peer's load time and stored bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-2000000}; clients=${2:-8}; peer=${3:-}
benchdir=$PWD/bench  # the workload generator (genlogs.py) and the peers (peers/) are the repository's own
work=${BENCH_DIR:-/tmp/molesignal-bench}
mkdir -p "$work"
logs=$work/logs-$records.ndjson
[ -f "$logs" ] || python3 "$benchdir/genlogs.py" --records "$records" --seed 7 > "$logs"
raw=$(stat -c %s "$logs")
rm -rf "$work/chunks" && mkdir -p "$work/chunks" && split -C 8M -d -a 4 "$logs" "$work/chunks/c"

dotnet build src/Silo -c Release -v q -nologo >/dev/null
bin=$PWD/src/Silo/bin/Release/net10.0/molesignal.dll
source bench/lib.sh
HTTP=$(port)
start() { # env... ; starts the node in $work/node, sets PID
  local auth_env=""
  [ "${BENCH_AUTH:-token}" = off ] && auth_env=MS_AUTH.ENABLED=false
  (cd "$work/node" && exec env MS_HTTP.BIND=127.0.0.1 MS_GRPC.BIND=127.0.0.1 MS_HTTP.PORT=$HTTP MS_GRPC.PORT=$(port) \
     MS_CLUSTER.SILO_PORT=$(port) MS_CLUSTER.GATEWAY_PORT=$(port) $MS_ENV $auth_env "$@" dotnet "$bin" >>"$work/node.log" 2>&1) &
  PID=$!
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP/readyz")" = 200 ]; do sleep 0.05; done
  [ "${BENCH_AUTH:-token}" = off ] || AUTH="fluent-bit:$(service_token "$HTTP" default ingester)"
  export AUTH
}
url="http://127.0.0.1:$HTTP/api/v1/ingest/bench"
flushed_rows() { sqlite3 "$work/node/data/meta.db" "SELECT COALESCE(SUM(rows),0) FROM file_meta WHERE stream='bench'" 2>/dev/null || echo 0; }
command -v sqlite3 >/dev/null || apt-get install -y -qq sqlite3 >/dev/null

# 1. ingest, ROUNDS times into a fresh node
rounds=${ROUNDS:-3}
acks=()
for round in $(seq 1 "$rounds"); do
  rm -rf "$work/node" "$work/node.log" && mkdir -p "$work/node"
  start MS_WAL.FLUSH_STRATEGY=batch MS_INGESTER.FLUSH_INTERVAL_SECS=5 ${BENCH_ENV:-}
  t0=$(date +%s.%N)
  ls "$work"/chunks/* | xargs -P "$clients" -I{} bash -c 'post "$0" "$1"' "$url" {}
  t1=$(date +%s.%N)
  deadline=$(( $(date +%s) + 600 ))
  until [ "$(flushed_rows)" = "$records" ]; do
    [ "$(date +%s)" -lt $deadline ] || { echo "not all records flushed after 600 s: $(flushed_rows)" >&2; exit 1; }
    sleep 0.2
  done
  t2=$(date +%s.%N)
  rss=$(awk '/VmHWM/{print $2}' /proc/$PID/status)
  metrics=$(curl -s "http://127.0.0.1:$HTTP/metrics")
  cpu=$(echo "$metrics" | awk '/^process_cpu_seconds_total/{print $2}')
  gcs=$(echo "$metrics" | awk '/^dotnet_collection_count_total/{printf "%s ", $2}')
  stored=$(sqlite3 "$work/node/data/meta.db" "SELECT SUM(compressed_bytes), SUM(index_bytes), COUNT(*) FROM file_meta WHERE stream='bench'")
  kill $PID; wait $PID 2>/dev/null || true
  ack_s=$(echo "$t1 - $t0" | bc); all_s=$(echo "$t2 - $t0" | bc)
  acks+=("$ack_s")
  parquet=${stored%%|*}; rest=${stored#*|}; idx=${rest%%|*}; files=${rest#*|}
  echo "ingest round $round: $records records, $(echo "scale=1; $raw/1048576" | bc) MiB raw NDJSON, $clients clients"
  echo "  acknowledged in ${ack_s}s: $(echo "$records/$ack_s" | bc) records/s, $(echo "scale=1; $raw/1048576/$ack_s" | bc) MB/s"
  echo "  all flushed to files after ${all_s}s: $(echo "$records/$all_s" | bc) records/s"
  echo "  stored: parquet $parquet + index $idx bytes in $files files = 1/$(echo "scale=2; $raw/($parquet+$idx)" | bc) of raw (parquet alone 1/$(echo "scale=2; $raw/$parquet" | bc))"
  echo "  peak RSS: $((rss / 1024)) MiB; server CPU ${cpu}s since start ($(echo "scale=1; $cpu*1000000/$records" | bc) µs/record); GCs by generation: $gcs"
done
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
ack_median=$(median "${acks[@]}")
echo "ingest median of $rounds: acknowledged in ${ack_median}s = $(echo "$records/$ack_median" | bc) records/s"

[ -n "${ONLY_INGEST:-}" ] && exit 0   # bench/auth.sh alternates single ingest rounds

# 2. WAL replay: ingest a quarter without flushing, kill -9, time the replay on restart
rm -rf "$work/node" && mkdir -p "$work/node"
start MS_INGESTER.FLUSH_INTERVAL_SECS=3600 MS_INGESTER.FLUSH_THRESHOLD_MB=100000 MS_INGESTER.BUFFER_MAX_MB=4096
ls "$work"/chunks/* | head -n $(( $(ls "$work/chunks" | wc -l) / 4 )) | xargs -P "$clients" -I{} bash -c 'post "$0" "$1"' "$url" {}
kill -9 $PID; wait $PID 2>/dev/null || true
: > "$work/node.log"
start MS_INGESTER.FLUSH_INTERVAL_SECS=3600
kill $PID; wait $PID 2>/dev/null || true
# Recovery reads, verifies and decodes the segments and writes them straight into data files.
grep -o 'wal replay done.*' "$work/node.log" | sed 's/^/wal replay (read + flush into files): /'

# 3. the peer, as many rounds
if [ "$peer" != "--no-peer" ]; then
  loads=()
  for round in $(seq 1 "$rounds"); do
    out=$("$benchdir/peers/clickhouse-peer.sh" load "$logs")
    echo "$out" | sed "s/^/peer round $round: /"
    loads+=("$(echo "$out" | awk '/^load_seconds/{print $2}')")
  done
  stop_peer "$benchdir"
  load_median=$(median "${loads[@]}")
  echo "peer median of $rounds: loaded in ${load_median}s = $(echo "$records/$load_median" | bc) records/s"
  echo "ratio (medians): MoleSignal acknowledged $(echo "scale=2; $load_median/$ack_median" | bc)x ClickHouse's records/s"
fi
