#!/usr/bin/env bash
# Issue 4: nothing leaks over 1,000 add/del cycles of pod ports, 200 of each type
# (vhost-user server and client, memif on an abstract socket and on a socket file, tap):
# a leak of any one type shows 200 times over. The
# switch's open file descriptors, DPDK heap (switch.info heap_allocated_bytes), hugepage
# memory mapped by the process, and resident memory are the same after as before, and no
# socket file or netdev is left. CYCLES=N overrides the count.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pods.sh"

CYCLES=${CYCLES:-1000}
write_config "$T/sw.json"
start_switch "$T/sw.json"
IFL=t4l$$

# One client connection for all requests: podswitchctl per call would take minutes.
cat >"$T/cycle.py" <<'PY'
import json, socket, sys
sock_path, cycles, tmp, ifname = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock_path)
f = s.makefile("rwb")
n = 0
def call(method, params):
    global n
    n += 1
    f.write((json.dumps({"jsonrpc": "2.0", "id": n, "method": method, "params": params}) + "\n").encode())
    f.flush()
    r = json.loads(f.readline())
    if "error" in r:
        sys.exit("%s %s: %s" % (method, json.dumps(params), r["error"]["message"]))
    return r["result"]
ports = [
    {"name": "lv", "type": "vhost-user", "options": {"mode": "server", "queues": 2}},
    {"name": "lc", "type": "vhost-user", "options": {"socket": tmp + "/pod-lc.sock"}},
    {"name": "lm", "type": "memif", "options": {"socket": "/podswitch/lm", "id": 1}},
    {"name": "lf", "type": "memif", "options": {"abstract": False, "ring_size": 256}},
    {"name": "lt", "type": "tap", "options": {"ifname": ifname}, "mtu": 1400},
]
for i in range(cycles):
    p = ports[i % len(ports)]
    call("port.add", p)
    call("port.del", {"name": p["name"]})
PY

snapshot() {
	local pid=$SWITCH_PID
	echo "fds $(ls /proc/$pid/fd | wc -l)"
	echo "heap $(jget .heap_allocated_bytes info)"
	echo "huge_kb $(awk '/^(Private|Shared)_Hugetlb/ {s += $2} END {print s + 0}' /proc/$pid/smaps)"
	echo "rss_kb $(awk '/^VmRSS/ {print $2}' /proc/$pid/status)"
}
val() { awk -v k="$2" '$1 == k {print $2}' "$1"; }

python3 "$T/cycle.py" "$SOCK" 10 "$T" $IFL || fail "warm-up cycles"
sleep 0.5
snapshot >"$T/before"
start=$SECONDS
python3 "$T/cycle.py" "$SOCK" "$CYCLES" "$T" $IFL || fail "cycles"
secs=$((SECONDS - start))
# DPDK's interrupt thread swaps its epoll fd when its sources change: let it settle.
for _ in $(seq 1 20); do snapshot >"$T/after"; [ "$(val "$T/after" fds)" -le "$(val "$T/before" fds)" ] && break; sleep 0.1; done
echo "before: $(tr '\n' ' ' <"$T/before")"
echo "after:  $(tr '\n' ' ' <"$T/after")"
[ "$(val "$T/after" fds)" -le "$(val "$T/before" fds)" ] || fail "file descriptors leaked: $(val "$T/before" fds) -> $(val "$T/after" fds): $(ls -l /proc/$SWITCH_PID/fd | tail -5)"
[ "$(val "$T/after" heap)" = "$(val "$T/before" heap)" ] || fail "DPDK heap leaked: $(val "$T/before" heap) -> $(val "$T/after" heap) bytes"
[ "$(val "$T/after" huge_kb)" -le "$(val "$T/before" huge_kb)" ] || fail "hugepage memory grew: $(val "$T/before" huge_kb) -> $(val "$T/after" huge_kb) kB"
grow=$(( $(val "$T/after" rss_kb) - $(val "$T/before" rss_kb) ))
# A leak of even 1 kB per port add/del would be 1 MB.
[ "$grow" -lt 1024 ] || fail "resident memory grew by $grow kB over $CYCLES cycles"
ok "$CYCLES add/del cycles over 5 port types in ${secs}s: fds, DPDK heap, hugepages flat; RSS +${grow} kB"

[ "$(ctlj port list | jq '.ports | length')" = 0 ] || fail "ports left"
[ -z "$(ls "$T/sockets" 2>/dev/null)" ] || fail "socket files left: $(ls -R "$T/sockets")"
grep -q '@/podswitch/lm' /proc/net/unix && fail "abstract memif listener left"
ip link show $IFL >/dev/null 2>&1 && fail "tap $IFL left"
stop_switch
ok "no port, socket file, abstract listener or netdev left"
