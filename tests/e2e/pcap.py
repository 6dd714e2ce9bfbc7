#!/usr/bin/python3
"""pcap.py: write test traffic and check what came out (Debian's scapy).

  pcap.py gen FILE N [--flows F] [--size S] [--src-mac M] [--dst-mac M] [--vlan V] [--ipv6]
      N UDP packets, F distinct flows (UDP source ports), S bytes each (>= 60).
  pcap.py count FILE                       number of packets
  pcap.py same A B                         same packets in the same order (exit 1 otherwise)
  pcap.py show FILE [N]                    one line per packet
"""
import sys
import argparse
from scapy.all import Ether, Dot1Q, IP, IPv6, UDP, Raw, wrpcap, rdpcap, PcapReader


def gen(a):
    pkts = []
    for i in range(a.n):
        l3 = IPv6(src="fd00::1", dst="fd00::2") if a.ipv6 else IP(src="10.0.0.1", dst="10.0.0.2")
        eth = Ether(src=a.src_mac, dst=a.dst_mac)
        if a.vlan is not None:
            eth = eth / Dot1Q(vlan=a.vlan)
        p = eth / l3 / UDP(sport=1024 + (i % a.flows), dport=5000)
        pad = a.size - len(p) - 4
        # payload carries the sequence number, so order and loss are checkable
        seq = b"%08d" % i
        p = p / Raw(seq + b"x" * max(0, pad - len(seq)))
        pkts.append(p)
    wrpcap(a.file, pkts)


def count(a):
    n = 0
    try:
        with PcapReader(a.file) as r:
            for _ in r:
                n += 1
    except FileNotFoundError:
        pass
    except Exception:  # an empty or half-written file
        pass
    print(n)


def same(a):
    x, y = rdpcap(a.a), rdpcap(a.b)
    if len(x) != len(y):
        print(f"{a.a}: {len(x)} packets, {a.b}: {len(y)} packets")
        sys.exit(1)
    for i, (p, q) in enumerate(zip(x, y)):
        if bytes(p) != bytes(q):
            print(f"packet {i} differs:\n  {p.summary()}\n  {q.summary()}")
            sys.exit(1)
    print(f"{len(x)} packets identical")


def show(a):
    for i, p in enumerate(rdpcap(a.file)):
        if a.n is not None and i >= a.n:
            break
        print(p.summary())


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("file")
    g.add_argument("n", type=int)
    g.add_argument("--flows", type=int, default=1)
    g.add_argument("--size", type=int, default=64)
    g.add_argument("--src-mac", default="02:00:00:00:00:01")
    g.add_argument("--dst-mac", default="02:00:00:00:00:02")
    g.add_argument("--vlan", type=int)
    g.add_argument("--ipv6", action="store_true")
    g.set_defaults(fn=gen)
    c = sub.add_parser("count")
    c.add_argument("file")
    c.set_defaults(fn=count)
    s = sub.add_parser("same")
    s.add_argument("a")
    s.add_argument("b")
    s.set_defaults(fn=same)
    h = sub.add_parser("show")
    h.add_argument("file")
    h.add_argument("n", type=int, nargs="?")
    h.set_defaults(fn=show)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
