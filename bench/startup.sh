#!/usr/bin/env bash
# Launch-to-/healthz-200 time (median of N runs) and idle RSS of a standalone node on embedded defaults.
# usage: bench/startup.sh [runs=5]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
dotnet build src/Silo -c Release -v q -nologo >/dev/null
bin=$PWD/src/Silo/bin/Release/net10.0/molesignal.dll
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
times=()
for i in $(seq "$runs"); do
  work=$(mktemp -d)
  start=$(date +%s%N)
  (cd "$work" && exec env MS_HTTP.BIND=127.0.0.1 MS_GRPC.BIND=127.0.0.1 MS_HTTP.PORT=$port dotnet "$bin" >"$work/log" 2>&1) &
  pid=$!
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" = 200 ]; do
    kill -0 $pid 2>/dev/null || { cat "$work/log"; exit 1; }
    sleep 0.02
  done
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000000 )))
  if [ "$i" = "$runs" ]; then
    sleep 10   # idle
    rss_kb=$(awk '/VmRSS/{print $2}' /proc/$pid/status)
  fi
  kill $pid; wait $pid 2>/dev/null || true
  rm -rf "$work"
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(echo "$sorted" | sed -n "$(( (runs + 1) / 2 ))p")
echo "launch to /healthz 200 (ms, $runs runs): $(echo $sorted | tr '\n' ' ')"
echo "median: ${median} ms"
echo "idle RSS after 10 s: $((rss_kb / 1024)) MiB"
