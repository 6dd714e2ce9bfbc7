#!/usr/bin/env bash
# Issue 3, end to end: the flow table decides where packets go. pcap in, pcap out:
# priority override, masks and prefixes, IPv6, VLAN push/pop, rewrites and several
# outputs, per-rule counters in `flow list`, deletes (loose, strict, cookie), bad rules
# refused with the field named, trace, and the static output as the fallback.
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
E="Ether(src='02:00:00:00:00:01',dst='02:00:00:00:00:02')"

write_config "$T/sw.json" '"ports": [
    {"name": "oa", "devargs": "net_pcap10,tx_pcap='"$T"'/oa.pcap"},
    {"name": "ob", "devargs": "net_pcap11,tx_pcap='"$T"'/ob.pcap"},
    {"name": "oc", "devargs": "net_pcap12,tx_pcap='"$T"'/oc.pcap"}
  ]'
start_switch "$T/sw.json"

# tags_of FILE: the tags of the packets in a pcap, space-separated, in order.
tags_of() { $FP tags "$1" 2>/dev/null | awk '{print $1}' | xargs; }
# close_outputs: deleting the pcap ports flushes their files.
close_outputs() { for p in oa ob oc; do ctl port del $p >/dev/null; done; }
# expect FILE "tags": the output file holds exactly these tags, in order.
expect() { local got; got=$(tags_of "$1"); [ "$got" = "$2" ] || fail "$(basename "$1"): got '$got', want '$2'"; }

# 1. Bad rules are refused with a message naming the field; nothing is added.
bad() { # bad RULE NEEDLE
	if ctl flow add "$1" 2>"$T/err"; then fail "accepted bad rule: $1"; fi
	grep -q -- "$2" "$T/err" || fail "rule '$1': message '$(cat "$T/err")' does not name '$2'"
}
bad "in_port=nosuch,actions=drop" "in_port: unknown port 'nosuch'"
bad "actions=output:nosuch" "port: unknown port 'nosuch'"
bad "nw_src=10.0.0.0/8,actions=drop" "nw_src: needs dl_type=0x0800"
bad "ip,nw_dst=10.0.0.0/33,actions=drop" "nw_dst"
bad "ipv6_dst=fd00::/64,actions=drop" "ipv6_dst: needs dl_type=0x86dd"
bad "ip,tp_dst=80,actions=drop" "tp_dst: needs nw_proto"
bad "udp,actions=drop,output:oa" "'drop' must be the only action"
bad "priority=70000,actions=drop" "priority"
bad "ip,nw_dst=10.0.0.1,actions=foo" "unknown action 'foo'"
# The same checks through raw JSON-RPC params, and all-or-nothing for a bulk add.
ctlj flow list | jq -e '.flows | length == 0' >/dev/null || fail "rules added by refused requests"
printf 'priority=1,ip,actions=output:oa\n# comment\n\npriority=2,in_port=nosuch,actions=drop\n' >"$T/bad.rules"
ctl flow add -f "$T/bad.rules" 2>"$T/err" && fail "bulk file with a bad rule accepted"
grep -q "bad.rules:4:.*unknown port 'nosuch'" "$T/err" || fail "bulk error names no line: $(cat "$T/err")"
ctlj flow list | jq -e '.flows | length == 0' >/dev/null || fail "a refused bulk add left rules behind"
ok "bad rules refused, field named, bulk all-or-nothing"

# 2. Priorities, masks, prefixes, IPv6, shorthands.
cat >"$T/p1.rules" <<'EOF'
# wide prefix, low priority
priority=10,ip,nw_dst=10.1.0.0/16,actions=output:oa
# narrower prefix wins by priority
priority=20,ip,nw_dst=10.1.2.0/24,actions=output:ob
# a higher-priority L4 rule overrides both
priority=30,udp,tp_dst=53,actions=output:oc
# masked MAC: a locally administered prefix
priority=25,dl_dst=0a:00:00:00:00:00/ff:ff:00:00:00:00,actions=output:oc
# IPv6 prefix, and a more specific tcp6 port override
priority=10,ipv6,ipv6_dst=fd00:1::/64,actions=output:oa
priority=15,tcp6,ipv6_dst=fd00:1::/64,tp_dst=443,actions=output:ob
# ICMP type
priority=12,icmp,icmp_type=8,actions=output:ob
# explicit drop beats the prefix rule
priority=40,ip,nw_src=192.168.66.0/24,actions=drop
EOF
ctl flow add -f "$T/p1.rules" >/dev/null
[ "$(ctlj flow list | jq '.flows | length')" = 8 ] || fail "flow list after bulk add"
$FP gen "$T/in1.pcap" \
	"$E/IP(src='10.0.0.1',dst='10.1.5.5')/UDP(dport=5000)@a1" \
	"$E/IP(src='10.0.0.1',dst='10.1.2.7')/UDP(dport=5000)@b1" \
	"$E/IP(src='10.0.0.1',dst='10.1.2.7')/UDP(dport=53)@c1" \
	"$E/IP(src='10.0.0.1',dst='10.9.9.9')/UDP(dport=5000)@miss1" \
	"Ether(src='02:00:00:00:00:01',dst='0a:00:12:34:56:78')/IP(dst='10.1.5.5')/UDP(dport=5000)@c2" \
	"$E/IPv6(src='fd00::1',dst='fd00:1::5')/UDP(dport=5000)@a2" \
	"$E/IPv6(src='fd00::1',dst='fd00:1::5')/TCP(dport=443)@b2" \
	"$E/IPv6(src='fd00::1',dst='fd00:2::5')/TCP(dport=443)@miss2" \
	"$E/IP(src='10.0.0.1',dst='10.9.9.9')/ICMP(type=8)@b3" \
	"$E/IP(src='192.168.66.7',dst='10.1.5.5')/UDP(dport=5000)@drop1" \
	"$E/IP(src='10.0.0.1',dst='10.1.7.7')/TCP(dport=80)@a3"
