/*
 * classifier.c: the flow table lookup by tuple-space search, after an exact-match-cache miss
 * (flow_cache.c -> classifier.c -> actions.c). Also the per-PMD rule counters' allocator
 * and the match prerequisite check (rule.h).
 *
 * Build (control thread): rules are ranked once by (priority desc, seq asc, position in the
 * input asc); from then on "better" is "lower rank". Rules are grouped by mask into
 * subtables; walking the rules in rank order creates each subtable at its best rule, so
 * the subtables come out sorted by their best rank for free. A rule whose mask and masked
 * key equal a better rule's is shadowed (it can never win) and left out.
 *
 * A subtable is a hash table of 64-byte buckets, each one cache line with 8 hashes and 8
 * entry indexes, sized for 1.5 to 3 entries a bucket, so that a bucket rarely overflows
 * into the next (Poisson(3) > 8 is 0.4%). Entries sit in a dense array: rank, rule
 * pointer, then the rule's masked key restricted to the 8-byte words the mask touches.
 * Most subtables a packet visits do not hold its flow, and such a miss costs one line and
 * one 8-wide compare (SSE2, or AVX2 where built for it); the rule itself is read only
 * once it has won.
 *
 * Lookup (PMDs, lock-free: the classifier is immutable once built and published with RCU):
 * visit subtables in order; stop as soon as the best rank found beats the next subtable's
 * best rank, since subtables are sorted by it. The burst version does one subtable for the
 * whole burst at a time (as OVS dpcls), in three passes: hash all live keys and prefetch
 * their buckets, scan the buckets and prefetch the candidate entries, compare.
 *
 * Big tables go to transparent huge pages (madvise): at 1M rules the tables are tens of MB
 * and 4K pages would add a TLB miss to most probes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <rte_common.h>
#include <rte_branch_prediction.h>
#include <rte_hash_crc.h>
#if defined(__AVX2__) || defined(__SSE2__) || defined(__SSE4_2__)
#include <immintrin.h>
#endif
#include <rte_prefetch.h>

#include "core/mem.h"
#include "flow/classifier.h"

#define EMPTY         UINT32_MAX
#define BURST_CHUNK   32
#define SLOTS         8

/* Slots fill in order, so a bucket whose last slot is free ends the probe sequence. A
 * free slot has hash 0, which no stored hash equals (masked_hash never returns 0). */
struct bucket {
	uint32_t hash[SLOTS];
	uint32_t idx[SLOTS];          /* entry index, EMPTY = free */
} __rte_aligned(64);

struct subtable {
	uint32_t min_rank;            /* best rule in here */
	uint32_t bucket_mask;         /* buckets - 1 */
	uint8_t n_words;
	uint8_t stride;               /* entry size in words: 2 + n_words */
	uint8_t words[PSW_FLOW_KEY_WORDS];  /* which key words the mask touches */
	uint64_t mask[PSW_FLOW_KEY_WORDS];  /* mask[i] for words[i] (compacted) */
	struct bucket *buckets;
	struct psw_flow_key full_mask;      /* the mask as given (build only) */
	uint64_t *entries;            /* [n_entries][stride]: rank, rule, masked key words */
	size_t buckets_bytes, entries_bytes;
	unsigned n_entries;
	unsigned n_spilled;           /* entries outside their home bucket */
};

struct psw_classifier {
	unsigned n_subtables;
	unsigned n_rules;             /* kept */
	unsigned n_shadowed;
	struct subtable *st;
	const struct psw_rule **by_rank;   /* during the build: all input rules, best first */
	unsigned n_input;
	size_t bytes;
};

/* ---- hashing --------------------------------------------------------------------------- */

static inline uint32_t
masked_hash(const struct subtable *st, const uint64_t *k)
{
	uint32_t h = 0x2545f491;
	unsigned i;

	for (i = 0; i < st->n_words; i++)
		h = psw_crc64(k[st->words[i]] & st->mask[i], h);
	h = psw_hash_finish(h);
	return h | (h == 0);          /* 0 marks a free slot */
}

static inline bool
entry_matches(const struct subtable *st, const uint64_t *e, const uint64_t *k)
{
	uint64_t d = 0;
	unsigned i;

	for (i = 0; i < st->n_words; i++)
		d |= (k[st->words[i]] & st->mask[i]) ^ e[2 + i];
	return d == 0;
}

