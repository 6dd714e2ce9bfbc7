#!/usr/bin/env bash
# Issue 9: three nodes. Three podswitchd instances, each in its own node namespace with an
# uplink (net_af_packet on a veth into an underlay bridge) and the network podnet: VXLAN
# VNI 100 to the other two nodes, and a host port carrying the node's gateway. Two kernel
# pods per node come through the CNI plugin (host-local IPAM, one cluster range with a
# slice per node). Every pod reaches every other pod by its own IP, without NAT; iperf3
# runs between nodes; nodes and their pods reach each other through the host port; a
# DPDK pod (testpmd over vhost-user) on one node answers a kernel pod on another. A peer
# removed stops only its traffic; a node's podswitchd killed with SIGKILL comes back and
# so does the traffic.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pods.sh"
source "$(dirname "$0")/cni_lib.sh"
source "$(dirname "$0")/cluster.sh"

NODES="1 2 3"
make_underlay
# The shipped cluster config (config/cluster/podswitchd.json, one file for every node)
# with each node's own file merged over it (config/cluster/node.json's shape: its
# gateway and underlay address; here also smaller memory for a test machine), and what
# differs per node from the environment: one peer list for every node (a node leaves
# itself out), the uplink device.
ALL=$(underlay_ip 1),$(underlay_ip 2),$(underlay_ip 3)
for n in $NODES; do
	jq --arg gw "10.244.$n.1/16" --arg ip "$(underlay_ip "$n")/24" \
		'(.networks[0].gateway = $gw) | (.uplink.ip = $ip)
		 | . + {eal: {memory_mb: 256}, mbufs: 8192, pmd_idle_sleep_us: 100,
		        socket_dir: "'"$T"'/sockets"}' \
		"$SRC/config/cluster/node.json" >"$T/node-$n.json"
	NODE_ENV[$n]="PODSWITCH_NODES=$ALL PODSWITCH_UPLINK=net_af_packet$n,iface=uplink PODSWITCH_LCORES=0,1 PODSWITCH_EAL_ARG=--no-pci"
	start_node_files "$n" "$SRC/config/cluster/podswitchd.json" "$T/node-$n.json"
	[ "$(nctlj "$n" port list | jq '[.ports[] | select(.type == "vxlan")] | length')" = 2 ] \
		|| fail "node $n: a peer port for itself? $(nctl "$n" port list)"
	[ "$(njget "$n" .ip uplink show)" = "$(underlay_ip "$n")/24" ] || fail "node $n: uplink $(nctlj "$n" uplink show)"
done
[ "$(njget 1 '.networks[0].mtu' network list)" = 1450 ] || fail "podnet's MTU: $(nctlj 1 network list)"
ok "three nodes from config/cluster/: uplinks at $(underlay_ip 1)..$(underlay_ip 3), podnet over VXLAN 100, host ports"

# Two kernel pods per node through the CNI plugin, run in the node's namespace as the
# node's runtime would.
cni_conf() {
	local n=$1
	cat <<JSON
{"cniVersion": "1.0.0", "name": "podnet", "type": "podswitch", "socket": "$T/n$n.sock",
 "network": "podnet", "interface": "tap", "socketDir": "$T/pods-n$n",
 "ipam": {"type": "host-local", "dataDir": "$T/ipam-n$n",
          "ranges": [[{"subnet": "10.244.0.0/16", "rangeStart": "10.244.$n.10",
                       "rangeEnd": "10.244.$n.50", "gateway": "10.244.$n.1"}]],
          "routes": [{"dst": "0.0.0.0/0"}]}}
JSON
}
declare -A POD_IP=() POD_NS=() POD_NODE=()
PODS_ALL=
for n in $NODES; do
	cni_conf "$n" >"$T/cni-n$n.json"
	for k in 1 2; do
		p=p$n$k ns=psw-$p-$$
		mkns "$ns"
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND=ADD CNI_CONTAINERID=ctr-$p \
			CNI_NETNS=/var/run/netns/$ns CNI_IFNAME=eth0 CNI_PATH="$CNI_BIN_PATH" \
			CNI_ARGS="$(k8s_args default $p ctr-$p)" \
			ip netns exec "${NODE[$n]}" "$CNI" <"$T/cni-n$n.json" >"$T/$p.json" 2>>"$T/cni.stderr" \
			|| fail "CNI ADD $p on node $n: $(cat "$T/$p.json") $(tail -3 "$T/cni.stderr")"
		POD_IP[$p]=$(jq -r '.ips[0].address | split("/")[0]' "$T/$p.json")
		POD_NS[$p]=$ns
		POD_NODE[$p]=$n
		PODS_ALL+=" $p"
	done
