/*
 * classifier_update.c: rules into and out of a classifier in place (control thread; PMDs
 * look up meanwhile, classifier.c): insert, remove, replace, shadowed rules chained behind
 * the best of their masked key and promoted when it goes, and the preemption scan that
 * tells the flow table which cached results a new rule makes stale (flow/result.h).
 * Every operation does what may fail (a table rebuilt alone, a new order of subtables)
 * before anything a reader can see, so a failure changes nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <rte_common.h>

#include "flow/classifier_int.h"

/* ---- rules in place -------------------------------------------------------------------- */

static inline uint64_t
rank_of(const struct psw_rule *r)
{
	return (uint64_t)(65535u - r->priority) << 48 | r->seq;
}

static bool
rule_ok(const struct psw_rule *r)
{
	return r->priority <= 65535 && r->seq < (UINT64_C(1) << 48);
}

/* Shadowed rules, behind the best of their masked key, in rank order. */
static void
chain_insert(struct psw_rule *head, struct psw_rule *r)
{
	uint64_t rank = rank_of(r);
	struct psw_rule *p = head;

	while (p->cls_next && rank_of(p->cls_next) < rank)
		p = p->cls_next;
	r->cls_next = p->cls_next;
	p->cls_next = r;
}

static bool
chain_unlink(struct psw_rule *head, struct psw_rule *r)
{
	for (struct psw_rule *p = head; p->cls_next; p = p->cls_next) {
		if (p->cls_next == r) {
			p->cls_next = r->cls_next;
			r->cls_next = NULL;
			return true;
		}
	}
	return false;
}

static bool
mask_within(const struct psw_flow_key *inner, const struct psw_flow_key *outer)
{
	const uint64_t *a = psw_flow_key_words(inner), *b = psw_flow_key_words(outer);

	for (unsigned i = 0; i < PSW_FLOW_KEY_WORDS; i++)
		if (a[i] & ~b[i])
			return false;
	return true;
}

/* Every worse entry of a small table t whose masked key agrees with the rule's key on the
 * bits both masks have: the rules whose flows the rule may take. */
static void
preempt_each(struct psw_classifier *cls, const struct psw_cls_table *t,
	     const struct psw_rule *rule, uint64_t rank)
{
	const uint64_t *rk = psw_flow_key_words(&rule->match.key);
	const uint64_t *rm = psw_flow_key_words(&rule->match.mask);

	for (uint32_t bi = 0; bi <= t->bucket_mask; bi++) {
		for (unsigned s = 0; s < PSW_CLS_SLOTS; s++) {
			const uint64_t *e;
			uint64_t d = 0;

			if (t->buckets[bi].hash[s] == 0)
				continue;
			e = t->entries + (size_t)t->buckets[bi].idx[s] * t->stride;
			if (e[0] < rank)
				continue;
			for (unsigned i = 0; i < t->n_words; i++)
				d |= (e[2 + i] ^ rk[t->words[i]]) & t->mask[i] & rm[t->words[i]];
			if (d == 0)
				cls->hooks.preempt((const struct psw_rule *)(uintptr_t)e[1],
						   cls->hooks.arg);
		}
	}
}

/* Before rule (rank) becomes visible: tell hooks.preempt which rules may lose flows to it.
 * A subtable whose worst best beats the rule has nothing to lose. One whose mask lies
 * within the rule's has at most one masked key the rule's packets can have: its best, if
 * worse, is preempted. Another one is looked through if small (PSW_CLS_PREEMPT_SCAN
 * masked keys); a bigger one could lose flows of any of its keys: "any rule". */
static void
preempt_scan(struct psw_classifier *cls, const struct psw_rule *rule, uint64_t rank)
{
	uint64_t kw[PSW_FLOW_KEY_WORDS];
	struct psw_cls_loc l;

	if (cls->hooks.preempt == NULL)
		return;
	for (unsigned i = 0; i < cls->n_subs; i++) {
		const struct psw_cls_sub *s = cls->subs[i];
		uint32_t h;

		if (s->n_groups == 0 || s->max < rank)
			continue;
		if (!mask_within(&s->mask, &rule->match.mask)) {
			if (s->n_groups > PSW_CLS_PREEMPT_SCAN) {
				cls->hooks.preempt(NULL, cls->hooks.arg);
				return;
			}
			preempt_each(cls, s->t, rule, rank);
			continue;
		}
		h = psw_cls_table_words(s->t, &rule->match.key, kw);
		if (psw_cls_table_locate(s->t, kw, h, &l) && l.e[0] > rank)
			cls->hooks.preempt((const struct psw_rule *)(uintptr_t)l.e[1], cls->hooks.arg);
	}
}