ctl port add in1 --devargs "net_pcap1,rx_pcap=$T/in1.pcap" >/dev/null
wait_eq 30 11 jget .stats.rx_packets port show in1 || fail "in1 rx $(jget .stats.rx_packets port show in1)"
wait_eq 20 2 jget '.stats.drops_by_reason.no_rule' port show in1 || fail "no_rule drops: $(jget .stats port show in1)"
[ "$(jget '.stats.drops_by_reason.action_drop' port show in1)" = 1 ] || fail "action_drop count"
# Per-rule counters: the /16 rule saw a1 and a3 (60 and 61 bytes).
ctlj flow list | jq -e '.flows[] | select(.priority == 10 and .match.nw_dst == "10.1.0.0/16") | .packets == 2 and .bytes >= 120' >/dev/null \
	|| fail "rule counters: $(ctlj flow list | jq -c '.flows[] | {priority, match, packets, bytes}')"
ctl flow list | grep -q 'n_packets=1, n_bytes=60, idle_age=[0-9]*, priority=30,udp,tp_dst=53,actions=output:oc' \
	|| fail "flow list text: $(ctl flow list)"
close_outputs
expect "$T/oa.pcap" "a1 a2 a3"
expect "$T/ob.pcap" "b1 b2 b3"
expect "$T/oc.pcap" "c1 c2"
ok "priority override, prefixes, masked MAC, IPv6, ICMP, drop; per-rule counters"

# 3. VLAN push/pop, MAC rewrites, several outputs (copies), deletes.
ctl port add oa --devargs "net_pcap10,tx_pcap=$T/oa2.pcap" >/dev/null
ctl port add ob --devargs "net_pcap11,tx_pcap=$T/ob2.pcap" >/dev/null
ctl port add oc --devargs "net_pcap12,tx_pcap=$T/oc2.pcap" >/dev/null
# Rules that output to a removed port went with it; only the drop rule is left.
[ "$(ctlj flow list | jq -c '[.flows[].actions[0].type]')" = '["drop"]' ] || fail "rules naming removed ports should be gone: $(ctl flow list)"
ctl flow clear >/dev/null
ctl flow add "priority=50,udp,tp_dst=7000,actions=push_vlan:100,output:oa" >/dev/null
ctl flow add "priority=50,dl_vlan=200,actions=pop_vlan,output:ob" >/dev/null
ctl flow add "priority=50,udp,tp_dst=7001,actions=mod_dl_src:02:aa:00:00:00:01,mod_dl_dst:02:bb:00:00:00:02,output:oc,push_vlan:7,output:oa,pop_vlan,output:ob" >/dev/null
ctl flow add "priority=60,cookie=0x77,udp,tp_dst=7002,actions=output:oc" >/dev/null
ctl flow add "priority=60,cookie=0x77,udp,tp_dst=7003,actions=output:oc" >/dev/null
ctl flow add "priority=61,udp,tp_dst=7004,actions=output:oc" >/dev/null
ctl flow add "priority=62,udp,tp_dst=7004,actions=output:oa" >/dev/null
$FP gen "$T/in2.pcap" \
	"$E/IP(src='10.0.0.1',dst='10.3.0.1')/UDP(dport=7000)@push" \
	"$E/Dot1Q(vlan=200)/IP(src='10.0.0.1',dst='10.3.0.1')/UDP(dport=9)@pop" \
	"$E/Dot1Q(vlan=300)/IP(src='10.0.0.1',dst='10.3.0.1')/UDP(dport=9)@other" \
	"$E/IP(src='10.0.0.1',dst='10.3.0.1')/UDP(dport=7001)@multi"
