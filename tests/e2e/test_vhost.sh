#!/usr/bin/env bash
# Issue 4: two DPDK pods (dpdk-testpmd with net_virtio_user) exchange traffic through
# podswitchd over vhost-user, with podswitchd as client (the pods own their sockets:
# virtio-user server=1) and as server (podswitchd creates the sockets, mode and group as
# asked). Link state follows the pod: down when it goes, up when it comes back, and
# traffic resumes without touching the switch. port.del removes what podswitchd created
# and nothing of the pod's.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pods.sh"

write_config "$T/sw.json"
start_switch "$T/sw.json"

# --- 1. client mode (the default): pods first, each blocks until podswitchd connects.
start_pod a "net_virtio_user0,path=$T/pa.sock,server=1,queues=1,mac=02:00:00:00:0a:01" txonly --txpkts=64
start_pod b "net_virtio_user0,path=$T/pb.sock,server=1,queues=1,mac=02:00:00:00:0b:01" rxonly
wait_until 20 test -S "$T/pa.sock" -a -S "$T/pb.sock" || fail "pods did not create their sockets: $(tail -3 "$T/pod-a.log" "$T/pod-b.log")"
# b first, so that everything a sends has somewhere to go.
ctl port add vb --type vhost-user --option socket="$T/pb.sock" >/dev/null || fail "port add vb"
ctl port add va --type vhost-user --option socket="$T/pa.sock" --output vb >/dev/null || fail "port add va"
ctl port set vb --output va >/dev/null
[ "$(jget .mode port show va)" = client ] || fail "va mode: $(ctlj port show va)"
wait_until 15 port_up va || fail "va link not up: $(ctlj port show va | jq -c .link); $(tail -5 "$T/pod-a.log")"
wait_until 15 port_up vb || fail "vb link not up"
grows pod_rx b || fail "pod b receives nothing; switch: va rx $(port_rx va), vb tx $(port_tx vb)"
grows port_tx vb || fail "switch does not send to vb"
[ "$(jget .stats.drops port show va)" = 0 ] || fail "drops on va: $(ctlj port show va | jq -c .stats)"
ok "client mode: pod a -> podswitchd -> pod b (pod b rx $(pod_rx b), switch va rx $(port_rx va))"

# The pod restarts: link goes down (the LSC event reaches the control loop), comes back
# up when the new pod opens its socket, and traffic resumes: podswitchd reconnects.
stop_pod b
wait_until 5 port_down vb || fail "vb link still up after pod b stopped"
# Meanwhile what a sends to b is dropped and counted, not queued.
pd() { jget .stats.drops_by_reason.port_down port show vb; }
grows pd || fail "no port_down drops counted while pod b is away: $(ctlj port show vb | jq -c .stats)"
start_pod b "net_virtio_user0,path=$T/pb.sock,server=1,queues=1,mac=02:00:00:00:0b:01" rxonly
wait_until 15 port_up vb || fail "vb link not up after pod b restarted"
grows pod_rx b || fail "pod b receives nothing after its restart"
ok "client mode: pod b away: link down, its traffic dropped as port_down; restarted: reconnected, traffic resumed"

# port.del in client mode leaves the pod's socket alone.
ctl port del va >/dev/null && ctl port del vb >/dev/null || fail "port del"
[ -S "$T/pa.sock" ] || fail "port del removed the pod's socket"
stop_pod a; stop_pod b
ok "client mode: port del keeps the pod's own socket"

# --- 1b. multi-queue: the port offers up to 4 queue pairs (and polls 4 rx queues); the
# pod negotiates 2 and sends on both.
# New socket paths: a testpmd that had to be killed leaves its server socket behind, and
# a new virtio-user server cannot bind over it.
start_pod a "net_virtio_user0,path=$T/qa.sock,server=1,queues=2" txonly --txpkts=64 --rxq=2 --txq=2
start_pod b "net_virtio_user0,path=$T/qb.sock,server=1,queues=1" rxonly
wait_until 20 test -S "$T/qa.sock" -a -S "$T/qb.sock" || fail "2-queue pods did not create their sockets: $(tail -3 "$T/pod-a.log" "$T/pod-b.log")"
ctl port add qa --type vhost-user --option socket="$T/qa.sock" --option queues=4 --rxq 4 >/dev/null || fail "port add qa"
ctl port add qb --type vhost-user --option socket="$T/qb.sock" --option queues=4 --output qa >/dev/null || fail "port add qb"
ctl port set qa --output qb >/dev/null
[ "$(jget .queues port show qa)" = 4 ] && [ "$(jget .rxq port show qa)" = 4 ] || fail "qa queues: $(ctlj port show qa)"
wait_until 30 port_up qa || fail "qa link not up with a 2-queue pod"
grows pod_rx b || fail "pod b receives nothing from a 2-queue pod"
ctl port del qa >/dev/null && ctl port del qb >/dev/null || fail "port del qa/qb"
stop_pod a; stop_pod b
ok "multi-queue: a pod negotiating 2 of 4 queue pairs sends through the switch"

