#!/usr/bin/env bash
# Issue 3, end to end: networks and the action normal. pcap in, pcap out: broadcast and
# unknown unicast are flooded to the other ports of the network only, known unicast goes to
# its one port, a moved MAC is relearned at once, networks are isolated, fdb list/flush,
# trace shows the L2 decision. The default rule is the config's "priority=0,actions=normal".
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
A=02:00:00:00:00:0a B=02:00:00:00:00:0b E=02:00:00:00:00:0e X=02:00:00:00:00:0f
BC=ff:ff:ff:ff:ff:ff
pkt() { echo "Ether(src='$1',dst='$2')/IP(src='10.0.0.1',dst='10.0.0.2')/UDP(dport=9)@$3"; }

$FP empty "$T/empty.pcap" 2>/dev/null
$FP gen "$T/a.pcap" "$(pkt $A $BC a_bc)" "$(pkt $A $B a_ub)" 2>/dev/null
$FP gen "$T/e.pcap" "$(pkt $E $BC e_bc)" 2>/dev/null
$FP gen "$T/b2.pcap" "$(pkt $B $A b_ua)" 2>/dev/null
$FP gen "$T/a2.pcap" "$(pkt $A $B a_known)" 2>/dev/null
$FP gen "$T/x.pcap" "$(pkt $X $A x_ua)" 2>/dev/null

write_config "$T/sw.json" '"networks": [{"name": "n1"}, {"name": "n2"}],
  "flows": ["priority=0,actions=normal"]'
start_switch "$T/sw.json"

# port NAME NUM NETWORK RX: a pcap port that sends RX and writes what it gets to NAME.out.
port() { ctl port add "$1" --network "$3" --devargs "net_pcap$2,rx_pcap=$4,tx_pcap=$T/$1.out" >/dev/null; }
fdb_port() { ctlj fdb list "$1" | jq -r --arg m "$2" '.entries[] | select(.mac == $m) | .port'; }

ctlj flow list | jq -e '.flows[0].actions[0].type == "normal" and .flows[0].priority == 0' >/dev/null \
	|| fail "default rule from the config: $(ctl flow list)"
ctl network add n1 2>"$T/err" && fail "duplicate network accepted"
grep -q "exists" "$T/err" || fail "duplicate network message: $(cat "$T/err")"
ctl port add bad --network nosuch --devargs "net_null9,no-rx=1" 2>"$T/err" && fail "unknown network accepted"
ctl port list | grep -q '^bad ' && fail "port of a refused add left behind"

# 1. Flood: a broadcast and an unknown unicast from a reach b and c, not d (network n2).
port b 1 n1 "$T/empty.pcap"
port c 2 n1 "$T/empty.pcap"
port d 3 n2 "$T/empty.pcap"
port a 4 n1 "$T/a.pcap"
wait_eq 30 2 jget .stats.tx_packets port show c || fail "c got $(jget .stats.tx_packets port show c) of 2 floods"
wait_eq 20 a fdb_port n1 $A || fail "A not learned on a: $(ctl fdb list)"
ok "broadcast and unknown unicast flooded in n1; source learned"

# 2. Isolation: a broadcast in n2 reaches d only.
port e 5 n2 "$T/e.pcap"
wait_eq 30 1 jget .stats.tx_packets port show d || fail "d got no broadcast from e"
[ "$(fdb_port n1 $E)" = "" ] || fail "E learned in n1"
[ "$(fdb_port n2 $E)" = e ] || fail "E not learned in n2"
ok "networks isolated"

# 3. Known unicast: B -> A goes to a only.
port b2 6 n1 "$T/b2.pcap"
wait_eq 30 1 jget .stats.tx_packets port show a || fail "a got nothing from b2"
wait_eq 20 b2 fdb_port n1 $B || fail "B not learned on b2: $(ctl fdb list)"
ctl trace "in_port=c,dl_src=02:00:00:00:00:0c,dl_dst=$B" >"$T/trace"
grep -q "decision unicast" "$T/trace" && grep -q "Output: b2 " "$T/trace" || fail "trace: $(cat "$T/trace")"
ok "known unicast to its port only; trace shows the L2 decision"

# 4. A moves from a to a2 and is relearned at once: X -> A goes to a2, not a.
port a2 7 n1 "$T/a2.pcap"
wait_eq 30 1 jget .stats.tx_packets port show b2 || fail "b2 got nothing from a2"
wait_eq 20 a2 fdb_port n1 $A || fail "A not relearned on a2: $(ctl fdb list)"
port x 8 n1 "$T/x.pcap"
wait_eq 30 1 jget .stats.tx_packets port show a2 || fail "a2 got nothing from x"
ok "moved MAC relearned at once"

# 5. fdb list, flush, network list.
ctlj network list | jq -e '.networks[] | select(.name == "n1") | .ports == ["b","c","a","b2","a2","x"]' >/dev/null \
	|| fail "network list: $(ctlj network list | jq -c .)"
ctl network del n2 2>"$T/err" && fail "deleted a network with ports"
grep -q "still has 2 port" "$T/err" || fail "network del message: $(cat "$T/err")"
[ "$(ctlj fdb flush n2 | jq .flushed)" = 1 ] || fail "fdb flush n2"
[ "$(ctlj fdb list | jq '.entries | length')" = 3 ] || fail "fdb list after flush: $(ctl fdb list)"
[ "$(ctlj fdb flush | jq .flushed)" = 3 ] || fail "fdb flush"
ok "fdb list, flush; network list; network with ports not deleted"

# What every port wrote, packet by packet.
for p in a b c d e b2 a2 x; do ctl port del $p >/dev/null; done
expect() { local got; got=$($FP tags "$T/$1.out" 2>/dev/null | awk '{print $1}' | xargs); [ "$got" = "$2" ] || fail "$1 got '$got', want '$2'"; }
expect a "b_ua"
expect b "a_bc a_ub"
expect c "a_bc a_ub"
expect d "e_bc"
expect e ""
expect b2 "a_known"
expect a2 "x_ua"
expect x ""
ctl network del n2 >/dev/null
ok "outputs packet for packet: never back to the input port, nothing across networks"

stop_switch
