#!/usr/bin/env bash
# Issue 12: podswitch under a real container runtime. Debian's containerd (a private
# instance, tests/e2e/containerd_lib.sh) runs containers with `ctr run --cni` from a local
# root filesystem (busybox-static; nothing is pulled); ctr calls the CNI plugins from the
# runtime's directories, /etc/cni/net.d and /opt/cni/bin (the test's own, mounted there
# for ctr alone), which hold what the DaemonSet's installer puts on a node: the
# ConfigMap's conflist (pointed at this test's podswitchd), the podswitch plugin,
# host-local. (Debian's containerd 1.6 refuses cniVersion 1.1.0 results: the ConfigMap and
# config/k8s/multus/ say 1.0.0.)
#  1. Two busybox containers get addresses from podswitch and ping each other; when they
#     end, ctr's DEL leaves nothing: no port, no lease, no pod directory, no container.
#  2. A DPDK container on the vhost-user network: its testpmd starts from the metadata file
#     the CNI plugin wrote (cni/README.md, pod-side contract) and answers a busybox
#     container's ping; when both end, nothing is left.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cni_lib.sh"
source "$(dirname "$0")/containerd_lib.sh"

write_config "$T/sw.json" '"networks": [{"name": "podnet"}, {"name": "dpdknet"}], "flows": ["priority=0,actions=normal"]'
start_switch "$T/sw.json"
mkdir -p "$PODS" "$IPAM" "$T/shared"
containerd_start

# What cni-install puts on a node (tools/cni-install.sh, run as the init container does).
"$PY" -c 'import sys, yaml; sys.stdout.write(yaml.safe_load(open(sys.argv[1]))["data"]["10-podswitch.conflist"])' \
	"$SRC/config/k8s/configmap.yaml" >"$T/cm.conflist"
CNI_BIN_DIR=$CNIBIN CNI_CONF_DIR=$T/net.d CNI_CONF_SRC=$T/cm.conflist \
	PLUGIN_DIR=$BUILD/cni IPAM_DIR=/usr/lib/cni sh "$SRC/tools/cni-install.sh" >"$T/install.log" \
	|| fail "cni-install: $(cat "$T/install.log")"
cp /usr/lib/cni/loopback "$CNIBIN/"
# This test's podswitchd, pod directory and lease directory in the installed conflist.
jq --arg s "$SOCK" --arg d "$PODS" --arg i "$IPAM" '.plugins[0] |= (.socket = $s | .socketDir = $d | .ipam.dataDir = $i)' \
	"$T/net.d/90-podswitch.conflist" >"$T/conflist" && mv "$T/conflist" "$T/net.d/90-podswitch.conflist"
busybox_rootfs "$T/rootfs"
SHARED=type=bind,src=$T/shared,dst=/shared,options=rbind:rw

# 1. Container b writes its address and waits for a's result; a pings b.
ctr_cni "$T/net.d" run --rm --cni --mount "$SHARED" --env PATH=/usr/sbin:/usr/bin:/sbin:/bin --rootfs "$T/rootfs" b \
	sh -c 'ip -4 -o addr show eth0 | awk "{print \$4}" >/shared/b.ip; ip -o link show eth0 >/shared/b.link
	       i=0; while [ ! -e /shared/done ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done' \
	>"$T/ctr-b.log" 2>&1 &
CB=$!
wait_until 30 '[ -s "$T/shared/b.ip" ]' || fail "container b got no address: $(cat "$T/ctr-b.log")"
BIP=$(cut -d/ -f1 "$T/shared/b.ip")
case $BIP in 10.244.1.*) ;; *) fail "b's address $BIP is not from the conflist's 10.244.1.0/24";; esac
[ "$(cni_ports | wc -l)" = 1 ] || fail "ports while b runs: $(ctl port list)"
ctr_cni "$T/net.d" run --rm --cni --mount "$SHARED" --env PATH=/usr/sbin:/usr/bin:/sbin:/bin --rootfs "$T/rootfs" a \
	sh -c "ip -4 -o addr show eth0 | awk '{print \$4}' >/shared/a.ip; ping -c 3 -W 2 $BIP >/shared/a.ping" \
	>"$T/ctr-a.log" 2>&1
rc=$?
touch "$T/shared/done"
wait $CB || fail "container b: exit $?: $(cat "$T/ctr-b.log")"
[ $rc = 0 ] || fail "ping a -> b ($BIP): exit $rc: $(cat "$T/shared/a.ping" "$T/ctr-a.log")"
grep -q '3 packets received' "$T/shared/a.ping" || fail "ping: $(cat "$T/shared/a.ping")"
ok "containerd: containers a ($(cat "$T/shared/a.ip")) and b ($BIP) got addresses from podswitch and ping"

