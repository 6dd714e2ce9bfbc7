/*
 * txq.c: the last stage of the packet path (PMD threads; txq.h). Each buffer goes out with
 * one tx burst per iteration (or earlier, when it fills). Each PMD has its own tx queue on
 * a port; only where the device has (or the peer enabled) fewer queues than there are
 * PMDs do PMDs share them, and then every PMD sends under the port's spinlock. Frames larger than the port's MTU (plus the
 * Ethernet header and one VLAN tag) are dropped as MTU, never fragmented or cut: the check
 * rides on the loop that sums the bytes anyway. What the device does not take is freed and
 * counted at the output port: TX_FULL, or PORT_DOWN when its link is down.
 */
#include <rte_ethdev.h>
#include <rte_spinlock.h>

#include "core/inject.h"
#include "core/mbuf_free.h"
#include "core/mbuf_meta.h"
#include "datapath/capture_dp.h"
#include "datapath/txq.h"
#include "tunnel/tunnel_dp.h"

static inline uint16_t
tx_burst(const struct psw_port *p, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	if (p->dp_io == NULL)
		return rte_eth_tx_burst(p->dpdk_port, q, pkts, n);
	return p->dp_io->tx_burst(p->dp_io->ctx, q, pkts, n);
}

static inline void
count_tx_drop(struct psw_pmd *pmd, struct psw_pmd_port_stats *st, enum psw_drop_reason r,
	      uint16_t n)
{
	st->tx_drops += n;
	st->drops[r] += n;
	pmd->stats.drops[r] += n;
}

/* Is m over the MTU? An 802.1Q or 802.1ad tag does not count against it. */
static bool
over_mtu(const struct rte_mbuf *m, uint32_t max)
{
	const struct rte_ether_hdr *eh;

	if (likely(m->pkt_len <= max))
		return false;
	if (m->pkt_len > max + sizeof(struct rte_vlan_hdr) || m->data_len < RTE_ETHER_HDR_LEN)
		return true;
	eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	return eh->ether_type != RTE_BE16(RTE_ETHER_TYPE_VLAN) &&
	       eh->ether_type != RTE_BE16(RTE_ETHER_TYPE_QINQ);
}

/* Drop the frames over the port's MTU from b (keeping the others in order). Returns the
 * number dropped. */
static uint16_t
drop_oversize(struct psw_pmd *pmd, struct psw_txbuf *b, struct psw_pmd_port_stats *st,
	      uint32_t max)
{
	uint16_t k = 0, n = b->n;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = b->pkts[i];

		if (over_mtu(m, max))
			rte_pktmbuf_free(m);
		else
			b->pkts[k++] = m;
	}
	b->n = k;
	count_tx_drop(pmd, st, PSW_DROP_MTU, (uint16_t)(n - k));
	return (uint16_t)(n - k);
}

/* A transport port's buffer: encapsulated (tunnel_dp.c), counted as sent by that port,
 * queued on the uplink in the same flush. */
static void
flush_tunnel(struct psw_pmd *pmd, struct psw_txbuf *b, const struct psw_port *p,
	     struct psw_pmd_port_stats *st)
{
	uint16_t uplink = PSW_PORT_NONE, n;
	uint64_t bytes = 0;

	n = psw_tunnel_encap_burst(pmd, p, b->pkts, b->n, &uplink);
	b->n = 0;
	for (uint16_t i = 0; i < n; i++)
		bytes += b->pkts[i]->pkt_len;
	st->tx_packets += n;
	st->tx_bytes += bytes;
	if (n > 0)
		psw_txq_send_run(pmd, uplink, b->pkts, n, p->id);
}

