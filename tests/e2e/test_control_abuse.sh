#!/usr/bin/env bash
# Issue 2, end to end: the control socket under abuse while podswitchd forwards.
# net_pcap (infinite_rx) -> podswitchd -> net_null. A Python client throws garbage, every
# class of bad request, a line over the size limit, half lines and hang-ups, clients
# killed with SIGKILL mid-request and before reading their reply, a burst of 300
# connections, and holds 200 idle connections open. Meanwhile podswitchctl must answer
# at once, packets must keep flowing without drops, and nothing may change. Afterwards
# the switch holds no more descriptors than before and stops cleanly.
source "$(dirname "$0")/lib.sh"

pcap gen "$T/in.pcap" 64 --flows 4 --size 64
write_config "$T/sw.json" '"ports": [
    {"name": "src",  "devargs": "net_pcap0,rx_pcap='"$T"'/in.pcap,infinite_rx=1", "output": "sink"},
    {"name": "sink", "devargs": "net_null0,no-rx=1"}
  ]'
start_switch "$T/sw.json"

fds() { ls "/proc/$SWITCH_PID/fd" | wc -l; }
sink_tx() { jget .stats.tx_packets port show sink; }
pmd_pkts() { ctlj pmd stats | jq '[.pmds[].packets] | add'; }
# flowing NAME: the sink counter and the PMD counter both grow over 0.3 s.
flowing() {
	local s1 p1
	s1=$(sink_tx); p1=$(pmd_pkts)
	sleep 0.3
	[ "$(sink_tx)" -gt "$s1" ] || fail "$1: sink stopped at $s1 packets"
	[ "$(pmd_pkts)" -gt "$p1" ] || fail "$1: PMD packet counter stopped at $p1"
}

wait_until 10 '[ "$(sink_tx)" -gt 0 ]' || fail "no packets forwarded at start"
flowing "before abuse"
fds0=$(fds)
ports0=$(ctlj port list | jq -c '[.ports[] | {name, output, devargs}]')
ok "forwarding src -> sink; switch holds $fds0 descriptors"

cat >"$T/abuse.py" <<'PY'
import json, os, signal, socket, subprocess, sys, time

path, tdir = sys.argv[1], sys.argv[2]
LIMIT = 1 << 20


def fail(msg):
    print("FAIL:", msg, flush=True)
    sys.exit(1)


def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    return s


class Lines:
    def __init__(self, s):
        self.s, self.buf = s, b""

    def read(self):
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                return None
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)


def closed(s):
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True


def expect_error(r, code, what):
    if r is None:
        fail(f"{what}: connection closed instead of error {code}")
    e = r.get("error")
    if not e or e.get("code") != code or not e.get("message"):
        fail(f"{what}: expected error {code} with a message, got {r}")
    return e["message"]


# 1. Garbage and every bad-request class on one connection, which stays usable.
s = conn()
L = Lines(s)
cases = [
    (b"this is not json\n", -32700, "text"),
    (b"\x00\x01\x02\xff\xfe\n", -32700, "binary"),
    (b'{"jsonrpc":"2.0","id":1,"method":"port.list"\n', -32700, "unclosed object"),
    (b'"switch.info"\n', -32600, "not an object"),
    (b'{"jsonrpc":"2.0","id":2}\n', -32600, "no method"),
    (b'{"jsonrpc":"1.0","id":3,"method":"switch.info"}\n', -32600, "wrong version"),
    (b'{"jsonrpc":"2.0","id":4,"method":7}\n', -32600, "method not a string"),
    (b'{"jsonrpc":"2.0","id":5,"method":"port.list","params":[1]}\n', -32600, "params an array"),
    (b'{"jsonrpc":"2.0","id":[],"method":"port.list"}\n', -32600, "bad id type"),
    (b'{"jsonrpc":"2.0","id":6,"method":"port.explode"}\n', -32601, "unknown method"),
    (b'{"jsonrpc":"2.0","id":7,"method":"port.add","params":{}}\n', -32602, "missing name"),
    (b'{"jsonrpc":"2.0","id":8,"method":"port.add","params":{"name":"x","devargs":"net_null9","bogus":1}}\n',
     -32602, "extra param"),
    (b'{"jsonrpc":"2.0","id":9,"method":"port.add","params":{"name":"x","devargs":"net_null9","rxq":"many"}}\n',
     -32602, "ill-typed param"),
    (b'{"jsonrpc":"2.0","id":10,"method":"port.get","params":{"name":5}}\n', -32602, "ill-typed name"),
    (b'{"jsonrpc":"2.0","id":11,"method":"port.del","params":{"name":"nosuch"}}\n', -32001, "no such port"),
]
for raw, code, what in cases:
    s.sendall(raw)
    msg = expect_error(L.read(), code, what)
    print(f"  {what}: {code} {msg}", flush=True)
