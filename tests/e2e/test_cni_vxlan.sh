#!/usr/bin/env bash
# Issue 9, the CNI's part: a Multus-style secondary network that spans nodes with nothing
# configured per pod. Two nodes (podswitchd each, an uplink on the underlay bridge) have
# NO network "crossnet"; the network config names its transport (VXLAN VNI 4242, both
# nodes' underlay addresses as peers) and host-local IPAM. The first ADD on each node
# makes the network (two racing ADDs on node 1 both succeed, one network), the pods get
# its MTU and ping each other across the nodes. An ADD naming another VNI for the same
# network fails with error 7 naming "vxlan.vni" and changes nothing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cni_lib.sh"
source "$(dirname "$0")/cluster.sh"

NODES="1 2"
make_underlay
for n in $NODES; do
	start_node "$n" '"flows": ["priority=0,actions=normal"]'
	node_uplink "$n"
	[ "$(njget "$n" '[.networks[] | select(.name == "crossnet")] | length' network list)" = 0 ] \
		|| fail "node $n has crossnet before any ADD"
done

# What Multus hands the plugin for the network (the same on every node but for
# host-local's slice of the subnet: each node's IPAM hands out its own addresses).
# DIR: the socketDir, whose lock file serialises ADDs; two different ones let two ADDs
# race on podswitchd.
conf() {
	local n=$1 vni=$2 dir=${3:-$T/pods-n$n}
	cat <<JSON
{"cniVersion": "1.0.0", "name": "crossnet", "type": "podswitch", "socket": "$T/n$n.sock",
 "network": "crossnet", "socketDir": "$dir",
 "vxlan": {"vni": $vni, "peers": ["$(underlay_ip 1)", "$(underlay_ip 2)"]},
 "ipam": {"type": "host-local", "dataDir": "$T/ipam-n$n",
          "ranges": [[{"subnet": "10.77.0.0/16", "rangeStart": "10.77.$n.10",
                       "rangeEnd": "10.77.$n.50", "gateway": "10.77.$n.1"}]]}}
JSON
}
# add N POD CONFIG: CNI ADD of pod POD (a new netns) on node N, run in the node's
# namespace as its runtime would; the result in $T/POD.json.
add() {
	local n=$1 p=$2 c=$3
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND=ADD CNI_CONTAINERID=ctr-$p \
		CNI_NETNS=/var/run/netns/$NSP$p CNI_IFNAME=net1 CNI_PATH="$CNI_BIN_PATH" \
		CNI_ARGS="$(k8s_args default $p ctr-$p)" \
		ip netns exec "${NODE[$n]}" "$CNI" <"$c" >"$T/$p.json" 2>>"$T/cni.stderr"
}
ip_of() { jq -r '.ips[0].address | split("/")[0]' "$T/$1.json"; }

# --- two ADDs at once on node 1 (different socketDirs: no shared lock) both make crossnet
conf 1 4242 "$T/pods-n1a" >"$T/c1a.json"
conf 1 4242 "$T/pods-n1b" >"$T/c1b.json"
mkns ${NSP}a1; mkns ${NSP}a2; mkns ${NSP}b1; mkns ${NSP}b2
add 1 a1 "$T/c1a.json" & A1=$!
add 1 a2 "$T/c1b.json" & A2=$!
wait $A1 || fail "ADD a1: $(cat "$T/a1.json") $(tail -3 "$T/cni.stderr")"
wait $A2 || fail "ADD a2: $(cat "$T/a2.json") $(tail -3 "$T/cni.stderr")"
conf 2 4242 >"$T/c2.json"
add 2 b1 "$T/c2.json" || fail "ADD b1: $(cat "$T/b1.json") $(tail -3 "$T/cni.stderr")"
for n in $NODES; do
	nctlj "$n" network list | jq -e --arg gw "10.77.$n.1/16" --arg self "$(underlay_ip "$n")" \
		'[.networks[] | select(.name == "crossnet")] | length == 1 and .[0].vxlan == 4242
		 and .[0].mtu == 1450 and .[0].gateway == $gw and (.[0].peers | length) == 2
		 and ([.[0].peer_stats[].peer] == [.[0].peers[] | select(. != $self)])' >/dev/null \
		|| fail "node $n: crossnet: $(nctlj "$n" network list | jq -c '.networks')"
done
[ "$(njget 1 '.networks[] | select(.name == "crossnet") | .ports | length' network list)" = 3 ] \
	|| fail "node 1: crossnet's ports (a1, a2, the peer): $(nctlj 1 network list | jq -c .networks)"
ok "racing ADDs on node 1 and an ADD on node 2 made crossnet once per node: VXLAN 4242, MTU 1450, gateway from IPAM"

# --- the pods: the network's MTU, and they reach each other across the nodes
IPA1=$(ip_of a1) IPA2=$(ip_of a2) IPB1=$(ip_of b1)
for p in a1 a2 b1; do
	[ "$(ip -n $NSP$p -j link show net1 | jq '.[0].mtu')" = 1450 ] \
		|| fail "pod $p: net1 MTU $(ip -n $NSP$p -j link show net1 | jq '.[0].mtu'), not 1450"
