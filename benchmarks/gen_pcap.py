#!/usr/bin/python3
"""gen_pcap.py: the benchmark's traffic file, 64-byte UDP frames in F distinct 5-tuples.

  gen_pcap.py FILE --flows F [--packets N] [--src-mac M] [--dst-mac M] [--vxlan VNI]

With --vxlan VNI each frame is wrapped as a VTEP would send it (RFC 7348): outer Ethernet
(--outer-src-mac, --outer-dst-mac), IPv4 --outer-src -> --outer-dst (DF, a valid checksum),
UDP to 4789 from a source port that follows the inner flow (49152 + f % 16384), no UDP
checksum, the VXLAN header with the I flag and the VNI: 110 bytes a frame.

Run with Debian's /usr/bin/python3 (python3-scapy). scapy builds one template frame; the
flows are written by patching its bytes (UDP source port, then IPv4 source address, and the
IPv4 checksum), because building 100,000 frames through scapy takes minutes. Frame i belongs
to flow i % F: source port 1024 + (f % 60000), source address 10.0.0.1 + f // 60000.
net_pcap's infinite_rx replays the file from a ring of mbufs; a ring shorter than a burst
returns short bursts, so N defaults to max(F, 1024).
"""
import argparse
import struct

from scapy.all import Ether, IP, UDP, Raw, PcapWriter


def csum(hdr):
    s = sum(struct.unpack("!10H", hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--flows", type=int, required=True)
    ap.add_argument("--packets", type=int)
    ap.add_argument("--src-mac", default="02:00:00:00:00:01")
    ap.add_argument("--dst-mac", default="02:00:00:00:00:02")
    ap.add_argument("--vxlan", type=int)
    ap.add_argument("--outer-src-mac", default="02:00:00:00:01:02")
    ap.add_argument("--outer-dst-mac", default="02:00:00:00:01:01")
    ap.add_argument("--outer-src", default="192.0.2.2")
    ap.add_argument("--outer-dst", default="192.0.2.1")
    a = ap.parse_args()
    n = a.packets or max(a.flows, 1024)

    t = Ether(src=a.src_mac, dst=a.dst_mac) / IP(src="10.0.0.1", dst="10.0.0.2", ttl=64) / \
        UDP(sport=1024, dport=5000, chksum=0)
    t = bytearray(bytes(t / Raw(b"x" * (60 - len(t)))))  # 60 bytes + 4 FCS = 64 on the wire
    base_ip = struct.unpack("!I", bytes(t[26:30]))[0]
    outer = None
    if a.vxlan is not None:
        o = Ether(src=a.outer_src_mac, dst=a.outer_dst_mac) / \
            IP(src=a.outer_src, dst=a.outer_dst, ttl=64, flags="DF", id=0) / \
            UDP(sport=49152, dport=4789, chksum=0) / Raw(b"\x08\0\0\0" + struct.pack("!I", a.vxlan << 8))
        outer = bytearray(bytes(o))
        outer[16:18] = struct.pack("!H", 20 + 8 + 8 + len(t))   # IPv4 total length
        outer[38:40] = struct.pack("!H", 8 + 8 + len(t))        # UDP length
    w = PcapWriter(a.file, linktype=1, sync=False)
    for i in range(n):
        f = i % a.flows
        t[26:30] = struct.pack("!I", base_ip + f // 60000)
        t[34:36] = struct.pack("!H", 1024 + f % 60000)
        t[24:26] = b"\0\0"
        t[24:26] = struct.pack("!H", csum(bytes(t[14:34])))
        if outer is None:
            w.write(bytes(t))
            continue
        outer[34:36] = struct.pack("!H", 49152 + f % 16384)
        outer[24:26] = b"\0\0"
        outer[24:26] = struct.pack("!H", csum(bytes(outer[14:34])))
        w.write(bytes(outer) + bytes(t))
    w.close()


if __name__ == "__main__":
    main()
