#!/usr/bin/env bash
# Auth cost (issue 21): ingest rounds alternating [auth].enabled = false and Basic over an ingester service token
# (bench/ingest.sh with ROUNDS=1 each, PAIRS pairs, default 4), the ratio of the medians; then login latency
# (POST /api/v1/auth/login, argon2id each) and token verification cached / uncached (MoleSignal.Bench auth).
#   bench/auth.sh [records=2000000] [clients=8]
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-2000000}; clients=${2:-8}; pairs=${PAIRS:-4}
source bench/lib.sh
ack() { grep -o 'acknowledged in [0-9.]*s' | head -1 | grep -o '[0-9.]*'; }
off=(); tok=()
for i in $(seq 1 "$pairs"); do
  off+=("$(ROUNDS=1 ONLY_INGEST=1 BENCH_AUTH=off bench/ingest.sh "$records" "$clients" --no-peer | ack)")
  tok+=("$(ROUNDS=1 ONLY_INGEST=1 BENCH_AUTH=token bench/ingest.sh "$records" "$clients" --no-peer | ack)")
  echo "pair $i: auth off ${off[-1]}s, ingester token ${tok[-1]}s"
done
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
m_off=$(median "${off[@]}"); m_tok=$(median "${tok[@]}")
echo "ingest medians: auth off ${m_off}s, token ${m_tok}s; throughput ratio token/off = $(echo "scale=3; $m_off/$m_tok" | bc)"

# login latency on a fresh node
work=${BENCH_DIR:-/tmp/molesignal-bench}/auth
rm -rf "$work" && mkdir -p "$work"
dotnet build src/Silo -c Release -v q -nologo >/dev/null
bin=$PWD/src/Silo/bin/Release/net10.0/molesignal.dll
HTTP=$(port)
(cd "$work" && exec env MS_HTTP.BIND=127.0.0.1 MS_GRPC.BIND=127.0.0.1 MS_HTTP.PORT=$HTTP MS_GRPC.PORT=$(port) \
   MS_CLUSTER.SILO_PORT=$(port) MS_CLUSTER.GATEWAY_PORT=$(port) $MS_ENV dotnet "$bin" \
   >"$work/node.log" 2>&1) &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP/readyz")" = 200 ]; do sleep 0.05; done
echo -n "login (POST /api/v1/auth/login): "
RUNS=240 python3 bench/latency.py "$HTTP" "{\"email\":\"$ROOT_EMAIL\",\"password\":\"$ROOT_PASSWORD\"}" /api/v1/auth/login
kill $PID; wait $PID 2>/dev/null || true
dotnet run -c Release --project bench/MoleSignal.Bench -v q -- auth