/* Room for one more entry in st's table (a rebuild when its entries are used up). */
static int
make_room(struct psw_classifier *cls, struct psw_cls_sub *st, const uint64_t *kw, uint32_t h,
	  struct psw_cls_loc *l, bool *found)
{
	int rc;

	if (st->t->n_used < st->t->cap)
		return 0;
	rc = psw_cls_sub_rebuild(cls, st, 1);
	if (rc == 0)
		*found = psw_cls_table_locate(st->t, kw, h, l);
	return rc;
}

/* A subtable that kept fewer than an eighth of its room after a removal shrinks. */
static void
maybe_shrink(struct psw_classifier *cls, struct psw_cls_sub *st)
{
	if (st->t->cap > 8 * PSW_CLS_MIN_CAP && st->n_groups * 8 < st->t->cap)
		(void)psw_cls_sub_rebuild(cls, st, 0);   /* failure: it stays big, that is all */
}

/* st lost its best (rank `gone`): its min is recomputed at once while that is cheap, else
 * left a lower bound until the table is next rebuilt. */
static void
refresh_min(struct psw_classifier *cls, struct psw_cls_sub *st, uint64_t gone)
{
	uint64_t min, max;

	if (gone != st->min || st->n_groups > PSW_CLS_EXACT_MIN)
		return;
	psw_cls_table_scan(st->t, &min, &max);
	psw_cls_raise_min(cls, st, min);
}

int
psw_classifier_insert(struct psw_classifier *cls, struct psw_rule *rule)
{
	uint64_t kw[PSW_FLOW_KEY_WORDS], rank;
	struct psw_cls_sub *st;
	struct psw_cls_loc l;
	bool found, fresh;
	uint32_t h, x;
	int rc;

	if (cls->frozen)
		return -EPERM;
	if (!rule_ok(rule))
		return -EINVAL;
	rank = rank_of(rule);
	st = psw_cls_sub_find(cls, &rule->match.mask);
	if (st == NULL) {
		st = psw_cls_sub_new(cls, &rule->match.mask, PSW_CLS_MIN_CAP,
				     psw_cls_pow2(PSW_CLS_MIN_CAP / 4 + 1));
		if (st == NULL)
			return -ENOMEM;
	}
	fresh = !st->published;   /* new: it joins the order with this rule */
	h = psw_cls_table_words(st->t, &rule->match.key, kw);
	found = psw_cls_table_locate(st->t, kw, h, &l);
	if (found && rank > l.e[0]) {
		/* Shadowed by a better rule: no reader sees a change. */
		chain_insert((struct psw_rule *)(uintptr_t)l.e[1], rule);
		st->n_shadowed++;
		cls->n_shadowed++;
		return 0;
	}
	/* Everything that may fail, before anything a reader can see. */
	rc = make_room(cls, st, kw, h, &l, &found);
	if (rc == 0)
		rc = psw_cls_lower_min(cls, st, rank);
	if (rc == 0 && fresh)
		rc = psw_cls_order_publish(cls, st, NULL);   /* empty until the entry is stored */
	if (rc < 0) {
		if (fresh)
			psw_cls_sub_drop(cls, st);
		return rc;
	}
	preempt_scan(cls, rule, rank);
	x = psw_cls_entry_append(st->t, rank, rule, kw);
	if (found) {
		rule->cls_next = (struct psw_rule *)(uintptr_t)l.e[1];
		__atomic_store_n(&l.b->idx[l.s], x, __ATOMIC_RELEASE);
		st->n_shadowed++;
		cls->n_shadowed++;
	} else {
		rule->cls_next = NULL;
		st->n_spilled += psw_cls_slot_put(st->t, h, x);
		st->n_groups++;
		cls->n_rules++;
	}
	st->max = RTE_MAX(st->max, rank);
	return 0;
}

