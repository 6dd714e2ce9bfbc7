#!/usr/bin/python3
"""churn.py: rule changes per second against a running podswitchd, and what they cost the
flows whose rules do not change (benchmarks/churn/churn.sh starts the switch and calls this).

  churn.py pcap FILE --flows F
  churn.py run --socket SOCK --pid PID --size N [--flows F] [--batch B] [--duration S]

`pcap` writes the traffic: F flows of 64-byte UDP frames 10.0.0.1 -> 10.1.x.y, one per flow.
`run`, on a switch with no rules, in this order:
  load    N rules in bulk requests of 2,000 (flow.add "rules"): the F traffic rules
          `priority=100,ip,nw_dst=10.1.x.y,actions=output:out` (never changed), a catch-all
          `priority=0,actions=drop` (a packet that misses its own rule is counted as an
          action_drop: the loss on unchanged flows), and N - F - 1 churn rules in cookie
          batches of B: half `ip,nw_dst=10.2.x.y`, half `udp,nw_dst=10.3.x.y,tp_dst=D`,
          all priority 100.
  idle    forwarding alone for S seconds (the reference).
  bulk    S seconds of: add B new rules in one flow.add, delete the oldest batch of B with
          one flow.del --cookie; the table stays at N. Changes = rules added + deleted.
  single  S seconds of one-rule RPCs, each answered before the next is sent: add one rule,
          delete the oldest one-rule addition (flow.del strict).
  pipe    the same one-rule RPCs with 64 requests in flight on the connection.
Each phase prints one JSON line: changes/s, mean and 99th-percentile RPC latency, and over
the phase the PMD's packets, cycles per packet (its own counter, and its on-CPU time x TSC
rate / packets), exact-match cache hit share, and every drop by reason on the traffic's
input port (what the unchanged flows lost).
"""
import argparse
import json
import os
import socket
import struct
import sys
import time


def pcap(path, flows):
    """F frames, flow f to 10.1.(f >> 8).(f & 255), in the classic pcap format."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        n = max(flows, 1024)
        for i in range(n):
            fl = i % flows
            eth = bytes.fromhex("020000000002" "020000000001" "0800")
            src = bytes([10, 0, 0, 1])
            dst = bytes([10, 1, fl >> 8, fl & 255])
            ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 46, 0, 0, 64, 17, 0, src, dst))
            s = sum(struct.unpack("!10H", bytes(ip)))
            while s >> 16:
                s = (s & 0xFFFF) + (s >> 16)
            ip[10:12] = struct.pack("!H", ~s & 0xFFFF)
            udp = struct.pack("!HHHH", 1000, 2000, 26, 0) + b"x" * 18
            frame = eth + bytes(ip) + udp
            f.write(struct.pack("<IIII", 0, i, len(frame), len(frame)))
            f.write(frame)


class Rpc:
    """JSON-RPC 2.0 over the control socket, one JSON object per line."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""
        self.next_id = 1

    def send(self, method, params):
        """params: an object, or its JSON text."""
        i = self.next_id
        self.next_id += 1
        if not isinstance(params, str):
            params = json.dumps(params)
        self.s.sendall(('{"jsonrpc":"2.0","id":%d,"method":"%s","params":%s}\n'
                        % (i, method, params)).encode())
        return i

    def recv(self):
        while b"\n" not in self.buf:
            d = self.s.recv(1 << 20)
            if not d:
                raise RuntimeError("podswitchd closed the control connection")
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        r = json.loads(line)
        if "error" in r:
            raise RuntimeError("RPC error: %s" % r["error"].get("message"))
        return r["result"]

    def call(self, method, params=None):
        self.send(method, params if params is not None else {})
        return self.recv()


def ip(a, b, c, d):
    return "%d.%d.%d.%d" % (a, b, c, d)


