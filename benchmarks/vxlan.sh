# benchmarks/vxlan.sh: what VXLAN costs on one PMD (sourced by run.sh; issue 9, Speed).
#
# Three scenarios per system and flow count, in the same round:
#   plain  the p2p normal_known scenario, no tunnel: net_pcap (64-byte UDP,
#          02:00:00:00:00:01 -> 02:00:00:00:00:02) -> switch -> net_null, the destination
#          a static MAC entry on the sink
#   decap  net_pcap of the same frames VXLAN-encapsulated (gen_pcap.py --vxlan 100: from the
#          peer 192.0.2.2 to the node's 192.0.2.1, 110 bytes) on the uplink -> decap ->
#          the inner destination, a static MAC entry on the sink -> net_null
#   encap  net_pcap of plain frames on a pod-side port -> the destination MAC on the
#          peer's tunnel port -> encap -> the uplink, a net_null sink (next hop resolved
#          beforehand: nothing waits for ARP)
# podswitchd: `uplink set PORT --ip 192.0.2.1/24`, `network add bench --vxlan 100 --peers
# 192.0.2.2`, rule priority=0,actions=normal; decap: `fdb add bench MAC out`; encap:
# `neigh add 192.0.2.2 02:00:00:00:01:02`, `fdb add bench MAC vx100-192.0.2.2`.
# OVS-DPDK, its documented userspace tunnelling set-up: br-int (the run's bridge) with the
# pod-side ports and a vxlan port (options:remote_ip=192.0.2.2, options:key=100); br-phy
# (netdev, hwaddr 02:00:00:00:01:01) with the physical port, 192.0.2.1/24 on br-phy's
# internal interface (in OVS's namespace), `ovs-appctl ovs/route/add 192.0.2.0/24 br-phy`
# and `tnl/arp/set br-phy 192.0.2.2 02:00:00:00:01:02`; NORMAL on both bridges, the
# destinations added with fdb/add (br-int: the inner MAC on the sink or the vxlan port;
# br-phy: the peer's MAC on the physical port). In round 1, testpmd io with the plain and
# the encapsulated pcap measures what the longer frames cost the drivers alone.

VXLAN_FLOWS=${VXLAN_FLOWS:-}
VX_PEER_MAC=02:00:00:00:01:02
VX_NODE_MAC=02:00:00:00:01:01

# vx_record SYSTEM SCENARIO FLOWS POLLED SINK WALL_NS OWN RUN_NS
vx_record() {
	local note=""
	[ "$4" -gt 0 ] && [ "$(($5 * 100 / $4))" -ge 99 ] || note="only $5 of $4 packets reached the sink"
	record "$1" "$2" "$3" "$4" "$6" "$7" "$8" "$note"
}

# --- podswitchd --------------------------------------------------------------------------