done
ok "six pods through the CNI plugin:$(for p in $PODS_ALL; do printf ' %s=%s' $p ${POD_IP[$p]}; done)"

# The conflist names no MTU: each pod gets podnet's, the uplink's 1500 less VXLAN's 50.
for p in $PODS_ALL; do
	mtu=$(ip -n "${POD_NS[$p]}" -j link show eth0 | jq '.[0].mtu')
	[ "$mtu" = 1450 ] || fail "pod $p: eth0 has MTU $mtu, not podnet's 1450"
done
ok "every pod's eth0 has podnet's MTU 1450 (from network.list; the conflist names none)"

# --- every pod pings every other pod, by its own IP
for a in $PODS_ALL; do
	for b in $PODS_ALL; do
		[ "$a" = "$b" ] && continue
		ip netns exec "${POD_NS[$a]}" ping -c 1 -W 3 "${POD_IP[$b]}" >"$T/ping" 2>&1 \
			|| ip netns exec "${POD_NS[$a]}" ping -c 2 -i 0.3 -W 3 "${POD_IP[$b]}" >"$T/ping" 2>&1 \
			|| fail "$a (node ${POD_NODE[$a]}) -> $b (node ${POD_NODE[$b]}): $(cat "$T/ping")"
	done
done
ok "all 30 pod pairs ping each other (same node and across nodes)"

# --- the receiver sees the sender's own address: no NAT on the way
ip netns exec "${POD_NS[p21]}" tcpdump -n -i eth0 -c 3 -w "$T/p21.pcap" "icmp and src ${POD_IP[p11]}" \
	>/dev/null 2>&1 &
TCPD=$!
on_exit "kill $TCPD"
sleep 1
ip netns exec "${POD_NS[p11]}" ping -c 3 -i 0.2 -W 2 "${POD_IP[p21]}" >/dev/null || fail "p11 -> p21"
wait_until 5 '! kill -0 $TCPD 2>/dev/null' || fail "tcpdump in p21 saw no ICMP from ${POD_IP[p11]}"
[ "$(tcpdump -n -r "$T/p21.pcap" 2>/dev/null | grep -c "IP ${POD_IP[p11]} > ${POD_IP[p21]}: ICMP echo request")" = 3 ] \
	|| fail "p21's capture: $(tcpdump -n -r "$T/p21.pcap" 2>&1)"
ok "p21 on node 2 receives p11's echo requests from ${POD_IP[p11]} itself"

# --- iperf3 between nodes
ip netns exec "${POD_NS[p31]}" iperf3 -s -1 -p 5201 >"$T/iperf-s.log" 2>&1 &
IPERF=$!
on_exit "kill $IPERF"
sleep 0.5
ip netns exec "${POD_NS[p12]}" iperf3 -c "${POD_IP[p31]}" -p 5201 -t 2 -J >"$T/iperf.json" 2>&1 \
	|| fail "iperf3 p12 -> p31: $(tail -5 "$T/iperf.json")"
bps=$(jq '.end.sum_received.bits_per_second | floor' "$T/iperf.json")
[ "$bps" -gt 10000000 ] || fail "iperf3 across nodes: $bps bit/s"
wait $IPERF 2>/dev/null || true
ok "iperf3 p12 (node 1) -> p31 (node 3) over VXLAN: $((bps / 1000000)) Mbit/s"

# --- nodes and pods through the host port
for n in $NODES; do
	p=p${n}1
	ip netns exec "${NODE[$n]}" ping -c 1 -W 2 "${POD_IP[$p]}" >/dev/null || fail "node $n -> its pod $p"
	ip netns exec "${POD_NS[$p]}" ping -c 1 -W 2 "10.244.$n.1" >/dev/null || fail "pod $p -> its node"
done
ip netns exec "${NODE[1]}" ping -c 1 -W 2 "${POD_IP[p32]}" >/dev/null || fail "node 1 -> pod p32 on node 3"
ok "each node pings its pod through host0 and back; node 1 pings a pod on node 3"

# --- a DPDK pod on node 1 (testpmd icmpecho on vhost-user) answers a kernel pod on node 2
start_pod dpdk "net_virtio_user0,path=$T/dpdk.sock,server=1,queues=1,mac=02:99:00:00:00:01" icmpecho
wait_until 20 test -S "$T/dpdk.sock" || fail "the DPDK pod did not create its socket: $(tail -3 "$T/pod-dpdk.log")"
nctl 1 port add dpdk --type vhost-user --option socket="$T/dpdk.sock" --network podnet >/dev/null \
	|| fail "node 1: vhost-user port"