int
psw_classifier_remove(struct psw_classifier *cls, struct psw_rule *rule)
{
	uint64_t kw[PSW_FLOW_KEY_WORDS], gone;
	struct psw_cls_sub *st;
	struct psw_rule *best, *next;
	struct psw_cls_loc l;
	bool found;
	uint32_t h;
	int rc;

	if (cls->frozen)
		return -EPERM;
	st = psw_cls_sub_find(cls, &rule->match.mask);
	if (st == NULL)
		return -ENOENT;
	h = psw_cls_table_words(st->t, &rule->match.key, kw);
	found = psw_cls_table_locate(st->t, kw, h, &l);
	if (!found)
		return -ENOENT;
	best = (struct psw_rule *)(uintptr_t)l.e[1];
	if (best != rule) {
		if (!chain_unlink(best, rule))
			return -ENOENT;
		st->n_shadowed--;
		cls->n_shadowed--;
		return 0;
	}
	gone = l.e[0];
	next = rule->cls_next;
	if (next != NULL) {
		rc = make_room(cls, st, kw, h, &l, &found);
		if (rc < 0)
			return rc;
		__atomic_store_n(&l.b->idx[l.s],
				 psw_cls_entry_append(st->t, rank_of(next), next, kw),
				 __ATOMIC_RELEASE);
		st->max = RTE_MAX(st->max, rank_of(next));
		st->n_shadowed--;
		cls->n_shadowed--;
	} else {
		__atomic_store_n(&l.b->hash[l.s], 0, __ATOMIC_RELEASE);
		st->n_spilled -= l.bi != (h & st->t->bucket_mask);
		st->n_groups--;
		cls->n_rules--;
	}
	rule->cls_next = NULL;
	if (st->n_groups == 0) {
		psw_cls_sub_emptied(cls, st);
		return 0;
	}
	refresh_min(cls, st, gone);
	maybe_shrink(cls, st);
	return 0;
}

int
psw_classifier_replace(struct psw_classifier *cls, struct psw_rule *old, struct psw_rule *rule)
{
	uint64_t kw[PSW_FLOW_KEY_WORDS], kw2[PSW_FLOW_KEY_WORDS], rank, was;
	struct psw_rule *best, *head, *next;
	struct psw_cls_sub *st;
	struct psw_cls_loc l;
	bool found;
	uint32_t h;
	int rc;

	if (cls->frozen)
		return -EPERM;
	if (!rule_ok(rule) || !psw_flow_key_equal(&old->match.mask, &rule->match.mask))
		return -EINVAL;
	st = psw_cls_sub_find(cls, &rule->match.mask);
	if (st == NULL)
		return -ENOENT;
	h = psw_cls_table_words(st->t, &old->match.key, kw);
	if (psw_cls_table_words(st->t, &rule->match.key, kw2) != h ||
	    memcmp(kw, kw2, sizeof(uint64_t) * st->t->n_words) != 0)
		return -EINVAL;
	found = psw_cls_table_locate(st->t, kw, h, &l);
	if (!found)
		return -ENOENT;
	rank = rank_of(rule);
	was = l.e[0];
	best = (struct psw_rule *)(uintptr_t)l.e[1];
	if (best != old) {
		struct psw_rule *p = best;

		while (p->cls_next && p->cls_next != old)
			p = p->cls_next;
		if (p->cls_next != old)
			return -ENOENT;
		if (rank > was) {
			/* Both shadowed: the readers' entry stays. */
			chain_unlink(best, old);
			chain_insert(best, rule);
			return 0;
		}
		head = rule;
		next = best;
	} else {
		next = old->cls_next;
		head = next && rank_of(next) < rank ? next : rule;
	}
	rc = make_room(cls, st, kw, h, &l, &found);
	if (rc == 0)
		rc = psw_cls_lower_min(cls, st, rank_of(head));
	if (rc < 0)
		return rc;
	if (rank < was)
		preempt_scan(cls, rule, rank);
	/* The chain as it will be, then the readers' entry. */
	if (best != old) {
		chain_unlink(best, old);
		rule->cls_next = best;
	} else if (head == rule) {
		rule->cls_next = next;
		old->cls_next = NULL;
	} else {
		old->cls_next = NULL;
		chain_insert(head, rule);
	}
	__atomic_store_n(&l.b->idx[l.s],
			 psw_cls_entry_append(st->t, rank_of(head), head, kw), __ATOMIC_RELEASE);
	st->max = RTE_MAX(st->max, rank_of(head));
	if (best == old)
		refresh_min(cls, st, was);
	return 0;
}
