/*
 * flow.h: the flow table's data types, shared by the parser (parse.c), the exact-match
 * cache (flow_cache.c), the classifier (classifier.c), the rule syntax and RPC
 * (rpc_flow.c), the actions (actions.c) and the pipeline (pipeline.c).
 *
 * A packet becomes a struct psw_flow_key: one 64-byte cache line, fixed layout, every
 * unused byte zero, so that keys are hashed and compared as memory. A rule matches a key
 * under a mask (struct psw_flow_match: (key & mask) == (rule.key & mask)); the classifier
 * finds the highest-priority matching rule; ties between equal priorities go to the rule
 * with the lower `seq` (the one added first).
 *
 * Byte order: every multi-byte field of the key holds network byte order, as on the wire
 * (rte_be16_t/rte_be32_t), so that the parser copies and never swaps; whoever builds a
 * match from text converts (rte_cpu_to_be_16 etc.).
 *
 * Threads: keys live on a PMD's stack; rules are built by the control thread and are
 * immutable once published (rcu.h). Per-rule counters are per PMD (struct
 * psw_rule_counters, psw_rule_count()) and summed on read by the control thread.
 */
#ifndef PSW_FLOW_H
#define PSW_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#if defined(__AVX2__) || defined(__SSE4_1__)
#include <immintrin.h>
#endif

#include "pmd.h"
#include "port.h"

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

/* The hash of a whole key (rte_hash_crc over its 8 words); what the parser uses when the
 * device gives no RSS hash. Code that edits a key after parsing (tunnel decap sets
 * tun_id) recomputes the hash with this. Defined in parse.c. */
uint32_t psw_flow_key_hash(const struct psw_flow_key *k);

/* --- matches ---------------------------------------------------------------------------- */

/* A rule matches key k when (k & mask) == (key & mask), byte by byte. A zero mask byte is
 * a wildcard. `key` need not be pre-masked (psw_flow_match_normalize() does it). */
struct psw_flow_match {
	struct psw_flow_key key;
	struct psw_flow_key mask;
};

static inline void
psw_flow_key_mask(struct psw_flow_key *dst, const struct psw_flow_key *src,
		  const struct psw_flow_key *mask)
{
	const uint64_t *s = psw_flow_key_words(src), *m = psw_flow_key_words(mask);
	uint64_t *d = (uint64_t *)dst;
	unsigned i;

	for (i = 0; i < PSW_FLOW_KEY_WORDS; i++)
		d[i] = s[i] & m[i];
}

static inline bool
psw_flow_match_hit(const struct psw_flow_match *m, const struct psw_flow_key *k)
{
	const uint64_t *x = psw_flow_key_words(k), *y = psw_flow_key_words(&m->key);
	const uint64_t *w = psw_flow_key_words(&m->mask);
	uint64_t d = 0;
	unsigned i;

	for (i = 0; i < PSW_FLOW_KEY_WORDS; i++)
		d |= (x[i] ^ y[i]) & w[i];
	return d == 0;
}

/* key &= mask, so that equal matches compare equal with memcmp. */
static inline void
psw_flow_match_normalize(struct psw_flow_match *m)
{
	psw_flow_key_mask(&m->key, &m->key, &m->mask);
}

/* Mask with the first `bits` bits set, in network order (prefix length -> netmask). */
static inline rte_be32_t
psw_prefix_mask32(unsigned bits)
{
	return rte_cpu_to_be_32(bits == 0 ? 0 : bits >= 32 ? UINT32_MAX : ~(UINT32_MAX >> bits));
}

static inline void
psw_prefix_mask128(uint8_t mask[16], unsigned bits)
{
	unsigned i;

	for (i = 0; i < 16; i++, bits = bits >= 8 ? bits - 8 : 0)
		mask[i] = bits >= 8 ? 0xff : (uint8_t)(0xff00u >> bits);
}

/* Prerequisites, as OVS has them: nw_src/nw_dst need dl_type=0x0800, ipv6_* need 0x86dd,
 * nw_proto needs one of them, tp_src/tp_dst need nw_proto 6, 17, 132, 1 or 58 (exact),
 * vlan vid needs the PRESENT bit in the mask. Returns NULL if fine, else the name of the
 * first field whose prerequisite is missing ("nw_dst"). Defined in classifier.c. */
const char *psw_flow_match_check(const struct psw_flow_match *m);

/* --- actions ---------------------------------------------------------------------------- */

#define PSW_MAX_ACTIONS 8

