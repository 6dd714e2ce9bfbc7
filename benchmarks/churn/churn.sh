#!/bin/bash
# benchmarks/churn/churn.sh: rule changes per second at table sizes 1,000 / 10,000 / 100,000,
# and what they cost the flows whose rules do not change (issue 11, churn). Run as root:
#
#   benchmarks/churn/churn.sh BUILD_DIR [--sizes 1000,10000,100000] [--duration S]
#                             [--batch B] [--flows F] [--out FILE]
#
# Set-up, per size (a fresh podswitchd each time, so that one size does not inherit the
# last one's table):
#
#   net_pcap0 (rx_pcap = F UDP flows to 10.1.x.y, infinite_rx=1) -> podswitchd, one PMD on
#   lcore 1, control thread on lcore 0 -> net_null0
#
# state_dir on disk (under /var/tmp, not tmpfs), so a state save costs what it costs on a
# node. churn.py (same folder) drives the control socket from lcore 0 (taskset) and prints
# one JSON line per phase (load, idle, bulk, single, pipe: see its header); this script
# collects them into --out (default BUILD/benchmarks/churn.jsonl) and prints a table.
# Everything it starts is stopped and removed on exit.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:?usage: churn.sh BUILD_DIR [--sizes LIST] [--duration S] [--batch B] [--flows F] [--out FILE]}
BUILD=$(cd "$BUILD" && pwd)
shift
SIZES=1000,10000,100000
DURATION=10
BATCH=1000
FLOWS=1000
OUT=$BUILD/benchmarks/churn.jsonl
while [ $# -gt 0 ]; do
	case $1 in
	--sizes) SIZES=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--batch) BATCH=$2; shift 2 ;;
	--flows) FLOWS=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	*) echo "churn.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done

T=$(mktemp -d /var/tmp/psw-churn.XXXXXX)
PSW_PID=
cleanup() {
	if [ -n "$PSW_PID" ]; then
		kill -TERM "$PSW_PID" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$PSW_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$PSW_PID" 2>/dev/null || true
		wait "$PSW_PID" 2>/dev/null || true
		PSW_PID=
	fi
	rm -rf "/var/run/dpdk/pswchurn$$" "$T"
}
trap cleanup EXIT INT TERM

mkdir -p "$(dirname "$OUT")"
: >"$OUT"
for size in ${SIZES//,/ }; do
	# a quarter of a small table carries the traffic (churn.py does the same)
	flows=$(( FLOWS < size / 4 ? FLOWS : size / 4 ))
	[ -f "$T/flows-$flows.pcap" ] || python3 "$HERE/churn.py" pcap "$T/flows-$flows.pcap" --flows "$flows"
	rm -rf "$T/state"
	cat >"$T/psw.json" <<JSON
{
  "eal": {"lcores": "0,1", "main_lcore": 0, "memory_mb": 512, "file_prefix": "pswchurn$$",
          "args": ["--no-pci", "--in-memory"]},
  "pmd_cpus": [1],
  "pmd_idle_sleep_us": 0,
  "mbufs": 65536,
  "control_socket": "$T/psw.sock",
  "state_dir": "$T/state",
  "socket_dir": "$T/sockets",
  "ports": [
    {"name": "in",  "type": "dpdk", "devargs": "net_pcap0,rx_pcap=$T/flows-$flows.pcap,infinite_rx=1"},
    {"name": "out", "type": "dpdk", "devargs": "net_null0,no-rx=1"}
  ]
}
JSON
	"$BUILD/switch/podswitchd" --config "$T/psw.json" >"$T/podswitchd-$size.log" 2>&1 &
	PSW_PID=$!
	for _ in $(seq 300); do
		[ -S "$T/psw.sock" ] && "$BUILD/ctl/podswitchctl" --socket "$T/psw.sock" info \
			>/dev/null 2>&1 && break
		sleep 0.2
	done
	echo "size $size: podswitchd $PSW_PID" >&2
	taskset -c 0 python3 "$HERE/churn.py" run --socket "$T/psw.sock" --pid "$PSW_PID" \
		--size "$size" --flows "$FLOWS" --batch "$BATCH" --duration "$DURATION" | tee -a "$OUT"
	kill -TERM "$PSW_PID"
	wait "$PSW_PID" || true
	PSW_PID=
	rm -rf "/var/run/dpdk/pswchurn$$"
done

# One line per size and phase.
printf '\n%-7s %-6s %10s %9s %10s %10s %8s %7s %6s %s\n' size phase changes/s ctl_us/ch \
	rpc_us p99_us cyc/pkt oncpu hit% "drops (unchanged flows)"
jq -r '[.size, .phase, .changes_per_s, (.ctl_us_per_change // "-"), (.rpc_mean_us // "-"),
	(.rpc_p99_us // "-"), (.cycles_per_packet // "-"), (.oncpu_cycles_per_packet // "-"),
	(.cache_hit_pct // "-"),
	((.drops // {}) | to_entries | map("\(.key)=\(.value)") | join(",") | if . == "" then "0" else . end)]
	| @tsv' "$OUT" |
	awk -F'\t' '{ printf "%-7s %-6s %10s %9s %10s %10s %8s %7s %6s %s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }'
