#!/usr/bin/env python3
"""Deterministic generator of realistic application and access logs, as NDJSON.

MoleSignal's workload for its benchmarks and end-to-end tests: the same
--seed and --records always give the same bytes.

Records look like what Kubernetes log shippers send: nested objects
(kubernetes.*, http.*), a mix of timestamp forms, multi-line stack traces,
high-cardinality ids, a few fields that appear only late in the stream
(schema evolution), and a handful of rare tokens for full-text search.

  genlogs.py --records 1000000 --seed 1 > logs.ndjson
  genlogs.py --records 1000 --format array > batch.json   # one JSON array

Rare tokens (for needle-in-haystack search): every record whose index i has
i % 250_007 == 17 carries the token 'xyzzy<i % 7>' in its message, so a
run of N records holds about N / 250_007 of them.
"""
import argparse
import json
import random
import sys
import uuid
from datetime import datetime, timezone

WORDS = ("request handled user session cache miss hit backend upstream timeout retry "
         "connection pool acquired released order payment invoice shipment cart checkout "
         "token refresh expired validated database query slow index scan rows returned "
         "queue message published consumed ack nack lease renewed worker started stopped "
         "config reloaded feature flag enabled disabled quota exceeded throttled").split()
SERVICES = ["api-gateway", "checkout", "payments", "inventory", "search", "auth",
            "notifications", "recommendations", "shipping", "frontend", "ledger", "fraud",
            "catalog", "profile", "billing", "reports", "scheduler", "mailer", "media", "audit"]
NAMESPACES = ["prod", "staging", "payments", "platform", "data"]
LEVELS = ["DEBUG"] * 5 + ["INFO"] * 70 + ["WARN"] * 15 + ["ERROR"] * 9 + ["FATAL"]
METHODS = ["GET"] * 70 + ["POST"] * 20 + ["PUT"] * 5 + ["DELETE"] * 5
PATHS = ["/api/v1/orders", "/api/v1/orders/{id}", "/api/v1/cart", "/api/v1/users/{id}",
         "/api/v1/search", "/healthz", "/api/v1/payments", "/static/app.js", "/login", "/"]
STATUSES = [200] * 80 + [201] * 5 + [204] * 3 + [301, 304] + [400] * 3 + [401, 403] + [404] * 3 + [500, 502, 503]
AGENTS = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
          "curl/8.5.0", "Go-http-client/1.1", "python-requests/2.31.0", "kube-probe/1.29"]
EXCEPTIONS = ["System.TimeoutException: The operation has timed out.",
              "java.lang.NullPointerException: Cannot invoke \"Order.total()\" because \"order\" is null",
              "psycopg2.OperationalError: could not connect to server: Connection refused"]


def record(i, rng, t_us):
    svc = rng.choice(SERVICES)
    ns = NAMESPACES[SERVICES.index(svc) % len(NAMESPACES)]
    pod = f"{svc}-{rng.randrange(3):x}{rng.randrange(16**5):05x}-{rng.randrange(16**5):05x}"
    level = rng.choice(LEVELS)
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(6, 18)))
    if i % 250_007 == 17:
        words += f" xyzzy{i % 7}"
    rec = {}
    # timestamp forms vary by service, as they do in real fleets
    form = SERVICES.index(svc) % 3
    if form == 0:
        rec["_timestamp"] = t_us
    elif form == 1:
        rec["@timestamp"] = datetime.fromtimestamp(t_us / 1e6, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    else:
        rec["timestamp"] = datetime.fromtimestamp(t_us / 1e6, tz=timezone.utc).isoformat()
    rec["level"] = level
    rec["service"] = svc
    rec["kubernetes"] = {"namespace": ns, "pod_name": pod, "container_name": svc,
                         "node_name": f"node-{rng.randrange(40):02d}",
                         "labels": {"app": svc, "team": ns}}
    if rng.random() < 0.6:
        method, path, status = rng.choice(METHODS), rng.choice(PATHS), rng.choice(STATUSES)
        path = path.replace("{id}", str(rng.randrange(1, 10**6)))
        dur = round(rng.lognormvariate(3.0, 1.0), 3)
        rec["http"] = {"method": method, "path": path, "status": status,
                       "bytes": rng.randrange(0, 200_000), "duration_ms": dur,
                       "client_ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                       "user_agent": rng.choice(AGENTS)}
        rec["message"] = f"{method} {path} {status} {dur}ms {words}"
    else:
        rec["message"] = words
    rec["trace_id"] = f"{rng.getrandbits(128):032x}"
    rec["request_id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if level in ("ERROR", "FATAL") and rng.random() < 0.5:
        exc = rng.choice(EXCEPTIONS)
        rec["error"] = {"type": exc.split(":")[0], "stack": exc + "\n   at Service.Handle()\n   at Pipeline.Run()"}
    if i > 0 and i % 3 == 0 and t_us % 2 == 0:
        rec["user_id"] = rng.randrange(1, 50_000)
    if i >= 100_000 and rng.random() < 0.05:  # a field that only appears late: schema evolution
        rec["feature_flags"] = rng.choice(["new-checkout", "dark-mode", "beta-search"])
    return rec


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=int, default=1_767_225_600_000_000,
                    help="first timestamp, microseconds since the epoch (default 2026-01-01T00:00:00Z)")
    ap.add_argument("--rate", type=float, default=2000.0, help="records per second of event time")
    ap.add_argument("--format", choices=["ndjson", "array"], default="ndjson")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    step = 1e6 / a.rate
    out = sys.stdout
    write = out.write
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    if a.format == "array":
        write("[")
    for i in range(a.records):
        rec = record(i, rng, a.start + int(i * step) + rng.randrange(int(step) + 1))
        if a.format == "array":
            write(("," if i else "") + dumps(rec))
        else:
            write(dumps(rec) + "\n")
    if a.format == "array":
        write("]\n")


if __name__ == "__main__":
    main()
