#!/usr/bin/env bash
# Issue 10, more than one PMD: two PMDs (lcores 1 and 2 sharing CPU 1, idle back-off).
# 1. A vhost-user pod that enables 1 of the 4 queue pairs its port offers receives from
#    both PMDs: two kernel pods send on tap ports pinned one to each PMD, both forward to
#    it, and nothing is dropped as tx_full (the PMDs share the one enabled tx queue;
#    before, PMD 1 sent into a disabled vring and every packet of its share was a
#    tx_full drop: 507 of 1014).
# 2. `pmd rxq` shows each rx queue on one PMD with its packets and share of busy cycles;
#    `port set --rxq-pmd` pins queues (refusing a queue the port lacks or a core without a
#    PMD), traffic keeps flowing, and the pins survive a restart (state file).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pods.sh"

PSW_PMDS=2
write_config "$T/sw.json"
start_switch "$T/sw.json"
[ "$(ctlj info | jq -c .pmd_cpus)" = "[1,2]" ] || fail "pmd_cpus: $(ctlj info | jq -c .pmd_cpus)"

# --- 1. vhost-user: 2 PMDs into a pod with 1 of 4 queue pairs enabled. Two kernel pods
# send on tap ports pinned one to each PMD (--rxq-pmd at port add), both with pod b as
# static output: the senders are pings (100 packets/s each) and pod b has 1024-slot
# rings, so pod b keeps up.
start_pod b "net_virtio_user0,path=$T/qb.sock,server=1,queues=1,queue_size=1024,mac=02:45:00:00:00:0b" rxonly
wait_until 20 test -S "$T/qb.sock" || fail "pod b did not create its socket: $(tail -3 "$T/pod-b.log")"
ctl port add qb --type vhost-user --option socket="$T/qb.sock" --option queues=4 --rxq 4 >/dev/null || fail "port add qb"
[ "$(jget .txq port show qb)" = 2 ] && [ "$(jget .rxq port show qb)" = 4 ] || fail "qb queues: $(ctlj port show qb | jq -c '{txq, rxq}')"
IFA=t10a$$; IFB=t10b$$
ctl port add ta --type tap --option ifname=$IFA --output qb --rxq-pmd 0:1 >/dev/null || fail "port add ta"
ctl port add tb --type tap --option ifname=$IFB --output qb --rxq-pmd 0:2 >/dev/null || fail "port add tb"
mkns ${NSP}a; mkns ${NSP}b
pod_net() { local ns=$1 dev=$2 ip=$3
	ip link set "$dev" netns "$ns"
	ip -n "$ns" link set "$dev" name eth0
	ip -n "$ns" addr add "$ip" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" neigh add 10.45.0.11 lladdr 02:45:00:00:00:0b dev eth0
}
pod_net ${NSP}a $IFA 10.45.0.1/24
pod_net ${NSP}b $IFB 10.45.0.2/24
wait_until 30 port_up qb || fail "qb link not up: $(tail -5 "$T/pod-b.log")"
# The pod enabled one queue pair: both PMDs send on tx queue 0, under the lock.
wait_until 10 '[ "$(ctlj port show qb | jq -c .pmd_txq)" = "[0,0]" ]' || fail "qb tx queues by PMD: $(ctlj port show qb | jq -c '{pmd_txq, tx_shared}')"
[ "$(jget .tx_shared port show qb)" = true ] || fail "qb tx queue not shared"
ctl stats --clear >/dev/null
ip netns exec ${NSP}a ping -q -c 500 -i 0.01 10.45.0.11 >/dev/null 2>&1 &
pa=$!
ip netns exec ${NSP}b ping -q -c 500 -i 0.01 10.45.0.11 >/dev/null 2>&1 || true
wait $pa || true
rxq() { ctlj pmd rxq | jq -r --arg p "$1" --argjson q "$2" ".rxqs[] | select(.port == \$p and .queue == \$q) | .$3"; }
[ "$(rxq ta 0 core)" = 1 ] && [ "$(rxq tb 0 core)" = 2 ] || fail "ta/tb not on cores 1/2: $(ctlj pmd rxq | jq -c .rxqs)"
sent() { echo $(( $(port_rx ta) + $(port_rx tb) )); }
# Every packet received is sent or counted (the kernel pods may still add a packet of
# their own, IPv6 neighbour discovery: sample until the counts agree).
counted() {
	in=$(sent); tx=$(port_tx qb); full=$(jget .stats.drops_by_reason.tx_full port show qb)
	[ $((tx + full)) = "$in" ] && [ "$in" = "$(sent)" ]
}
wait_until 10 counted || true
[ "$(port_rx ta)" -ge 500 ] && [ "$(port_rx tb)" -ge 500 ] || fail "pods sent $(port_rx ta) and $(port_rx tb), want 500 each"
# Into a disabled vring, half of them (PMD 2's share) would be tx_full drops. The pod
# itself refuses a few (the same set-up with one PMD: 28 of 1015 on this machine, under
# load; they fall on both PMDs alike): allow 1 in 10, no more.
[ $((full * 10)) -le "$in" ] || fail "qb: $full tx_full drops, $tx sent of $in (a PMD sends into a disabled vring?)"
[ $((tx + full)) = "$in" ] || fail "qb sent $tx and dropped $full of the $in packets the two PMDs received"
grows pod_rx b || true
ok "vhost-user: 2 PMDs into a pod with 1 of 4 queue pairs enabled: $tx of $in sent, $full tx_full"
ctl port del ta >/dev/null && ctl port del tb >/dev/null || fail "port del ta/tb"

