#!/usr/bin/env bash
# Ingest protocols benchmark (issue 14): the same genlogs records, in the same 8 MB bodies, posted by C clients to
# our JSON endpoint (also with an Idempotency-Key per body: json-key) and to each protocol's endpoint (Elasticsearch
# _bulk, OTLP/HTTP protobuf and OTLP/JSON, Loki protobuf+snappy, Prometheus remote write, syslog over TCP;
# converted once by MoleSignal.Bench convert, not timed); OTLP/gRPC sends the OTLP bodies as they are from one
# MoleSignal.Bench grpc-send process (one channel, CLIENTS calls in flight). A fresh node per round, rounds
# alternating between the paths. Syslog has no acknowledgement: its time runs until the stream holds every record.
# Prints records/s (until every body is acknowledged) and server CPU µs/record per path and the ratio to the JSON
# path of the same run (target: every protocol >= 0.8x).
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
dotnet build bench/MoleSignal.Bench -c Release -v q -nologo >/dev/null
# Converted again only when made from other records or chunks, or by an older converter (.made-from says what).
converter=bench/MoleSignal.Bench/bin/Release/net10.0/MoleSignal.Bench.dll
for p in otlp otlp-json loki remote-write syslog; do
  out=$work/chunks-$p
  [ "$(cat "$out/.made-from" 2>/dev/null)" = "$logs 8M" ] && [ "$out" -nt "$logs" ] && [ "$out" -nt "$converter" ] \
    && continue
  rm -rf "$out" "$out.tmp"
  dotnet "$converter" convert $p "$work/chunks" "$out.tmp"
  echo "$logs 8M" > "$out.tmp/.made-from" && mv "$out.tmp" "$out"
done
bin=$PWD/src/Silo/bin/Release/net10.0/molesignal.dll
command -v sqlite3 >/dev/null || apt-get install -y -qq sqlite3 >/dev/null
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null || true' EXIT

# post_es URL FILE: like post, for _bulk: every item must be written.
post_es() {
  local answer=/tmp/es-answer.$$ code head
  while :; do
    code=$(curl -s -u "$AUTH" -o "$answer" -w '%{http_code}' -H 'Content-Type: application/x-ndjson' \
      --data-binary @"$2" "$1")
    if [ "$code" = 200 ]; then
      # "errors" is the answer's second key: only an answer with errors is read further.
      head=$(head -c 64 "$answer")
      case "$head" in *'"errors":false'*) rm -f "$answer"; return 0 ;; esac
      grep -q '"status":503' "$answer" && { sleep 0.2; continue; }
      echo "post $2: $(head -c 300 "$answer")" >&2; rm -f "$answer"; return 1
    fi
    [ "$code" = 503 ] && { sleep 0.2; continue; }
    echo "post $2: HTTP $code $(head -c 300 "$answer")" >&2; rm -f "$answer"; return 1
  done
}
export -f post_es

# post_proto URL FILE: a protobuf body (or of the type CT) answered with the success code: OTLP's 200 with an
# empty export response (OTLP/JSON: "{}") or the 204 of Loki and remote write; retried on 503/429.
post_proto() {
  while :; do
    code=$(curl -s -u "$AUTH" -o /tmp/proto-answer.$$ -w '%{http_code}' \
      -H "Content-Type: ${CT:-application/x-protobuf}" -H 'stream-name: bench' --data-binary @"$2" "$1")
    if [ "$code" = 200 ] || [ "$code" = 204 ]; then
      if [ -s /tmp/proto-answer.$$ ] && [ "$(cat /tmp/proto-answer.$$)" != '{ }' ]; then
        echo "post $2: partial success" >&2; rm -f /tmp/proto-answer.$$; return 1
      fi
      rm -f /tmp/proto-answer.$$; return 0
    fi
    case "$code" in 503|429) sleep 0.2; continue ;; esac
    echo "post $2: HTTP $code $(head -c 300 /tmp/proto-answer.$$)" >&2; rm -f /tmp/proto-answer.$$; return 1
  done
}
export -f post_proto
post_otlp_json() { CT=application/json post_proto "$@"; }
export -f post_otlp_json

# post_key URL FILE: like post, every body with an Idempotency-Key of its own (kept with its WAL entry).
post_key() {
  local key out code
  key="bench-${2##*/}"
  while :; do
    out=$(curl -s -u "$AUTH" -w ' %{http_code}' -H 'Content-Type: application/x-ndjson' -H "Idempotency-Key: $key" \
      --data-binary @"$2" "$1")
    code=${out##* }
    if [ "$code" = 200 ]; then case "$out" in *'"rejected":0,'*) return 0 ;; *) echo "post $2: $out" >&2; return 1 ;; esac; fi
    [ "$code" = 503 ] && { sleep 0.2; continue; }
    echo "post $2: HTTP $code $out" >&2; return 1
  done
}
export -f post_key

# post_syslog HOST:PORT FILE: the file's frames over one TCP connection (bash's /dev/tcp and cat: a Python client
# costs more CPU to start than the server spends on its 14k records).
post_syslog() {
  cat "$2" > "/dev/tcp/${1%:*}/${1##*:}"
}
export -f post_syslog

