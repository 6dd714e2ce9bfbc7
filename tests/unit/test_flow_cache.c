/*
 * test_flow_cache.c: the per-PMD exact-match cache (switch/flow_cache.c): hits and misses
 * with their counters, invalidation by generation and by rule changes (a preempted or
 * deleted rule's entries only), two keys under one hash, replacement
 * (stale before live, evictions counted, never a wrong result), the insert probability,
 * and bursts of 0, 1, 3, 4, 5, 32 and 33. No EAL needed (plain memory).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "datapath/flow_cache.h"
#include "flow/result.h"

static struct psw_flow_result results[4096];

/* Results as a rule's: their own rule_res, usable from rule generation 0 on. */
static const struct psw_flow_result *
res(unsigned i)
{
	results[i].rule_res = &results[i];
	return &results[i];
}

static struct psw_flow_key
key(uint32_t i)
{
	struct psw_flow_key k;

	memset(&k, 0, sizeof(k));
	k.in_port = i & 0xff;
	k.dl_type = RTE_BE16(0x0800);
	k.nw_src = rte_cpu_to_be_32(0x0a000000 | i);
	k.nw_dst = RTE_BE32(0x0a000001);
	k.nw_proto = 17;
	return k;
}

static const struct psw_flow_result *
lookup1(struct psw_flow_cache *fc, const struct psw_flow_key *k, uint32_t h, uint64_t gen)
{
	const struct psw_flow_result *out = res(4095);
	uint16_t hits = psw_flow_cache_lookup_burst(fc, k, &h, 1, gen, 0, &out);

	assert_int_equal(hits, out != NULL);
	return out;
}

static void
test_create_args(void **state)
{
	struct psw_flow_cache *fc;
	static const unsigned bad[] = { 0, 1, 3, 1000, 1u << 27 };
	unsigned i;

	(void)state;
	for (i = 0; i < RTE_DIM(bad); i++) {
		errno = 0;
		assert_null(psw_flow_cache_create(bad[i], 1, SOCKET_ID_ANY));
		assert_int_equal(errno, EINVAL);
	}
	assert_null(psw_flow_cache_create(1024, 0, SOCKET_ID_ANY));
	fc = psw_flow_cache_create(1024, 1, SOCKET_ID_ANY);
	assert_non_null(fc);
	assert_int_equal(psw_flow_cache_entries(fc), 1024);
	psw_flow_cache_free(fc);
	psw_flow_cache_free(NULL);
}

static void
test_hit_miss_generation(void **state)
{
	struct psw_flow_cache *fc = psw_flow_cache_create(64, 1, SOCKET_ID_ANY);
	struct psw_flow_cache_stats s;
	struct psw_flow_key a = key(1), b = key(2);
	uint32_t ha = psw_flow_key_hash(&a), hb = psw_flow_key_hash(&b);

	(void)state;
	assert_non_null(fc);
	assert_null(lookup1(fc, &a, ha, 1));                /* empty */
	psw_flow_cache_insert(fc, &a, ha, 1, 0, res(1));
	assert_ptr_equal(lookup1(fc, &a, ha, 1), res(1));
	assert_null(lookup1(fc, &b, hb, 1));
	/* the same key under another hash is not found: the hash is part of the key */
	assert_null(lookup1(fc, &a, ha ^ 0x80000000, 1));
	/* a key differing in one byte, under a's hash */
	b = a;
	b.tp_dst = 1;
	assert_null(lookup1(fc, &b, ha, 1));

	/* a new generation: a's entry is stale */
	assert_null(lookup1(fc, &a, ha, 2));
	psw_flow_cache_insert(fc, &a, ha, 2, 0, res(2));
	assert_ptr_equal(lookup1(fc, &a, ha, 2), res(2));
	assert_null(lookup1(fc, &a, ha, 1));                /* and the old one is gone */

	psw_flow_cache_read_stats(fc, &s);
	assert_int_equal(s.hits, 2);
	assert_int_equal(s.misses, 6);
	assert_int_equal(s.inserts, 2);
	assert_int_equal(s.evictions, 0);

	psw_flow_cache_clear(fc);
	assert_null(lookup1(fc, &a, ha, 2));

	/* 2^16 generations later the low bits are equal again: still a miss */
	psw_flow_cache_insert(fc, &a, ha, 2, 0, res(3));
	assert_ptr_equal(lookup1(fc, &a, ha, 2), res(3));
	assert_null(lookup1(fc, &a, ha, 2 + (UINT64_C(1) << 32)));
	psw_flow_cache_insert(fc, &a, ha, 3 + (UINT64_C(1) << 32), 0, res(4));
	assert_ptr_equal(lookup1(fc, &a, ha, 3 + (UINT64_C(1) << 32)), res(4));
	psw_flow_cache_free(fc);
}

