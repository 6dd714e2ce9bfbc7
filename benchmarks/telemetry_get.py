#!/usr/bin/python3
"""telemetry_get.py SOCKET COMMAND KEY: one request to a DPDK process's telemetry socket
(/var/run/dpdk/PREFIX/dpdk_telemetry.v2), for benchmarks/pvp.sh.

Prints "T VALUE": T the middle of the request's round trip (ns since the epoch), VALUE the
answer's KEY (e.g. /ethdev/stats,2 opackets). The clock is read here, around the request
itself, so that a measuring window ends where its counter was read (not after a slow
command line or the start of another process)."""
import json
import socket
import sys
import time


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    path, cmd, key = sys.argv[1:]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    hello = json.loads(s.recv(1024).decode())
    size = int(hello.get("max_output_len", 16384))
    t0 = time.time_ns()
    s.send(cmd.encode())
    answer = s.recv(size)
    t1 = time.time_ns()
    data = json.loads(answer.decode())
    value = data[cmd.split(",")[0]][key]
    print((t0 + t1) // 2, value)


if __name__ == "__main__":
    main()
