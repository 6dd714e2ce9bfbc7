# benchmarks/lib.sh: what every p2p scenario shares (sourced by run.sh): the clock, the
# PMD thread's on-CPU time, and one result record per measurement.
#
# Two cycle figures per result. "own" is the switch's own counter (podswitchd pmd.stats,
# OVS pmd-stats-show, testpmd --record-core-cycles): TSC cycles of busy iterations divided
# by packets. Wall-clock TSC also runs while the scheduler has given the PMD's CPU to
# another process, so on a shared machine "own" grows with the load. "cpu" divides the PMD
# thread's on-CPU time (/proc/PID/task/TID/schedstat, in ns, times the TSC rate) by the
# same packets: what the packet path costs when it runs. Ratios use "cpu".

now_ns() { date +%s%N; }

# thread_of PID REGEX: the id of PID's thread whose name matches REGEX (first match).
thread_of() {
	local pid=$1 re=$2 t
	for t in /proc/"$pid"/task/*; do
		if grep -Eq "$re" "$t/comm" 2>/dev/null; then
			basename "$t"
			return 0
		fi
	done
	return 1
}

# run_ns PID TID: nanoseconds TID has spent on a CPU.
run_ns() { awk '{print $1}' /proc/"$1"/task/"$2"/schedstat; }

# record SYSTEM SCENARIO FLOWS PACKETS WALL_NS OWN_CYCLES_PER_PACKET RUN_NS [NOTE]
record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "${8:-}" \
		>>"$T/results.tsv"
	printf '  %-10s %-12s %6s flows: %s packets in %.1f s, own %s cycles/packet, on CPU %.0f%%\n' \
		"$1" "$2" "$3" "$4" "$(awk -v w="$5" 'BEGIN{print w/1e9}')" "$6" \
		"$(awk -v r="$7" -v w="$5" 'BEGIN{print 100*r/w}')" >&2
	[ -z "${8:-}" ] || echo "  NOTE: $8" >&2
}

# profile NAME PID TID: sample TID for PROFILE_S seconds; the top symbols go to
# $RESULTS/profile-NAME.txt (perf uses cpu-clock where the VM has no PMU).
profile() {
	local name=$1 tid=$3 out=$RESULTS/profile-$1.txt
	[ "$PROFILE" = 1 ] || return 0
	command -v perf >/dev/null || return 0
	perf record -q -g -t "$tid" -o "$T/perf.data" -- sleep "$PROFILE_S" >/dev/null 2>&1 || return 0
	{
		echo "# $name: perf record -t $tid (PMD thread), ${PROFILE_S} s, self time by symbol"
		perf report -i "$T/perf.data" --stdio --no-children --sort dso,symbol -g none \
			--percent-limit 0.7 2>/dev/null | grep -v '^#' | grep -v '^$' | sed 's/ *- *- *$//'
		echo "# by object (the drivers: net_pcap's infinite_rx copy, net_null's free)"
		perf report -i "$T/perf.data" --stdio --no-children --sort dso -g none \
			--percent-limit 0.5 2>/dev/null | grep -v '^#' | grep -v '^$' | sed 's/ *- *- *$//'
	} >"$out"
	rm -f "$T/perf.data" "$T/perf.data.old"
}

# wait_for SECONDS CMD...: retry CMD until it succeeds.
wait_for() {
	local end=$((SECONDS + $1)); shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}