wait_until 15 '[ "$(njget 1 .link.up port show dpdk)" = true ]' || fail "vhost-user link down"
ip netns exec "${POD_NS[p22]}" ping -c 3 -i 0.3 -W 2 10.244.1.99 >"$T/ping" \
	|| fail "kernel pod p22 (node 2) -> DPDK pod (node 1): $(cat "$T/ping"); $(tail -3 "$T/pod-dpdk.log")"
ok "kernel pod on node 2 pings the DPDK pod (testpmd, vhost-user) on node 1"
# (icmpecho answers every echo request it sees, floods included: it goes before the next
# part, which counts on silence.)
nctl 1 port del dpdk >/dev/null || fail "port del dpdk"
stop_pod dpdk

# --- a peer removed: only its traffic stops; added back: it resumes
nctl 1 network peer del podnet "$(underlay_ip 2)" >/dev/null || fail "peer del"
! ip netns exec "${POD_NS[p11]}" ping -c 2 -i 0.2 -W 1 "${POD_IP[p21]}" >/dev/null 2>&1 \
	|| fail "p11 still reaches p21 after node 1 dropped node 2 as a peer"
ip netns exec "${POD_NS[p11]}" ping -c 2 -i 0.2 -W 2 "${POD_IP[p31]}" >/dev/null || fail "p11 -> p31 without peer 2"
nctl 1 network peer add podnet "$(underlay_ip 2)" >/dev/null || fail "peer add"
wait_until 10 'ip netns exec "${POD_NS[p11]}" ping -c 1 -W 1 "${POD_IP[p21]}" >/dev/null' \
	|| fail "p11 -> p21 after the peer came back"
# Node 2 still had node 1 as a peer: what it sent meanwhile node 1 rightly dropped as
# tunnel_peer. The check at the end is about what follows.
nctl 1 stats --clear >/dev/null
ok "peer 2 removed on node 1: p11 -> p21 stops, p11 -> p31 goes on; added back: resumes"

# --- node 2's podswitchd killed and started again: cross-node traffic resumes by itself
stop_node 2 KILL
start_node_files 2 "$SRC/config/cluster/podswitchd.json" "$T/node-2.json"
wait_until 30 'ip netns exec "${POD_NS[p11]}" ping -c 1 -W 1 "${POD_IP[p21]}" >/dev/null' \
	|| fail "p11 -> p21 after node 2's restart: $(nctl 2 port list 2>&1)"
ip netns exec "${POD_NS[p21]}" ping -c 2 -i 0.2 -W 2 "${POD_IP[p32]}" >/dev/null \
	|| fail "p21 -> p32 after node 2's restart: $(nctl 2 stats 2>&1; nctl 2 neigh list 2>&1; nctl 2 network list 2>&1; nctl 3 stats 2>&1)"
ok "node 2's podswitchd killed (SIGKILL) and restarted: its pods reach the other nodes again"

# --- every node learned every pod's MAC where the pod is: a remote pod behind its own
# node's VXLAN port (a node that answered ARP for a pod elsewhere would put it behind the
# wrong one). After node 2's restart its table is new: p21 asks for p12 by broadcast.
ip netns exec "${POD_NS[p21]}" ip neigh flush all
ip netns exec "${POD_NS[p21]}" ping -c 2 -i 0.2 -W 2 "${POD_IP[p12]}" >/dev/null || fail "p21 -> p12"
for n in $NODES; do
	fdb=$(nctlj "$n" fdb list)
	for p in "${!POD_NS[@]}"; do
		mac=$(ip netns exec "${POD_NS[$p]}" cat /sys/class/net/eth0/address)
		at=$(jq -r --arg m "$mac" '.entries[] | select(.mac == $m) | .port' <<<"$fdb")
		[ -n "$at" ] || continue
		if [ "${POD_NODE[$p]}" = "$n" ]; then
			[[ $at != vx* ]] || fail "node $n learned its own pod $p ($mac) on $at"
		else
			[ "$at" = "vx100-$(underlay_ip "${POD_NODE[$p]}")" ] \
				|| fail "node $n learned $p ($mac, on node ${POD_NODE[$p]}) on $at"
		fi
	done
done
ok "each node learned every pod's MAC on the pod's own node (its port or its node's VXLAN port)"

for n in $NODES; do
	nctlj "$n" stats | jq -e '[.ports[] | .drops_by_reason.tunnel_malformed, .drops_by_reason.tunnel_peer] | all(. == 0)' >/dev/null \
		|| fail "node $n counted tunnel drops: $(nctlj "$n" stats | jq -c '[.ports[] | {name, d: .drops_by_reason}]')"
done
ok "no tunnel packet was dropped as malformed or from an unknown peer"
