/*
 * parse.c: mbuf -> struct psw_flow_key, a burst at a time, on the PMD, right after
 * rte_eth_rx_burst (pmd.c -> parse.c -> flow_cache.c). Ethernet, up to two VLAN tags
 * (802.1Q or 802.1ad; the outer one goes into the key), IPv4 (IHL honoured, no L4 for
 * non-first fragments), IPv6 with up to PSW_IPV6_EXT_MAX extension headers, TCP, UDP,
 * SCTP ports and ICMP/ICMPv6 type and code.
 *
 * Only the first segment is read, and never past rte_pktmbuf_data_len: a header that does
 * not fit sets PSW_KEY_F_TRUNCATED, an invalid one (IP version, IHL < 5, total length below
 * the header) PSW_KEY_F_MALFORMED; the pipeline drops those by reason. L4 headers must be
 * whole (TCP 20 bytes, UDP 8, SCTP 12, ICMP 8, ICMPv6 4), like OVS.
 *
 * The burst loop prefetches the packet data PREFETCH_AHEAD packets ahead and is unrolled by
 * four, with the per-packet work in parse_pkt() shared by the unrolled and the tail loop;
 * hashes are computed in a second pass over the finished keys.
 *
 * psw_parse_l2_runs() is the parse of the L2 fast path (a table whose rules look at the
 * Ethernet header only): the same Ethernet and VLAN walk, the same L3/L4 checks (through
 * the same functions, into a scratch key whose fields the compiler drops) for the drop
 * verdict, and nothing written but runs of packets with the same Ethernet header: the
 * pipeline then works per run, not per packet.
 */
#include <stddef.h>
#include <string.h>
#include <rte_byteorder.h>
#include <rte_hash_crc.h>
#ifdef __SSE4_2__
#include <immintrin.h>
#endif
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "datapath/ctx.h"
#include "datapath/parse.h"
#include "flow/flow_table.h"

#define PREFETCH_AHEAD    4
#define PSW_IPV6_EXT_MAX  4

#define ETH_HLEN          14
#define VLAN_HLEN         4
#define IPV4_HLEN         20
#define IPV6_HLEN         40

#define ETYPE_IPV4        0x0800
#define ETYPE_IPV6        0x86dd
#define ETYPE_VLAN        0x8100
#define ETYPE_QINQ        0x88a8

#define PROTO_ICMP        1
#define PROTO_TCP         6
#define PROTO_UDP         17
#define PROTO_SCTP        132
#define PROTO_ICMPV6      58

/* IPv6 extension headers we walk. */
#define EXT_HOPOPTS       0
#define EXT_ROUTING       43
#define EXT_FRAGMENT      44
#define EXT_AH            51
#define EXT_DSTOPTS       60
#define EXT_MOBILITY      135
#define EXT_HIP           139
#define EXT_SHIM6         140

static inline uint16_t
rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* Network <-> host order for 16 bits. DPDK's rte_be_to_cpu_16 is an xchgb in inline asm
 * for non-constants, which the compiler cannot schedule or fold; the builtin is a rol. */
static inline uint16_t
swap16(uint16_t v)
{
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	return __builtin_bswap16(v);
#else
	return v;
#endif
}

/* L4 fields at p, `room` bytes available. */
static inline void
parse_l4(struct psw_flow_key *k, uint8_t proto, const uint8_t *p, uint32_t room)
{
	switch (proto) {
	case PROTO_TCP:
	case PROTO_UDP:
	case PROTO_SCTP:
		if (unlikely(room < (proto == PROTO_TCP ? 20u : proto == PROTO_UDP ? 8u : 12u))) {
			k->flags |= PSW_KEY_F_TRUNCATED;
			return;
		}
		k->tp_src = rd16(p);
		k->tp_dst = rd16(p + 2);
		return;
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		if (unlikely(room < (proto == PROTO_ICMP ? 8u : 4u))) {
			k->flags |= PSW_KEY_F_TRUNCATED;
			return;
		}
		k->tp_src = swap16(p[0]);
		k->tp_dst = swap16(p[1]);
		return;
	default:
		return;
	}
}

