#!/usr/bin/env bash
# Federated query benchmark (issue 16): Q1-Q10 of bench/queries.md over two clusters holding half of the records
# each (?clusters=local,b), against the same records in one cluster, medians of 5 warm runs in the same run (the
# nodes idle first; single and federated runs interleaved); then
# the Scan service's throughput (Arrow over loopback) reading one half.
#   bench/federation.sh [records=2000000]
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-2000000}
source bench/lib.sh
workload "$records" 8M
half=$((records / 2))
for part in single a b; do rm -rf "$work/fed-$part" && mkdir -p "$work/fed-$part/chunks"; done
split -C 8M -d -a 4 "$logs" "$work/fed-single/chunks/c"
head -n "$half" "$logs" | split -C 8M -d -a 4 - "$work/fed-a/chunks/c"
tail -n +"$((half + 1))" "$logs" | split -C 8M -d -a 4 - "$work/fed-b/chunks/c"
dotnet build src/Silo -c Release -v q -nologo >/dev/null
dotnet build bench/MoleSignal.Bench -c Release -v q -nologo >/dev/null
bin=$PWD/src/Silo/bin/Release/net10.0/molesignal.dll

# A self-issued license for the coordinator: an Ed25519 key pair, its raw public key trusted by config.
key=$work/fed-license.pem
openssl genpkey -algorithm ed25519 -out "$key" 2>/dev/null
pub=$(openssl pkey -in "$key" -pubout -outform DER | tail -c 32 | base64)
python3 -c 'import json,sys,datetime as d;n=d.datetime.now(d.timezone.utc)
print(json.dumps({"licensee":"bench","features":["federated_search"],"not_before":(n-d.timedelta(days=1)).isoformat(),
"expires":(n+d.timedelta(days=1)).isoformat()}),end="")' > "$work/fed-payload.json"
openssl pkeyutl -sign -rawin -inkey "$key" -in "$work/fed-payload.json" -out "$work/fed-signature.bin"
python3 -c 'import json,base64,sys;print(json.dumps({"payload":base64.b64encode(open(sys.argv[1],"rb").read()).decode(),
"signature":base64.b64encode(open(sys.argv[2],"rb").read()).decode()}))' "$work/fed-payload.json" \
  "$work/fed-signature.bin" > "$work/fed-license.json"

declare -A HTTP GRPC PIDS
start() { # NAME ENV...: a standalone node in $work/fed-NAME
  local name=$1; shift
  HTTP[$name]=$(port); GRPC[$name]=$(port)
  (cd "$work/fed-$name" && exec env MS_HTTP.BIND=127.0.0.1 MS_GRPC.BIND=127.0.0.1 MS_HTTP.PORT=${HTTP[$name]} \
     MS_GRPC.PORT=${GRPC[$name]} MS_CLUSTER.SILO_PORT=$(port) MS_CLUSTER.GATEWAY_PORT=$(port) \
     MS_INGESTER.FLUSH_INTERVAL_SECS=5 $MS_ENV "$@" dotnet "$bin" >"$work/fed-$name.log" 2>&1) &
  PIDS[$name]=$!
}
trap 'kill ${PIDS[@]} 2>/dev/null || true' EXIT
ready() {
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${HTTP[$1]}/readyz")" = 200 ]; do sleep 0.05; done
}
start single
start b
ready b
# a reaches b with a token of b's, given to a's process as an environment variable.
start a MS_LICENSE_FILE="$work/fed-license.json" MS_LICENSE.TRUSTED_PUBLIC_KEYS="$pub" \
  MS_FEDERATION_B_TOKEN="$(service_token "${HTTP[b]}" default viewer)"
command -v sqlite3 >/dev/null || apt-get install -y -qq sqlite3 >/dev/null
for name in single a b; do
  ready $name
  ls "$work/fed-$name"/chunks/* | xargs -P 8 -I{} bash -c 'post "$0" "$1"' \
    "http://127.0.0.1:${HTTP[$name]}/api/v1/ingest/bench" {}
  want=$([ "$name" = single ] && echo "$records" || echo "$half")
  flushed="SELECT COALESCE(SUM(rows),0) FROM file_meta WHERE stream='bench'"
  until [ "$(sqlite3 "$work/fed-$name/data/meta.db" "$flushed")" = "$want" ]; do sleep 0.5; done
done
curl -s -u "$AUTH" "http://127.0.0.1:${HTTP[a]}/api/v1/remote_clusters" -H 'Content-Type: application/json' \
  -d "{\"name\":\"b\",\"advertise_addr\":\"127.0.0.1:${GRPC[b]}\",
       \"token_secret_ref\":\"env:MS_FEDERATION_B_TOKEN\",\"tls_verify\":false}" >/dev/null

q() { curl -s -u "$AUTH" "http://127.0.0.1:${HTTP[single]}/api/v1/query" -H 'Content-Type: application/json' -d "$1"; }
trace=$(q "$(query_body "SELECT trace_id FROM bench ORDER BY _timestamp DESC LIMIT 1")" \
  | python3 -c 'import json,sys;print(json.load(sys.stdin)["rows"][0][0])')
bench_queries "$trace"
queries=("${QUERIES[@]}")
echo "$records records: one cluster, and $half + $half in clusters local and b; Q9 trace_id $trace (in b's half)"
declare -A single fed
settle "${PIDS[@]}"
paired_median_of_5 single "http://127.0.0.1:${HTTP[single]}" /api/v1/query \
  fed "http://127.0.0.1:${HTTP[a]}" "/api/v1/query?clusters=local,b" "${queries[@]}"
printf '%-4s %12s %14s %8s\n' query single_ms federated_ms ratio
logsum=0
for i in "${!queries[@]}"; do
  s=$(echo "scale=1; ${single[$i]} / 1000" | bc); f=$(echo "scale=1; ${fed[$i]} / 1000" | bc)
  printf '%-4s %12s %14s %8s\n' "Q$((i+1))" "$s" "$f" "$(echo "scale=2; $f / $s" | bc)"
  logsum=$(echo "$logsum + l($f / $s)" | bc -l)
done
echo "geometric mean ratio: $(echo "scale=2; e($logsum / ${#queries[@]})" | bc -l)"
dotnet bench/MoleSignal.Bench/bin/Release/net10.0/MoleSignal.Bench.dll scan "http://127.0.0.1:${GRPC[b]}" bench \
  "$AUTH" 3
