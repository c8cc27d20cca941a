#!/usr/bin/env python3
"""Fixed cost of one query over a kept-alive HTTP connection: RUNS (600) POST /api/v1/query of the same SQL, the
first sixth dropped (warm-up), median, 10th and 99th percentile of the rest in ms.
  bench/latency.py PORT "SQL" [PATH]        (start the node with MS_ROUTER.RATE_LIMIT.QUERY_QPS=0)
Authenticates as $AUTH (user:secret, Basic), the root user of bench/lib.sh by default. With PATH (e.g.
/api/v1/auth/login) it times that route instead, posting SQL as its JSON body.
"""
import base64, http.client, json, os, statistics, sys, time

port, sql = int(sys.argv[1]), sys.argv[2]
conn = http.client.HTTPConnection("127.0.0.1", port)
path = sys.argv[3] if len(sys.argv) > 3 else "/api/v1/query"
body = sql if len(sys.argv) > 3 else json.dumps({"sql": sql})
auth = "Basic " + base64.b64encode(os.environ.get("AUTH", "root@bench.local:bench-root-password").encode()).decode()
times = []
runs = int(os.environ.get("RUNS", "600"))
for _ in range(runs):
    t = time.perf_counter()
    conn.request("POST", path, body, {"Content-Type": "application/json", "Authorization": auth})
    resp = conn.getresponse()
    resp.read()
    times.append((time.perf_counter() - t) * 1000)
    if resp.status != 200:
        sys.exit(f"status {resp.status}")
times = sorted(times[runs // 6:])
label = path if len(sys.argv) > 3 else sql[:40]
print(f"{label:40s} median {statistics.median(times):.3f} ms  p10 {times[len(times) // 10]:.3f} ms"
      f"  p99 {times[min(len(times) - 1, len(times) * 99 // 100)]:.3f} ms")
