# tests/e2e/pods.sh: DPDK "pods" (dpdk-testpmd) and kernel pods (network namespaces) for
# the pod-interface tests (issue 4). Source after lib.sh. Every pod is stopped and every
# namespace deleted on exit.
#
# testpmd pods use no hugepages (--no-huge: EAL backs memory with a memfd, which
# virtio-user can share), so tests do not depend on what other processes hold. They run
# on CPU 0 (main and forwarding lcore both there: --lcores 0@0,1@0) so the switch's PMD
# keeps CPU 1; --stats-period keeps testpmd running without a tty and prints the
# counters that pod_rx/pod_tx read.

declare -A POD_PID=()
NSP=psw4n$$

# start_pod NAME VDEV FWD_MODE [testpmd args...]: background testpmd with one port.
start_pod() {
	local name=$1 vdev=$2 mode=$3; shift 3
	local prefix=psw4$name$$
	dpdk-testpmd --lcores 0@0,1@0 -m 128 --no-huge --no-pci --single-file-segments --file-prefix "$prefix" \
		--log-level 'pmd.net.virtio.*:error' --vdev "$vdev" -- \
		--forward-mode="$mode" --stats-period 1 --nb-cores=1 --total-num-mbufs=4096 \
		--no-flush-rx "$@" >"$T/pod-$name.log" 2>&1 &
	POD_PID[$name]=$!
	on_exit "stop_pod $name"
}

# stop_pod NAME [SIGNAL]
stop_pod() {
	local name=$1 sig=${2:-TERM} pid=${POD_PID[$1]:-}
	if [ -n "$pid" ]; then
		kill -"$sig" "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	POD_PID[$name]=
	rm -rf "/var/run/dpdk/psw4$name$$" /dev/hugepages/psw4"$name$$"map_* 2>/dev/null || true
}

pod_alive() { [ -n "${POD_PID[$1]:-}" ] && kill -0 "${POD_PID[$1]}" 2>/dev/null; }

# pod_rx NAME / pod_tx NAME: the pod's own last printed port counter (0 if none yet).
pod_rx() { { grep -o 'RX-packets: *[0-9]*' "$T/pod-$1.log" || echo 'RX-packets: 0'; } | tail -1 | grep -o '[0-9]*$'; }
pod_tx() { { grep -o 'TX-packets: *[0-9]*' "$T/pod-$1.log" || echo 'TX-packets: 0'; } | tail -1 | grep -o '[0-9]*$'; }

# Switch-side facts about a port.
port_up() { [ "$(jget .link.up port show "$1")" = true ]; }
port_down() { [ "$(jget .link.up port show "$1")" = false ]; }
port_rx() { jget .stats.rx_packets port show "$1"; }
port_tx() { jget .stats.tx_packets port show "$1"; }

# grows CMD ARGS...: the number CMD prints increases within 20 s (pods print their
# counters every second; a loaded 2-core machine can delay them).
_grew() { local a=$1; shift; [ "$("$@")" -gt "$a" ]; }
grows() { local a; a=$("$@"); wait_until 20 _grew "$a" "$@"; }

# mkns NAME: a network namespace deleted on exit.
mkns() {
	ip netns add "$1"
	on_exit "ip netns del $1"
	ip -n "$1" link set lo up
}

# Interactive testpmd, driven through a fifo (pod_cmd), for pods whose application must
# act, e.g. a DPDK memif client re-starting its port after the server came back.
# start_ipod NAME NETNS|- VDEV FWD_MODE
declare -A POD_FD=()
start_ipod() {
	local name=$1 ns=$2 vdev=$3 mode=$4 fd
	local pre=()
	[ "$ns" != - ] && pre=(ip netns exec "$ns")
	mkfifo "$T/pod-$name.in"
	exec {fd}<>"$T/pod-$name.in"
	POD_FD[$name]=$fd
	"${pre[@]}" stdbuf -oL dpdk-testpmd --lcores 0@0,1@0 -m 128 --no-huge --no-pci --file-prefix "psw4$name$$" \
		--vdev "$vdev" -- -i --forward-mode="$mode" --nb-cores=1 --total-num-mbufs=4096 \
		<"$T/pod-$name.in" >"$T/pod-$name.log" 2>&1 &
	POD_PID[$name]=$!
	on_exit "stop_pod $name"
	pod_cmd "$name" start
}
pod_cmd() { echo "$2" >&"${POD_FD[$1]}"; }
# ipod_rx NAME: ask for the port counters, then read them.
ipod_rx() { pod_cmd "$1" "show port stats 0"; sleep 0.3; pod_rx "$1"; }
