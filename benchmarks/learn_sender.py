#!/usr/bin/python3
"""learn_sender.py: frames with a new source MAC each, at a steady rate, for
benchmarks/churn.sh's learning churn.

  learn_sender.py IFACE --rate R --seconds S --dst MAC

Sends R frames per second for S seconds on IFACE (an AF_PACKET socket, so run it in the
namespace that holds IFACE): 60-byte UDP frames to MAC, each from a source MAC never used
before (06:00:00:xx:xx:xx counting up, locally administered unicast). Paced every
millisecond. Prints one JSON object: sent, seconds, rate.
"""
import argparse
import json
import socket
import struct
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("iface")
    ap.add_argument("--rate", type=float, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--start", type=int, default=0)
    a = ap.parse_args()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    dst = bytes.fromhex(a.dst.replace(":", ""))
    ip = bytes.fromhex("450000280000400040110000c0a80001c0a80002")
    udp = struct.pack("!HHHH", 1000, 2000, 20, 0)
    tail = ip + udp + b"x" * 12
    n = a.start
    sent = 0
    t0 = time.monotonic()
    while True:
        el = time.monotonic() - t0
        if el >= a.seconds:
            break
        due = int(el * a.rate) - sent
        for _ in range(due):
            src = b"\x06\x00" + struct.pack("!I", n)
            s.send(dst + src + b"\x08\x00" + tail)
            n += 1
        sent += max(due, 0)
        time.sleep(0.001)
    el = time.monotonic() - t0
    print(json.dumps({"sent": sent, "seconds": round(el, 3), "rate": round(sent / el, 1), "next": n}))


if __name__ == "__main__":
    main()
