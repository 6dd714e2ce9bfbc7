/*
 * classifier_table.c: the classifier's building blocks on the control thread (layout and
 * publication rules: classifier.c's header): a subtable's hash table (made, filled, looked
 * through), the order of subtables PMDs walk (republished, or its mins changed in place),
 * subtables made, dropped and rebuilt alone. Used by classifier_update.c (rules in place)
 * and classifier_build.c (all at once).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <rte_common.h>

#include "flow/classifier_int.h"

/* ---- tables ---------------------------------------------------------------------------- */

uint32_t
psw_cls_pow2(uint64_t n)
{
	uint32_t c = 1;

	while (c < n)
		c <<= 1;
	return c;
}

struct psw_cls_table *
psw_cls_table_new(const struct psw_flow_key *mask, uint32_t cap, uint32_t n_buckets)
{
	const uint64_t *m = psw_flow_key_words(mask);
	size_t hdr = RTE_ALIGN_CEIL(sizeof(struct psw_cls_table), RTE_CACHE_LINE_SIZE);
	uint8_t n_words = 0;
	size_t bb, eb;
	struct psw_cls_table *t;

	for (unsigned i = 0; i < PSW_FLOW_KEY_WORDS; i++)
		n_words += m[i] != 0;
	bb = sizeof(struct psw_cls_bucket) * n_buckets;
	eb = sizeof(uint64_t) * (2u + n_words) * cap;
	t = psw_mem_big(hdr + bb + eb, false);
	if (t == NULL)
		return NULL;
	memset(t, 0, hdr);
	for (unsigned i = 0; i < PSW_FLOW_KEY_WORDS; i++) {
		if (m[i]) {
			t->words[t->n_words] = (uint8_t)i;
			t->mask[t->n_words] = m[i];
			t->n_words++;
		}
	}
	t->stride = (uint8_t)(2 + t->n_words);
	t->bucket_mask = n_buckets - 1;
	t->buckets = (struct psw_cls_bucket *)((char *)t + hdr);
	t->entries = (uint64_t *)((char *)t->buckets + bb);
	t->cap = cap;
	t->bytes = hdr + bb + eb;
	for (uint32_t b = 0; b < n_buckets; b++) {
		memset(t->buckets[b].hash, 0, sizeof(t->buckets[b].hash));
		memset(t->buckets[b].idx, 0xff, sizeof(t->buckets[b].idx));
	}
	return t;
}

uint32_t
psw_cls_table_words(const struct psw_cls_table *t, const struct psw_flow_key *key, uint64_t *kw)
{
	const uint64_t *k = psw_flow_key_words(key);
	uint32_t h = PSW_CLS_HASH_SEED;

	for (unsigned i = 0; i < t->n_words; i++) {
		kw[i] = k[t->words[i]] & t->mask[i];
		h = psw_crc64(kw[i], h);
	}
	return psw_cls_hash_nz(h);
}

bool
psw_cls_table_locate(const struct psw_cls_table *t, const uint64_t *kw, uint32_t h,
		     struct psw_cls_loc *l)
{
	uint32_t bi = h & t->bucket_mask;

	for (;;) {
		struct psw_cls_bucket *b = &t->buckets[bi];

		for (unsigned s = 0; s < PSW_CLS_SLOTS; s++) {
			uint64_t *e;

			if (b->hash[s] != h)
				continue;
			e = t->entries + (size_t)b->idx[s] * t->stride;
			if (memcmp(e + 2, kw, sizeof(uint64_t) * t->n_words) == 0) {
				l->b = b;
				l->s = s;
				l->bi = bi;
				l->e = e;
				return true;
			}
		}
		if (b->idx[PSW_CLS_SLOTS - 1] == PSW_CLS_EMPTY)
			return false;
		bi = (bi + 1) & t->bucket_mask;
	}
}

const uint64_t *
psw_cls_table_get(const struct psw_cls_table *t, const uint64_t *kw, uint32_t h)
{
	struct psw_cls_loc l;

	return psw_cls_table_locate(t, kw, h, &l) ? l.e : NULL;
}

uint32_t
psw_cls_entry_append(struct psw_cls_table *t, uint64_t rank, const struct psw_rule *rule,
		     const uint64_t *kw)
{
	uint32_t x = t->n_used++;
	uint64_t *e = t->entries + (size_t)x * t->stride;

	e[0] = rank;
	e[1] = (uintptr_t)rule;
	memcpy(e + 2, kw, sizeof(uint64_t) * t->n_words);
	return x;
}

/* Store entry x under hash h in the first free slot of h's probe path (the table always
 * has one: at most cap entries live, cap <= 4 per bucket). The index before the hash, both
 * release: a reader that sees the hash sees the index and the entry. True if the slot is
 * past h's home bucket. */
