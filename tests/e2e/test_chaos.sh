#!/usr/bin/env bash
# Issue 10, chaos. For CHAOS_SECONDS (60) the CNI plugin adds and deletes pods, as a
# runtime does, 1 to 3 at a time in parallel: kernel (tap) pods and userspace pods
# (vhost-user, memif on an abstract socket). A failed ADD is followed by DEL, as the
# kubelet does; a failed DEL is retried. Two kernel pods ping each other all along and a
# DPDK pod (testpmd icmpecho over vhost-user) answers a third. During the first 45 s
# podswitchd is killed with SIGKILL at random moments (every 3 to 9 s) and started again
# at once; the last 15 s churn without kills. Then:
# - every pod that exists has its port (and nothing else has one), its lease, its state
#   entry, and its traffic: kernel pods answer ping; each userspace pod's application,
#   started from its metadata file, answers ping;
# - every deleted pod left nothing: no port, lease, state entry, pod directory,
#   tombstone, host tap;
# - podswitchd has as many file descriptors and as much DPDK heap as a fresh start with
#   the same pods (SIGTERM, start: it restores them).
# CHAOS_SEED replays a run (the seed is printed).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cni_lib.sh"

SEED=${CHAOS_SEED:-$$}
RANDOM=$SEED
DURATION=${CHAOS_SECONDS:-60}
KILL_UNTIL=$((DURATION * 3 / 4))
echo "# seed $SEED (CHAOS_SEED=$SEED replays this run)"
C=$T/chaos
mkdir -p "$C"
ops=()
# tap_names N...: the host names of pods' taps (cni/netconf.c psw_cni_tap_name).
tap_names() {
	"$PY" - "$$" "$@" <<'PY'
import sys
def h(a, b):
    x = 0xcbf29ce484222325
    for c in a.encode() + b"\0" + b.encode():
        x = ((x ^ c) * 0x100000001b3) & 0xffffffffffffffff
    return x
for n in sys.argv[2:]:
    for ifn in ("eth0", "net1"):
        print("psw%012x" % (h(f"chaos{sys.argv[1]}-{n}", ifn) & 0xffffffffffff))
PY
}
# On a failure: stop the operations still running, and remove a pod's tap that an ADD
# cut short left on the host (the pods' namespaces take the others along).
chaos_cleanup() {
	local p t
	for p in "${ops[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${ops[@]}"; do wait "$p" 2>/dev/null || true; done
	for t in $(tap_names $(ls "$C" | sed -n 's/\.kind$//p')); do ip link del "$t" 2>/dev/null || true; done
}
on_exit chaos_cleanup

# Each tap port keeps 1024 mbufs in its rx ring: the default pool (32768) instead of the
# tests' 8192, which holds 7 tap ports.
write_config "$T/sw0.json"
jq '.mbufs = 32768' "$T/sw0.json" >"$T/sw.json"
start_switch "$T/sw.json"
net_setup
[ -n "$NETWORK" ] || fail "network.add"
# One network and one address pool for every kind of pod (they reach each other).
nad_config "$SRC/config/cni/nad-vhost-user.yaml" | localize >"$T/vhost.json"
jq 'del(.vhostUser) | .interface = "tap"' "$T/vhost.json" >"$T/tap.json"
jq 'del(.vhostUser) | .interface = "memif" | .memif = {abstract: true}' "$T/vhost.json" >"$T/memif.json"
ifname_of() { [ "$1" = tap ] && echo eth0 || echo net1; }