/* Bit s set when slot s holds hash h. */
static inline uint32_t
bucket_hits(const struct bucket *b, uint32_t h)
{
#if defined(__AVX2__)
	__m256i v = _mm256_load_si256((const __m256i *)b->hash);

	return _mm256_movemask_ps(_mm256_castsi256_ps(
		_mm256_cmpeq_epi32(v, _mm256_set1_epi32((int)h))));
#elif defined(__SSE2__)
	__m128i x = _mm_set1_epi32((int)h);
	__m128i lo = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)b->hash), x);
	__m128i hi = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(b->hash + 4)), x);

	return (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(lo)) |
	       (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(hi)) << 4;
#else
	uint32_t m = 0;
	unsigned s;

	for (s = 0; s < SLOTS; s++)
		m |= (uint32_t)(b->hash[s] == h) << s;
	return m;
#endif
}

/* Probe for key k (hash h). Returns its entry or NULL. */
static inline const uint64_t *
subtable_find(const struct subtable *st, const uint64_t *k, uint32_t h)
{
	uint32_t bi = h & st->bucket_mask;

	for (;;) {
		const struct bucket *b = &st->buckets[bi];
		uint32_t m = bucket_hits(b, h);

		while (m) {
			const uint64_t *e = st->entries +
				(size_t)b->idx[__builtin_ctz(m)] * st->stride;

			if (entry_matches(st, e, k))
				return e;
			m &= m - 1;
		}
		if (likely(b->idx[SLOTS - 1] == EMPTY))
			return NULL;
		bi = (bi + 1) & st->bucket_mask;
	}
}

/* ---- build ----------------------------------------------------------------------------- */

/* Ranking: sort by k = (~priority << 32 | seq) ascending, stably, so equal k keep their
 * input order. An LSD radix sort, 8 bits a pass, skipping the passes whose byte is the same
 * in every key (the high bytes of small seqs and priorities): qsort with a comparator that
 * follows rule pointers took 600 ms of the 1M-rule build, this takes tens. */
struct rank_sort {
	uint64_t k;
	uint32_t pos;
};

