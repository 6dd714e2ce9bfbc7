#!/usr/bin/env bash
# Issue 3, end to end: the MAC table's configured limits. "mac_limit_per_port": a port
# that sends from more MACs gets only that many learned; "mac_aging_s": entries not seen
# for that long go away, entries still in use stay; static entries never age.
source "$(dirname "$0")/lib.sh"

# wait_eq SECONDS WANT CMD...: until CMD's output is WANT (CMD runs again each time;
# `wait_until N test "$(CMD)" = X` would expand CMD once, before waiting).
wait_eq() {
	local t=$1 want=$2 end
	shift 2
	end=$((SECONDS + t))
	until [ "$("$@")" = "$want" ]; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}

FP="$PY $SRC/tests/e2e/flowpkt.py"
pkt() { echo "Ether(src='$1',dst='ff:ff:ff:ff:ff:ff')/IP(src='10.0.0.1',dst='10.0.0.2')/UDP(dport=9)@$2"; }

$FP gen "$T/many.pcap" "$(pkt 02:00:00:00:01:01 m1)" "$(pkt 02:00:00:00:01:02 m2)" \
	"$(pkt 02:00:00:00:01:03 m3)" "$(pkt 02:00:00:00:01:04 m4)" 2>/dev/null
$FP gen "$T/one.pcap" "$(pkt 02:00:00:00:02:01 o1)" 2>/dev/null
# A steady source: one MAC, replayed forever (kept alive while the others age).
$FP gen "$T/steady.pcap" "$(pkt 02:00:00:00:03:01 s1)" 2>/dev/null

write_config "$T/sw.json" '"networks": [{"name": "n1"}],
  "flows": ["priority=0,actions=normal"],
  "mac_aging_s": 3,
  "mac_limit_per_port": 2,
  "ports": [{"name": "sink", "devargs": "net_null0,no-rx=1", "network": "n1"}]'
start_switch "$T/sw.json"

macs_on() { ctlj fdb list n1 | jq --arg p "$1" '[.entries[] | select(.port == $p)] | length'; }

# 1. The limit: 4 source MACs from one port, 2 learned.
ctl port add many --network n1 --devargs "net_pcap1,rx_pcap=$T/many.pcap" >/dev/null
wait_eq 30 2 macs_on many || fail "learned on 'many': $(ctl fdb list)"
sleep 0.5
[ "$(macs_on many)" = 2 ] || fail "limit exceeded: $(ctl fdb list)"
ok "per-port MAC limit: 2 of 4 source MACs learned"

# 2. Aging: 'one' stops sending and ages out; 'steady' keeps sending and stays; a static
# entry stays.
ctl port add one --network n1 --devargs "net_pcap2,rx_pcap=$T/one.pcap" >/dev/null
ctl port add steady --network n1 --devargs "net_pcap3,rx_pcap=$T/steady.pcap,infinite_rx=1" >/dev/null
ctl fdb add n1 02:00:00:00:09:09 sink >/dev/null
wait_eq 30 1 macs_on one || fail "one's MAC not learned"
wait_eq 30 1 macs_on steady || fail "steady's MAC not learned"
wait_eq 30 0 macs_on one || fail "one's MAC did not age out: $(ctlj fdb list | jq -c .)"
[ "$(macs_on many)" = 0 ] || fail "many's MACs did not age out"
[ "$(macs_on steady)" = 1 ] || fail "a MAC in use aged out: $(ctl fdb list)"
ctlj fdb list | jq -e '.entries[] | select(.mac == "02:00:00:00:09:09" and .static)' >/dev/null \
	|| fail "static entry aged: $(ctl fdb list)"
ctl port del steady >/dev/null
ok "aging after mac_aging_s; MACs in use and static entries stay"

stop_switch
