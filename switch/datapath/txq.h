/*
 * txq.h: the last stage of the packet path (PMD threads): every packet a stage decides to
 * send is queued in the PMD's buffer for its output port (psw_txq_enqueue, or
 * psw_txq_send_run for a run of packets to one port) and leaves with one tx burst per
 * port per iteration (psw_txq_flush_all, called by the PMD loop), or earlier when a buffer
 * fills. Each PMD has its own tx queue on a port; only where a device has fewer queues
 * than PMDs do PMDs share them, under the port's spinlock. What the device does not take,
 * and frames larger than the port's MTU, are freed and counted (TX_FULL, PORT_DOWN, MTU).
 */
#ifndef PSW_DATAPATH_TXQ_H
#define PSW_DATAPATH_TXQ_H

#include <stdint.h>
#include <rte_memcpy.h>

#include "core/burst.h"
#include "port/port.h"

void psw_txq_flush_port(struct psw_pmd *pmd, uint16_t port);
/* End of iteration: send everything buffered, one burst per port. */
void psw_txq_flush_all(struct psw_pmd *pmd);
/* Free everything buffered without sending (trace's context). */
void psw_txq_discard_all(struct psw_pmd *pmd);

/* PMD 0: what the control thread injected (core/inject.h), queued to its ports. Returns
 * the number of packets. */
uint16_t psw_txq_inject_burst(struct psw_pmd *pmd);

/* Tracing: the packet as it would leave (core/trace.h). */
void psw_txq_trace(struct psw_pmd *pmd, uint16_t port, const struct rte_mbuf *m);

static inline struct psw_txbuf *
txbuf_listed(struct psw_pmd *pmd, uint16_t port)
{
	struct psw_txbuf *b = &pmd->txbuf[port];

	if (!b->listed) {
		b->listed = 1;
		pmd->dirty[pmd->n_dirty++] = port;
	}
	return b;
}

static inline bool
txq_port_ok(uint16_t port)
{
	return likely(port < PSW_MAX_PORTS &&
		      __atomic_load_n(&psw_ports[port].enabled, __ATOMIC_ACQUIRE));
}

/* Queue m for output on `port`; sent at the end of the iteration (or when the buffer
 * fills). A port that is disabled or removed drops it as PORT_DOWN. */
static inline void
psw_txq_enqueue(struct psw_pmd *pmd, uint16_t port, struct rte_mbuf *m, uint16_t in_port)
{
	struct psw_txbuf *b;

	if (unlikely(!txq_port_ok(port))) {
		psw_pmd_drop(pmd, m, in_port, PSW_DROP_PORT_DOWN);
		return;
	}
	if (psw_tracing(pmd))
		psw_txq_trace(pmd, port, m);
	b = txbuf_listed(pmd, port);
	b->pkts[b->n++] = m;
	if (unlikely(b->n == PSW_TXBUF))
		psw_txq_flush_port(pmd, port);
}

/* Queue pkts[0..n) on port: one check for the whole run (the L2 fast path). */
static inline void
psw_txq_send_run(struct psw_pmd *pmd, uint16_t port, struct rte_mbuf **pkts, uint16_t n,
		 uint16_t in_port)
{
	struct psw_txbuf *b;

	if (unlikely(!txq_port_ok(port))) {
		for (uint16_t i = 0; i < n; i++)
			psw_pmd_drop(pmd, pkts[i], in_port, PSW_DROP_PORT_DOWN);
		return;
	}
	if (psw_tracing(pmd))
		for (uint16_t i = 0; i < n; i++)
			psw_txq_trace(pmd, port, pkts[i]);
	b = txbuf_listed(pmd, port);
	while (n > 0) {
		uint16_t c = PSW_TXBUF - b->n < n ? PSW_TXBUF - b->n : n;

		rte_memcpy(&b->pkts[b->n], pkts, sizeof(pkts[0]) * c);
		b->n += c;
		pkts += c;
		n -= c;
		if (unlikely(b->n == PSW_TXBUF))
			psw_txq_flush_port(pmd, port);
	}
}

#endif
