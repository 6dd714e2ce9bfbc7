#!/usr/bin/env bash
# Issue 4: two DPDK pods (dpdk-testpmd with net_memif role=client) exchange traffic
# through podswitchd, the memif server: first on filesystem sockets, then on abstract
# sockets that podswitchd creates inside each pod's own network namespace (nothing is
# mounted into the pod). id, ring size, buffer size and secret are passed on. A pod that
# restarts connects again. port.del removes the socket files and the abstract listeners.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pods.sh"

write_config "$T/sw.json"
start_switch "$T/sw.json"

# --- 1. socket files. The server (podswitchd) must exist before the pod: DPDK's memif
# client connects once, when its port starts.
S=$T/sockets/memif
ctl port add ma --type memif --option socket="$S/ma.sock" --option abstract=false \
	--option id=3 --option ring_size=512 --option buffer_size=2048 --option secret=s3cret >/dev/null || fail "port add ma"
ctl port add mb --type memif --option socket="$S/mb.sock" --option abstract=false --output ma >/dev/null || fail "port add mb"
ctl port set ma --output mb >/dev/null
[ -S "$S/ma.sock" ] && [ -S "$S/mb.sock" ] || fail "memif sockets not created: $(ls -la "$S")"
ctlj port show ma | jq -e '.role == "server" and .id == 3 and .ring_size == 512 and .abstract == false' >/dev/null \
	|| fail "port show ma: $(ctlj port show ma)"
ctlj port show ma | grep -q s3cret && fail "port show prints the memif secret"
start_pod a "net_memif0,role=client,id=3,secret=s3cret,socket=$S/ma.sock,socket-abstract=no" txonly --txpkts=64
start_pod b "net_memif0,role=client,socket=$S/mb.sock,socket-abstract=no" rxonly
wait_until 15 port_up ma || fail "ma link not up: $(tail -5 "$T/pod-a.log")"
wait_until 15 port_up mb || fail "mb link not up: $(tail -5 "$T/pod-b.log")"
grows pod_rx b || fail "pod b receives nothing; switch: ma rx $(port_rx ma), mb tx $(port_tx mb)"
ok "socket files: pod a -> podswitchd -> pod b over memif (pod b rx $(pod_rx b))"

# A pod restarts: the listener is still there, it connects again.
stop_pod b
wait_until 5 port_down mb || fail "mb link still up after pod b stopped"
start_pod b "net_memif0,role=client,socket=$S/mb.sock,socket-abstract=no" rxonly
wait_until 15 port_up mb || fail "mb link not up after pod b restarted"
grows pod_rx b || fail "pod b receives nothing after its restart"
ok "socket files: pod b restarted and reconnected, traffic resumed"

# A client with the wrong secret is not connected.
stop_pod a
start_pod a "net_memif0,role=client,id=3,secret=wrong,socket=$S/ma.sock,socket-abstract=no" txonly
sleep 3
port_down ma || fail "ma link up with a wrong secret"
stop_pod a; stop_pod b
ctl port del ma >/dev/null && ctl port del mb >/dev/null || fail "port del"
[ ! -e "$S/ma.sock" ] && [ ! -e "$S/mb.sock" ] || fail "socket files left after port del: $(ls "$S")"
ok "wrong secret refused; port del removed the socket files"

# --- 2. abstract sockets inside each pod's namespace: podswitchd creates the listener in
# the pod's netns; the pod (in that netns) finds it with no shared mount.
mkns ${NSP}a; mkns ${NSP}b
ctl port add na --type memif --option socket=/podswitch/na --option netns=/var/run/netns/${NSP}a >/dev/null || fail "port add na"
ctl port add nb --type memif --option socket=/podswitch/nb --option netns=/var/run/netns/${NSP}b --output na >/dev/null || fail "port add nb"
ctl port set na --output nb >/dev/null
ip netns exec ${NSP}a grep -q '@/podswitch/na$' /proc/net/unix || fail "no abstract listener @/podswitch/na in pod a's netns"
grep -q '@/podswitch/na$' /proc/net/unix && fail "abstract listener @/podswitch/na is in podswitchd's netns"
# The listener is reachable only from inside: run the pods there.
start_pod_ns() { local ns=$1; shift; local name=$1; shift
	# pods.sh's start_pod, inside the namespace
	ip netns exec "$ns" dpdk-testpmd --lcores 0@0,1@0 -m 128 --no-huge --no-pci --file-prefix "psw4$name$$" \
		--vdev "$1" -- --forward-mode="$2" --stats-period 1 --nb-cores=1 --total-num-mbufs=4096 \
		>"$T/pod-$name.log" 2>&1 &
	POD_PID[$name]=$!
	on_exit "stop_pod $name"
}
start_pod_ns ${NSP}a c "net_memif0,role=client,socket=/podswitch/na" txonly
start_pod_ns ${NSP}b d "net_memif0,role=client,socket=/podswitch/nb" rxonly
wait_until 15 port_up na || fail "na link not up: $(tail -5 "$T/pod-c.log")"
wait_until 15 port_up nb || fail "nb link not up: $(tail -5 "$T/pod-d.log")"
grows pod_rx d || fail "pod d receives nothing over abstract memif"
ok "abstract sockets in the pods' netns: pod c -> podswitchd -> pod d (pod d rx $(pod_rx d))"

# Same name twice is refused (DPDK keys listeners by name, whatever the netns).
ctl port add nc --type memif --option socket=/podswitch/na --option netns=/var/run/netns/${NSP}b 2>"$T/e1" && fail "duplicate socket name accepted"
grep -q "already used" "$T/e1" || fail "duplicate message: $(cat "$T/e1")"
ctl port add nd --type memif --option netns=/var/run/netns/no-such-ns$$ 2>"$T/e2" && fail "missing netns accepted"
grep -q "options.netns" "$T/e2" || fail "missing netns message: $(cat "$T/e2")"
stop_pod c; stop_pod d
ctl port del na >/dev/null && ctl port del nb >/dev/null || fail "port del na/nb"
ip netns exec ${NSP}a grep -q '@/podswitch/na$' /proc/net/unix && fail "abstract listener left in pod a's netns after port del"
# ...and the port can be made again (the listener was really closed).
ctl port add na --type memif --option socket=/podswitch/na --option netns=/var/run/netns/${NSP}a >/dev/null || fail "port add na again"
ctl port del na >/dev/null
stop_switch
ok "duplicate name and missing netns refused; port del closed the abstract listener; re-add works"