ctl port add in2 --devargs "net_pcap2,rx_pcap=$T/in2.pcap" >/dev/null
wait_eq 30 4 jget .stats.rx_packets port show in2 || fail "in2 rx: $(ctlj port show in2 | jq -c .stats)"
wait_eq 20 2 jget .stats.tx_packets port show oa || fail "oa tx $(jget .stats.tx_packets port show oa)"
# Deletes: by cookie, strict (only the rule with that exact match and priority), loose.
[ "$(ctlj flow del --cookie 0x77 | jq .deleted)" = 2 ] || fail "delete by cookie"
[ "$(ctlj flow del "priority=61,udp,tp_dst=7004" --strict | jq .deleted)" = 1 ] || fail "strict delete"
[ "$(ctlj flow del "priority=61,udp,tp_dst=7004" --strict | jq .deleted)" = 0 ] || fail "strict delete twice"
[ "$(ctlj flow del "udp" | jq .deleted)" = 3 ] || fail "loose delete of udp rules: $(ctl flow list)"
[ "$(ctlj flow list | jq '.flows | length')" = 1 ] || fail "one rule (dl_vlan=200) should be left: $(ctl flow list)"
ctl flow clear >/dev/null
[ "$(ctlj flow list | jq '.flows | length')" = 0 ] || fail "flow clear"
close_outputs
# oa: the pushed packet (VLAN 100), then the multi-output copy with VLAN 7 and new MACs.
[ "$($FP tags "$T/oa2.pcap" 2>/dev/null | xargs)" = "push 02:00:00:00:00:01 02:00:00:00:00:02 100 multi 02:aa:00:00:00:01 02:bb:00:00:00:02 7" ] \
	|| fail "oa: $($FP tags "$T/oa2.pcap" 2>/dev/null | xargs)"
[ "$($FP tags "$T/ob2.pcap" 2>/dev/null | xargs)" = "pop 02:00:00:00:00:01 02:00:00:00:00:02 - multi 02:aa:00:00:00:01 02:bb:00:00:00:02 -" ] \
	|| fail "ob: $($FP tags "$T/ob2.pcap" 2>/dev/null | xargs)"
[ "$($FP tags "$T/oc2.pcap" 2>/dev/null | xargs)" = "multi 02:aa:00:00:00:01 02:bb:00:00:00:02 -" ] \
	|| fail "oc: $($FP tags "$T/oc2.pcap" 2>/dev/null | xargs)"
[ "$(jget '.stats.drops_by_reason.no_rule' port show in2)" = 1 ] || fail "VLAN 300 should miss"
ok "push_vlan, pop_vlan, MAC rewrites, several outputs; delete by cookie, strict, loose; clear"

# 4. trace: the rule, the actions, the outputs, without sending anything.
ctl port add oa --devargs "net_null10,no-rx=1" >/dev/null
ctl port add ob --devargs "net_null11,no-rx=1" >/dev/null
ctl flow add "priority=100,in_port=in2,ip,nw_dst=10.1.0.0/16,actions=mod_dl_dst:02:00:00:00:00:99,push_vlan:42,output:oa" >/dev/null
ctl trace "in_port=in2,dl_dst=02:00:00:00:00:02,ip,nw_dst=10.1.2.3" >"$T/trace1"
grep -q "Rule: id=[0-9]* priority=100,in_port=in2,ip,nw_dst=10.1.0.0/16" "$T/trace1" || fail "trace rule: $(cat "$T/trace1")"
grep -q "Output: oa dl_src=00:00:00:00:00:00 dl_dst=02:00:00:00:00:99 dl_vlan=42" "$T/trace1" || fail "trace output: $(cat "$T/trace1")"
ctlj trace "in_port=in2,ip,nw_dst=10.2.0.1" | jq -e '.rule == null and .drop == "no_rule"' >/dev/null \
	|| fail "trace of a miss: $(ctlj trace "in_port=in2,ip,nw_dst=10.2.0.1")"
ctl trace "in_port=nosuch" 2>"$T/err" && fail "trace of an unknown port"
grep -q "in_port: unknown port 'nosuch'" "$T/err" || fail "trace error: $(cat "$T/err")"
[ "$(jget .stats.tx_packets port show oa)" = 0 ] || fail "trace sent a packet"
ok "trace: rule, rewrites, outputs, misses; nothing sent"

# 5. Fallback: no rule matches -> the port's static output; no output -> no_rule.
ctl flow clear >/dev/null
ctl flow add "priority=5,udp,tp_dst=1,actions=output:ob" >/dev/null
ctl port add in3 --devargs "net_pcap3,rx_pcap=$T/in1.pcap" --output oa >/dev/null
wait_eq 30 11 jget .stats.tx_packets port show oa || fail "static output fallback: oa tx $(jget .stats.tx_packets port show oa)"
ok "static output is the fallback when no rule matches"

stop_switch
ok "clean stop"
