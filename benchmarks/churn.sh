# benchmarks/churn.sh: changing tables while p2p traffic runs (sourced by run.sh; issue 11).
#
# churn: two net_pcap sources with 1,000 flows each (UDP source ports 1024..2023):
#   in  -> out   1,000 rules priority=100,in_port=in,udp,tp_src=N,actions=output:out that
#                stay for the whole run: the unchanged flows
#   in2 -> out2  the churned rules: churn_client.py adds B of them in one flow.add
#                (priority=100,in_port=in2,udp,tp_src=N,actions=output:out2, a cookie per
#                batch) and deletes them by cookie, over the control socket, as fast as
#                the switch answers; in2's packets without a rule drop as no_rule
# Figures: rule changes per second (adds + deletes), request latency, the PMD's cycles per
# packet before and during, and the loss on the unchanged flows: every packet of them the
# switch dropped (drops by reason at in and out), and in's rx minus out's tx (the same up to
# the packets of one iteration in flight while the counters are read). It must be zero.
# The control thread's share of a CPU in the window and, in round 1, a perf profile of it
# (profile-churn-control-B.txt): on CPU, or waiting (the state file's fsync).
#
# learn: in (1,000 flows, 02:00:00:00:00:01 -> 02:00:00:00:00:02, a static FDB entry on
# out) -> out, table `normal` (the L2 path) or `priority=10,udp,actions=normal` plus
# `priority=0,actions=normal` (the full path: parse, exact-match cache, classifier); a
# third port (net_af_packet on a veth whose peer is in a namespace of this run) receives
# frames from learn_sender.py, each from a new source MAC, at R per second (pinned to
# CPU 0). mac_aging_s 1 keeps the FDB from filling (entries age out as fast as they come).
# Figures: the PMD's cycles per packet of the traffic and Mpps before (R = 0) and during,
# and the learn events posted and lost.

CHURN_NS=pswlrn$$
CHURN_VETH=pswl$$
CHURN_BATCHES="1 100 1000"
LEARN_RATES="1000 10000"

churn_cleanup() {
	ip link del "${CHURN_VETH}a" 2>/dev/null || true
	ip netns del "$CHURN_NS" 2>/dev/null || true
}

# port_counter NAME FIELD: a field of port NAME's stats (jq path under .stats).
port_counter() { psw_ctl --json port show "$1" | jq "$2"; }

# churn_window BATCH: one window of rule churn (BATCH 0: none), recorded.
churn_window() {
	local batch=$1 t0 t1 r0 r1 m0 m1 js pk rx tx drops cl='{}' pp=""
	psw_ctl stats --clear >/dev/null && psw_ctl pmd stats --clear >/dev/null
	t0=$(now_ns); r0=$(run_ns "$PSW_PID" "$SW_TID"); m0=$(run_ns "$PSW_PID" "$PSW_PID")
	if [ "$batch" -gt 0 ]; then
		# where the control thread's CPU time goes while it changes rules
		profile "churn-control-$batch" "$PSW_PID" "$PSW_PID" &
		pp=$!
		cl=$(/usr/bin/python3 "$SRC/benchmarks/churn_client.py" "$T/psw.sock" --seconds "$DURATION_S" \
			--batch "$batch" --base 1024 --values 1000 \
			--template 'priority=100,cookie={c},in_port=in2,udp,tp_src={v},actions=output:out2') || return 1
	else
		sleep "$DURATION_S"
	fi
	js=$(psw_ctl --json stats)
	t1=$(now_ns); r1=$(run_ns "$PSW_PID" "$SW_TID"); m1=$(run_ns "$PSW_PID" "$PSW_PID")
	[ -z "$pp" ] || wait "$pp" || true
	pk=$(psw_ctl --json pmd stats | jq '.pmds[0].packets')
	rx=$(jq '.ports[] | select(.name == "in") | .rx_packets' <<<"$js")
	tx=$(jq '.ports[] | select(.name == "out") | .tx_packets' <<<"$js")
	drops=$(jq '[.ports[] | select(.name == "in" or .name == "out") | .drops] | add' <<<"$js")
	emit section=churn scenario=rules batch="$batch" round="$ROUND" \
		changes_per_s="$(jq -r '.changes_per_s // 0' <<<"$cl")" \
		latency_ms_median="$(jq -r '.latency_ms_median // 0' <<<"$cl")" \
		latency_ms_max="$(jq -r '.latency_ms_max // 0' <<<"$cl")" \
		unchanged_in="$rx" unchanged_out="$tx" unchanged_dropped="$drops" in_minus_out=$((rx - tx)) \
		packets="$pk" mpps="$(div "$pk" $(((t1 - t0) / 1000)) %.3f)" \
		cycles_per_packet_cpu="$(cyc $((r1 - r0)) "$pk")" seconds="$(div $((t1 - t0)) 1e9 %.3f)" \
		control_cpu_share="$(div $((m1 - m0)) $((t1 - t0)) %.3f)"
	printf '  churn batch %4s: %8s rule changes/s (request median %s ms, max %s ms), unchanged flows: %s in, %s out, %s dropped; PMD %s cycles/packet, %s Mpps; control thread on CPU %s%%\n' \
		"$batch" "$(jq -r '.changes_per_s // 0' <<<"$cl")" "$(jq -r '.latency_ms_median // "-"' <<<"$cl")" \
		"$(jq -r '.latency_ms_max // "-"' <<<"$cl")" "$rx" "$tx" "$drops" "$(cyc $((r1 - r0)) "$pk")" \
		"$(div "$pk" $(((t1 - t0) / 1000)))" "$(div $((100 * (m1 - m0))) $((t1 - t0)) %.0f)" >&2
}

