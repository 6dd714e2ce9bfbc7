# benchmarks/pvp.sh: PVP, the path a pod takes (sourced by run.sh; issue 11).
#
#   net_pcap (infinite_rx=1) -> switch (one PMD, CPU 1) -> vhost-user | memif -> pod
#   (dpdk-testpmd, pod.sh, CPU 0) -> switch -> net_null
#
# Every packet crosses the switch twice; the switch's PMD does both hops. Systems:
#   podswitchd   port "pod" of type vhost-user (client) or memif (its own server);
#                io: rules in_port=in,actions=output:pod and in_port=pod,actions=output:out;
#                mac: rule priority=0,actions=normal, the pod's MAC learned from what it
#                sends, the sink's MAC a static FDB entry (fdb add).
#   ovs-dpdk     dpdkvhostuserclient, or net_memif (role=server) as a type=dpdk port;
#                io: in_port=1,actions=output:3 / in_port=3,actions=output:2; mac: NORMAL
#                with the sink's MAC added by ovs-appctl fdb/add.
#   testpmd      the ceiling: dpdk-testpmd io forwarding, ports pcap, pod (net_vhost
#                client=1 or net_memif role=server), null in --port-topology=chained
#                (0 -> 1 -> 2): one forwarding core polls both directions like a switch.
# The pod is in io mode for the "io" scenario and mac mode for "mac", for every system.
#
# One group = one system, one transport, one flow count: the switch is started, then for
# each scenario a fresh pod in that mode; warmed up, measured, the pod stopped. run.sh alternates the
# systems group by group (A B C A B C ...) for ROUNDS rounds. Per measurement: packets at
# the sink, packets the switch polled, what it could not hand to the pod (ring full, link
# down, other), the PMD's own busy cycles and its on-CPU time per packet at the sink, and
# the pod's CPU share.

PVP_SYSTEMS="podswitchd ovs-dpdk testpmd"

# --- podswitchd ---------------------------------------------------------------------

pvp_psw_start() {
	local transport=$1 pcap=$2 npkts=$3 sock=$4 podport
	local mbufs=$((npkts + 32768))
	local mem=$((256 + mbufs * 5 / 2048))
	case $transport in
	vhost) podport="{\"name\": \"pod\", \"type\": \"vhost-user\", \"network\": \"bench\", \"options\": {\"socket\": \"$sock\"}}" ;;
	memif) podport="{\"name\": \"pod\", \"type\": \"memif\", \"network\": \"bench\", \"options\": {\"socket\": \"$sock\", \"abstract\": false}}" ;;
	esac
	rm -rf "$T/psw-state"
	cat >"$T/psw.json" <<JSON
{
  "eal": {"lcores": "0,1", "main_lcore": 0, "memory_mb": $mem, "file_prefix": "pswbench$$",
          "args": ["--no-pci", "--in-memory"]},
  "pmd_cpus": [1], "pmd_idle_sleep_us": 0, "mbufs": $mbufs,
  "control_socket": "$T/psw.sock", "state_dir": "$T/psw-state", "socket_dir": "$T/psw-sockets",
  "networks": [{"name": "bench"}],
  "ports": [
    {"name": "in",  "type": "dpdk", "devargs": "net_pcap0,rx_pcap=$pcap,infinite_rx=1", "network": "bench"},
    {"name": "out", "type": "dpdk", "devargs": "net_null0,no-rx=1", "network": "bench"},
    $podport
  ]
}
JSON
	"$BUILD/switch/podswitchd" --config "$T/psw.json" >"$T/podswitchd-pvp.log" 2>&1 &
	PSW_PID=$!
	wait_for 60 psw_ctl info >/dev/null 2>&1 || {
		echo "podswitchd did not start:" >&2; tail -20 "$T/podswitchd-pvp.log" >&2; return 1; }
	SW_PID=$PSW_PID
	SW_TID=$(thread_of "$PSW_PID" 'worker-1$')
}
pvp_psw_linked() { [ "$(psw_ctl --json port show pod | jq .link.up)" = true ]; }
pvp_psw_frompod() { psw_ctl --json port show pod | jq .stats.rx_packets; }
pvp_psw_stop() { psw_stop; }
pvp_psw_config() {
	psw_do flow clear && psw_do fdb flush || return 1
	case $1 in
	io) psw_do flow add "in_port=in,actions=output:pod" "in_port=pod,actions=output:out" ;;
	mac) psw_do flow add "priority=0,actions=normal" && psw_do fdb add bench "$SINK_MAC" out ;;
	esac
}
pvp_psw_clear() { psw_ctl stats --clear >/dev/null && psw_ctl pmd stats --clear >/dev/null; }
# "T SINK": the sink's packets so far and when they were read (pvp_measure's windows).
pvp_psw_sink() {
	local ta tb j
	ta=${EPOCHREALTIME/./}; j=$(psw_ctl --json port show out); tb=${EPOCHREALTIME/./}
	echo "$(((ta + tb) * 500))" "$(jq .stats.tx_packets <<<"$j")"
}
# counters since the clear: sink polled busy_cycles full down other from_pod
pvp_psw_read() {
	local p s
	p=$(psw_ctl --json pmd stats) && s=$(psw_ctl --json port show pod) || return 1
	echo "$(psw_ctl --json port show out | jq .stats.tx_packets)" \
		"$(jq '.pmds[0].packets' <<<"$p") $(jq '.pmds[0].busy_cycles' <<<"$p")" \
		"$(jq '.stats.drops_by_reason | .tx_full, .port_down, ((.mtu + .no_mbuf))' <<<"$s" | tr '\n' ' ')" \
		"$(jq .stats.rx_packets <<<"$s")"
	psw_ctl --json stats >"$T/pvp-psw-stats.json" 2>/dev/null || true
}

