#!/usr/bin/env bash
# Issue 10: userspace pods that do not run as root. The network config's socketOwner,
# socketGroup and socketMode give the pod's directory (and podswitchd's sockets) to the
# pod's user; dpdk-testpmd pods running as nobody:nogroup, which see only their own
# directory (bind-mounted as a pod's volume is), create or connect their socket and answer
# a kernel pod's ping through podswitchd: vhost-user (the pod creates the socket: group
# access), memif with a socket file (podswitchd's socket, owned by the pod's user), and
# vhost-user with podswitchd as server. Without the keys the directory stays root's and
# the pod cannot create its socket. CHECK compares the directory with the config; a
# failed ADD puts an existing directory's owner and mode back; DEL leaves nothing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cni_lib.sh"

POD_USER=nobody POD_GROUP=nogroup
id -u $POD_USER >/dev/null && getent group $POD_GROUP >/dev/null || fail "no user $POD_USER or group $POD_GROUP"

write_config "$T/sw.json"
start_switch "$T/sw.json"
net_setup
mkns ${NSP}k; NSK=/var/run/netns/${NSP}k
mkns ${NSP}v; NSV=/var/run/netns/${NSP}v
mkns ${NSP}m; NSM=/var/run/netns/${NSP}m

# as_pod NETNS_NAME DIR CMD...: CMD in the pod's netns as $POD_USER:$POD_GROUP (no other
# groups, no capabilities), in a private mount namespace where only the pod's directory
# DIR is visible, at /mnt/podswitch (as the pod spec mounts it), and DPDK's runtime
# directory is a tmpfs the pod owns. Nothing of it shows on the host.
as_pod() {
	local ns=$1 dir=$2; shift 2
	ip netns exec "$ns" sh -c '
		mount -t tmpfs -o mode=0755 psw-pod /mnt && mkdir /mnt/podswitch /mnt/run &&
		chown '$POD_USER:$POD_GROUP' /mnt/run && mount --bind "$0" /mnt/podswitch || exit 99
		XDG_RUNTIME_DIR=/mnt/run exec setpriv --reuid='$POD_USER' --regid='$POD_GROUP' \
			--clear-groups --inh-caps=-all --bounding-set=-all "$@"' "$dir" "$@"
}

