/*
 * flow_cache.c: the per-PMD exact-match cache (EMC), between the parser and the
 * classifier (pipeline.c: parse -> flow_cache -> classify). Only the owning PMD reads and writes
 * a cache, so nothing here is atomic; the control thread creates and frees it, and may read
 * the counters.
 *
 * Layout: two-way set-associative. `meta` holds {hash, generations, result} per slot, 16
 * bytes, so a bucket (2 slots) is half a cache line; `keys` holds the 64-byte keys apart,
 * so a miss on the hash costs one line and a hit two. The burst lookup runs in three
 * passes over the burst: prefetch the buckets' meta, pick the slot whose hash and
 * generation agree and prefetch its key and result, compare keys and check the result.
 *
 * A slot is live when res != NULL, its generation equals the current one (any table
 * change but a rule change bumps psw_generation), and its result is usable at the rule
 * generation it was made in (result.h: its rule was not deleted nor preempted since): a
 * hit made in the current rule generation is (no rule changed since), an older one
 * checks its result, which the actions stage reads anyway. Everything else is free for
 * an insert. Slots keep the low 16 bits of both generations; when the high bits
 * change (after 65,536 table changes, or rule additions: at 100,000 one-rule additions a
 * second, every 0.65 s) the cache empties itself, so that an entry of a former epoch
 * cannot pass for a fresh one. Replacement when both slots are live: a pseudo-random way
 * (xorshift), which unlike LRU costs no write on a hit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "core/mem.h"
#include "datapath/ctx.h"
#include "datapath/flow_cache.h"
#include "flow/result.h"

#define WAYS 2

struct slot {
	uint32_t hash;
	uint16_t gen;                      /* low 16 bits of psw_generation */
	uint16_t fgen;                     /* low 16 bits of the rule generation it was made in */
	const struct psw_flow_result *res; /* NULL = empty */
};

#define EPOCH_SHIFT 16

struct psw_flow_cache {
	struct slot *meta;                 /* [entries] */
	struct psw_flow_key *keys;         /* [entries] */
	uint32_t bucket_mask;              /* entries / WAYS - 1 */
	uint32_t entries;
	uint32_t insert_inv_prob;
	uint32_t rng;
	bool rte_mem;                      /* meta and keys from rte_malloc */
	uint64_t epoch;                    /* high bits of the generation of the entries */
	uint64_t fepoch;                   /* high bits of the rule generation of the entries */
	size_t bytes;

	struct psw_flow_cache_stats stats __rte_cache_aligned;
};

static inline uint32_t
xorshift32(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static void *
cache_mem(struct psw_flow_cache *fc, size_t bytes, int socket)
{
	void *p = NULL;

	/* Hugepage memory on the PMD's socket if the EAL is up; plain memory otherwise
	 * (unit tests, or when hugepages are short). */
	if (rte_lcore_count() > 0) {
		p = rte_zmalloc_socket("psw_flow_cache", bytes, RTE_CACHE_LINE_SIZE, socket);
		if (p) {
			fc->rte_mem = true;
			return p;
		}
	}
	return psw_mem_big(bytes, true);
}

static void
cache_mem_free(const struct psw_flow_cache *fc, void *p)
{
	if (fc->rte_mem)
		rte_free(p);
	else
		free(p);
}

void
psw_flow_cache_free(struct psw_flow_cache *fc)
{
	if (!fc)
		return;
	cache_mem_free(fc, fc->meta);
	free(fc);
}

struct psw_flow_cache *
psw_flow_cache_create(unsigned entries, unsigned insert_inv_prob, int socket)
{
	struct psw_flow_cache *fc;
	size_t meta_bytes = sizeof(struct slot) * entries;

	if (entries < WAYS || !rte_is_power_of_2(entries) || entries > (1u << 26) ||
	    insert_inv_prob == 0) {
		errno = EINVAL;
		return NULL;
	}
	fc = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(sizeof(*fc), RTE_CACHE_LINE_SIZE));
	if (!fc) {
		errno = ENOMEM;
		return NULL;
	}
	memset(fc, 0, sizeof(*fc));
	fc->entries = entries;
	fc->bucket_mask = entries / WAYS - 1;
	fc->insert_inv_prob = insert_inv_prob;
	fc->rng = 0x6d2b79f5u ^ entries;
	/* one block: the meta array, then the keys on a cache-line boundary */
	meta_bytes = RTE_ALIGN_CEIL(meta_bytes, RTE_CACHE_LINE_SIZE);
	fc->bytes = meta_bytes + sizeof(struct psw_flow_key) * entries;
	fc->meta = cache_mem(fc, fc->bytes, socket);
	if (!fc->meta) {
		free(fc);
		errno = ENOMEM;
		return NULL;
	}
	fc->keys = (struct psw_flow_key *)((char *)fc->meta + meta_bytes);
	fc->bytes += sizeof(*fc);
	return fc;
}

