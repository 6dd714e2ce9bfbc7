#!/usr/bin/python3
"""tests/fuzz/seeds.py: writes the seed corpora in tests/fuzz/corpus/<target>/ (the files
are in the tree; run this again after changing it). Frames are built with scapy: the
kinds a switch sees and the edge cases its parser must survive."""
import json
import os
import struct
import sys

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Dot1AD, Dot1Q, Ether, ICMPv6EchoRequest,
                       IPv6, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Raw)
from scapy.layers.vxlan import VXLAN

HERE = os.path.dirname(os.path.abspath(__file__))
A, B = "02:00:00:00:00:0a", "02:00:00:00:00:0b"


def frames():
    e = Ether(src=A, dst=B)
    f = {
        "udp4": e / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1000, dport=53) / Raw(b"x" * 18),
        "tcp4": e / IP(src="10.9.0.1", dst="10.0.0.1") / TCP(sport=40000, dport=80),
        "icmp4": e / IP(dst="10.0.0.3") / ICMP(type=8),
        "arp": Ether(src=A, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.0.0.1", pdst="10.0.0.2"),
        "udp6": e / IPv6(src="fd00::1", dst="fd00::2") / UDP(sport=5, dport=6),
        "tcp6": e / IPv6(dst="fd00::9") / TCP(dport=443),
        "icmp6": e / IPv6(dst="fe80::1") / ICMPv6EchoRequest(),
        "ext6": e / IPv6(dst="fd00::3") / IPv6ExtHdrHopByHop() / IPv6ExtHdrRouting() / UDP(),
        "frag6": e / IPv6(dst="fd00::4") / IPv6ExtHdrFragment(offset=0, m=1) / UDP(),
        "frag4": e / IP(dst="10.0.0.5", flags="MF", frag=0) / UDP(),
        "later4": e / IP(dst="10.0.0.5", frag=100) / Raw(b"y" * 20),
        "vlan": Ether(src=A, dst=B) / Dot1Q(vlan=7) / IP(dst="10.0.0.6") / UDP(),
        "qinq": Ether(src=A, dst=B) / Dot1AD(vlan=10) / Dot1Q(vlan=7) / IPv6() / TCP(),
        "vxlan": e / IP(dst="10.0.0.7") / UDP(dport=4789) / VXLAN(vni=42) / Ether(src=B, dst=A) / IP() / UDP(),
        "gre": e / IP(dst="10.0.0.8", proto=47) / Raw(b"\0" * 8),
        "lldp": Ether(src=A, dst="01:80:c2:00:00:0e", type=0x88CC) / Raw(b"\0" * 30),
        "mcast": Ether(src=A, dst="01:00:5e:00:00:01") / IP(dst="224.0.0.1") / UDP(),
    }
    out = {k: bytes(v) for k, v in f.items()}
    out["trunc_ip"] = out["udp4"][:20]          # IPv4 header cut short
    out["trunc_tcp"] = out["tcp4"][:14 + 20 + 8]  # TCP header cut short
    ihl = bytearray(out["udp4"])
    ihl[14] = 0x43                                # IHL 3 < 5
    out["bad_ihl"] = bytes(ihl)
    out["tiny"] = out["udp4"][:6]
    return out


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def lp(b):
    return struct.pack(">H", len(b)) + b


