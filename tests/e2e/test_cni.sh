#!/usr/bin/env bash
# Issue 5, end to end: the CNI plugin as the kubelet's runtime and Multus run it. Two pods
# (network namespaces) get a tap port each through ADD (host-local IPAM), ping each other
# through podswitchd, pass CHECK, get a second interface on a second network (Multus net1),
# run parallel ADDs, and DEL twice; afterwards no port, lease, file or interface remains.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cni_lib.sh"

write_config "$T/sw.json"
start_switch "$T/sw.json"
net_setup

# The primary network: the example conflist (config/cni/10-podswitch.conflist) as the
# runtime passes its plugin (cniVersion 1.1.0: the plugin talks 1.0.0 to Debian's
# host-local and answers in 1.1.0), pointed at this test's switch, with MTU 1400.
conflist_plugin "$SRC/config/cni/10-podswitch.conflist" | localize | jq '.mtu = 1400' >"$T/net.json"
mkns ${NSP}a; NSA=/var/run/netns/${NSP}a
mkns ${NSP}b; NSB=/var/run/netns/${NSP}b

# 1. ADD two pods.
cni ADD ctr-a "$NSA" eth0 "$T/net.json" "$(k8s_args default pod-a ctr-a)" >"$T/a.json" || fail "ADD a: $(cat "$T/a.json")"
cni ADD ctr-b "$NSB" eth0 "$T/net.json" "$(k8s_args default pod-b ctr-b)" >"$T/b.json" || fail "ADD b: $(cat "$T/b.json")"
jq -e '.cniVersion == "1.1.0" and .interfaces[0].name == "eth0" and .interfaces[0].sandbox == "'"$NSA"'"
       and .interfaces[0].mtu == 1400 and (.ips[0].address | startswith("10.244.1."))
       and .ips[0].interface == 0 and .ips[0].gateway == "10.244.1.1" and (.ips[0] | has("version") | not)
       and .routes[0].dst == "0.0.0.0/0" and .dns.nameservers[0] == "10.96.0.10"' "$T/a.json" >/dev/null \
	|| fail "result of ADD a: $(cat "$T/a.json")"
IPA=$(jq -r '.ips[0].address | split("/")[0]' "$T/a.json")
IPB=$(jq -r '.ips[0].address | split("/")[0]' "$T/b.json")
MACA=$(jq -r '.interfaces[0].mac' "$T/a.json")
[ "$IPA" != "$IPB" ] || fail "both pods got $IPA"
ip -n ${NSP}a -j addr show eth0 | jq -e --arg ip "$IPA" --arg mac "$MACA" \
	'.[0].address == $mac and .[0].mtu == 1400 and (.[0].flags | index("UP")) and ([.[0].addr_info[].local] | index($ip))' >/dev/null \
	|| fail "eth0 in pod a: $(ip -n ${NSP}a addr show eth0)"
ip -n ${NSP}a route show default | grep "via 10.244.1.1 dev eth0" >/dev/null || fail "default route in pod a: $(ip -n ${NSP}a route)"
ok "ADD: two pods with eth0, addresses $IPA and $IPB, MTU 1400, default route"

PA=$(port_of ctr-a eth0); PB=$(port_of ctr-b eth0)
[ -n "$PA" ] && [ -n "$PB" ] || fail "ports of the pods: $(rpc port.list)"
rpc port.get "{\"name\": \"$PA\"}" | jq -e '.type == "tap" and .external_ids["k8s.pod"] == "default/pod-a"
	and .external_ids["cni.container_id"] == "ctr-a" and .external_ids["cni.ifname"] == "eth0"
	and .external_ids["k8s.infra_container_id"] == "ctr-a"' >/dev/null || fail "identity of $PA: $(rpc port.get "{\"name\": \"$PA\"}")"
