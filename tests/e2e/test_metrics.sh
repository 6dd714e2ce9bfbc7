#!/usr/bin/env bash
# Issue 11, operability: `pmd perf` on a known load (every packet counted once, by what
# decided it), the Prometheus endpoint scraped while traffic flows between two kernel pods
# and between DPDK ports (its counters move, agree with `stats`, and are well-formed text),
# the same counters through DPDK telemetry (dpdk-telemetry.py), wrong paths and methods,
# and a bad or busy metrics address refused at start.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pods.sh"

N=3000
M=2000
pcap gen "$T/in.pcap" $N --flows 50 --size 100
pcap gen "$T/in2.pcap" $M --flows 10 --size 200 --src-mac 02:00:00:00:00:07
pcap gen "$T/src.pcap" 100 --flows 5 --size 64 --src-mac 02:00:00:00:00:05

write_config "$T/sw.json" '"metrics": {"listen": "127.0.0.1:0"},
  "ports": [
    {"name": "in",  "type": "dpdk", "devargs": "net_pcap0,rx_pcap='"$T"'/in.pcap", "output": "out"},
    {"name": "out", "type": "dpdk", "devargs": "net_null0,no-rx=1"}
  ]'
start_switch "$T/sw.json"
MURL="http://$(jget .metrics info)/metrics"
scrape() { curl -sf "$MURL"; }
# metric NAME LABELS: the value of one sample, e.g. metric podswitch_port_rx_packets_total 'port="in"'
metric() { scrape | awk -v n="$1${2:+{$2\}}" '$1 == n { print $2 }'; }

# --- 1. pmd perf on a known load: N packets through the L2 path, each decided once.
wait_until 20 '[ "$(jget .stats.tx_packets port show out)" = $N ]' || fail "out sent $(jget .stats.tx_packets port show out) of $N"
ctlj pmd perf >"$T/perf1.json"
jq -e --argjson n $N '.pmds[0] | .packets == $n and .lookups.total == $n and
	.lookups.emc + .lookups.l2_memo + .lookups.classifier + .lookups.none == $n and
	.lookups.none == 0 and .lookups.classifier >= 1 and .lookups.l2_memo > 0' "$T/perf1.json" >/dev/null \
	|| fail "pmd perf after $N packets: $(jq -c '.pmds[0] | {packets, lookups}' "$T/perf1.json")"
jq -e --argjson n $N '.pmds[0] | (.rx_burst_sizes as $h | [range(0; $h | length) | . * $h[.]] | add) == $n
	and .rx_bursts == ([.rx_burst_sizes[]] | add) and .busy_iterations > 0 and
	.busy_iterations <= .rx_bursts and .packets_per_busy_iteration > 1 and
	.cycles_per_packet > 0' "$T/perf1.json" >/dev/null \
	|| fail "pmd perf bursts: $(jq -c '.pmds[0] | del(.lookups)' "$T/perf1.json")"
ctl pmd perf | grep -q "L2 memo hits: *[0-9]" || fail "pmd perf text: $(ctl pmd perf)"
ok "pmd perf: $N packets, $N lookups (memo $(jq .pmds[0].lookups.l2_memo "$T/perf1.json"), classifier $(jq .pmds[0].lookups.classifier "$T/perf1.json")), bursts sum to $N"

# The full path (a rule on IP): M more packets, the exact-match cache and the classifier.
ctl pmd perf --clear >/dev/null
ctl port add out2 --devargs net_null1,no-rx=1 >/dev/null
ctl flow add "priority=10,dl_src=02:00:00:00:00:07,ip,nw_dst=10.0.0.2,actions=output:out2" >/dev/null
ctl port add in2 --devargs "net_pcap1,rx_pcap=$T/in2.pcap" >/dev/null
wait_until 20 '[ "$(jget .stats.tx_packets port show out2)" = $M ]' || fail "out2 sent $(jget .stats.tx_packets port show out2) of $M"
ctlj pmd perf >"$T/perf2.json"
jq -e --argjson n $M '.pmds[0] | .packets == $n and .lookups.total == $n and
	.lookups.emc + .lookups.l2_memo + .lookups.classifier + .lookups.none == $n and
	.lookups.emc > 0 and .lookups.classifier >= 10 and .lookups.l2_memo == 0' "$T/perf2.json" >/dev/null \
	|| fail "pmd perf, full path, $M packets: $(jq -c '.pmds[0] | {packets, lookups}' "$T/perf2.json")"
ok "pmd perf --clear, full path: $M packets = $(jq .pmds[0].lookups.emc "$T/perf2.json") cache hits + $(jq .pmds[0].lookups.classifier "$T/perf2.json") classifier lookups"

