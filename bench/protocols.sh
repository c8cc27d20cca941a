#!/usr/bin/env bash
# Ingest protocols benchmark (issue 14): the same genlogs records, in the same 8 MB bodies, posted by C clients to
# our JSON endpoint and to each protocol's endpoint (converted once, not timed), a fresh node per round, rounds
# alternating between the paths. Prints records/s (until every body is acknowledged) and server CPU µs/record per
# path and the ratio to the JSON path of the same run (target: every protocol >= 0.8x).
#   bench/protocols.sh [records=2000000] [clients=8]      (ROUNDS=3 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-2000000}; clients=${2:-8}
source bench/lib.sh
workload "$records" 8M
# Elasticsearch _bulk: each record behind a create action, body for body.
rm -rf "$work/chunks-es" && mkdir -p "$work/chunks-es"
for f in "$work"/chunks/*; do awk '{ print "{\"create\":{}}"; print }' "$f" > "$work/chunks-es/${f##*/}"; done
dotnet build src/Silo -c Release -v q -nologo >/dev/null
bin=$PWD/src/Silo/bin/Release/net10.0/molesignal.dll
command -v sqlite3 >/dev/null || apt-get install -y -qq sqlite3 >/dev/null
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null || true' EXIT

# post_es URL FILE: like post, for _bulk: every item must be written.
post_es() {
  while :; do
    out=$(curl -s -u "$AUTH" -w ' %{http_code}' -H 'Content-Type: application/x-ndjson' --data-binary @"$2" "$1")
    code=${out##* }
    if [ "$code" = 200 ]; then
      case "$out" in *'"errors":false'*) return 0 ;; *'"status":503'*) sleep 0.2; continue ;; esac
      echo "post $2: ${out:0:300}" >&2; return 1
    fi
    [ "$code" = 503 ] && { sleep 0.2; continue; }
    echo "post $2: HTTP $code ${out:0:300}" >&2; return 1
  done
}
export -f post_es

# round NAME FN PATH CHUNKS: a fresh node; the chunks posted with FN to PATH; prints "seconds cpu_seconds".
round() {
  local dir=$work/proto-node http
  rm -rf "$dir" && mkdir -p "$dir"
  http=$(port)
  (cd "$dir" && exec env MS_HTTP.BIND=127.0.0.1 MS_GRPC.BIND=127.0.0.1 MS_HTTP.PORT=$http MS_GRPC.PORT=$(port) \
     MS_CLUSTER.SILO_PORT=$(port) MS_CLUSTER.GATEWAY_PORT=$(port) MS_WAL.FLUSH_STRATEGY=batch \
     MS_INGESTER.FLUSH_INTERVAL_SECS=5 $MS_ENV dotnet "$bin" >>"$dir/node.log" 2>&1) &
  PID=$!
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http/readyz")" = 200 ]; do sleep 0.05; done
  AUTH="fluent-bit:$(service_token "$http" default ingester)"; export AUTH
  local cpu0 t0 t1 cpu1
  cpu0=$(awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$PID/stat"); t0=$(date +%s.%N)
  ls "$4"/* | xargs -P "$clients" -I{} bash -c "$2 \"\$0\" \"\$1\"" "http://127.0.0.1:$http$3" {}
  t1=$(date +%s.%N); cpu1=$(awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$PID/stat")
  local got
  got=$(curl -s -u "$ROOT_EMAIL:$ROOT_PASSWORD" "http://127.0.0.1:$http/api/v1/streams" | python3 -c \
    'import json,sys;print(sum(s["records"] for s in json.load(sys.stdin)["streams"] if s["name"]=="bench"))')
  [ "$got" = "$records" ] || { echo "$1: $got of $records records" >&2; exit 1; }
  kill $PID; wait $PID 2>/dev/null || true; PID=
  echo "$(echo "$t1 - $t0" | bc) $(echo "$cpu1 - $cpu0" | bc)"
}

rounds=${ROUNDS:-3}
declare -A secs cpus
paths=(json es)
for r in $(seq 1 "$rounds"); do
  read -r s c < <(round json post /api/v1/ingest/bench "$work/chunks"); secs[json]+="$s "; cpus[json]+="$c "
  read -r s2 c2 < <(round es post_es /api/v1/bench/_bulk "$work/chunks-es"); secs[es]+="$s2 "; cpus[es]+="$c2 "
  echo "round $r: json $s s ($c s CPU), es $s2 s ($c2 s CPU)"
done
median() { printf '%s\n' $1 | sort -n | sed -n "$(( ($(echo $1 | wc -w) + 1) / 2 ))p"; }
json_s=$(median "${secs[json]}")
printf '%-6s %12s %12s %14s %10s\n' path ack_s records/s cpu_us/record vs_json
for p in "${paths[@]}"; do
  s=$(median "${secs[$p]}"); c=$(median "${cpus[$p]}")
  printf '%-6s %12s %12s %14s %10s\n' "$p" "$s" "$(echo "$records / $s" | bc)" \
    "$(echo "scale=2; $c * 1000000 / $records" | bc)" "$(echo "scale=2; $json_s / $s" | bc)"
done