# --- OVS-DPDK (ovs.sh starts the daemon and the bridge) ---------------------------------

pvp_ovs_start() {
	local transport=$1 pcap=$2 npkts=$3 sock=$4
	ovs_start || return 1
	ovs_sink "net_null0,no-rx=1" || return 1
	ovs_vsctl add-port "$OVS_BR" in -- set Interface in type=dpdk ofport_request=1 \
		"options:dpdk-devargs=\"net_pcap_pvp,rx_pcap=$pcap,infinite_rx=1\"" || return 1
	case $transport in
	vhost) ovs_vsctl add-port "$OVS_BR" pod -- set Interface pod type=dpdkvhostuserclient \
		ofport_request=3 "options:vhost-server-path=\"$sock\"" ;;
	memif) ovs_vsctl add-port "$OVS_BR" pod -- set Interface pod type=dpdk ofport_request=3 options:n_rxq=2 \
		"options:dpdk-devargs=\"net_memif_pvp,role=server,socket=$sock,socket-abstract=no,rsize=10\"" ;;
	esac
	[ "$(ovs_vsctl get Interface in ofport)" = 1 ] && [ "$(ovs_vsctl get Interface pod ofport)" = 3 ] || {
		echo "ovs: ports not added: in $(ovs_vsctl get Interface in error), pod $(ovs_vsctl get Interface pod error)" >&2
		return 1; }
	SW_PID=$(ovs_pid)
	SW_TID=$(thread_of "$SW_PID" '^pmd-c0?1/')
}
pvp_ovs_linked() { [ "$(ovs_vsctl get Interface pod link_state)" = up ]; }
pvp_ovs_frompod() { ovs_dump_port 3 | cut -d' ' -f1; }
pvp_ovs_stop() { ovs_stop; }
pvp_ovs_config() {
	ovs_ofctl del-flows "$OVS_BR" || return 1
	ovs_appctl fdb/flush "$OVS_BR" >/dev/null || true
	case $1 in
	io) ovs_ofctl add-flow "$OVS_BR" "in_port=1,actions=output:3" &&
		ovs_ofctl add-flow "$OVS_BR" "in_port=3,actions=output:2" ;;
	mac) ovs_ofctl add-flow "$OVS_BR" "priority=0,actions=NORMAL" &&
		ovs_appctl fdb/add "$OVS_BR" out 0 "$SINK_MAC" >/dev/null ;;
	esac
}
# ovs_dump_port OFPORT: "rx_pkts tx_pkts tx_drop", read live from the device (OpenFlow
# port stats). The Interface table's statistics column is refreshed only every 5 s
# (stats-update-interval), longer than a measurement: read there, the pod port's
# counters did not move, nothing counted as "from the pod" and OVS's PVP cells showed 0.
ovs_dump_port() {
	ovs_ofctl dump-ports "$OVS_BR" "$1" | awk '
		/rx pkts=/ { match($0, /rx pkts=[0-9]+/); rx = substr($0, RSTART + 8, RLENGTH - 8) }
		/tx pkts=/ { match($0, /tx pkts=[0-9]+/); tx = substr($0, RSTART + 8, RLENGTH - 8)
			     match($0, /drop=[0-9]+/); dr = substr($0, RSTART + 5, RLENGTH - 5) }
		END { print rx + 0, tx + 0, dr + 0 }'
}
# OVS's port counters cannot be cleared: the clear keeps a baseline. "sink_tx pod_txdrop
# pod_rx": packets the sink sent, packets OVS could not send to the pod (the vhost-user or
# memif ring was full: netdev-dpdk counts them as tx drops; the link-down and other reasons
# are not told apart live), packets from the pod.
ovs_port_counters() {
	local rx tx drop
	read -r rx tx drop <<<"$(ovs_dump_port 3)"
	echo "$(ovs_tx_packets)" "$drop" "$rx"
}
pvp_ovs_clear() {
	ovs_appctl dpif-netdev/pmd-stats-clear >/dev/null && OVS_BASE=$(ovs_port_counters)
}
pvp_ovs_sink() {
	local ta tb n
	ta=${EPOCHREALTIME/./}; n=$(ovs_tx_packets); tb=${EPOCHREALTIME/./}
	echo "$(((ta + tb) * 500))" "$n"
}
pvp_ovs_read() {
	local s sink txd rx b_sink b_txd b_rx
	s=$(ovs_appctl dpif-netdev/pmd-stats-show -pmd 1) || return 1
	read -r sink txd rx <<<"$(ovs_port_counters)"
	read -r b_sink b_txd b_rx <<<"$OVS_BASE"
	echo "$((sink - b_sink))" \
		"$(awk -F': *' '/packets received/ {print $2; exit}' <<<"$s")" \
		"$(awk '/processing cycles:/ {print $3; exit}' <<<"$s")" \
		"$((txd - b_txd)) 0 0 $((rx - b_rx))"
}