# --- 2. /metrics agrees with stats (no clear yet: both count from the start).
scrape >"$T/m1.txt" || fail "GET $MURL"
"$PY" - "$T/m1.txt" <<'PY' || fail "the /metrics page is not valid Prometheus text"
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
need = ["podswitch_port_rx_packets", "podswitch_port_tx_bytes", "podswitch_drops",
        "podswitch_pmd_busy_cycles", "podswitch_pmd_cache_hits", "podswitch_rules",
        "podswitch_network_macs", "podswitch_control_requests", "podswitch_control_errors"]
missing = [n for n in need if n not in fams]
assert not missing, missing
assert fams["podswitch_port_rx_packets"].type == "counter"
assert fams["podswitch_rules"].type == "gauge"
PY
ctlj stats >"$T/s1.json"
for p in in out in2 out2; do
	for k in rx_packets rx_bytes tx_packets tx_bytes; do
		want=$(jq -r --arg p $p --arg k $k '.ports[] | select(.name == $p) | .[$k]' "$T/s1.json")
		got=$(awk -v n="podswitch_port_${k}_total{port=\"$p\"}" '$1 == n { print $2 }' "$T/m1.txt")
		[ "$got" = "$want" ] || fail "metrics $k of $p: $got, stats says $want"
	done
done
[ "$(awk '$1 == "podswitch_port_rx_packets_total{port=\"in\"}" { print $2 }' "$T/m1.txt")" = $N ] || fail "rx of in is not $N"
ok "/metrics: valid Prometheus text; port counters equal stats (in, out, in2, out2)"

# Drops by reason: a port with no output and no rule for it drops every packet as no_rule.
ctl port add lost --devargs "net_pcap2,rx_pcap=$T/src.pcap" >/dev/null
wait_until 10 '[ "$(metric podswitch_drops_total "port=\"lost\",reason=\"no_rule\"")" = 100 ]' \
	|| fail "drops of lost: $(scrape | grep 'port="lost"' | grep -v ' 0$')"
[ "$(jget .stats.drops_by_reason.no_rule port show lost)" = 100 ] || fail "stats no_rule of lost"
ok "podswitch_drops_total{port=\"lost\",reason=\"no_rule\"} = 100 = stats"

# Rules, control requests and errors (table sizes are refreshed every second).
ctl flow add "priority=5,udp,tp_dst=9,actions=drop" >/dev/null
wait_until 5 '[ "$(metric podswitch_rules "")" = 2 ]' || fail "podswitch_rules: $(metric podswitch_rules "")"
ctl port del nosuch 2>/dev/null && fail "port del nosuch"
errs=$(jget .control.errors info)
wait_until 5 '[ "$(metric podswitch_control_errors_total "")" = "$errs" ]' \
	|| fail "control errors: metrics $(metric podswitch_control_errors_total ""), switch.info $errs"
[ "$(metric podswitch_control_requests_total "")" -gt "$errs" ] || fail "control requests"
ok "rules, control-socket requests and errors"

# --- 3. Two kernel pods in a network, pinging, while a DPDK port floods a sink.
ctl network add n1 >/dev/null
IFA=m1a$$; IFB=m1b$$
ctl port add ta --type tap --option ifname=$IFA --mac 02:46:00:00:00:0a --network n1 >/dev/null
ctl port add tb --type tap --option ifname=$IFB --mac 02:46:00:00:00:0b --network n1 >/dev/null
ctl flow add "priority=1,in_port=ta,actions=normal" >/dev/null
ctl flow add "priority=1,in_port=tb,actions=normal" >/dev/null
mkns ${NSP}a; mkns ${NSP}b
pod_net() { local ns=$1 dev=$2 ip=$3
	ip link set "$dev" netns "$ns"; ip -n "$ns" link set "$dev" name eth0
	ip -n "$ns" addr add "$ip" dev eth0; ip -n "$ns" link set eth0 up; }
pod_net ${NSP}a $IFA 10.46.0.1/24
pod_net ${NSP}b $IFB 10.46.0.2/24
ctl port add src --devargs "net_pcap3,rx_pcap=$T/src.pcap,infinite_rx=1" --output out >/dev/null
ip netns exec ${NSP}a ping -c 20 -i 0.1 -W 2 10.46.0.2 >"$T/ping" &
PING=$!
sleep 0.5
before=$(jget .stats.rx_packets port show src)
m_src=$(metric podswitch_port_rx_packets_total 'port="src"')
m_ta=$(metric podswitch_port_rx_packets_total 'port="ta"')
after=$(jget .stats.rx_packets port show src)
[ "$before" -le "$m_src" ] && [ "$m_src" -le "$after" ] || fail "src rx: stats $before, metrics $m_src, stats $after"
sleep 0.5
m_src2=$(metric podswitch_port_rx_packets_total 'port="src"')
m_ta2=$(metric podswitch_port_rx_packets_total 'port="ta"')
[ "$m_src2" -gt "$m_src" ] || fail "src rx did not move: $m_src -> $m_src2"
[ "$m_ta2" -gt "$m_ta" ] || fail "pod a's rx did not move: $m_ta -> $m_ta2"
wait $PING || fail "ping through the switch: $(cat "$T/ping")"
wait_until 5 '[ "$(metric podswitch_network_macs "network=\"n1\"")" = 2 ]' \
	|| fail "podswitch_network_macs of n1: $(scrape | grep network_macs)"
ok "while traffic flows: src $m_src -> $m_src2 packets (between stats $before and $after), pod a $m_ta -> $m_ta2; n1 has 2 MACs"

# --- 4. DPDK telemetry: the same counters.
tel() { echo "$1" | dpdk-telemetry.py --file-prefix "$PREFIX" 2>/dev/null | grep '^{' | jq -c ".[\"${1%%,*}\"]"; }
tel /podswitch/ports | jq -e 'index("in") != null and index("ta") != null' >/dev/null || fail "/podswitch/ports: $(tel /podswitch/ports)"
[ "$(tel /podswitch/port,in | jq .rx_packets)" = $N ] || fail "/podswitch/port,in: $(tel /podswitch/port,in)"
[ "$(tel /podswitch/port,lost | jq .drops.no_rule)" = 100 ] || fail "/podswitch/port,lost: $(tel /podswitch/port,lost)"
t1=$(tel /podswitch/port,src | jq .rx_packets)
sleep 0.3
t2=$(tel /podswitch/port,src | jq .rx_packets)
[ "$t2" -gt "$t1" ] || fail "telemetry rx of src did not move: $t1 -> $t2"
tel /podswitch/pmds | jq -e '.pmd0.packets > 0 and .pmd0.busy_cycles > 0' >/dev/null || fail "/podswitch/pmds: $(tel /podswitch/pmds)"
[ "$(tel /podswitch/networks | jq .n1)" = 2 ] || fail "/podswitch/networks: $(tel /podswitch/networks)"
[ "$(tel /podswitch/info | jq .rules)" = 4 ] || fail "/podswitch/info: $(tel /podswitch/info)"
[ "$(tel /podswitch/drops | jq .no_rule)" -ge 100 ] || fail "/podswitch/drops: $(tel /podswitch/drops)"
[ "$(tel /podswitch/port,nosuch)" = null ] || fail "/podswitch/port,nosuch answered: $(tel /podswitch/port,nosuch)"
ok "dpdk-telemetry.py: /podswitch/ports, port,NAME, pmds, networks, info, drops agree"

# --- 5. Wrong paths and methods; a port removed leaves the page.
[ "$(curl -s -o /dev/null -w '%{http_code}' "${MURL%/metrics}/nope")" = 404 ] || fail "GET /nope is not 404"
[ "$(curl -s -o /dev/null -w '%{http_code}' "${MURL%/metrics}/")" = 404 ] || fail "GET / is not 404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$MURL")" = 405 ] || fail "POST /metrics is not 405"
ctl port del lost >/dev/null
scrape | grep -q 'port="lost"' && fail "a removed port is still on the page"
ok "404 for other paths, 405 for POST; a removed port leaves the page"

# --- 6. Bad and busy addresses are refused at start, naming the key.
write_config "$T/bad.json" '"metrics": {"listen": "localhost:x"}'
"$PODSWITCHD" --config "$T/bad.json" --check-config >"$T/bad.log" 2>&1 && fail "bad metrics.listen accepted"
grep -q 'metrics.listen: "localhost:x" is not ADDRESS:PORT' "$T/bad.log" || fail "bad address message: $(cat "$T/bad.log")"
write_config "$T/busy.json" "\"metrics\": {\"listen\": \"$(jget .metrics info)\"}"
sed -i "s/\"file_prefix\": \"$PREFIX\"/\"file_prefix\": \"${PREFIX}b\"/; s|$SOCK|$T/b.sock|" "$T/busy.json"
on_exit "rm -rf /var/run/dpdk/${PREFIX}b"
"$PODSWITCHD" --config "$T/busy.json" >"$T/busy.log" 2>&1 && fail "second instance on a busy metrics address started"
grep -q 'metrics.listen: cannot listen on' "$T/busy.log" || fail "busy address message: $(tail -3 "$T/busy.log")"
ok "metrics.listen: a bad address and a busy one refused with messages naming the key"

ctl port del ta >/dev/null; ctl port del tb >/dev/null
stop_switch
ok "clean stop with the metrics endpoint on"
