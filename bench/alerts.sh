#!/usr/bin/env bash
# Alert manager benchmark (issue 15): RULES rules (default 1000) over STREAMS streams (100), each a GROUP BY over
# its stream every minute (a 5-minute window), on one standalone node. Every rule fires for each level on its first
# window, so the first minute also measures the dispatcher (3 notifications a rule to a local HTTP receiver).
# Prints, over the windows ending after every rule was saved: evaluation lag (evaluated_at - window end; all rules
# fall due at the same instant, so the p99 is the time to work through them), query ms per evaluation, node CPU per
# evaluation, and notifications delivered per second.
#   bench/alerts.sh [rules=1000] [streams=100] [minutes=3]
set -euo pipefail
cd "$(dirname "$0")/.."
rules=${1:-1000}; streams=${2:-100}; minutes=${3:-3}
source bench/lib.sh
dotnet build src/Silo -c Release -v q -nologo >/dev/null
bin=$PWD/src/Silo/bin/Release/net10.0/molesignal.dll
command -v sqlite3 >/dev/null || apt-get install -y -qq sqlite3 >/dev/null
work=${BENCH_DIR:-/tmp/molesignal-bench}/alerts-node
rm -rf "$work" && mkdir -p "$work"
http=$(port); hook=$(port)
PID= RPID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; [ -n "$RPID" ] && kill $RPID 2>/dev/null; true' EXIT
# The receiver: answers 200 to every notification.
python3 - "$hook" <<'PY' &
import sys, http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length', 0))); self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
PY
RPID=$!
(cd "$work" && exec env MS_HTTP.BIND=127.0.0.1 MS_GRPC.BIND=127.0.0.1 MS_HTTP.PORT=$http MS_GRPC.PORT=$(port) \
   MS_CLUSTER.SILO_PORT=$(port) MS_CLUSTER.GATEWAY_PORT=$(port) MS_ALERT_MANAGER.EVAL_INTERVAL_SECS=1 \
   MS_ALERT_MANAGER.DISPATCH_INTERVAL_SECS=1 $MS_ENV dotnet "$bin" >>"$work/node.log" 2>&1) &
PID=$!
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http/readyz")" = 200 ]; do sleep 0.05; done
AUTH="$ROOT_EMAIL:$ROOT_PASSWORD"
api() { curl -s -u "$AUTH" -H 'Content-Type: application/json' "$@"; }
now_us=$(( $(date +%s%N) / 1000 ))
for s in $(seq 0 $((streams - 1))); do
  python3 -c "
import json,sys
for i in range(300): print(json.dumps({'_timestamp': $now_us - i * 500000, 'level': ['info','warn','error'][i % 3], 'message': 'm %d' % i}))" \
    | curl -s -o /dev/null -u "$AUTH" -H 'Content-Type: application/x-ndjson' --data-binary @- \
      "http://127.0.0.1:$http/api/v1/ingest/s$(printf %03d "$s")"
done
dest=$(api -d "{\"name\":\"bench\",\"kind\":\"webhook\",\"webhook\":{\"url\":\"http://127.0.0.1:$hook/\"}}" \
  "http://127.0.0.1:$http/api/v1/destinations" | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
for r in $(seq 0 $((rules - 1))); do
  s=s$(printf %03d $((r % streams)))
  api -o /dev/null -d "{\"name\":\"r$r\",\"stream\":\"$s\",\"sql\":\"SELECT level, count(*) AS n FROM $s GROUP BY level\",
    \"frequency_secs\":60,\"period_secs\":300,\"group_by\":[\"level\"],\"destinations\":[\"$dest\"],
    \"condition\":{\"column\":\"n\",\"operator\":\">=\",\"threshold\":1}}" "http://127.0.0.1:$http/api/v1/alerts"
done
saved_us=$(( $(date +%s%N) / 1000 ))
cpu0=$(awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$PID/stat")
first_end=$(( (saved_us / 60000000 + 1) * 60000000 ))
last_end=$(( first_end + (minutes - 1) * 60000000 ))
db=$work/data/meta.db
q() { sqlite3 "$db" "$1"; }
until [ "$(q "SELECT count(*) FROM alert_evaluations WHERE window_end_micros = $last_end")" = "$rules" ]; do sleep 1; done
until [ "$(q "SELECT count(*) FROM alert_outbox WHERE state <> 'delivered'")" = 0 ]; do sleep 1; done
cpu1=$(awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$PID/stat")
where="window_end_micros >= $first_end AND window_end_micros <= $last_end"
n=$(q "SELECT count(*) FROM alert_evaluations WHERE $where")
lags=$(q "SELECT evaluated_at_micros - window_end_micros FROM alert_evaluations WHERE $where ORDER BY 1")
pct() { echo "$lags" | awk -v p="$1" '{ a[NR] = $1 } END { i = int(NR * p); if (i < 1) i = 1; printf "%.2f", a[i] / 1e6 }'; }
query_ms=$(q "SELECT round(avg(duration_ms), 1) FROM alert_evaluations WHERE $where")
errors=$(q "SELECT count(*) FROM alert_evaluations WHERE $where AND error IS NOT NULL")
sent=$(q "SELECT count(*), (max(delivered_at_micros) - min(created_at_micros)) / 1e6 FROM alert_outbox")
echo "rules $rules streams $streams windows $n (errors $errors) over $minutes minute(s)"
echo "evaluation lag p50 $(pct 0.5) s  p99 $(pct 0.99) s  max $(pct 1.0) s"
echo "query ms per evaluation $query_ms; node CPU per evaluation $(echo "($cpu1 - $cpu0) * 1000 / $n" | bc -l | xargs printf %.2f) ms"
echo "notifications ${sent%%|*} delivered in ${sent##*|} s: $(echo "${sent%%|*} / ${sent##*|}" | bc -l | xargs printf %.0f)/s"