s.sendall(b'{"jsonrpc":"2.0","id":"after","method":"switch.info"}\n')
r = L.read()
if not r or r.get("id") != "after" or "pid" not in r.get("result", {}):
    fail(f"connection unusable after bad requests: {r}")
s.close()

# 2. A line over the size limit: error -32005, then the connection is closed.
s = conn()
try:
    s.sendall(b"x" * (LIMIT + 4096))
except (BrokenPipeError, ConnectionResetError):
    pass
expect_error(Lines(s).read(), -32005, "line over the limit")
if not closed(s):
    fail("connection still open after the too-large error")
s.close()

# 3. Half lines, then hang up; garbage, then hang up.
for i in range(20):
    s = conn()
    s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"swi')
    s.close()
    s = conn()
    s.sendall(os.urandom(300))
    s.close()

# 4. Clients killed with SIGKILL: mid-request, and after a full request before reading.
killed = []
for body in (b'{"jsonrpc":"2.0","id":1,"meth', b'{"jsonrpc":"2.0","id":1,"method":"port.list"}\n' * 50):
    code = ("import socket,sys,time\n"
            "s=socket.socket(socket.AF_UNIX);s.connect(sys.argv[1])\n"
            f"s.sendall({body!r});print('sent',flush=True);time.sleep(60)\n")
    p = subprocess.Popen([sys.executable, "-c", code, path], stdout=subprocess.PIPE)
    if p.stdout.readline().strip() != b"sent":
        fail("helper client did not start")
    killed.append(p)
for p in killed:
    p.send_signal(signal.SIGKILL)
    p.wait()

# 5. A burst of 300 connections that come and go.
for i in range(300):
    conn().close()

# 6. 200 idle connections held open, half of them in the middle of a line.
idle = []
for i in range(200):
    s = conn()
    if i % 2:
        s.sendall(b'{"jsonrpc":"2.0",')
    idle.append(s)

open(os.path.join(tdir, "ready"), "w").close()
print("abuse in place: 200 idle connections held", flush=True)
deadline = time.time() + 60
while not os.path.exists(os.path.join(tdir, "done")):
    if time.time() > deadline:
        fail("test never finished")
    time.sleep(0.05)

# A half line finished late is still a good request.
idle[1].sendall(b'"id":42,"method":"switch.info"}\n')
r = Lines(idle[1]).read()
if not r or r.get("id") != 42 or "result" not in r:
    fail(f"late half line: {r}")
for s in idle:
    s.close()
print("abuse done", flush=True)
PY

"$PY" "$T/abuse.py" "$SOCK" "$T" >"$T/abuse.log" 2>&1 &
ABUSE_PID=$!
on_exit "kill -KILL $ABUSE_PID"
wait_until 60 test -e "$T/ready" || { cat "$T/abuse.log"; fail "abuse client did not get its connections in place"; }
sed 's/^/    /' "$T/abuse.log"
ok "every bad request answered with its JSON-RPC error; too-large line refused and closed"

# While 200 idle connections are held: podswitchctl answers at once, packets flow.
start=$(date +%s%N)
ctl --timeout 5 info >"$T/info.txt" || fail "info while abused"
ctl --timeout 5 port list >"$T/list.txt" || fail "port list while abused"
ctl --timeout 5 stats >/dev/null || fail "stats while abused"
ctl --timeout 5 pmd stats >/dev/null || fail "pmd stats while abused"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -lt 3000 ] || fail "four podswitchctl calls took $ms ms under abuse"
grep -q "^pid: *$SWITCH_PID$" "$T/info.txt" || fail "info output: $(cat "$T/info.txt")"
grep -q "^sink " "$T/list.txt" || fail "port list output: $(cat "$T/list.txt")"
flowing "during abuse"
ok "podswitchctl served in $ms ms with 200 idle connections open; forwarding continues"

# Errors through podswitchctl: exit 1, the server's message on stderr.
if ctl port show nosuch 2>"$T/err"; then fail "port show nosuch succeeded"; fi
grep -q '^podswitchctl: .*nosuch' "$T/err" || fail "error message: $(cat "$T/err")"
rc=0; ctl port frobnicate 2>"$T/err" || rc=$?
[ $rc -eq 2 ] || fail "unknown command: exit $rc"

touch "$T/done"
wait "$ABUSE_PID" || { cat "$T/abuse.log"; fail "abuse client failed"; }
ok "late half line answered; abuse client done"

# Afterwards: nothing changed, no drops, descriptors back, still forwarding.
[ "$(ctlj port list | jq -c '[.ports[] | {name, output, devargs}]')" = "$ports0" ] || fail "ports changed under abuse"
[ "$(jget .stats.drops port show src)" = 0 ] || fail "src dropped packets: $(jget .stats port show src)"
wait_until 5 '[ "$(fds)" -le "$fds0" ]' || fail "switch holds $(fds) descriptors, $fds0 before the abuse"
flowing "after abuse"
ok "nothing changed, no drops, descriptors back to $(fds)"

stop_switch
ok "SIGTERM: exit 0, socket removed"