static inline void
parse_ipv4(struct psw_flow_key *k, const uint8_t *p, uint32_t room)
{
	uint32_t ihl;
	uint16_t frag;

	if (unlikely(room < IPV4_HLEN)) {
		k->flags |= PSW_KEY_F_TRUNCATED;
		return;
	}
	ihl = (p[0] & 0x0f) * 4u;
	if (unlikely((p[0] >> 4) != 4 || ihl < IPV4_HLEN ||
		     swap16(rd16(p + 2)) < ihl)) {
		k->flags |= PSW_KEY_F_MALFORMED;
		return;
	}
	if (unlikely(room < ihl)) {
		k->flags |= PSW_KEY_F_TRUNCATED;
		return;
	}
	memcpy(&k->nw_src, p + 12, 4);
	memcpy(&k->nw_dst, p + 16, 4);
	k->nw_proto = p[9];
	frag = swap16(rd16(p + 6));
	if (unlikely(frag & 0x3fff)) {          /* MF or a fragment offset */
		k->flags |= PSW_KEY_F_FRAG;
		if (frag & 0x1fff) {
			k->flags |= PSW_KEY_F_FRAG_LATER;
			return;
		}
	}
	parse_l4(k, k->nw_proto, p + ihl, room - ihl);
}

static inline void
parse_ipv6(struct psw_flow_key *k, const uint8_t *p, uint32_t room)
{
	uint32_t off = IPV6_HLEN, len;
	uint8_t nh;
	unsigned i;

	if (unlikely(room < IPV6_HLEN)) {
		k->flags |= PSW_KEY_F_TRUNCATED;
		return;
	}
	if (unlikely((p[0] >> 4) != 6)) {
		k->flags |= PSW_KEY_F_MALFORMED;
		return;
	}
	memcpy(k->ipv6_src, p + 8, 16);
	memcpy(k->ipv6_dst, p + 24, 16);
	nh = p[6];
	for (i = 0;; i++) {
		switch (nh) {
		case EXT_HOPOPTS:
		case EXT_ROUTING:
		case EXT_DSTOPTS:
		case EXT_AH:
		case EXT_FRAGMENT:
			break;
		case EXT_MOBILITY:
		case EXT_HIP:
		case EXT_SHIM6:
			/* not walked: the key stops at this header */
			k->nw_proto = nh;
			k->flags |= PSW_KEY_F_IPV6_EXT;
			return;
		default:                /* upper layer (ESP too, as in IPv4 and OVS) */
			k->nw_proto = nh;
			parse_l4(k, nh, p + off, room - off);
			return;
		}
		if (unlikely(i == PSW_IPV6_EXT_MAX)) {
			/* too many extension headers: the upper protocol stays unknown */
			k->nw_proto = nh;
			k->flags |= PSW_KEY_F_IPV6_EXT;
			return;
		}
		if (unlikely(room - off < 8)) {
			k->flags |= PSW_KEY_F_TRUNCATED;
			return;
		}
		if (nh == EXT_FRAGMENT) {
			uint16_t fo = swap16(rd16(p + off + 2));

			len = 8;
			k->flags |= PSW_KEY_F_FRAG;
			if (fo & 0xfff8) {
				k->flags |= PSW_KEY_F_FRAG_LATER;
				k->nw_proto = p[off];
				return;
			}
		} else if (nh == EXT_AH) {
			len = (p[off + 1] + 2u) * 4u;
		} else {
			len = (p[off + 1] + 1u) * 8u;
		}
		if (unlikely(room - off < len)) {
			k->flags |= PSW_KEY_F_TRUNCATED;
			return;
		}
		nh = p[off];
		off += len;
	}
}

