#!/usr/bin/env bash
# Issue 12: the image (`make image`, built here when missing or out of date) under podman,
# as the DaemonSet runs it: host network, the node's hugepages, /run/podswitch and the
# state directory from the host, only the capabilities README.md lists. podswitchd starts
# from the image's config and answers `podswitchctl info` inside the container (the health
# command); the CNI plugin on the host attaches two kernel pods through the container's
# socket with Debian's host-local (one with build/cni/podswitch, one with the static copy
# the image installs on nodes); they ping; a memif listener lands in a pod's netns
# (SYS_ADMIN); DEL leaves nothing; after a restart of the container vhost-user pods
# reconnect (the outage is printed); SIGTERM stops it with exit 0; containerd imports the
# archive and runs it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cni_lib.sh"
source "$(dirname "$0")/podman_lib.sh"
source "$(dirname "$0")/pods.sh"
source "$(dirname "$0")/containerd_lib.sh"

image_build
# The image: small, root with nothing else, podswitchd as entrypoint, the health command.
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
[ "$size" -lt 40000000 ] || fail "image is $size bytes"
podman image inspect "$IMAGE" | jq -e '.[0].Config | .User == "0:0" and .Entrypoint == ["/usr/sbin/podswitchd"]
	and .Labels["io.podswitch.health-cmd"] == "podswitchctl info"' >/dev/null \
	|| fail "image config: $(podman image inspect "$IMAGE" | jq -c '.[0].Config')"
ok "image $IMAGE: $((size / 1000000)) MB, $(($(stat -c %s "$ARCHIVE") / 1000000)) MB oci-archive"

mkdir -p "$T/run" "$T/state" "$T/etc" "$PODS" "$IPAM"
mkns ${NSP}a; mkns ${NSP}b; mkns ${NSP}m
# The image's own config; only the idle back-off is set, as in the other tests (2 shared
# cores), through a file in place of /etc/podswitch (what the ConfigMap does).
podman run --rm --entrypoint cat "$IMAGE" /etc/podswitch/podswitchd.json >"$T/etc/image.json"
cmp -s "$T/etc/image.json" "$SRC/config/podswitchd.json" || fail "the image's config is not config/podswitchd.json"
jq '.pmd_idle_sleep_us = 100' "$T/etc/image.json" >"$T/etc/podswitchd.json"

C=psw-image-$$
on_exit "podman rm -f -t 5 $C; rm -f /dev/hugepages/${PREFIX}map_*"
podman run -d --name "$C" --network host --cap-drop all --cap-add "$CAPS" --device /dev/net/tun \
	-v /dev/hugepages:/dev/hugepages -v "$T/run:/run/podswitch" -v "$T/state:/var/lib/podswitch" \
	-v "$T/etc:/etc/podswitch:ro" -v /var/run/netns:/var/run/netns:rslave -v "$PODS:$PODS" \
	--health-cmd "podswitchctl info" --health-interval disable \
	"$IMAGE" --file-prefix "$PREFIX" >/dev/null || fail "podman run"
SOCK=$T/run/podswitchd.sock
wait_until 30 'podman exec $C podswitchctl info >/dev/null 2>&1' \
	|| fail "podswitchctl info in the container: $(podman logs $C 2>&1 | tail -10)"
podman healthcheck run "$C" >/dev/null || fail "health command: $(podman inspect --format '{{.State.Health}}' $C)"
capeff=$(awk '/^CapEff/ {print $2}' /proc/"$(container_pid $C)"/status)
[ "$capeff" = "$CAPS_MASK" ] || fail "podswitchd's capabilities are $capeff, not $CAPS_MASK ($CAPS)"
[ "$(awk '/^Uid/ {print $2}' /proc/"$(container_pid $C)"/status)" = 0 ] || fail "podswitchd does not run as uid 0"
podman exec "$C" podswitchctl network list | grep -q '^podnet ' || fail "no network podnet in the container"
ok "podswitchd in the container: podswitchctl info and the health check answer, capabilities $CAPS only"

# Kernel pods from the host through the container's socket: the example conflist as the
# runtime passes it. Pod a: the plugin of this build; pod b: the image's static plugin.
NETWORK=podnet
conflist_plugin "$SRC/config/cni/10-podswitch.conflist" | localize >"$T/net.json"
mkdir -p "$T/cni-image"
podman cp "$C:/usr/libexec/cni/podswitch" "$T/cni-image/podswitch" || fail "podman cp of the image's CNI plugin"
! ldd "$T/cni-image/podswitch" >/dev/null 2>&1 || fail "the image's CNI plugin is not static: $(ldd "$T/cni-image/podswitch")"
cni ADD ctr-a /var/run/netns/${NSP}a eth0 "$T/net.json" "$(k8s_args default pod-a ctr-a)" >"$T/a.json" \
	|| fail "ADD a: $(cat "$T/a.json")"
CNI=$T/cni-image/podswitch cni ADD ctr-b /var/run/netns/${NSP}b eth0 "$T/net.json" "$(k8s_args default pod-b ctr-b)" >"$T/b.json" \
	|| fail "ADD b (the image's plugin): $(cat "$T/b.json")"