void
psw_txq_flush_port(struct psw_pmd *pmd, uint16_t port)
{
	struct psw_txbuf *b = &pmd->txbuf[port];
	struct psw_port *p = &psw_ports[port];
	struct psw_pmd_port_stats *st = &pmd->port_stats[port];
	uint32_t max = p->mtu ? (uint32_t)p->mtu + RTE_ETHER_HDR_LEN : UINT32_MAX;
	uint64_t bytes = 0, lost_bytes = 0;
	uint16_t n = b->n, sent, q = (uint16_t)pmd->idx;
	bool big = false;

	if (n == 0)
		return;
	psw_capture_hook(pmd, port, b->pkts, n, PSW_CAPTURE_TX);
	if (unlikely(p->tunnel != PSW_TUNNEL_NONE)) {
		flush_tunnel(pmd, b, p, st);
		return;
	}
	/* Sum before sending: once sent, an mbuf belongs to the device. */
	for (uint16_t i = 0; i < n; i++) {
		bytes += b->pkts[i]->pkt_len;
		big |= b->pkts[i]->pkt_len > max;
	}
	if (unlikely(big) && drop_oversize(pmd, b, st, max) > 0) {
		n = b->n;
		bytes = 0;
		for (uint16_t i = 0; i < n; i++)
			bytes += b->pkts[i]->pkt_len;
		if (n == 0)
			return;
	}

	/* PMD i sends on txq_of[i] (port.c maps it: its own queue, or an enabled one the
	 * peer offers). Where two PMDs land on one queue, every PMD locks, also the one
	 * alone on its queue, since the mapping may move under it (port.c changes it only
	 * while everyone locks, with grace periods between). */
	q = __atomic_load_n(&p->txq_of[q < PSW_MAX_PMDS ? q : 0], __ATOMIC_RELAXED);
	if (likely(!__atomic_load_n(&p->tx_shared, __ATOMIC_ACQUIRE))) {
		sent = tx_burst(p, q, b->pkts, n);
	} else {
		rte_spinlock_lock(&p->tx_lock);
		sent = tx_burst(p, q, b->pkts, n);
		rte_spinlock_unlock(&p->tx_lock);
	}
	if (unlikely(sent < n)) {
		for (uint16_t i = sent; i < n; i++)
			lost_bytes += b->pkts[i]->pkt_len;
		psw_mbuf_free_bulk(b->pkts + sent, (uint16_t)(n - sent));
		count_tx_drop(pmd, st, p->link_up ? PSW_DROP_TX_FULL : PSW_DROP_PORT_DOWN,
			      (uint16_t)(n - sent));
	}
	st->tx_packets += sent;
	st->tx_bytes += bytes - lost_bytes;
	b->n = 0;
}

void
psw_txq_flush_all(struct psw_pmd *pmd)
{
	for (uint16_t i = 0; i < pmd->n_dirty; i++) {
		uint16_t port = pmd->dirty[i];

		psw_txq_flush_port(pmd, port);
		pmd->txbuf[port].listed = 0;
	}
	pmd->n_dirty = 0;
}

void
psw_txq_discard_all(struct psw_pmd *pmd)
{
	for (uint16_t i = 0; i < pmd->n_dirty; i++) {
		struct psw_txbuf *b = &pmd->txbuf[pmd->dirty[i]];

		psw_mbuf_free_bulk(b->pkts, b->n);
		b->n = 0;
		b->listed = 0;
	}
	pmd->n_dirty = 0;
}

void
psw_txq_trace(struct psw_pmd *pmd, uint16_t port, const struct rte_mbuf *m)
{
	struct psw_trace_event *e;
	uint32_t max = psw_ports[port].mtu ? (uint32_t)psw_ports[port].mtu + RTE_ETHER_HDR_LEN
					    : UINT32_MAX;

	e = psw_trace_add(pmd->trace, PSW_TR_OUTPUT, port, NULL, rte_pktmbuf_mtod(m, const void *),
			  m->data_len);
	if (e == NULL)
		return;
	e->u = m->pkt_len;
	if (over_mtu(m, max))
		e->reason = PSW_DROP_MTU;
}

uint16_t
psw_txq_inject_burst(struct psw_pmd *pmd)
{
	struct rte_mbuf *pkts[PSW_BURST];
	unsigned n;

	if (psw_inject_ring == NULL)
		return 0;
	n = rte_ring_dequeue_burst(psw_inject_ring, (void **)pkts, PSW_BURST, NULL);
	for (unsigned i = 0; i < n; i++)
		psw_txq_enqueue(pmd, psw_mbuf_meta(pkts[i])->out_port, pkts[i], PSW_PORT_NONE);
	return (uint16_t)n;
}
