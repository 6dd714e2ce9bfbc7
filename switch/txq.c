/*
 * txq.c: the last stage of the packet path (PMD threads). Packets queued by
 * psw_txq_enqueue() wait in a per-PMD, per-port buffer; each buffer goes out with one
 * rte_eth_tx_burst per iteration (or earlier, when it fills). Each PMD has its own tx
 * queue on a port; only where the device has fewer queues than PMDs do PMDs share
 * them, and then every PMD sends under the port's spinlock. What the device does not take is freed and counted at the
 * output port: TX_FULL, or PORT_DOWN when its link is down.
 */
#include <rte_ethdev.h>
#include <rte_spinlock.h>

#include "pmd.h"

static inline uint16_t
tx_burst(const struct psw_port *p, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	if (likely(p->io == NULL))
		return rte_eth_tx_burst(p->dpdk_port, q, pkts, n);
	return p->io->tx_burst(p->io->ctx, q, pkts, n);
}

void
psw_txq_flush_port(struct psw_pmd *pmd, uint16_t port)
{
	struct psw_txbuf *b = &pmd->txbuf[port];
	struct psw_port *p = &psw_ports[port];
	struct psw_pmd_port_stats *st = &pmd->port_stats[port];
	uint64_t bytes = 0, lost_bytes = 0;
	uint16_t n = b->n, sent, q = (uint16_t)pmd->idx;

	if (n == 0)
		return;
	/* Sum before sending: once sent, an mbuf belongs to the device. */
	for (uint16_t i = 0; i < n; i++)
		bytes += b->pkts[i]->pkt_len;

	if (likely(!p->tx_shared)) {
		sent = tx_burst(p, q, b->pkts, n);
	} else {
		/* Fewer queues than PMDs: PMD i uses queue i % n_txq, and every PMD locks,
		 * also the one whose index is below n_txq, since another PMD maps onto its
		 * queue too. */
		q = p->n_txq ? (uint16_t)(q % p->n_txq) : 0;
		rte_spinlock_lock(&p->tx_lock);
		sent = tx_burst(p, q, b->pkts, n);
		rte_spinlock_unlock(&p->tx_lock);
	}
	if (unlikely(sent < n)) {
		enum psw_drop_reason r = p->link_up ? PSW_DROP_TX_FULL : PSW_DROP_PORT_DOWN;

		for (uint16_t i = sent; i < n; i++) {
			lost_bytes += b->pkts[i]->pkt_len;
			rte_pktmbuf_free(b->pkts[i]);
		}
		st->tx_drops += n - sent;
		st->drops[r] += n - sent;
		pmd->stats.drops[r] += n - sent;
	}
	st->tx_packets += sent;
	st->tx_bytes += bytes - lost_bytes;
	b->n = 0;
}

/* End of iteration: send everything buffered, one burst per port. */
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
