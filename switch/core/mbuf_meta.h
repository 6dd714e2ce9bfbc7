/*
 * mbuf_meta.h: per-packet metadata in the mbuf private area (both threads). Every pool
 * podswitch creates (psw_mbuf_pool_create) reserves PSW_MBUF_PRIV_SIZE bytes between the
 * mbuf header and the headroom for this struct: what one packet carries that neither its
 * headers nor its burst do (the port an injected packet leaves by; conntrack state
 * later). It is a cache line of its own, so the fast path writes it only where nothing
 * cheaper serves: the decap stage hands on the VNI and input port per burst of one peer
 * (core/burst.h tun_id, in_port), not per packet. Whoever reads a field must know that a
 * stage of this packet's path wrote it: mbufs are recycled with whatever their last user
 * left here.
 */
#ifndef PSW_CORE_MBUF_META_H
#define PSW_CORE_MBUF_META_H

#include <stdint.h>
#include <rte_mbuf.h>

struct psw_mbuf_meta {
	uint32_t tun_id;        /* VNI the packet arrived on (host order), 0 = none */
	uint16_t in_port;       /* logical input port (a tunnel peer's port after decap) */
	uint16_t out_port;      /* core/inject.h: the port an injected packet leaves by */
	uint32_t tun_remote;    /* the remote VTEP (IPv4, network order) it came from */
	uint32_t ct_state;      /* conntrack state (later) */
};

/* The private area's size: one cache line, so that the headroom and the packet data stay
 * cache-line aligned (a 32-byte area put every 64-byte frame across two lines: measured
 * +5 to +15 cycles/packet in benchmarks/run.sh), with room to grow. */
#define PSW_MBUF_PRIV_SIZE RTE_CACHE_LINE_SIZE

_Static_assert(sizeof(struct psw_mbuf_meta) <= PSW_MBUF_PRIV_SIZE,
	       "per-packet metadata must fit the mbuf private area");
_Static_assert(PSW_MBUF_PRIV_SIZE % RTE_CACHE_LINE_SIZE == 0,
	       "the private area must keep the packet data cache-line aligned");

static inline struct psw_mbuf_meta *
psw_mbuf_meta(struct rte_mbuf *m)
{
	return (struct psw_mbuf_meta *)rte_mbuf_to_priv(m);
}

/* A packet-mbuf pool with the private area (control thread). NULL + rte_errno. */
struct rte_mempool *psw_mbuf_pool_create(const char *name, unsigned n, unsigned cache,
					 int socket);

#endif