static __rte_always_inline void
parse_pkt(const struct rte_mbuf *m, uint16_t in_port, struct psw_flow_key *k)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	uint32_t off = 12;
	rte_be16_t type;                     /* network order throughout */
	unsigned tags = 0;

	memset(k, 0, sizeof(*k));
	k->in_port = in_port;
	if (unlikely(len < ETH_HLEN)) {
		k->flags = PSW_KEY_F_TRUNCATED;
		return;
	}
	/* dl_dst and dl_src are adjacent in the frame and in the key: one 12-byte copy */
	memcpy((uint8_t *)k + offsetof(struct psw_flow_key, dl_dst), p, 2 * RTE_ETHER_ADDR_LEN);
	if (unlikely(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED)) {
		k->vlan_tci = swap16((m->vlan_tci & ~PSW_VLAN_PRESENT) | PSW_VLAN_PRESENT);
		tags = 1;
	}
	type = rd16(p + off);
	while (unlikely(type == RTE_BE16(ETYPE_VLAN) || type == RTE_BE16(ETYPE_QINQ))) {
		if (unlikely(len < off + 2 + VLAN_HLEN)) {
			k->dl_type = type;
			k->flags |= PSW_KEY_F_TRUNCATED;
			return;
		}
		if (tags == 0)
			k->vlan_tci = (rd16(p + off + 2) & ~RTE_BE16(PSW_VLAN_PRESENT)) |
				      RTE_BE16(PSW_VLAN_PRESENT);
		else
			k->flags |= PSW_KEY_F_QINQ;
		off += VLAN_HLEN;
		type = rd16(p + off);
		if (++tags == 2)
			break;
	}
	k->dl_type = type;
	off += 2;
	if (likely(type == RTE_BE16(ETYPE_IPV4)))
		parse_ipv4(k, p + off, len - off);
	else if (type == RTE_BE16(ETYPE_IPV6))
		parse_ipv6(k, p + off, len - off);
}

uint8_t
psw_parse_one(const struct rte_mbuf *m, uint16_t in_port, struct psw_flow_key *key)
{
	parse_pkt(m, in_port, key);
	return key->flags;
}

static inline uint32_t
pkt_hash(const struct rte_mbuf *m, const struct psw_flow_key *k)
{
	if (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH)
		return m->hash.rss;
	return psw_flow_key_hash(k);
}

void
psw_parse_keys(struct rte_mbuf **pkts, uint16_t n, uint16_t in_port,
		struct psw_flow_key *keys, uint32_t *hashes)
{
	uint16_t i, j;

	for (i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));

	for (i = 0; i + 4 <= n; i += 4) {
		if (likely(i + 4 + PREFETCH_AHEAD <= n)) {
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD + 1], void *));
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD + 2], void *));
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD + 3], void *));
		} else {
			for (j = i + PREFETCH_AHEAD; j < n; j++)
				rte_prefetch0(rte_pktmbuf_mtod(pkts[j], void *));
		}
		parse_pkt(pkts[i], in_port, &keys[i]);
		parse_pkt(pkts[i + 1], in_port, &keys[i + 1]);
		parse_pkt(pkts[i + 2], in_port, &keys[i + 2]);
		parse_pkt(pkts[i + 3], in_port, &keys[i + 3]);
	}
	for (; i < n; i++)
		parse_pkt(pkts[i], in_port, &keys[i]);

	/* Hash in a second pass: the keys were just written field by field, and reading one
	 * back as 8-byte words right away would stall on store forwarding (measured: the
	 * hash cost 19 cycles a packet inline, about 6 in its own pass). */
	if (hashes)
		for (i = 0; i < n; i++)
			hashes[i] = pkt_hash(pkts[i], &keys[i]);
}

struct l2_hdr {
	uint64_t w1, w2;
	uint8_t bad;
};

void
psw_parse_keys_masked(struct rte_mbuf **pkts, uint16_t n, uint16_t in_port,
		       const struct psw_flow_key *mask, struct psw_flow_key *keys,
		       uint32_t *hashes)
{
	const uint64_t *m = psw_flow_key_words(mask);
	uint16_t i;

	psw_parse_keys(pkts, n, in_port, keys, NULL);
	/* A second pass, as for the hash: the keys were written field by field. The masked
	 * words stay in registers for the hash. */
	for (i = 0; i < n; i++) {
		uint64_t *w = (uint64_t *)&keys[i];
		struct psw_flow_key k;
		uint64_t x[PSW_FLOW_KEY_WORDS];

		for (unsigned j = 0; j < PSW_FLOW_KEY_WORDS; j++) {
			x[j] = w[j] & m[j];
			w[j] = x[j];
		}
		memcpy(&k, x, sizeof(k));
		hashes[i] = psw_flow_key_hash(&k);
	}
}

