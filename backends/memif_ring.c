/*
 * memif_ring.c: the data path of podswitch's memif server (PMD threads). rx copies
 * packets out of the client-to-server rings into mbufs of the switch's pool; tx copies
 * packets into the empty buffers the client offers on the server-to-client rings. These
 * are psw_port_io's rx_burst/tx_burst: pmd.c calls rx in place of rte_eth_rx_burst,
 * txq.c calls tx at the end of the iteration.
 *
 * Hostile peer: the rings and buffers live in the client's memory and it may rewrite
 * them at any moment. The server keeps its own cursor per ring and never reads back the
 * index it writes; it reads the client's index once per burst and clamps the distance to
 * the ring size; it copies each descriptor into locals once and checks region index,
 * length (against buffer_size) and offset + length (64-bit) against the mapped region
 * before touching a byte; chains are bounded (MSRV_MAX_CHAIN). A bad descriptor drops
 * its packet (rx) or is skipped (tx) and counts as bad_desc; nothing else changes.
 * Regions are sealed against shrinking (checked at ADD_REGION), so a mapped byte stays
 * backed. The connection is published with RCU: a disconnect unmaps only after a grace
 * period.
 *
 * No lock, no system call, no log. Interrupts: a client ring in interrupt mode (flags
 * without MEMIF_RING_FLAG_MASK_INT) is not woken: writing its eventfd would be a system
 * call per burst. Peers poll (DPDK's net_memif does; VPP and libmemif in polling mode).
 * The only lock: when the switch has more PMDs than the client has s2c rings, PMDs
 * sharing a ring take its spinlock (as txq.c does for devices with few queues).
 */
#include <rte_branch_prediction.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>

#include "backends/memif_proto.h"
#include "core/mbuf_free.h"

/* How many descriptors ahead the buffers are prefetched. */
#define PREFETCH_AHEAD 4

/* One read of a descriptor the client may be rewriting: two 64-bit loads into locals. */
static inline struct memif_desc
desc_load(const struct memif_ring *ring, uint16_t slot)
{
	const volatile uint64_t *p = (const volatile uint64_t *)&ring->desc[slot];
	uint64_t w[2] = { p[0], p[1] };
	struct memif_desc d;

	memcpy(&d, w, sizeof(d));
	return d;
}

/* The descriptor's buffer, or NULL when it does not lie inside a mapped region. */
static inline uint8_t *
desc_buf(const struct msrv_conn *c, const struct memif_desc *d, uint32_t len)
{
	const struct msrv_region *r;

	if (unlikely(d->region >= c->n_regions || len > c->max_len))
		return NULL;
	r = &c->region[d->region];
	if (unlikely((uint64_t)d->offset + len > r->size))
		return NULL;
	return r->addr + d->offset;
}

/* Ask for the buffer of the descriptor at slot ahead of time: the client wrote it (rx) or
 * will read it (tx) from the other core, so it is not in this core's cache. Only a
 * buffer inside a mapped region is touched; a prefetch never faults anyway. */
static inline void
prefetch_buf(const struct msrv_conn *c, const struct memif_ring *ring, uint16_t slot,
	     bool write)
{
	struct memif_desc d = desc_load(ring, slot);

	if (likely(d.region < c->n_regions &&
		   (uint64_t)d.offset + RTE_CACHE_LINE_SIZE <= c->region[d.region].size)) {
		if (write)
			rte_prefetch0_write(c->region[d.region].addr + d.offset);
		else
			rte_prefetch0(c->region[d.region].addr + d.offset);
	}
}

/* Append len bytes to the packet whose last segment is *seg. 0, or -1 without mbufs. */
static inline int
append(struct rte_mbuf *head, struct rte_mbuf **seg, const uint8_t *src, uint32_t len,
       struct rte_mempool *mp)
{
	while (len > 0) {
		struct rte_mbuf *m = *seg;
		uint32_t room = rte_pktmbuf_tailroom(m), cp;

		if (room == 0) {
			if (head->nb_segs >= RTE_MBUF_MAX_NB_SEGS)
				return -1;
			m = rte_pktmbuf_alloc(mp);
			if (unlikely(m == NULL))
				return -1;
			(*seg)->next = m;
			head->nb_segs++;
			*seg = m;
			room = rte_pktmbuf_tailroom(m);
		}
		cp = len < room ? len : room;
		rte_memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, m->data_len), src, cp);
		m->data_len = (uint16_t)(m->data_len + cp);
		head->pkt_len += cp;
		src += cp;
		len -= cp;
	}
	return 0;
}

