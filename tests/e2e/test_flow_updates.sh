#!/usr/bin/env bash
# Issue 3, end to end: the flow table changes under traffic. A source port replays a pcap
# forever (net_pcap infinite_rx) towards s1 by a rule; meanwhile 10,000 rules are loaded
# in one bulk request and removed, half by exact match in one request (without making the
# traffic's cached flows miss), half by cookie: not one packet is lost (both the old and
# the new table forward it to s1). After flow.add / flow.del returns, the next packet
# follows the new table: the old output's counter does not move any more.
source "$(dirname "$0")/lib.sh"

FP="$PY $SRC/tests/e2e/flowpkt.py"
$FP many "$T/src.pcap" 256 10.2.0.1 2>/dev/null

# Traffic is short and the PMD core is shared: keep the phases brief.
write_config "$T/sw.json" '"ports": [
    {"name": "src", "devargs": "net_pcap0,rx_pcap='"$T"'/src.pcap,infinite_rx=1"},
    {"name": "s1", "devargs": "net_null0,no-rx=1"},
    {"name": "s2", "devargs": "net_null1,no-rx=1"}
  ],
  "flows": ["priority=100,ip,nw_dst=10.2.0.0/16,actions=output:s1"]'
start_switch "$T/sw.json"

tx() { jget .stats.tx_packets port show "$1"; }
drops() { ctlj port show src | jq '.stats.drops'; }
growing() { local a; a=$(tx "$1"); sleep 0.2; [ "$(tx "$1")" -gt "$a" ]; }

wait_until 30 growing s1 || fail "traffic src -> s1 not flowing"

# 1. 10,000 rules (several masks, none matching the traffic) in one request, under traffic.
$PY - "$T/10k.rules" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(10000):
        a, b = divmod(i, 250)
        kind = i % 4
        if kind == 0:
            r = f"priority={1000 + i % 50},cookie=0x10,ip,nw_dst=172.16.{a}.{b},actions=output:s2"
        elif kind == 1:
            r = f"priority={900 + i % 7},cookie=0x10,udp,nw_dst=172.17.{a}.{b},tp_dst={1 + i % 60000},actions=output:s2"
        elif kind == 2:
            r = f"priority=800,cookie=0x10,ip,nw_src=192.168.{a}.0/24,nw_dst=172.18.{b}.0/24,actions=drop"
        else:
            r = f"priority=700,cookie=0x10,ipv6,ipv6_dst=fd00:{i:x}::/64,actions=output:s2"
        f.write(r + "\n")
PY
d0=$(drops); s1a=$(tx s1); s2a=$(tx s2)
start=$(date +%s%N)
ctl flow add -f "$T/10k.rules" >"$T/add.out" || fail "bulk add: $(cat "$T/add.out")"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
grep -q "added 10000 flow(s)" "$T/add.out" || fail "bulk add said: $(cat "$T/add.out")"
[ "$(ctlj flow list | jq '.flows | length')" = 10001 ] || fail "flow list count"
wait_until 20 growing s1 || fail "s1 stopped after the bulk add"
[ "$(drops)" = "$d0" ] || fail "packets dropped while 10,000 rules were loaded: $(ctlj port show src | jq -c .stats.drops_by_reason)"
[ "$(tx s2)" = "$s2a" ] || fail "traffic leaked to s2"
[ "$(tx s1)" -gt "$s1a" ] || fail "s1 counter"
ok "10,000 rules loaded in one request (${ms} ms) under traffic: no packet lost"

# 2. The next packet follows the new table, both ways, several times.
for i in 1 2 3 4 5; do
	ctl flow add "priority=2000,ip,nw_dst=10.2.0.0/16,actions=output:s2" >/dev/null
	a=$(tx s1); sleep 0.3; b=$(tx s1)
	[ "$a" = "$b" ] || fail "round $i: s1 still got $((b - a)) packets after flow.add returned"
	wait_until 20 growing s2 || fail "round $i: s2 not getting traffic"
	ctl flow del "priority=2000,ip,nw_dst=10.2.0.0/16" --strict >/dev/null
	a=$(tx s2); sleep 0.3; b=$(tx s2)
	[ "$a" = "$b" ] || fail "round $i: s2 still got $((b - a)) packets after flow.del returned"
	wait_until 20 growing s1 || fail "round $i: s1 not getting traffic back"
done
[ "$(drops)" = "$d0" ] || fail "drops while switching tables: $(ctlj port show src | jq -c .stats.drops_by_reason)"
ok "after flow.add / flow.del returns the next packet follows the new table (5 rounds)"

# 3. Half of them deleted by their exact match in one request, under traffic: the
# traffic's flows keep hitting the exact-match cache (a change costs the flows it
# concerns only: before, every change made every cached flow miss once).
misses() { ctlj flow stats | jq '.pmds[0].cache.misses'; }
head -5000 "$T/10k.rules" >"$T/5k.rules"
m0=$(misses)
ctl flow del --strict -f "$T/5k.rules" >"$T/del.out" || fail "bulk strict delete: $(cat "$T/del.out")"
grep -q "deleted 5000 flow(s)" "$T/del.out" || fail "bulk strict delete said: $(cat "$T/del.out")"
[ "$(ctlj flow list | jq '.flows | length')" = 5001 ] || fail "flow list count after the strict delete"
wait_until 20 growing s1 || fail "s1 stopped after the bulk strict delete"
m1=$(misses)
[ $((m1 - m0)) -lt 256 ] || fail "the cache missed $((m1 - m0)) times for 256 unchanged flows"
[ "$(drops)" = "$d0" ] || fail "drops during the bulk strict delete"
ok "5,000 rules deleted by exact match in one request under traffic: no packet lost, $((m1 - m0)) cache misses"

# 4. Remove the rest by cookie under traffic.
s1a=$(tx s1)
[ "$(ctlj flow del --cookie 0x10 | jq .deleted)" = 5000 ] || fail "delete by cookie"
wait_until 20 growing s1 || fail "s1 stopped after the bulk delete"
[ "$(drops)" = "$d0" ] || fail "drops during the bulk delete"
[ "$(ctlj flow list | jq '.flows | length')" = 1 ] || fail "rules left after delete by cookie"
ctlj flow list | jq -e '.flows[0].packets > 1000' >/dev/null || fail "rule counter: $(ctlj flow list | jq -c '.flows[0]')"
ok "the other 5,000 deleted by cookie under traffic: no packet lost"

# 5. Per-PMD exact-match cache counters: a steady flow set is served from the cache.
ctlj flow stats >"$T/fs.json"
jq -e '.rules == 1 and .pmds[0].cache.hits > .pmds[0].cache.misses and .pmds[0].cache.entries > 0' "$T/fs.json" >/dev/null \
	|| fail "flow stats: $(jq -c . "$T/fs.json")"
ctl flow stats | grep -q "^rules 1 " || fail "flow stats text: $(ctl flow stats)"
ok "flow stats: cache hits $(jq .pmds[0].cache.hits "$T/fs.json"), misses $(jq .pmds[0].cache.misses "$T/fs.json")"

stop_switch
