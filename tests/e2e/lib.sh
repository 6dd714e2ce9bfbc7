# tests/e2e/lib.sh: shared helpers for the integration tests (source it).
# Every test gets its own temp dir, DPDK file prefix and control socket, and removes
# everything it started on exit (register more with `on_exit CMD`).
set -euo pipefail

BUILD=${BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../build" && pwd)}
SRC=${SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PY=/usr/bin/python3
PODSWITCHD=$BUILD/switch/podswitchd
PODSWITCHCTL=$BUILD/ctl/podswitchctl
T=$(mktemp -d /tmp/psw-test.XXXXXX)
SOCK=$T/podswitchd.sock
PREFIX=psw$$
SWITCH_PID=
_exit_cmds=()

on_exit() { _exit_cmds+=("$*"); }
_cleanup() {
	local rc=$?
	for ((i = ${#_exit_cmds[@]} - 1; i >= 0; i--)); do eval "${_exit_cmds[$i]}" >/dev/null 2>&1 || true; done
	if [ -n "$SWITCH_PID" ] && kill -0 "$SWITCH_PID" 2>/dev/null; then
		kill -TERM "$SWITCH_PID" 2>/dev/null; sleep 1; kill -KILL "$SWITCH_PID" 2>/dev/null || true
	fi
	if [ $rc -ne 0 ] && [ -f "$T/podswitchd.log" ]; then
		echo "--- podswitchd.log (last 30 lines)"; tail -30 "$T/podswitchd.log"
	fi
	[ -n "${KEEP:-}" ] || rm -rf "$T" "/var/run/dpdk/$PREFIX"
	exit $rc
}
trap _cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	# PSW_HOLD=SECONDS: keep everything running that long to look at it (T=$T)
	if [ -n "${PSW_HOLD:-}" ]; then echo "holding $T for $PSW_HOLD s" >&2; sleep "$PSW_HOLD"; fi
	exit 1
}
ok() { echo "ok - $*"; }
ctl() { "$PODSWITCHCTL" --socket "$SOCK" "$@"; }
ctlj() { "$PODSWITCHCTL" --socket "$SOCK" --json "$@"; }

# write_config FILE [extra top-level JSON members, e.g. '"ports": [...]']
# PSW_PMDS=N (1..4, default 1) runs N PMDs: lcores 1..N all on CPU 1 (this project's
# machines have 2 CPUs), each backing off when idle; correctness, not speed.
write_config() {
	local f=$1; shift
	local extra=${1:-}
	local n=${PSW_PMDS:-1} lcores="0,1" cpus="1" i
	case $n in 1|2|3|4) ;; *) fail "PSW_PMDS=$n: 1..4";; esac
	if [ "$n" -gt 1 ]; then
		lcores=0; cpus=
		for ((i = 1; i <= n; i++)); do lcores+=",$i@1"; cpus+="${cpus:+,}$i"; done
	fi
	cat >"$f" <<JSON
{
  "eal": {"lcores": "$lcores", "main_lcore": 0, "memory_mb": 256, "file_prefix": "$PREFIX",
          "args": ["--no-pci", "--in-memory"]},
  "pmd_cpus": [$cpus],
  "pmd_idle_sleep_us": ${PSW_IDLE_SLEEP_US:-100},
  "mbufs": 8192,
  "control_socket": "$SOCK",
  "state_dir": "$T/state",
  "socket_dir": "$T/sockets"${extra:+,
  $extra}
}
JSON
}

# start_switch CONFIG: runs podswitchd in the background, waits for its socket.
start_switch() {
	"$PODSWITCHD" --config "$1" >>"$T/podswitchd.log" 2>&1 &
	SWITCH_PID=$!
	for _ in $(seq 1 100); do
		[ -S "$SOCK" ] && ctl info >/dev/null 2>&1 && return 0
		kill -0 "$SWITCH_PID" 2>/dev/null || { cat "$T/podswitchd.log"; fail "podswitchd exited at start"; }
		sleep 0.1
	done
	fail "podswitchd did not open $SOCK"
}

# stop_switch: SIGTERM, expect exit 0 and the socket removed.
stop_switch() {
	local rc=0
	kill -TERM "$SWITCH_PID"
	wait "$SWITCH_PID" || rc=$?
	SWITCH_PID=
	[ $rc -eq 0 ] || fail "podswitchd exited with $rc on SIGTERM"
	[ ! -e "$SOCK" ] || fail "control socket $SOCK left behind"
}

# jq on a podswitchctl --json reply: jget '.stats.rx_packets' port show in
jget() { local q=$1; shift; ctlj "$@" | jq -r "$q"; }

# wait_until SECONDS 'CONDITION': retry until the shell condition holds. Give it ONE
# single-quoted string, so that a $(...) inside is evaluated on every try:
#   wait_until 10 '[ "$(jget .stats.tx_packets port show out)" = 100 ]'
# (several arguments run as one command, evaluated once per try as well).
wait_until() {
	local t=$1; shift
	local end=$((SECONDS + t))
	until if [ $# -eq 1 ]; then eval "$1"; else "$@"; fi; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}

pcap() { "$PY" "$SRC/tests/e2e/pcap.py" "$@"; }
