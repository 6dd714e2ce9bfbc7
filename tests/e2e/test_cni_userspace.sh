#!/usr/bin/env bash
# Issue 5: userspace pods through the CNI plugin. A vhost-user pod: ADD writes the
# metadata file (and Multus's device-info file) in the pod's directory; a dpdk-testpmd
# "pod" started only from what the metadata file says (virtio-user server=1 on the socket,
# its MAC) answers ARP and ping (icmpecho) from a kernel pod through podswitchd. A memif
# pod with a socket file and one with an abstract socket inside its netns. CHECK, and DEL
# twice leaves no port, socket, file or directory.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cni_lib.sh"

write_config "$T/sw.json"
start_switch "$T/sw.json"
net_setup
mkns ${NSP}k; NSK=/var/run/netns/${NSP}k
mkns ${NSP}v; NSV=/var/run/netns/${NSP}v
mkns ${NSP}m; NSM=/var/run/netns/${NSP}m
DEVINFO=$T/devinfo

# The vhost-user network is the example NetworkAttachmentDefinition's config (with the
# CNIDeviceInfoFile Multus adds); the kernel pod shares its name and address pool.
nad_config "$SRC/config/cni/nad-vhost-user.yaml" | localize \
	| jq --arg f "$DEVINFO/vpod-net1.json" '.runtimeConfig = {CNIDeviceInfoFile: $f}' >"$T/vhost.json"
jq 'del(.vhostUser) | .interface = "tap"' "$T/vhost.json" >"$T/tap.json"
# 1. ADD: a kernel pod (eth0) and a vhost-user pod (net1, as Multus adds it).
cni ADD ctr-k "$NSK" eth0 "$T/tap.json" "$(k8s_args default kpod ctr-k)" >"$T/k.json" || fail "ADD kernel pod: $(cat "$T/k.json")"
cni ADD ctr-v "$NSV" net1 "$T/vhost.json" "$(k8s_args default vpod ctr-v)" >"$T/v.json" || fail "ADD vhost pod: $(cat "$T/v.json")"
DIR=$PODS/default_vpod
META=$DIR/net1.json
SOCKV=$DIR/net1.sock
jq -e --arg s "$SOCKV" --arg ns "$NSV" '.cniVersion == "1.1.0" and .interfaces[0].name == "net1"
	and .interfaces[0].socketPath == $s and .interfaces[0].sandbox == $ns and (.ips[0].address | startswith("10.56.0."))' \
	"$T/v.json" >/dev/null || fail "vhost ADD result: $(cat "$T/v.json")"
[ -f "$META" ] || fail "no metadata file $META: $(find "$PODS")"
jq -e --arg s "$SOCKV" '.type == "vhost-user" and .mode == "server" and .socketPath == $s and .socketFile == "net1.sock"
	and .ifname == "net1" and (.mac | test("^[0-9a-f:]{17}$")) and (.ips[0] | startswith("10.56.0.")) and .podName == "vpod"' \
	"$META" >/dev/null || fail "metadata: $(cat "$META")"
jq -e --arg s "$SOCKV" '.type == "vhost-user" and .version == "1.1.0" and .["vhost-user"].mode == "server" and .["vhost-user"].path == $s' \
	"$DEVINFO/vpod-net1.json" >/dev/null || fail "device-info: $(cat "$DEVINFO/vpod-net1.json" 2>&1)"
