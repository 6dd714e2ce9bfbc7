#!/usr/bin/env bash
# Issue 11, capture: `podswitchctl capture` on a kernel pod's tap port while two pods ping
# (both directions, one direction, a tcpdump filter, Ctrl-C), on a DPDK port at full
# speed, read back with tshark and tcpdump and compared with the traffic sent; traffic
# goes on undisturbed; bad requests are refused naming the field; a capture ends when
# its port is removed.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pods.sh"

pcap gen "$T/src.pcap" 100 --flows 5 --size 128 --src-mac 02:00:00:00:00:05
write_config "$T/sw.json"
start_switch "$T/sw.json"
IFA=c1a$$; IFB=c1b$$
ctl port add ta --type tap --option ifname=$IFA --mac 02:47:00:00:00:0a >/dev/null
ctl port add tb --type tap --option ifname=$IFB --mac 02:47:00:00:00:0b --output ta >/dev/null
ctl port set ta --output tb >/dev/null
mkns ${NSP}a; mkns ${NSP}b
pod_net() { local ns=$1 dev=$2 ip=$3
	ip link set "$dev" netns "$ns"; ip -n "$ns" link set "$dev" name eth0
	ip -n "$ns" addr add "$ip" dev eth0; ip -n "$ns" link set eth0 up; }
pod_net ${NSP}a $IFA 10.47.0.1/24
pod_net ${NSP}b $IFB 10.47.0.2/24
ip netns exec ${NSP}a ping -c 1 -W 2 10.47.0.2 >/dev/null || fail "ping a -> b before any capture"
tsh() { tshark -r "$@" 2>/dev/null; }

# capture_bg NAME ARGS...: podswitchctl capture in the background, its stderr in $T/NAME.err;
# waits until the capture runs.
capture_bg() {
	local name=$1; shift
	local before
	before=$(ctlj capture list | jq '.captures | length')
	ctl capture "$@" >"$T/$name.out" 2>"$T/$name.err" &
	CAP=$!
	wait_until 10 '[ "$(ctlj capture list | jq "[.captures[] | select(.state == \"running\")] | length")" -gt 0 ]' \
		|| fail "capture $name did not start: $(cat "$T/$name.err")"
}

# --- 1. Both directions, a filter, a count: 5 pings = 5 requests in, 5 replies out.
capture_bg both ta --count 10 --filter "icmp and host 10.47.0.2" -w "$T/both.pcapng"
ip netns exec ${NSP}a ping -c 5 -i 0.2 -W 2 10.47.0.2 >"$T/ping1" || fail "ping during capture: $(cat "$T/ping1")"
wait $CAP || fail "capture ended with $?: $(cat "$T/both.err")"
grep -q "^10 packets captured" "$T/both.err" || fail "summary: $(cat "$T/both.err")"
grep -q "ended: count reached" "$T/both.err" || fail "end reason: $(cat "$T/both.err")"
[ "$(tsh "$T/both.pcapng" | wc -l)" = 10 ] || fail "tshark reads $(tsh "$T/both.pcapng" | wc -l) packets"
tsh "$T/both.pcapng" -T fields -e icmp.type -e icmp.seq -e frame.packet_flags_direction >"$T/both.txt"
printf '8\t%s\t0x00000001\n0\t%s\t0x00000002\n' 1 1 2 2 3 3 4 4 5 5 | sort >"$T/want.txt"
sort "$T/both.txt" | diff - "$T/want.txt" >/dev/null \
	|| fail "capture is not the 5 requests in and 5 replies out: $(cat "$T/both.txt")"
tcpdump -nr "$T/both.pcapng" 2>/dev/null | grep -c "ICMP echo request" | grep -qx 5 || fail "tcpdump does not read 5 requests"
tsh "$T/both.pcapng" -T fields -e frame.interface_name | sort -u | grep -qx ta || fail "interface name is not the port's"
grep -q " 0% packet loss" "$T/ping1" || fail "ping lost packets during the capture: $(cat "$T/ping1")"
ok "both directions, filter 'icmp and host 10.47.0.2', --count 10: seq 1..5 in, 1..5 out (tshark, tcpdump); ping undisturbed"

# --- 2. One direction: rx of ta is what pod a sends (requests only).
capture_bg rx ta --direction rx --filter icmp --count 3 -w "$T/rx.pcapng"
ip netns exec ${NSP}a ping -c 3 -i 0.2 -W 2 10.47.0.2 >/dev/null || fail "ping during rx capture"
wait $CAP || fail "rx capture: $(cat "$T/rx.err")"
[ "$(tsh "$T/rx.pcapng" -T fields -e icmp.type -e icmp.seq | tr '\t\n' ' ')" = "8 1 8 2 8 3 " ] \
	|| fail "rx capture: $(tsh "$T/rx.pcapng" -T fields -e icmp.type -e icmp.seq)"
