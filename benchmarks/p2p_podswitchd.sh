# benchmarks/p2p_podswitchd.sh: podswitchd p2p scenarios (sourced by run.sh).
#
#   net_pcap (infinite_rx=1, the flows' pcap) -> podswitchd, one PMD on lcore 1 -> net_null
#
# One podswitchd per flow count, five scenarios on it in turn, changed over the control
# socket: "normal" (network "bench", rule priority=0,actions=normal: the default config's
# learning switch; the sink never sends, so its MAC is unknown and every packet is an
# unknown-unicast flood to the one other port, as in OVS with NORMAL), "in_port" (only the
# rule in_port=in,actions=output:out), "static" (no rule; the port's static output) and
# "normal_known" (normal again, the destination MAC a static FDB entry on the sink,
# `fdb add`: every packet is a known unicast, as OVS's with `ovs-appctl fdb/add`) and
# "udp_out" (in_port=in,udp,actions=output:out: a rule on an L3 field, so the full path:
# parse, exact-match cache, classifier).

PSW_PID=

psw_stop() {
	[ -n "$PSW_PID" ] || return 0
	kill -TERM "$PSW_PID" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$PSW_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$PSW_PID" 2>/dev/null || true
	wait "$PSW_PID" 2>/dev/null || true
	PSW_PID=
	rm -rf "/var/run/dpdk/pswbench$$"
}

psw_ctl() { "$BUILD/ctl/podswitchctl" --socket "$T/psw.sock" "$@"; }
# psw_do ARGS: a podswitchctl command that must succeed (its message on stderr if not)
psw_do() { psw_ctl "$@" >/dev/null || { echo "podswitchctl $* failed" >&2; return 1; }; }

# psw_measure SCENARIO FLOWS: warm up, clear, measure, record.
psw_measure() {
	local scen=$1 flows=$2 tid t0 t1 r0 r1 js pkts own tx
	tid=$(thread_of "$PSW_PID" 'worker-1$') || { echo "podswitchd: no PMD thread on lcore 1" >&2; return 1; }
	sleep "$WARMUP_S"
	psw_ctl pmd stats --clear >/dev/null
	psw_ctl stats --clear >/dev/null
	t0=$(now_ns); r0=$(run_ns "$PSW_PID" "$tid")
	sleep "$DURATION_S"
	js=$(psw_ctl --json pmd stats)
	t1=$(now_ns); r1=$(run_ns "$PSW_PID" "$tid")
	pkts=$(jq '.pmds[0].packets' <<<"$js")
	own=$(jq '.pmds[0].cycles_per_packet * 100 | round / 100' <<<"$js")
	tx=$(psw_ctl --json port show out | jq .stats.tx_packets)
	# The sink must get what came in: a scenario that drops is not forwarding.
	local note=""
	if [ "$pkts" -eq 0 ] || [ "$((tx * 100 / pkts))" -lt 99 ]; then
		note="only $tx of $pkts packets reached the sink"
	fi
	record podswitchd "$scen" "$flows" "$pkts" $((t1 - t0)) "$own" $((r1 - r0)) "$note"
	# cache hits, misses, inserts, floods of the window (kept for whoever reads a profile)
	psw_ctl --json flow stats >"$RESULTS/podswitchd-flow-stats-$scen-$flows.json" 2>/dev/null || true
	profile "podswitchd-$scen-$flows" "$PSW_PID" "$tid"
}

# bench_podswitchd FLOWS PCAP PACKETS_IN_PCAP
bench_podswitchd() {
	local flows=$1 pcap=$2 npkts=$3
	local mbufs=$((npkts + 32768))
	local mem=$((256 + mbufs * 5 / 2048))

	rm -rf "$T/psw-state"
	cat >"$T/psw.json" <<JSON
{
  "eal": {"lcores": "0,1", "main_lcore": 0, "memory_mb": $mem, "file_prefix": "pswbench$$",
          "args": ["--no-pci", "--in-memory"]},
  "pmd_cpus": [1],
  "pmd_idle_sleep_us": 0,
  "mbufs": $mbufs,
  "control_socket": "$T/psw.sock",
  "state_dir": "$T/psw-state",
  "socket_dir": "$T/psw-sockets",
  "networks": [{"name": "bench"}],
  "ports": [
    {"name": "in",  "type": "dpdk", "devargs": "net_pcap0,rx_pcap=$pcap,infinite_rx=1", "network": "bench"},
    {"name": "out", "type": "dpdk", "devargs": "net_null0,no-rx=1", "network": "bench"}
  ],
  "flows": ["priority=0,actions=normal"]
}
JSON
	"$BUILD/switch/podswitchd" --config "$T/psw.json" >"$T/podswitchd-$flows.log" 2>&1 &
	PSW_PID=$!
	if ! wait_for 60 psw_ctl info >/dev/null 2>&1; then
		echo "podswitchd did not start:" >&2
		tail -20 "$T/podswitchd-$flows.log" >&2
		psw_stop
		return 1
	fi

	# Each scenario runs only if its set-up commands all succeed (run.sh calls this
	# function in an `||` list, where set -e does not apply).
	psw_measure normal "$flows" || echo "podswitchd: normal $flows not measured" >&2

	psw_do flow clear && psw_do flow add "in_port=in,actions=output:out" &&
		psw_measure in_port "$flows" || echo "podswitchd: in_port $flows not measured" >&2

	psw_do flow clear && psw_do port set in --output out &&
		psw_measure static "$flows" || echo "podswitchd: static $flows not measured" >&2

	psw_do port set in --output none && psw_do flow add "priority=0,actions=normal" &&
		psw_do fdb add bench 02:00:00:00:00:02 out &&
		psw_measure normal_known "$flows" || echo "podswitchd: normal_known $flows not measured" >&2

	# The full path: a rule on L3/L4 fields (parse, exact-match cache, classifier).
	psw_do flow clear && psw_do fdb flush && psw_do flow add "in_port=in,udp,actions=output:out" &&
		psw_measure udp_out "$flows" || echo "podswitchd: udp_out $flows not measured" >&2

	psw_stop
}

# psw_start_with PACKETS_IN_PCAPS PORTS_JSON [EXTRA_CONFIG_JSON]: podswitchd with these
# ports (JSON objects, comma-separated) and extra top-level keys (ending in a comma), for
# the churn, learn and vxlan scenarios. Sets PSW_PID and SW_TID (the PMD thread).
psw_start_with() {
	local mbufs=$(($1 + 32768)) ports=$2 extra=${3:-}
	rm -rf "$T/psw-state"
	cat >"$T/psw.json" <<JSON
{
  "eal": {"lcores": "0,1", "main_lcore": 0, "memory_mb": $((256 + mbufs * 5 / 2048)),
          "file_prefix": "pswbench$$", "args": ["--no-pci", "--in-memory"]},
  "pmd_cpus": [1], "pmd_idle_sleep_us": 0, "mbufs": $mbufs,
  "control_socket": "$T/psw.sock", "state_dir": "$T/psw-state", "socket_dir": "$T/psw-sockets",
  $extra
  "networks": [{"name": "bench"}],
  "ports": [$ports]
}
JSON
	"$BUILD/switch/podswitchd" --config "$T/psw.json" >"$T/podswitchd-$SECTION.log" 2>&1 &
	PSW_PID=$!
	wait_for 60 psw_ctl info >/dev/null 2>&1 || {
		echo "podswitchd did not start:" >&2; tail -20 "$T/podswitchd-$SECTION.log" >&2; psw_stop; return 1; }
	SW_TID=$(thread_of "$PSW_PID" 'worker-1$')
}