/* The L2 part of parse_pkt() for one packet; the L3/L4 headers only for their verdict. */
static __rte_always_inline void
parse_l2_pkt(const struct rte_mbuf *m, struct l2_hdr *h)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	uint32_t off = 12, src_hi;
	rte_be16_t type, tci = 0;
	unsigned tags = 0;
	struct psw_flow_key k;             /* scratch: only .flags is read back */

	if (unlikely(len < ETH_HLEN)) {
		h->w1 = h->w2 = 0;
		h->bad = PSW_KEY_F_TRUNCATED;
		return;
	}
	memcpy(&h->w1, p, 8);
	memcpy(&src_hi, p + 8, 4);
	if (unlikely(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED)) {
		tci = swap16((m->vlan_tci & ~PSW_VLAN_PRESENT) | PSW_VLAN_PRESENT);
		tags = 1;
	}
	k.flags = 0;
	type = rd16(p + off);
	while (unlikely(type == RTE_BE16(ETYPE_VLAN) || type == RTE_BE16(ETYPE_QINQ))) {
		if (unlikely(len < off + 2 + VLAN_HLEN)) {
			k.flags |= PSW_KEY_F_TRUNCATED;
			break;
		}
		if (tags == 0)
			tci = (rd16(p + off + 2) & ~RTE_BE16(PSW_VLAN_PRESENT)) |
			      RTE_BE16(PSW_VLAN_PRESENT);
		off += VLAN_HLEN;
		type = rd16(p + off);
		if (++tags == 2)
			break;
	}
	if (likely(k.flags == 0)) {
		off += 2;
		/* The common IPv4 header (version 4, no options, total length at least the
		 * header) with 40 bytes in the segment: parse_ipv4() can find nothing wrong
		 * (the longest L4 header it requires is TCP's 20), so skip its branches. */
		if (likely(type == RTE_BE16(ETYPE_IPV4) && len >= off + 40 && p[off] == 0x45 &&
			   swap16(rd16(p + off + 2)) >= IPV4_HLEN))
			;
		else if (type == RTE_BE16(ETYPE_IPV4))
			parse_ipv4(&k, p + off, len - off);
		else if (type == RTE_BE16(ETYPE_IPV6))
			parse_ipv6(&k, p + off, len - off);
	}
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	h->w2 = (uint64_t)src_hi | (uint64_t)tci << 32 | (uint64_t)type << 48;
#else
	h->w2 = (uint64_t)src_hi << 32 | (uint64_t)tci << 16 | (uint64_t)type;
#endif
	h->bad = k.flags & PSW_KEY_F_BAD;
}

uint16_t
psw_parse_l2_runs(struct rte_mbuf **pkts, uint16_t n, struct psw_l2_run *runs)
{
	struct psw_l2_run *r = runs - 1;
	uint16_t i;

	for (i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < n; i++) {
		struct l2_hdr h;

		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		parse_l2_pkt(pkts[i], &h);
		if (likely(i > 0 && h.w1 == r->w1 && h.w2 == r->w2 && !(h.bad | r->bad))) {
			r->n++;
			r->bytes += pkts[i]->pkt_len;
			continue;
		}
		r++;
		r->w1 = h.w1;
		r->w2 = h.w2;
		r->bad = h.bad;
		r->start = i;
		r->n = 1;
		r->bytes = pkts[i]->pkt_len;
	}
	return (uint16_t)(r + 1 - runs);
}

void
psw_parse_burst(struct psw_pmd *pmd, struct psw_burst *b)
{
	const struct psw_flow_view *v = b->view;

	if (v != NULL && v->cache_masked && pmd->ctx->mask_on)
		/* Megaflow-style: the cache keys on what some rule looks at (and what NORMAL
		 * needs), so flows that differ elsewhere share an entry and the classifier;
		 * the hash is taken after the mask (not the device's). A separate pass: the
		 * keys were just written field by field (store forwarding). */
		psw_parse_keys_masked(b->pkts, b->n, b->in_port, &v->cache_mask, b->keys,
				      b->hashes);
	else
		psw_parse_keys(b->pkts, b->n, b->in_port, b->keys, b->hashes);
	if (unlikely(b->tun_id != 0)) {
		/* Decapsulated: the VNI is part of the key (rules match it as tun_id). */
		uint32_t id = b->tun_id;

		if (v != NULL && v->cache_masked && pmd->ctx->mask_on)
			id &= v->cache_mask.tun_id;
		for (uint16_t i = 0; i < b->n; i++) {
			b->keys[i].tun_id = id;
			b->hashes[i] = psw_flow_key_hash(&b->keys[i]);
		}
	}
	if (psw_tracing(pmd))
		for (uint16_t i = 0; i < b->n; i++)
			psw_trace_add(pmd->trace, PSW_TR_PARSED, b->in_port, NULL, &b->keys[i],
				      sizeof(b->keys[i]));
}
