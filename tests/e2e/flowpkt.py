#!/usr/bin/python3
"""flowpkt.py: hand-made packets for the flow-table tests (Debian's scapy).

  flowpkt.py gen FILE SPEC...   one packet per SPEC, a scapy expression whose payload is
                                a tag, e.g. "Ether(dst='02:00:00:00:00:02')/IP(dst='10.1.2.3')/UDP(dport=53)@t1"
                                (the text after the last @ becomes the payload "tag:t1",
                                padded to 64 bytes)
  flowpkt.py many FILE N DST    N UDP packets to IPv4 DST (tags n0..n{N-1}), 64 bytes
  flowpkt.py tags FILE          one line per packet: tag src dst vlans (vlans "-" if none)
  flowpkt.py empty FILE         an empty pcap (a port that only sends)
"""
import sys
from scapy.all import Ether, Dot1Q, IP, IPv6, UDP, TCP, ICMP, ARP, Raw, wrpcap, PcapReader  # noqa: F401
from scapy.layers.inet6 import ICMPv6EchoRequest  # noqa: F401


def tagged(expr, tag):
    p = eval(expr)
    p = p / Raw(b"tag:" + tag.encode() + b";")
    if len(p) < 60:
        p = p / Raw(b"x" * (60 - len(p)))
    return p


def gen(file, specs):
    pkts = []
    for s in specs:
        expr, _, tag = s.rpartition("@")
        pkts.append(tagged(expr, tag))
    wrpcap(file, pkts)


def many(file, n, dst):
    wrpcap(file, [tagged("Ether(src='02:00:00:00:00:01',dst='02:00:00:00:00:02')/IP(src='10.0.0.1',dst='%s')/UDP(sport=%d,dport=5000)" % (dst, 1024 + i % 1000), "n%d" % i) for i in range(n)])


def tags(file):
    try:
        reader = PcapReader(file)
    except Exception:
        return
    with reader:
        for p in reader:
            raw = bytes(p)
            i = raw.find(b"tag:")
            tag = raw[i + 4:raw.find(b";", i)].decode() if i >= 0 else "?"
            vlans = []
            q = p
            while q.haslayer(Dot1Q):
                q = q[Dot1Q]
                vlans.append(str(q.vlan))
                q = q.payload
            print(tag, p[Ether].src, p[Ether].dst, ",".join(vlans) or "-")


def main():
    cmd = sys.argv[1]
    if cmd == "gen":
        gen(sys.argv[2], sys.argv[3:])
    elif cmd == "many":
        many(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif cmd == "tags":
        tags(sys.argv[2])
    elif cmd == "empty":
        wrpcap(sys.argv[2], [])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
