# benchmarks/ovs.sh: OVS-DPDK, the side-by-side peer (sourced by run.sh).
#
#   net_pcap (infinite_rx=1) -> ovs-vswitchd (netdev datapath, one PMD on core 1) -> net_null
#
# Debian's openvswitch-switch-dpdk 3.1 (/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk),
# run from the package's binaries but with everything of its own: a fresh database, run,
# log and DB dirs under $T/ovs (OVS_RUNDIR/OVS_DBDIR/OVS_LOGDIR and explicit paths), its own
# DPDK file prefix, and ovs-vswitchd inside a network namespace of ours so that the bridge's
# internal tap never appears on the host. The machine's own OVS service, if any, is not
# touched. The bridge's LOCAL port is set no-flood: NORMAL floods to the sink only, as
# podswitchd does.
#
# Scenarios per flow count: "normal" (OVS's default flow, priority=0,actions=NORMAL),
# "in_port" (in_port=1,actions=output:2) and "normal_known" (NORMAL with the destination
# MAC in the MAC table: `ovs-appctl fdb/add`, a static entry on the sink); cycles per packet from dpif-netdev/pmd-stats-show
# ("avg processing cycles per packet") after dpif-netdev/pmd-stats-clear.

OVS_VSWITCHD=${OVS_VSWITCHD:-/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk}
OVS_SCHEMA=${OVS_SCHEMA:-/usr/share/openvswitch/vswitch.ovsschema}
OVS_UP=
OVS_NS=pswbench$$
OVS_BR=pswbr$$

ovs_available() { [ -x "$OVS_VSWITCHD" ] && command -v ovsdb-server >/dev/null && [ -f "$OVS_SCHEMA" ]; }

ovs_vsctl() { ovs-vsctl --db="unix:$OVS_DIR/db.sock" --timeout=60 "$@"; }
ovs_appctl() { ovs-appctl -t "$OVS_DIR/ovs-vswitchd.ctl" "$@"; }
ovs_ofctl() { ovs-ofctl "$@"; }

# packets the sink (ofport 2) has sent, read live from the device (OpenFlow port stats)
ovs_tx_packets() { ovs_ofctl dump-ports "$OVS_BR" 2 | sed -n 's/.*tx pkts=\([0-9]*\).*/\1/p'; }

ovs_pid() { cat "$OVS_DIR/ovs-vswitchd.pid" 2>/dev/null; }

ovs_stop() {
	[ -n "$OVS_UP" ] || return 0
	local p
	for d in ovs-vswitchd ovsdb-server; do
		p=$(cat "$OVS_DIR/$d.pid" 2>/dev/null) || continue
		kill -TERM "$p" 2>/dev/null || continue
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
	ip netns del "$OVS_NS" 2>/dev/null || true
	rm -rf "/var/run/dpdk/ovsbench$$"
	OVS_UP=
}

# ovs_start: database, ovsdb-server, ovs-vswitchd with DPDK, a netdev bridge.
ovs_start() {
	OVS_DIR=$T/ovs
	rm -rf "$OVS_DIR"
	mkdir -p "$OVS_DIR"
	export OVS_RUNDIR=$OVS_DIR OVS_DBDIR=$OVS_DIR OVS_LOGDIR=$OVS_DIR OVS_SYSCONFDIR=$OVS_DIR
	OVS_UP=1
	ovsdb-tool create "$OVS_DIR/conf.db" "$OVS_SCHEMA"
	ovsdb-server "$OVS_DIR/conf.db" --remote="punix:$OVS_DIR/db.sock" \
		--pidfile="$OVS_DIR/ovsdb-server.pid" --unixctl="$OVS_DIR/ovsdb-server.ctl" \
		--log-file="$OVS_DIR/ovsdb-server.log" -vconsole:off --detach --no-chdir 2>>"$OVS_DIR/start.err"
	ovs_vsctl --no-wait init
	# Hugepage memory grows on demand up to 1 GB (no dpdk-socket-mem: nothing reserved
	# up front, which fails when other DPDK processes hold some of the pages). OVS sizes
	# its shared mempool at 262,144 mbufs and halves on failure; 100,000 of them stay in
	# net_pcap's infinite_rx ring.
	ovs_vsctl --no-wait set Open_vSwitch . other_config:dpdk-init=true \
		other_config:dpdk-lcore-mask=0x1 other_config:pmd-cpu-mask=0x2 \
		other_config:dpdk-socket-limit=1024 \
		"other_config:dpdk-extra=\"--no-pci --file-prefix=ovsbench$$\""
	ip netns add "$OVS_NS"
	ip netns exec "$OVS_NS" "$OVS_VSWITCHD" "unix:$OVS_DIR/db.sock" \
		--pidfile="$OVS_DIR/ovs-vswitchd.pid" --unixctl="$OVS_DIR/ovs-vswitchd.ctl" \
		--log-file="$OVS_DIR/ovs-vswitchd.log" -vconsole:off --detach --no-chdir 2>>"$OVS_DIR/start.err"
	if ! kill -0 "$(ovs_pid)" 2>/dev/null ||
	   ! ovs_vsctl add-br "$OVS_BR" -- set bridge "$OVS_BR" datapath_type=netdev; then
		echo "ovs: bridge not created:" >&2; tail -20 "$OVS_DIR/ovs-vswitchd.log" >&2; return 1
	fi
	ovs_ofctl mod-port "$OVS_BR" "$OVS_BR" no-flood
}