/* Receive one packet of k descriptors (already loaded and checked) into m. */
static inline int
rx_copy(const struct msrv_conn *c, const struct memif_desc *d, unsigned k,
	struct rte_mbuf *m)
{
	struct rte_mbuf *seg = m;

	for (unsigned i = 0; i < k; i++)
		if (append(m, &seg, c->region[d[i].region].addr + d[i].offset, d[i].length,
			   c->mp) < 0)
			return -1;
	return 0;
}

uint16_t
psw_memif_rx_burst(void *ctx, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct msrv_dp *dp = ctx;
	/* Acquire pairs with the control thread's publish: the rings and regions it set up
	 * are visible. The connection stays mapped until this PMD's next quiescent state. */
	struct msrv_conn *c = __atomic_load_n(&dp->conn, __ATOMIC_ACQUIRE);
	struct msrv_ring *r;
	struct rte_mbuf *m;
	uint16_t cur, avail, used = 0, got = 0, bad = 0;

	if (unlikely(c == NULL || queue >= c->n_c2s || n == 0))
		return 0;
	r = &c->c2s[queue];
	cur = r->cursor;
	/* Acquire: descriptors written before the client moved head are visible. */
	avail = (uint16_t)(__atomic_load_n(&r->ring->head, __ATOMIC_ACQUIRE) - cur);
	if (unlikely(avail > r->size))
		avail = r->size; /* a lying head: never more than one ring's worth */
	if (avail == 0)
		return 0;
	if (n > avail)
		n = avail; /* at least one slot per packet */
	if (unlikely(rte_pktmbuf_alloc_bulk(c->mp, pkts, n) != 0))
		return 0;
	rte_prefetch0(&r->ring->desc[cur & r->mask]);
	for (uint16_t i = 0; i < PREFETCH_AHEAD && i < avail; i++)
		prefetch_buf(c, r->ring, (uint16_t)(cur + i) & r->mask, false);

	while (got < n && used < avail) {
		struct memif_desc d[MSRV_MAX_CHAIN];
		unsigned k = 0;
		bool ok = true;

		if ((uint16_t)(used + PREFETCH_AHEAD) < avail)
			prefetch_buf(c, r->ring, (uint16_t)(cur + used + PREFETCH_AHEAD) & r->mask,
				     false);
		/* Load the chain once; it must end inside what the client published. */
		for (;;) {
			if (used + k >= avail)
				goto out; /* incomplete chain: wait for the rest */
			d[k] = desc_load(r->ring, (uint16_t)(cur + used + k) & r->mask);
			rte_prefetch0(&r->ring->desc[(uint16_t)(cur + used + k + 2) & r->mask]);
			if (desc_buf(c, &d[k], d[k].length) == NULL)
				ok = false;
			k++;
			if (!(d[k - 1].flags & MEMIF_DESC_FLAG_NEXT))
				break;
			if (k == MSRV_MAX_CHAIN) {
				ok = false; /* too long: drop what we have, resync on the rest */
				break;
			}
		}
		used = (uint16_t)(used + k);
		if (unlikely(!ok || (k == 1 && d[0].length == 0))) {
			bad++;
			continue;
		}
		m = pkts[got];
		if (unlikely(rx_copy(c, d, k, m) < 0)) {
			/* Out of mbufs mid-chain: drop this packet, keep the ring moving. */
			rte_pktmbuf_free(m);
			pkts[got] = rte_pktmbuf_alloc(c->mp);
			if (pkts[got] == NULL)
				break;
			continue;
		}
		if (unlikely(m->pkt_len == 0)) {
			bad++;
			continue;
		}
		got++;
	}
out:
	if (got < n)
		for (uint16_t i = got; i < n; i++)
			if (pkts[i] != NULL)
				rte_pktmbuf_free(pkts[i]);
	if (bad)
		dp->rx[queue].bad_desc += bad;
	r->cursor = (uint16_t)(cur + used);
	/* Release: the client may reuse the buffers once it sees tail; we are done reading. */
	__atomic_store_n(&r->ring->tail, r->cursor, __ATOMIC_RELEASE);
	return got;
}

