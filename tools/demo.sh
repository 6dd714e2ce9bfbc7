#!/usr/bin/env bash
# make demo: start podswitchd with config/demo.json, push real traffic through it
# between DPDK devices, show the counters, stop. Everything it makes goes away at the end.
set -euo pipefail
BUILD=${1:-build}
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
PY=/usr/bin/python3
D=$(mktemp -d /tmp/podswitch-demo.XXXXXX)
SOCK=$D/podswitchd.sock
CTL="$BUILD/ctl/podswitchctl --socket $SOCK"
PID=
PODS=

cleanup() {
	for ns in $PODS; do ip netns del "$ns" 2>/dev/null || true; done
	[ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
	rm -rf "$D" /tmp/podswitch-in.pcap /tmp/podswitch-out.pcap "/var/run/dpdk/psw-demo-$$"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Traffic: 10,000 UDP packets (64 bytes, 100 flows) in /tmp/podswitch-in.pcap"
"$PY" "$SRC/tests/e2e/pcap.py" gen /tmp/podswitch-in.pcap 10000 --flows 100

step "2. podswitchd --config config/demo.json (network default: ports in, out; rule actions=normal)"
"$BUILD/switch/podswitchd" --config "$SRC/config/demo.json" --socket "$SOCK" \
	--file-prefix "psw-demo-$$" --state-dir "$D/state" >"$D/podswitchd.log" 2>&1 &
PID=$!
for _ in $(seq 50); do $CTL info >/dev/null 2>&1 && break; sleep 0.2; done
$CTL info

step "3. Ports, once the pcap has gone through"
for _ in $(seq 50); do
	[ "$($CTL --json port show out | jq .stats.tx_packets)" = 10000 ] && break; sleep 0.2
done
$CTL port list

step "3b. What the learning switch knows: networks, learned MACs, rules"
$CTL network list
$CTL fdb list
$CTL flow list
$CTL port del out    # closes /tmp/podswitch-out.pcap
echo "out wrote $("$PY" "$SRC/tests/e2e/pcap.py" count /tmp/podswitch-out.pcap) packets:"
"$PY" "$SRC/tests/e2e/pcap.py" same /tmp/podswitch-in.pcap /tmp/podswitch-out.pcap

step "4. At runtime: a generator (net_pcap, endless) and a sink (net_null), joined by a rule"
$CTL port add sink --devargs "net_null0,no-rx=1"
$CTL port add gen --devargs "net_pcap2,rx_pcap=/tmp/podswitch-in.pcap,infinite_rx=1"
$CTL flow add "priority=100,in_port=gen,udp,actions=output:sink"
$CTL trace "in_port=gen,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=5000"
sleep 2
$CTL stats
echo "(gen's packets from before its rule existed met only actions=normal in no network: counted as no_network)"
$CTL flow list

step "4b. Two kernel pods (network namespaces) on tap ports in network default: ping"
$CTL port del gen >/dev/null
for i in 1 2; do
	ip netns add "psw-demo-pod$i-$$"
	PODS="$PODS psw-demo-pod$i-$$"
	$CTL port add "pod$i" --type tap --option "ifname=pswdemo$i" --network default >/dev/null
	ip link set "pswdemo$i" netns "psw-demo-pod$i-$$"
	ip -n "psw-demo-pod$i-$$" addr add "10.99.0.$i/24" dev "pswdemo$i"
	ip -n "psw-demo-pod$i-$$" link set "pswdemo$i" up
done
ip netns exec "psw-demo-pod1-$$" ping -c 3 -i 0.2 10.99.0.2
$CTL fdb list default

step "5. PMD counters (cycles per packet from the PMD's own TSC accounting)"
$CTL pmd stats

step "6. Stop podswitchd with SIGTERM"
kill -TERM "$PID"; wait "$PID"; PID=
echo "podswitchd exited 0"