void
psw_flow_cache_clear(struct psw_flow_cache *fc)
{
	memset(fc->meta, 0, sizeof(*fc->meta) * fc->entries);
}

/* Empty the cache if a generation left the window its slots can tell apart. */
static inline void
check_epoch(struct psw_flow_cache *fc, uint64_t gen, uint64_t fgen)
{
	if (unlikely((gen >> EPOCH_SHIFT) != fc->epoch || (fgen >> EPOCH_SHIFT) != fc->fepoch)) {
		psw_flow_cache_clear(fc);
		fc->epoch = gen >> EPOCH_SHIFT;
		fc->fepoch = fgen >> EPOCH_SHIFT;
	}
}

static inline bool
slot_live(const struct slot *s, uint32_t hash, uint16_t gen)
{
	return s->hash == hash && s->gen == gen && s->res != NULL;
}

/* The result of a slot whose key matched, if its rule still stands for it: surely so if
 * no rule changed since it was cached (the rule generation is the same), else as its
 * result says (result.h). */
static inline const struct psw_flow_result *
slot_result(const struct psw_flow_cache *fc, const struct slot *s, uint16_t fgen)
{
	if (likely(s->fgen == fgen) ||
	    psw_flow_result_usable(s->res, fc->fepoch << EPOCH_SHIFT | s->fgen))
		return s->res;
	return NULL;
}

uint16_t
psw_flow_cache_lookup_burst(struct psw_flow_cache *fc, const struct psw_flow_key *keys,
			    const uint32_t *hashes, uint16_t n, uint64_t gen, uint64_t fgen,
			    const struct psw_flow_result **out)
{
	uint32_t idx[PSW_BURST];
	uint16_t g = (uint16_t)gen, fg = (uint16_t)fgen, hits = 0, i, base, c;

	check_epoch(fc, gen, fgen);
	for (base = 0; base < n; base += c) {
		c = RTE_MIN(n - base, PSW_BURST);

		for (i = 0; i < c; i++)
			rte_prefetch0(&fc->meta[(hashes[base + i] & fc->bucket_mask) * WAYS]);

		for (i = 0; i < c; i++) {
			uint32_t h = hashes[base + i];
			uint32_t b = (h & fc->bucket_mask) * WAYS;
			const struct slot *s = &fc->meta[b];

			if (slot_live(&s[0], h, g))
				idx[i] = b;
			else if (slot_live(&s[1], h, g))
				idx[i] = b + 1;
			else {
				idx[i] = UINT32_MAX;
				continue;
			}
			rte_prefetch0(&fc->keys[idx[i]]);
		}

		for (i = 0; i < c; i++) {
			const struct psw_flow_key *k = &keys[base + i];
			uint32_t x = idx[i];

			out[base + i] = NULL;
			if (x == UINT32_MAX)
				continue;
			if (likely(psw_flow_key_equal(&fc->keys[x], k))) {
				out[base + i] = slot_result(fc, &fc->meta[x], fg);
				hits += out[base + i] != NULL;
				continue;
			}
			/* a hash collision in way 0: the key may still sit in way 1 */
			if ((x & 1) == 0 && slot_live(&fc->meta[x + 1], hashes[base + i], g) &&
			    psw_flow_key_equal(&fc->keys[x + 1], k)) {
				out[base + i] = slot_result(fc, &fc->meta[x + 1], fg);
				hits += out[base + i] != NULL;
			}
		}
	}
	fc->stats.hits += hits;
	fc->stats.misses += n - hits;
	return hits;
}