static void
rank_rules(struct rank_sort *const keys, struct rank_sort *tmp, unsigned n)
{
	struct rank_sort *a = keys;
	unsigned shift, i;
	uint64_t all_or = 0, all_and = UINT64_MAX;

	for (i = 0; i < n; i++) {
		all_or |= a[i].k;
		all_and &= a[i].k;
	}
	for (shift = 0; shift < 64; shift += 8) {
		uint32_t count[256] = { 0 }, sum = 0, c;
		struct rank_sort *t;

		if ((((all_or ^ all_and) >> shift) & 0xff) == 0)
			continue;                  /* this byte is the same everywhere */
		for (i = 0; i < n; i++)
			count[(a[i].k >> shift) & 0xff]++;
		for (i = 0; i < 256; i++) {
			c = count[i];
			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			tmp[count[(a[i].k >> shift) & 0xff]++] = a[i];
		t = a;
		a = tmp;
		tmp = t;
	}
	/* an odd number of passes leaves the result in the other buffer */
	if (a != keys)
		memcpy(keys, a, sizeof(*a) * n);
}

static inline uint32_t
mask_hash(const uint64_t *m)
{
	uint32_t h = 0;
	unsigned i;

	for (i = 0; i < PSW_FLOW_KEY_WORDS; i++)
		h = rte_hash_crc_8byte(m[i], h);
	return psw_hash_finish(h);
}

static uint32_t
pow2_at_least(uint64_t n)
{
	uint32_t c = 1;

	while (c < n)
		c <<= 1;
	return c;
}

static void
subtable_init_mask(struct subtable *st, const uint64_t *m)
{
	unsigned i;

	memcpy(&st->full_mask, m, sizeof(st->full_mask));
	st->n_words = 0;
	for (i = 0; i < PSW_FLOW_KEY_WORDS; i++) {
		if (m[i]) {
			st->words[st->n_words] = i;
			st->mask[st->n_words] = m[i];
			st->n_words++;
		}
	}
	st->stride = 2 + st->n_words;
}

/* Insert the rule of rank `rank` unless an entry with the same masked key is there
 * (that one has a better rank, as we insert in rank order). Returns false if shadowed. */
static bool
subtable_insert(struct subtable *st, const struct psw_rule *rule, uint32_t rank)
{
	const uint64_t *k = psw_flow_key_words(&rule->match.key);
	uint32_t h = masked_hash(st, k);
	uint32_t bi = h & st->bucket_mask;
	uint64_t *e;
	unsigned i, s;

	if (subtable_find(st, k, h))
		return false;
	for (;; bi = (bi + 1) & st->bucket_mask) {
		struct bucket *b = &st->buckets[bi];

		for (s = 0; s < SLOTS; s++) {
			if (b->idx[s] != EMPTY)
				continue;
			e = st->entries + (size_t)st->n_entries * st->stride;
			e[0] = rank;
			e[1] = (uintptr_t)rule;
			for (i = 0; i < st->n_words; i++)
				e[2 + i] = k[st->words[i]] & st->mask[i];
			b->hash[s] = h;
			b->idx[s] = st->n_entries++;
			st->n_spilled += bi != (h & st->bucket_mask);
			return true;
		}
	}
}

void
psw_classifier_free(struct psw_classifier *cls)
{
	unsigned i;

	if (!cls)
		return;
	for (i = 0; i < cls->n_subtables; i++) {
		free(cls->st[i].buckets);
		free(cls->st[i].entries);
	}
	free(cls->st);
	free(cls->by_rank);
	free(cls);
}

void
psw_classifier_free_cb(void *cls)
{
	psw_classifier_free(cls);
}

/* Group ranked rules by mask. st_of[rank] = subtable index; counts[] per subtable.
 * Returns the number of subtables, or -errno. Fills cls->st's masks and min_rank. */
static int
group_by_mask(struct psw_classifier *cls, uint32_t *st_of, uint32_t **countsp)
{
	uint32_t map_cap = pow2_at_least((uint64_t)cls->n_input * 2 + 2);
	uint32_t *map, *counts = NULL;
	unsigned n_st = 0, cap_st = 16, r;
	struct subtable *st;

	map = malloc(sizeof(*map) * map_cap);
	st = calloc(cap_st, sizeof(*st));
	counts = calloc(cap_st, sizeof(*counts));
	if (!map || !st || !counts)
		goto nomem;
	memset(map, 0xff, sizeof(*map) * map_cap);

	for (r = 0; r < cls->n_input; r++) {
		const struct psw_flow_key *mk = &cls->by_rank[r]->match.mask;
		const uint64_t *m = psw_flow_key_words(mk);
		uint32_t slot;

		/* rules next to each other in rank often share a mask */
		if (r > 0 && psw_flow_key_equal(&st[st_of[r - 1]].full_mask, mk)) {
			st_of[r] = st_of[r - 1];
			counts[st_of[r]]++;
			continue;
		}
		for (slot = mask_hash(m) & (map_cap - 1);; slot = (slot + 1) & (map_cap - 1)) {
			uint32_t s = map[slot];

			if (s == EMPTY) {
				if (n_st == cap_st) {
					struct subtable *nst;
					uint32_t *nc;

					nst = realloc(st, sizeof(*st) * cap_st * 2);
					if (!nst)
						goto nomem;
					st = nst;
					nc = realloc(counts, sizeof(*counts) * cap_st * 2);
					if (!nc)
						goto nomem;
					counts = nc;
					memset(st + cap_st, 0, sizeof(*st) * cap_st);
					memset(counts + cap_st, 0, sizeof(*counts) * cap_st);
					cap_st *= 2;
				}
				s = n_st++;
				map[slot] = s;
				subtable_init_mask(&st[s], m);
				st[s].min_rank = r;   /* rank order: the first is the best */
				break;
			}
			if (psw_flow_key_equal(&st[s].full_mask, mk))
				break;
		}
		st_of[r] = map[slot];
		counts[map[slot]]++;
	}
	free(map);
	cls->st = st;
	cls->n_subtables = n_st;
	*countsp = counts;
	return 0;
nomem:
	free(map);
	free(st);
	free(counts);
	return -ENOMEM;
}

struct psw_classifier *
psw_classifier_build(const struct psw_rule *const *rules, unsigned n)
{
	struct psw_classifier *cls;
	struct rank_sort *rs = NULL;
	uint32_t *st_of = NULL, *counts = NULL;
	unsigned i;
	int err = ENOMEM;

	for (i = 0; i < n; i++) {
		if (!rules[i]) {
			errno = EINVAL;
			return NULL;
		}
	}
	cls = calloc(1, sizeof(*cls));
	if (!cls)
		goto fail;
	cls->n_input = n;
	cls->bytes = sizeof(*cls);
	if (n == 0)
		return cls;

	rs = malloc(sizeof(*rs) * n * 2);       /* the keys and the radix sort's other buffer */
	cls->by_rank = malloc(sizeof(*cls->by_rank) * n);
	st_of = malloc(sizeof(*st_of) * n);
	if (!rs || !cls->by_rank || !st_of)
		goto fail;
	for (i = 0; i < n; i++) {
		rs[i].k = (uint64_t)(UINT32_MAX - rules[i]->priority) << 32 | rules[i]->seq;
		rs[i].pos = i;
	}
	rank_rules(rs, rs + n, n);
	for (i = 0; i < n; i++)
		cls->by_rank[i] = rules[rs[i].pos];
	free(rs);
	rs = NULL;

	if (group_by_mask(cls, st_of, &counts) < 0)
		goto fail;
	cls->bytes += sizeof(*cls->st) * cls->n_subtables;
	for (i = 0; i < cls->n_subtables; i++) {
		struct subtable *st = &cls->st[i];
		uint32_t nb = pow2_at_least(counts[i] / 3 + 1);   /* 1.5 to 3 entries a bucket */
		uint32_t j;

		st->bucket_mask = nb - 1;
		st->buckets_bytes = sizeof(struct bucket) * nb;
		st->entries_bytes = sizeof(uint64_t) * st->stride * counts[i];
		st->buckets = psw_mem_big(st->buckets_bytes, false);
		st->entries = psw_mem_big(st->entries_bytes, false);
		if (!st->buckets || !st->entries)
			goto fail;
		memset(st->buckets, 0, st->buckets_bytes);
		for (j = 0; j < nb; j++)
			memset(st->buckets[j].idx, 0xff, sizeof(st->buckets[j].idx));
		cls->bytes += st->buckets_bytes + st->entries_bytes;
	}
	for (i = 0; i < n; i++) {
		if (subtable_insert(&cls->st[st_of[i]], cls->by_rank[i], i))
			cls->n_rules++;
		else
			cls->n_shadowed++;
	}
	/* entries point at their rules: the ranking is not needed for lookups */
	free(cls->by_rank);
	cls->by_rank = NULL;
	free(st_of);
	free(counts);
	return cls;
fail:
	free(rs);
	free(st_of);
	free(counts);
	psw_classifier_free(cls);
	errno = err;
	return NULL;
}

void
psw_classifier_info(const struct psw_classifier *cls, struct psw_classifier_info *info)
{
	info->n_rules = cls->n_rules;
	info->n_shadowed = cls->n_shadowed;
	info->n_subtables = cls->n_subtables;
	info->bytes = cls->bytes;
	info->n_spilled = 0;
	for (unsigned i = 0; i < cls->n_subtables; i++)
		info->n_spilled += cls->st[i].n_spilled;
}

/* ---- lookup ---------------------------------------------------------------------------- */

const struct psw_rule *
psw_classifier_lookup(const struct psw_classifier *cls, const struct psw_flow_key *key)
{
	const uint64_t *k = psw_flow_key_words(key);
	const uint64_t *best = NULL, *e;
	uint32_t best_rank = EMPTY;
	unsigned i;

	for (i = 0; i < cls->n_subtables; i++) {
		const struct subtable *st = &cls->st[i];

		if (best_rank < st->min_rank)
			break;
		e = subtable_find(st, k, masked_hash(st, k));
		if (e && (uint32_t)e[0] < best_rank) {
			best = e;
			best_rank = (uint32_t)e[0];
		}
	}
	return best ? (const struct psw_rule *)(uintptr_t)best[1] : NULL;
}

/* One subtable for the live keys of a burst chunk, in three passes so that the memory
 * accesses of one key overlap the work on the others: hash and prefetch the bucket; scan
 * the bucket and prefetch the candidate entry; compare. A key whose bucket has no
 * candidate but is full, or whose candidate is a hash collision, takes the full probe. */
static inline void
chunk_subtable(const struct subtable *st, const struct psw_flow_key *keys, uint64_t live,
	       uint32_t *hash, const uint64_t **cand, uint32_t *best_rank, const uint64_t **best)
{
	static const uint64_t slow_marker;
	const uint64_t *slow = &slow_marker;
	uint64_t todo;
	unsigned j;

	for (todo = live; todo; todo &= todo - 1) {
		j = __builtin_ctzll(todo);
		hash[j] = masked_hash(st, psw_flow_key_words(&keys[j]));
		rte_prefetch0(&st->buckets[hash[j] & st->bucket_mask]);
	}
	for (todo = live; todo; todo &= todo - 1) {
		const struct bucket *b;
		uint32_t m;

		j = __builtin_ctzll(todo);
		b = &st->buckets[hash[j] & st->bucket_mask];
		m = bucket_hits(b, hash[j]);
		if (m) {
			cand[j] = st->entries + (size_t)b->idx[__builtin_ctz(m)] * st->stride;
			rte_prefetch0(cand[j]);
		} else {
			cand[j] = b->idx[SLOTS - 1] == EMPTY ? NULL : slow;
		}
	}
	for (todo = live; todo; todo &= todo - 1) {
		const uint64_t *k, *e;

		j = __builtin_ctzll(todo);
		e = cand[j];
		if (!e)
			continue;
		k = psw_flow_key_words(&keys[j]);
		if (unlikely(e == slow || !entry_matches(st, e, k))) {
			e = subtable_find(st, k, hash[j]);
			if (!e)
				continue;
		}
		if ((uint32_t)e[0] < best_rank[j]) {
			best_rank[j] = (uint32_t)e[0];
			best[j] = e;
		}
	}
}

static uint16_t
lookup_chunk(const struct psw_classifier *cls, const struct psw_flow_key *keys, uint16_t n,
	     const struct psw_rule **out)
{
	uint32_t best_rank[BURST_CHUNK], hash[BURST_CHUNK];
	const uint64_t *best[BURST_CHUNK], *cand[BURST_CHUNK];
	uint64_t live = (UINT64_C(1) << n) - 1, todo;
	uint16_t hits = 0, j;
	unsigned i;

	for (j = 0; j < n; j++) {
		best_rank[j] = EMPTY;
		best[j] = NULL;
	}
	for (i = 0; i < cls->n_subtables && live; i++) {
		const struct subtable *st = &cls->st[i];

		/* drop the keys whose best beats everything from here on */
		for (todo = live; todo; todo &= todo - 1) {
			j = __builtin_ctzll(todo);
			live &= ~((uint64_t)(best_rank[j] < st->min_rank) << j);
		}
		chunk_subtable(st, keys, live, hash, cand, best_rank, best);
	}
	for (j = 0; j < n; j++) {
		out[j] = best[j] ? (const struct psw_rule *)(uintptr_t)best[j][1] : NULL;
		hits += best[j] != NULL;
	}
	return hits;
}

uint16_t
psw_classifier_lookup_burst(const struct psw_classifier *cls, const struct psw_flow_key *keys,
			    uint16_t n, const struct psw_rule **out)
{
	uint16_t done = 0, hits = 0, c;

	while (done < n) {
		c = RTE_MIN(n - done, BURST_CHUNK);
		hits += lookup_chunk(cls, keys + done, c, out + done);
		done += c;
	}
	return hits;
}

const struct psw_rule *
psw_classifier_reference(const struct psw_rule *const *rules, unsigned n,
			 const struct psw_flow_key *key)
{
	const struct psw_rule *best = NULL;
	unsigned i;

	for (i = 0; i < n; i++) {
		if (psw_flow_match_hit(&rules[i]->match, key) &&
		    (!best || psw_rule_better(rules[i], best)))
			best = rules[i];
	}
	return best;
}

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
