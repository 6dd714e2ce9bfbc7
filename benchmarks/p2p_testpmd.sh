# benchmarks/p2p_testpmd.sh: the floor, dpdk-testpmd io forwarding (sourced by run.sh).
#
#   net_pcap (infinite_rx=1) -> dpdk-testpmd --forward-mode=io, one forwarding core
#   (lcore 1) -> net_null
#
# io forwarding looks nothing up: what is left is the cost of the two drivers (net_pcap's
# infinite_rx copies every frame into a new mbuf; net_null frees it) and of the loop.
# testpmd -i busy-polls its command line, so it reads commands from a FIFO that this
# script holds open; "show fwd stats all" prints the cycles of --record-core-cycles
# (stdbuf -oL: its stdout is a file, block-buffered otherwise).

TP_PID=
TP_FD=

tp_stop() {
	if [ -n "$TP_FD" ]; then
		echo stop >&"$TP_FD" 2>/dev/null || true
		echo quit >&"$TP_FD" 2>/dev/null || true
		exec {TP_FD}>&-
		TP_FD=
	fi
	[ -n "$TP_PID" ] || return 0
	for _ in $(seq 50); do kill -0 "$TP_PID" 2>/dev/null || break; sleep 0.1; done
	kill -TERM "$TP_PID" 2>/dev/null || true
	sleep 0.5
	kill -KILL "$TP_PID" 2>/dev/null || true
	wait "$TP_PID" 2>/dev/null || true
	TP_PID=
	rm -rf "/var/run/dpdk/tpbench$$"
}

tp_cmd() { echo "$*" >&"$TP_FD"; }

# bench_testpmd FLOWS PCAP PACKETS_IN_PCAP
bench_testpmd() {
	local flows=$1 pcap=$2 npkts=$3 log=$T/testpmd-$1.log
	local mbufs=$((npkts + 32768))
	local mem=$((128 + mbufs * 5 / 2048))
	local tid t0 t1 r0 r1 n pkts own

	rm -f "$T/tp.fifo" && mkfifo "$T/tp.fifo"
	stdbuf -oL dpdk-testpmd -l 0,1 --main-lcore 0 --file-prefix "tpbench$$" --in-memory --no-pci -m "$mem" \
		--vdev "net_pcap0,rx_pcap=$pcap,infinite_rx=1" --vdev "net_null0,no-rx=1" -- \
		-i --forward-mode=io --nb-cores=1 --record-core-cycles --no-flush-rx \
		--total-num-mbufs="$mbufs" <"$T/tp.fifo" >"$log" 2>&1 &
	TP_PID=$!
	exec {TP_FD}>"$T/tp.fifo"
	if ! wait_for 60 grep -q 'testpmd>' "$log"; then
		echo "testpmd did not start:" >&2; tail -20 "$log" >&2; tp_stop; return 1
	fi
	tp_cmd start
	wait_for 10 thread_of "$TP_PID" 'worker-1$' >/dev/null || {
		echo "testpmd: no forwarding thread on lcore 1" >&2; tp_stop; return 1; }
	tid=$(thread_of "$TP_PID" 'worker-1$')
	sleep "$WARMUP_S"
	tp_cmd clear fwd stats all
	t0=$(now_ns); r0=$(run_ns "$TP_PID" "$tid")
	sleep "$DURATION_S"
	n=$(grep -c 'CPU cycles/packet' "$log" || true)
	tp_cmd show fwd stats all
	t1=$(now_ns); r1=$(run_ns "$TP_PID" "$tid")
	wait_for 10 lines_gt "$log" 'CPU cycles/packet' "$n" || {
		echo "testpmd printed no cycles:" >&2; tail -20 "$log" >&2; tp_stop; return 1; }
	# CPU cycles/packet=201.18 (total cycles=11232646534 / total io packets=55832480) at 2600 MHz Clock
	local line
	line=$(grep 'CPU cycles/packet' "$log" | sed -n "$((n + 1))p")
	own=$(sed -E 's/.*packet=([0-9.]+).*/\1/' <<<"$line")
	pkts=$(sed -E 's/.*packets=([0-9]+)\).*/\1/' <<<"$line")
	TSC_MHZ=${TSC_MHZ:-$(sed -E 's/.* at ([0-9]+) MHz.*/\1/' <<<"$line")}
	record testpmd "${SCENARIO:-io}" "$flows" "$pkts" $((t1 - t0)) "$own" $((r1 - r0))
	tp_stop
}