/* Copy packet m into the ring from slot cur on (avail free slots). Returns the slots
 * consumed; *sent says whether m went out. A bad descriptor before the packet's first
 * byte is handed back empty and counted, and the caller tries again on the next slot
 * (progress is guaranteed: the slot is consumed). A bad one mid-packet ends the packet
 * there (the client gets it truncated: its own doing). When the packet does not fit,
 * nothing is consumed: 0. */
static inline uint16_t
tx_one(const struct msrv_conn *c, struct msrv_ring *r, uint16_t cur, uint16_t avail,
       struct rte_mbuf *m, uint16_t *bad, bool *sent)
{
	const struct rte_mbuf *seg = m;
	uint32_t seg_off = 0;
	uint16_t used = 0;
	volatile struct memif_desc *prev = NULL;

	*sent = false;
	while (used < avail) {
		uint16_t slot = (uint16_t)(cur + used) & r->mask;
		volatile struct memif_desc *dst = &r->ring->desc[slot];
		struct memif_desc d = desc_load(r->ring, slot);
		uint32_t cap = d.length < c->max_len ? d.length : c->max_len, off = 0;
		uint8_t *buf = desc_buf(c, &d, cap);

		used++;
		if (unlikely(buf == NULL || cap == 0)) {
			/* Not a buffer we may write: hand the slot back empty. */
			dst->length = 0;
			dst->flags = 0;
			(*bad)++;
			*sent = prev != NULL;
			return used;
		}
		if (prev != NULL)
			prev->flags = MEMIF_DESC_FLAG_NEXT;
		while (off < cap && seg != NULL) {
			uint32_t left = seg->data_len - seg_off;
			uint32_t cp = left < cap - off ? left : cap - off;

			rte_memcpy(buf + off, rte_pktmbuf_mtod_offset(seg, uint8_t *, seg_off), cp);
			off += cp;
			seg_off += cp;
			if (seg_off == seg->data_len) {
				seg = seg->next;
				seg_off = 0;
				while (seg != NULL && seg->data_len == 0)
					seg = seg->next;
			}
		}
		dst->length = off;
		dst->flags = 0;
		prev = dst;
		if (seg == NULL) {
			*sent = true;
			return used;
		}
	}
	/* Out of slots mid-packet: what was written stays unpublished (tail does not move). */
	return 0;
}

uint16_t
psw_memif_tx_burst(void *ctx, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct msrv_dp *dp = ctx;
	struct msrv_conn *c = __atomic_load_n(&dp->conn, __ATOMIC_ACQUIRE);
	struct msrv_ring *r;
	uint16_t cur, avail, used = 0, sent = 0, bad = 0;
	bool shared;

	if (unlikely(c == NULL || c->n_s2c == 0 || n == 0))
		return 0;
	r = &c->s2c[queue < c->n_s2c ? queue : queue % c->n_s2c];
	shared = c->n_txq > c->n_s2c;
	if (shared)
		rte_spinlock_lock(&r->lock);
	cur = r->cursor;
	/* Acquire: the client's refilled descriptors are visible once head says so. */
	avail = (uint16_t)(__atomic_load_n(&r->ring->head, __ATOMIC_ACQUIRE) - cur);
	if (unlikely(avail > r->size))
		avail = r->size;
	for (uint16_t i = 0; i < PREFETCH_AHEAD && i < avail && i < n; i++)
		prefetch_buf(c, r->ring, (uint16_t)(cur + i) & r->mask, true);
	while (sent < n && used < avail) {
		bool ok;
		uint16_t k;

		if (sent + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[sent + 1], void *));
		if ((uint16_t)(used + PREFETCH_AHEAD) < avail)
			prefetch_buf(c, r->ring, (uint16_t)(cur + used + PREFETCH_AHEAD) & r->mask,
				     true);
		k = tx_one(c, r, (uint16_t)(cur + used), (uint16_t)(avail - used), pkts[sent],
			   &bad, &ok);
		if (k == 0)
			break;
		used = (uint16_t)(used + k);
		if (ok)
			sent++;
	}
	r->cursor = (uint16_t)(cur + used);
	/* Release: lengths and data are visible to the client before the new tail. */
	__atomic_store_n(&r->ring->tail, r->cursor, __ATOMIC_RELEASE);
	if (bad)
		dp->tx[queue < c->n_s2c ? queue : queue % c->n_s2c].bad_desc += bad;
	if (shared)
		rte_spinlock_unlock(&r->lock);
	psw_mbuf_free_bulk(pkts, sent);
	return sent;
}
