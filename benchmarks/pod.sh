# benchmarks/pod.sh: the PVP pod (sourced by run.sh): dpdk-testpmd with one port, the
# switch's vhost-user or memif peer, forwarding what it receives back to the switch.
#
#   vhost-user: net_virtio_user0,path=SOCK,server=1 (the pod owns the socket; every switch
#               connects to it as client: podswitchd's default mode, OVS's
#               dpdkvhostuserclient, testpmd's net_vhost client=1)
#   memif:      net_memif0,role=client,socket=SOCK,socket-abstract=no (every switch is the
#               memif server: podswitchd's own, OVS's and testpmd's DPDK net_memif)
#
# Both with 1024-entry rings, the pod's MAC 02:00:00:00:00:02 (the traffic's destination)
# and --eth-peer 02:00:00:00:00:03 (where mac mode sends: the sink's MAC). Modes: "io"
# sends every packet back untouched; "mac" rewrites source (its own MAC) and destination
# (the peer) as a pod that routes would. The pod's forwarding lcore runs on CPU 0, with the
# main threads; the switch's PMD has CPU 1. Hugepages, --in-memory: virtio-user shares its
# memory with the switch through the memfds DPDK makes with --single-file-segments.
# Interactive (-i) through a FIFO held open here, so the mode changes without a restart.
# OVS-DPDK sends from its PMD on tx queue 1 (queue 0 is its main thread's), and DPDK's
# memif server only has the rings its client asked for: over memif the pod of OVS takes
# two queue pairs (and OVS's port n_rxq=2), else every packet OVS sends to it fails.

POD_PID=
POD_FD=
POD_PREFIX=pswpod$$
POD_MAC=02:00:00:00:00:02
SINK_MAC=02:00:00:00:00:03
SRC_MAC=02:00:00:00:00:01

pod_cmd() { echo "$*" >&"$POD_FD"; }

pod_stop() {
	if [ -n "$POD_FD" ]; then
		pod_cmd stop 2>/dev/null || true
		pod_cmd quit 2>/dev/null || true
		exec {POD_FD}>&-
		POD_FD=
		for _ in $(seq 30); do kill -0 "$POD_PID" 2>/dev/null || break; sleep 0.1; done
	fi
	stop_pid "$POD_PID"
	POD_PID=
	dpdk_cleanup "$POD_PREFIX"
}

# pod_start TRANSPORT SOCKET [QUEUES]: start the pod (not yet forwarding; pod_mode starts
# it), with QUEUES queue pairs (default 1).
pod_start() {
	local transport=$1 sock=$2 q=${3:-1} vdev log=$T/pod.log
	case $transport in
	vhost) vdev="net_virtio_user0,path=$sock,server=1,queues=1,queue_size=1024,mac=$POD_MAC" ;;
	memif) vdev="net_memif0,role=client,socket=$sock,socket-abstract=no,rsize=10,mac=$POD_MAC" ;;
	esac
	rm -f "$T/pod.fifo" && mkfifo "$T/pod.fifo"
	stdbuf -oL dpdk-testpmd --lcores 0@0,1@0 --main-lcore 0 --file-prefix "$POD_PREFIX" --in-memory \
		--single-file-segments -m 256 --no-pci --log-level 'pmd.net.virtio.*:error' --vdev "$vdev" -- \
		-i --nb-cores=1 --rxq="$q" --txq="$q" --rxd=1024 --txd=1024 --total-num-mbufs=16384 --eth-peer="0,$SINK_MAC" \
		--no-flush-rx <"$T/pod.fifo" >"$log" 2>&1 &
	POD_PID=$!
	exec {POD_FD}>"$T/pod.fifo"
	if ! wait_for 30 grep -q 'testpmd>' "$log"; then
		echo "pod did not start:" >&2; tail -20 "$log" >&2; pod_stop; return 1
	fi
	# testpmd's prompt (-i) busy-polls stdin on the main thread, on the pod's CPU: at the
	# lowest priority it gives that CPU to the forwarding thread (about half of it
	# otherwise, and the pod, not the switch, would set every PVP figure).
	renice -n 19 -p "$POD_PID" >/dev/null
}

# pod_mode io|mac: (re)start forwarding in that mode.
pod_mode() {
	pod_cmd stop
	pod_cmd "set fwd $1"
	pod_cmd start
	wait_for 10 thread_of "$POD_PID" 'worker-1$' >/dev/null
}

# pod_run_ns: nanoseconds the pod's forwarding thread has been on a CPU.
pod_run_ns() {
	local tid
	tid=$(thread_of "$POD_PID" 'worker-1$') || { echo 0; return; }
	run_ns "$POD_PID" "$tid"
}
