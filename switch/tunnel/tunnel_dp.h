/*
 * tunnel_dp.h: the transports' stages (tunnel_dp.c; PMD threads). Decap runs on every
 * burst from the uplink after the underlay's own ARP/ND (neigh_dp.c); encap runs in the
 * tx stage on what was queued for a transport port (datapath/txq.c).
 */
#ifndef PSW_TUNNEL_TUNNEL_DP_H
#define PSW_TUNNEL_TUNNEL_DP_H

#include <stdint.h>
#include <rte_mbuf.h>

#include "core/burst.h"
#include "port/port.h"

/* Runs of b->pkts by the transport port they arrived on, after decap. */
struct psw_tunnel_groups {
	uint16_t n;
	uint16_t start[PSW_BURST];
	uint16_t len[PSW_BURST];
	uint16_t port[PSW_BURST];
	uint32_t tun_id[PSW_BURST];    /* the VNI they came on (0: a VLAN) */
};

/* Check and strip the outer headers of every packet in b (VXLAN to this node from a peer
 * of the VNI's network; a VLAN tag of a network); drop the rest, counted by reason
 * (TUNNEL_MALFORMED, TUNNEL_VNI, TUNNEL_PEER, UPLINK_OTHER). The inner frames are left
 * in b, grouped by the port they are now received on (g) with the VNI of each group, and
 * counted as received on that port. */
void psw_tunnel_decap_burst(struct psw_pmd *pmd, struct psw_burst *b, struct psw_tunnel_groups *g);

/* Encapsulate pkts[0..n) queued for transport port p in place (VXLAN outer headers to
 * the peer, or a VLAN tag); those that cannot go are dropped and counted at p (MTU,
 * TUNNEL, NEIGH_UNRESOLVED) or held until their next hop resolves. Returns how many are
 * left in pkts, ready for the uplink (whose id is *uplink). */
uint16_t psw_tunnel_encap_burst(struct psw_pmd *pmd, const struct psw_port *p,
				struct rte_mbuf **pkts, uint16_t n, uint16_t *uplink);

#endif