bool
psw_cls_slot_put(struct psw_cls_table *t, uint32_t h, uint32_t x)
{
	uint32_t home = h & t->bucket_mask, bi = home;

	for (;; bi = (bi + 1) & t->bucket_mask) {
		struct psw_cls_bucket *b = &t->buckets[bi];

		for (unsigned s = 0; s < PSW_CLS_SLOTS; s++) {
			if (b->hash[s] != 0)
				continue;
			__atomic_store_n(&b->idx[s], x, __ATOMIC_RELEASE);
			__atomic_store_n(&b->hash[s], h, __ATOMIC_RELEASE);
			return bi != home;
		}
	}
}

/* Best and worst rank of the live entries. */
void
psw_cls_table_scan(const struct psw_cls_table *t, uint64_t *min, uint64_t *max)
{
	*min = PSW_CLS_RANK_NONE;
	*max = 0;
	for (uint32_t bi = 0; bi <= t->bucket_mask; bi++)
		for (unsigned s = 0; s < PSW_CLS_SLOTS; s++)
			if (t->buckets[bi].hash[s]) {
				uint64_t r = t->entries[(size_t)t->buckets[bi].idx[s] * t->stride];

				*min = RTE_MIN(*min, r);
				*max = RTE_MAX(*max, r);
			}
}

/* ---- the order of subtables ------------------------------------------------------------ */

void
psw_cls_retire(struct psw_classifier *cls, void *obj)
{
	if (cls->hooks.retire)
		cls->hooks.retire(obj, free);
	else
		free(obj);
}

static bool
in_order(const struct psw_cls_sub *s, const struct psw_cls_sub *add,
	 const struct psw_cls_sub *drop)
{
	return s != drop && (s->n_groups || s->published || s == add);
}

static int
cmp_sub(const void *x, const void *y)
{
	const struct psw_cls_sub *a = *(const struct psw_cls_sub *const *)x;
	const struct psw_cls_sub *b = *(const struct psw_cls_sub *const *)y;

	if (a->min != b->min)
		return a->min < b->min ? -1 : 1;
	return a->serial < b->serial ? -1 : a->serial > b->serial;
}

/* Publish a new order: the subtables that hold rules or are in the current order (an
 * emptied one leaves only through `drop`), and `add` (about to get its first rule), sorted
 * by min; the old order is retired. -ENOMEM changes nothing. */
int
psw_cls_order_publish(struct psw_classifier *cls, const struct psw_cls_sub *add,
		      const struct psw_cls_sub *drop)
{
	struct psw_cls_sub **v;
	struct psw_cls_order *o, *old;
	unsigned n = 0, k = 0;

	for (unsigned i = 0; i < cls->n_subs; i++)
		n += in_order(cls->subs[i], add, drop);
	v = malloc(sizeof(*v) * (n ? n : 1));
	o = malloc(sizeof(*o) + sizeof(o->it[0]) * (n ? n : 1));
	if (v == NULL || o == NULL) {
		free(v);
		free(o);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < cls->n_subs; i++) {
		if (in_order(cls->subs[i], add, drop))
			v[k++] = cls->subs[i];
	}
	for (unsigned i = 0; i < cls->n_subs; i++)
		cls->subs[i]->published = false;
	qsort(v, n, sizeof(*v), cmp_sub);
	o->n = n;
	for (unsigned i = 0; i < n; i++) {
		o->it[i].min = v[i]->min;
		o->it[i].table = v[i]->t;
		v[i]->pos = i;
		v[i]->published = true;
	}
	free(v);
	old = cls->order;
	__atomic_store_n(&cls->order, o, __ATOMIC_RELEASE);
	if (old)
		psw_cls_retire(cls, old);
	return 0;
}

/* st's best is about to become m < st->min (a rule not yet stored): readers must not skip
 * st once it is. In place when the order stays sorted, else a new order. */
int
psw_cls_lower_min(struct psw_classifier *cls, struct psw_cls_sub *st, uint64_t m)
{
	uint64_t old = st->min;

	if (m >= old)
		return 0;
	st->min = m;
	if (!st->published)
		return 0;
	if (st->pos == 0 || cls->order->it[st->pos - 1].min <= m) {
		__atomic_store_n(&cls->order->it[st->pos].min, m, __ATOMIC_RELEASE);
		return 0;
	}
	if (psw_cls_order_publish(cls, NULL, NULL) < 0) {
		st->min = old;
		return -ENOMEM;
	}
	return 0;
}

/* st's best is now m >= st->min (exact). In place if the next item allows, else a new
 * order; if that fails the old min stays: a lower bound, still right. */