vx_psw() {
	local scen=$1 flows=$2 plain=$3 vx=$4 npk sink tid t0 t1 r0 r1 js pkts own tx
	npk=$(npackets "$flows")
	case $scen in
	plain)
		psw_start_with "$npk" "
    {\"name\": \"in\",  \"devargs\": \"net_pcap0,rx_pcap=$plain,infinite_rx=1\", \"network\": \"bench\"},
    {\"name\": \"out\", \"devargs\": \"net_null0,no-rx=1\", \"network\": \"bench\"}" || return 1
		psw_do flow add "priority=0,actions=normal" && psw_do fdb add bench 02:00:00:00:00:02 out || { psw_stop; return 1; }
		sink=out ;;
	decap)
		psw_start_with "$npk" "
    {\"name\": \"ul\",  \"devargs\": \"net_pcap0,rx_pcap=$vx,infinite_rx=1\"},
    {\"name\": \"out\", \"devargs\": \"net_null0,no-rx=1\"}" || return 1
		psw_do network del bench && psw_do uplink set ul --ip 192.0.2.1/24 &&
			psw_do network add bench --vxlan 100 --peers 192.0.2.2 && psw_do network join bench out &&
			psw_do flow add "priority=0,actions=normal" && psw_do fdb add bench 02:00:00:00:00:02 out ||
			{ psw_stop; return 1; }
		sink=out ;;
	encap)
		psw_start_with "$npk" "
    {\"name\": \"in\",  \"devargs\": \"net_pcap0,rx_pcap=$plain,infinite_rx=1\"},
    {\"name\": \"ul\",  \"devargs\": \"net_null0,no-rx=1\"}" || return 1
		psw_do network del bench && psw_do uplink set ul --ip 192.0.2.1/24 &&
			psw_do network add bench --vxlan 100 --peers 192.0.2.2 && psw_do network join bench in &&
			psw_do neigh add 192.0.2.2 $VX_PEER_MAC && psw_do flow add "priority=0,actions=normal" &&
			psw_do fdb add bench 02:00:00:00:00:02 vx100-192.0.2.2 || { psw_stop; return 1; }
		sink=ul ;;
	esac
	tid=$SW_TID
	sleep "$WARMUP_S"
	psw_ctl pmd stats --clear >/dev/null && psw_ctl stats --clear >/dev/null
	t0=$(now_ns); r0=$(run_ns "$PSW_PID" "$tid")
	sleep "$DURATION_S"
	js=$(psw_ctl --json pmd stats)
	t1=$(now_ns); r1=$(run_ns "$PSW_PID" "$tid")
	pkts=$(jq '.pmds[0].packets' <<<"$js")
	own=$(jq '.pmds[0].cycles_per_packet * 100 | round / 100' <<<"$js")
	tx=$(psw_ctl --json port show "$sink" | jq .stats.tx_packets)
	vx_record podswitchd "$scen" "$flows" "$pkts" "$tx" $((t1 - t0)) "$own" $((r1 - r0))
	[ "$pkts" -gt 0 ] && [ "$((tx * 100 / pkts))" -ge 99 ] ||
		psw_ctl --json stats | jq -c '.drops_by_reason | with_entries(select(.value > 0))' >&2
	profile "vxlan-$scen-$flows" "$PSW_PID" "$tid"
	psw_stop
}

# --- OVS-DPDK ----------------------------------------------------------------------------

VX_PHY=pswphy$$

# vx_ovs_setup: br-int ($OVS_BR, from ovs_start), br-phy, the vxlan port, route and ARP.
vx_ovs_setup() {
	ovs_start || return 1
	ovs_vsctl add-br "$VX_PHY" -- set bridge "$VX_PHY" datapath_type=netdev \
		"other_config:hwaddr=\"$VX_NODE_MAC\"" || return 1
	ovs_vsctl add-port "$OVS_BR" vx -- set Interface vx type=vxlan ofport_request=3 \
		options:remote_ip=192.0.2.2 options:key=100 || return 1
	ip netns exec "$OVS_NS" ip addr add 192.0.2.1/24 dev "$VX_PHY" &&
		ip netns exec "$OVS_NS" ip link set "$VX_PHY" up || return 1
	ovs_appctl ovs/route/add 192.0.2.0/24 "$VX_PHY" >/dev/null 2>&1 || true
	ovs_appctl tnl/arp/set "$VX_PHY" 192.0.2.2 "$VX_PEER_MAC" >/dev/null || return 1
}

# vx_ovs_port BRIDGE NAME OFPORT DEVARGS
vx_ovs_port() {
	ovs_vsctl add-port "$1" "$2" -- set Interface "$2" type=dpdk ofport_request="$3" \
		"options:dpdk-devargs=\"$4\"" || return 1
	[ "$(ovs_vsctl get Interface "$2" ofport)" = "$3" ] || {
		echo "ovs: $2 not added: $(ovs_vsctl get Interface "$2" error)" >&2; return 1; }
}

vx_ovs() {
	local scen=$1 flows=$2 plain=$3 vx=$4 pid tid t0 t1 r0 r1 s pkts own tx0 tx1 sinkbr sinkport
	ovs_ofctl del-flows "$OVS_BR" && ovs_ofctl add-flow "$OVS_BR" "priority=0,actions=NORMAL" || return 1
	ovs_appctl fdb/flush "$OVS_BR" >/dev/null; ovs_appctl fdb/flush "$VX_PHY" >/dev/null
	case $scen in
	plain)
		vx_ovs_port "$OVS_BR" in 1 "net_pcap_vi$flows,rx_pcap=$plain,infinite_rx=1" &&
			vx_ovs_port "$OVS_BR" out 2 "net_null_vo$flows,no-rx=1" &&
			ovs_appctl fdb/add "$OVS_BR" out 0 02:00:00:00:00:02 >/dev/null || return 1
		sinkbr=$OVS_BR; sinkport=2 ;;
	decap)
		vx_ovs_port "$VX_PHY" phy 1 "net_pcap_vd$flows,rx_pcap=$vx,infinite_rx=1" &&
			vx_ovs_port "$OVS_BR" out 2 "net_null_vo$flows,no-rx=1" &&
			ovs_appctl fdb/add "$OVS_BR" out 0 02:00:00:00:00:02 >/dev/null || return 1
		sinkbr=$OVS_BR; sinkport=2 ;;
	encap)
		vx_ovs_port "$OVS_BR" in 1 "net_pcap_ve$flows,rx_pcap=$plain,infinite_rx=1" &&
			vx_ovs_port "$VX_PHY" phy 1 "net_null_vp$flows,no-rx=1" &&
			ovs_appctl fdb/add "$OVS_BR" vx 0 02:00:00:00:00:02 >/dev/null &&
			ovs_appctl fdb/add "$VX_PHY" phy 0 "$VX_PEER_MAC" >/dev/null || return 1
		sinkbr=$VX_PHY; sinkport=1 ;;
	esac
	pid=$(ovs_pid)
	tid=$(thread_of "$pid" '^pmd-c0?1/') || return 1
	sleep "$WARMUP_S"
	ovs_appctl dpif-netdev/pmd-stats-clear >/dev/null
	tx0=$(ovs_ofctl dump-ports "$sinkbr" "$sinkport" | sed -n 's/.*tx pkts=\([0-9]*\).*/\1/p')
	t0=$(now_ns); r0=$(run_ns "$pid" "$tid")
	sleep "$DURATION_S"
	s=$(ovs_appctl dpif-netdev/pmd-stats-show -pmd 1)
	t1=$(now_ns); r1=$(run_ns "$pid" "$tid")
	tx1=$(ovs_ofctl dump-ports "$sinkbr" "$sinkport" | sed -n 's/.*tx pkts=\([0-9]*\).*/\1/p')
	echo "$s" >"$RESULTS/ovs-pmd-stats-vxlan-$scen-$flows.txt"
	pkts=$(awk -F': *' '/packets received/ {print $2; exit}' <<<"$s")
	own=$(awk '/avg processing cycles per packet/ {print $6; exit}' <<<"$s")
	vx_record ovs-dpdk "$scen" "$flows" "$pkts" $((tx1 - tx0)) $((t1 - t0)) "$own" $((r1 - r0))
	[ "$((tx1 - tx0))" -gt 0 ] || ovs_ofctl dump-flows "$sinkbr" >&2
	for p in in out phy; do ovs_vsctl --if-exists del-port "$p"; done
}

