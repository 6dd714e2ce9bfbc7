#!/usr/bin/env bash
# Issue 4: state survives a restart. podswitchd is killed with SIGKILL while DPDK pods are
# connected (vhost-user, podswitchd as client; memif, podswitchd as server on a socket
# file and on an abstract socket in the pod's netns). Started again with the same state
# directory, it has the same ports with the same options and outputs, the pods reconnect
# and traffic resumes; no pod is restarted. (The vhost-user pods reconnect by themselves;
# DPDK's memif client connects only when its port starts, so the memif pods' application
# re-starts its port, as VPP/libmemif do on their own.) A corrupt state file stops the
# start with a clear message and is left as it was.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pods.sh"

write_config "$T/sw.json"
start_switch "$T/sw.json"
mkns ${NSP}d

# vhost-user client mode: a sends to b.
start_pod a "net_virtio_user0,path=$T/pa.sock,server=1,queues=1" txonly --txpkts=64
start_pod b "net_virtio_user0,path=$T/pb.sock,server=1,queues=1" rxonly
wait_until 20 test -S "$T/pa.sock" -a -S "$T/pb.sock" || fail "pods did not create their sockets: $(tail -3 "$T/pod-a.log" "$T/pod-b.log")"
ctl port add va --type vhost-user --option socket="$T/pa.sock" >/dev/null || fail "port add va"
ctl port add vb --type vhost-user --option socket="$T/pb.sock" --output va >/dev/null || fail "port add vb"
ctl port set va --output vb >/dev/null
# memif: c (socket file) sends to d (abstract socket in its own netns).
S=$T/sockets/memif
ctl port add mc --type memif --option socket="$S/mc.sock" --option abstract=false --option id=5 >/dev/null || fail "port add mc"
ctl port add md --type memif --option socket=/podswitch/md --option netns=/var/run/netns/${NSP}d --output mc >/dev/null || fail "port add md"
ctl port set mc --output md >/dev/null
start_ipod c - "net_memif0,role=client,id=5,socket=$S/mc.sock,socket-abstract=no" txonly
start_ipod d ${NSP}d "net_memif0,role=client,socket=/podswitch/md" rxonly
for p in va vb mc md; do wait_until 15 port_up $p || fail "$p link not up"; done
grows pod_rx b || fail "vhost-user: pod b receives nothing"
grows ipod_rx d || fail "memif: pod d receives nothing"
# A network and rules, to come back too (rules that match none of this traffic).
ctl network add pods4 >/dev/null || fail "network add"
ctl flow add "priority=40,ip,nw_src=192.168.66.0/24,actions=drop" >/dev/null || fail "flow add drop"
ctl flow add "priority=30,udp,tp_dst=9999,actions=output:vb" >/dev/null || fail "flow add output"
grows pod_rx b || fail "vhost-user: pod b receives nothing once rules exist"
# Changes are saved in batches (at most 100 ms after them): wait for the last save.
wait_until 5 '[ "$(jget .pending state show)" = 0 ]' || fail "changes not saved: $(ctlj state show | jq -c '{pending, saves, save_error}')"
ctlj state show | jq -e '.state.ports | length == 4' >/dev/null || fail "state file: $(ctlj state show)"
ports_before=$(ctlj port list | jq -c '[.ports[] | {name, type, output, options}] | sort_by(.name)')
flows_before=$(ctlj flow list | jq -c '[.flows[] | {priority, match, actions}] | sort_by(.priority)')
nets_before=$(ctlj network list | jq -c '[.networks[].name] | sort')
echo "$flows_before" | jq -e 'length >= 2 and all(.[]; .priority != null and .actions != null)' >/dev/null \
	|| fail "flow list before the kill: $flows_before"
ok "before: vhost-user a -> b and memif c -> d flowing; state file has 4 ports"

# SIGKILL: no orderly stop, sockets and the memif socket file are left behind. The memif
# pods pause forwarding first: DPDK 22.11's memif client unmaps the shared regions when
# its peer goes, while its forwarding core may still be in them (a crash of the pod,
# seen here about one run in two). The vhost-user pods keep forwarding through the kill.
pod_cmd c stop; pod_cmd d stop; sleep 0.2
kill -KILL "$SWITCH_PID"; wait "$SWITCH_PID" 2>/dev/null || true; SWITCH_PID=
pod_alive a && pod_alive b && pod_alive c && pod_alive d || fail "a pod died with the switch"
[ -S "$S/mc.sock" ] || fail "expected the killed switch's memif socket file to be left"
start_switch "$T/sw.json"
ports_after=$(ctlj port list | jq -c '[.ports[] | {name, type, output, options}] | sort_by(.name)')
[ "$ports_before" = "$ports_after" ] || fail "ports after restart differ: $ports_before -> $ports_after"
flows_after=$(ctlj flow list | jq -c '[.flows[] | {priority, match, actions}] | sort_by(.priority)')
[ "$flows_before" = "$flows_after" ] || fail "rules after restart differ: $flows_before -> $flows_after"
nets_after=$(ctlj network list | jq -c '[.networks[].name] | sort')
[ "$nets_before" = "$nets_after" ] && echo "$nets_after" | grep -q pods4 || fail "networks after restart: $nets_before -> $nets_after"
ctl state export "$T/export.json" || fail "state export"
jq -e '.format == "podswitch-state" and (.ports | length == 4) and (.ports | map(.name) | sort == ["mc","md","va","vb"])' \
	"$T/export.json" >/dev/null || fail "state export: $(cat "$T/export.json")"
ctl state show | grep -q "state.json" || fail "state show: $(ctl state show)"
ok "restarted: the same 4 ports (options, outputs), network and rules; state show, state export"

wait_until 20 port_up va || fail "va not reconnected"
wait_until 20 port_up vb || fail "vb not reconnected"
grows pod_rx b || fail "vhost-user traffic did not resume"
ok "vhost-user client mode: pods reconnected by themselves, traffic resumed"

for p in c d; do pod_cmd $p "port stop all"; pod_cmd $p "port start all"; pod_cmd $p start; done
wait_until 15 port_up mc || fail "mc not reconnected: $(tail -5 "$T/pod-c.log")"
wait_until 15 port_up md || fail "md not reconnected: $(tail -5 "$T/pod-d.log")"
grows ipod_rx d || fail "memif traffic did not resume"
ok "memif: listeners back (socket file and abstract in the pod's netns), pods reconnected, traffic resumed"

# A corrupt state file stops the start and is kept as it is.
stop_pod c; stop_pod d   # before the switch closes their ports (the memif client crash above)
stop_switch
printf '{"format": "podswitch-state", "version": 1, "ports": [' >"$T/state/state.json"
cp "$T/state/state.json" "$T/corrupt.json"
if "$PODSWITCHD" --config "$T/sw.json" >"$T/corrupt.log" 2>&1; then fail "podswitchd started with a corrupt state file"; fi
grep -q "state.json is unreadable or corrupt" "$T/corrupt.log" || fail "corrupt state message: $(cat "$T/corrupt.log")"
cmp -s "$T/state/state.json" "$T/corrupt.json" || fail "corrupt state file was changed"
ok "corrupt state file: start refused with a clear message, file untouched"