void
psw_cls_raise_min(struct psw_classifier *cls, struct psw_cls_sub *st, uint64_t m)
{
	uint64_t old = st->min;

	if (m <= old)
		return;
	st->min = m;
	if (!st->published)
		return;
	if (st->pos + 1 == cls->order->n || cls->order->it[st->pos + 1].min >= m) {
		__atomic_store_n(&cls->order->it[st->pos].min, m, __ATOMIC_RELEASE);
		return;
	}
	if (psw_cls_order_publish(cls, NULL, NULL) < 0)
		st->min = old;
}

/* ---- subtables ------------------------------------------------------------------------- */

static uint32_t
mask_hash(const struct psw_flow_key *mask)
{
	const uint64_t *m = psw_flow_key_words(mask);
	uint32_t h = 0;

	for (unsigned i = 0; i < PSW_FLOW_KEY_WORDS; i++)
		h = psw_crc64(m[i], h);
	return psw_hash_finish(h);
}

struct psw_cls_sub *
psw_cls_sub_find(const struct psw_classifier *cls, const struct psw_flow_key *mask)
{
	uint32_t h = mask_hash(mask);

	for (unsigned i = 0; i < cls->n_subs; i++)
		if (cls->subs[i]->mask_hash == h && psw_flow_key_equal(&cls->subs[i]->mask, mask))
			return cls->subs[i];
	return NULL;
}

struct psw_cls_sub *
psw_cls_sub_new(struct psw_classifier *cls, const struct psw_flow_key *mask, uint32_t cap,
		uint32_t n_buckets)
{
	struct psw_cls_sub *st;

	if (cls->n_subs == cls->cap_subs) {
		unsigned cap_subs = cls->cap_subs ? cls->cap_subs * 2 : 16;
		struct psw_cls_sub **v = realloc(cls->subs, sizeof(*v) * cap_subs);

		if (v == NULL)
			return NULL;
		cls->subs = v;
		cls->cap_subs = cap_subs;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return NULL;
	st->t = psw_cls_table_new(mask, cap, n_buckets);
	if (st->t == NULL) {
		free(st);
		return NULL;
	}
	st->mask = *mask;
	st->mask_hash = mask_hash(mask);
	st->min = PSW_CLS_RANK_NONE;
	st->serial = cls->serial++;
	cls->subs[cls->n_subs++] = st;
	return st;
}

/* Forget st, which no new lookup can reach (never published, or just left the order);
 * lookups under way may still read its table: retired. */
void
psw_cls_sub_drop(struct psw_classifier *cls, struct psw_cls_sub *st)
{
	for (unsigned i = 0; i < cls->n_subs; i++) {
		if (cls->subs[i] == st) {
			cls->subs[i] = cls->subs[--cls->n_subs];
			break;
		}
	}
	psw_cls_retire(cls, st->t);
	free(st);
}

/* An emptied subtable leaves the order; if the new order cannot be made it stays, empty
 * (lookups miss in it), and is reused by the next rule with its mask. */
void
psw_cls_sub_emptied(struct psw_classifier *cls, struct psw_cls_sub *st)
{
	if (psw_cls_order_publish(cls, NULL, st) == 0)
		psw_cls_sub_drop(cls, st);
}

/* Rebuild st's table alone with room for `extra` more entries: live entries only, twice
 * the room they need, min and max exact again. The new table replaces the old one in the
 * published order (release); the old one is retired. */
int
psw_cls_sub_rebuild(struct psw_classifier *cls, struct psw_cls_sub *st, unsigned extra)
{
	struct psw_cls_table *o = st->t, *t;
	uint32_t cap = RTE_MAX(PSW_CLS_MIN_CAP, 2 * (st->n_groups + extra));
	unsigned spilled = 0;
	uint64_t min = PSW_CLS_RANK_NONE, max = 0;

	t = psw_cls_table_new(&st->mask, cap, psw_cls_pow2(cap / 4 + 1));
	if (t == NULL)
		return -ENOMEM;
	for (uint32_t bi = 0; bi <= o->bucket_mask; bi++) {
		const struct psw_cls_bucket *b = &o->buckets[bi];

		for (unsigned s = 0; s < PSW_CLS_SLOTS; s++) {
			const uint64_t *e;
			uint32_t x;

			if (b->hash[s] == 0)
				continue;
			e = o->entries + (size_t)b->idx[s] * o->stride;
			x = psw_cls_entry_append(t, e[0], (const struct psw_rule *)(uintptr_t)e[1],
						 e + 2);
			spilled += psw_cls_slot_put(t, b->hash[s], x);
			min = RTE_MIN(min, e[0]);
			max = RTE_MAX(max, e[0]);
		}
	}
	st->t = t;
	st->n_spilled = spilled;
	st->max = max;
	cls->rebuilds++;
	if (st->published)
		__atomic_store_n(&cls->order->it[st->pos].table, t, __ATOMIC_RELEASE);
	psw_cls_retire(cls, o);
	if (st->n_groups)
		psw_cls_raise_min(cls, st, min);
	return 0;
}