/* Rule changes (flow/result.h): an entry made in an older rule generation is good only
 * while its result says so: a preempted or deleted rule misses, an entry of another rule
 * does not; an L2 result checks its NORMAL rule's result; 65,536 rule generations later
 * the cache starts afresh. */
static void
test_rule_generation(void **state)
{
	struct psw_flow_cache *fc = psw_flow_cache_create(64, 1, SOCKET_ID_ANY);
	struct psw_flow_key a = key(1), b = key(2), c = key(3);
	uint32_t ha = psw_flow_key_hash(&a), hb = psw_flow_key_hash(&b), hc = psw_flow_key_hash(&c);
	struct psw_flow_result *ra = (struct psw_flow_result *)res(20);
	struct psw_flow_result *rb = (struct psw_flow_result *)res(21);
	struct psw_flow_result l2;
	const struct psw_flow_result *out;
	uint64_t fgen = 5;

	(void)state;
	ra->valid_from = rb->valid_from = 5;
	psw_flow_cache_insert(fc, &a, ha, 1, fgen, ra);
	psw_flow_cache_insert(fc, &b, hb, 1, fgen, rb);
#define LOOK(k, h) (out = NULL, psw_flow_cache_lookup_burst(fc, &(k), &(h), 1, 1, fgen, &out), out)
	assert_ptr_equal(LOOK(a, ha), ra);
	assert_ptr_equal(LOOK(b, hb), rb);
	/* a better rule came for a's flows at rule generation 6: a misses, b still hits */
	fgen = 6;
	ra->valid_from = 6;
	assert_null(LOOK(a, ha));
	assert_ptr_equal(LOOK(b, hb), rb);
	/* cached again in generation 6: good */
	psw_flow_cache_insert(fc, &a, ha, 1, fgen, ra);
	assert_ptr_equal(LOOK(a, ha), ra);
	/* a's rule deleted at generation 7: dead; b untouched */
	fgen = 7;
	ra->valid_from = PSW_RESULT_DEAD;
	assert_null(LOOK(a, ha));
	assert_ptr_equal(LOOK(b, hb), rb);
	/* an L2 result made for b's (NORMAL) rule: good while b's rule is */
	memset(&l2, 0, sizeof(l2));
	l2.kind = PSW_RES_L2;
	l2.rule_res = rb;
	l2.valid_from = PSW_RESULT_DEAD;          /* its own is never looked at */
	psw_flow_cache_insert(fc, &c, hc, 1, fgen, &l2);
	fgen = 8;
	assert_ptr_equal(LOOK(c, hc), &l2);
	rb->valid_from = 8;
	assert_null(LOOK(c, hc));
	assert_null(LOOK(b, hb));
	/* 65,536 rule generations later the stamps would wrap: the cache empties itself */
	rb->valid_from = 0;
	psw_flow_cache_insert(fc, &b, hb, 1, fgen, rb);
	assert_ptr_equal(LOOK(b, hb), rb);
	fgen += 65536;
	assert_null(LOOK(b, hb));
#undef LOOK
	psw_flow_cache_free(fc);
}

static void
test_replacement(void **state)
{
	struct psw_flow_cache *fc = psw_flow_cache_create(16, 1, SOCKET_ID_ANY);
	struct psw_flow_cache_stats s;
	struct psw_flow_key k[3] = { key(10), key(11), key(12) };
	const uint32_t h = 0x1234;  /* one hash for all: one bucket */
	unsigned i, found;

	(void)state;
	assert_non_null(fc);
	/* two keys with one hash share the bucket's two ways */
	psw_flow_cache_insert(fc, &k[0], h, 1, 0, res(0));
	psw_flow_cache_insert(fc, &k[1], h, 1, 0, res(1));
	assert_ptr_equal(lookup1(fc, &k[0], h, 1), res(0));
	assert_ptr_equal(lookup1(fc, &k[1], h, 1), res(1));
	/* re-inserting a present key overwrites it in place */
	psw_flow_cache_insert(fc, &k[0], h, 1, 0, res(5));
	assert_ptr_equal(lookup1(fc, &k[0], h, 1), res(5));
	assert_ptr_equal(lookup1(fc, &k[1], h, 1), res(1));
	psw_flow_cache_read_stats(fc, &s);
	assert_int_equal(s.evictions, 0);

	/* a third: one of the two goes, the others answer right or miss, never wrongly */
	psw_flow_cache_insert(fc, &k[2], h, 1, 0, res(2));
	psw_flow_cache_read_stats(fc, &s);
	assert_int_equal(s.evictions, 1);
	assert_ptr_equal(lookup1(fc, &k[2], h, 1), res(2));
	found = 0;
	for (i = 0; i < 2; i++) {
		const struct psw_flow_result *r = lookup1(fc, &k[i], h, 1);

		if (r) {
			assert_ptr_equal(r, i == 0 ? res(5) : res(1));
			found++;
		}
	}
	assert_int_equal(found, 1);

	/* stale before live: in generation 2 one way is refreshed, a new key takes the other */
	psw_flow_cache_clear(fc);
	psw_flow_cache_insert(fc, &k[0], h, 1, 0, res(0));
	psw_flow_cache_insert(fc, &k[1], h, 1, 0, res(1));
	psw_flow_cache_insert(fc, &k[1], h, 2, 0, res(1));
	psw_flow_cache_insert(fc, &k[2], h, 2, 0, res(2));
	assert_ptr_equal(lookup1(fc, &k[1], h, 2), res(1));
	assert_ptr_equal(lookup1(fc, &k[2], h, 2), res(2));
	psw_flow_cache_read_stats(fc, &s);
	assert_int_equal(s.evictions, 1);                   /* unchanged */
	psw_flow_cache_free(fc);
}