void
psw_flow_cache_insert(struct psw_flow_cache *fc, const struct psw_flow_key *key, uint32_t hash,
		      uint64_t gen, uint64_t fgen, const struct psw_flow_result *res)
{
	uint32_t b = (hash & fc->bucket_mask) * WAYS, w;
	uint16_t g = (uint16_t)gen;
	struct slot *s = &fc->meta[b];

	check_epoch(fc, gen, fgen);
	if (fc->insert_inv_prob > 1 &&
	    ((uint64_t)xorshift32(&fc->rng) * fc->insert_inv_prob) >> 32 != 0)
		return;
	/* the same key already here (live or stale): overwrite it in place */
	for (w = 0; w < WAYS; w++)
		if (s[w].res && s[w].hash == hash && psw_flow_key_equal(&fc->keys[b + w], key))
			goto put;
	for (w = 0; w < WAYS; w++)
		if (!s[w].res || s[w].gen != g)
			goto put;
	w = xorshift32(&fc->rng) & (WAYS - 1);
	fc->stats.evictions++;
put:
	fc->keys[b + w] = *key;
	s[w].hash = hash;
	s[w].gen = g;
	s[w].fgen = (uint16_t)fgen;
	s[w].res = res;
	fc->stats.inserts++;
}

void
psw_flow_cache_read_stats(const struct psw_flow_cache *fc, struct psw_flow_cache_stats *s)
{
	s->hits = __atomic_load_n(&fc->stats.hits, __ATOMIC_RELAXED);
	s->misses = __atomic_load_n(&fc->stats.misses, __ATOMIC_RELAXED);
	s->inserts = __atomic_load_n(&fc->stats.inserts, __ATOMIC_RELAXED);
	s->evictions = __atomic_load_n(&fc->stats.evictions, __ATOMIC_RELAXED);
}

unsigned
psw_flow_cache_entries(const struct psw_flow_cache *fc)
{
	return fc->entries;
}

/* Cache insertion throttle. When most lookups miss (more live flows than cache entries),
 * inserting every miss only evicts entries that would have hit and costs a cache-line
 * write per packet: then only 1 miss in THROTTLE_INV is inserted (OVS does this always,
 * emc-insert-inv-prob 100). Measured per window of WINDOW lookups. */
#define WINDOW        8192u
#define THROTTLE_INV  32u

/* Masked cache keys (the view's cache_mask) cost a pass over the keys and the device's
 * hash (measured with one rule on nw_dst: 77 -> 93 cycles/packet at 1 flow), and pay
 * where whole keys miss (156 -> 121 at 100,000 flows: the cache hits 100% instead of
 * 6%). So they are switched on after a window in which most lookups missed, and off
 * again after MASK_WINDOWS windows to see whether whole keys hit now. */
#define MASK_WINDOWS 64u

static inline void
throttle_update(struct psw_dp_ctx *ctx, uint16_t n, uint16_t hits)
{
	ctx->win_lookups += n;
	ctx->win_misses += n - hits;
	if (unlikely(ctx->win_lookups >= WINDOW)) {
		bool missing = ctx->win_misses * 4 > ctx->win_lookups * 3;

		ctx->ins_mask = missing ? THROTTLE_INV - 1 : 0;
		if (!ctx->mask_on && missing) {
			ctx->mask_on = 1;
			ctx->mask_windows = 0;
		} else if (ctx->mask_on && ++ctx->mask_windows >= MASK_WINDOWS) {
			ctx->mask_on = 0;
		}
		ctx->win_lookups = ctx->win_misses = 0;
	}
}

void
psw_flow_cache_burst(struct psw_pmd *pmd, struct psw_burst *b)
{
	struct psw_dp_ctx *ctx = pmd->ctx;
	uint16_t hits;

	/* The rule generation before the classifier is read (classify.c): what this burst
	 * caches is tagged with it (result.h). */
	ctx->fgen = __atomic_load_n(&psw_flow_gen, __ATOMIC_ACQUIRE);

	hits = psw_flow_cache_lookup_burst(ctx->cache, b->keys, b->hashes, b->n, b->gen, ctx->fgen,
					   b->res);
	throttle_update(ctx, b->n, hits);
	for (uint16_t i = 0; i < b->n; i++)
		b->hit[i] = b->res[i] != NULL;
	if (psw_tracing(pmd))
		for (uint16_t i = 0; i < b->n; i++)
			if (b->hit[i])
				psw_trace_add(pmd->trace, PSW_TR_CACHE_HIT, b->in_port, b->res[i],
					      NULL, 0);
}