# pod_testpmd NAME NETNS_NAME DIR VDEV: an icmpecho testpmd pod as $POD_USER, in the background.
declare -A TP=()
pod_testpmd() {
	local name=$1 ns=$2 dir=$3 vdev=$4
	as_pod "$ns" "$dir" dpdk-testpmd --lcores 0@0,1@0 -m 128 --no-huge --no-pci \
		--single-file-segments --file-prefix "pswu$name$$" --vdev "$vdev" -- \
		--forward-mode=icmpecho --stats-period 1 --nb-cores=1 --total-num-mbufs=4096 \
		>"$T/testpmd-$name.log" 2>&1 &
	TP[$name]=$!
	on_exit "stop_testpmd $name"
}
# $! is the subshell that runs as_pod, not testpmd: stop testpmd by its file prefix (it
# was left running, as nobody, after the test).
stop_testpmd() {
	pkill -f "file-prefix pswu$1$$ " 2>/dev/null || true
	wait "${TP[$1]}" 2>/dev/null || true
	# [p]: the pattern must not match the command line of the sh that runs pgrep.
	wait_until 10 sh -c "! pgrep -f 'file-prefix [p]swu$1$$ ' >/dev/null"
}
link_up() { [ "$(rpc port.get "{\"name\": \"$1\"}" | jq -r '.link.up')" = true ]; }
owner_mode() { stat -c '%U:%G %a' "$1"; }

# The kernel pod everybody pings, and the vhost-user network (the example NAD) for pods
# whose group may use their directory.
nad_config "$SRC/config/cni/nad-vhost-user.yaml" | localize >"$T/vhost-root.json"
jq 'del(.vhostUser) | .interface = "tap"' "$T/vhost-root.json" >"$T/tap.json"
jq --arg g $POD_GROUP '. + {socketGroup: $g, socketMode: "0660"}' "$T/vhost-root.json" >"$T/vhost.json"
cni ADD ctr-k "$NSK" eth0 "$T/tap.json" "$(k8s_args default kpod ctr-k)" >"$T/k.json" || fail "ADD kernel pod: $(cat "$T/k.json")"
PK=$(port_of ctr-k eth0)

# 1. Without socketOwner/Group/Mode the directory is root's 0755: a pod running as
# $POD_USER cannot create its socket there (the defect).
cni ADD ctr-r "$NSV" net1 "$T/vhost-root.json" "$(k8s_args default rootpod ctr-r)" >"$T/r.json" || fail "ADD root pod: $(cat "$T/r.json")"
[ "$(owner_mode "$PODS/default_rootpod")" = "root:root 755" ] || fail "default pod directory: $(owner_mode "$PODS/default_rootpod")"
as_pod ${NSP}v "$PODS/default_rootpod" sh -c 'id -un; touch /mnt/podswitch/probe' >"$T/probe" 2>&1 || true
grep -qx $POD_USER "$T/probe" && grep -q 'Permission denied' "$T/probe" \
	|| fail "$POD_USER creating a file in a root-owned 0755 pod directory: $(cat "$T/probe")"
cni DEL ctr-r "$NSV" net1 "$T/vhost-root.json" "$(k8s_args default rootpod ctr-r)" >"$T/out" || fail "DEL root pod: $(cat "$T/out")"
ok "without socketOwner/Group/Mode the pod directory is root:root 755 and $POD_USER cannot create a socket in it"

# 2. vhost-user, the pod creates the socket: socketGroup and socketMode 0660 make the
# directory root:$POD_GROUP 770; testpmd as $POD_USER creates net1.sock there.
cni ADD ctr-v "$NSV" net1 "$T/vhost.json" "$(k8s_args default vpod ctr-v)" >"$T/v.json" || fail "ADD vhost pod: $(cat "$T/v.json")"
DIRV=$PODS/default_vpod
[ "$(owner_mode "$DIRV")" = "root:$POD_GROUP 770" ] || fail "vhost pod directory: $(owner_mode "$DIRV")"
with_prev "$T/vhost.json" "$T/v.json" "$T/chk-v.json"
cni CHECK ctr-v "$NSV" net1 "$T/chk-v.json" "$(k8s_args default vpod ctr-v)" >"$T/out" || fail "CHECK vhost pod: $(cat "$T/out")"
PV=$(port_of ctr-v net1)
VMAC=$(jq -r .mac "$DIRV/net1.json"); VIP=$(jq -r '.ips[0] | split("/")[0]' "$DIRV/net1.json")
connect_pods "$PK" "$PV"
pod_testpmd v ${NSP}v "$DIRV" "net_virtio_user0,path=/mnt/podswitch/$(jq -r .socketFile "$DIRV/net1.json"),server=1,queues=1,mac=$VMAC"
wait_until 20 link_up "$PV" || fail "podswitchd did not connect to the pod's socket: $(rpc port.get "{\"name\": \"$PV\"}") $(tail -5 "$T/testpmd-v.log")"
[ "$(ps -o user= -p "$(pgrep -f "file-prefix pswuv$$ ")")" = $POD_USER ] || fail "testpmd does not run as $POD_USER: $(ps -o user=,args= -p "$(pgrep -d, -f "file-prefix pswuv$$ ")")"
[ "$(stat -c %U "$DIRV/net1.sock")" = $POD_USER ] || fail "net1.sock is not $POD_USER's: $(owner_mode "$DIRV/net1.sock")"
ip netns exec ${NSP}k ping -c 3 -i 0.3 -W 2 "$VIP" >"$T/ping-v" || fail "ping kernel pod -> vhost pod: $(cat "$T/ping-v"); $(tail -20 "$T/testpmd-v.log")"
stop_testpmd v || fail "testpmd pod v does not stop"
ok "vhost-user pod as $POD_USER: directory root:$POD_GROUP 770, socket created by the pod, CHECK, ping through podswitchd"

# CHECK finds a directory that no longer matches the config.
chmod 0755 "$DIRV"
if cni CHECK ctr-v "$NSV" net1 "$T/chk-v.json" "$(k8s_args default vpod ctr-v)" >"$T/out"; then fail "CHECK passed with mode 755"; fi
jq -e '.code == 102 and (.msg | contains("socketMode"))' "$T/out" >/dev/null || fail "CHECK error: $(cat "$T/out")"
chmod 0770 "$DIRV"
# A failed ADD of a second interface into the same directory, with other access keys,
# puts the directory's owner and mode back.
jq '. + {socketOwner: "0", socketGroup: "0", socketMode: "0600", runtimeConfig: {CNIDeviceInfoFile: "/proc/nope/x.json"}}' \
	"$T/vhost.json" >"$T/vhost-fail.json"
if cni ADD ctr-v "$NSV" net2 "$T/vhost-fail.json" "$(k8s_args default vpod ctr-v)" >"$T/out"; then fail "ADD with an unwritable device-info passed"; fi
[ "$(owner_mode "$DIRV")" = "root:$POD_GROUP 770" ] || fail "failed ADD left the directory as $(owner_mode "$DIRV")"
[ ! -e "$DIRV/net2.json" ] || fail "failed ADD left net2.json"
ok "CHECK fails (102) when the directory's mode differs; a failed ADD restores the directory's owner and mode"

# 3. memif with a socket file (podswitchd listens): socketOwner $POD_USER and socketMode
# 0600 give the directory (700) and podswitchd's socket (600) to the pod's user.
nad_config "$SRC/config/cni/nad-memif.yaml" | localize \
	| jq --arg u $POD_USER '.memif.abstract = false | .ipam = {type: "static", addresses: [{address: "10.56.0.201/24"}]}
		| . + {socketOwner: $u, socketMode: "0600"}' >"$T/memif.json"
cni ADD ctr-m "$NSM" net1 "$T/memif.json" "$(k8s_args default mpod ctr-m)" >"$T/m.json" || fail "ADD memif: $(cat "$T/m.json")"
DIRM=$PODS/default_mpod
[ "$(owner_mode "$DIRM")" = "$POD_USER:root 700" ] || fail "memif pod directory: $(owner_mode "$DIRM")"
[ -S "$DIRM/net1.sock" ] && [ "$(owner_mode "$DIRM/net1.sock")" = "$POD_USER:root 600" ] \
	|| fail "memif socket: $(owner_mode "$DIRM/net1.sock" 2>&1)"
rpc port.get "{\"name\": \"$(port_of ctr-m net1)\"}" | jq -e --arg u "$(id -u $POD_USER)" \
	'.options.owner == $u and .options.perm == "0600"' >/dev/null || fail "memif port options: $(rpc port.get "{\"name\": \"$(port_of ctr-m net1)\"}")"
PM=$(port_of ctr-m net1)
MMAC=$(jq -r .mac "$DIRM/net1.json"); MIP=$(jq -r '.ips[0] | split("/")[0]' "$DIRM/net1.json")
[ -n "$NETWORK" ] || connect_pods "$PK" "$PM"
pod_testpmd m ${NSP}m "$DIRM" "net_memif0,role=client,id=$(jq -r .memif.id "$DIRM/net1.json"),socket=/mnt/podswitch/net1.sock,socket-abstract=no,mac=$MMAC"
wait_until 20 link_up "$PM" || fail "memif pod did not connect: $(rpc port.get "{\"name\": \"$PM\"}") $(tail -5 "$T/testpmd-m.log")"
ip netns exec ${NSP}k ping -c 3 -i 0.3 -W 2 "$MIP" >"$T/ping-m" || fail "ping kernel pod -> memif pod: $(cat "$T/ping-m"); $(tail -20 "$T/testpmd-m.log")"
stop_testpmd m || fail "testpmd pod m does not stop"
ok "memif pod as $POD_USER: directory $POD_USER 700, podswitchd's socket $POD_USER 600, ping through podswitchd"

# 4. vhost-user with podswitchd as server: its socket is the pod user's, 0600.
jq --arg u $POD_USER '.vhostUser.mode = "server" | del(.socketGroup) | . + {socketOwner: $u, socketMode: "0600"}' \
	"$T/vhost.json" >"$T/vhost-srv.json"
cni ADD ctr-s "$NSV" net2 "$T/vhost-srv.json" "$(k8s_args default spod ctr-s)" >"$T/s.json" || fail "ADD vhost server: $(cat "$T/s.json")"
DIRS=$PODS/default_spod
[ "$(owner_mode "$DIRS/net2.sock")" = "$POD_USER:root 600" ] || fail "podswitchd's vhost socket: $(owner_mode "$DIRS/net2.sock" 2>&1)"
PS=$(port_of ctr-s net2)
pod_testpmd s ${NSP}v "$DIRS" "net_virtio_user0,path=/mnt/podswitch/net2.sock,queues=1,mac=$(jq -r .mac "$DIRS/net2.json")"
wait_until 20 link_up "$PS" || fail "the pod did not connect to podswitchd's socket: $(rpc port.get "{\"name\": \"$PS\"}") $(tail -5 "$T/testpmd-s.log")"
stop_testpmd s || fail "testpmd pod s does not stop"
ok "vhost-user with podswitchd as server: socket $POD_USER 600, the pod as $POD_USER connects"

# 5. DEL everything; nothing remains.
cni DEL ctr-v "$NSV" net1 "$T/vhost.json" "$(k8s_args default vpod ctr-v)" >"$T/out" || fail "DEL vhost: $(cat "$T/out")"
cni DEL ctr-m "$NSM" net1 "$T/memif.json" "$(k8s_args default mpod ctr-m)" >"$T/out" || fail "DEL memif: $(cat "$T/out")"
cni DEL ctr-s "$NSV" net2 "$T/vhost-srv.json" "$(k8s_args default spod ctr-s)" >"$T/out" || fail "DEL vhost server: $(cat "$T/out")"
cni DEL ctr-k "$NSK" eth0 "$T/tap.json" "$(k8s_args default kpod ctr-k)" >"$T/out" || fail "DEL kernel: $(cat "$T/out")"
[ -z "$(cni_ports)" ] || fail "ports left: $(cni_ports)"
[ -z "$(ipam_leases)" ] || fail "leases left: $(ipam_leases)"
[ -z "$(find "$PODS" -mindepth 1 -not -name '.podswitch-cni.lock')" ] || fail "files left: $(find "$PODS")"
ok "DEL: no port, lease, socket, file or directory left"
