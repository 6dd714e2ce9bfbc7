/*
 * flow_cache.h: the per-PMD exact-match cache (EMC) in front of the classifier
 * (pipeline.c: parse -> flow_cache -> classify). Keyed by the whole flow key and its hash;
 * the value is a resolved result (struct psw_flow_result, flow/result.h) tagged with the
 * generation and the rule generation it was made in: an entry whose generation is not
 * the current psw_generation is a miss, so one generation bump invalidates every cache
 * at once without touching it; an entry whose result's rule was deleted or preempted
 * since its rule generation is a miss too (result.h), and rule changes touch nothing else.
 *
 * Only its own PMD touches a cache: no atomics, no locks. Two-way set associative:
 * a key may live in either slot of its bucket; an insert takes an empty or stale slot,
 * else evicts one of the two by a cheap rotating choice.
 *
 * Generation discipline for the caller: read psw_generation (acquire) BEFORE reading the
 * table pointers the result is computed from, and psw_flow_gen (acquire) before looking
 * rules up, and insert with those values. psw_publish() stores the new table before it
 * bumps the generation, and the flow table stores psw_flow_gen after its rules are in,
 * so a result tagged with generation g was computed from tables at least as new as g.
 */
#ifndef PSW_DATAPATH_FLOW_CACHE_H
#define PSW_DATAPATH_FLOW_CACHE_H

#include <stdint.h>

#include "core/burst.h"
#include "core/key.h"

struct psw_flow_result;
struct psw_flow_cache;

struct psw_flow_cache_stats {
	uint64_t hits;
	uint64_t misses;
	uint64_t inserts;
	uint64_t evictions;       /* inserts that replaced a live entry */
};

/* Control thread, before the PMD uses it. entries: a power of two >= 2 (EINVAL
 * otherwise); insert_inv_prob: insert 1 of every N misses (1 = always; OVS's
 * emc-insert-inv-prob, default 100 there), which keeps a cache that cannot hold the
 * working set from being rewritten on every packet. socket: NUMA node or SOCKET_ID_ANY.
 * NULL and errno on failure. */
struct psw_flow_cache *psw_flow_cache_create(unsigned entries, unsigned insert_inv_prob,
					     int socket);
void psw_flow_cache_free(struct psw_flow_cache *fc);

/* PMD. out[i] = cached result or NULL for a miss. gen, fgen = psw_generation and
 * psw_flow_gen read at the start of the burst. Returns the number of hits; counts hits and
 * misses. A hit cached in an older rule generation checks its result (result.h:
 * psw_flow_result_usable). */
uint16_t psw_flow_cache_lookup_burst(struct psw_flow_cache *fc, const struct psw_flow_key *keys,
				     const uint32_t *hashes, uint16_t n, uint64_t gen,
				     uint64_t fgen, const struct psw_flow_result **out);
/* PMD: remember res for key (subject to insert_inv_prob), made in generation gen and rule
 * generation fgen. */
void psw_flow_cache_insert(struct psw_flow_cache *fc, const struct psw_flow_key *key,
			   uint32_t hash, uint64_t gen, uint64_t fgen,
			   const struct psw_flow_result *res);
/* PMD: forget everything (e.g. a test or a flush). */
void psw_flow_cache_clear(struct psw_flow_cache *fc);

/* Any thread: counters (a snapshot; the control thread may read while the PMD writes,
 * aligned 64-bit loads are whole on x86-64). */
void psw_flow_cache_read_stats(const struct psw_flow_cache *fc, struct psw_flow_cache_stats *s);
unsigned psw_flow_cache_entries(const struct psw_flow_cache *fc);

/* The stage: read the rule generation (ctx->fgen, for this burst's inserts), look the
 * burst's keys up (b->res, b->hit), and steer the cache: when most lookups of a window
 * miss (more live flows than entries), insert only 1 miss in 32 and key the cache on the
 * view's mask (parse.c) for a while. */
void psw_flow_cache_burst(struct psw_pmd *pmd, struct psw_burst *b);

#endif
