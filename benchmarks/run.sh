#!/usr/bin/env bash
# benchmarks/run.sh BUILD_DIR [options]: what `make benchmark` runs. podswitchd, OVS-DPDK
# 3.1 and dpdk-testpmd side by side on the same set-up, one switch PMD on CPU 1:
#
#   p2p      net_pcap (infinite_rx=1, 64-byte UDP, 1 / 1,000 / 100,000 flows) -> switch
#            -> net_null (issue 3)
#   pvp      net_pcap -> switch -> vhost-user | memif -> testpmd pod (CPU 0) -> switch
#            -> net_null (issue 11)
#   million  p2p with 1,000,000 flows (podswitchd and testpmd; hugepages sized for it)
#   churn    rules added and removed while p2p traffic runs; loss on unchanged flows
#   learn    new source MACs per second while p2p traffic runs; cost to the other flows
#   vxlan    encap and decap against the same p2p without a tunnel; OVS-DPDK's userspace
#            VXLAN (br-int + br-phy) in the same rounds (issue 9)
#   lookup   bench_lookup, the parser/cache/classifier micro-benchmark
#
# Systems alternate run by run (A B C A B C) for several rounds; report.py prints the
# median, min and max per result and the paired ratios, and writes
# benchmarks/results/latest.{jsonl,md} and the plots. Every process it starts is stopped
# on exit, also on failure or ^C. See benchmarks/README.md.
#
# Options:
#   --only LIST        comma list of sections (default: all of the above)
#   --systems LIST     comma list of podswitchd,ovs,testpmd (default: all)
#   --flows "1 1000 100000"   flow counts of p2p, pvp and vxlan
#   --rounds N         pvp rounds (default 5); p2p and vxlan: --p2p-rounds N (default 2)
#   --transports "vhost memif"   PVP transports
#   --duration S       measuring window (default 3)
#   --warmup S         before each window (default 2)
#   --no-profile       skip perf record of podswitchd's PMD
#   --keep             keep the run's temp dir (logs of every process) and say where
#   --quick            flows "1 100000", 2 pvp rounds, 1 p2p round, 2 s windows, 1 s
#                      warm-up, bench_lookup --quick (about 12 minutes)
set -euo pipefail

usage() { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }

[ $# -ge 1 ] || usage 2
case $1 in -h|--help) usage 0 ;; esac
BUILD=$(cd "$1" && pwd); shift
SRC=$(cd "$(dirname "$0")/.." && pwd)
FLOWS="1 1000 100000"
ONLY=p2p,pvp,million,churn,learn,vxlan,lookup
SYSTEMS=podswitchd,ovs,testpmd
ROUNDS=5
P2P_ROUNDS=2
DURATION_S=3
WARMUP_S=2
PROFILE=1
PROFILE_S=3
QUICK=
KEEP=
PVP_TRANSPORTS="vhost memif"
while [ $# -gt 0 ]; do
	case $1 in
	--flows) FLOWS=$2; shift ;;
	--only) ONLY=$2; shift ;;
	--systems) SYSTEMS=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	--transports) PVP_TRANSPORTS=$2; shift ;;
	--p2p-rounds) P2P_ROUNDS=$2; shift ;;
	--duration) DURATION_S=$2; shift ;;
	--warmup) WARMUP_S=$2; shift ;;
	--no-profile) PROFILE=0 ;;
	--keep) KEEP=1 ;;
	--quick) QUICK=1; FLOWS="1 100000"; ROUNDS=2; P2P_ROUNDS=1; DURATION_S=2; WARMUP_S=1 ;;
	-h|--help) usage 0 ;;
	*) echo "run.sh: unknown option $1" >&2; usage 2 ;;
	esac
	shift
done
# The older spelling --only podswitchd,ovs,testpmd picks p2p systems.
if [[ ",$ONLY," =~ ,(podswitchd|ovs|testpmd), ]]; then
	SYSTEMS=$(tr ',' '\n' <<<"$ONLY" | grep -E '^(podswitchd|ovs|testpmd)$' | paste -sd,)
	ONLY=$(tr ',' '\n' <<<"$ONLY" | grep -vE '^(podswitchd|ovs|testpmd)$' | paste -sd,),p2p
