#!/usr/bin/env bash
# Issue 9: the transports between two nodes and what the uplink must withstand.
# - A VLAN network (802.1Q on the uplink) between two nodes; the same MAC in two networks
#   (VXLAN podnet and VLAN vnet) is two entries and both pods are reached.
# - The wire: frames on the uplink carry the VNI, the outer addresses and a UDP source
#   port that varies with the inner flow; DF is set; tagged frames carry the VLAN id.
# - ARP suppression: pods' addresses given with their ports are answered by the switch;
#   an ARP request for them does not cross nodes.
# - Malformed VXLAN (short, bad flags, unknown VNI, unknown peer) and a flood of ARP
#   requests for the underlay address are dropped and counted by reason; the node keeps
#   forwarding.
# - Transports, peers, the uplink and bindings survive a restart (state file).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster.sh"

NODES="1 2"
make_underlay
for n in $NODES; do
	start_node "$n" '"flows": ["priority=0,actions=normal"], "arp_answer_rate": 200'
	node_uplink "$n"
	nctl "$n" network add podnet --vxlan 100 --peers "$(peers_of "$n" $NODES)" >/dev/null || fail "podnet"
	nctl "$n" network add vnet --vlan 42 >/dev/null || fail "vnet"
done
SAME=02:00:00:00:00:5a
# peer_stat PEER FIELD: node 1's counter FIELD for its podnet peer PEER
peer_stat() { njget 1 ".networks[] | select(.name == \"podnet\") | .peer_stats[] | select(.peer == \"$1\") | .$2" network list; }
# fdb_port N MAC: the ports node N learned MAC on, one per line
fdb_port() { nctlj "$1" fdb list | jq -r --arg m "$2" '.entries[] | select(.mac == $m) | .port'; }
tap_pod 1 a 10.244.0.1/24 $SAME
tap_pod 2 b 10.244.0.2/24 02:00:00:00:00:0b
NET=vnet tap_pod 1 va 10.50.0.1/24 $SAME
NET=vnet tap_pod 2 vb 10.50.0.2/24 02:00:00:00:00:1b
ip netns exec psw-pa-$$ ping -c 2 -i 0.2 -W 2 10.244.0.2 >/dev/null || fail "podnet: a -> b"
ip netns exec psw-pva-$$ ping -c 2 -i 0.2 -W 2 10.50.0.2 >/dev/null || fail "vnet: va -> vb"
ip netns exec psw-pb-$$ ping -c 2 -i 0.2 -W 2 10.244.0.1 >/dev/null || fail "podnet: b -> a"
ip netns exec psw-pvb-$$ ping -c 2 -i 0.2 -W 2 10.50.0.1 >/dev/null || fail "vnet: vb -> va"
[ "$(nctlj 2 fdb list | jq --arg m "$SAME" '[.entries[] | select(.mac == $m)] | length')" = 2 ] \
	|| fail "node 2 should know $SAME twice: $(nctlj 2 fdb list)"
[ "$(fdb_port 2 $SAME | sort | tr '\n' ' ')" = "vlan42 vx100-$(underlay_ip 1) " ] \
	|| fail "node 2's entries for $SAME: $(nctlj 2 fdb list)"
ok "VXLAN podnet and VLAN vnet between two nodes; $SAME in both is two entries, both reached"

# --- the underlay: podswitchd answers ARP, ND and ping for node 1's underlay addresses
nctl 1 uplink set uplink --ip "$(underlay_ip 1)/24" --ip6 fd00:250::1/64 >/dev/null || fail "uplink with ip6"
ip -n $UL addr add 192.168.250.99/24 dev br0
ip -n $UL addr add fd00:250::99/64 dev br0 nodad
ip netns exec $UL ping -c 2 -i 0.2 -W 2 "$(underlay_ip 1)" >"$T/ping" || fail "ping node 1's underlay address: $(cat "$T/ping")"
ip netns exec $UL ping -6 -c 1 -W 2 fd00:250::1 >/dev/null 2>&1 || true   # no IPv6 echo: ND only
MAC1=$(njget 1 .mac port show uplink | tr 'A-F' 'a-f')
ip -n $UL -6 neigh show fd00:250::1 | grep -qi "lladdr $MAC1" || fail "ND for fd00:250::1: $(ip -n $UL -6 neigh show)"
ip -n $UL neigh show "$(underlay_ip 1)" | grep -qi "lladdr $MAC1" || fail "ARP for $(underlay_ip 1): $(ip -n $UL neigh show)"
ok "node 1 answers ARP, ping ($(underlay_ip 1)) and neighbor solicitations (fd00:250::1) on its uplink"

