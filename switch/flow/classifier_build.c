/*
 * classifier_build.c: a classifier made all at once from a list of rules (tests,
 * benchmarks/bench_lookup.c), control thread. The same tables and lookups as classifier.c;
 * it cannot be changed afterwards (frozen).
 *
 * Rules are ranked once by (priority desc, seq asc, position in the input asc); from then
 * on "better" is "lower rank", 0..n-1, so that full ties (equal priority and seq, which the
 * flow table never makes) go to the rule listed first, as psw_classifier_reference() has
 * it. Rules are grouped by mask into subtables; walking the rules in rank order creates
 * each subtable at its best rule, so the subtables come out sorted by their best rank for
 * free. A rule whose mask and masked key equal a better rule's is shadowed (it can never
 * win) and left out. Tables are sized for 1.5 to 3 entries a bucket, so that a bucket
 * rarely overflows into the next (Poisson(3) > 8 is 0.4%).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <rte_common.h>

#include "flow/classifier_int.h"

/* Ranking: sort by k = (~priority << 64 | seq) ascending, stably, so equal k keep their
 * input order: an LSD radix sort, 8 bits a pass, over the 96-bit key held as priority and
 * seq, skipping the passes whose byte is the same in every key (the high bytes of small
 * seqs and priorities): qsort with a comparator that follows rule pointers took 600 ms of
 * the 1M-rule build, this takes tens. */
struct rank_sort {
	uint64_t seq;
	uint32_t prio;                /* UINT32_MAX - priority */
	uint32_t pos;
};

static inline unsigned
key_byte(const struct rank_sort *r, unsigned b)
{
	return b < 8 ? (unsigned)(r->seq >> (8 * b)) & 0xff : (r->prio >> (8 * (b - 8))) & 0xff;
}