fi
want() { [[ ",$ONLY," == *",$1,"* ]]; }
want_system() { local s=$1; [ "$s" != ovs-dpdk ] || s=ovs; [[ ",$SYSTEMS," == *",$s,"* ]]; }

[ "$(id -u)" = 0 ] || { echo "run.sh: run as root (DPDK, hugepages, perf, netns)" >&2; exit 1; }
[ -x "$BUILD/switch/podswitchd" ] || { echo "run.sh: no $BUILD/switch/podswitchd (build first)" >&2; exit 1; }
[ "$(cat /proc/sys/vm/nr_hugepages)" -ge 512 ] && grep -qs hugetlbfs /proc/mounts || {
	echo "run.sh: needs hugepages (make hugepages, or: echo 1024 > /proc/sys/vm/nr_hugepages;" \
		"mount -t hugetlbfs nodev /dev/hugepages)" >&2; exit 1; }

T=$(mktemp -d /tmp/podswitch-bench.XXXXXX)
RESULTS=$SRC/benchmarks/results
mkdir -p "$RESULTS"
rm -f "$RESULTS"/profile-*.txt "$RESULTS"/ovs-pmd-stats-*.txt "$RESULTS"/podswitchd-flow-stats-*.json
: >"$T/results.jsonl"
SECTION=p2p
ROUND=1
STARTED=$SECONDS

source "$SRC/benchmarks/lib.sh"
source "$SRC/benchmarks/p2p_podswitchd.sh"
source "$SRC/benchmarks/p2p_testpmd.sh"
source "$SRC/benchmarks/ovs.sh"
source "$SRC/benchmarks/pod.sh"
source "$SRC/benchmarks/pvp.sh"
source "$SRC/benchmarks/churn.sh"
source "$SRC/benchmarks/vxlan.sh"
source "$SRC/benchmarks/million.sh"

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	pod_stop
	psw_stop
	tp_stop
	ovs_stop
	churn_cleanup
	hugepages_restore
	if [ -n "$KEEP" ]; then echo "# kept $T" >&2; else rm -rf "$T"; fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# A testpmd that died (one segfaulted once in a 5-round PVP run) leaves its prompt's FIFO
# without a reader: the next command written to it must fail, not kill the run (SIGPIPE).
trap '' PIPE

# The TSC rate, for the on-CPU cycles (constant_tsc: the rate DPDK's rdtsc counts at).
TSC_MHZ=$(awk '/^cpu MHz/ {print $4; exit}' /proc/cpuinfo)

# Traffic: one pcap per flow count, kept in the build dir between runs.
PCAPS=$BUILD/benchmarks/pcaps
mkdir -p "$PCAPS"
npackets() { [ "$1" -gt 1024 ] && echo "$1" || echo 1024; }
# pcap NAME FLOWS [gen_pcap.py options]: $PCAPS/NAME-FLOWS.pcap, made if missing or older
# than gen_pcap.py.
pcap() {
	local name=$1 f=$2 p=$PCAPS/$1-$2.pcap
	shift 2
	if [ ! -s "$p" ] || [ "$p" -ot "$SRC/benchmarks/gen_pcap.py" ]; then
		/usr/bin/python3 "$SRC/benchmarks/gen_pcap.py" "$p.tmp" --flows "$f" --packets "$(npackets "$f")" "$@"
		mv "$p.tmp" "$p"
	fi
	echo "$p"
}
for f in $FLOWS; do pcap udp64 "$f" >/dev/null; done