# --- on the wire
ip netns exec $UL timeout 4 tcpdump -n -e -i br0 -w "$T/ul.pcap" "udp port 4789 or vlan" \
	>/dev/null 2>&1 &
TCPD=$!
on_exit "kill $TCPD"
sleep 1
for dport in 1001 1002 1003 1004 1005 1006; do
	ip netns exec psw-pa-$$ bash -c "echo x > /dev/udp/10.244.0.2/$dport" 2>/dev/null
	ip netns exec psw-pva-$$ bash -c "echo x > /dev/udp/10.50.0.2/$dport" 2>/dev/null
done
ip netns exec psw-pa-$$ ping -c 2 -i 0.2 -W 2 10.244.0.2 >/dev/null
wait $TCPD 2>/dev/null || true
# Outer fields only (the first of each), one line per frame.
tshark -r "$T/ul.pcap" -o ip.check_checksum:TRUE -T fields -E occurrence=f -e vxlan.vni \
	-e ip.src -e ip.dst -e udp.srcport -e ip.flags.df -e vlan.id -e ip.checksum.status \
	-Y "vxlan or vlan" >"$T/wire.txt" 2>/dev/null || fail "tshark"
# ip.checksum.status: 1 good, 0 bad (of the outer header, the first occurrence)
! awk -F'\t' '$1 == 100 && $7 != 1' "$T/wire.txt" | grep -q . \
	|| fail "outer IPv4 checksums not good: $(awk -F'\t' '$1 == 100' "$T/wire.txt")"
grep -q "^100	$(underlay_ip 1)	$(underlay_ip 2)	[0-9]*	1" "$T/wire.txt" \
	|| fail "no VXLAN VNI 100 from node 1 to node 2 with DF: $(cat "$T/wire.txt")"
[ "$(awk -F'\t' '$1 == 100 && $2 == "'"$(underlay_ip 1)"'" {print $4}' "$T/wire.txt" | sort -u | wc -l)" -ge 3 ] \
	|| fail "the UDP source port does not follow the inner flow: $(cat "$T/wire.txt")"
awk -F'\t' '$6 == 42' "$T/wire.txt" | grep -q . || fail "no frame tagged with VLAN 42: $(cat "$T/wire.txt")"
ok "on the wire: VXLAN VNI 100 $(underlay_ip 1) -> $(underlay_ip 2) with DF and good checksums, UDP source ports per flow; VLAN 42 tags"

# --- ARP suppression: b's address is given with its port on node 2 (as the CNI plugin
# gives it). Node 1's first request for it crosses once (node 2 answers it itself, and
# node 1 learns the binding from that answer); then node 1 answers alone.
nctl 2 port del b >/dev/null
ip netns del psw-pb-$$
B_NS=psw-pb2-$$
ip netns add $B_NS; on_exit "ip netns del $B_NS"
ip netns exec $B_NS sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
nctl 2 port add b --type tap --option ifname=tb2$$ --network podnet --mac 02:00:00:00:00:0b \
	--pod-mac 02:00:00:00:00:0b --pod-ip 10.244.0.2/24 >/dev/null || fail "port add b with its address"
