/*
 * classifier.c: the flow table lookup by tuple-space search, after an exact-match-cache miss
 * (flow_cache.c -> classifier.c -> actions.c), and its updates in place (flow_table.c).
 *
 * Ranks: "better" is "lower rank". A rule added one by one has the rank
 * (65535 - priority) << 48 | seq, so ranks compare as psw_rule_better() does; a classifier
 * built from a list (classifier_build.c) ranks its rules 0..n-1 instead.
 *
 * A subtable (one per mask) is a hash table of 64-byte buckets, each one cache line with 8
 * hashes and 8 entry indexes, and an array of entries: rank, rule pointer, then the rule's
 * masked key restricted to the 8-byte words the mask touches. One entry per masked key: the
 * best rule with it; worse ones with the same mask and masked key are shadowed, chained
 * behind it (rule->cls_next, in rank order, control thread only) and promoted when it goes.
 * Most subtables a packet visits do not hold its flow, and such a miss costs one line and
 * one 8-wide compare (SSE2, or AVX2 where built for it); the rule is read once it has won.
 *
 * What PMDs read, published by the control thread (the only writer):
 * - cls->order: the subtables in order of their best rank (`min`), each item {min, table},
 *   loaded with acquire. Lookups stop as soon as the best rank found beats the next item's
 *   min. That needs every item's min to be at most the rank of everything in its subtable
 *   and the ones after it: so a min may be lowered in place (before a better entry is
 *   stored), raised in place only up to the next item's, and otherwise the array is
 *   republished sorted (small: one item per mask) and the old one retired. A min that could
 *   not be raised yet (a big subtable lost its best) stays a lower bound: still right.
 * - a table's slots, changed in place: an entry is written whole into the append-only
 *   entry array, then the slot's index (release), then its hash (release). A reader reads
 *   the hash, then the index (acquire), then the entry, so it never sees half an entry.
 *   Removing a masked key clears the hash (release); the slot's index stays (a reader that
 *   matched the old hash still finds a whole entry, and a probe still walks on past a
 *   bucket that was ever full: its last index is never reset). A promoted shadow gets a new
 *   entry and the slot's index is swapped: readers see the old rule or the new one. Entries
 *   are never rewritten: a table whose entry array is used up is rebuilt alone (live
 *   entries only, twice the room), published in its item with a release store, and the old
 *   one retired (hooks.retire: after a grace period).
 *
 * Lookup (PMDs, lock-free): visit items in order; the burst version does one subtable for
 * the whole burst at a time (as OVS dpcls), in three passes: hash all live keys and
 * prefetch their buckets, scan the buckets and prefetch the candidate entries, compare.
 *
 * Big tables go to transparent huge pages (core/mem.h): at 1M rules the tables are tens of
 * MB and 4K pages would add a TLB miss to most probes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <rte_common.h>
#include <rte_branch_prediction.h>
#include <rte_prefetch.h>

#include "flow/classifier_int.h"

/* ---- the classifier -------------------------------------------------------------------- */