# ovs_sink DEVARGS: (re)create port "out" (ofport 2) on the device DEVARGS.
ovs_sink() {
	ovs_vsctl --if-exists del-port "$OVS_BR" out
	ovs_vsctl add-port "$OVS_BR" out -- set Interface out type=dpdk ofport_request=2 \
		"options:dpdk-devargs=\"$1\""
	[ "$(ovs_vsctl get Interface out ofport)" = 2 ] || {
		echo "ovs: sink $1 not added: $(ovs_vsctl get Interface out error)" >&2; return 1; }
}


# ovs_measure SCENARIO FLOWS
ovs_measure() {
	local scen=$1 flows=$2 pid tid t0 t1 r0 r1 s pkts own tx0 tx1 note=""
	pid=$(ovs_pid)
	tid=$(thread_of "$pid" '^pmd-c0?1/') || { echo "ovs: no PMD thread on core 1" >&2; return 1; }
	sleep "$WARMUP_S"
	ovs_appctl dpif-netdev/pmd-stats-clear >/dev/null
	tx0=$(ovs_tx_packets)
	t0=$(now_ns); r0=$(run_ns "$pid" "$tid")
	sleep "$DURATION_S"
	s=$(ovs_appctl dpif-netdev/pmd-stats-show -pmd 1)
	t1=$(now_ns); r1=$(run_ns "$pid" "$tid")
	tx1=$(ovs_tx_packets)
	echo "$s" >"$RESULTS/ovs-pmd-stats-$scen-$flows.txt"
	pkts=$(awk -F': *' '/packets received/ {print $2; exit}' <<<"$s")
	own=$(awk '/avg processing cycles per packet/ {print $6; exit}' <<<"$s")
	if [ "$pkts" -eq 0 ] || [ "$(((tx1 - tx0) * 100 / pkts))" -lt 99 ]; then
		note="only $((tx1 - tx0)) of $pkts packets reached the sink"
	fi
	record ovs-dpdk "$scen" "$flows" "$pkts" $((t1 - t0)) "$own" $((r1 - r0)) "$note"
}

# bench_ovs FLOWS PCAP
bench_ovs() {
	local flows=$1 pcap=$2
	ovs_sink "net_null0,no-rx=1" || return 1
	ovs_vsctl add-port "$OVS_BR" in -- set Interface in type=dpdk ofport_request=1 \
		"options:dpdk-devargs=\"net_pcap_f$flows,rx_pcap=$pcap,infinite_rx=1\"" || return 1
	if [ "$(ovs_vsctl get Interface in ofport)" != 1 ]; then
		echo "ovs: port in not added: $(ovs_vsctl get Interface in error)" >&2
		ovs_vsctl del-port "$OVS_BR" in
		return 1
	fi
	# A scenario runs only if its set-up succeeded (no set -e inside an `||` list).
	ovs_ofctl del-flows "$OVS_BR" && ovs_ofctl add-flow "$OVS_BR" "priority=0,actions=NORMAL" &&
		ovs_measure normal "$flows" || echo "ovs: normal $flows not measured" >&2

	ovs_ofctl del-flows "$OVS_BR" && ovs_ofctl add-flow "$OVS_BR" "in_port=1,actions=output:2" &&
		ovs_measure in_port "$flows" || echo "ovs: in_port $flows not measured" >&2

	ovs_ofctl del-flows "$OVS_BR" && ovs_ofctl add-flow "$OVS_BR" "priority=0,actions=NORMAL" &&
		ovs_appctl fdb/add "$OVS_BR" out 0 02:00:00:00:00:02 >/dev/null &&
		ovs_measure normal_known "$flows" || echo "ovs: normal_known $flows not measured" >&2
	ovs_appctl fdb/del "$OVS_BR" 0 02:00:00:00:00:02 >/dev/null || true

	ovs_vsctl del-port "$OVS_BR" in
	ovs_vsctl del-port "$OVS_BR" out
}