# --- testpmd as the switch (the ceiling) ----------------------------------------------

pvp_tp_start() {
	local transport=$1 pcap=$2 npkts=$3 sock=$4 vdev log=$T/testpmd-pvp.log
	local mbufs=$((npkts + 32768))
	local mem=$((128 + mbufs * 5 / 2048))
	case $transport in
	vhost) vdev="net_vhost0,iface=$sock,client=1,queues=1" ;;
	memif) vdev="net_memif0,role=server,socket=$sock,socket-abstract=no,rsize=10" ;;
	esac
	rm -f "$T/tp.fifo" && mkfifo "$T/tp.fifo"
	stdbuf -oL dpdk-testpmd -l 0,1 --main-lcore 0 --file-prefix "tpbench$$" --in-memory --no-pci -m "$mem" \
		--vdev "net_pcap0,rx_pcap=$pcap,infinite_rx=1" --vdev "$vdev" --vdev "net_null0,no-rx=1" -- \
		-i --forward-mode=io --port-topology=chained --nb-cores=1 --record-core-cycles --no-flush-rx \
		--rxd=1024 --txd=1024 --total-num-mbufs="$mbufs" <"$T/tp.fifo" >"$log" 2>&1 &
	TP_PID=$!
	exec {TP_FD}>"$T/tp.fifo"
	wait_for 60 grep -q 'testpmd>' "$log" || { echo "testpmd did not start:" >&2; tail -20 "$log" >&2; return 1; }
	renice -n 19 -p "$TP_PID" >/dev/null   # its prompt's busy poll, on the pod's CPU (pod.sh)
	tp_cmd start
	wait_for 10 thread_of "$TP_PID" 'worker-1$' >/dev/null || { echo "testpmd: no forwarding thread" >&2; return 1; }
	SW_PID=$TP_PID
	SW_TID=$(thread_of "$TP_PID" 'worker-1$')
}
pvp_tp_linked() {
	local n
	n=$(grep -c 'Link status:' "$T/testpmd-pvp.log" || true)
	tp_cmd show port info 1
	wait_for 5 lines_gt "$T/testpmd-pvp.log" 'Link status:' "$n" || return 1
	grep 'Link status:' "$T/testpmd-pvp.log" | tail -1 | grep -q up
}
pvp_tp_frompod() { echo 0; }
pvp_tp_stop() { tp_stop; }
pvp_tp_config() { :; }
pvp_tp_clear() { tp_cmd clear fwd stats all; }
# Through DPDK telemetry (port 2 is the sink): testpmd's prompt, on the pod's CPU at the
# lowest priority, may take a tenth of a second to answer, and the window would end then.
pvp_tp_sink() {
	"$SRC/benchmarks/telemetry_get.py" "/var/run/dpdk/tpbench$$/dpdk_telemetry.v2" /ethdev/stats,2 opackets
}
# testpmd's "show fwd stats all": per port RX/TX-packets and TX-dropped, then the cycles.
pvp_tp_read() {
	local log=$T/testpmd-pvp.log n
	n=$(grep -c 'CPU cycles/packet' "$log" || true)
	tp_cmd show fwd stats all
	wait_for 10 lines_gt "$log" 'CPU cycles/packet' "$n" || return 1
	awk -v skip="$n" '
		/CPU cycles\/packet/ {
			if (++seen == skip + 1) { match($0, /total cycles=[0-9]+/); cyc = substr($0, RSTART + 13, RLENGTH - 13); exit }
			next }
		seen != skip { next }
		/Forward statistics for port/ { port = $(NF - 1) + 0; acc = 0 }
		/Accumulated forward statistics/ { acc = 1 }
		/RX-packets:/ && !acc { rx[port] = $2 }
		/TX-packets:/ && !acc { tx[port] = $2; txd[port] = $4 }
		END { print tx[2] + 0, rx[0] + rx[1], cyc + 0, txd[1] + 0, 0, 0, rx[1] + 0 }' "$log"
}

