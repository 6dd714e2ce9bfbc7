/*
 * burst.h: what every stage of the packet path receives: the PMD context (struct psw_pmd:
 * its counters, its tx buffers, its datapath state, the trace sink) and the burst (struct
 * psw_burst: the packets of one rx burst from one port and what the stages found out about
 * them). A stage is `void psw_<stage>_burst(struct psw_pmd *, struct psw_burst *)`
 * (datapath/pipeline.c lists them in order); it hands every packet on, queues it for
 * output (datapath/txq.h) or drops it with psw_pmd_drop(), never anything else.
 *
 * PMD threads write their own context only; the control thread reads counters (summed
 * over PMDs on read) and publishes tables. Nothing here locks, logs or makes a system call.
 */
#ifndef PSW_CORE_BURST_H
#define PSW_CORE_BURST_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_mbuf.h>

#include "core/clock.h"
#include "core/drop.h"
#include "core/key.h"
#include "core/limits.h"
#include "core/trace.h"

#define PSW_TXBUF      64   /* flushed when full and at the end of every iteration */

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

/* What `pmd perf` shows (control/rpc_pmd_perf.c): written by that PMD with plain stores,
 * per iteration, per burst or per run, never per packet. Every packet that reaches a
 * lookup is counted once: an exact-match cache hit (datapath/flow_cache.c's counters), a
 * packet of an L2 run the memo decided (l2_packets - l2_resolves - l2_bad), a classifier
 * lookup (cls_lookups on the full path, l2_resolves on the L2 path: one per run decided
 * anew), or not looked up (l2_bad, and full-path misses that reach no classifier). */
struct psw_pmd_perf {
	uint64_t busy_iterations;           /* iterations that received something */
	uint64_t rx_bursts[PSW_BURST + 1];  /* non-empty rx bursts, by size */
	uint64_t l2_packets;                /* packets on the L2 fast path */
	uint64_t l2_resolves;               /* L2 runs decided by the classifier */
	uint64_t l2_bad;                    /* L2 path: truncated or malformed, no lookup */
	uint64_t cls_lookups;               /* full path: cache misses classified */
} __rte_cache_aligned;

struct psw_txbuf {
	uint16_t n;
	uint8_t listed;                     /* in pmd->dirty until the end-of-iteration flush */
	struct rte_mbuf *pkts[PSW_TXBUF];
};

struct psw_rxq_set;                         /* datapath/pmd.h */
struct psw_dp_ctx;                          /* datapath/ctx.h */

struct psw_pmd {
	unsigned lcore;
	unsigned idx;                       /* RCU thread id, tx queue id */
	struct psw_rxq_set *rxqs;           /* RCU-published by the control thread */
	volatile int stop;
	uint64_t now;                       /* TSC at the start of this iteration */
	uint64_t now_s;                     /* the same in coarse seconds (core/clock.h) */
	uint64_t now_s_next;                /* TSC where now_s turns */
	struct psw_dp_ctx *ctx;             /* the datapath stages' per-PMD state */
	struct psw_trace_sink *trace;       /* NULL, except for `trace`'s own context */

	struct psw_pmd_stats stats;
	struct psw_pmd_perf perf;
	uint16_t n_dirty;                   /* ports with packets in txbuf */
	uint16_t dirty[PSW_MAX_PORTS];
	struct psw_txbuf txbuf[PSW_MAX_PORTS] __rte_cache_aligned;
	struct psw_pmd_port_stats port_stats[PSW_MAX_PORTS] __rte_cache_aligned;
};

/* The PMD's clock for this iteration: the TSC and, without a division per burst (tens of
 * cycles), its coarse seconds. */
static inline void
psw_pmd_set_now(struct psw_pmd *pmd, uint64_t tsc)
{
	pmd->now = tsc;
	if (unlikely(tsc >= pmd->now_s_next)) {
		uint64_t hz = psw_clock_hz();

		pmd->now_s = tsc / hz;
		pmd->now_s_next = (pmd->now_s + 1) * hz;
	}
}

/* The PMD contexts (datapath/pmd.c makes them; every layer's counters read them). */
extern struct psw_pmd *psw_pmds[PSW_MAX_PMDS];
extern unsigned psw_n_pmds;

/* Is this a traced run (core/trace.h)? Stages skip side effects on shared state then. */
static inline bool
psw_tracing(const struct psw_pmd *pmd)
{
	return unlikely(pmd->trace != NULL);
}

/* Free m and count it as dropped for `reason`, charged to input port `in_port`. m may be
 * NULL (a copy that could not be made). */
static inline void
psw_pmd_drop(struct psw_pmd *pmd, struct rte_mbuf *m, uint16_t in_port,
	     enum psw_drop_reason reason)
{
	pmd->stats.drops[reason]++;
	if (likely(in_port < PSW_MAX_PORTS))
		pmd->port_stats[in_port].drops[reason]++;
	if (psw_tracing(pmd)) {
		struct psw_trace_event *e = psw_trace_add(pmd->trace, PSW_TR_DROP, in_port,
							  NULL, NULL, 0);
		if (e != NULL)
			e->reason = (uint16_t)reason;
	}
	rte_pktmbuf_free(m);
}

struct psw_flow_view;                       /* flow/flow_table.h */
struct psw_flow_result;                     /* flow/result.h */

/* One rx burst (at most PSW_BURST packets from one port) on its way through the stages. */
struct psw_burst {
	struct rte_mbuf **pkts;
	uint16_t n;
	uint16_t in_port;                   /* the port it was received on */
	uint32_t tun_id;                    /* the VNI it arrived on (decap), 0: none */
	uint64_t gen;                       /* psw_generation, read before the tables */
	uint64_t learn_gen;                 /* l2's learn generation (cached floods) */
	uint64_t now_s;                     /* coarse seconds (core/clock.h) */
	const struct psw_flow_view *view;   /* the rule table, read after gen */
	/* Filled by the stages of the full path (parse, flow_cache, classify). */
	struct psw_flow_key keys[PSW_BURST];
	uint32_t hashes[PSW_BURST];
	const struct psw_flow_result *res[PSW_BURST];
	uint8_t hit[PSW_BURST];             /* res[i] came from the exact-match cache */
	/* Packets a stage answered in place (an ARP reply...), queued for output by the
	 * pipeline after that stage. */
	uint16_t n_tx;
	uint16_t tx_port[PSW_BURST];
	struct rte_mbuf *tx_pkts[PSW_BURST];
};

/* A stage sends m (taken out of the burst) out of port. */
static inline void
psw_burst_answer(struct psw_burst *b, struct rte_mbuf *m, uint16_t port)
{
	b->tx_port[b->n_tx] = port;
	b->tx_pkts[b->n_tx++] = m;
}

#endif
