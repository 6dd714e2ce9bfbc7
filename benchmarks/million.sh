# benchmarks/million.sh: p2p with 1,000,000 flows (sourced by run.sh; issue 11).
#
# The p2p set-up (p2p_podswitchd.sh, p2p_testpmd.sh) with a pcap of 1,000,000 frames, one
# per flow (UDP source port, then IPv4 source address). net_pcap's infinite_rx keeps every
# frame of the file in an mbuf of the port's pool, so the pool holds 1,000,000 + 32,768
# mbufs of about 2.5 KB (2,176-byte data room, the 128-byte mbuf, podswitch's 64-byte
# private area, the mempool's header): about 2.5 GB of hugepages, plus 256 MB for the rest
# (-m 2777 for podswitchd, 2649 for testpmd; one at a time). If fewer 2 MB pages are free,
# the pool is grown for the run and shrunk again at the end (lib.sh hugepages_ensure).
# OVS-DPDK is not run: its mempool has at most 262,144 mbufs (netdev-dpdk's MAX_NB_MBUF),
# too few to hold the file.

MILLION=1000000

bench_million() {
	local p need
	p=$(pcap udp64 $MILLION)
	need=$(( (256 + (MILLION + 32768) * 5 / 2048) / 2 + 32 ))
	hugepages_ensure "$need" || { echo "million: $need free hugepages needed" >&2; return 1; }
	if want_system testpmd; then bench_testpmd $MILLION "$p" $MILLION || echo "testpmd 1M flows failed" >&2; fi
	if want_system podswitchd; then bench_podswitchd $MILLION "$p" $MILLION || echo "podswitchd 1M flows failed" >&2; fi
	if want_system ovs; then
		emit section=million system=ovs-dpdk scenario=- flows=$MILLION round=1 \
			note="not run: OVS-DPDK's mempool holds at most 262,144 mbufs, net_pcap's infinite_rx needs 1,000,000"
	fi
	hugepages_restore
}
