#!/usr/bin/env bash
# Issue 2: a port of type dpdk takes any DPDK device by devargs. Three kernel hosts in
# network namespaces reach each other through podswitchd's learning switch over three
# kinds of device: net_af_packet on a veth, net_tap moved into a namespace, and
# net_af_xdp on a veth.
source "$(dirname "$0")/lib.sh"

NS1=psw-dev1-$$ NS2=psw-dev2-$$ NS3=psw-dev3-$$
V1=pswv1-$$ V3=pswv3-$$ TAP=pswt-$$
on_exit "ip netns del $NS1; ip netns del $NS2; ip netns del $NS3; ip link del ${V1}a; ip link del ${V3}a"

ip netns add $NS1; ip netns add $NS2; ip netns add $NS3
# ns1 <-> af_packet: a veth whose host end the switch opens as a packet socket.
ip link add ${V1}a type veth peer name ${V1}b
ip link set ${V1}b netns $NS1
ip link set ${V1}a up
ip -n $NS1 addr add 10.77.0.1/24 dev ${V1}b
ip -n $NS1 link set ${V1}b up
# ns3 <-> af_xdp: the same with an XDP socket (needs one combined queue on the veth).
ip link add ${V3}a numrxqueues 1 numtxqueues 1 type veth peer name ${V3}b numrxqueues 1 numtxqueues 1
ip link set ${V3}b netns $NS3
ip link set ${V3}a up
ip -n $NS3 addr add 10.77.0.3/24 dev ${V3}b
ip -n $NS3 link set ${V3}b up

write_config "$T/sw.json" '"networks": [{"name": "lan"}], "flows": ["priority=0,actions=normal"]'
start_switch "$T/sw.json"
ctl port add afp --devargs "net_af_packet0,iface=${V1}a" --network lan >/dev/null
ctl port add tap --devargs "net_tap0,iface=$TAP" --network lan >/dev/null
ctl port add xdp --devargs "net_af_xdp0,iface=${V3}a,start_queue=0,queue_count=1" --network lan >/dev/null \
	|| fail "af_xdp port: $(ctl port add xdp --devargs "net_af_xdp0,iface=${V3}a" 2>&1)"

# The tap is a kernel netdev made by podswitchd: move it into ns2 and address it there.
ip link set $TAP netns $NS2
ip -n $NS2 addr add 10.77.0.2/24 dev $TAP
ip -n $NS2 link set $TAP up

for d in afp tap xdp; do
	[ "$(jget .driver port show $d)" = "net_${d/afp/af_packet}" ] || [ $d = xdp ] || fail "driver of $d"
done
[ "$(jget .driver port show xdp)" = net_af_xdp ] || fail "driver of xdp: $(jget .driver port show xdp)"

ip netns exec $NS1 ping -c 3 -i 0.2 -W 2 10.77.0.2 >/dev/null || fail "ns1 (af_packet) -> ns2 (tap)"
ok "af_packet <-> tap: ping"
ip netns exec $NS2 ping -c 3 -i 0.2 -W 2 10.77.0.3 >/dev/null || fail "ns2 (tap) -> ns3 (af_xdp)"
ip netns exec $NS3 ping -c 3 -i 0.2 -W 2 10.77.0.1 >/dev/null || fail "ns3 (af_xdp) -> ns1 (af_packet)"
ok "tap <-> af_xdp <-> af_packet: ping"

# The switch learned each host's MAC on its own port; counters moved on all three.
mac_of() { ip -n "$1" -j link show "$2" | jq -r '.[0].address'; }
port_of() { ctlj fdb list | jq -r --arg m "$1" '.entries[] | select(.mac == $m) | .port'; }
[ "$(port_of "$(mac_of $NS1 ${V1}b)")" = afp ] || fail "ns1's MAC not on afp: $(ctlj fdb list)"
[ "$(port_of "$(mac_of $NS2 $TAP)")" = tap ] || fail "ns2's MAC not on tap: $(ctlj fdb list)"
[ "$(port_of "$(mac_of $NS3 ${V3}b)")" = xdp ] || fail "ns3's MAC not on xdp: $(ctlj fdb list)"
for d in afp tap xdp; do
	[ "$(jget .stats.rx_packets port show $d)" -gt 0 ] && [ "$(jget .stats.tx_packets port show $d)" -gt 0 ] \
		|| fail "$d counters: $(jget .stats port show $d)"
done
ok "fdb: each host learned on its own port; every port counted rx and tx"

ctl port del xdp >/dev/null
ip netns exec $NS3 ping -c 1 -W 1 10.77.0.1 >/dev/null 2>&1 && fail "ns3 still reaches ns1 after its port was removed"
ip netns exec $NS1 ping -c 2 -i 0.2 -W 2 10.77.0.2 >/dev/null || fail "ns1 -> ns2 after removing xdp"
ok "removing a port cuts its host off and leaves the others working"
stop_switch