# --- 2. server mode: podswitchd creates the sockets; the pods connect as clients. Up to
# 2 queue pairs offered, the pods take 1.
D=$T/sockets/srv
ctl port add sa --type vhost-user --option mode=server --option socket="$D/sa.sock" \
	--option queues=2 --option perm=0660 --option group=0 >/dev/null || fail "port add sa"
ctl port add sb --type vhost-user --option mode=server --option socket="$D/sb.sock" --output sa >/dev/null || fail "port add sb"
ctl port set sa --output sb >/dev/null
[ -S "$D/sa.sock" ] || fail "server socket $D/sa.sock not created"
[ "$(stat -c %a "$D/sa.sock")" = 660 ] || fail "socket mode $(stat -c %a "$D/sa.sock"), want 660"
[ "$(stat -c %a "$D")" = 770 ] || fail "socket dir mode $(stat -c %a "$D"), want 770"
port_down sa || fail "sa link up with no pod"
# This time b sends and a receives.
start_pod a "net_virtio_user0,path=$D/sa.sock,queues=1,mac=02:00:00:00:0a:02" rxonly
start_pod b "net_virtio_user0,path=$D/sb.sock,queues=1,mac=02:00:00:00:0b:02" txonly --txpkts=64
wait_until 15 port_up sa || fail "sa link not up: $(tail -5 "$T/pod-a.log")"
wait_until 15 port_up sb || fail "sb link not up"
grows pod_rx a || fail "pod a receives nothing; switch: sb rx $(port_rx sb), sa tx $(port_tx sa)"
ok "server mode: pod b -> podswitchd -> pod a (pod a rx $(pod_rx a))"

# A pod that restarts reconnects to the same socket.
stop_pod a
wait_until 5 port_down sa || fail "sa link still up after pod a stopped"
start_pod a "net_virtio_user0,path=$D/sa.sock,queues=1,mac=02:00:00:00:0a:02" rxonly
wait_until 15 port_up sa || fail "sa link not up after pod a restarted"
grows pod_rx a || fail "pod a receives nothing after its restart"
ok "server mode: pod a restarted and reconnected, traffic resumed"

# A second port on the same socket is refused; port.del removes the socket.
ctl port add sc --type vhost-user --option mode=server --option socket="$D/sa.sock" 2>"$T/e1" && fail "second port on one socket accepted"
grep -q "already used" "$T/e1" || fail "duplicate socket message: $(cat "$T/e1")"
stop_pod a; stop_pod b
ctl port del sa >/dev/null && ctl port del sb >/dev/null || fail "port del sa/sb"
[ ! -e "$D/sa.sock" ] && [ ! -e "$D/sb.sock" ] || fail "sockets left after port del: $(ls "$D")"
ok "server mode: duplicate socket refused; port del removed the sockets"

# --- 3. options are checked before anything is created.
ctl port add bad --type vhost-user --option mode=sideways 2>"$T/e2" && fail "bad mode accepted"
grep -q "options.mode" "$T/e2" || fail "bad mode message: $(cat "$T/e2")"
ctl port add bad --type vhost-user --option socket="$T/x,client=0" 2>"$T/e3" && fail "comma in socket accepted"
grep -q "options.socket" "$T/e3" || fail "bad socket message: $(cat "$T/e3")"
[ "$(ctlj port list | jq '.ports | length')" = 0 ] || fail "ports left: $(ctlj port list)"
stop_switch
ok "bad options refused naming the option; clean stop"