static void
rank_rules(struct rank_sort *const keys, struct rank_sort *tmp, unsigned n)
{
	struct rank_sort *a = keys;
	uint64_t or_s = 0, and_s = UINT64_MAX;
	uint32_t or_p = 0, and_p = UINT32_MAX;
	unsigned b, i;

	for (i = 0; i < n; i++) {
		or_s |= a[i].seq;
		and_s &= a[i].seq;
		or_p |= a[i].prio;
		and_p &= a[i].prio;
	}
	for (b = 0; b < 12; b++) {
		uint32_t count[256] = { 0 }, sum = 0, c;
		struct rank_sort *t;
		unsigned same = b < 8 ? (unsigned)((or_s ^ and_s) >> (8 * b)) & 0xff
				      : ((or_p ^ and_p) >> (8 * (b - 8))) & 0xff;

		if (same == 0)
			continue;                  /* this byte is the same everywhere */
		for (i = 0; i < n; i++)
			count[key_byte(&a[i], b)]++;
		for (i = 0; i < 256; i++) {
			c = count[i];
			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			tmp[count[key_byte(&a[i], b)]++] = a[i];
		t = a;
		a = tmp;
		tmp = t;
	}
	/* an odd number of passes leaves the result in the other buffer */
	if (a != keys)
		memcpy(keys, a, sizeof(*a) * n);
}

static inline uint32_t
mask_slot_hash(const uint64_t *m)
{
	uint32_t h = 0;

	for (unsigned i = 0; i < PSW_FLOW_KEY_WORDS; i++)
		h = psw_crc64(m[i], h);
	return psw_hash_finish(h);
}

/* Group the ranked rules by mask: st_of[rank] = index in cls->subs, counts[] per subtable
 * (created at their best rule, so in order of min). 0 or -ENOMEM. */
static int
group_by_mask(struct psw_classifier *cls, const struct psw_rule *const *by_rank, unsigned n,
	      uint32_t *st_of, uint32_t **countsp)
{
	uint32_t map_cap = psw_cls_pow2((uint64_t)n * 2 + 2);
	uint32_t *map = malloc(sizeof(*map) * map_cap), *counts = NULL;
	unsigned cap_counts = 0;

	if (map == NULL)
		return -ENOMEM;
	memset(map, 0xff, sizeof(*map) * map_cap);
	for (unsigned r = 0; r < n; r++) {
		const struct psw_flow_key *mk = &by_rank[r]->match.mask;
		uint32_t slot, s;

		/* rules next to each other in rank often share a mask */
		if (r > 0 && psw_flow_key_equal(&cls->subs[st_of[r - 1]]->mask, mk)) {
			st_of[r] = st_of[r - 1];
			counts[st_of[r]]++;
			continue;
		}
		for (slot = mask_slot_hash(psw_flow_key_words(mk)) & (map_cap - 1);;
		     slot = (slot + 1) & (map_cap - 1)) {
			s = map[slot];
			if (s == PSW_CLS_EMPTY || psw_flow_key_equal(&cls->subs[s]->mask, mk))
				break;
		}
		if (s == PSW_CLS_EMPTY) {
			/* tables are made once the counts are known: a placeholder for now */
			struct psw_cls_sub *st = psw_cls_sub_new(cls, mk, 1, 1);

			if (st == NULL)
				goto nomem;
			s = cls->n_subs - 1;
			map[slot] = s;
			st->min = r;      /* rank order: the first is the best */
			if (s >= cap_counts) {
				uint32_t *c = realloc(counts, sizeof(*c) * (cap_counts * 2 + 16));

				if (c == NULL)
					goto nomem;
				memset(c + cap_counts, 0, sizeof(*c) * (cap_counts + 16));
				counts = c;
				cap_counts = cap_counts * 2 + 16;
			}
		}
		st_of[r] = s;
		counts[s]++;
	}
	free(map);
	*countsp = counts;
	return 0;
nomem:
	free(map);
	free(counts);
	return -ENOMEM;
}

struct psw_classifier *
psw_classifier_build(const struct psw_rule *const *rules, unsigned n)
{
	const struct psw_rule **by_rank = NULL;
	struct psw_classifier *cls;
	struct rank_sort *rs = NULL;
	uint32_t *st_of = NULL, *counts = NULL;
	uint64_t kw[PSW_FLOW_KEY_WORDS];
	unsigned i;

	for (i = 0; i < n; i++) {
		if (!rules[i]) {
			errno = EINVAL;
			return NULL;
		}
	}
	cls = psw_classifier_new(NULL);
	if (cls == NULL)
		return NULL;
	cls->frozen = true;
	if (n == 0)
		return cls;

	rs = malloc(sizeof(*rs) * n * 2);       /* the keys and the radix sort's other buffer */
	by_rank = malloc(sizeof(*by_rank) * n);
	st_of = malloc(sizeof(*st_of) * n);
	if (!rs || !by_rank || !st_of)
		goto fail;
	for (i = 0; i < n; i++) {
		rs[i].prio = UINT32_MAX - rules[i]->priority;
		rs[i].seq = rules[i]->seq;
		rs[i].pos = i;
	}
	rank_rules(rs, rs + n, n);
	for (i = 0; i < n; i++)
		by_rank[i] = rules[rs[i].pos];
	free(rs);
	rs = NULL;

	if (group_by_mask(cls, by_rank, n, st_of, &counts) < 0)
		goto fail;
	for (i = 0; i < cls->n_subs; i++) {
		struct psw_cls_sub *st = cls->subs[i];
		uint32_t cap = RTE_MAX(counts[i], 1u);

		free(st->t);
		/* 1.5 to 3 entries a bucket */
		st->t = psw_cls_table_new(&st->mask, cap, psw_cls_pow2(counts[i] / 3 + 1));
		if (st->t == NULL)
			goto fail;
	}
	for (i = 0; i < n; i++) {
		struct psw_cls_sub *st = cls->subs[st_of[i]];
		uint32_t h = psw_cls_table_words(st->t, &by_rank[i]->match.key, kw);

		if (psw_cls_table_get(st->t, kw, h)) {
			st->n_shadowed++;
			cls->n_shadowed++;
			continue;
		}
		st->n_spilled += psw_cls_slot_put(st->t, h,
						  psw_cls_entry_append(st->t, i, by_rank[i], kw));
		st->n_groups++;
		st->max = i;
		cls->n_rules++;
	}
	if (psw_cls_order_publish(cls, NULL, NULL) < 0)
		goto fail;
	free(by_rank);
	free(st_of);
	free(counts);
	return cls;
fail:
	free(rs);
	free(by_rank);
	free(st_of);
	free(counts);
	psw_classifier_free(cls);
	errno = ENOMEM;
	return NULL;
}
