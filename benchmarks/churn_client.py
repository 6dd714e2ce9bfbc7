#!/usr/bin/python3
"""churn_client.py: rule churn against podswitchd's control socket (JSON-RPC 2.0, one JSON
object per line), for benchmarks/churn.sh.

  churn_client.py SOCKET --seconds S --batch B --template RULE [--values N] [--base V]

Until S seconds have passed: flow.add of B rules in one request (the template's {v} replaced
by B consecutive values out of V..V+N-1, {c} by the batch's own cookie), then flow.del of that
cookie. Both are rule changes: 2 B per cycle. Prints one JSON object: changes, seconds,
changes_per_s, requests, and the request latency (median, 99th percentile, max, in ms).
"""
import argparse
import json
import socket
import statistics
import time


class Client:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.f = self.s.makefile("rb")
        self.id = 0

    def call(self, method, params):
        self.id += 1
        msg = {"jsonrpc": "2.0", "id": self.id, "method": method, "params": params}
        self.s.sendall(json.dumps(msg).encode() + b"\n")
        r = json.loads(self.f.readline())
        if "error" in r:
            raise RuntimeError("%s: %s" % (method, r["error"].get("message")))
        return r["result"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--template", required=True)
    ap.add_argument("--values", type=int, default=1000)
    ap.add_argument("--base", type=int, default=0)
    a = ap.parse_args()
    c = Client(a.socket)
    lat = []
    changes = 0
    cookie = 1000
    v = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < a.seconds:
        cookie += 1
        rules = []
        for _ in range(a.batch):
            rules.append(a.template.format(v=a.base + v % a.values, c=cookie))
            v += 1
        for method, params in (("flow.add", {"rules": rules}), ("flow.del", {"cookie": cookie})):
            s = time.monotonic()
            c.call(method, params)
            lat.append(time.monotonic() - s)
        changes += 2 * a.batch
    secs = time.monotonic() - t0
    lat.sort()
    print(json.dumps({
        "changes": changes, "seconds": round(secs, 3), "changes_per_s": round(changes / secs, 1),
        "requests": len(lat), "latency_ms_median": round(statistics.median(lat) * 1e3, 3),
        "latency_ms_p99": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e3, 3),
        "latency_ms_max": round(lat[-1] * 1e3, 3)}))


if __name__ == "__main__":
    main()
