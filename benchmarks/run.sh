#!/usr/bin/env bash
# benchmarks/run.sh BUILD_DIR [options]: what `make benchmark` runs. The p2p figure of
# issue 3, side by side: podswitchd, OVS-DPDK and dpdk-testpmd on the same set-up,
#
#   net_pcap (infinite_rx=1, 64-byte UDP, 1 / 1,000 / 100,000 flows)
#     -> the switch, one PMD on lcore 1 -> net_null (no-rx=1)
#
# then bench_lookup (the classifier and cache micro-benchmark) if it was built. One line
# per result; the table at the end; JSON in benchmarks/results/latest.json. Every process
# it starts is stopped on exit, also on failure or ^C. See benchmarks/README.md.
#
# Options:
#   --flows "1 1000 100000"   flow counts
#   --only LIST               comma list of podswitchd,ovs,testpmd,lookup (default: all)
#   --duration S              measuring window per scenario (default 5)
#   --warmup S                before each window (default 2)
#   --no-profile              skip perf record of the podswitchd scenarios
#   --quick                   --flows "1 100000" --duration 3, bench_lookup --quick
set -euo pipefail

usage() { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }

[ $# -ge 1 ] || usage 2
case $1 in -h|--help) usage 0 ;; esac
BUILD=$(cd "$1" && pwd); shift
SRC=$(cd "$(dirname "$0")/.." && pwd)
FLOWS="1 1000 100000"
ONLY=podswitchd,ovs,testpmd,lookup
DURATION_S=5
WARMUP_S=2
PROFILE=1
PROFILE_S=3
QUICK=
while [ $# -gt 0 ]; do
	case $1 in
	--flows) FLOWS=$2; shift ;;
	--only) ONLY=$2; shift ;;
	--duration) DURATION_S=$2; shift ;;
	--warmup) WARMUP_S=$2; shift ;;
	--no-profile) PROFILE=0 ;;
	--quick) QUICK=1; FLOWS="1 100000"; DURATION_S=3 ;;
	-h|--help) usage 0 ;;
	*) echo "run.sh: unknown option $1" >&2; usage 2 ;;
	esac
	shift
done
want() { [[ ",$ONLY," == *",$1,"* ]]; }

[ "$(id -u)" = 0 ] || { echo "run.sh: run as root (DPDK, hugepages, perf, netns)" >&2; exit 1; }
[ -x "$BUILD/switch/podswitchd" ] || { echo "run.sh: no $BUILD/switch/podswitchd (build first)" >&2; exit 1; }
[ "$(cat /proc/sys/vm/nr_hugepages)" -ge 512 ] && grep -qs hugetlbfs /proc/mounts || {
	echo "run.sh: needs hugepages (make hugepages, or: echo 1024 > /proc/sys/vm/nr_hugepages;" \
		"mount -t hugetlbfs nodev /dev/hugepages)" >&2; exit 1; }

T=$(mktemp -d /tmp/podswitch-bench.XXXXXX)
RESULTS=$SRC/benchmarks/results
mkdir -p "$RESULTS"
rm -f "$RESULTS"/profile-*.txt "$RESULTS"/ovs-pmd-stats-*.txt "$RESULTS"/podswitchd-flow-stats-*.json
: >"$T/results.tsv"
: >"$T/where.txt"

