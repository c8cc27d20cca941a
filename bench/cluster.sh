#!/usr/bin/env bash
# Cluster benchmark (issue 6) on one box: a private PostgreSQL, the local object store shared by path, and
# router + 2 ingesters + 2 queriers + 1 compactor as separate molesignal processes.
#   1. N genlogs records posted to the router (C clients): time to acknowledge and to files, total CPU of all
#      nodes; then the same into one standalone node (SQLite) -> the cost ratio.
#   2. Q1-Q10 through the router (distributed over the 2 queriers) vs one local-engine node on the same
#      Postgres + objects (median of 5 warm runs each) -> a ratio per query.
#   bench/cluster.sh [records=2000000] [clients=8]        (BENCH_QUERIES=0: the ingest part only)
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-2000000}; clients=${2:-8}
benchdir=$PWD/bench  # the workload generator (genlogs.py) and the peers (peers/) are the repository's own
base=${BENCH_DIR:-/tmp/molesignal-bench}
work=$base/cluster
mkdir -p "$base"
logs=$base/logs-$records.ndjson
[ -f "$logs" ] || python3 "$benchdir/genlogs.py" --records "$records" --seed 7 > "$logs"
rm -rf "$work" && mkdir -p "$work/chunks"
split -C 8M -d -a 4 "$logs" "$work/chunks/c"
dotnet build src/Silo -c Release -v q -nologo >/dev/null
dotnet build bench/MoleSignal.Bench -c Release -v q -nologo >/dev/null
bin=$PWD/src/Silo/bin/Release/net10.0/molesignal.dll
source bench/lib.sh
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# PostgreSQL from the installed binaries, private to this run.
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg() { # [exec] command...: runs it as the postgres user when we are root
  local e=; [ "$1" = exec ] && { e=exec; shift; }
  if [ "$(id -u)" = 0 ]; then $e setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; else $e "$@"; fi
}
mkdir -p "$work/pg"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$work/pg"
as_pg "$pgbin/initdb" -D "$work/pg/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
PG=$(port)
# exec in the background subshell, so $! is the server itself and the cleanup stops it by PID
(as_pg exec "$pgbin/postgres" -D "$work/pg/data" -p "$PG" -k "$work/pg" -c listen_addresses=127.0.0.1 -c max_connections=300) >"$work/pg.log" 2>&1 &
PIDS+=($!)
until "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$PG"; do sleep 0.1; done
DSN="postgres://postgres@127.0.0.1:$PG/postgres"
sql() { "$pgbin/psql" -qtA -h 127.0.0.1 -p "$PG" -U postgres -c "$1" postgres; }

