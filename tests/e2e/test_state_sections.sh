#!/usr/bin/env bash
# Issue 4 (state survives a restart), every section: networks, ports with their network
# (joined at add or later), static outputs naming a port made after it, static MAC
# entries, and rules in their order (equal priorities: the older rule wins). After
# SIGKILL and a restart, the saved state, the rules, outputs and MAC entries are the same,
# and traffic follows the restored rules.
source "$(dirname "$0")/lib.sh"

pcap gen "$T/in.pcap" 300 --flows 3 --dst-mac 02:00:00:00:00:09
write_config "$T/sw.json"
start_switch "$T/sw.json"

ctl network add red >/dev/null
ctl network add blue >/dev/null
ctl port add a --devargs net_null0,no-rx=1 --network red >/dev/null
ctl port add b --devargs net_null1,no-rx=1 >/dev/null
ctl network join blue b >/dev/null
ctl port add c --devargs net_ring0 >/dev/null
ctl port set a --output c >/dev/null          # a names c, which was made after it
ctl port set c --output a >/dev/null
ctl fdb add red 02:00:00:00:aa:01 a >/dev/null
ctl flow add "priority=50,udp,actions=output:b" "priority=50,ip,actions=output:c" \
	"priority=10,in_port=a,actions=normal" "cookie=0x7,priority=90,dl_dst=02:00:00:00:00:02,actions=drop" >/dev/null
ctl port del b >/dev/null                     # drops the rule that outputs to b
ctl port add b --devargs net_null1,no-rx=1 --network blue >/dev/null
ctl flow add "priority=50,udp,actions=output:b" >/dev/null   # now younger than the ip rule

ctlj state export | jq -S 'del(.saved_at)' >"$T/before.json"
ctl flow list | sed 's/duration=[0-9]*s, //; s/idle_age=[0-9]*, //; s/n_packets=[0-9]*, n_bytes=[0-9]*, //' >"$T/flows.before"

# Changes are saved in batches (at most 100 ms after them): wait for the last save.
wait_until 5 '[ "$(jget .pending state show)" = 0 ]' || fail "changes not saved: $(ctlj state show | jq -c '{pending, saves, save_error}')"
kill -KILL "$SWITCH_PID"; wait "$SWITCH_PID" 2>/dev/null || true; SWITCH_PID=
start_switch "$T/sw.json"

ctlj state export | jq -S 'del(.saved_at)' >"$T/after.json"
diff "$T/before.json" "$T/after.json" || fail "state differs after restart"
ctl flow list | sed 's/duration=[0-9]*s, //; s/idle_age=[0-9]*, //; s/n_packets=[0-9]*, n_bytes=[0-9]*, //; s/ id=[0-9]*,/ id=,/' >"$T/flows.after"
sed -i 's/ id=[0-9]*,/ id=,/' "$T/flows.before"
diff "$T/flows.before" "$T/flows.after" || fail "rules differ after restart"
[ "$(jget .output port show a)" = c ] && [ "$(jget .output port show c)" = a ] || fail "outputs"
[ "$(jget .network port show b)" = blue ] && [ "$(jget .network port show a)" = red ] || fail "networks"
ctlj fdb list red | jq -e '.entries[] | select(.mac == "02:00:00:00:aa:01" and .port == "a" and .static == true)' >/dev/null \
	|| fail "static MAC entry lost: $(ctlj fdb list red)"
ok "networks, ports, outputs, static MACs and rules (order included) survive SIGKILL"

# Equal priorities: the older ip rule still beats the younger udp rule after the restart.
ctl port add in --devargs "net_pcap0,rx_pcap=$T/in.pcap" >/dev/null
wait_until 10 '[ "$(jget .stats.tx_packets port show c)" = 300 ]' || fail "c got $(jget .stats.tx_packets port show c) of 300"
[ "$(jget .stats.tx_packets port show b)" = 0 ] || fail "the younger equal-priority rule won"
ok "traffic follows the restored rules in their restored order"
stop_switch
