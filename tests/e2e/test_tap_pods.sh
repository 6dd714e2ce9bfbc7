#!/usr/bin/env bash
# Issue 4: kernel pods on tap ports. podswitchd makes the tap netdevs (MAC and MTU from
# port.add), the test moves them into two network namespaces as a CNI would: the pods
# ping each other and run iperf3 through the switch. A kernel pod pings a DPDK pod
# (testpmd icmpecho over vhost-user). port.del deletes the netdev inside the pod.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pods.sh"

write_config "$T/sw.json"
start_switch "$T/sw.json"
IFA=t4a$$; IFB=t4b$$; IFC=t4c$$

# --- 1. two kernel pods
ctl port add ta --type tap --option ifname=$IFA --mac 02:44:00:00:00:0a --mtu 1400 >/dev/null || fail "port add ta"
ctl port add tb --type tap --option ifname=$IFB --mac 02:44:00:00:00:0b --mtu 1400 --output ta >/dev/null || fail "port add tb"
ctl port set ta --output tb >/dev/null
ip link show $IFA >/dev/null || fail "no netdev $IFA"
ctl port add tx --type tap --option ifname=$IFA 2>"$T/e1" && fail "second tap with one ifname accepted"
grep -q "options.ifname" "$T/e1" || fail "duplicate ifname message: $(cat "$T/e1")"
mkns ${NSP}a; mkns ${NSP}b
pod_net() { local ns=$1 dev=$2 ip=$3
	ip link set "$dev" netns "$ns"
	ip -n "$ns" link set "$dev" name eth0
	ip -n "$ns" addr add "$ip" dev eth0
	ip -n "$ns" link set eth0 up
}
pod_net ${NSP}a $IFA 10.44.0.1/24
pod_net ${NSP}b $IFB 10.44.0.2/24
ip -n ${NSP}a link show eth0 | grep -q "link/ether 02:44:00:00:00:0a" || fail "MAC of the tap is not port.add's: $(ip -n ${NSP}a link show eth0)"
ip -n ${NSP}a link show eth0 | grep -q "mtu 1400" || fail "MTU of the tap is not port.add's"
ip netns exec ${NSP}a ping -c 3 -i 0.2 -W 2 10.44.0.2 >"$T/ping" || fail "ping pod a -> pod b: $(cat "$T/ping"); ta: $(ctlj port show ta | jq -c .stats)"
ok "taps moved into two pods keep working: ping a -> b"

d0=$(jget .stats.drops port show ta)
ip netns exec ${NSP}b iperf3 -s -1 -p 5201 >"$T/iperf-s.log" 2>&1 &
IPERF=$!
on_exit "kill $IPERF"
sleep 0.5
ip netns exec ${NSP}a iperf3 -c 10.44.0.2 -p 5201 -t 2 -J >"$T/iperf.json" 2>&1 || fail "iperf3: $(tail -5 "$T/iperf.json")"
bps=$(jq '.end.sum_received.bits_per_second | floor' "$T/iperf.json")
[ "$bps" -gt 10000000 ] || fail "iperf3 through the switch: $bps bit/s"
wait $IPERF 2>/dev/null || true
[ "$(jget .stats.drops port show ta)" = "$d0" ] || fail "drops on ta during iperf3: $(ctlj port show ta | jq -c .stats)"
ok "iperf3 a -> b through podswitchd: $((bps / 1000000)) Mbit/s"

# --- 2. a kernel pod pings a DPDK pod (testpmd icmpecho, vhost-user client mode)
start_pod e "net_virtio_user0,path=$T/pe.sock,server=1,queues=1,mac=02:44:00:00:00:0e" icmpecho
wait_until 20 test -S "$T/pe.sock" || fail "pod e did not create its socket: $(tail -3 "$T/pod-e.log")"
ctl port add ve --type vhost-user --option socket="$T/pe.sock" >/dev/null || fail "port add ve"
ctl port add tc --type tap --option ifname=$IFC --output ve >/dev/null || fail "port add tc"
ctl port set ve --output tc >/dev/null
mkns ${NSP}c
pod_net ${NSP}c $IFC 10.44.1.1/24
wait_until 15 port_up ve || fail "ve link not up: $(tail -5 "$T/pod-e.log")"
ip netns exec ${NSP}c ping -c 3 -i 0.3 -W 2 10.44.1.2 >"$T/ping2" || fail "ping kernel pod -> testpmd pod: $(cat "$T/ping2"); $(tail -5 "$T/pod-e.log")"
ip -n ${NSP}c neigh show 10.44.1.2 | grep -qi 02:44:00:00:00:0e || fail "ARP answer is not the DPDK pod's MAC"
ok "kernel pod pings the DPDK pod (testpmd icmpecho) across the switch"

# --- 3. port.del deletes the netdev, wherever it lives now.
ctl port del ta >/dev/null || fail "port del ta"
ip -n ${NSP}a link show eth0 >/dev/null 2>&1 && fail "tap still in pod a after port del"
ctl port del tb >/dev/null; ctl port del tc >/dev/null; ctl port del ve >/dev/null
stop_switch
ok "port del removed the taps from the pods; clean stop"