# Cluster-mode nodes refuse to start without a real master key for stored secrets.
CIPHER_KEY=$(python3 -c 'import base64,os;print(base64.b64encode(os.urandom(32)).decode())')
declare -A HTTP_OF PID_OF SILO_OF
start() { # name roles [env...]
  local name=$1 roles=$2; shift 2
  local http=$(port) grpc=$(port) silo=$(port)
  mkdir -p "$work/$name"
  SILO_OF[$name]=$silo
  (cd "$work/$name" && exec env MS_HTTP.BIND=127.0.0.1 MS_GRPC.BIND=127.0.0.1 MS_HTTP.PORT=$http MS_GRPC.PORT=$grpc \
     MS_CLUSTER.SILO_PORT=$silo MS_CLUSTER.GATEWAY_PORT=$(port) MS_CLUSTER.ADVERTISE_ADDR=127.0.0.1:$grpc \
     MS_NODE.ID=$name MS_NODE.ROLES=$roles MS_INGESTER.FLUSH_INTERVAL_SECS=5 MS_WAL.FLUSH_STRATEGY=batch $MS_ENV MS_CIPHER_KEY=$CIPHER_KEY "$@" \
     dotnet "$bin" >>"$work/$name.log" 2>&1) &
  PID_OF[$name]=$!; HTTP_OF[$name]=$http; PIDS+=($!)
}
ready() { until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${HTTP_OF[$1]}/readyz")" = 200 ]; do sleep 0.1; done; }
cpu_of() { awk '{print ($14+$15)/100}' /proc/$1/stat; } # utime + stime of the dotnet process, seconds
ingest() { # name rows-query "stream names": prints "ack_s all_s"; chunks go round-robin over the streams
  local url="http://127.0.0.1:${HTTP_OF[$1]}/api/v1/ingest" t0 t1
  t0=$(date +%s.%N)
  ls "$work"/chunks/* | awk -v u="$url" -v s="$3" 'BEGIN { n = split(s, names, " ") } { print u "/" names[NR % n + 1], $0 }' \
    | xargs -P "$clients" -n 2 bash -c 'post "$0" "$1"'
  t1=$(date +%s.%N)
  until [ "$($2)" = "$records" ]; do sleep 0.2; done
  echo "$(echo "$t1 - $t0" | bc) $(echo "$(date +%s.%N) - $t0" | bc)"
}

# 1a. the cluster
common=(MS_STORE.META.BACKEND=postgres MS_STORE.META.DSN=$DSN MS_STORE.OBJECT.ROOT=$work/objects)
start router router "${common[@]}"; ready router
for n in ingester-1 ingester-2; do start $n ingester "${common[@]}"; done
for n in querier-1 querier-2; do start $n querier "${common[@]}"; done
start compactor-1 compactor "${common[@]}"
for n in ingester-1 ingester-2 querier-1 querier-2 compactor-1; do ready $n; done
until [ "$(sql "SELECT count(*) FROM OrleansMembershipTable WHERE Status = 3")" = 6 ]; do sleep 0.2; done
# One stream lives on one ingester: 8 streams the placement hash gives 4 to each ingester (names depend on the
# ingesters' silo endpoints), the same names for the standalone run.
streams=$(dotnet run -c Release --no-build --project bench/MoleSignal.Bench -- balanced-streams default bench_ 8 \
  127.0.0.1:${SILO_OF[ingester-1]} 127.0.0.1:${SILO_OF[ingester-2]})
nodes=(router ingester-1 ingester-2 querier-1 querier-2 compactor-1)
declare -A CPU0; for n in "${nodes[@]}"; do CPU0[$n]=$(cpu_of ${PID_OF[$n]}); done
cluster_rows() { sql "SELECT COALESCE(SUM(rows),0) FROM file_meta WHERE stream LIKE 'bench_%'"; }
read -r c_ack c_all < <(ingest router cluster_rows "$streams")
c_cpu=0; split_cpu=
for n in "${nodes[@]}"; do
  d=$(echo "$(cpu_of ${PID_OF[$n]}) - ${CPU0[$n]}" | bc); c_cpu=$(echo "$c_cpu + $d" | bc); split_cpu="$split_cpu $n $d"
done
gcs() { curl -s "http://127.0.0.1:${HTTP_OF[$1]}/metrics" | awk '/^dotnet_collection_count_total/{printf "%s/", $2}' | sed 's#/$##'; }
cluster_gcs=$(for n in router ingester-1 ingester-2; do printf '%s %s  ' $n "$(gcs $n)"; done)
streams_per_ingester=$(for n in ingester-1 ingester-2; do ls "$work/$n/data/wal/default/logs" 2>/dev/null | wc -l; done | paste -sd/)

# 1b. standalone on the same box
start solo standalone; ready solo
solo_rows() { sqlite3 "$work/solo/data/meta.db" "SELECT COALESCE(SUM(rows),0) FROM file_meta WHERE stream LIKE 'bench_%'"; }
command -v sqlite3 >/dev/null || apt-get install -y -qq sqlite3 >/dev/null
s_cpu0=$(cpu_of ${PID_OF[solo]})
read -r s_ack s_all < <(ingest solo solo_rows "$streams")
s_cpu=$(echo "$(cpu_of ${PID_OF[solo]}) - $s_cpu0" | bc)
solo_gcs=$(gcs solo)
kill ${PID_OF[solo]}; wait ${PID_OF[solo]} 2>/dev/null || true

echo "ingest: $records records into 8 streams ($streams), $clients clients; streams per ingester (WAL dirs): $streams_per_ingester"
printf '  %-28s %10s %10s %10s\n' "" ack_s files_s cpu_s
printf '  %-28s %10s %10s %10s\n' "router -> 2 ingesters" "$c_ack" "$c_all" "$c_cpu"
printf '  %-28s %10s %10s %10s\n' "standalone" "$s_ack" "$s_all" "$s_cpu"
echo "  cluster CPU by node (s):$split_cpu"
echo "  GCs by generation (0/1/2): $cluster_gcs standalone $solo_gcs"
echo "  cost ratio cluster/standalone: time to ack $(echo "scale=2; $c_ack / $s_ack" | bc)x, time to files $(echo "scale=2; $c_all / $s_all" | bc)x, CPU $(echo "scale=2; $c_cpu / $s_cpu" | bc)x"

[ "${BENCH_QUERIES:-1}" = 1 ] || exit 0
# 2. queries: distributed through the router vs the local engine on the same metadata and objects
cluster_bench() { sql "SELECT COALESCE(SUM(rows),0) FROM file_meta WHERE stream = 'bench'"; }
ingest router cluster_bench bench >/dev/null # the query stream (untimed)
start local standalone "${common[@]}"; ready local
q() { curl -s -u "$AUTH" "http://127.0.0.1:${HTTP_OF[$1]}/api/v1/query" -H 'Content-Type: application/json' -d "$2"; }
trace=$(q router "$(query_body "SELECT trace_id FROM bench ORDER BY _timestamp LIMIT 1")" | python3 -c 'import json,sys;print(json.load(sys.stdin)["rows"][0][0])')
bench_queries "$trace"
queries=("${QUERIES[@]}")
median() { # node json -> median µs of 5 warm runs; the answer must equal the other engine's
  local ts=() s e out
  for r in 0 1 2 3 4 5; do
    s=$(date +%s%N); out=$(q "$1" "$2"); e=$(date +%s%N)
    case "$out" in *'"error"'*) echo "$1 failed: $out" >&2; exit 1 ;; esac
    [ $r -gt 0 ] && ts+=($(( (e - s) / 1000 )))
  done
  echo "$out" | python3 -c 'import json,sys,hashlib;r=json.load(sys.stdin)["rows"];r=[[float(f"{v:.9g}") if isinstance(v,float) else v for v in x] for x in r];print(len(r), "rows", hashlib.md5("".join(sorted(json.dumps(x) for x in r)).encode()).hexdigest()[:8])' > "$work/answer-$1"
  printf '%s\n' "${ts[@]}" | sort -n | sed -n 3p
}
before=$(curl -s "http://127.0.0.1:${HTTP_OF[router]}/metrics" | awk '/^query_shards_total\{result="remote"\}/{print $2}')
printf '%-4s %14s %12s %8s %s\n' query distributed_ms local_ms ratio same_rows
for i in "${!queries[@]}"; do
  json=$(query_body "${queries[$i]}")
  d=$(median router "$json"); l=$(median local "$json")
  same=$(cmp -s "$work/answer-router" "$work/answer-local" && echo yes || echo "NO ($(cat "$work/answer-router") vs $(cat "$work/answer-local"))")
  printf '%-4s %14s %12s %8s %s\n' "Q$((i+1))" "$(echo "scale=1; $d/1000" | bc)" "$(echo "scale=1; $l/1000" | bc)" "$(echo "scale=2; $d/$l" | bc)" "$same"
done
after=$(curl -s "http://127.0.0.1:${HTTP_OF[router]}/metrics" | awk '/^query_shards_total\{result="remote"\}/{print $2}')
echo "shards scanned on queriers during the queries: $(echo "${after:-0} - ${before:-0}" | bc) (Q5 has LIMIT without ORDER BY: any 100 matching rows are right)"
