/*
 * classifier_int.h: the classifier's insides, shared by classifier.c (lookups),
 * classifier_table.c (tables, the order, subtables), classifier_update.c (rules in place)
 * and classifier_build.c (all at once from a list). Nothing else includes it.
 * The layout and the publication rules are described in classifier.c's header.
 */
#ifndef PSW_FLOW_CLASSIFIER_INT_H
#define PSW_FLOW_CLASSIFIER_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_common.h>
#if defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

#include "core/mem.h"
#include "flow/classifier.h"

#define PSW_CLS_EMPTY      UINT32_MAX      /* a slot index never used */
#define PSW_CLS_RANK_NONE  UINT64_MAX
#define PSW_CLS_SLOTS      8
#define PSW_CLS_MIN_CAP    16u             /* entries of the smallest table */
#define PSW_CLS_EXACT_MIN  1024u           /* a subtable this small gets its lost best's
					    * successor at once (a scan of its buckets) */
#define PSW_CLS_PREEMPT_SCAN 64u          /* a subtable this small is looked through for
					    * the rules a new one preempts */
#define PSW_CLS_HASH_SEED  0x2545f491u
#define BURST_CHUNK        32

/* A free slot has hash 0, which no stored hash equals (psw_cls_hash_nz). A slot's index is
 * never reset once used: a bucket whose last index is PSW_CLS_EMPTY was never full, so it
 * ends a probe. */
struct psw_cls_bucket {
	uint32_t hash[PSW_CLS_SLOTS];
	uint32_t idx[PSW_CLS_SLOTS];
} __rte_aligned(64);

/* One subtable's hash table; replaced whole when rebuilt. */
struct psw_cls_table {
	uint32_t bucket_mask;             /* buckets - 1 */
	uint8_t n_words;
	uint8_t stride;                   /* entry size in words: 2 + n_words */
	uint8_t words[PSW_FLOW_KEY_WORDS];  /* which key words the mask touches */
	uint64_t mask[PSW_FLOW_KEY_WORDS];  /* mask[i] for words[i] (compacted) */
	struct psw_cls_bucket *buckets;
	uint64_t *entries;                /* [cap][stride]: rank, rule, masked key words */
	/* control thread only */
	uint32_t cap;                     /* entries allocated */
	uint32_t n_used;                  /* entries appended (never rewritten) */
	size_t bytes;                     /* the whole block: this header, buckets, entries */
};

/* What PMDs walk: one item per subtable in order of min. */
struct psw_cls_item {
	uint64_t min;                     /* <= every rank in this and the later items */
	struct psw_cls_table *table;
};

struct psw_cls_order {
	unsigned n;
	struct psw_cls_item it[];
};

/* A subtable as the control thread knows it. */
struct psw_cls_sub {
	struct psw_flow_key mask;
	uint32_t mask_hash;
	struct psw_cls_table *t;
	uint64_t min;                     /* best rank, or a lower bound of it (= its item's) */
	uint64_t max;                     /* >= the worst rank of an entry (not a shadow) */
	uint64_t serial;                  /* creation order: ties in the order */
	unsigned pos;                     /* its item in cls->order, when published */
	bool published;
	unsigned n_groups;                /* entries live: masked keys */
	unsigned n_shadowed;
	unsigned n_spilled;
};

struct psw_classifier {
	struct psw_cls_order *order;      /* PMDs: __atomic_load_n(ACQUIRE) */
	struct psw_cls_sub **subs;
	unsigned n_subs, cap_subs;
	struct psw_classifier_hooks hooks;
	bool frozen;                      /* built from a list: ranks 0..n-1, no changes */
	uint64_t serial;
	unsigned n_rules, n_shadowed;
	uint64_t rebuilds;
};

/* ---- lookups (PMDs) -------------------------------------------------------------------- */

static inline uint32_t
psw_cls_hash_nz(uint32_t h)
{
	h = psw_hash_finish(h);
	return h | (h == 0);          /* 0 marks a free slot */
}

static inline uint32_t
psw_cls_masked_hash(const struct psw_cls_table *t, const uint64_t *k)
{
	uint32_t h = PSW_CLS_HASH_SEED;

	for (unsigned i = 0; i < t->n_words; i++)
		h = psw_crc64(k[t->words[i]] & t->mask[i], h);
	return psw_cls_hash_nz(h);
}

static inline bool
psw_cls_entry_matches(const struct psw_cls_table *t, const uint64_t *e, const uint64_t *k)
{
	uint64_t d = 0;

	for (unsigned i = 0; i < t->n_words; i++)
		d |= (k[t->words[i]] & t->mask[i]) ^ e[2 + i];
	return d == 0;
}

/* Bit s set when slot s holds hash h. */
static inline uint32_t
psw_cls_bucket_hits(const struct psw_cls_bucket *b, uint32_t h)
{
#if defined(__AVX2__)
	__m256i v = _mm256_load_si256((const __m256i *)b->hash);

	return (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(
		_mm256_cmpeq_epi32(v, _mm256_set1_epi32((int)h))));
#elif defined(__SSE2__)
	__m128i x = _mm_set1_epi32((int)h);
	__m128i lo = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)b->hash), x);
	__m128i hi = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(b->hash + 4)), x);

	return (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(lo)) |
	       (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(hi)) << 4;
