#!/usr/bin/env bash
# The ClickHouse peer for MoleSignal's benchmarks: installs Debian's clickhouse-server if missing, starts it
# on loopback (127.0.0.1:8123), loads the same genlogs records (flattened as MoleSignal flattens them) and
# times the ClickHouse form of Q1-Q10 (bench/queries.md).
#   clickhouse-peer.sh load LOGS.ndjson     -> prints "load_seconds N"
#   clickhouse-peer.sh queries [TRACE_ID]   -> prints "Qi median_ms" for 5 warm runs each
#   clickhouse-peer.sh stop                 -> stops the server this script started
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CH=http://127.0.0.1:8123/
up() { curl -sf "${CH}?query=SELECT%201" >/dev/null 2>&1; }
start() {
  up && return 0
  if ! command -v clickhouse-server >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clickhouse-server clickhouse-client >/dev/null
  fi
  rm -f /tmp/clickhouse-peer.pid
  setsid su -s /bin/bash clickhouse -c "clickhouse-server --config-file=/etc/clickhouse-server/config.xml --pid-file=/tmp/clickhouse-peer.pid" >/dev/null 2>&1 < /dev/null &
  for _ in $(seq 100); do up && return 0; sleep 0.2; done
  echo "clickhouse did not start" >&2; exit 1
}
case "${1:-}" in
  load)
    start
    flat=$(mktemp); python3 "$here/flatten.py" < "$2" > "$flat"
    curl -sf "$CH" --data-binary "DROP TABLE IF EXISTS logs" >/dev/null
    curl -sf "$CH" --data-binary @"$here/clickhouse.sql" >/dev/null
    t0=$(date +%s.%N)
    curl -sf -T "$flat" -X POST "${CH}?query=INSERT%20INTO%20logs%20FORMAT%20JSONEachRow&input_format_skip_unknown_fields=1"
    t1=$(date +%s.%N); rm -f "$flat"
    echo "load_seconds $(echo "$t1 - $t0" | bc)"
    echo "stored_bytes $(curl -sf "$CH" --data-binary "SELECT sum(data_compressed_bytes) FROM system.parts WHERE table='logs' AND active")"
    ;;
  queries)
    start
    trace=${2:-$(curl -sf "$CH" --data-binary "SELECT trace_id FROM logs ORDER BY _timestamp LIMIT 1")}
    i=0
    while IFS= read -r q; do
      i=$((i+1)); q=${q//\'2217beaddbc496cb8e81973e0becd7b0\'/\'$trace\'}
      ts=()
      for r in 0 1 2 3 4 5; do
        s=$(date +%s%N); curl -sf "$CH" --data-binary "$q FORMAT Null" >/dev/null; e=$(date +%s%N)
        [ $r -gt 0 ] && ts+=($(( (e - s) / 1000 )))
      done
      med=$(printf '%s\n' "${ts[@]}" | sort -n | sed -n 3p)
      echo "Q$i $(echo "scale=1; $med / 1000" | bc)"
    done < "$here/clickhouse-queries.sql"
    ;;
  stop)
    # only a server this script started has this pid file
    [ -f /tmp/clickhouse-peer.pid ] && kill "$(cat /tmp/clickhouse-peer.pid)" 2>/dev/null || true
    rm -f /tmp/clickhouse-peer.pid
    ;;
  *) sed -n '2,8p' "$0"; exit 2 ;;
esac
