/*
 * rule.c: what rule.h declares for the control thread: the match prerequisite check (a
 * rule is refused before it reaches the table) and the allocator of per-PMD rule counters;
 * and the rule generation (result.h), here so that the lookup rooms link alone (tests,
 * bench_lookup). Control thread only; PMDs write their own counter slots
 * (psw_rule_count(), rule.h) and read the rule generation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <rte_common.h>

#include "flow/result.h"
#include "flow/rule.h"

uint64_t psw_flow_gen = 1;      /* result.h */

/* ---- match prerequisites --------------------------------------------------------------- */

static bool
any_set(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return true;
	return false;
}

const char *
psw_flow_match_check(const struct psw_flow_match *m)
{
	const struct psw_flow_key *mk = &m->mask, *k = &m->key;
	bool type_exact = mk->dl_type == RTE_BE16(0xffff);
	bool ip4 = type_exact && k->dl_type == RTE_BE16(0x0800);
	bool ip6 = type_exact && k->dl_type == RTE_BE16(0x86dd);
	uint8_t proto = k->nw_proto;

	if (any_set(mk->ipv6_src, 4) && !ip4 && !ip6)
		return "nw_src";
	if (any_set(mk->ipv6_dst, 4) && !ip4 && !ip6)
		return "nw_dst";
	if (any_set(mk->ipv6_src + 4, 12) && !ip6)
		return "ipv6_src";
	if (any_set(mk->ipv6_dst + 4, 12) && !ip6)
		return "ipv6_dst";
	if (mk->nw_proto && !ip4 && !ip6)
		return "nw_proto";
	if (mk->tp_src || mk->tp_dst) {
		bool l4 = mk->nw_proto == 0xff &&
			  (proto == 6 || proto == 17 || proto == 132 ||
			   (proto == 1 && ip4) || (proto == 58 && ip6));

		if (!l4 || (!ip4 && !ip6)) {
			if (proto == 1 || proto == 58)
				return mk->tp_src ? "icmp_type" : "icmp_code";
			return mk->tp_src ? "tp_src" : "tp_dst";
		}
	}
	if ((mk->vlan_tci & ~RTE_BE16(PSW_VLAN_PRESENT)) &&
	    !(mk->vlan_tci & RTE_BE16(PSW_VLAN_PRESENT)))
		return "dl_vlan";
	return NULL;
}

/* ---- per-PMD rule counters ------------------------------------------------------------- */

struct psw_rule_stats_pmd psw_rule_stats[PSW_MAX_PMDS];
static unsigned stats_n_pmds;
static uint32_t stats_next;          /* never-used indexes start here */
static uint32_t *stats_free;         /* stack of freed indexes */
static uint32_t stats_n_free, stats_cap_free;

int
psw_rule_stats_init(unsigned n_pmds)
{
	if (n_pmds == 0 || n_pmds > PSW_MAX_PMDS)
		return -EINVAL;
	if (stats_n_pmds && stats_n_pmds != n_pmds)
		return -EBUSY;
	stats_n_pmds = n_pmds;
	return 0;
}

void
psw_rule_stats_fini(void)
{
	unsigned p, c;

	for (p = 0; p < PSW_MAX_PMDS; p++)
		for (c = 0; c < RTE_DIM(psw_rule_stats[p].chunk); c++) {
			free(psw_rule_stats[p].chunk[c]);
			psw_rule_stats[p].chunk[c] = NULL;
		}
	free(stats_free);
	stats_free = NULL;
	stats_n_free = stats_cap_free = 0;
	stats_next = 0;
	stats_n_pmds = 0;
}

void
psw_rule_stats_clear(uint32_t idx)
{
	unsigned p;

	if (idx >= PSW_MAX_RULES)
		return;
	for (p = 0; p < stats_n_pmds; p++) {
		struct psw_rule_counters *c =
			&psw_rule_stats[p].chunk[idx / PSW_RULE_STATS_CHUNK][idx % PSW_RULE_STATS_CHUNK];

		__atomic_store_n(&c->packets, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&c->bytes, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&c->last_hit, 0, __ATOMIC_RELAXED);
	}
}

int
psw_rule_stats_alloc(uint32_t *idx)
{
	uint32_t i, c;
	unsigned p;

	if (!stats_n_pmds)
		return -EINVAL;
	if (stats_n_free) {
		i = stats_free[--stats_n_free];
	} else {
		if (stats_next >= PSW_MAX_RULES)
			return -ENOSPC;
		i = stats_next;
		c = i / PSW_RULE_STATS_CHUNK;
		for (p = 0; p < stats_n_pmds; p++) {
			if (psw_rule_stats[p].chunk[c])
				continue;
			psw_rule_stats[p].chunk[c] =
				aligned_alloc(RTE_CACHE_LINE_SIZE,
					      sizeof(struct psw_rule_counters) * PSW_RULE_STATS_CHUNK);
			if (!psw_rule_stats[p].chunk[c])
				return -ENOMEM;
			memset(psw_rule_stats[p].chunk[c], 0,
			       sizeof(struct psw_rule_counters) * PSW_RULE_STATS_CHUNK);
		}
		stats_next++;
	}
	psw_rule_stats_clear(i);
	*idx = i;
	return 0;
}

void
psw_rule_stats_free(uint32_t idx)
{
	uint32_t *n;

	if (idx >= stats_next)
		return;
	if (stats_n_free == stats_cap_free) {
		uint32_t cap = stats_cap_free ? stats_cap_free * 2 : 1024;

		n = realloc(stats_free, sizeof(*n) * cap);
		if (!n)
			return;  /* the index leaks; harmless */
		stats_free = n;
		stats_cap_free = cap;
	}
	stats_free[stats_n_free++] = idx;
}

void
psw_rule_stats_read(uint32_t idx, struct psw_rule_counters *sum)
{
	unsigned p;

	memset(sum, 0, sizeof(*sum));
	if (idx >= stats_next)
		return;
	for (p = 0; p < stats_n_pmds; p++) {
		const struct psw_rule_counters *c =
			&psw_rule_stats[p].chunk[idx / PSW_RULE_STATS_CHUNK][idx % PSW_RULE_STATS_CHUNK];
		uint64_t t = __atomic_load_n(&c->last_hit, __ATOMIC_RELAXED);

		sum->packets += __atomic_load_n(&c->packets, __ATOMIC_RELAXED);
		sum->bytes += __atomic_load_n(&c->bytes, __ATOMIC_RELAXED);
		if (t > sum->last_hit)
			sum->last_hit = t;
	}
}