[ ${#SOCKV} -lt 108 ] || fail "socket path is ${#SOCKV} bytes"
ok "vhost-user ADD: socketPath in the result, metadata file and device-info in place"

# 2. CHECK before the pod's application runs: fine (podswitchd waits as client).
with_prev "$T/vhost.json" "$T/v.json" "$T/chk-v.json"
cni CHECK ctr-v "$NSV" net1 "$T/chk-v.json" "$(k8s_args default vpod ctr-v)" >"$T/out" || fail "CHECK vhost pod: $(cat "$T/out")"
ok "CHECK of the vhost-user pod before its application starts"

# podswitchd as vhost-user server: it makes the socket at ADD, the pod connects to it.
jq '.vhostUser.mode = "server" | del(.runtimeConfig)' "$T/vhost.json" >"$T/vhost-srv.json"
cni ADD ctr-s "$NSV" net2 "$T/vhost-srv.json" "$(k8s_args default vpod ctr-s)" >"$T/s.json" || fail "ADD vhost server: $(cat "$T/s.json")"
[ -S "$DIR/net2.sock" ] || fail "podswitchd made no socket $DIR/net2.sock"
jq -e '.mode == "client"' "$DIR/net2.json" >/dev/null || fail "metadata of a server-mode port: $(cat "$DIR/net2.json")"
with_prev "$T/vhost-srv.json" "$T/s.json" "$T/chk-s.json"
cni CHECK ctr-s "$NSV" net2 "$T/chk-s.json" "$(k8s_args default vpod ctr-s)" >"$T/out" || fail "CHECK vhost server: $(cat "$T/out")"
cni DEL ctr-s "$NSV" net2 "$T/vhost-srv.json" "$(k8s_args default vpod ctr-s)" >"$T/out" || fail "DEL vhost server: $(cat "$T/out")"
[ ! -e "$DIR/net2.sock" ] && [ ! -e "$DIR/net2.json" ] || fail "vhost server files left: $(ls "$DIR")"
[ -f "$META" ] || fail "DEL of net2 removed net1's metadata"
ok "vhost-user with podswitchd as server: socket made at ADD, metadata mode client, CHECK, DEL"

# 3. The userspace pod's application: testpmd from the metadata file alone.
VMAC=$(jq -r .mac "$META"); VIP=$(jq -r '.ips[0] | split("/")[0]' "$META")
VQ=$(jq -r .queues "$META")
PV=$(port_of ctr-v net1); PK=$(port_of ctr-k eth0)
connect_pods "$PK" "$PV"
ip netns exec ${NSP}v dpdk-testpmd -l 0,1 -m 256 --no-pci --single-file-segments --file-prefix pswv$$ \
	--vdev "net_virtio_user0,path=$DIR/$(jq -r .socketFile "$META"),server=1,queues=$VQ,mac=$VMAC" \
	-- --forward-mode=icmpecho --stats-period 1 --nb-cores=1 >"$T/testpmd.log" 2>&1 &
TP=$!
on_exit "kill $TP; wait $TP; rm -rf /var/run/dpdk/pswv$$ /dev/hugepages/pswv$$*"
link_up() { [ "$(rpc port.get "{\"name\": \"$1\"}" | jq -r '.link.up')" = true ]; }
wait_until 20 link_up "$PV" \
	|| fail "podswitchd did not connect to the pod's socket: $(rpc port.get "{\"name\": \"$PV\"}") $(tail -5 "$T/testpmd.log")"
ip netns exec ${NSP}k ping -c 3 -i 0.3 -W 2 "$VIP" >"$T/ping" || fail "ping kernel pod -> testpmd pod: $(cat "$T/ping"); $(tail -20 "$T/testpmd.log")"
ip -n ${NSP}k neigh show "$VIP" | grep -i "$VMAC" >/dev/null || fail "ARP for $VIP is not the metadata MAC $VMAC"
ok "testpmd started from the metadata file answers ARP and ping from the kernel pod"
# A second ADD of the running pod's attachment fails and leaves it whole: port, metadata,
# socket, lease, device-info; CHECK passes and the pod still answers.
cp "$META" "$T/meta-before.json"
if cni ADD ctr-v "$NSV" net1 "$T/vhost.json" "$(k8s_args default vpod ctr-v)" >"$T/dup.json"; then fail "duplicate vhost ADD passed: $(cat "$T/dup.json")"; fi
jq -e '.code == 103' "$T/dup.json" >/dev/null || fail "duplicate vhost ADD: $(cat "$T/dup.json")"
cmp -s "$META" "$T/meta-before.json" || fail "duplicate ADD changed the metadata file: $(cat "$META" 2>&1)"
[ -S "$SOCKV" ] && [ -f "$DEVINFO/vpod-net1.json" ] || fail "duplicate ADD removed the socket or device-info: $(find "$PODS" "$DEVINFO")"
[ -f "$IPAM/dpdknet/$VIP" ] || fail "duplicate ADD released $VIP: $(ipam_leases)"
[ "$(port_of ctr-v net1)" = "$PV" ] && link_up "$PV" || fail "duplicate ADD cut port $PV off"
cni CHECK ctr-v "$NSV" net1 "$T/chk-v.json" "$(k8s_args default vpod ctr-v)" >"$T/out" || fail "CHECK after the duplicate ADD: $(cat "$T/out")"
ip netns exec ${NSP}k ping -c 2 -i 0.3 -W 2 "$VIP" >"$T/ping" || fail "ping after the duplicate ADD: $(cat "$T/ping")"
ok "a duplicate ADD of the running vhost-user pod fails (103) and leaves it whole"
kill $TP; wait $TP 2>/dev/null || true

# 4. memif with a socket file (podswitchd listens, the pod connects) and memif with an
# abstract socket inside the pod's netns (nothing to mount).
nad_config "$SRC/config/cni/nad-memif.yaml" | localize \
	| jq '.ipam = {type: "static", addresses: [{address: "10.56.0.200/24"}]}' >"$T/memif-abs.json"
jq '.memif.abstract = false | .cniVersion = "1.0.0" | .ipam = {type: "static", addresses: [{address: "10.56.0.201/24"}]}' \
	"$T/memif-abs.json" >"$T/memif.json"
cni ADD ctr-m "$NSM" net1 "$T/memif.json" "$(k8s_args default mpod ctr-m)" >"$T/m.json" || fail "ADD memif: $(cat "$T/m.json")"
[ -S "$PODS/default_mpod/net1.sock" ] || fail "memif socket not created by podswitchd: $(find "$PODS")"
jq -e '.type == "memif" and .mode == "client" and .memif.role == "slave" and .memif.abstract == false' "$PODS/default_mpod/net1.json" >/dev/null \
	|| fail "memif metadata: $(cat "$PODS/default_mpod/net1.json")"
with_prev "$T/memif.json" "$T/m.json" "$T/chk-m.json"
cni CHECK ctr-m "$NSM" net1 "$T/chk-m.json" "$(k8s_args default mpod ctr-m)" >"$T/out" || fail "CHECK memif: $(cat "$T/out")"
cni ADD ctr-m "$NSM" net2 "$T/memif-abs.json" "$(k8s_args default mpod ctr-m)" >"$T/m2.json" || fail "ADD abstract memif: $(cat "$T/m2.json")"
ABS=$(jq -r .abstractSocket "$PODS/default_mpod/net2.json")
ip netns exec ${NSP}m cat /proc/net/unix | grep "@$ABS" >/dev/null || fail "no abstract socket @$ABS in the pod's netns"
grep -q "@$ABS" /proc/net/unix && fail "abstract socket @$ABS is in the host netns"
jq -e '.interfaces[0] | has("socketPath") | not' "$T/m2.json" >/dev/null || fail "abstract memif result has a socketPath"
ok "memif: socket file served by podswitchd, CHECK; abstract socket @$ABS inside the pod's netns"

# A memif pod's application from its metadata file alone: testpmd as memif client on the
# abstract socket in its own netns, answering ping from the kernel pod.
M2=$PODS/default_mpod/net2.json
MMAC=$(jq -r .mac "$M2"); MIP=$(jq -r '.ips[0] | split("/")[0]' "$M2")
PM=$(port_of ctr-m net2)
[ -n "$NETWORK" ] || { rpc port.set "{\"name\": \"$PK\", \"output\": \"$PM\"}" >/dev/null; rpc port.set "{\"name\": \"$PM\", \"output\": \"$PK\"}" >/dev/null; }
ip netns exec ${NSP}m dpdk-testpmd -l 0,1 -m 256 --no-pci --single-file-segments --file-prefix pswm$$ \
	--vdev "net_memif0,role=client,id=$(jq -r .memif.id "$M2"),socket=$(jq -r .abstractSocket "$M2"),socket-abstract=yes,mac=$MMAC" \
	-- --forward-mode=icmpecho --stats-period 1 --nb-cores=1 >"$T/testpmd-m.log" 2>&1 &
TPM=$!
on_exit "kill $TPM; wait $TPM; rm -rf /var/run/dpdk/pswm$$ /dev/hugepages/pswm$$*"
wait_until 20 link_up "$PM" || fail "memif pod did not connect: $(rpc port.get "{\"name\": \"$PM\"}") $(tail -5 "$T/testpmd-m.log")"
ip netns exec ${NSP}k ping -c 3 -i 0.3 -W 2 "$MIP" >"$T/ping-m" || fail "ping kernel pod -> memif pod: $(cat "$T/ping-m"); $(tail -20 "$T/testpmd-m.log")"
kill $TPM; wait $TPM 2>/dev/null || true
ok "testpmd memif client from the metadata file (abstract socket, no mount) answers ping from the kernel pod"

# 5. DEL twice for all; nothing remains.
for round in 1 2; do
	cni DEL ctr-v "$NSV" net1 "$T/vhost.json" "$(k8s_args default vpod ctr-v)" >"$T/out" || fail "DEL vhost ($round): $(cat "$T/out")"
	cni DEL ctr-k "$NSK" eth0 "$T/tap.json" "$(k8s_args default kpod ctr-k)" >"$T/out" || fail "DEL kernel ($round): $(cat "$T/out")"
	cni DEL ctr-m "$NSM" net1 "$T/memif.json" "$(k8s_args default mpod ctr-m)" >"$T/out" || fail "DEL memif ($round): $(cat "$T/out")"
	cni DEL ctr-m "$NSM" net2 "$T/memif-abs.json" "$(k8s_args default mpod ctr-m)" >"$T/out" || fail "DEL memif abstract ($round): $(cat "$T/out")"
done
[ -z "$(cni_ports)" ] || fail "ports left: $(cni_ports)"
[ -z "$(ipam_leases)" ] || fail "leases left: $(ipam_leases)"
[ -z "$(find "$PODS" -mindepth 1 -not -name '.podswitch-cni.lock')" ] || fail "files left: $(find "$PODS")"
[ ! -e "$DEVINFO/vpod-net1.json" ] || fail "device-info file left"
abs_gone() { ! ip netns exec ${NSP}m cat /proc/net/unix | grep "@$ABS" >/dev/null; }
wait_until 5 abs_gone || fail "abstract socket @$ABS left in the pod netns after DEL (podswitchd memif)"
ok "DEL twice: no port, lease, socket, metadata, device-info or directory left"
