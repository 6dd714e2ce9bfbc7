#!/usr/bin/python3
"""gen_pcap.py: the benchmark's traffic file, 64-byte UDP frames in F distinct 5-tuples.

  gen_pcap.py FILE --flows F [--packets N] [--src-mac M] [--dst-mac M]

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
    a = ap.parse_args()
    n = a.packets or max(a.flows, 1024)

    t = Ether(src=a.src_mac, dst=a.dst_mac) / IP(src="10.0.0.1", dst="10.0.0.2", ttl=64) / \
        UDP(sport=1024, dport=5000, chksum=0)
    t = bytearray(bytes(t / Raw(b"x" * (60 - len(t)))))  # 60 bytes + 4 FCS = 64 on the wire
    base_ip = struct.unpack("!I", bytes(t[26:30]))[0]
    w = PcapWriter(a.file, linktype=1, sync=False)
    for i in range(n):
        f = i % a.flows
        t[26:30] = struct.pack("!I", base_ip + f // 60000)
        t[34:36] = struct.pack("!H", 1024 + f % 60000)
        t[24:26] = b"\0\0"
        t[24:26] = struct.pack("!H", csum(bytes(t[14:34])))
        w.write(bytes(t))
    w.close()


if __name__ == "__main__":
    main()