struct psw_classifier *
psw_classifier_new(const struct psw_classifier_hooks *hooks)
{
	struct psw_classifier *cls = calloc(1, sizeof(*cls));

	if (cls == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (hooks)
		cls->hooks = *hooks;
	if (psw_cls_order_publish(cls, NULL, NULL) < 0) {
		free(cls);
		errno = ENOMEM;
		return NULL;
	}
	return cls;
}

void
psw_classifier_free(struct psw_classifier *cls)
{
	if (cls == NULL)
		return;
	for (unsigned i = 0; i < cls->n_subs; i++) {
		free(cls->subs[i]->t);
		free(cls->subs[i]);
	}
	free(cls->subs);
	free(cls->order);
	free(cls);
}

void
psw_classifier_free_cb(void *cls)
{
	psw_classifier_free(cls);
}

void
psw_classifier_info(const struct psw_classifier *cls, struct psw_classifier_info *info)
{
	memset(info, 0, sizeof(*info));
	info->n_rules = cls->n_rules;
	info->n_shadowed = cls->n_shadowed;
	info->rebuilds = cls->rebuilds;
	info->bytes = sizeof(*cls) + sizeof(cls->subs[0]) * cls->cap_subs +
		      sizeof(*cls->order) + sizeof(cls->order->it[0]) * cls->order->n;
	for (unsigned i = 0; i < cls->n_subs; i++) {
		info->n_subtables += cls->subs[i]->n_groups > 0;
		info->n_spilled += cls->subs[i]->n_spilled;
		info->bytes += sizeof(*cls->subs[i]) + cls->subs[i]->t->bytes;
	}
}

void
psw_classifier_mask_union(const struct psw_classifier *cls, struct psw_flow_key *u)
{
	uint64_t *w = (uint64_t *)u;

	memset(u, 0, sizeof(*u));
	for (unsigned i = 0; i < cls->n_subs; i++) {
		const uint64_t *m = psw_flow_key_words(&cls->subs[i]->mask);

		if (cls->subs[i]->n_groups == 0)
			continue;
		for (unsigned j = 0; j < PSW_FLOW_KEY_WORDS; j++)
			w[j] |= m[j];
	}
}

/* ---- lookup ---------------------------------------------------------------------------- */

const struct psw_rule *
psw_classifier_lookup(const struct psw_classifier *cls, const struct psw_flow_key *key)
{
	const struct psw_cls_order *o = __atomic_load_n(&cls->order, __ATOMIC_ACQUIRE);
	const uint64_t *k = psw_flow_key_words(key);
	const uint64_t *best = NULL, *e;
	uint64_t best_rank = PSW_CLS_RANK_NONE;

	for (unsigned i = 0; i < o->n; i++) {
		const struct psw_cls_table *t;

		if (best_rank < __atomic_load_n(&o->it[i].min, __ATOMIC_RELAXED))
			break;
		t = __atomic_load_n(&o->it[i].table, __ATOMIC_ACQUIRE);
		e = psw_cls_find(t, k, psw_cls_masked_hash(t, k));
		if (e && e[0] < best_rank) {
			best = e;
			best_rank = e[0];
		}
	}
	return best ? (const struct psw_rule *)(uintptr_t)best[1] : NULL;
}

/* One subtable for the live keys of a burst chunk, in three passes so that the memory
 * accesses of one key overlap the work on the others: hash and prefetch the bucket; scan
 * the bucket and prefetch the candidate entry; compare. A key whose bucket has no
 * candidate but is full, or whose candidate is a hash collision, takes the full probe. */
static inline void
chunk_subtable(const struct psw_cls_table *t, const struct psw_flow_key *keys, uint64_t live,
	       uint32_t *hash, const uint64_t **cand, uint64_t *best_rank, const uint64_t **best)
{
	static const uint64_t slow_marker;
	const uint64_t *slow = &slow_marker;
	uint64_t todo;
	unsigned j;

	for (todo = live; todo; todo &= todo - 1) {
		j = __builtin_ctzll(todo);
		hash[j] = psw_cls_masked_hash(t, psw_flow_key_words(&keys[j]));
		rte_prefetch0(&t->buckets[hash[j] & t->bucket_mask]);
	}
	for (todo = live; todo; todo &= todo - 1) {
		const struct psw_cls_bucket *b;
		uint32_t m;

		j = __builtin_ctzll(todo);
		b = &t->buckets[hash[j] & t->bucket_mask];
		m = psw_cls_bucket_hits(b, hash[j]);
		if (m) {
			cand[j] = psw_cls_slot_entry(t, b, __builtin_ctz(m));
			rte_prefetch0(cand[j]);
		} else {
			cand[j] = __atomic_load_n(&b->idx[PSW_CLS_SLOTS - 1], __ATOMIC_RELAXED) ==
				  PSW_CLS_EMPTY ? NULL : slow;
		}
	}
	for (todo = live; todo; todo &= todo - 1) {
		const uint64_t *k, *e;

		j = __builtin_ctzll(todo);
		e = cand[j];
		if (!e)
			continue;
		k = psw_flow_key_words(&keys[j]);
		if (unlikely(e == slow || !psw_cls_entry_matches(t, e, k))) {
			e = psw_cls_find(t, k, hash[j]);
			if (!e)
				continue;
		}
		if (e[0] < best_rank[j]) {
			best_rank[j] = e[0];
			best[j] = e;
		}
	}
}

static uint16_t
lookup_chunk(const struct psw_cls_order *o, const struct psw_flow_key *keys, uint16_t n,
	     const struct psw_rule **out)
{
	uint64_t best_rank[BURST_CHUNK];
	uint32_t hash[BURST_CHUNK];
	const uint64_t *best[BURST_CHUNK], *cand[BURST_CHUNK];
	uint64_t live = (UINT64_C(1) << n) - 1, todo;
	uint16_t hits = 0, j;

	for (j = 0; j < n; j++) {
		best_rank[j] = PSW_CLS_RANK_NONE;
		best[j] = NULL;
	}
	for (unsigned i = 0; i < o->n && live; i++) {
		uint64_t min = __atomic_load_n(&o->it[i].min, __ATOMIC_RELAXED);

		/* drop the keys whose best beats everything from here on */
		for (todo = live; todo; todo &= todo - 1) {
			j = __builtin_ctzll(todo);
			live &= ~((uint64_t)(best_rank[j] < min) << j);
		}
		if (live)
			chunk_subtable(__atomic_load_n(&o->it[i].table, __ATOMIC_ACQUIRE), keys,
				       live, hash, cand, best_rank, best);
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
	const struct psw_cls_order *o = __atomic_load_n(&cls->order, __ATOMIC_ACQUIRE);
	uint16_t done = 0, hits = 0, c;

	while (done < n) {
		c = RTE_MIN(n - done, BURST_CHUNK);
		hits += lookup_chunk(o, keys + done, c, out + done);
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
