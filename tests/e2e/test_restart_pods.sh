#!/usr/bin/env bash
# Issue 10, defects 2 and 3: pods added through the CNI plugin across podswitchd restarts.
# 1. Kernel (tap) pods survive SIGKILL and SIGTERM: each time, podswitchd is started again
#    at once (as a supervisor would); pod a's eth0 is the same interface (ifindex, name,
#    MAC, MTU, addresses, routes), and its ping to pod b (every 50 ms) resumes without the
#    pod doing anything. The outage (first lost to first answered ping) is printed.
# 2. A pod's interface that vanished while podswitchd was down is rebuilt in its pod; a
#    pod whose netns vanished is skipped and reported.
# 3. DEL while podswitchd is down wins: a tap pod and a vhost-user pod deleted then do not
#    come back at its next start (no port, no tap, no pod directory, no state entry), and
#    the same pod added again afterwards is restored by later restarts.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cni_lib.sh"

write_config "$T/sw.json"
start_switch "$T/sw.json"
net_setup
[ -n "$NETWORK" ] || fail "network.add failed"
conflist_plugin "$SRC/config/cni/10-podswitch.conflist" | localize | jq '.mtu = 1400' >"$T/net.json"
nad_config "$SRC/config/cni/nad-vhost-user.yaml" | localize >"$T/vhost.json"
for p in a b c; do mkns ${NSP}$p; done
add() { # add NAME CONFIG IFNAME: pod NAME (netns ${NSP}NAME, container ctr-NAME)
	cni ADD ctr-$1 /var/run/netns/${NSP}$1 "$3" "$2" "$(k8s_args default pod-$1 ctr-$1)" >"$T/$1.json" \
		|| fail "ADD $1: $(cat "$T/$1.json")"
}
del() { cni DEL ctr-$1 /var/run/netns/${NSP}$1 "$3" "$2" "$(k8s_args default pod-$1 ctr-$1)" >"$T/out" \
		|| fail "DEL $1: $(cat "$T/out")"; }
add a "$T/net.json" eth0; add b "$T/net.json" eth0
IPB=$(jq -r '.ips[0].address | split("/")[0]' "$T/b.json")
PA=$(port_of ctr-a eth0)
# What the pod sees of its interface: index, name, MAC, MTU, state, addresses, routes.
pod_view() {
	ip -n ${NSP}a -j addr show eth0 | jq -c '.[0] | {ifindex, ifname, address, mtu, up: (.flags | index("UP") != null),
		addrs: [.addr_info[] | select(.scope == "global") | "\(.local)/\(.prefixlen)"]}'
	ip -n ${NSP}a -j route show | jq -c '[.[] | {dst, gateway, dev}] | sort_by(.dst)'
}
pod_view >"$T/view0"
jq -e -s '.[0].mtu == 1400 and (.[0].addrs | length == 1) and (.[1] | map(.dst) | index("default"))' "$T/view0" >/dev/null \
	|| fail "pod a's eth0 after ADD: $(cat "$T/view0")"
ip netns exec ${NSP}a ping -c 2 -i 0.2 -W 2 "$IPB" >/dev/null || fail "ping a -> b before any restart"
ok "two tap pods through the CNI plugin; a pings b"