ctl port list | grep "^$PA " | grep "k8s.pod=default/pod-a" >/dev/null || fail "podswitchctl port list does not show whose $PA is: $(ctl port list)"
if [ -n "$NETWORK" ]; then
	[ "$(rpc port.get "{\"name\": \"$PA\"}" | jq -r .network)" = "$NETWORK" ] || fail "$PA is not in network $NETWORK"
fi
ok "ports $PA, $PB carry container id, ifname, namespace/pod${NETWORK:+, joined network $NETWORK}"

# The pod's addresses are registered with its port (ARP suppression, anti-spoofing
# later): `podswitchctl port show` lists the pod's IP and the MAC its eth0 has.
MACB=$(jq -r '.interfaces[0].mac' "$T/b.json")
[ "$(ip netns exec ${NSP}b cat /sys/class/net/eth0/address)" = "$MACB" ] || fail "pod b's eth0 does not have the MAC of the result ($MACB)"
for x in "$PA $IPA $MACA" "$PB $IPB $MACB"; do
	set -- $x
	ctl port show "$1" | grep -E "^ *addresses: *mac=$3,ips=$2/24$" >/dev/null \
		|| fail "podswitchctl port show $1 does not list $2 and $3: $(ctl port show "$1" | grep -i addr)"
done
ok "port show lists each pod's address and MAC ($IPA $MACA, $IPB $MACB)"

# 2. Traffic between the pods through podswitchd.
connect_pods "$PA" "$PB"
ip netns exec ${NSP}a ping -c 3 -i 0.2 -W 2 "$IPB" >"$T/ping1" || fail "ping a -> b: $(cat "$T/ping1")"
ip netns exec ${NSP}b ping -c 3 -i 0.2 -W 2 "$IPA" >"$T/ping2" || fail "ping b -> a: $(cat "$T/ping2")"
# What `podswitchctl port show` tells a user: each pod's port received what the pod sent
# (3 echo requests and 3 replies, plus ARP) and sent it what the other pod sent.
counted() { rpc port.get "{\"name\": \"$1\"}" | jq -e '.stats.rx_packets >= 6 and .stats.tx_packets >= 6' >/dev/null; }
wait_until 5 counted "$PA" && wait_until 5 counted "$PB" \
	|| fail "port counters do not show the pings: $PA $(rpc port.get "{\"name\": \"$PA\"}" | jq -c .stats), $PB $(rpc port.get "{\"name\": \"$PB\"}" | jq -c .stats)"
ok "ping a <-> b through podswitchd${NETWORK:+ (network $NETWORK)}; both ports count >= 6 packets each way"

# 2b. ARP suppression: podswitchd answers pod a's ARP request for pod b from pod b's
# registered addresses (network bindings); the request never reaches pod b.
ctlj network bindings "$NETWORK" | jq -e --arg a "$IPA" --arg ma "$MACA" --arg b "$IPB" --arg mb "$MACB" --arg pa "$PA" --arg pb "$PB" \
	'[.bindings[] | select(.learned == false) | "\(.ip) \(.mac) \(.port)"] | sort == (["\($a) \($ma) \($pa)", "\($b) \($mb) \($pb)"] | sort)' >/dev/null \
	|| fail "network bindings $NETWORK: $(ctl network bindings "$NETWORK")"
ip netns exec ${NSP}b tcpdump -n -l -i eth0 arp >"$T/arp-b.txt" 2>/dev/null &
TCPD=$!
on_exit "kill $TCPD"
sleep 1
ip -n ${NSP}a neigh flush dev eth0
# -b: every request broadcast (arping sends its later ones unicast to the MAC it learned,
# and a unicast request goes to the pod like any unicast frame).
ip netns exec ${NSP}a arping -b -c 2 -w 3 -I eth0 "$IPB" >"$T/arping" 2>&1 || fail "pod a's ARP request for $IPB got no reply: $(cat "$T/arping")"
grep -qi "$MACB" "$T/arping" || fail "the ARP reply does not carry pod b's MAC $MACB: $(cat "$T/arping")"
# A request for an address no pod registered still floods: pod b's capture works.
ip netns exec ${NSP}a arping -c 1 -w 1 -I eth0 10.244.1.250 >/dev/null 2>&1 || true
wait_until 5 'grep -q "who-has 10.244.1.250 .*tell $IPA" "$T/arp-b.txt"' || fail "pod b saw no flooded ARP request: $(cat "$T/arp-b.txt")"
kill $TCPD; wait $TCPD 2>/dev/null || true
! grep -q "who-has $IPB .*tell $IPA" "$T/arp-b.txt" || fail "pod a's ARP request reached pod b: $(cat "$T/arp-b.txt")"
ok "ARP suppression: pod a's ARP request for $IPB answered with $MACB by podswitchd; pod b saw no request (one for an unknown address reached it)"

# 3. CHECK with the prevResult of ADD passes; a prevResult with an address the pod does
# not have fails with a CNI error.
with_prev "$T/net.json" "$T/a.json" "$T/check-a.json"
cni CHECK ctr-a "$NSA" eth0 "$T/check-a.json" "$(k8s_args default pod-a ctr-a)" >"$T/out" || fail "CHECK a: $(cat "$T/out")"
jq '.ips[0].address = "10.244.1.250/24"' "$T/a.json" >"$T/bad-prev.json"
with_prev "$T/net.json" "$T/bad-prev.json" "$T/check-bad.json"
if cni CHECK ctr-a "$NSA" eth0 "$T/check-bad.json" >"$T/out"; then fail "CHECK with a wrong address passed"; fi
jq -e '.code == 102 and (.msg | contains("10.244.1.250/24"))' "$T/out" >/dev/null || fail "CHECK error: $(cat "$T/out")"
ok "CHECK passes for the pod as added, fails (code 102) for an address it lacks"

# 3b. A second ADD for an attachment that exists (same container id and ifname) is an
# error (CNI spec), and its failure must not undo the first ADD: pod a keeps its port,
# eth0 with its address, and its host-local lease (the lease file names ctr-a); CHECK
# still passes; traffic still flows.
lease_a=$IPAM/podswitch/$IPA
[ -f "$lease_a" ] || fail "no lease file $lease_a: $(ipam_leases)"
if cni ADD ctr-a "$NSA" eth0 "$T/net.json" "$(k8s_args default pod-a ctr-a)" >"$T/dup.json"; then
	fail "a second ADD for ctr-a/eth0 succeeded: $(cat "$T/dup.json")"
fi
jq -e '.code == 103 and (.msg | contains("ctr-a")) and (.msg | contains("eth0"))' "$T/dup.json" >/dev/null \
	|| fail "duplicate ADD error: $(cat "$T/dup.json")"
[ "$(port_of ctr-a eth0)" = "$PA" ] || fail "duplicate ADD removed port $PA: $(cni_ports)"
[ -f "$lease_a" ] && grep -q '^ctr-a' "$lease_a" || fail "duplicate ADD released pod a's lease $IPA: $(ipam_leases)"
ip -n ${NSP}a addr show eth0 | grep "inet $IPA/" >/dev/null || fail "eth0 of pod a lost $IPA: $(ip -n ${NSP}a addr)"
cni CHECK ctr-a "$NSA" eth0 "$T/check-a.json" "$(k8s_args default pod-a ctr-a)" >"$T/out" || fail "CHECK a after the duplicate ADD: $(cat "$T/out")"
ip netns exec ${NSP}b ping -c 1 -W 2 "$IPA" >"$T/ping3" || fail "ping b -> a after the duplicate ADD: $(cat "$T/ping3")"
# host-local must not hand the address to anyone else: in a pool of exactly pod a's
# address, the next pod gets nothing (it would get $IPA had the lease been released).
jq --arg ip "$IPA" '.ipam.ranges = [[{subnet: "10.244.1.0/24", rangeStart: $ip, rangeEnd: $ip, gateway: "10.244.1.1"}]]' \
	"$T/net.json" >"$T/net-tight.json"
mkns ${NSP}c; NSC=/var/run/netns/${NSP}c
if cni ADD ctr-c "$NSC" eth0 "$T/net-tight.json" >"$T/c.json"; then
	fail "host-local gave pod c an address from a pool of pod a's only: $(cat "$T/c.json")"
fi
jq -e '.msg | startswith("host-local ADD:")' "$T/c.json" >/dev/null || fail "ADD c in a full pool: $(cat "$T/c.json")"
[ -z "$(port_of ctr-c eth0)" ] || fail "failed ADD c left a port"
ok "a duplicate ADD fails (103) and leaves pod a's port, address, lease, CHECK and traffic intact"

# 4. Multus: a second interface net1 on a second network in pod a; MAC from runtimeConfig.
NET2=
if [ -n "$NETWORK" ]; then
	rpc network.add '{"name": "secondnet"}' >/dev/null || fail "network.add secondnet"
	NET2='"network": "secondnet",'
fi
cat >"$T/net2.json" <<JSON
{"cniVersion": "1.0.0", "name": "secondnet", "type": "podswitch", "socket": "$SOCK",
 $NET2
 "socketDir": "$PODS", "capabilities": {"mac": true},
 "runtimeConfig": {"mac": "02:00:00:aa:bb:01"},
 "ipam": {"type": "static", "addresses": [{"address": "10.98.0.5/24"}]}}
JSON
cni ADD ctr-a "$NSA" net1 "$T/net2.json" "$(k8s_args default pod-a ctr-a)" >"$T/a2.json" || fail "ADD net1: $(cat "$T/a2.json" "$T/net2.json")"
jq -e '.cniVersion == "1.0.0" and .interfaces[0].name == "net1" and .interfaces[0].mac == "02:00:00:aa:bb:01"
       and .ips[0].address == "10.98.0.5/24"' "$T/a2.json" >/dev/null || fail "net1 result: $(cat "$T/a2.json")"
ip -n ${NSP}a -j addr show net1 | jq -e '.[0].address == "02:00:00:aa:bb:01" and .[0].addr_info[0].local == "10.98.0.5"' >/dev/null \
	|| fail "net1 in pod a: $(ip -n ${NSP}a addr show net1)"
ip -n ${NSP}a addr show eth0 | grep "$IPA" >/dev/null || fail "eth0 lost its address"
[ "$(cni_ports | wc -l)" = 3 ] || fail "expected 3 CNI ports: $(cni_ports)"
if [ -n "$NETWORK" ]; then
	[ "$(rpc port.get "{\"name\": \"$(port_of ctr-a net1)\"}" | jq -r .network)" = secondnet ] || fail "net1 is not in secondnet"
fi
ok "pod a holds eth0 (podnet) and net1 (secondnet, static IPAM, runtimeConfig MAC)"

# 5. Parallel ADDs for four more pods (runtimes do that), then parallel DELs.
pids=()
for i in 1 2 3 4; do
	mkns ${NSP}p$i
	cni ADD ctr-p$i /var/run/netns/${NSP}p$i eth0 "$T/net.json" "$(k8s_args default pod-p$i ctr-p$i)" >"$T/p$i.json" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a parallel ADD failed: $(cat "$T"/p*.json)"; done
[ "$(jq -r '.ips[0].address' "$T"/p*.json | sort -u | wc -l)" = 4 ] || fail "parallel ADDs share addresses: $(jq -c .ips "$T"/p*.json)"
[ "$(cni_ports | wc -l)" = 7 ] || fail "expected 7 CNI ports: $(cni_ports)"
pids=()
for i in 1 2 3 4; do
	cni DEL ctr-p$i /var/run/netns/${NSP}p$i eth0 "$T/net.json" "$(k8s_args default pod-p$i ctr-p$i)" >"$T/d$i" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a parallel DEL failed: $(cat "$T"/d*)"; done
[ "$(cni_ports | wc -l)" = 3 ] || fail "after parallel DELs: $(cni_ports)"
ok "4 parallel ADDs: distinct addresses and ports; 4 parallel DELs"

# 6. DEL twice for everything; the second finds nothing and still succeeds.
for round in 1 2; do
	cni DEL ctr-a "$NSA" net1 "$T/net2.json" "$(k8s_args default pod-a ctr-a)" >"$T/out" || fail "DEL net1 ($round): $(cat "$T/out")"
	cni DEL ctr-a "$NSA" eth0 "$T/net.json" "$(k8s_args default pod-a ctr-a)" >"$T/out" || fail "DEL a ($round): $(cat "$T/out")"
	cni DEL ctr-b "$NSB" eth0 "$T/net.json" "$(k8s_args default pod-b ctr-b)" >"$T/out" || fail "DEL b ($round): $(cat "$T/out")"
	[ ! -s "$T/out" ] || fail "DEL printed something: $(cat "$T/out")"
done
[ -z "$(cni_ports)" ] || fail "ports left: $(cni_ports)"
[ -z "$(ipam_leases)" ] || fail "IPAM leases left: $(ipam_leases)"
ip -n ${NSP}a link show eth0 >/dev/null 2>&1 && fail "eth0 left in pod a"
ip -n ${NSP}a link show net1 >/dev/null 2>&1 && fail "net1 left in pod a"
ip -n ${NSP}b link show eth0 >/dev/null 2>&1 && fail "eth0 left in pod b"
ip -o link | grep ' psw[0-9a-f]\{12\}' >/dev/null && fail "a host tap is left: $(ip -o link | grep psw)"
[ -z "$(find "$PODS" -mindepth 1 -not -name '.podswitch-cni.lock')" ] || fail "files left: $(find "$PODS")"
# DEL of a pod whose netns is already gone.
cni DEL ctr-gone /var/run/netns/${NSP}gone eth0 "$T/net.json" >"$T/out" || fail "DEL with a missing netns: $(cat "$T/out")"
cni DEL ctr-gone "" eth0 "$T/net.json" >"$T/out" || fail "DEL without CNI_NETNS: $(cat "$T/out")"
ok "DEL twice: no port, lease, interface or file left; DEL without a netns succeeds"