[ "$(njget 2 .addresses.ips[0] port show b)" = 10.244.0.2/24 ] || fail "port show b: $(nctlj 2 port show b)"
ip -n "${NODE[2]}" link set tb2$$ netns $B_NS
ip -n $B_NS link set tb2$$ name eth0; ip -n $B_NS addr add 10.244.0.2/24 dev eth0; ip -n $B_NS link set eth0 up
peer_tx() { peer_stat "$(underlay_ip 2)" tx_packets; }
ip netns exec psw-pa-$$ ip neigh flush dev eth0
ip netns exec psw-pa-$$ arping -c 1 -w 3 -I eth0 10.244.0.2 >"$T/arping" 2>&1 || fail "first arping: $(cat "$T/arping")"
tx0=$(peer_tx)
ip netns exec psw-pa-$$ arping -b -c 3 -w 3 -I eth0 10.244.0.2 >"$T/arping" 2>&1 || fail "arping: $(cat "$T/arping")"
[ "$(peer_tx)" = "$tx0" ] || fail "ARP requests for b crossed to node 2 ($tx0 -> $(peer_tx) packets to the peer); node 1's bindings: $(nctl 1 network bindings), node 2's: $(nctl 2 network bindings)"
grep -qi "02:00:00:00:00:0b" "$T/arping" || fail "arping got no answer with b's MAC: $(cat "$T/arping")"
ip netns exec psw-pa-$$ ping -c 2 -i 0.2 -W 2 10.244.0.2 >/dev/null || fail "a -> b after suppression"
ok "ARP suppression: node 1 answers for b (learned from node 2's answer) and sends nothing to node 2"

# --- malformed VXLAN and an ARP flood at node 1's uplink, from the underlay
ip netns exec $UL "$PY" - "$MAC1" "$(underlay_ip 1)" "$(underlay_ip 2)" 2>"$T/scapy.err" <<'PY' || fail "scapy: $(cat "$T/scapy.err")"
import sys
from scapy.all import Ether, IP, UDP, ARP, Raw, sendp
mac, node1, node2 = sys.argv[1:4]
inner = Ether(dst="02:00:00:00:00:5a", src="02:00:00:00:00:77") / IP() / UDP() / Raw(b"x" * 18)
def vx(flags, vni, src=node2):
    return (Ether(dst=mac) / IP(src=src, dst=node1, flags="DF") / UDP(sport=5555, dport=4789) /
            Raw(bytes([flags, 0, 0, 0, vni >> 16, (vni >> 8) & 255, vni & 255, 0])) / inner)
pkts = [Ether(bytes(vx(0x08, 100))[: 14 + 20 + 8 + 4])] * 5   # short: 4 bytes of VXLAN header
pkts += [vx(0x00, 100)] * 6                             # I flag clear
pkts += [vx(0x08, 777)] * 7                             # a VNI of no network here
pkts += [vx(0x08, 100, src="192.168.250.99")] * 8       # not a peer of podnet
sendp(pkts, iface="br0", verbose=False)
arp = Ether(dst="ff:ff:ff:ff:ff:ff", src="02:00:00:00:00:99") / ARP(op=1, hwsrc="02:00:00:00:00:99", psrc="192.168.250.99", pdst=node1)
sendp([arp] * 3000, iface="br0", verbose=False)
PY
d() { njget 1 ".stats.drops_by_reason.$1" port show uplink; }
wait_until 5 '[ "$(d tunnel_peer)" -ge 8 ]' || fail "tunnel_peer drops: $(nctlj 1 port show uplink | jq -c .stats)"
[ "$(d tunnel_malformed)" -ge 11 ] && [ "$(d tunnel_vni)" -ge 7 ] && [ "$(d tunnel_peer)" -ge 8 ] \
	|| fail "tunnel drops on the uplink: $(nctlj 1 port show uplink | jq -c .stats.drops_by_reason)"
[ "$(d arp_limit)" -gt 1000 ] || fail "an ARP flood was answered beyond arp_answer_rate: $(nctlj 1 port show uplink | jq -c .stats.drops_by_reason)"
ip netns exec psw-pa-$$ ping -c 2 -i 0.2 -W 2 10.244.0.2 >/dev/null || fail "a -> b after the abuse"
ok "malformed VXLAN counted (short/flags $(d tunnel_malformed), VNI $(d tunnel_vni), peer $(d tunnel_peer)); ARP flood: $(d arp_limit) over the limit dropped; forwarding goes on"