# records_of PORT: the records of stream bench (any type; curl and awk, cheap enough to poll).
records_of() {
  curl -s -u "$ROOT_EMAIL:$ROOT_PASSWORD" "http://127.0.0.1:$1/api/v1/streams" \
    | grep -o '"name":"bench","type":"[a-z]*","records":[0-9]*' | awk -F: '{ n += $NF } END { print n + 0 }'
}
# round NAME FN PATH CHUNKS: a fresh node; the chunks posted with FN to PATH; prints "seconds cpu_seconds".
round() {
  local dir=$work/proto-node http syslog grpc target
  rm -rf "$dir" && mkdir -p "$dir"
  http=$(port); syslog=$(port); grpc=$(port)
  (cd "$dir" && exec env MS_SYSLOG.BIND=127.0.0.1 MS_SYSLOG.TCP_PORT=$syslog MS_SYSLOG.STREAM=bench \
     MS_HTTP.BIND=127.0.0.1 MS_GRPC.BIND=127.0.0.1 MS_HTTP.PORT=$http MS_GRPC.PORT=$grpc \
     MS_CLUSTER.SILO_PORT=$(port) MS_CLUSTER.GATEWAY_PORT=$(port) MS_WAL.FLUSH_STRATEGY=batch \
     MS_INGESTER.FLUSH_INTERVAL_SECS=5 $MS_ENV dotnet "$bin" >>"$dir/node.log" 2>&1) &
  PID=$!
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http/readyz")" = 200 ]; do sleep 0.05; done
  AUTH="fluent-bit:$(service_token "$http" default ingester)"; export AUTH
  local cpu0 t0 t1 cpu1
  cpu0=$(awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$PID/stat"); t0=$(date +%s.%N)
  target="http://127.0.0.1:$http$3"; [ "$2" = post_syslog ] && target="127.0.0.1:$syslog"
  if [ "$2" = grpc_send ]; then
    target="http://127.0.0.1:$grpc"
    dotnet bench/MoleSignal.Bench/bin/Release/net10.0/MoleSignal.Bench.dll grpc-send "$target" "$4" "$clients" "$AUTH"
  else
    ls "$4"/* | xargs -P "$clients" -I{} bash -c "$2 \"\$0\" \"\$1\"" "$target" {}
  fi
  local got
  if [ "$2" = post_syslog ]; then
    for _ in $(seq 6000); do [ "$(records_of "$http")" = "$records" ] && break; sleep 0.1; done
  fi
  t1=$(date +%s.%N); cpu1=$(awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$PID/stat")
  got=$(records_of "$http")
  [ "$got" = "$records" ] || { echo "$1: $got of $records records" >&2; exit 1; }
  kill $PID; wait $PID 2>/dev/null || true; PID=
  echo "$(echo "$t1 - $t0" | bc) $(echo "$cpu1 - $cpu0" | bc)"
}

rounds=${ROUNDS:-3}
declare -A secs cpus
paths=(json json-key es otlp otlp-json otlp-grpc loki remote-write syslog)
declare -A fn=([json]=post [json-key]=post_key [es]=post_es [otlp]=post_proto [otlp-json]=post_otlp_json
  [otlp-grpc]=grpc_send [loki]=post_proto [remote-write]=post_proto [syslog]=post_syslog)
declare -A url=([json]=/api/v1/ingest/bench [json-key]=/api/v1/ingest/bench [es]=/api/v1/bench/_bulk
  [otlp]=/api/v1/otlp/v1/logs [otlp-json]=/api/v1/otlp/v1/logs [otlp-grpc]=- [loki]=/loki/api/v1/push
  [remote-write]=/api/v1/prometheus/write [syslog]=-)
declare -A dir=([json]=chunks [json-key]=chunks [es]=chunks-es [otlp]=chunks-otlp [otlp-json]=chunks-otlp-json
  [otlp-grpc]=chunks-otlp [loki]=chunks-loki [remote-write]=chunks-remote-write [syslog]=chunks-syslog)
for r in $(seq 1 "$rounds"); do
  line="round $r:"
  for p in ${PATHS:-${paths[@]}}; do
    read -r s c < <(round "$p" "${fn[$p]}" "${url[$p]}" "$work/${dir[$p]}"); secs[$p]+="$s "; cpus[$p]+="$c "
    line+=" $p $s s ($c s CPU)"
  done
  echo "$line"
done
median() { printf '%s\n' $1 | sort -n | sed -n "$(( ($(echo $1 | wc -w) + 1) / 2 ))p"; }
json_s=$(median "${secs[json]}")
printf '%-13s %12s %12s %14s %10s\n' path ack_s records/s cpu_us/record vs_json
for p in ${PATHS:-${paths[@]}}; do
  s=$(median "${secs[$p]}"); c=$(median "${cpus[$p]}")
  printf '%-13s %12s %12s %14s %10s\n' "$p" "$s" "$(echo "$records / $s" | bc)" \
    "$(echo "scale=2; $c * 1000000 / $records" | bc)" "$(echo "scale=2; $json_s / $s" | bc)"
done