bench_churn() {
	local p b
	p=$(pcap udp64 1000)
	psw_start_with 2048 "
    {\"name\": \"in\",   \"devargs\": \"net_pcap0,rx_pcap=$p,infinite_rx=1\"},
    {\"name\": \"in2\",  \"devargs\": \"net_pcap1,rx_pcap=$p,infinite_rx=1\"},
    {\"name\": \"out\",  \"devargs\": \"net_null0,no-rx=1\"},
    {\"name\": \"out2\", \"devargs\": \"net_null1,no-rx=1\"}" "" || return 1
	seq 1024 2023 | sed 's/.*/priority=100,in_port=in,udp,tp_src=&,actions=output:out/' >"$T/stable.rules"
	psw_do flow add -f "$T/stable.rules" || { psw_stop; return 1; }
	sleep "$WARMUP_S"
	for b in 0 $CHURN_BATCHES; do churn_window "$b" || echo "churn: batch $b failed" >&2; done
	psw_stop
}

# learn_window TABLE RATE: one window with RATE new source MACs per second (0: none).
LEARN_NEXT=0
learn_window() {
	local table=$1 rate=$2 t0 t1 r0 r1 p0 p1 pk sp="" sent=""
	if [ "$rate" -gt 0 ]; then
		ip netns exec "$CHURN_NS" taskset -c 0 /usr/bin/python3 "$SRC/benchmarks/learn_sender.py" \
			"${CHURN_VETH}b" --rate "$rate" --seconds $((DURATION_S + 2)) --dst 02:00:00:00:00:02 \
			--start "$LEARN_NEXT" >"$T/sender.json" &
		sp=$!
		sleep 1
	fi
	psw_ctl stats --clear >/dev/null
	p0=$(psw_ctl --json pmd stats | jq -c '.pmds[0].pipeline | [.learn_posted, .learn_lost]')
	psw_ctl pmd stats --clear >/dev/null
	t0=$(now_ns); r0=$(run_ns "$PSW_PID" "$SW_TID")
	sleep "$DURATION_S"
	p1=$(psw_ctl --json pmd stats)
	t1=$(now_ns); r1=$(run_ns "$PSW_PID" "$SW_TID")
	pk=$(port_counter in .stats.rx_packets)
	if [ -n "$sp" ]; then
		wait "$sp" || true
		sent=$(jq .rate "$T/sender.json")
		LEARN_NEXT=$(jq .next "$T/sender.json")
	fi
	local posted lost macs
	# pmd stats --clear leaves the pipeline's counters alone: differences
	posted=$(($(jq '.pmds[0].pipeline.learn_posted' <<<"$p1") - $(jq '.[0]' <<<"$p0")))
	lost=$(($(jq '.pmds[0].pipeline.learn_lost' <<<"$p1") - $(jq '.[1]' <<<"$p0")))
	macs=$(psw_ctl --json fdb list bench | jq '.entries | length')
	emit section=learn table="$table" rate="$rate" round="$ROUND" sent_per_s="${sent:-0}" \
		packets="$pk" mpps="$(div "$pk" $(((t1 - t0) / 1000)) %.3f)" \
		cycles_per_packet_own="$(jq '.pmds[0].cycles_per_packet * 10 | round / 10' <<<"$p1")" \
		cycles_per_packet_cpu="$(cyc $((r1 - r0)) "$pk")" learn_posted_per_s="$(div "$posted" "$(div $((t1 - t0)) 1e9 %.3f)" %.0f)" \
		learn_lost="$lost" fdb_entries_after="$macs" seconds="$(div $((t1 - t0)) 1e9 %.3f)"
	printf '  learn %-4s %6s new MACs/s (sent %s/s): traffic %s Mpps, %s cycles/packet on CPU; learn events %s posted, %s lost; FDB %s entries\n' \
		"$table" "$rate" "${sent:-0}" "$(div "$pk" $(((t1 - t0) / 1000)))" "$(cyc $((r1 - r0)) "$pk")" \
		"$posted" "$lost" "$macs" >&2
}

bench_learn() {
	local p table rate
	p=$(pcap udp64 1000)
	churn_cleanup
	ip netns add "$CHURN_NS"
	ip link add "${CHURN_VETH}a" type veth peer name "${CHURN_VETH}b" netns "$CHURN_NS"
	sysctl -qw "net.ipv6.conf.${CHURN_VETH}a.disable_ipv6=1"
	ip netns exec "$CHURN_NS" sysctl -qw "net.ipv6.conf.${CHURN_VETH}b.disable_ipv6=1"
	ip link set "${CHURN_VETH}a" up
	ip -n "$CHURN_NS" link set "${CHURN_VETH}b" up
	psw_start_with 2048 "
    {\"name\": \"in\",  \"devargs\": \"net_pcap0,rx_pcap=$p,infinite_rx=1\", \"network\": \"bench\"},
    {\"name\": \"out\", \"devargs\": \"net_null0,no-rx=1\", \"network\": \"bench\"},
    {\"name\": \"lrn\", \"devargs\": \"net_af_packet0,iface=${CHURN_VETH}a\", \"network\": \"bench\"}" \
		'"mac_aging_s": 1, "mac_limit_per_port": 1048576,' || { churn_cleanup; return 1; }
	psw_do fdb add bench 02:00:00:00:00:02 out || { psw_stop; churn_cleanup; return 1; }
	for table in l2 full; do
		psw_do flow clear
		case $table in
		l2) psw_do flow add "priority=0,actions=normal" ;;
		full) psw_do flow add "priority=10,udp,actions=normal" "priority=0,actions=normal" ;;
		esac
		sleep "$WARMUP_S"
		for rate in 0 $LEARN_RATES; do learn_window "$table" "$rate" || echo "learn: $table $rate failed" >&2; done
	done
	psw_stop
	churn_cleanup
}