# --- the measurement and the group ----------------------------------------------------

pvp_prefix() { case $1 in podswitchd) echo pvp_psw ;; ovs-dpdk) echo pvp_ovs ;; testpmd) echo pvp_tp ;; esac; }

# pvp_measure SYSTEM TRANSPORT SCENARIO FLOWS ROUND
# The window runs from one reading of the sink's counter to the next (${p}_sink: the clock
# read around that request alone). Reading everything else takes podswitchctl and jq a
# few tenths of a second, testpmd's prompt up to a tenth: ending the window after those
# made every switch look slower, each by its own amount. The switch's other counters
# (cycles, what the pod was not handed) come from ${p}_clear .. ${p}_read, a window a
# little longer; cycles are divided by that window's own sink count, and the per-second
# figures scaled to the sink's window.
pvp_measure() {
	local sys=$1 transport=$2 scen=$3 flows=$4 round=$5 p t0 t1 s0 s1 r0 r1 q0 q1 n
	local sink sink_read polled busy full down other frompod note=""
	p=$(pvp_prefix "$sys")
	sleep "$WARMUP_S"
	"${p}_clear" || return 1
	read -r t0 s0 <<<"$("${p}_sink")"; r0=$(run_ns "$SW_PID" "$SW_TID"); q0=$(pod_run_ns)
	sleep "$DURATION_S"
	read -r t1 s1 <<<"$("${p}_sink")"; r1=$(run_ns "$SW_PID" "$SW_TID"); q1=$(pod_run_ns)
	read -r sink polled busy full down other frompod <<<"$("${p}_read")"
	[ -n "$frompod" ] && [ -n "$s1" ] && [ -n "$s0" ] || { echo "$sys: no counters" >&2; return 1; }
	n=$((s1 - s0))
	# Only what came back from the pod counts (NORMAL floods to the sink until it has
	# learned the pod's MAC).
	if [ "$sink" -gt $((frompod + frompod / 100 + 64)) ]; then
		note="the sink got $sink packets, only $frompod came from the pod"
		n=$((n * frompod / sink))
		sink=$frompod
	fi
	if [ "$sink" -gt 0 ]; then
		full=$((full * n / sink)); down=$((down * n / sink)); other=$((other * n / sink))
	fi
	sink_read=$sink sink=$n
	[ "$sink" -gt 0 ] || note="nothing reached the sink${note:+; $note}"
	emit section=pvp system="$sys" transport="$transport" scenario="$scen" flows="$flows" round="$round" \
		sink_packets="$sink" polled_packets="$polled" seconds="$(div $((t1 - t0)) 1e9 %.3f)" \
		mpps="$(div "$sink" $(((t1 - t0) / 1000)) %.3f)" \
		cycles_per_packet_own="$(div "$busy" "$sink_read" %.1f)" \
		cycles_per_packet_cpu="$(cyc $((r1 - r0)) "$sink")" \
		cpu_share="$(div $((r1 - r0)) $((t1 - t0)) %.3f)" pod_cpu_share="$(div $((q1 - q0)) $((t1 - t0)) %.3f)" \
		to_pod_ring_full="$full" to_pod_link_down="$down" to_pod_other="$other" from_pod="$frompod" note="$note"
	printf '  %-10s %-5s %-3s %6s flows r%s: %6.2f Mpps at the sink, %6.1f cyc/pkt (own) %6.1f (on CPU), PMD %3.0f%% pod %3.0f%% of a CPU, not handed to the pod: %s full %s down %s other %s\n' \
		"$sys" "$transport" "$scen" "$flows" "$round" "$(div "$sink" $(((t1 - t0) / 1000)))" \
		"$(div "$busy" "$sink_read" %.1f)" "$(cyc $((r1 - r0)) "$sink")" \
		"$(div $((100 * (r1 - r0))) $((t1 - t0)) %.0f)" "$(div $((100 * (q1 - q0))) $((t1 - t0)) %.0f)" \
		"$full" "$down" "$other" >&2
	[ "$round" != 1 ] || [ "$sys" != podswitchd ] || profile "pvp-$transport-$scen-$flows" "$SW_PID" "$SW_TID"
}