DPDK_VERSION=$(dpkg-query -W -f='${Version}' dpdk 2>/dev/null || echo unknown)
OVS_VERSION=$({ "$OVS_VSWITCHD" --version 2>/dev/null || true; } | awk 'NR == 1 {print $NF}')
COMMIT=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$SRC" status --porcelain -- switch backends ctl 2>/dev/null)" ]; then COMMIT=$COMMIT+dirty; fi
emit section=machine date="$(date -u +%FT%TZ)" host="$(hostname)" \
	cpu="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" cpus="$(nproc)" \
	tsc_mhz="$TSC_MHZ" dpdk="$DPDK_VERSION" ovs="${OVS_VERSION:-none}" commit="$COMMIT" \
	kernel="$(uname -r)" load_start="$(cut -d' ' -f1-3 /proc/loadavg)" window_s="$DURATION_S" \
	warmup_s="$WARMUP_S" rounds="$ROUNDS" p2p_rounds="$P2P_ROUNDS" flows="$FLOWS"

echo "# podswitch benchmarks, $(date -u +%FT%TZ), commit $COMMIT, $(nproc) CPUs, TSC $TSC_MHZ MHz, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# sections: $ONLY; systems: $SYSTEMS; flows: $FLOWS; warm-up ${WARMUP_S} s, window ${DURATION_S} s"
echo "# results as they come:"

OVS_OK=1
if [[ ",$SYSTEMS," == *,ovs,* ]] && ! ovs_available; then
	echo "ovs: $OVS_VSWITCHD not found: apt-get install openvswitch-switch-dpdk (OVS skipped)" >&2
	OVS_OK=
fi

if want p2p; then
	SECTION=p2p
	for ROUND in $(seq "$P2P_ROUNDS"); do
		echo "# p2p round $ROUND of $P2P_ROUNDS" >&2
		for f in $FLOWS; do
			p=$PCAPS/udp64-$f.pcap
			if want_system testpmd; then bench_testpmd "$f" "$p" "$(npackets "$f")" || echo "testpmd $f flows failed" >&2; fi
			if want_system podswitchd; then bench_podswitchd "$f" "$p" "$(npackets "$f")" || echo "podswitchd $f flows failed" >&2; fi
			if want_system ovs && [ -n "$OVS_OK" ]; then
				if ovs_start; then
					bench_ovs "$f" "$p" || echo "ovs $f flows failed" >&2
				else
					echo "ovs: could not start:" >&2; tail -20 "$T/ovs/ovs-vswitchd.log" >&2 || true
				fi
				ovs_stop
			fi
		done
	done
fi

if want pvp; then
	SECTION=pvp
	[ -n "$OVS_OK" ] || PVP_SYSTEMS="podswitchd testpmd"
	bench_pvp
fi

if want million; then SECTION=million; ROUND=1; bench_million || echo "million: failed" >&2; fi
if want churn; then SECTION=churn; ROUND=1; bench_churn || echo "churn: failed" >&2; fi
if want learn; then SECTION=learn; ROUND=1; bench_learn || echo "learn: failed" >&2; fi
if want vxlan; then SECTION=vxlan; bench_vxlan || echo "vxlan: failed" >&2; fi

if want lookup && [ -x "$BUILD/benchmarks/bench_lookup" ]; then
	echo
	echo "# bench_lookup${QUICK:+ --quick} (parser, exact-match cache, classifier; one core, no ports)"
	"$BUILD/benchmarks/bench_lookup" ${QUICK:+--quick} | tee "$T/lookup.txt"
	while IFS= read -r l; do emit section=lookup line="$l"; done <"$T/lookup.txt"
fi

emit section=end load_end="$(cut -d' ' -f1-3 /proc/loadavg)" duration_s=$((SECONDS - STARTED))
cp "$T/results.jsonl" "$RESULTS/latest.jsonl"
echo
/usr/bin/python3 "$SRC/benchmarks/report.py" "$RESULTS/latest.jsonl" --out "$RESULTS"
echo
echo "# $((SECONDS - STARTED)) s. JSON lines: $RESULTS/latest.jsonl; table: $RESULTS/latest.md; plots: $RESULTS/*.png"
[ "$PROFILE" = 0 ] || echo "# profiles of the podswitchd PMD: $RESULTS/profile-*.txt"
