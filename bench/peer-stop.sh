# Sourced by the benchmarks: stops the ClickHouse peer. `clickhouse-peer.sh stop` looks for a pid file that
# ClickHouse 18.16 does not leave here, so the server it started (recognised by that pid-file argument on its
# command line) is then stopped by PID.
stop_peer() {
  "$1/peers/clickhouse-peer.sh" stop
  local pids p
  pids=$(pgrep -f -- '--pid-file=/tmp/clickhouse-peer.pid' || true)
  # the match is the `su` wrapper; the server is its child
  for p in $pids; do pids="$pids $(pgrep -P "$p" || true)"; done
  [ -n "${pids// /}" ] && kill $pids 2>/dev/null || true
}