bench_vxlan() {
	local f plain vx scen
	for f in ${VXLAN_FLOWS:-$FLOWS}; do
		pcap udp64 "$f" >/dev/null
		pcap vxlan64 "$f" --vxlan 100 >/dev/null
	done
	for ROUND in $(seq "$P2P_ROUNDS"); do
		echo "# vxlan round $ROUND of $P2P_ROUNDS" >&2
		for f in ${VXLAN_FLOWS:-$FLOWS}; do
			plain=$PCAPS/udp64-$f.pcap
			vx=$PCAPS/vxlan64-$f.pcap
			if [ "$ROUND" = 1 ] && want_system testpmd; then
				bench_testpmd "$f" "$plain" "$(npackets "$f")" || true
				SCENARIO=io-vxlan-frames bench_testpmd "$f" "$vx" "$(npackets "$f")" || true
			fi
			if want_system podswitchd; then
				for scen in plain encap decap; do
					vx_psw "$scen" "$f" "$plain" "$vx" || echo "podswitchd: vxlan $scen $f not measured" >&2
				done
			fi
			if want_system ovs && [ -n "$OVS_OK" ]; then
				if vx_ovs_setup; then
					for scen in plain encap decap; do
						vx_ovs "$scen" "$f" "$plain" "$vx" || echo "ovs: vxlan $scen $f not measured" >&2
					done
				else
					echo "ovs: VXLAN set-up failed:" >&2; tail -5 "$T/ovs/ovs-vswitchd.log" >&2 || true
				fi
				ovs_stop
			fi
		done
	done
}