# Pod N: kind in $C/N.kind, netns ${NSP}N, container chaos$$-N, state in $C/N.st:
# adding, alive, deleting, gone.
pod_ns() { echo "/var/run/netns/${NSP}$1"; }
pod_cni() { # pod_cni COMMAND N
	local n=$1 cmd=$2 kind; kind=$(cat "$C/$n.kind")
	cni "$cmd" chaos$$-$n "$(pod_ns $n)" "$(ifname_of $kind)" "$T/$kind.json" "$(k8s_args chaos p$n chaos$$-$n)"
}
del_retry() {
	for _ in $(seq 1 40); do
		pod_cni "$1" DEL >"$C/$1.del.out" && return 0
		sleep 0.5
	done
	echo "DEL kept failing: $(cat "$C/$1.del.out")" >"$C/$1.delfail"
}
op_add() {
	if pod_cni "$1" ADD >"$C/$1.json"; then
		echo alive >"$C/$1.st"
	else
		echo "ADD $1 ($(cat "$C/$1.kind")) failed: $(jq -c '{code, msg}' "$C/$1.json" 2>/dev/null)" >>"$C/events"
		del_retry "$1"
		ip netns del ${NSP}$1
		echo gone >"$C/$1.st"
	fi
}
op_del() {
	del_retry "$1"
	ip netns del ${NSP}$1
	echo gone >"$C/$1.st"
}
new_pod() { # new_pod N KIND
	echo "$2" >"$C/$1.kind"
	echo adding >"$C/$1.st"
	mkns ${NSP}$1
}
pods_in() { local st=$1 f; for f in "$C"/*.st; do [ "$(cat "$f")" = "$st" ] && basename "$f" .st; done; true; }
kind_of() { cat "$C/$1.kind"; }
ip_of() { jq -r '.ips[0].address | split("/")[0]' "$C/$1.json"; }

# The long-lived pods: kernel pods 0 and 1 (0 pings 1 all along) and DPDK pod 2.
for n in 0 1; do new_pod $n tap; op_add $n; done
new_pod 2 vhost; op_add 2
for n in 0 1 2; do [ "$(cat "$C/$n.st")" = alive ] || fail "long-lived pod $n: $(cat "$C/$n.json")"; done
M2=$(jq -r '.interfaces[0].socketPath | sub("\\.sock$"; ".json")' "$C/2.json")
# testpmd pod (pods.sh style: no hugepages, CPU 0, niced so the churn keeps its share).
start_app() { # start_app N: the pod's application, from its metadata file alone
	local n=$1 meta vdev
	meta=$(jq -r '.interfaces[0].socketPath // empty' "$C/$n.json" | sed 's/\.sock$/.json/')
	[ -n "$meta" ] || meta=$PODS/chaos_p$n/net1.json
	if [ "$(kind_of $n)" = vhost ]; then
		vdev="net_virtio_user0,path=$(jq -r .socketPath "$meta"),server=1,queues=1,mac=$(jq -r .mac "$meta")"
	else
		vdev="net_memif0,role=client,id=$(jq -r .memif.id "$meta"),socket=$(jq -r .abstractSocket "$meta"),socket-abstract=yes,mac=$(jq -r .mac "$meta")"
	fi
	ip netns exec ${NSP}$n nice -n 10 dpdk-testpmd --lcores 0@0,1@0 -m 128 --no-huge --no-pci \
		--single-file-segments --file-prefix pswx$n$$ --log-level 'pmd.net.virtio.*:error' \
		--vdev "$vdev" -- --forward-mode=icmpecho --stats-period 1 --nb-cores=1 \
		--total-num-mbufs=2048 >"$C/$n.app.log" 2>&1 &
	echo $! >"$C/$n.app"
	on_exit "kill $(cat "$C/$n.app"); rm -rf /var/run/dpdk/pswx$n$$"
}
stop_app() { local p; p=$(cat "$C/$1.app"); kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; rm -rf /var/run/dpdk/pswx$1$$; }
link_up() { [ "$(rpc port.get "{\"name\": \"$1\"}" | jq -r .link.up)" = true ]; }
start_app 2
P2=$(port_of chaos$$-2 net1)
wait_until 30 link_up "$P2" || fail "DPDK pod 2 did not connect: $(tail -5 "$C/2.app.log")"
IP0=$(ip_of 0); IP1=$(ip_of 1); IP2=$(ip_of 2)
ip netns exec ${NSP}0 ping -c 2 -W 2 "$IP1" >/dev/null || fail "ping 0 -> 1"
ip netns exec ${NSP}1 ping -c 2 -W 2 "$IP2" >/dev/null || fail "ping 1 -> DPDK pod 2"
ip netns exec ${NSP}0 ping -D -i 0.1 -W 1 "$IP1" >"$C/ping01" 2>&1 &
PING01=$!; on_exit "kill $PING01"
ip netns exec ${NSP}1 ping -D -i 0.2 -W 1 "$IP2" >"$C/ping12" 2>&1 &
PING12=$!; on_exit "kill $PING12"
ok "long-lived pods: kernel pods 0, 1 and DPDK pod 2 (vhost-user); 0 pings 1, 1 pings 2"

# --- churn
n=3; kills=0; adds=0; dels=0
# launch_ops: 1 to 3 ADDs or DELs in the background (at most 4 running).
launch_ops() {
	local running=0 p a v kind r nk nu
	for p in "${ops[@]}"; do kill -0 "$p" 2>/dev/null && running=$((running + 1)); done
	for _ in $(seq 1 $((1 + RANDOM % 3))); do
		[ $running -lt 4 ] || break
		mapfile -t alive < <(pods_in alive | grep -vx '[012]')
		nk=0; nu=0
		for a in "${alive[@]}"; do [ "$(kind_of "$a")" = tap ] && nk=$((nk + 1)) || nu=$((nu + 1)); done
		r=$((RANDOM % 4))
		if [ ${#alive[@]} -gt 0 ] && { [ $((RANDOM % 5)) -lt 2 ] || { [ $nk -ge 6 ] && [ $nu -ge 3 ]; }; }; then
			v=${alive[RANDOM % ${#alive[@]}]}
			echo deleting >"$C/$v.st"
			op_del "$v" & ops+=($!); dels=$((dels + 1))
		else
			if [ $r -lt 2 ] || [ $nu -ge 3 ]; then kind=tap; elif [ $r = 2 ]; then kind=vhost; else kind=memif; fi
			[ $kind = tap ] && [ $nk -ge 6 ] && kind=vhost
			new_pod $n $kind
			op_add $n & ops+=($!); adds=$((adds + 1))
			n=$((n + 1))
		fi
		running=$((running + 1))
	done
}
start=$SECONDS; next_kill=$((start + 3 + RANDOM % 7))
while [ $((SECONDS - start)) -lt "$DURATION" ]; do
	launch_ops
	sleep "0.$((1 + RANDOM % 9))"
	if [ $((SECONDS - start)) -lt $KILL_UNTIL ] && [ $SECONDS -ge $next_kill ]; then
		kill -KILL "$SWITCH_PID"; wait "$SWITCH_PID" 2>/dev/null || true; SWITCH_PID=
		# Some operations meet the switch down (ADD fails, DEL leaves a tombstone).
		launch_ops
		sleep "0.$((RANDOM % 4))"
		start_switch "$T/sw.json"
		kills=$((kills + 1))
		next_kill=$((SECONDS + 3 + RANDOM % 7))
	fi
done
for p in "${ops[@]}"; do wait "$p" || true; done
[ -z "$(ls "$C"/*.delfail 2>/dev/null)" ] || fail "$(cat "$C"/*.delfail)"
[ -z "$(pods_in adding; pods_in deleting)" ] || fail "pods left half-way: $(pods_in adding) $(pods_in deleting)"
kill -INT $PING01 $PING12; wait $PING01 $PING12 2>/dev/null || true
mapfile -t alive < <(pods_in alive)
failed_adds=$(grep -c failed "$C/events" 2>/dev/null || true)
ok "churn: $adds ADDs (${failed_adds:-0} failed and were deleted), $dels DELs ($(grep -c "deletion recorded" "$T/cni.stderr" || true) while podswitchd was down), $kills SIGKILLs of podswitchd in ${DURATION}s; ${#alive[@]} pods alive"
"$PY" - "$C/ping01" "$C/ping12" <<'PY'
import re, sys
for f, i in zip(sys.argv[1:], (0.1, 0.2)):
    rx = [(float(t), int(s)) for t, s in re.findall(r"^\[([0-9.]+)\] \d+ bytes from .*icmp_seq=(\d+)", open(f).read(), re.M)]
    gaps = [b[0] - a[0] - i for a, b in zip(rx, rx[1:]) if b[1] - a[1] > 1]
    sent = rx[-1][1] - rx[0][1] + 1 if rx else 0
    print(f"# {f.split('/')[-1]}: {len(rx)} of {sent} answered, longest outage {max(gaps, default=0):.2f} s, {len(gaps)} outages")
PY

# --- every pod that exists: port, lease, state entry; nothing else
cids_alive=$(for a in "${alive[@]}"; do echo chaos$$-$a; done | sort)
cids_ports=$(rpc port.list | jq -r '.ports[].external_ids["cni.container_id"] // empty' | sort)
[ "$cids_alive" = "$cids_ports" ] || fail "ports do not match the pods: alive $(echo $cids_alive) ports $(echo $cids_ports)"
cids_state=$(jq -r '.ports[].external_ids["cni.container_id"] // empty' "$T/state/state.json" | sort)
[ "$cids_alive" = "$cids_state" ] || fail "state file does not match the pods: $(echo $cids_state)"
cids_leases=$(for f in $(ipam_leases); do sed -n 1p "$f" | tr -d '\r'; done | sort)
[ "$cids_alive" = "$cids_leases" ] || fail "leases do not match the pods: $(echo $cids_leases)"
for a in "${alive[@]}"; do
	p=$(port_of chaos$$-$a "$(ifname_of "$(kind_of $a)")")
	[ -n "$p" ] || fail "pod $a has no port"
	if [ "$(kind_of $a)" != tap ]; then
		[ -f "$PODS/chaos_p$a/net1.json" ] || fail "pod $a has no metadata file: $(find "$PODS")"
	fi
done
ok "every pod that exists has its port, its lease and its state entry; no other port, lease or entry"

# --- every deleted pod left nothing
tap_names $(pods_in gone) >"$C/gone-taps"
left=$(ip -o link | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -Fxf "$C/gone-taps" || true)
[ -z "$left" ] || fail "host taps of deleted pods left: $left"
for g in $(pods_in gone); do
	[ ! -e "$PODS/chaos_p$g" ] || fail "deleted pod $g left its directory: $(ls -la "$PODS/chaos_p$g")"
done
[ -z "$(ls -A "$SOCK.deleted" 2>/dev/null)" ] || fail "tombstones left: $(ls "$SOCK.deleted")"
extra=$(find "$PODS" -mindepth 1 -maxdepth 1 -not -name '.podswitch-cni.lock' | grep -v -e "$(for a in "${alive[@]}"; do echo "/chaos_p$a\$"; done)" || true)
[ -z "$extra" ] || fail "unexpected entries in the pods directory: $extra"
ok "$(pods_in gone | wc -l) deleted pods left no port, lease, state entry, directory, tombstone or host tap"

# --- no leak: file descriptors and DPDK heap against a fresh start with the same pods
settle() {
	wait_until 30 link_up "$P2" || fail "DPDK pod 2 not connected: $(tail -3 "$C/2.app.log")"
	sleep 2 # vhost-user client ports without a pod retry every second
}
fds() { ls /proc/"$SWITCH_PID"/fd | wc -l; }
heap() { jget .heap_allocated_bytes info; }
settle
fd1=$(fds); heap1=$(heap)
stop_switch
start_switch "$T/sw.json"
settle
fd2=$(fds); heap2=$(heap)
echo "# podswitchd after the churn: $fd1 fds, DPDK heap $heap1 B; fresh start with the same ${#alive[@]} pods: $fd2 fds, $heap2 B"
[ "$fd1" -le "$fd2" ] || fail "file descriptors leaked: $fd1 after the churn, $fd2 on a fresh start"
[ "$heap1" -le $((heap2 + 65536)) ] || fail "DPDK heap leaked: $heap1 B after the churn, $heap2 B on a fresh start"
ok "no leak: file descriptors and DPDK heap as on a fresh start with the same pods"

# --- traffic: every kernel pod answers; every userspace pod's application answers
for a in "${alive[@]}"; do
	[ "$(kind_of $a)" = tap ] || [ "$a" = 2 ] || start_app "$a"
done
for a in "${alive[@]}"; do
	[ "$a" = 0 ] && continue
	p=$(port_of chaos$$-$a "$(ifname_of "$(kind_of $a)")")
	[ "$(kind_of $a)" = tap ] || wait_until 30 link_up "$p" || fail "pod $a's application did not connect: $(tail -3 "$C/$a.app.log")"
	wait_until 20 'ip netns exec ${NSP}0 ping -c 1 -W 1 "$(ip_of $a)" >/dev/null' \
		|| fail "pod $a ($(kind_of $a), $(ip_of $a)) does not answer: $(rpc port.get "{\"name\": \"$p\"}" | jq -c '{link, stats}')"
done
for a in "${alive[@]}"; do [ "$(kind_of $a)" = tap ] || stop_app "$a"; done
ok "traffic: every pod that exists answers ping from pod 0 ($(for a in "${alive[@]}"; do kind_of $a; done | sort | uniq -c | xargs))"

for a in "${alive[@]}"; do op_del "$a"; done
[ -z "$(cni_ports)" ] || fail "ports left: $(cni_ports)"
[ -z "$(ipam_leases)" ] || fail "leases left: $(ipam_leases)"
stop_switch
ok "all deleted; clean stop"
