#!/usr/bin/env bash
# Auth cost (issue 21): ingest rounds alternating [auth].enabled = false and Basic over an ingester service token
# (bench/ingest.sh with ROUNDS=1 each, PAIRS pairs, default 5), the ratio of the medians of wall time and of
# server CPU per record (steadier on this noisy 2-core box); then login latency
# (POST /api/v1/auth/login, argon2id each) and token verification cached / uncached (MoleSignal.Bench auth).
#   bench/auth.sh [records=2000000] [clients=8]
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-2000000}; clients=${2:-8}; pairs=${PAIRS:-5}
source bench/lib.sh
round() { # mode: prints "ack_seconds cpu_us_per_record"
  local out
  out=$(ROUNDS=1 ONLY_INGEST=1 BENCH_AUTH=$1 bench/ingest.sh "$records" "$clients" --no-peer)
  echo "$(echo "$out" | grep -o 'acknowledged in [0-9.]*s' | head -1 | grep -o '[0-9.]*')" \
       "$(echo "$out" | grep -o '([0-9.]* µs/record)' | grep -o '[0-9.]*')"
}
off=(); tok=(); off_cpu=(); tok_cpu=()
for i in $(seq 1 "$pairs"); do
  read -r a c <<<"$(round off)"; off+=("$a"); off_cpu+=("$c")
  read -r a c <<<"$(round token)"; tok+=("$a"); tok_cpu+=("$c")
  echo "pair $i: auth off ${off[-1]}s ${off_cpu[-1]} µs/record, ingester token ${tok[-1]}s ${tok_cpu[-1]} µs/record"
done
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
m_off=$(median "${off[@]}"); m_tok=$(median "${tok[@]}")
c_off=$(median "${off_cpu[@]}"); c_tok=$(median "${tok_cpu[@]}")
echo "ingest medians: auth off ${m_off}s, token ${m_tok}s: throughput ratio token/off = $(echo "scale=3; $m_off/$m_tok" | bc)"
echo "server CPU medians: auth off ${c_off}, token ${c_tok} µs/record: ratio off/token = $(echo "scale=3; $c_off/$c_tok" | bc)"

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