# --- 2. pmd rxq, pinning.
[ "$(ctlj pmd rxq | jq '.rxqs | length')" = 4 ] || fail "pmd rxq: $(ctlj pmd rxq | jq -c .rxqs), want qb's 4 queues"
[ "$(ctlj pmd rxq | jq '[.rxqs[].pmd] | unique | length')" = 2 ] || fail "qb's queues not spread over both PMDs: $(ctlj pmd rxq | jq -c .rxqs)"
ctl pmd rxq | grep -q '^PMD  *CORE  *PORT' || fail "pmd rxq table: $(ctl pmd rxq)"

# Bad pins change nothing and name the field.
out=$(ctl port set qb --rxq-pmd 7:1 2>&1) && fail "queue 7 of a 4-queue port pinned"
grep -q 'rxq_pmd.7' <<<"$out" || fail "error does not name rxq_pmd.7: $out"
out=$(ctl port set qb --rxq-pmd 0:5 2>&1) && fail "pinned to core 5, which runs no PMD"
grep -q 'core 5 runs no PMD' <<<"$out" || fail "error does not name the core: $out"
[ "$(ctlj port show qb | jq -c .rxq_pmd)" = "{}" ] || fail "a refused pin stuck: $(ctlj port show qb | jq -c .rxq_pmd)"

# Pin queues 0 and 1 to lcore 2: that PMD polls only them; the rest go to lcore 1.
ctl port set qb --rxq-pmd 0:2,1:2 >/dev/null || fail "port set --rxq-pmd"
[ "$(rxq qb 0 core)" = 2 ] && [ "$(rxq qb 1 core)" = 2 ] || fail "pinned queues not on core 2: $(ctlj pmd rxq | jq -c .rxqs)"
[ "$(rxq qb 0 pinned)" = true ] || fail "qb 0 not shown pinned"
others=$(ctlj pmd rxq | jq -r '[.rxqs[] | select(.pinned | not) | .core] | unique | join(",")')
[ "$others" = 1 ] || fail "unpinned queues on cores '$others', want 1 (lcore 2 is isolated)"
ok "pmd rxq: each queue on one PMD; --rxq-pmd pins (lcore 2 isolated), refuses bad pins"

# The pins are saved with the port and come back after a restart.
stop_switch
start_switch "$T/sw.json"
wait_until 30 port_up qb || fail "qb link not up after restart"
[ "$(ctlj port show qb | jq -c .rxq_pmd)" = '{"0":2,"1":2}' ] || fail "pins after restart: $(ctlj port show qb | jq -c .rxq_pmd)"
[ "$(rxq qb 0 core)" = 2 ] && [ "$(rxq qb 0 pinned)" = true ] || fail "qb 0 not pinned to core 2 after restart: $(ctlj pmd rxq | jq -c .rxqs)"
wait_until 10 '[ "$(ctlj port show qb | jq -c .pmd_txq)" = "[0,0]" ]' || fail "after restart, qb tx queues by PMD: $(ctlj port show qb | jq -c .pmd_txq)"
# none unpins.
ctl port set qb --rxq-pmd none >/dev/null || fail "port set --rxq-pmd none"
[ "$(ctlj port show qb | jq -c .rxq_pmd)" = "{}" ] || fail "pins left after none"
[ "$(ctlj pmd rxq | jq '[.rxqs[] | select(.pinned)] | length')" = 0 ] || fail "queues still pinned"
ok "pins saved in the state file and restored; none unpins"

ctl port del qb >/dev/null || fail "port del qb"
stop_pod b
stop_switch