# restart SIGNAL: stop podswitchd with SIGNAL while a pings b every 50 ms, start it again
# at once; print the outage; pod a's interface must be the one it had.
restart() {
	local sig=$1 log=$T/ping-$1
	ip netns exec ${NSP}a ping -D -i 0.05 -W 1 "$IPB" >"$log" 2>&1 &
	local ping=$!
	on_exit "kill $ping"
	wait_until 10 '[ "$(grep -c "bytes from" "$log")" -ge 10 ]' || fail "ping a -> b before $sig: $(tail -3 "$log")"
	kill -"$sig" "$SWITCH_PID"; wait "$SWITCH_PID" 2>/dev/null || true; SWITCH_PID=
	start_switch "$T/sw.json"
	local n; n=$(grep -c "bytes from" "$log")
	wait_until 20 '[ "$(grep -c "bytes from" "$log")" -ge $((n + 20)) ]' \
		|| fail "after $sig: ping a -> b did not resume: $(tail -3 "$log"); $(rpc port.get "{\"name\": \"$PA\"}" | jq -c '{link, pod, stats}')"
	kill -INT $ping; wait $ping 2>/dev/null || true
	# Outage: from the first request that got no answer to the first answer after it.
	"$PY" - "$log" "$sig" <<'PY' || fail "outage after $1: $(tail -5 "$log")"
import re, sys
rx = [(float(t), int(s)) for t, s in re.findall(r"^\[([0-9.]+)\] \d+ bytes from .*icmp_seq=(\d+)", open(sys.argv[1]).read(), re.M)]
gaps = [(b[1] - a[1] - 1, a, b) for a, b in zip(rx, rx[1:]) if b[1] - a[1] > 1]
assert gaps, "no packet lost: was podswitchd restarted?"
lost, a, b = max(gaps)
print(f"# outage after SIG{sys.argv[2]}: {b[0] - (a[0] + 0.05):.2f} s from the first lost to the first answered ping "
      f"({lost} of {b[1] - rx[0][1]} pings lost at 50 ms)")
PY
	pod_view >"$T/view-$sig"
	diff "$T/view0" "$T/view-$sig" >/dev/null || fail "pod a's eth0 after $sig: $(cat "$T/view0") -> $(cat "$T/view-$sig")"
	[ "$(rpc port.get "{\"name\": \"$PA\"}" | jq -r .pod.restore)" = attached ] || fail "after $sig: $(rpc port.get "{\"name\": \"$PA\"}" | jq -c .pod)"
}
restart KILL
ok "SIGKILL: pod a keeps its eth0 (same ifindex, MAC, MTU, addresses, routes); the restarted switch re-attaches; ping resumes"
restart TERM
ok "SIGTERM: the same (the taps are persistent: a stop leaves them in the pods)"

# 2. Pod a's interface deleted while podswitchd is down: rebuilt. Pod c's netns gone:
# its port is skipped and reported.
add c "$T/net.json" eth0
PC=$(port_of ctr-c eth0)
kill -KILL "$SWITCH_PID"; wait "$SWITCH_PID" 2>/dev/null || true; SWITCH_PID=
ip -n ${NSP}a link del eth0
ip netns del ${NSP}c
start_switch "$T/sw.json"
[ "$(rpc port.get "{\"name\": \"$PA\"}" | jq -r .pod.restore)" = rebuilt ] || fail "pod a's port: $(rpc port.get "{\"name\": \"$PA\"}")"
pod_view | jq -c -s '(.[0] | del(.ifindex)), .[1]' >"$T/view-rebuilt"
jq -c -s '(.[0] | del(.ifindex)), .[1]' "$T/view0" | diff - "$T/view-rebuilt" >/dev/null \
	|| fail "rebuilt eth0: $(cat "$T/view0") -> $(cat "$T/view-rebuilt")"
wait_until 10 'ip netns exec ${NSP}a ping -c 1 -W 1 "$IPB" >/dev/null' || fail "ping a -> b after the rebuild"
rpc port.get "{\"name\": \"$PC\"}" >/dev/null 2>&1 && fail "pod c's port came back without its netns"
ctlj state show | jq -e --arg p "$PC" '.restore_errors | map(select(.entry.name == $p and (.error | contains("netns")))) | length == 1' >/dev/null \
	|| fail "pod c not reported: $(ctlj state show | jq -c .restore_errors)"
del c "$T/net.json" eth0
ok "rebuilt in its pod: pod a's eth0 deleted while podswitchd was down (name, MAC, MTU, addresses, routes); a pod whose netns vanished: skipped and reported"

# 3. DEL while podswitchd is down.
mkns ${NSP}v
add v "$T/vhost.json" net1
PV=$(port_of ctr-v net1)
[ -d "$PODS/default_pod-v" ] || fail "no pod directory for pod v: $(find "$PODS")"
kill -TERM "$SWITCH_PID"; wait "$SWITCH_PID" || fail "podswitchd exited with $? on SIGTERM"; SWITCH_PID=
del a "$T/net.json" eth0
del v "$T/vhost.json" net1
ip -n ${NSP}a link show eth0 >/dev/null 2>&1 && fail "DEL with podswitchd down left eth0 in pod a"
[ ! -e "$PODS/default_pod-v" ] || fail "DEL left pod v's directory"
start_switch "$T/sw.json"
for p in "$PA" "$PV"; do
	rpc port.get "{\"name\": \"$p\"}" >/dev/null 2>&1 && fail "port $p came back after its pod was deleted"
done
[ "$(cni_ports | sort)" = "$(port_of ctr-b eth0)" ] || fail "CNI ports after the restart: $(cni_ports)"
ip -n ${NSP}a link show eth0 >/dev/null 2>&1 && fail "eth0 came back in pod a"
ip -o link | grep ' psw[0-9a-f]\{12\}' >/dev/null && fail "a tap came back on the host: $(ip -o link | grep psw)"
[ ! -e "$PODS/default_pod-v" ] || fail "pod v's directory came back"
jq -e --arg a "$PA" --arg v "$PV" '[.ports[].name] | (index($a) | not) and (index($v) | not)' "$T/state/state.json" >/dev/null \
	|| fail "state.json still has the deleted ports"
ctlj state show | jq -e '(.restore_skipped | length == 2) and (.restore_errors | length == 0)' >/dev/null \
	|| fail "state show: $(ctlj state show | jq -c '{restore_skipped, restore_errors}')"
[ -z "$(ls -A "$SOCK.deleted")" ] || fail "tombstones left: $(ls "$SOCK.deleted")"
[ "$(ipam_leases | wc -l)" = 1 ] || fail "leases: $(ipam_leases)"
ok "DEL of a tap pod and a vhost-user pod while podswitchd was down: neither port, tap, directory nor state entry comes back"

# The same pod (same container id and interface) added again: a later restart keeps it.
add a "$T/net.json" eth0
kill -KILL "$SWITCH_PID"; wait "$SWITCH_PID" 2>/dev/null || true; SWITCH_PID=
start_switch "$T/sw.json"
[ "$(rpc port.get "{\"name\": \"$PA\"}" | jq -r .pod.restore)" = attached ] || fail "pod a added again was not restored"
IPA=$(jq -r '.ips[0].address | split("/")[0]' "$T/a.json")
wait_until 10 'ip netns exec ${NSP}b ping -c 1 -W 1 "$IPA" >/dev/null' || fail "ping b -> a (added again)"
ok "pod a added again with the same names after its DEL: restored by the next restart"

del a "$T/net.json" eth0; del b "$T/net.json" eth0
stop_switch
[ -z "$(ip -n ${NSP}b link show eth0 2>/dev/null)" ] || fail "eth0 left in pod b"
ip -o link | grep ' psw[0-9a-f]\{12\}' >/dev/null && fail "a tap is left on the host"
[ -z "$(ipam_leases)" ] || fail "leases left: $(ipam_leases)"
ok "all deleted: no tap, lease or port left"