source "$SRC/benchmarks/lib.sh"
source "$SRC/benchmarks/p2p_podswitchd.sh"
source "$SRC/benchmarks/p2p_testpmd.sh"
source "$SRC/benchmarks/ovs.sh"

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	psw_stop
	tp_stop
	ovs_stop
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The TSC rate, for the on-CPU cycles (constant_tsc: the rate DPDK's rdtsc counts at).
TSC_MHZ=$(awk '/^cpu MHz/ {print $4; exit}' /proc/cpuinfo)

# Traffic: one pcap per flow count, kept in the build dir between runs.
PCAPS=$BUILD/benchmarks/pcaps
mkdir -p "$PCAPS"
npackets() { [ "$1" -gt 1024 ] && echo "$1" || echo 1024; }
for f in $FLOWS; do
	p=$PCAPS/udp64-$f.pcap
	if [ ! -s "$p" ] || [ "$p" -ot "$SRC/benchmarks/gen_pcap.py" ]; then
		/usr/bin/python3 "$SRC/benchmarks/gen_pcap.py" "$p.tmp" --flows "$f" --packets "$(npackets "$f")"
		mv "$p.tmp" "$p"
	fi
done

echo "# podswitch p2p benchmark, $(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# net_pcap infinite_rx (64-byte UDP) -> one PMD on lcore 1 -> net_null; warm-up ${WARMUP_S} s, window ${DURATION_S} s"
echo "# results as they come:"

if want testpmd && command -v dpdk-testpmd >/dev/null; then
	for f in $FLOWS; do bench_testpmd "$f" "$PCAPS/udp64-$f.pcap" "$(npackets "$f")" || echo "testpmd $f flows failed" >&2; done
fi
if want podswitchd; then
	for f in $FLOWS; do bench_podswitchd "$f" "$PCAPS/udp64-$f.pcap" "$(npackets "$f")" || echo "podswitchd $f flows failed" >&2; done
fi
if want ovs; then
	if ovs_available; then
		if ovs_start; then
			for f in $FLOWS; do bench_ovs "$f" "$PCAPS/udp64-$f.pcap" || echo "ovs $f flows failed" >&2; done
		else
			echo "ovs: could not start (log in $T/ovs is removed on exit):" >&2
			tail -20 "$T/ovs/ovs-vswitchd.log" >&2 || true
		fi
		ovs_stop
	else
		echo "ovs: $OVS_VSWITCHD not found: apt-get install openvswitch-switch-dpdk (skipped)" >&2
	fi
fi

# The table. Mpps = packets / wall seconds; cycles: own counter and on-CPU (lib.sh);
# ratios = on-CPU cycles of OVS-DPDK (same scenario, or NORMAL for static) or testpmd
# divided by ours: above 1 means podswitchd spends fewer cycles per packet.
awk -F'\t' -v mhz="$TSC_MHZ" '
	{ sys[NR] = $1; scen[NR] = $2; fl[NR] = $3; pk[NR] = $4; wall[NR] = $5; own[NR] = $6; run[NR] = $7; note[NR] = $8
	  cpu[NR] = pk[NR] ? $7 * mhz / 1000 / pk[NR] : 0
	  if ($1 == "ovs-dpdk") ovs[$2, $3] = cpu[NR]
	  if ($1 == "testpmd") tp[$3] = cpu[NR] }
	END {
		printf "\n%-10s %-12s %7s %7s %9s %9s %6s %8s %8s  %s\n", "system", "scenario", "flows", "Mpps",
		       "cyc/pkt", "cyc/pkt", "CPU", "OVS/us", "tpmd/us", ""
		printf "%-10s %-12s %7s %7s %9s %9s %6s %8s %8s\n", "", "", "", "(wall)", "(own)", "(on CPU)", "share", "(cyc)", "(cyc)"
		for (i = 1; i <= NR; i++) {
			o = ovs[scen[i] == "static" ? "normal" : scen[i], fl[i]]
			r1 = (sys[i] == "podswitchd" && o) ? sprintf("%.2f", o / cpu[i]) : "-"
			r2 = (sys[i] != "testpmd" && tp[fl[i]]) ? sprintf("%.2f", tp[fl[i]] / cpu[i]) : "-"
			printf "%-10s %-12s %7s %7.2f %9.1f %9.1f %5.0f%% %8s %8s  %s\n", sys[i], scen[i], fl[i],
			       pk[i] / wall[i] * 1000, own[i], cpu[i], 100 * run[i] / wall[i], r1, r2, note[i]
		}
	}' "$T/results.tsv" | tee "$T/table.txt"

# Targets of issue 3 for podswitchd normal: <= 55 cycles at 1 flow, <= 100 at 100,000.
awk -F'\t' -v mhz="$TSC_MHZ" '$1 == "podswitchd" && $2 == "normal" && ($3 == 1 || $3 == 100000) {
	c = $7 * mhz / 1000 / $4; t = $3 == 1 ? 55 : 100
	printf "target: podswitchd normal %s flow(s): %.1f cycles/packet on CPU (own counter %s), target <= %d: %s\n",
	       $3, c, $6, t, c <= t ? "met" : "MISSED" }' "$T/results.tsv"

