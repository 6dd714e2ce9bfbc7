#!/usr/bin/env bash
# Issue 12: the Kubernetes manifests (config/k8s/). The ConfigMap carries the very configs
# that make install installs; the DaemonSet runs the image's version with the capabilities
# README.md lists and no API token. Its pod template, read from config/k8s/daemonset.yaml
# at test time (tests/e2e/kube_pod.py: podman 4.3 plays no DaemonSet), runs under
# `podman kube play` with the node's directories in a temp dir: the init container puts
# the CNI plugin, the IPAM plugin the node lacks and the conflist where the runtime looks,
# keeps the node's own host-local and another network's conflist; podswitchd comes up, its
# liveness and readiness commands pass; the runtime's view (the installed conflist and
# plugins, nothing of the build) attaches two pods that ping; stopping the pod ends
# podswitchd with exit 0.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cni_lib.sh"
source "$(dirname "$0")/podman_lib.sh"
K8S=$SRC/config/k8s
yq() { "$PY" -c 'import json, sys, yaml; json.dump(list(yaml.safe_load_all(open(sys.argv[1]))), sys.stdout)' "$1"; }

# 1. The files. The ConfigMap's configs are config/podswitchd.json and the conflist.
for f in "$K8S"/*.yaml "$K8S"/multus/*.yaml; do yq "$f" >/dev/null || fail "$f is not YAML"; done
yq "$K8S/configmap.yaml" | jq -r '.[0].data["podswitchd.json"]' | jq -S . >"$T/cm-switch.json"
cmp -s "$T/cm-switch.json" <(jq -S . "$SRC/config/podswitchd.json") || fail "configmap.yaml's podswitchd.json differs from config/podswitchd.json"
# (The conflist and the NADs at cniVersion 1.0.0, which runtimes before libcni 1.2 take.)
yq "$K8S/configmap.yaml" | jq -j '.[0].data["10-podswitch.conflist"]' >"$T/cm.conflist"
jq -e '.cniVersion == "1.0.0"' "$T/cm.conflist" >/dev/null || fail "configmap.yaml's conflist is not cniVersion 1.0.0"
cmp -s <(jq -S 'del(.cniVersion)' "$T/cm.conflist") <(jq -S 'del(.cniVersion)' "$SRC/config/cni/10-podswitch.conflist") \
	|| fail "configmap.yaml's conflist differs from config/cni/10-podswitch.conflist"
yq "$K8S/daemonset.yaml" >"$T/ds.json"
jq -e --arg img "$IMAGE" --arg caps "$CAPS" '.[0] | .metadata.namespace == "podswitch" and (.spec.template.spec
	| .hostNetwork and .automountServiceAccountToken == false and .serviceAccountName == "podswitch"
	and ([.containers[], .initContainers[]] | all(.image == $img))
	and (.containers[0].securityContext.capabilities | .drop == ["ALL"] and (.add | join(",")) == $caps)
	and (.containers[0].resources | .requests == .limits))' "$T/ds.json" >/dev/null \
	|| fail "daemonset.yaml: namespace, hostNetwork, token, image $IMAGE, capabilities $CAPS, requests = limits"
yq "$K8S/rbac.yaml" | jq -e '[.[] | select(.kind == "Role")][0].rules == [] and
	([.[] | select(.kind == "ServiceAccount")][0].automountServiceAccountToken == false)' >/dev/null \
	|| fail "rbac.yaml grants something or mounts a token"
cmp -s "$K8S/multus/pod-vhost-user.yaml" "$SRC/config/cni/pod-vhost-user.yaml" || fail "multus/pod-vhost-user.yaml is not config/cni's"
for f in nad-vhost-user.yaml nad-memif.yaml nad-vxlan.yaml; do
	nadj() { yq "$1" | jq '.[0] | .spec.config |= (fromjson | del(.cniVersion))'; }
	cmp -s <(nadj "$K8S/multus/$f") <(nadj "$SRC/config/cni/$f") || fail "config/k8s/multus/$f differs from config/cni/$f"
	yq "$K8S/multus/$f" | jq -e '.[0].spec.config | fromjson | .cniVersion == "1.0.0"' >/dev/null || fail "multus/$f: cniVersion"
done
ok "manifests: ConfigMap = config/podswitchd.json + 10-podswitch.conflist, image $IMAGE, capabilities $CAPS, no API access"

image_build

# 2. The node: a host-local of its own (a working one, marked), another network's
# conflist first in name order, no podswitch yet.
H=$T/host
mkdir -p "$H/opt/cni/bin" "$H/etc/cni/net.d" "$T/hugepages"
{ cat /usr/lib/cni/host-local; echo "node's own"; } >"$H/opt/cni/bin/host-local"
chmod 755 "$H/opt/cni/bin/host-local"
cp "$H/opt/cni/bin/host-local" "$T/node-host-local"
echo '{"cniVersion": "1.0.0", "name": "other", "plugins": [{"type": "bridge"}]}' >"$H/etc/cni/net.d/10-other.conflist"
# The pod's hugepages: a hugetlbfs of its own, as the kubelet mounts for medium HugePages.
mount -t hugetlbfs -o pagesize=2M,size=512M nodev "$T/hugepages"
on_exit "umount $T/hugepages"

# 3. The DaemonSet's pod under podman kube play. The pods' namespaces exist first: on a
# fresh machine `ip netns add` makes /run/netns a shared mount only then, and a mount
# made after the play would not reach the container (HostToContainer needs a shared one).
mkns ${NSP}a; mkns ${NSP}b
P=psw-kube-$$
"$PY" "$SRC/tests/e2e/kube_pod.py" "$K8S/daemonset.yaml" "$K8S/configmap.yaml" "$H" "$T/hugepages" "$P" >"$T/play.yaml" \
	|| fail "kube_pod.py"
# podman keeps a ConfigMap's files in a volume named after it: never a stale one.
podman volume rm -f podswitch >/dev/null 2>&1 || true
on_exit "podman pod rm -f -t 5 $P; podman volume rm -f podswitch"
t0=$(date +%s%N)
podman kube play "$T/play.yaml" >"$T/play.log" 2>&1 || fail "podman kube play: $(cat "$T/play.log")"
SOCK=$H/run/podswitch/podswitchd.sock
wait_until 30 'ctl info >/dev/null 2>&1' || fail "podswitchd did not answer on $SOCK: $(podman logs $P-podswitchd 2>&1 | tail -5)"
ms=$((($(date +%s%N) - t0) / 1000000))
ok "podman kube play: the init container ran, podswitchd answers on the node's /run/podswitch $ms ms after the play"
pid=$(container_pid "$P-podswitchd")
[ "$(awk '/^CapEff/ {print $2}' /proc/$pid/status)" = "$CAPS_MASK" ] || fail "capabilities under kube play: $(grep Cap /proc/$pid/status)"
[ "$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$P-podswitchd")" = true ] || fail "root file system is writable"
ok "securityContext: capabilities $CAPS only, read-only root"

# 4. The CNI files where the runtime looks; the node's own files untouched.
cmp -s "$H/opt/cni/bin/host-local" "$T/node-host-local" || fail "the node's host-local was overwritten"
[ -x "$H/opt/cni/bin/static" ] || fail "IPAM static not installed: $(ls -l "$H/opt/cni/bin")"
[ -x "$H/opt/cni/bin/podswitch" ] || fail "no CNI plugin: $(ls -l "$H/opt/cni/bin")"
! ldd "$H/opt/cni/bin/podswitch" >/dev/null 2>&1 || fail "the installed CNI plugin is not static"
echo '{}' | env -i CNI_COMMAND=VERSION "$H/opt/cni/bin/podswitch" | jq -e '.supportedVersions | index("1.1.0")' >/dev/null \
	|| fail "installed CNI plugin VERSION"
cmp -s "$H/etc/cni/net.d/90-podswitch.conflist" "$T/cm.conflist" \
	|| fail "conflist: $(ls "$H/etc/cni/net.d")"
[ "$(cat "$H/etc/cni/net.d/10-other.conflist")" = '{"cniVersion": "1.0.0", "name": "other", "plugins": [{"type": "bridge"}]}' ] \
	|| fail "another network's conflist changed"
[ -z "$(find "$H/opt/cni/bin" "$H/etc/cni/net.d" -name '.*podswitch-tmp')" ] || fail "temporary files left"
ok "CNI: podswitch (static) and static in /opt/cni/bin, 90-podswitch.conflist in /etc/cni/net.d; the node's host-local and 10-other.conflist kept"

# The installer refuses a conflist name that another plugin owns (run on the host: the
# same script, busybox sh in the image).
echo '{"name": "theirs", "type": "bridge"}' >"$T/theirs.conflist"
cp "$T/theirs.conflist" "$H/etc/cni/net.d/00-theirs.conflist"
if CNI_BIN_DIR=$H/opt/cni/bin CNI_CONF_DIR=$H/etc/cni/net.d CNI_CONF_SRC=$T/cm.conflist CNI_CONF_NAME=00-theirs.conflist \
	PLUGIN_DIR=$H/opt/cni/bin IPAM_DIR=/usr/lib/cni sh "$SRC/tools/cni-install.sh" >"$T/refuse.log" 2>&1; then
	fail "cni-install overwrote another plugin's 00-theirs.conflist"
fi
cmp -s "$H/etc/cni/net.d/00-theirs.conflist" "$T/theirs.conflist" || fail "00-theirs.conflist changed"
rm "$H/etc/cni/net.d/00-theirs.conflist"
ok "cni-install refuses to overwrite another plugin's conflist ($(tail -1 "$T/refuse.log"))"

# 5. Liveness (podman's healthcheck is the liveness probe) and readiness, the commands of
# the manifest, in the container.
podman healthcheck run "$P-podswitchd" >/dev/null || fail "liveness probe"
mapfile -t READY < <(jq -r '.[0].spec.template.spec.containers[0].readinessProbe.exec.command[]' "$T/ds.json")
podman exec "$P-podswitchd" "${READY[@]}" || fail "readiness probe ${READY[*]}"
# ... and readiness fails where podswitchd does not answer (the same script, on the host).
if PATH=$BUILD/ctl:$PATH PODSWITCH_SOCKET=$T/none.sock PODSWITCH_CNI=$BUILD/cni/podswitch \
	sh "$SRC/tools/podswitch-ready.sh" >/dev/null 2>&1; then fail "ready without a podswitchd"; fi
ctlj network list | jq -e '[.networks[].name] | sort == ["dpdknet", "memifnet", "podnet"]' >/dev/null \
	|| fail "networks: $(ctl network list)"
ok "liveness (podswitchctl info) and readiness (${READY[*]}: info + CNI STATUS) pass; networks of the ConfigMap"

# 6. As the runtime: the installed conflist's plugin, the installed binaries on CNI_PATH.
CNI=$H/opt/cni/bin/podswitch
CNI_BIN_PATH=$H/opt/cni/bin
NETWORK=podnet
conflist_plugin "$H/etc/cni/net.d/90-podswitch.conflist" | localize >"$T/net.json"
for p in a b; do
	cni ADD ctr-$p /var/run/netns/${NSP}$p eth0 "$T/net.json" "$(k8s_args default pod-$p ctr-$p)" >"$T/$p.json" \
		|| fail "ADD $p: $(cat "$T/$p.json")"
done
IPB=$(jq -r '.ips[0].address | split("/")[0]' "$T/b.json")
ip netns exec ${NSP}a ping -c 3 -i 0.2 -W 2 "$IPB" >"$T/ping" || fail "ping a -> b: $(cat "$T/ping")"
for p in a b; do
	cni DEL ctr-$p /var/run/netns/${NSP}$p eth0 "$T/net.json" "$(k8s_args default pod-$p ctr-$p)" >"$T/out" || fail "DEL $p: $(cat "$T/out")"
done
[ -z "$(cni_ports)" ] && [ -z "$(ipam_leases)" ] || fail "left: $(cni_ports) $(ipam_leases)"
ok "two pods through the installed conflist and plugins ping; DEL leaves no port or lease"

# 7. Stop: SIGTERM to podswitchd, exit 0, socket gone.
podman pod stop -t 10 "$P" >/dev/null 2>&1
[ "$(podman inspect --format '{{.State.ExitCode}}' "$P-podswitchd")" = 0 ] || fail "podswitchd exit code"
[ ! -e "$SOCK" ] || fail "socket left"
podman pod rm "$P" >/dev/null 2>&1
ok "pod stopped: podswitchd exit 0, socket removed"