# Both ended: ctr ran DEL. Nothing is left.
left() {
	echo "ports: $(cni_ports | tr '\n' ' ')leases: $(ipam_leases | tr '\n' ' ')pods: $(find "$PODS" -mindepth 1 -not -name '.podswitch-cni.lock' | tr '\n' ' ')containers: $(ctr -a "$CTRD/containerd.sock" containers ls -q | tr '\n' ' ')"
}
[ "$(left)" = "ports: leases: pods: containers: " ] || fail "left after the containers ended: $(left)"
ip -o link | grep -q ' psw[0-9a-f]\{12\}' && fail "a tap is left in the host: $(ip -o link | grep ' psw')"
ok "after the containers ended: no port, lease, pod directory, tap or container"

# 2. A DPDK container on the vhost-user network. Its network config is the vhost-user
# NetworkAttachmentDefinition's, as a conflist; a busybox container joins the same network
# through a tap (same podswitchd network and address pool, as in test_cni_userspace.sh).
mkdir -p "$T/net.d-vhost" "$T/net.d-tap"
nad_config "$SRC/config/k8s/multus/nad-vhost-user.yaml" | localize | jq '.network = "dpdknet"
	| {cniVersion, name, plugins: [del(.cniVersion, .name)]}' >"$T/net.d-vhost/10-dpdknet.conflist"
jq '.plugins[0] |= (del(.vhostUser) | .interface = "tap")' "$T/net.d-vhost/10-dpdknet.conflist" >"$T/net.d-tap/10-dpdknet.conflist"
# The DPDK container's root: busybox, with the node's /usr (dpdk-testpmd, jq) read-only.
mkdir -p "$T/rootfs-dpdk/usr"
cp -a "$T/rootfs/." "$T/rootfs-dpdk/"
rm -rf "$T/rootfs-dpdk/bin"; for d in bin sbin lib lib64; do ln -s usr/$d "$T/rootfs-dpdk/$d"; done
mkdir -p "$T/rootfs-dpdk/run/podswitch" "$T/rootfs-dpdk/etc" "$T/rootfs-dpdk/var/run"
cp /etc/ld.so.cache "$T/rootfs-dpdk/etc/"
# The pod mounts the node's pod directories (ctr cannot mount a directory the CNI makes
# only after the container exists) and takes its own: the one whose metadata names it.
ctr_cni "$T/net.d-vhost" run --rm --cni \
	--mount type=bind,src=/usr,dst=/usr,options=rbind:ro --mount "type=bind,src=$PODS,dst=/run/podswitch,options=rbind:rw" \
	--env PATH=/usr/sbin:/usr/bin:/sbin:/bin --rootfs "$T/rootfs-dpdk" v sh -c 'M=$(grep -l "\"containerId\": *\"default-v\"" /run/podswitch/*/eth0.json)
		D=$(dirname $M); echo "metadata: $M" >&2
		exec dpdk-testpmd --lcores 0@0,1@0 --no-huge -m 128 --no-pci --single-file-segments \
			--vdev "net_virtio_user0,path=$D/$(jq -r .socketFile $M),server=1,queues=$(jq -r .queues $M),mac=$(jq -r .mac $M)" \
			-- --forward-mode=icmpecho --stats-period 1 --nb-cores=1 --total-num-mbufs=4096' \
	>"$T/ctr-v.log" 2>&1 &
CV=$!
link_up() { [ "$(rpc port.get "{\"name\": \"$1\"}" | jq -r '.link.up')" = true ]; }
wait_until 30 '[ -n "$(port_of default-v eth0)" ] || ! kill -0 $CV' && kill -0 $CV || fail "container v: $(cat "$T/ctr-v.log")"
PV=$(port_of default-v eth0)
META=$(rpc port.get "{\"name\": \"$PV\"}" | jq -r '.external_ids["cni.pod_dir"]')/eth0.json
[ -f "$META" ] || fail "no metadata file $META"
wait_until 30 'link_up "$PV" || ! kill -0 $CV' && kill -0 $CV || fail "podswitchd did not connect to the DPDK container's socket: $(tail -5 "$T/ctr-v.log")"
VIP=$(jq -r '.ips[0] | split("/")[0]' "$META")
ctr_cni "$T/net.d-tap" run --rm --cni --mount "$SHARED" --env PATH=/usr/sbin:/usr/bin:/sbin:/bin --rootfs "$T/rootfs" k \
	sh -c "ping -c 3 -W 2 $VIP >/shared/k.ping" >"$T/ctr-k.log" 2>&1 || fail "ping k -> v ($VIP): $(cat "$T/shared/k.ping" "$T/ctr-k.log")"
ok "containerd: the DPDK container's testpmd, started from its metadata file, answers ping ($VIP) over vhost-user"
ctr -a "$CTRD/containerd.sock" tasks kill -s TERM v >/dev/null
wait $CV || true
[ "$(left)" = "ports: leases: pods: containers: " ] || fail "left after the DPDK container ended: $(left)"
ok "after the containers ended: no port, lease, socket, metadata file or container"
