/*
 * mbuf_free.h: give a burst of mbufs back to their pools (PMD threads; also the control
 * thread). The common mbuf (one segment, direct, ours alone) goes back with one mempool
 * put per run of one pool, without touching its second cache line (where next lives:
 * nb_segs == 1 says it is NULL); anything else takes rte_pktmbuf_free's full path. DPDK's
 * own rte_pktmbuf_free_bulk is not inline and checks every field of every mbuf.
 * Used where a device took a burst by copy (vhost-user, memif) and where a burst was not
 * taken (txq.c: ring full, link down).
 */
#ifndef PSW_CORE_MBUF_FREE_H
#define PSW_CORE_MBUF_FREE_H

#include <stdint.h>
#include <rte_branch_prediction.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#define PSW_FREE_BATCH 32

static inline void
psw_mbuf_free_bulk(struct rte_mbuf **pkts, uint16_t n)
{
	void *batch[PSW_FREE_BATCH];
	struct rte_mempool *mp = NULL;
	unsigned k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (unlikely(m->nb_segs != 1 || !RTE_MBUF_DIRECT(m) ||
			     rte_mbuf_refcnt_read(m) != 1)) {
			rte_pktmbuf_free(m);
			continue;
		}
		if (m->pool != mp || k == PSW_FREE_BATCH) {
			if (k > 0)
				rte_mempool_put_bulk(mp, batch, k);
			k = 0;
			mp = m->pool;
		}
		batch[k++] = m;
	}
	if (k > 0)
		rte_mempool_put_bulk(mp, batch, k);
}

#endif