# --- two peers interleaved on the uplink, bad packets between them: each inner frame is
# received on its own peer's port (decap keeps a per-burst template of the last good
# packet's outer headers and groups a burst by peer). podswitchd is stopped while they are
# sent so that they wait in the uplink's ring and arrive in full bursts.
P3=192.168.250.77
nctl 1 network peer add podnet $P3 >/dev/null || fail "peer add $P3"
prx() { peer_stat "$1" rx_packets; }
rx2=$(prx "$(underlay_ip 2)"); rx3=$(prx $P3); mal0=$(d tunnel_malformed)
kill -STOP "${NODE_PID[1]}"
ip netns exec $UL "$PY" - "$MAC1" "$(underlay_ip 1)" "$(underlay_ip 2)" $P3 2>"$T/scapy.err" <<'PY' || { kill -CONT "${NODE_PID[1]}"; fail "scapy: $(cat "$T/scapy.err")"; }
import sys
from scapy.all import Ether, IP, UDP, Raw, sendp
mac, node1, node2, p3 = sys.argv[1:5]
def vx(src, inner_src, flags=0x08):
    inner = Ether(dst="02:00:00:00:00:5a", src=inner_src) / IP(src="10.244.0.99", dst="10.244.0.1") / UDP(dport=9) / Raw(b"x" * 18)
    return (Ether(dst=mac) / IP(src=src, dst=node1, flags="DF") / UDP(sport=5555, dport=4789) /
            Raw(bytes([flags, 0, 0, 0, 0, 0, 100, 0])) / inner)
pkts = []
for i in range(40):
    pkts += [vx(node2, "02:00:00:00:00:c2"), vx(p3, "02:00:00:00:00:c3")]
    if i % 8 == 0:
        pkts += [vx(node2, "02:00:00:00:00:c2", flags=0)]   # I flag clear: malformed
sendp(pkts, iface="br0", verbose=False)
PY
kill -CONT "${NODE_PID[1]}"
wait_until 5 '[ "$(prx $P3)" -ge $((rx3 + 40)) ]' || fail "peer $P3 received $(( $(prx $P3) - rx3 )) of 40"
[ "$(prx $P3)" = $((rx3 + 40)) ] && [ "$(prx "$(underlay_ip 2)")" -ge $((rx2 + 40)) ] \
	|| fail "per-peer rx: $P3 $(( $(prx $P3) - rx3 )) (sent 40), node 2 $(( $(prx "$(underlay_ip 2)") - rx2 )) (sent 40)"
[ "$(d tunnel_malformed)" = $((mal0 + 5)) ] || fail "malformed between good packets: $(( $(d tunnel_malformed) - mal0 )) of 5 counted"
[ "$(fdb_port 1 02:00:00:00:00:c2)" = "vx100-$(underlay_ip 2)" ] && [ "$(fdb_port 1 02:00:00:00:00:c3)" = "vx100-$P3" ] \
	|| fail "inner sources learned on the wrong peer: c2 on $(fdb_port 1 02:00:00:00:00:c2), c3 on $(fdb_port 1 02:00:00:00:00:c3)"
nctl 1 network peer del podnet $P3 >/dev/null || fail "peer del $P3"
ok "two peers interleaved with malformed packets: each peer's frames on its own port (40 + 40, 5 malformed counted)"

# --- trace: the outer headers of a packet to node 2
nctl 1 trace "in_port=a,dl_src=$SAME,dl_dst=02:00:00:00:00:0b,ip,nw_src=10.244.0.1,nw_dst=10.244.0.2" >"$T/trace"
grep -q "outer: .* ip $(underlay_ip 1) > $(underlay_ip 2), udp dst 4789, vxlan vni 100" "$T/trace" \
	|| fail "trace: $(cat "$T/trace")"
ok "trace shows the VXLAN outer headers"

# --- the state file: transports, peers, uplink come back
nets=$(nctlj 1 network list | jq -c '[.networks[] | {name, vxlan, vlan, peers}]')
stop_node 1 KILL
start_node 1
[ "$(nctlj 1 network list | jq -c '[.networks[] | {name, vxlan, vlan, peers}]')" = "$nets" ] \
	|| fail "networks after a restart: $(nctlj 1 network list)"
[ "$(njget 1 .ip uplink show)" = "$(underlay_ip 1)/24" ] || fail "uplink after a restart: $(nctlj 1 uplink show)"
ok "after SIGKILL and a start: transports, peers and the uplink are back"