# pvp_flowing PREFIX: packets keep coming back from the pod.
pvp_flowing() { local a; a=$("$1_frompod"); sleep 0.5; [ "$("$1_frompod")" -gt "$a" ]; }

# pvp_group SYSTEM TRANSPORT FLOWS ROUND: start the switch, then per scenario a fresh pod
# (a mode switched live left OVS's vhost-user pod without traffic in one run of three).
pvp_group() {
	local sys=$1 transport=$2 flows=$3 round=$4 p sock scen q=1
	p=$(pvp_prefix "$sys")
	[ "$sys/$transport" != ovs-dpdk/memif ] || q=2
	mkdir -p "$T/pods"
	sock=$T/pods/$transport.sock
	rm -f "$sock"
	if ! "${p}_start" "$transport" "$PCAPS/udp64-$flows.pcap" "$(npackets "$flows")" "$sock"; then
		"${p}_stop"; return 1
	fi
	for scen in io mac; do
		"${p}_config" "$scen" || { echo "$sys: $scen set-up failed" >&2; continue; }
		pod_start "$transport" "$sock" "$q" || continue
		pod_mode "$scen"
		if ! wait_for 30 "${p}_linked"; then
			echo "$sys: the pod's $transport link did not come up (pod log: $(tail -3 "$T/pod.log" | tr '\n' ' '))" >&2
			pod_stop; continue
		fi
		if [ "$sys" != testpmd ] && ! wait_for 20 pvp_flowing "$p"; then
			echo "$sys: nothing comes back from the pod over $transport ($scen)" >&2
		fi
		pvp_measure "$sys" "$transport" "$scen" "$flows" "$round" ||
			echo "$sys: pvp $transport $scen $flows not measured" >&2
		pod_stop
		[ "$transport" != vhost ] || rm -f "$sock"   # the pod's (memif: the switch's)
	done
	"${p}_stop"
}

# bench_pvp: ROUNDS rounds; in each, per transport and flow count, every system in turn.
bench_pvp() {
	local r transport f sys
	for r in $(seq "$ROUNDS"); do
		ROUND=$r   # profile() samples in round 1 only
		echo "# pvp round $r of $ROUNDS" >&2
		for transport in $PVP_TRANSPORTS; do
			for f in $FLOWS; do
				for sys in $PVP_SYSTEMS; do
					want_system "$sys" || continue
					[ "$sys" != ovs-dpdk ] || ovs_available || continue
					pvp_group "$sys" "$transport" "$f" "$r" || echo "$sys: pvp $transport $f flows round $r failed" >&2
				done
			done
		done
	done
}