class Rules:
    """Churn rules, each one new: a counter walks 10.2/16 and 10.3/16 (65,536 each; the
    counter wraps long after the oldest of them were deleted). JSON text from templates:
    the client must not be what is measured."""

    A = ('{"cookie":%d,"priority":100,"match":{"dl_type":2048,"nw_dst":"10.2.%d.%d"},'
         '"actions":[{"type":"output","port":"out"}]}')
    B = ('{"cookie":%d,"priority":100,"match":{"dl_type":2048,"nw_proto":17,'
         '"nw_dst":"10.3.%d.%d","tp_dst":%d},"actions":[{"type":"output","port":"out"}]}')
    DA = '{"match":{"dl_type":2048,"nw_dst":"10.2.%d.%d"},"priority":100,"strict":true}'
    DB = ('{"match":{"dl_type":2048,"nw_proto":17,"nw_dst":"10.3.%d.%d","tp_dst":%d},'
          '"priority":100,"strict":true}')

    def __init__(self):
        self.n = 0

    def one(self, cookie):
        """(flow.add params, flow.del params deleting it) as JSON text."""
        i = self.n
        self.n += 1
        k = (i // 2) % 65536
        if i % 2 == 0:
            return self.A % (cookie, k >> 8, k & 255), self.DA % (k >> 8, k & 255)
        return (self.B % (cookie, k >> 8, k & 255, 3000 + i % 7),
                self.DB % (k >> 8, k & 255, 3000 + i % 7))


class Meter:
    """The PMD's counters over a phase: stats and pmd stats cleared at start, read at end;
    the PMD thread's on-CPU time from /proc."""

    def __init__(self, rpc, pid):
        self.rpc = rpc
        self.pid = pid
        self.tid = None
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/comm" % (pid, t)) as f:
                if f.read().strip().endswith("worker-1"):
                    self.tid = t
        self.tsc_hz = rpc.call("switch.info")["tsc_hz"]

    def oncpu_ns(self, tid=None):
        tid = tid or self.tid
        if tid is None:
            return 0
        with open("/proc/%d/task/%s/schedstat" % (self.pid, tid)) as f:
            return int(f.read().split()[0])

    def start(self):
        self.rpc.call("pmd.stats", {"clear": True})
        self.rpc.call("stats.clear", {})
        self.cache0 = self.rpc.call("flow.stats")["pmds"][0]["cache"]
        self.t0 = time.monotonic()
        self.c0 = self.oncpu_ns()
        self.k0 = self.oncpu_ns(str(self.pid))   # the control thread: the main thread

    def stop(self, changes=0):
        c1 = self.oncpu_ns()
        k1 = self.oncpu_ns(str(self.pid))
        t1 = time.monotonic()
        p = self.rpc.call("pmd.stats")["pmds"][0]
        cache = self.rpc.call("flow.stats")["pmds"][0]["cache"]
        port = self.rpc.call("port.get", {"name": "in"})
        out = self.rpc.call("port.get", {"name": "out"})
        pk = p["packets"]
        hits = cache["hits"] - self.cache0["hits"]
        looks = hits + cache["misses"] - self.cache0["misses"]
        drops = {k: v for k, v in port["stats"]["drops_by_reason"].items() if v}
        hz = self.tsc_hz
        return {
            "seconds": round(t1 - self.t0, 2),
            "mpps": round(pk / (t1 - self.t0) / 1e6, 2),
            "cycles_per_packet": round(p["cycles_per_packet"], 1),
            "oncpu_cycles_per_packet": round((c1 - self.c0) * hz / 1e9 / pk, 1) if pk and hz else None,
            "cache_hit_pct": round(100.0 * hits / looks, 1) if looks else None,
            "rx": port["stats"]["rx_packets"], "tx": out["stats"]["tx_packets"],
            "drops": drops,
            # the control thread's CPU time per change: what a change costs the switch,
            # whatever the client's own speed
            "ctl_us_per_change": round((k1 - self.k0) / 1e3 / changes, 2) if changes else None,
        }


def pct(lat, q):
    if not lat:
        return None
    s = sorted(lat)
    return round(s[min(len(s) - 1, int(q * len(s)))] * 1e6, 1)


def run(a):
    rpc = Rpc(a.socket)
    meter = Meter(rpc, a.pid)
    gen = Rules()
    base = {"size": a.size, "flows": a.flows, "batch": a.batch}

    def emit(phase, d):
        d = dict(base, phase=phase, **d)
        print(json.dumps(d), flush=True)

    # ---- load
    rules = ['{"priority":100,"match":{"dl_type":2048,"nw_dst":"10.1.%d.%d"},'
             '"actions":[{"type":"output","port":"out"}]}' % (f >> 8, f & 255)
             for f in range(a.flows)]
    rules.append('{"priority":0,"actions":[{"type":"drop"}]}')
    batches = []          # cookies of the churn batches, oldest first
    cookie = 1000
    while len(rules) < a.size:
        n = min(a.batch, a.size - len(rules))
        rules.extend(gen.one(cookie)[0] for _ in range(n))
        batches.append(cookie)
        cookie += 1
    t0 = time.monotonic()
    k0 = meter.oncpu_ns(str(a.pid))
    for i in range(0, len(rules), 2000):
        rpc.call("flow.add", '{"rules":[%s]}' % ",".join(rules[i:i + 2000]))
    dt = time.monotonic() - t0
    emit("load", {"changes": len(rules), "seconds": round(dt, 2),
                  "changes_per_s": round(len(rules) / dt),
                  "ctl_us_per_change": round((meter.oncpu_ns(str(a.pid)) - k0) / 1e3
                                             / len(rules), 2)})
    have = rpc.call("flow.stats")["rules"]
    if have != a.size:
        sys.exit("churn.py: the table holds %d rules, not %d" % (have, a.size))
    time.sleep(1)

    # ---- idle
    meter.start()
    time.sleep(a.duration)
    emit("idle", {"changes": 0, "changes_per_s": 0, **meter.stop()})

    # ---- bulk: add B, delete the oldest B, by cookie
    meter.start()
    lat = []
    changes = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < a.duration and batches:
        req = '{"rules":[%s]}' % ",".join(gen.one(cookie)[0] for _ in range(a.batch))
        t = time.monotonic()
        r = rpc.call("flow.add", req)
        lat.append(time.monotonic() - t)
        batches.append(cookie)
        cookie += 1
        t = time.monotonic()
        r2 = rpc.call("flow.del", {"cookie": batches.pop(0)})
        lat.append(time.monotonic() - t)
        changes += r["added"] + r2["deleted"]
    dt = time.monotonic() - t0
    emit("bulk", {"changes": changes, "changes_per_s": round(changes / dt),
                  "rpc_mean_us": round(sum(lat) / len(lat) * 1e6, 1) if lat else None,
                  "rpc_p99_us": pct(lat, 0.99), **meter.stop(changes)})

    # ---- single: one rule per RPC, answered before the next
    singles = []
    meter.start()
    lat = []
    changes = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < a.duration:
        add, dele = gen.one(1)
        t = time.monotonic()
        rpc.call("flow.add", add)
        lat.append(time.monotonic() - t)
        singles.append(dele)
        changes += 1
        if len(singles) > 100:
            t = time.monotonic()
            rpc.call("flow.del", singles.pop(0))
            lat.append(time.monotonic() - t)
            changes += 1
    dt = time.monotonic() - t0
    emit("single", {"changes": changes, "changes_per_s": round(changes / dt),
                    "rpc_mean_us": round(sum(lat) / len(lat) * 1e6, 1) if lat else None,
                    "rpc_p99_us": pct(lat, 0.99), **meter.stop(changes)})

    # ---- pipe: the same, 64 requests in flight
    meter.start()
    changes = 0
    inflight = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < a.duration:
        while inflight < 64:
            add, dele = gen.one(1)
            rpc.send("flow.add", add)
            singles.append(dele)
            inflight += 1
            if len(singles) > 100:
                rpc.send("flow.del", singles.pop(0))
                inflight += 1
        rpc.recv()
        inflight -= 1
        changes += 1
    while inflight:
        rpc.recv()
        inflight -= 1
        changes += 1
    dt = time.monotonic() - t0
    emit("pipe", {"changes": changes, "changes_per_s": round(changes / dt),
                  **meter.stop(changes)})


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pcap")
    p.add_argument("file")
    p.add_argument("--flows", type=int, default=1000)
    r = sub.add_parser("run")
    r.add_argument("--socket", required=True)
    r.add_argument("--pid", type=int, required=True)
    r.add_argument("--size", type=int, required=True)
    r.add_argument("--flows", type=int, default=1000)
    r.add_argument("--batch", type=int, default=1000)
    r.add_argument("--duration", type=float, default=10)
    a = ap.parse_args()
    if a.cmd == "pcap":
        pcap(a.file, a.flows)
    else:
        # small tables: a quarter of the rules carry traffic, batches of a quarter
        a.flows = max(1, min(a.flows, a.size // 4))
        a.batch = max(1, min(a.batch, a.size // 4))
        run(a)


if __name__ == "__main__":
    main()
