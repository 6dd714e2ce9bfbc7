/*
 * key.h: the packet key (both threads). A packet becomes a struct psw_flow_key: one
 * 64-byte cache line, fixed layout, every unused byte zero, so that keys are hashed and
 * compared as memory. The parser (datapath/parse.c) fills it, the exact-match cache and
 * the classifier (flow/) look it up, rules match it under a mask (flow/rule.h).
 *
 * Byte order: every multi-byte field of the key holds network byte order, as on the wire
 * (rte_be16_t/rte_be32_t), so that the parser copies and never swaps; whoever builds a
 * match from text converts (rte_cpu_to_be_16 etc.).
 */
#ifndef PSW_CORE_KEY_H
#define PSW_CORE_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_hash_crc.h>
#if defined(__AVX2__) || defined(__SSE4_1__) || defined(__SSE4_2__)
#include <immintrin.h>
#endif

/* --- the key --------------------------------------------------------------------------- */

/* vlan_tci: PCP(3) | PRESENT(1) | VID(12), network order. The bit that is CFI/DEI on the
 * wire marks "a tag is present" here (as in OVS), so that "no VLAN" (tci == 0) and
 * "VLAN 0" (tci == PRESENT) differ. The packet's DEI bit is not kept. */
#define PSW_VLAN_PRESENT 0x1000u   /* host order; use RTE_BE16(PSW_VLAN_PRESENT) on keys */
#define PSW_VLAN_VID_MASK 0x0fffu
#define PSW_VLAN_PCP_MASK 0xe000u

/* flags: facts the parser found; matchable like any other field, normally unmasked. */
#define PSW_KEY_F_TRUNCATED  0x01  /* a header ended before data_len: drop as TRUNCATED */
#define PSW_KEY_F_MALFORMED  0x02  /* a header is invalid (IHL < 5, bad version): MALFORMED */
#define PSW_KEY_F_FRAG       0x04  /* an IP fragment (first or later) */
#define PSW_KEY_F_FRAG_LATER 0x08  /* a non-first fragment: no L4 fields */
#define PSW_KEY_F_IPV6_EXT   0x10  /* IPv6 next header is an extension header, not parsed */
#define PSW_KEY_F_QINQ       0x20  /* more than one VLAN tag; vlan_tci holds the outer one */
#define PSW_KEY_F_BAD        (PSW_KEY_F_TRUNCATED | PSW_KEY_F_MALFORMED)

struct psw_flow_key {
	/* 0: metadata */
	uint32_t tun_id;               /* VNI the packet arrived on (host order), 0 = none */
	uint16_t in_port;              /* podswitch port id (port.h) */
	uint8_t flags;                 /* PSW_KEY_F_* */
	uint8_t nw_proto;              /* IPv4 protocol / IPv6 next header; 0 if not IP */
	/* 8: L2 */
	struct rte_ether_addr dl_dst;
	struct rte_ether_addr dl_src;
	rte_be16_t vlan_tci;           /* see PSW_VLAN_PRESENT; 0 = untagged */
	rte_be16_t dl_type;            /* ethertype after the VLAN tag(s) */
	/* 24: L4. ICMP and ICMPv6 put the type in tp_src and the code in tp_dst, as OVS
	 * does (rte_cpu_to_be_16(type)); 0 for non-first fragments. */
	rte_be16_t tp_src;
	rte_be16_t tp_dst;
	/* 28: L3 addresses. IPv4 (dl_type 0x0800) and IPv6 (0x86dd) share the space: nw_src
	 * is the first 4 bytes of ipv6_src. A match on nw_* or ipv6_* must therefore also
	 * match dl_type exactly (psw_flow_match_check() says so), as OVS requires. */
	union {
		rte_be32_t nw_src;
		uint8_t ipv6_src[16];
	};
	union {
		rte_be32_t nw_dst;
		uint8_t ipv6_dst[16];
	};
	/* 60 */
	uint8_t pad[4];                /* always zero */
} __rte_aligned(8);

#define PSW_FLOW_KEY_WORDS (sizeof(struct psw_flow_key) / sizeof(uint64_t))

_Static_assert(sizeof(struct psw_flow_key) == 64, "flow key must be one cache line");
_Static_assert(offsetof(struct psw_flow_key, dl_src) ==
	       offsetof(struct psw_flow_key, dl_dst) + RTE_ETHER_ADDR_LEN,
	       "the parser copies dl_dst and dl_src at once");

/* Byte offsets of matchable fields, for code that walks a key (trace, syntax). */
#define PSW_ICMP_TYPE(key) ((uint8_t)rte_be_to_cpu_16((key)->tp_src))
#define PSW_ICMP_CODE(key) ((uint8_t)rte_be_to_cpu_16((key)->tp_dst))

