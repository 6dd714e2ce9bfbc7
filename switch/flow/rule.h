/*
 * rule.h: the rule model: matches (a key and a mask over core/key.h's packet key),
 * actions, rules and their per-PMD counters. Shared by the classifier, the flow table, the
 * rule <-> JSON codec and the datapath's actions.
 *
 * A rule matches a key under a mask (struct psw_flow_match: (key & mask) == (rule.key &
 * mask)); the classifier finds the highest-priority matching rule; ties between equal
 * priorities go to the rule with the lower `seq` (the one added first).
 *
 * Threads: rules are built by the control thread and are immutable once published
 * (core/rcu.h). Per-rule counters are per PMD (struct psw_rule_counters,
 * psw_rule_count()) and summed on read by the control thread.
 */
#ifndef PSW_FLOW_RULE_H
#define PSW_FLOW_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>

#include "core/key.h"
#include "core/limits.h"

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
 * first field whose prerequisite is missing ("nw_dst"). Defined in rule.c. */
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
	uint32_t stats_idx;            /* psw_rule_stats_alloc(), or PSW_RULE_STATS_NONE */
	uint64_t seq;                  /* tie-break: among equal priorities the lower seq wins;
					* the owner of the rule list hands out increasing
					* numbers (insertion order) */
	uint64_t cookie;
	uint16_t n_actions;
	uint16_t pad[3];
	struct psw_flow_match match;
	struct psw_action actions[PSW_MAX_ACTIONS];
	void *owner;                   /* free for the rule list's owner (flow_table.c: the
					* rule's result, result.h) */
	/* The classifier's own (control thread only, never read by a PMD): the next worse
	 * rule with the same mask and masked key, which this one shadows (classifier.c). */
	struct psw_rule *cls_next;
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

/* Control thread (rule.c). psw_rule_stats_init() once with the number of PMDs
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
