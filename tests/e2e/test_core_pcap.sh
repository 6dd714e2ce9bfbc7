#!/usr/bin/env bash
# Issue 2, end to end: podswitchd forwards a pcap packet for packet; ports are added and
# removed at runtime while other traffic flows, unaffected; bad requests change nothing;
# a second instance refuses to start; SIGTERM stops it cleanly.
source "$(dirname "$0")/lib.sh"

N=2000
pcap gen "$T/in.pcap" $N --flows 100 --size 64
pcap gen "$T/in2.pcap" 500 --flows 7 --size 200 --src-mac 02:00:00:00:00:03

write_config "$T/sw.json" '"ports": [
    {"name": "in",  "type": "dpdk", "devargs": "net_pcap0,rx_pcap='"$T"'/in.pcap", "output": "out"},
    {"name": "out", "type": "dpdk", "devargs": "net_pcap1,tx_pcap='"$T"'/out.pcap"},
    {"name": "src", "devargs": "net_pcap2,rx_pcap='"$T"'/in2.pcap,infinite_rx=1", "output": "sink"},
    {"name": "sink", "devargs": "net_null0,no-rx=1"}
  ]'
start_switch "$T/sw.json"

# 1. The pcap goes through, every packet counted.
wait_until 20 '[ "$(jget .stats.tx_packets port show out)" = $N ]' || fail "out sent $(jget .stats.tx_packets port show out) of $N"
[ "$(jget .stats.rx_packets port show in)" = $N ] || fail "in rx counter"
[ "$(jget .stats.drops port show in)" = 0 ] || fail "drops on in"
ok "pcap forwarded: $N packets in, $N out"

# 2. A second instance with the same socket or file prefix refuses to start.
if "$PODSWITCHD" --config "$T/sw.json" >"$T/second.log" 2>&1; then fail "second instance started"; fi
grep -q "another podswitchd is serving on $SOCK" "$T/second.log" || fail "second instance message: $(cat "$T/second.log")"
if "$PODSWITCHD" --config "$T/sw.json" --socket "$T/other.sock" >"$T/third.log" 2>&1; then fail "same prefix started"; fi
grep -q "file prefix \"$PREFIX\" is in use" "$T/third.log" || fail "prefix message: $(cat "$T/third.log")"
ok "second instance refused (socket, file prefix)"

# 3. Runtime add and remove while src -> sink flows.
sink0=$(jget .stats.tx_packets port show sink)
wait_until 10 '[ "$(jget .stats.tx_packets port show sink)" -gt "$sink0" ]' || fail "src->sink not flowing"
ctl port add in3 --devargs "net_pcap3,rx_pcap=$T/in.pcap" >/dev/null
ctl port add out3 --devargs "net_pcap4,tx_pcap=$T/out3.pcap" >/dev/null
ctl port add in4 --devargs "net_ring0" >/dev/null
ctl port list | grep -q out3 || fail "port list misses out3"
ctl port del in4 >/dev/null
ctl port list | grep -q in4 && fail "in4 still listed after del"
# in3 had no output while it read its pcap: every packet is a counted no_output drop.
wait_until 10 '[ "$(jget .stats.drops_by_reason.no_output port show in3)" = $N ]' || fail "in3 no_output drops: $(jget .stats port show in3)"
ctl port del in3 >/dev/null
ctl port add in3 --devargs "net_pcap3,rx_pcap=$T/in.pcap" --output out3 >/dev/null
wait_until 10 '[ "$(jget .stats.tx_packets port show out3)" = $N ]' || fail "out3 sent $(jget .stats.tx_packets port show out3)"
ctl port del in3 >/dev/null
ctl port del out3 >/dev/null    # closes out3.pcap
pcap same "$T/in.pcap" "$T/out3.pcap" >/dev/null || fail "runtime port pair changed packets"
s1=$(jget .stats.tx_packets port show sink)
sleep 0.5
s2=$(jget .stats.tx_packets port show sink)
[ "$s2" -gt "$s1" ] || fail "src->sink stopped after port changes: $s1 -> $s2; src $(ctlj port show src | jq -c .stats); pmd $(ctlj pmd stats | jq -c .pmds[0])"
[ "$(jget .stats.drops port show src)" = 0 ] || fail "src dropped packets during port changes: $(jget .stats port show src)"
ok "ports added and removed at runtime; other traffic kept flowing without drops"

# 4. Bad requests: clear errors, nothing changes.
before=$(ctlj port list | jq -c '[.ports[].name]')
ctl port add out --devargs net_null9 2>"$T/e1" && fail "duplicate name accepted"
grep -q 'exists' "$T/e1" || fail "duplicate message: $(cat "$T/e1")"
ctl port add bad --devargs "net_nosuchdriver0" 2>"$T/e2" && fail "bad devargs accepted"
grep -q 'devargs' "$T/e2" || fail "bad devargs message: $(cat "$T/e2")"
ctl port add "bad/name" --devargs net_null8 2>"$T/e3" && fail "bad name accepted"
ctl port del nosuch 2>"$T/e4" && fail "del of unknown port succeeded"
grep -q 'no port "nosuch"' "$T/e4" || fail "del message: $(cat "$T/e4")"
ctl port add x --devargs net_null7 --output nosuch 2>"$T/e5" && fail "unknown output accepted"
after=$(ctlj port list | jq -c '[.ports[].name]')
[ "$(ctlj info | jq '.control.errors >= 5 and .control.requests > .control.errors')" = true ] \
	|| fail "switch.info control counters: $(ctlj info | jq -c .control)"
[ "$before" = "$after" ] || fail "ports changed after bad requests: $before -> $after"
ok "bad requests refused with clear messages; nothing changed"

# 5. Counters: stats, clear, pmd stats.
[ "$(ctlj pmd stats | jq '.pmds[0].packets > 0')" = true ] || fail "pmd stats packets"
[ "$(ctlj pmd stats | jq '.pmds[0].cycles_per_packet > 0')" = true ] || fail "pmd cycles per packet"
[ "$(ctlj pmd stats | jq '.pmds[0].drops_by_reason.no_output')" -ge $N ] || fail "pmd no_output drops"
ctl pmd stats --clear >/dev/null
[ "$(ctlj pmd stats | jq '.pmds[0].drops_by_reason.no_output')" = 0 ] || fail "pmd stats --clear kept drops"
ctl stats --clear >/dev/null
[ "$(jget .stats.tx_packets port show out)" = 0 ] || fail "stats --clear"
ok "counters: pmd stats, stats --clear"

# 6. SIGTERM: clean stop, socket removed, pcap complete.
stop_switch
pcap same "$T/in.pcap" "$T/out.pcap" || fail "output pcap differs from input"
ok "SIGTERM: exit 0, socket removed, output identical packet for packet"