# Where podswitchd's cycles go: each profile's self time turned into cycles per packet
# (share of samples x the scenario's on-CPU cycles). The drivers are summed per object.
if [ "$PROFILE" = 1 ] && ls "$RESULTS"/profile-podswitchd-*.txt >/dev/null 2>&1; then
	echo
	echo "# where podswitchd's cycles go (perf self time x on-CPU cycles/packet; top entries)"
	while IFS=$'\t' read -r sys scen fl pk wall own run note; do
		[ "$sys" = podswitchd ] || continue
		f=$RESULTS/profile-podswitchd-$scen-$fl.txt
		[ -f "$f" ] || continue
		awk -v cpp="$(awk -v r="$run" -v p="$pk" -v m="$TSC_MHZ" 'BEGIN{print r*m/1000/p}')" \
		    -v name="$scen $fl" '
			/^# by object/ { obj = 1; next }
			/^#/ { next }
			!obj && $2 == "podswitchd" { fn[++n] = $4; pc[n] = $1 + 0 }
			obj && $2 ~ /librte_net|kernel/ { fn[++n] = $2; pc[n] = $1 + 0 }
			END {
				for (i = 1; i <= n; i++)      # by share, largest first
					for (j = i + 1; j <= n; j++)
						if (pc[j] > pc[i]) {
							t = pc[i]; pc[i] = pc[j]; pc[j] = t
							t = fn[i]; fn[i] = fn[j]; fn[j] = t
						}
				line = sprintf("%-20s %5.1f =", name, cpp)
				for (i = 1; i <= n && i <= 10; i++) {
					sub(/\.so\.[0-9.]*$/, "", fn[i])
					line = line sprintf(" %s %.1f,", fn[i], pc[i] * cpp / 100)
				}
				sub(/,$/, "", line); print line
			}' "$f"
	done <"$T/results.tsv" | tee "$T/where.txt"
fi

LOOKUP_JSON=null
if want lookup && [ -x "$BUILD/benchmarks/bench_lookup" ]; then
	echo
	echo "# bench_lookup${QUICK:+ --quick} (parser, exact-match cache, classifier; one core, no ports)"
	"$BUILD/benchmarks/bench_lookup" ${QUICK:+--quick} | tee "$T/lookup.txt"
	LOOKUP_JSON=$(jq -R -s 'split("\n") | map(select(length > 0))' "$T/lookup.txt")
fi

jq -R -s --arg date "$(date -u +%FT%TZ)" --arg host "$(hostname)" --argjson mhz "$TSC_MHZ" \
	--arg cpu "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" \
	--arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --arg commit "$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
	--argjson lookup "$LOOKUP_JSON" --argjson window "$DURATION_S" \
	--argjson where "$(jq -R -s 'split("\n") | map(select(length > 0))' "$T/where.txt")" '
	split("\n") | map(select(length > 0) | split("\t")) |
	map({system: .[0], scenario: .[1], flows: (.[2] | tonumber), packets: (.[3] | tonumber),
	     seconds: ((.[4] | tonumber) / 1e9), mpps: ((.[3] | tonumber) / (.[4] | tonumber) * 1000),
	     cycles_per_packet_own: (.[5] | tonumber),
	     cycles_per_packet_cpu: ((.[6] | tonumber) * $mhz / 1000 / (.[3] | tonumber)),
	     cpu_share: ((.[6] | tonumber) / (.[4] | tonumber)), note: .[7]}) as $r |
	{date: $date, host: $host, cpu: $cpu, tsc_mhz: $mhz, load: $load, commit: $commit,
	 window_s: $window, setup: "net_pcap infinite_rx 64-byte UDP -> one PMD on lcore 1 -> net_null",
	 results: $r, podswitchd_cycles_by_function: $where, bench_lookup: $lookup}' "$T/results.tsv" >"$RESULTS/latest.json"
echo
echo "# JSON: $RESULTS/latest.json"
[ "$PROFILE" = 0 ] || echo "# profiles of the podswitchd PMD: $RESULTS/profile-*.txt"