/* A cache as big as the working set keeps most of it; random replacement is not LRU. */
static void
test_fill(void **state)
{
	enum { N = 1024 };
	struct psw_flow_cache *fc = psw_flow_cache_create(N, 1, SOCKET_ID_ANY);
	unsigned i, hits = 0;

	(void)state;
	for (i = 0; i < N / 2; i++) {
		struct psw_flow_key k = key(i);

		psw_flow_cache_insert(fc, &k, psw_flow_key_hash(&k), 7, 0, res(i));
	}
	for (i = 0; i < N / 2; i++) {
		struct psw_flow_key k = key(i);
		const struct psw_flow_result *r = lookup1(fc, &k, psw_flow_key_hash(&k), 7);

		if (r) {
			assert_ptr_equal(r, res(i));
			hits++;
		}
	}
	/* at half load a 2-way cache holds well over 80% of the keys */
	assert_true(hits > N / 2 * 8 / 10);
	psw_flow_cache_free(fc);
}

static void
test_insert_probability(void **state)
{
	struct psw_flow_cache *fc = psw_flow_cache_create(1 << 14, 4, SOCKET_ID_ANY);
	struct psw_flow_cache_stats s;
	unsigned i;

	(void)state;
	for (i = 0; i < 4000; i++) {
		struct psw_flow_key k = key(i);

		psw_flow_cache_insert(fc, &k, psw_flow_key_hash(&k), 1, 0, res(i));
	}
	psw_flow_cache_read_stats(fc, &s);
	assert_true(s.inserts > 800 && s.inserts < 1200);
	psw_flow_cache_free(fc);
}

static void
run_burst(struct psw_flow_cache *fc, uint16_t n)
{
	struct psw_flow_key keys[40];
	uint32_t hashes[40];
	const struct psw_flow_result *out[40];
	struct psw_flow_cache_stats before, after;
	uint16_t i, hits, want = 0;

	psw_flow_cache_read_stats(fc, &before);
	for (i = 0; i < 40; i++) {
		keys[i] = key(100 + i);
		hashes[i] = psw_flow_key_hash(&keys[i]);
		out[i] = res(4094);
	}
	/* even-numbered packets were seen before */
	for (i = 0; i < n; i++)
		if (i % 2 == 0)
			psw_flow_cache_insert(fc, &keys[i], hashes[i], 3, 0, res(i));
	hits = psw_flow_cache_lookup_burst(fc, keys, hashes, n, 3, 0, out);
	for (i = 0; i < 40; i++) {
		if (i >= n) {
			assert_ptr_equal(out[i], res(4094));
		} else if (i % 2 == 0) {
			assert_ptr_equal(out[i], res(i));
			want++;
		} else {
			assert_null(out[i]);
		}
	}
	assert_int_equal(hits, want);
	psw_flow_cache_read_stats(fc, &after);
	assert_int_equal(after.hits - before.hits, want);
	assert_int_equal(after.misses - before.misses, n - want);
	psw_flow_cache_clear(fc);
}

static void
test_bursts(void **state)
{
	static const uint16_t sizes[] = { 0, 1, 3, 4, 5, 32, 33, 40 };
	struct psw_flow_cache *fc = psw_flow_cache_create(4096, 1, SOCKET_ID_ANY);
	unsigned i;

	(void)state;
	for (i = 0; i < RTE_DIM(sizes); i++)
		run_burst(fc, sizes[i]);
	psw_flow_cache_free(fc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_args),
		cmocka_unit_test(test_hit_miss_generation),
		cmocka_unit_test(test_rule_generation),
		cmocka_unit_test(test_replacement),
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_insert_probability),
		cmocka_unit_test(test_bursts),
	};

	return cmocka_run_group_tests_name("flow_cache", tests, NULL, NULL);
}