ok "--direction rx: the 3 echo requests only"

# --- 3. A filter that matches nothing, ended by --duration; Ctrl-C; a relative -w path.
ctl capture ta --filter "udp port 9999" --duration 2 -w "$T/none.pcapng" 2>"$T/none.err" &
CAP=$!
ip netns exec ${NSP}a ping -c 3 -i 0.2 -W 2 10.47.0.2 >/dev/null
wait $CAP || fail "duration capture: $(cat "$T/none.err")"
grep -q "^0 packets captured" "$T/none.err" && grep -q "ended: duration reached" "$T/none.err" \
	|| fail "filter 'udp port 9999': $(cat "$T/none.err")"
[ "$(tsh "$T/none.pcapng" | wc -l)" = 0 ] || fail "non-matching capture has packets"
(cd "$T" && exec "$PODSWITCHCTL" --socket "$SOCK" capture ta -w rel.pcapng >"$T/int.out" 2>"$T/int.err") &
CAP=$!
wait_until 10 '[ "$(ctlj capture list | jq "[.captures[] | select(.state == \"running\")] | length")" = 1 ]' || fail "Ctrl-C capture did not start"
ip netns exec ${NSP}a ping -c 4 -i 0.2 -W 2 10.47.0.2 >/dev/null
kill -INT $CAP
wait $CAP || fail "Ctrl-C: podswitchctl exited with $?: $(cat "$T/int.err")"
grep -q "ended: stopped" "$T/int.err" || fail "Ctrl-C summary: $(cat "$T/int.err")"
[ "$(tsh "$T/rel.pcapng" -Y "icmp.type == 8" | wc -l)" -ge 4 ] || fail "Ctrl-C capture lacks the 4 requests: $(tsh "$T/rel.pcapng" | head)"
ok "filter matching nothing ends by --duration with 0 packets; Ctrl-C stops and the file (relative -w) is complete"

# --- 4. A DPDK port at full speed: 100 packets, the pcap's own.
ctl port add sink --devargs net_null0,no-rx=1 >/dev/null
ctl port add src --devargs "net_pcap0,rx_pcap=$T/src.pcap,infinite_rx=1" --output sink >/dev/null
ctl capture src --direction rx --count 100 -w "$T/src.pcapng" 2>"$T/src.err" || fail "capture src: $(cat "$T/src.err")"
[ "$(tsh "$T/src.pcapng" -Y "udp.dstport == 5000 && frame.len == 124 && eth.src == 02:00:00:00:00:05" | wc -l)" = 100 ] \
	|| fail "src capture: $(tsh "$T/src.pcapng" | head -3)"
ok "a net_pcap port at full speed: 100 of its packets, as generated"

# --- 5. Bad requests change nothing; a capture ends when its port goes.
ctl capture nosuch -w "$T/x.pcapng" 2>"$T/e1" && fail "unknown port accepted"
grep -q 'port: no port "nosuch"' "$T/e1" || fail "unknown port message: $(cat "$T/e1")"
ctl capture ta --filter "icmp and and" -w "$T/x.pcapng" 2>"$T/e2" && fail "bad filter accepted"
grep -q 'filter: "icmp and and"' "$T/e2" || fail "bad filter message: $(cat "$T/e2")"
ctl capture ta --direction sideways -w "$T/x.pcapng" 2>"$T/e3" && fail "bad direction accepted"
grep -q 'direction: "sideways"' "$T/e3" || fail "bad direction message: $(cat "$T/e3")"
ctl capture ta -w "$T/nodir/x.pcapng" 2>"$T/e4" && fail "file in a missing directory accepted"
grep -q 'file: cannot create' "$T/e4" || fail "bad file message: $(cat "$T/e4")"
rc=0; ctl capture ta 2>"$T/e5" || rc=$?
[ $rc = 2 ] || fail "capture without -w is not a usage error ($rc): $(cat "$T/e5")"
[ "$(ctlj capture list | jq '[.captures[] | select(.state == "running")] | length')" = 0 ] || fail "a refused capture runs"
capture_bg gone src -w "$T/gone.pcapng"
ctl port del src >/dev/null
wait $CAP && fail "capture of a removed port ended with 0"
grep -q "ended: port removed" "$T/gone.err" || fail "port removed summary: $(cat "$T/gone.err")"
tshark -r "$T/gone.pcapng" >/dev/null 2>&1 || fail "file of the removed port's capture is not readable"
ok "bad port, filter, direction, file refused naming the field; a capture ends when its port is removed"

ctl port del ta >/dev/null; ctl port del tb >/dev/null
stop_switch
ok "clean stop"