enum psw_action_type {
	PSW_ACT_OUTPUT = 1,            /* .port */
	PSW_ACT_DROP,
	PSW_ACT_NORMAL,                /* L2 forwarding in the input port's network */
	PSW_ACT_SET_ETH_SRC,           /* .mac */
	PSW_ACT_SET_ETH_DST,           /* .mac */
	PSW_ACT_PUSH_VLAN,             /* .vlan_tci: host order, VID | PCP << 13 */
	PSW_ACT_POP_VLAN,
	PSW_ACT_ENCAP_VXLAN,           /* .vxlan: filled by the tunnels issue */
	PSW_ACT_DECAP_VXLAN,
	PSW_ACT_MAX
};

struct psw_action {
	uint16_t type;                 /* enum psw_action_type */
	union {
		uint16_t port;         /* podswitch port id */
		uint16_t vlan_tci;
		struct rte_ether_addr mac;
		struct {
			uint32_t vni;          /* host order */
			rte_be32_t remote;     /* VTEP IPv4; 0 = the network's peer list */
		} vxlan;
	};
};

/* --- rules ------------------------------------------------------------------------------ */

/* Per-rule counters, per PMD. Only PMD `pmd` writes its slot (relaxed atomic stores, which
 * are plain moves on x86, so the control thread's relaxed loads see whole values); the
 * control thread sums over PMDs. Slots live in per-PMD arrays indexed by the rule's
 * stats_idx, so two PMDs never write the same cache line and a rule costs 24 bytes per
 * PMD, not a cache line per PMD (1M rules x 2 PMDs = 48 MB). */
struct psw_rule_counters {
	uint64_t packets;
	uint64_t bytes;
	uint64_t last_hit;             /* the caller's coarse clock (e.g. seconds); 0 = never */
};

#define PSW_MAX_RULES          (1u << 21)   /* stats indexes; 2M */
#define PSW_RULE_STATS_CHUNK   4096u        /* slots per lazily allocated chunk */
#define PSW_RULE_STATS_NONE    UINT32_MAX   /* a rule that counts nothing */

struct psw_rule_stats_pmd {
	struct psw_rule_counters *chunk[PSW_MAX_RULES / PSW_RULE_STATS_CHUNK];
};

extern struct psw_rule_stats_pmd psw_rule_stats[PSW_MAX_PMDS];

struct psw_rule {
	uint32_t priority;             /* higher wins; OVS range is 0..65535 */
	uint32_t seq;                  /* tie-break: among equal priorities the lower seq wins;
					* the owner of the rule list hands out increasing
					* numbers (insertion order) */
	uint64_t cookie;
	uint32_t stats_idx;            /* psw_rule_stats_alloc(), or PSW_RULE_STATS_NONE */
	uint16_t n_actions;
	uint16_t pad;
	struct psw_flow_match match;
	struct psw_action actions[PSW_MAX_ACTIONS];
	void *owner;                   /* free for the rule list's owner (rpc_flow.c) */
};

/* True if rule a beats rule b (higher priority, or equal priority and lower seq). */
static inline bool
psw_rule_better(const struct psw_rule *a, const struct psw_rule *b)
{
	return a->priority > b->priority || (a->priority == b->priority && a->seq < b->seq);
}

/* PMD: count `packets`/`bytes` hits of rule r on PMD `pmd` at coarse time `now`. The slot
 * is this PMD's own; last_hit is stored only when it changes. */
static inline void
psw_rule_count(const struct psw_rule *r, unsigned pmd, uint32_t packets, uint64_t bytes,
	       uint64_t now)
{
	struct psw_rule_counters *c;
	uint32_t i = r->stats_idx;

	if (unlikely(i >= PSW_MAX_RULES))
		return;
	c = psw_rule_stats[pmd].chunk[i / PSW_RULE_STATS_CHUNK];
	if (unlikely(c == NULL))      /* psw_rule_stats_init() not called for this PMD */
		return;
	c += i % PSW_RULE_STATS_CHUNK;
	__atomic_store_n(&c->packets, c->packets + packets, __ATOMIC_RELAXED);
	__atomic_store_n(&c->bytes, c->bytes + bytes, __ATOMIC_RELAXED);
	if (c->last_hit != now)
		__atomic_store_n(&c->last_hit, now, __ATOMIC_RELAXED);
}

/* Control thread (classifier.c). psw_rule_stats_init() once with the number of PMDs
 * (before PMDs start; idempotent for the same n). alloc: a zeroed slot on every PMD, its
 * chunks allocated if needed, so publish the rule after this returns; -ENOSPC when all
 * PSW_MAX_RULES are used. free: only after a grace period (no PMD may still count it).
 * read: packets and bytes summed, last_hit the latest. */
int psw_rule_stats_init(unsigned n_pmds);
void psw_rule_stats_fini(void);
int psw_rule_stats_alloc(uint32_t *idx);
void psw_rule_stats_free(uint32_t idx);
void psw_rule_stats_read(uint32_t idx, struct psw_rule_counters *sum);
void psw_rule_stats_clear(uint32_t idx);

#endif