done
ip netns exec ${NSP}a1 ping -c 2 -i 0.2 -W 2 "$IPB1" >"$T/ping" || fail "a1 (node 1) -> b1 (node 2): $(cat "$T/ping")"
ip netns exec ${NSP}b1 ping -c 2 -i 0.2 -W 2 "$IPA2" >"$T/ping" || fail "b1 (node 2) -> a2 (node 1): $(cat "$T/ping")"
ip netns exec ${NSP}a2 ping -c 1 -W 2 "$IPA1" >"$T/ping" || fail "a2 -> a1 (node 1): $(cat "$T/ping")"
# A full-size frame fits: 1450 bytes of IP in VXLAN on a 1500-byte underlay.
ip netns exec ${NSP}a1 ping -M do -s 1422 -c 1 -W 2 "$IPB1" >"$T/ping" || fail "a 1450-byte packet a1 -> b1: $(cat "$T/ping")"
ok "pods have MTU 1450; a1, a2 (node 1) and b1 (node 2) ping each other, 1450-byte packets included"

# --- another VNI for the same network: error 7 naming the key; nothing changes
before=$(nctlj 2 network list | jq -c '[.networks[] | {name, vxlan, udp_port, peers, gateway, ports}]')
leases=$(ls "$T/ipam-n2/crossnet")
conf 2 4243 >"$T/c2-conflict.json"
if add 2 b2 "$T/c2-conflict.json"; then fail "ADD with VNI 4243 for crossnet (VNI 4242) succeeded: $(cat "$T/b2.json")"; fi
jq -e '.code == 7 and (.msg | contains("\"vxlan.vni\" is 4243, but podswitchd'"'"'s network \"crossnet\" has VXLAN VNI 4242"))' \
	"$T/b2.json" >/dev/null || fail "the conflicting ADD's error: $(cat "$T/b2.json")"
[ "$(nctlj 2 network list | jq -c '[.networks[] | {name, vxlan, udp_port, peers, gateway, ports}]')" = "$before" ] \
	|| fail "the conflicting ADD changed node 2's networks: $(nctlj 2 network list | jq -c .networks)"
[ "$(ls "$T/ipam-n2/crossnet")" = "$leases" ] || fail "the conflicting ADD changed the leases: $(ls "$T/ipam-n2/crossnet")"
ip -n ${NSP}b2 link show net1 >/dev/null 2>&1 && fail "the conflicting ADD left net1 in pod b2"
ip netns exec ${NSP}b1 ping -c 1 -W 2 "$IPA1" >/dev/null || fail "b1 -> a1 after the conflicting ADD"
ok "an ADD with VNI 4243 fails (7, naming \"vxlan.vni\"); networks, ports, leases and traffic unchanged"

# --- the shipped NAD (config/cni/nad-vxlan.yaml: static IPAM, the pod's address from its
# network annotation, which Multus passes as runtimeConfig.ips) on node 2, with this
# test's peers and paths: the pod joins crossnet and reaches node 1's pods.
nad_config "$SRC/config/cni/nad-vxlan.yaml" | jq --arg s "$T/n2.sock" --arg d "$T/pods-n2" \
	--arg p1 "$(underlay_ip 1)" --arg p2 "$(underlay_ip 2)" \
	'.socket = $s | .socketDir = $d | .vxlan.peers = [$p1, $p2] | .runtimeConfig = {ips: ["10.77.9.2/16"]}' >"$T/nad.json"
add 2 b2 "$T/nad.json" || fail "ADD b2 with nad-vxlan.yaml: $(cat "$T/b2.json")"
jq -e '.ips[0].address == "10.77.9.2/16" and .interfaces[0].mtu == 1450' "$T/b2.json" >/dev/null || fail "b2's result: $(cat "$T/b2.json")"
ip netns exec ${NSP}b2 ping -c 2 -i 0.2 -W 2 "$IPA1" >"$T/ping" || fail "b2 (nad-vxlan.yaml, node 2) -> a1 (node 1): $(cat "$T/ping")"
ok "a pod of config/cni/nad-vxlan.yaml (10.77.9.2 from its annotation) joins crossnet on node 2 and reaches a1 on node 1"

# --- DEL: the pods' ports go, the network stays for the next pod
for x in "1 a1 $T/c1a.json" "1 a2 $T/c1b.json" "2 b1 $T/c2.json" "2 b2 $T/nad.json"; do
	set -- $x
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND=DEL CNI_CONTAINERID=ctr-$2 \
		CNI_NETNS=/var/run/netns/$NSP$2 CNI_IFNAME=net1 CNI_PATH="$CNI_BIN_PATH" \
		ip netns exec "${NODE[$1]}" "$CNI" <"$3" >"$T/del.out" 2>>"$T/cni.stderr" || fail "DEL $2: $(cat "$T/del.out")"
done
for n in $NODES; do
	[ -z "$(nctlj "$n" port list | jq -r '.ports[] | select(.external_ids["cni.container_id"] != null) | .name')" ] \
		|| fail "node $n: CNI ports left: $(nctl "$n" port list)"
done
ok "DEL removes the pods' ports; crossnet stays"
