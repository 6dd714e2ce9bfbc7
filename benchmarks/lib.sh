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

# record SYSTEM SCENARIO FLOWS PACKETS WALL_NS OWN_CYCLES_PER_PACKET RUN_NS [NOTE]: one
# p2p-style result (section $SECTION, round $ROUND) as a JSON line, and a line on stderr.
record() {
	emit section="$SECTION" system="$1" scenario="$2" flows="$3" round="$ROUND" packets="$4" \
		seconds="$(div "$5" 1e9 %.3f)" mpps="$(div "$4" $(($5 / 1000)) %.3f)" \
		cycles_per_packet_own="$6" cycles_per_packet_cpu="$(cyc "$7" "$4")" \
		cpu_share="$(div "$7" "$5" %.3f)" note="${8:-}"
	printf '  %-10s %-12s %7s flows r%s: %6.2f Mpps, own %6.1f cycles/packet, on CPU %6.1f (%.0f%% of the window)\n' \
		"$1" "$2" "$3" "$ROUND" "$(div "$4" $(($5 / 1000)))" "$6" "$(cyc "$7" "$4")" \
		"$(div $((100 * $7)) "$5" %.0f)" >&2
	[ -z "${8:-}" ] || echo "  NOTE: $8" >&2
}

# profile NAME PID TID: sample TID for PROFILE_S seconds; the top symbols go to
# $RESULTS/profile-NAME.txt (perf uses cpu-clock where the VM has no PMU).
profile() {
	local name=$1 tid=$3 out=$RESULTS/profile-$1.txt
	[ "$PROFILE" = 1 ] && [ "${ROUND:-1}" = 1 ] || return 0
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

# emit KEY=VALUE...: one JSON line in $T/results.jsonl (numbers stay numbers). Every
# measurement of every section goes through here; report.py reads the file.
emit() {
	local a=() kv
	for kv in "$@"; do a+=(--arg "${kv%%=*}" "${kv#*=}"); done
	jq -cn "${a[@]}" '$ARGS.named | map_values(
		if test("^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$") then tonumber else . end)' \
		>>"$T/results.jsonl"
}

# cyc NS PACKETS: TSC cycles per packet of NS nanoseconds on a CPU (0 when no packet).
cyc() { awk -v n="$1" -v p="$2" -v m="$TSC_MHZ" 'BEGIN { printf "%.1f", (p > 0 ? n * m / 1000 / p : 0) }'; }
# div A B [FORMAT]: A / B (0 when B is 0).
div() { awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN { printf f, (b != 0 ? a / b : 0) }'; }

# dpdk_cleanup PREFIX: the runtime directory and hugepage files a DPDK process left.
dpdk_cleanup() { rm -rf "/var/run/dpdk/$1" /dev/hugepages/"$1"map_* 2>/dev/null || true; }

# stop_pid PID: TERM, up to 5 s, then KILL; only a process this run started.
stop_pid() {
	local p=$1
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null || return 0
	for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}

# hugepages_ensure PAGES: at least PAGES free 2 MB pages; adds what is missing to the pool
# (remembered in HP_ADDED) and hugepages_restore gives it back at the end.
HP_ADDED=0
HP_SYS=/sys/kernel/mm/hugepages/hugepages-2048kB
hugepages_ensure() {
	local need=$1 free nr add
	free=$(cat "$HP_SYS/free_hugepages")
	[ "$free" -lt "$need" ] || return 0
	nr=$(cat "$HP_SYS/nr_hugepages")
	add=$((need - free + 16))
	echo $((nr + add)) >"$HP_SYS/nr_hugepages"
	HP_ADDED=$((HP_ADDED + $(cat "$HP_SYS/nr_hugepages") - nr))
	free=$(cat "$HP_SYS/free_hugepages")
	echo "# hugepages: $nr -> $(cat "$HP_SYS/nr_hugepages") (needed $need free, $free free now)" >&2
	[ "$free" -ge "$need" ]
}
hugepages_restore() {
	[ "$HP_ADDED" -gt 0 ] || return 0
	echo $(($(cat "$HP_SYS/nr_hugepages") - HP_ADDED)) >"$HP_SYS/nr_hugepages" || true
	HP_ADDED=0
}

# lines_gt FILE PATTERN N: FILE has more than N lines matching PATTERN (for wait_for, which
# runs its command again each time: a $(grep -c) in its arguments would be read only once).
lines_gt() { [ "$(grep -c "$2" "$1" 2>/dev/null || true)" -gt "$3" ]; }
