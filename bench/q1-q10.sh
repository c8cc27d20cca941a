# Q1-Q10 of shared/bench/queries.md as MoleSignal SQL over the stream `bench`; sourced by queries.sh and
# cluster.sh. bench_queries TRACE_ID fills the array QUERIES (Q9 looks up that trace).
bench_queries() {
  QUERIES=(
    "SELECT count(*) FROM bench"
    "SELECT count(*) FROM bench WHERE level = 'ERROR'"
    "SELECT service, count(*) AS c, avg(http_duration_ms) FROM bench GROUP BY service ORDER BY c DESC"
    "SELECT _timestamp // 60000000 AS m, count(*) FROM bench GROUP BY m ORDER BY m"
    "SELECT _timestamp, service, message FROM bench WHERE match_all('xyzzy3') LIMIT 100"
    "SELECT kubernetes_pod_name, quantile_cont(http_duration_ms, 0.95) AS p95 FROM bench WHERE http_status >= 500 GROUP BY 1 ORDER BY p95 DESC LIMIT 10"
    "SELECT level, count(*) FROM bench WHERE _timestamp >= 1767226300000000 AND _timestamp < 1767226600000000 GROUP BY level"
    "SELECT * FROM bench ORDER BY _timestamp DESC LIMIT 100"
    "SELECT * FROM bench WHERE trace_id = '$1'"
    "SELECT count(DISTINCT kubernetes_pod_name) FROM bench"
  )
}
