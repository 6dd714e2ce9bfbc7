/*
 * pmd.h: poll-mode threads. Each PMD lcore owns a set of rx queues (published by the
 * control thread with RCU), its own tx queue on every port, its own counters and its own
 * per-port tx buffers. The inline helpers here are the fast path's vocabulary: count a
 * drop, queue a packet for output. Nothing here locks, logs or makes a system call.
 */
#ifndef PSW_PMD_H
#define PSW_PMD_H

#include <stdint.h>
#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_branch_prediction.h>

#include "drop.h"
#include "port.h"

#define PSW_MAX_PMDS   16
#define PSW_BURST      32
#define PSW_TXBUF      64   /* flushed when full and at the end of every iteration */
#define PSW_MAX_RXQS   (PSW_MAX_PORTS * 2)

struct psw_rxq {
	uint16_t port;       /* podswitch port id */
	uint16_t dpdk_port;
	uint16_t queue;
	const struct psw_port_io *io; /* NULL: rte_eth_rx_burst(dpdk_port, queue) */
};

/* A PMD's rx queues: built by the control thread, swapped in whole (rcu.h). */
struct psw_rxq_set {
	uint16_t n;
	struct psw_rxq q[];
};

/* Per-PMD per-port counters. Only that PMD writes them; readers sum over PMDs. */
struct psw_pmd_port_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;
	uint64_t tx_drops;
	uint64_t drops[PSW_DROP_MAX];
};

struct psw_pmd_stats {
	uint64_t packets;      /* received */
	uint64_t busy_cycles;  /* iterations that received something */
	uint64_t idle_cycles;
	uint64_t iterations;
	uint64_t sleeps;       /* idle back-off sleeps */
	uint64_t drops[PSW_DROP_MAX];
} __rte_cache_aligned;

struct psw_txbuf {
	uint16_t n;
	uint8_t listed;                     /* in pmd->dirty until the end-of-iteration flush */
	struct rte_mbuf *pkts[PSW_TXBUF];
};

struct psw_pmd {
	unsigned lcore;
	unsigned idx;                       /* RCU thread id, tx queue id */
	struct psw_rxq_set *rxqs;           /* RCU-published by the control thread */
	volatile int stop;
	uint64_t now;                       /* TSC at the start of this iteration */
	void *flow_ctx;                     /* per-PMD state of the flow pipeline */

	struct psw_pmd_stats stats;
	uint16_t n_dirty;                   /* ports with packets in txbuf */
	uint16_t dirty[PSW_MAX_PORTS];
	struct psw_txbuf txbuf[PSW_MAX_PORTS] __rte_cache_aligned;
	struct psw_pmd_port_stats port_stats[PSW_MAX_PORTS] __rte_cache_aligned;
};

extern struct psw_pmd *psw_pmds[PSW_MAX_PMDS];
extern unsigned psw_n_pmds;

void psw_txq_flush_port(struct psw_pmd *pmd, uint16_t port);
void psw_txq_flush_all(struct psw_pmd *pmd);

/* Free m and count it as dropped for `reason`, charged to input port `in_port`. */
static inline void
psw_pmd_drop(struct psw_pmd *pmd, struct rte_mbuf *m, uint16_t in_port,
	     enum psw_drop_reason reason)
{
	pmd->stats.drops[reason]++;
	if (likely(in_port < PSW_MAX_PORTS))
		pmd->port_stats[in_port].drops[reason]++;
	rte_pktmbuf_free(m);
}

/* Queue m for output on `port`; sent at the end of the iteration (or when the buffer
 * fills). A port that is disabled or down drops it as PORT_DOWN. */
static inline void
psw_txq_enqueue(struct psw_pmd *pmd, uint16_t port, struct rte_mbuf *m, uint16_t in_port)
{
	struct psw_txbuf *b;

	if (unlikely(port >= PSW_MAX_PORTS ||
		     !__atomic_load_n(&psw_ports[port].enabled, __ATOMIC_ACQUIRE))) {
		psw_pmd_drop(pmd, m, in_port, PSW_DROP_PORT_DOWN);
		return;
	}
	b = &pmd->txbuf[port];
	if (!b->listed) {
		b->listed = 1;
		pmd->dirty[pmd->n_dirty++] = port;
	}
	b->pkts[b->n++] = m;
	if (unlikely(b->n == PSW_TXBUF))
		psw_txq_flush_port(pmd, port);
}

/* Control thread. */
int psw_pmd_init(const unsigned *lcores, unsigned n, unsigned idle_sleep_us);
int psw_pmd_start(void);
void psw_pmd_stop(void);
void psw_pmd_fini(void);
/* Rebuild every PMD's rx queue set from the port registry and publish it. */
int psw_pmd_assign_rxqs(void);
void psw_pmd_read_stats(unsigned idx, struct psw_pmd_stats *out);
void psw_pmd_clear_stats(void);

/* The forwarding decision for one burst from one rx queue (pipeline.c). Every packet is
 * either queued with psw_txq_enqueue or dropped with psw_pmd_drop. */
void psw_pipeline_burst(struct psw_pmd *pmd, uint16_t in_port,
			struct rte_mbuf **pkts, uint16_t n);

#endif