IPB=$(jq -r '.ips[0].address | split("/")[0]' "$T/b.json")
IPA=$(jq -r '.ips[0].address | split("/")[0]' "$T/a.json")
ip netns exec ${NSP}a ping -c 3 -i 0.2 -W 2 "$IPB" >"$T/ping" || fail "ping a -> b: $(cat "$T/ping")"
ip netns exec ${NSP}b ping -c 3 -i 0.2 -W 2 "$IPA" >"$T/ping" || fail "ping b -> a: $(cat "$T/ping")"
[ "$(podman exec "$C" podswitchctl --json port list | jq '[.ports[] | select(.network == "podnet")] | length')" = 2 ] \
	|| fail "ports in the container: $(podman exec "$C" podswitchctl port list)"
ok "two kernel pods attached through the CNI plugin (host-local $IPA, $IPB) ping each other"

# A memif listener inside a pod's netns: podswitchd enters it (SYS_ADMIN, /var/run/netns).
nad_config "$SRC/config/cni/nad-memif.yaml" | localize | jq '.network = "memifnet"' >"$T/memif.json"
cni ADD ctr-m /var/run/netns/${NSP}m net1 "$T/memif.json" "$(k8s_args default pod-m ctr-m)" >"$T/m.json" \
	|| fail "ADD memif: $(cat "$T/m.json")"
ABS=$(jq -r .abstractSocket "$PODS/default_pod-m/net1.json")
ip netns exec ${NSP}m cat /proc/net/unix | grep -q "@$ABS" || fail "no memif socket @$ABS in the pod's netns"
ok "memif: the container listens on @$ABS inside the pod's netns"

for p in "a ${NSP}a eth0 $T/net.json" "b ${NSP}b eth0 $T/net.json" "m ${NSP}m net1 $T/memif.json"; do
	set -- $p
	cni DEL ctr-$1 /var/run/netns/$2 $3 "$4" "$(k8s_args default pod-$1 ctr-$1)" >"$T/out" || fail "DEL $1: $(cat "$T/out")"
done
[ -z "$(cni_ports)" ] || fail "ports left: $(cni_ports)"
[ -z "$(ipam_leases)" ] || fail "leases left: $(ipam_leases)"
[ -z "$(find "$PODS" -mindepth 1 -not -name '.podswitch-cni.lock')" ] || fail "files left: $(find "$PODS")"
ok "DEL: no port, lease or file left"

# A restart of the container (what a DaemonSet rollout does to a node's podswitchd): the
# state file brings the ports back and vhost-user pods in client mode (the pod owns the
# socket) reconnect by themselves; traffic resumes within seconds (README.md "Upgrade").
start_pod a "net_virtio_user0,path=$PODS/va.sock,server=1,queues=1" txonly --txpkts=64
start_pod b "net_virtio_user0,path=$PODS/vb.sock,server=1,queues=1" rxonly
wait_until 20 test -S "$PODS/va.sock" -a -S "$PODS/vb.sock" || fail "testpmd pods made no sockets"
ctl port add va --type vhost-user --option socket="$PODS/va.sock" --network dpdknet >/dev/null || fail "port add va"
ctl port add vb --type vhost-user --option socket="$PODS/vb.sock" --network dpdknet >/dev/null || fail "port add vb"
ctl flow add "priority=10,in_port=va,actions=output:vb" >/dev/null || fail "flow add"
wait_until 20 '[ "$(jget .stats.tx_packets port show vb)" -gt 0 ]' || fail "no traffic va -> vb"
t0=$(date +%s%N)
podman restart -t 10 "$C" >/dev/null || fail "podman restart"
wait_until 20 '[ "$(jget .stats.tx_packets port show vb 2>/dev/null)" -gt 0 ]' \
	|| fail "no traffic va -> vb after the restart: $(ctl port list 2>&1)"
ms=$((($(date +%s%N) - t0) / 1000000))
pod_alive a && pod_alive b || fail "a pod died in the restart"
ok "container restarted: ports and rule restored from the state file, vhost-user pods reconnected, traffic after $ms ms"
ctl port del va >/dev/null; ctl port del vb >/dev/null
stop_pod a; stop_pod b

podman stop -t 10 "$C" >/dev/null
[ "$(podman inspect --format '{{.State.ExitCode}}' "$C")" = 0 ] || fail "exit code $(podman inspect --format '{{.State.ExitCode}}' "$C"): $(podman logs $C 2>&1 | tail -5)"
[ ! -e "$SOCK" ] || fail "control socket left: $(ls "$T/run")"
podman rm "$C" >/dev/null
ok "podman stop: SIGTERM, exit 0, socket removed"

# The archive as a node's containerd takes it (README.md "Install on a cluster", step 2).
containerd_start
ctr -a "$CTRD/containerd.sock" -n k8s.io images import "$ARCHIVE" >"$T/import.log" 2>&1 || fail "ctr images import: $(cat "$T/import.log")"
ctr -a "$CTRD/containerd.sock" -n k8s.io images ls -q | grep -qx "$IMAGE" \
	|| fail "containerd has no $IMAGE: $(ctr -a "$CTRD/containerd.sock" -n k8s.io images ls -q)"
ctr -a "$CTRD/containerd.sock" -n k8s.io run --rm "$IMAGE" psw-version-$$ podswitchd --version >"$T/version" 2>&1 \
	|| fail "podswitchd --version under containerd: $(cat "$T/version")"
grep -q "podswitchd $VERSION" "$T/version" || fail "version: $(cat "$T/version")"
ok "containerd imports $(basename "$ARCHIVE") as $IMAGE and runs it ($(cat "$T/version"))"
