# Shared by the benchmark scripts (sourced from the repository root).

# Every node the scripts start bootstraps this root user (MS_ENV holds the variables for `env`); curl calls
# authenticate as AUTH (user:secret for Basic), root unless a script switches it to an API token.
ROOT_EMAIL=root@bench.local
ROOT_PASSWORD=bench-root-password
MS_ENV="MS_ROOT_USER_EMAIL=$ROOT_EMAIL MS_ROOT_USER_PASSWORD=$ROOT_PASSWORD MS_INGESTER.ALLOWED_PAST_HOURS=0"
export AUTH="$ROOT_EMAIL:$ROOT_PASSWORD"

# service_token PORT ORG ROLE: a new service token of ORG with ROLE, made as root.
service_token() {
  curl -s -u "$ROOT_EMAIL:$ROOT_PASSWORD" "http://127.0.0.1:$1/api/v1/tokens" -H 'Content-Type: application/json' \
    -d "{\"name\":\"bench\",\"org\":\"$2\",\"role\":\"$3\"}" | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])'
}

# workload RECORDS CHUNK: the genlogs records (seed 7, generated once into $work, default /tmp/molesignal-bench)
# as $logs, split into NDJSON bodies of CHUNK (split -C units: 4M, 8M) under $work/chunks.
workload() {
  work=${BENCH_DIR:-/tmp/molesignal-bench}
  mkdir -p "$work"
  logs=$work/logs-$1.ndjson
  [ -f "$logs" ] || python3 bench/genlogs.py --records "$1" --seed 7 > "$logs"
  rm -rf "$work/chunks" && mkdir -p "$work/chunks" && split -C "$2" -d -a 4 "$logs" "$work/chunks/c"
}

# median_of_5 NAME URL SQL...: for each SQL (POST /api/v1/query at URL), one cold run then five timed ones; their
# median in microseconds goes into the associative array NAME, by index. A query that fails stops the script.
# QUERY_PATH replaces /api/v1/query (e.g. with ?clusters=).
median_of_5() {
  local -n into=$1
  local url=$2 i r s e json res ts
  shift 2
  local sqls=("$@")
  for i in "${!sqls[@]}"; do
    ts=()
    json=$(query_body "${sqls[$i]}") # built before the clock starts
    for r in 0 1 2 3 4 5; do
      s=$(date +%s%N); res=$(curl -s -u "$AUTH" "$url${QUERY_PATH:-/api/v1/query}" -H 'Content-Type: application/json' -d "$json")
      e=$(date +%s%N)
      case "$res" in *'"error"'*) echo "Q$((i+1)) failed: $res" >&2; exit 1 ;; esac
      [ $r -gt 0 ] && ts+=($(( (e - s) / 1000 )))
    done
    into[$i]=$(printf '%s\n' "${ts[@]}" | sort -n | sed -n 3p)
  done
}

# paired_median_of_5 A URL_A PATH_A B URL_B PATH_B SQL...: median_of_5 of two endpoints with their runs
# interleaved (a cold run each, then A, B, A, B, ...), so that noise of the machine falls on both alike.
paired_median_of_5() {
  local -n into_a=$1 into_b=$4
  local url_a=$2$3 url_b=$5$6 i r s e json res side url
  shift 6
  local sqls=("$@") ta tb
  for i in "${!sqls[@]}"; do
    ta=(); tb=()
    json=$(query_body "${sqls[$i]}")
    for r in 0 1 2 3 4 5; do
      for side in a b; do
        [ $side = a ] && url=$url_a || url=$url_b
        s=$(date +%s%N); res=$(curl -s -u "$AUTH" "$url" -H 'Content-Type: application/json' -d "$json")
        e=$(date +%s%N)
        case "$res" in *'"error"'*) echo "Q$((i+1)) failed: $res" >&2; exit 1 ;; esac
        [ $r -gt 0 ] && { [ $side = a ] && ta+=($(( (e - s) / 1000 ))) || tb+=($(( (e - s) / 1000 ))); }
      done
    done
    into_a[$i]=$(printf '%s\n' "${ta[@]}" | sort -n | sed -n 3p)
    into_b[$i]=$(printf '%s\n' "${tb[@]}" | sort -n | sed -n 3p)
  done
}

# settle PID...: waits (up to 2 minutes) until those processes use under 5% of a core together over a second:
# flushes, index builds and merges after an ingest are over before anything is timed.
settle() {
  local deadline=$((SECONDS + 120)) before after
  cpu() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo $t; }
  while [ $SECONDS -lt $deadline ]; do
    before=$(cpu "$@"); sleep 1; after=$(cpu "$@")
    [ $((after - before)) -lt 5 ] && return 0
  done
  echo "settle: still busy after 2 minutes" >&2
}

# A free loopback port.
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# post URL FILE: posts an NDJSON chunk, retrying while the node answers 503 (backpressure, failover); every
# record must be accepted. Exported, so `xargs ... bash -c 'post "$0" "$1"' URL FILE` can run it.
post() {
  while :; do
    out=$(curl -s -u "$AUTH" -w ' %{http_code}' -H 'Content-Type: application/x-ndjson' --data-binary @"$2" "$1")
    code=${out##* }
    if [ "$code" = 200 ]; then case "$out" in *'"rejected":0,'*) return 0 ;; *) echo "post $2: $out" >&2; return 1 ;; esac; fi
    [ "$code" = 503 ] && { sleep 0.2; continue; }
    echo "post $2: HTTP $code $out" >&2; return 1
  done
}
export -f post

# query_body SQL: the JSON body of POST /api/v1/query, without the default row limit.
query_body() { python3 -c 'import json,sys;print(json.dumps({"sql":sys.argv[1],"limit":0}))' "$1"; }

# bench_queries TRACE_ID: fills QUERIES with Q1-Q10 of bench/queries.md over the stream `bench`
# (Q9 looks up that trace).
bench_queries() {
  QUERIES=(
    "SELECT count(*) FROM bench"
    "SELECT count(*) FROM bench WHERE level = 'ERROR'"
    "SELECT service, count(*) AS c, avg(http_duration_ms) FROM bench GROUP BY service ORDER BY c DESC"
    "SELECT _timestamp // 60000000 AS m, count(*) FROM bench GROUP BY m ORDER BY m"
    "SELECT _timestamp, service, message FROM bench WHERE match_all('xyzzy3') LIMIT 100"
    "SELECT kubernetes_pod_name, quantile_cont(http_duration_ms, 0.95) AS p95 FROM bench WHERE http_status >= 500 GROUP BY 1 ORDER BY p95 DESC LIMIT 10"
    "SELECT level, count(*) FROM bench WHERE _timestamp >= 1767226300000000 AND _timestamp < 1767226600000000 GROUP BY level"
    "SELECT * FROM bench ORDER BY _timestamp DESC LIMIT 100"
    "SELECT * FROM bench WHERE trace_id = '$1'"
    "SELECT count(DISTINCT kubernetes_pod_name) FROM bench"
  )
}

# stop_peer BENCH_DIR: stops the ClickHouse peer. `clickhouse-peer.sh stop` looks for a pid file that
# ClickHouse 18.16 does not leave here, so the server it started (its `su` wrapper carries that pid-file
# argument; the server is the wrapper's child) is then stopped by PID.
stop_peer() {
  "$1/peers/clickhouse-peer.sh" stop
  local pids p
  pids=$(pgrep -f -- '--pid-file=/tmp/clickhouse-peer.pid' || true)
  for p in $pids; do pids="$pids $(pgrep -P "$p" || true)"; done
  [ -n "${pids// /}" ] && kill $pids 2>/dev/null || true
}