#else
	uint32_t m = 0;

	for (unsigned s = 0; s < PSW_CLS_SLOTS; s++)
		m |= (uint32_t)(__atomic_load_n(&b->hash[s], __ATOMIC_RELAXED) == h) << s;
	return m;
#endif
}

/* The entry of slot s, whose hash was just seen equal. The writer stored the entry, then
 * the index, then the hash (release each); the index is read after the hash (it depends
 * on which slot matched) with acquire, so the entry read after it is whole. On x86 both
 * are plain loads. */
static inline const uint64_t *
psw_cls_slot_entry(const struct psw_cls_table *t, const struct psw_cls_bucket *b, unsigned s)
{
	return t->entries + (size_t)__atomic_load_n(&b->idx[s], __ATOMIC_ACQUIRE) * t->stride;
}

/* Probe for key k (hash h). Returns its entry or NULL. */
static inline const uint64_t *
psw_cls_find(const struct psw_cls_table *t, const uint64_t *k, uint32_t h)
{
	uint32_t bi = h & t->bucket_mask;

	for (;;) {
		const struct psw_cls_bucket *b = &t->buckets[bi];
		uint32_t m = psw_cls_bucket_hits(b, h);

		while (m) {
			const uint64_t *e = psw_cls_slot_entry(t, b, __builtin_ctz(m));

			if (psw_cls_entry_matches(t, e, k))
				return e;
			m &= m - 1;
		}
		if (likely(__atomic_load_n(&b->idx[PSW_CLS_SLOTS - 1], __ATOMIC_RELAXED) ==
			   PSW_CLS_EMPTY))
			return NULL;
		bi = (bi + 1) & t->bucket_mask;
	}
}

/* ---- building blocks (control thread, classifier_table.c) ------------------------------ */

/* Where the entry of a masked key sits. */
struct psw_cls_loc {
	struct psw_cls_bucket *b;
	unsigned s;
	uint32_t bi;
	uint64_t *e;
};

uint32_t psw_cls_pow2(uint64_t n);
/* A table of cap entries in n_buckets buckets (a power of two), every slot free. */
struct psw_cls_table *psw_cls_table_new(const struct psw_flow_key *mask, uint32_t cap,
					uint32_t n_buckets);
/* The rule's masked key words for t, and their hash. */
uint32_t psw_cls_table_words(const struct psw_cls_table *t, const struct psw_flow_key *key,
			     uint64_t *kw);
/* The entry for masked key kw, if any. */
const uint64_t *psw_cls_table_get(const struct psw_cls_table *t, const uint64_t *kw,
				  uint32_t h);
uint32_t psw_cls_entry_append(struct psw_cls_table *t, uint64_t rank,
			      const struct psw_rule *rule, const uint64_t *kw);
bool psw_cls_slot_put(struct psw_cls_table *t, uint32_t h, uint32_t x);
struct psw_cls_sub *psw_cls_sub_new(struct psw_classifier *cls, const struct psw_flow_key *mask,
				    uint32_t cap, uint32_t n_buckets);
bool psw_cls_table_locate(const struct psw_cls_table *t, const uint64_t *kw, uint32_t h,
			  struct psw_cls_loc *l);
/* Best and worst rank of the live entries. */
void psw_cls_table_scan(const struct psw_cls_table *t, uint64_t *min, uint64_t *max);
/* Free obj after a grace period (hooks.retire), or now. */
void psw_cls_retire(struct psw_classifier *cls, void *obj);
/* Publish a new order: the subtables that hold rules or are in the current order, `add`
 * (about to get its first rule), not `drop` (emptied); sorted by min. 0 or -ENOMEM. */
int psw_cls_order_publish(struct psw_classifier *cls, const struct psw_cls_sub *add,
			  const struct psw_cls_sub *drop);
/* A subtable's best becomes m: lower (before a better entry is stored; 0 or -ENOMEM) or
 * raise (m exact; if the order cannot be made the old min stays, a lower bound). */
int psw_cls_lower_min(struct psw_classifier *cls, struct psw_cls_sub *st, uint64_t m);
void psw_cls_raise_min(struct psw_classifier *cls, struct psw_cls_sub *st, uint64_t m);
struct psw_cls_sub *psw_cls_sub_find(const struct psw_classifier *cls,
				     const struct psw_flow_key *mask);
/* Forget st (never published or out of the order); its table is retired. */
void psw_cls_sub_drop(struct psw_classifier *cls, struct psw_cls_sub *st);
/* st holds no rule any more: out of the order, and forgotten (if the order can be made). */
void psw_cls_sub_emptied(struct psw_classifier *cls, struct psw_cls_sub *st);
/* Rebuild st's table alone with room for `extra` more entries. 0 or -ENOMEM. */
int psw_cls_sub_rebuild(struct psw_classifier *cls, struct psw_cls_sub *st, unsigned extra);

#endif