def main():
    fr = frames()
    for name, b in fr.items():
        write("parse", name, bytes([0]) + b"\0\0\0\0\0\0" + lp(b))
    write("parse", "burst_all", bytes([0]) + b"\0\0\0\0\0\0" + b"".join(lp(b) for b in fr.values()))
    write("parse", "two_seg_stripped", bytes([7]) + struct.pack(">HI", 0x2007, 0x1234) +
          b"".join(lp(b) for b in fr.values()))
    for rs in (0, 1):
        for port in range(4):
            burst = bytes([port, len(fr)]) + b"".join(lp(b) for b in fr.values())
            write("pipeline", f"set{rs}_port{port}", bytes([rs | 2]) + burst + burst)
    rules = ["priority=100,in_port=pod1,ip,nw_dst=10.1.0.0/16,actions=output:uplink",
             "cookie=0x5,tcp,tp_dst=80,actions=mod_dl_src:02:00:00:00:00:01,output:p2",
             "udp6,ipv6_src=fd00::/8,actions=push_vlan:5,normal",
             "dl_vlan=7,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=strip_vlan,drop",
             "icmp,icmp_type=8,actions=encap_vxlan:42@10.0.0.1",
             "arp actions=normal", "tun_id=5,actions=decap_vxlan,output:a,output:b"]
    for i, r in enumerate(rules):
        write("flow_text", f"rule{i}", b"\0" + r.encode())
        write("flow_text", f"match{i}", b"\1" + r.split("actions")[0].rstrip(", ").encode())
    write("flow_text", "packet", b"\2in_port=p1,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=1,tp_dst=2")
    reqs = [
        {"method": "network.add", "params": {"name": "n1"}},
        {"method": "port.add", "params": {"name": "p0", "devargs": "net_null0", "network": "n1"}},
        {"method": "port.add", "params": {"name": "p1", "devargs": "net_null1", "rxq": 2, "rxq_pmd": {"1": 0}}},
        {"method": "port.set", "params": {"name": "p1", "output": "p0", "rxq_pmd": {}}},
        {"method": "flow.add", "params": {"rule": "priority=5,in_port=p0,tcp,tp_dst=80,actions=output:p1"}},
        {"method": "flow.add", "params": {"rules": ["ip,actions=normal", "arp,actions=drop"]}},
        {"method": "fdb.add", "params": {"network": "n1", "mac": "02:00:00:00:00:01", "port": "p0"}},
        {"method": "trace", "params": {"in_port": "p0", "dl_src": A, "dl_dst": B, "dl_type": 2048,
                                        "nw_src": "10.0.0.1", "nw_dst": "10.0.0.2", "nw_proto": 6,
                                        "tp_src": 1, "tp_dst": 80}},
        {"method": "flow.list"}, {"method": "flow.stats"}, {"method": "pmd.stats"},
        {"method": "pmd.rxq"}, {"method": "stats.get", "params": {"port": "p0"}},
        {"method": "port.list"}, {"method": "fdb.list"}, {"method": "state.show"},
        {"method": "flow.del", "params": {"match": {"in_port": "p0"}}},
        {"method": "port.del", "params": {"name": "p1"}},
        {"method": "network.del", "params": {"name": "n1"}},
    ]
    lines = []
    for i, r in enumerate(reqs):
        r = dict(jsonrpc="2.0", id=i, **r)
        lines.append(json.dumps(r))
        write("rpc", f"req{i:02d}", (lines[-1] + "\n").encode())
    write("rpc", "all", ("\n".join(lines) + "\n").encode())
    write("rpc", "batch", (json.dumps([dict(jsonrpc="2.0", id=i, **r) for i, r in enumerate(reqs[:6])]) + "\n").encode())
    # memif: op 2 (handshake), then op 3 (client sends 4 good descriptors), op 4 (client
    # offers 8 buffers, the server sends 3 frames), op 3 with raw descriptors, op 5.
    good = b"".join(bytes([1]) + struct.pack(">H", 60 + i) for i in range(4))
    chain = bytes([3]) + struct.pack(">H", 100) + bytes([1]) + struct.pack(">H", 100)
    raw = bytes([0]) + struct.pack(">HHII", 0, 9, 64, 0) + bytes([0]) + struct.pack(">HHII", 0, 0, 0xffffffff, 0)
    offer = b"".join(bytes([1]) + struct.pack(">H", 2048) for _ in range(8))
    write("memif", "handshake", bytes([2]))
    write("memif", "rx_good", bytes([2, 3, 4]) + good + bytes([0]))
    write("memif", "rx_chain", bytes([2, 3, 2]) + chain + bytes([0]))
    write("memif", "rx_raw", bytes([2, 3, 2]) + raw + bytes([0]))
    write("memif", "tx", bytes([2, 4, 8, 3]) + offer + bytes([0]) + struct.pack(">HHH", 64, 1500, 5000) + bytes([0]))
    write("memif", "scribble", bytes([2, 5, 1, 6, 0xff, 0xff, 3, 4]) + good + bytes([0]))
    write("memif", "raw_msgs", bytes([0, 1, 0, 3]) + bytes(126) + bytes([1, 1, 4]) + bytes(126) + b"\0\x10")
    return 0


if __name__ == "__main__":
    sys.exit(main())
