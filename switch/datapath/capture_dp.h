/*
 * capture_dp.h: packet capture, the PMD side (capture_dp.c; `podswitchctl capture`). The
 * control thread (control/capture.c) publishes the set of running captures; a PMD that
 * receives a burst on a port (datapath/pipeline.c) or flushes one to a port (txq.c)
 * checks that pointer: NULL, the usual case, costs one load and one predictable branch
 * per burst. Otherwise the packets of a captured port and direction that pass the
 * session's filter (a tcpdump expression, compiled to eBPF) are copied, with their
 * timestamp, onto this PMD's own ring of that session; a writer thread (control/
 * capture.c) empties the rings into a pcapng file. The original packets go on unchanged.
 *
 * Publishing: the set is swapped with a release store and the old one retired after a
 * grace period (core/rcu.h); no generation bump, since a capture changes no decision.
 * A session stays allocated until a grace period after it left the set, so a PMD never
 * copies into a freed ring.
 */
#ifndef PSW_DATAPATH_CAPTURE_DP_H
#define PSW_DATAPATH_CAPTURE_DP_H

#include <stdint.h>
#include <rte_bpf.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "core/burst.h"

#define PSW_CAPTURE_MAX 4          /* captures running at once */
#define PSW_CAPTURE_RX  1
#define PSW_CAPTURE_TX  2

/* One PMD's counters for one session: only that PMD writes them. */
struct psw_capture_pmd_stats {
	uint64_t matched;          /* of the port and direction, passed the filter */
	uint64_t lost;             /* matched, not copied: ring full or no buffer */
} __rte_cache_aligned;

/* A running capture as the PMDs see it: fixed while it is in the set, except `stop`. */
struct psw_capture_dp {
	uint16_t port;
	uint8_t dirs;                       /* PSW_CAPTURE_RX | PSW_CAPTURE_TX */
	uint8_t stop;                       /* the writer has enough: copy no more */
	uint32_t snaplen;                   /* bytes copied of each packet */
	const struct rte_bpf *bpf;          /* NULL: every packet */
	uint64_t (*jit)(void *mbuf);        /* bpf's native code, NULL: interpreted */
	struct rte_mempool *pool;           /* copies */
	struct rte_ring *ring[PSW_MAX_PMDS]; /* PMD i -> writer, single producer/consumer */
	struct psw_capture_pmd_stats st[PSW_MAX_PMDS];
};

/* What the PMD puts in front of each copy (in its headroom) for the writer. */
struct psw_capture_rec {
	uint64_t tsc;                       /* when the burst was received or sent */
	uint32_t orig_len;                  /* the packet's length (the copy may be cut) */
	uint8_t dir;                        /* PSW_CAPTURE_RX or PSW_CAPTURE_TX */
	uint8_t pad[3];
};

struct psw_capture_set {
	unsigned n;
	struct psw_capture_dp *s[PSW_CAPTURE_MAX];
};

/* The running captures, NULL when none (published by control/capture.c). */
extern struct psw_capture_set *psw_capture_set;

/* PMD: copy what sessions of cs want of pkts[0..n) on port in direction dir. */
void psw_capture_burst(struct psw_pmd *pmd, const struct psw_capture_set *cs, uint16_t port,
		       struct rte_mbuf **pkts, uint16_t n, uint8_t dir);

/* PMD: the hook on the packet path. Acquire pairs with the publisher's release: a
 * session's fields are visible before its pointer. */
static inline void
psw_capture_hook(struct psw_pmd *pmd, uint16_t port, struct rte_mbuf **pkts, uint16_t n,
		 uint8_t dir)
{
	const struct psw_capture_set *cs = __atomic_load_n(&psw_capture_set, __ATOMIC_ACQUIRE);

	if (unlikely(cs != NULL))
		psw_capture_burst(pmd, cs, port, pkts, n, dir);
}

#endif