static inline const uint64_t *
psw_flow_key_words(const struct psw_flow_key *k)
{
	return (const uint64_t *)k;
}

/* Whole-key equality, the exact-match cache's compare: four 16-byte (or two 32-byte)
 * XORs where the build allows, as the plain loop is not unrolled at -O2 and cost the cache
 * half its instructions. */
static inline bool
psw_flow_key_equal(const struct psw_flow_key *a, const struct psw_flow_key *b)
{
#if defined(__AVX2__)
	const __m256i *x = (const __m256i *)a, *y = (const __m256i *)b;
	__m256i d = _mm256_or_si256(
		_mm256_xor_si256(_mm256_loadu_si256(x), _mm256_loadu_si256(y)),
		_mm256_xor_si256(_mm256_loadu_si256(x + 1), _mm256_loadu_si256(y + 1)));

	return _mm256_testz_si256(d, d);
#elif defined(__SSE4_1__)
	const __m128i *x = (const __m128i *)a, *y = (const __m128i *)b;
	__m128i d = _mm_or_si128(
		_mm_or_si128(_mm_xor_si128(_mm_loadu_si128(x), _mm_loadu_si128(y)),
			     _mm_xor_si128(_mm_loadu_si128(x + 1), _mm_loadu_si128(y + 1))),
		_mm_or_si128(_mm_xor_si128(_mm_loadu_si128(x + 2), _mm_loadu_si128(y + 2)),
			     _mm_xor_si128(_mm_loadu_si128(x + 3), _mm_loadu_si128(y + 3))));

	return _mm_testz_si128(d, d);
#else
	const uint64_t *x = psw_flow_key_words(a), *y = psw_flow_key_words(b);

	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) |
		(x[4] ^ y[4]) | (x[5] ^ y[5]) | (x[6] ^ y[6]) | (x[7] ^ y[7])) == 0;
#endif
}

/* CRC32-C is linear: keys that differ in a few structured bits (a counter in nw_src and
 * in in_port, say) can share their low bits even when the 32-bit values differ, and tables
 * index by low bits. One multiply spreads every bit into the high half, of which we keep
 * 32 bits (measured: 512 such keys went into 128 of 512 buckets with CRC alone, into a
 * random-like spread with this). */
static inline uint32_t
psw_hash_finish(uint32_t crc)
{
	return (uint32_t)(((uint64_t)crc * UINT64_C(0x9e3779b97f4a7c15)) >> 32);
}

/* Could this be an ARP request or a neighbor solicitation (multicast ARP, or IPv6 to a
 * 33:33 multicast MAC)? For ARP suppression's quick test (datapath/actions.c). */
static inline bool
psw_key_neigh_request(const struct psw_flow_key *k)
{
	return (k->dl_type == RTE_BE16(RTE_ETHER_TYPE_ARP) &&
		rte_is_multicast_ether_addr(&k->dl_dst)) ||
	       (k->dl_type == RTE_BE16(RTE_ETHER_TYPE_IPV6) && k->dl_dst.addr_bytes[0] == 0x33 &&
		k->dl_dst.addr_bytes[1] == 0x33);
}

/* CRC32-C of one word: the instruction itself where the build targets SSE4.2
 * (rte_hash_crc_8byte tests a runtime flag on every call). */
static inline uint32_t
psw_crc64(uint64_t w, uint32_t h)
{
#ifdef __SSE4_2__
	return (uint32_t)_mm_crc32_u64(h, w);
#else
	return rte_hash_crc_8byte(w, h);
#endif
}

/* The hash of a whole key: what the parser uses when the device gives no RSS hash, and
 * what code that edits a key after parsing recomputes (a decap sets tun_id).
 * Fold the upper half of the key onto the lower before the CRC: 4 crc32s instead of 8
 * (the instruction issues once a cycle: 8 cycles a packet was a third of the parser).
 * Rotations keep fields that vary together apart: nw_dst lands on the start of dl_dst,
 * the end of ipv6_dst on the start of ipv6_src. Measured on structured key sets (ports,
 * addresses and MACs counting up together): the same spread over buckets as hashing all 8
 * words. A collision costs an EMC miss, never a wrong answer: the cache compares whole
 * keys. Two chains hide the 3-cycle latency. */
static inline uint32_t
psw_flow_key_hash(const struct psw_flow_key *k)
{
	const uint64_t *w = psw_flow_key_words(k);
	uint32_t a = 0x9e3779b9, b = 0x7f4a7c15;

	a = psw_crc64(w[0] ^ w[4], a);
	b = psw_crc64(w[2] ^ w[6], b);
	a = psw_crc64(w[1] ^ (w[5] << 32 | w[5] >> 32), a);
	b = psw_crc64(w[3] ^ (w[7] << 32 | w[7] >> 32), b);
	return psw_hash_finish(a ^ ((b << 16) | (b >> 16)));
}

#endif
