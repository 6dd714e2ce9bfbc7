/*
 * capture_dp.c: packet capture on PMD threads (capture_dp.h). Runs only while a capture
 * is in the set, for the bursts of its port: filter (the session's eBPF program, native
 * code where DPDK's JIT made some), copy (rte_pktmbuf_copy, at most snaplen bytes, into
 * the session's pool), put the timestamp and length in front, and enqueue the copies on
 * this PMD's ring of the session in one burst. A full ring or an empty pool is counted
 * as lost, as tcpdump counts "dropped by kernel"; forwarding never waits for a capture.
 * Traced runs (core/trace.h) are not captured: they are not real traffic.
 */
#include <rte_cycles.h>

#include "datapath/capture_dp.h"

struct psw_capture_set *psw_capture_set;

static inline int
want(const struct psw_capture_dp *s, struct rte_mbuf *m)
{
	if (s->bpf == NULL)
		return 1;
	if (s->jit != NULL)
		return s->jit(m) != 0;
	return rte_bpf_exec(s->bpf, m) != 0;
}

static void
capture_one(struct psw_pmd *pmd, struct psw_capture_dp *s, struct rte_mbuf **pkts, uint16_t n,
	    uint8_t dir, uint64_t tsc)
{
	struct psw_capture_pmd_stats *st = &s->st[pmd->idx];
	struct rte_mbuf *copies[PSW_TXBUF];
	unsigned nc = 0, done;

	for (uint16_t i = 0; i < n; i++) {
		struct psw_capture_rec *r;
		struct rte_mbuf *c;

		if (!want(s, pkts[i]))
			continue;
		st->matched++;
		c = rte_pktmbuf_copy(pkts[i], s->pool, 0, s->snaplen);
		if (unlikely(c == NULL)) {
			st->lost++;
			continue;
		}
		r = (struct psw_capture_rec *)rte_pktmbuf_prepend(c, sizeof(*r));
		if (unlikely(r == NULL)) {
			rte_pktmbuf_free(c);
			st->lost++;
			continue;
		}
		r->tsc = tsc;
		r->orig_len = pkts[i]->pkt_len;
		r->dir = dir;
		copies[nc++] = c;
	}
	if (nc == 0)
		return;
	done = rte_ring_sp_enqueue_burst(s->ring[pmd->idx], (void **)copies, nc, NULL);
	if (unlikely(done < nc)) {
		rte_pktmbuf_free_bulk(copies + done, nc - done);
		st->lost += nc - done;
	}
}

void
psw_capture_burst(struct psw_pmd *pmd, const struct psw_capture_set *cs, uint16_t port,
		  struct rte_mbuf **pkts, uint16_t n, uint8_t dir)
{
	uint64_t tsc;

	if (psw_tracing(pmd) || pmd->idx >= PSW_MAX_PMDS || n == 0)
		return;
	tsc = rte_rdtsc();
	for (unsigned k = 0; k < cs->n; k++) {
		struct psw_capture_dp *s = cs->s[k];

		if (s->port != port || !(s->dirs & dir) ||
		    __atomic_load_n(&s->stop, __ATOMIC_RELAXED))
			continue;
		/* At most a tx buffer's worth at a time: bursts are no larger anyway. */
		for (uint16_t off = 0; off < n; off += PSW_TXBUF)
			capture_one(pmd, s, pkts + off, (uint16_t)RTE_MIN(n - off, PSW_TXBUF),
				    dir, tsc);
	}
}
