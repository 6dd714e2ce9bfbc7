/*
 * test_classifier.c: the tuple-space classifier (switch/classifier.c) against a brute-force
 * reference (psw_classifier_reference: a linear scan with psw_rule_better), on thousands
 * of randomized rule sets whose masks, values and priorities overlap on purpose (small
 * value domains, random prefix lengths, few priority levels, repeated seqs); then targeted
 * cases a user would write (priority override, prefixes, IPv6, in_port, tun_id), the
 * prerequisite check, and the per-PMD rule counters. No EAL needed. The classifier changed
 * in place: test_classifier_churn.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <cmocka.h>

#include "flow/classifier.h"
#include "classifier_gen.h"

/* ---- property test --------------------------------------------------------------------- */

#define N_SETS    3000
#define MAX_RULES 80
#define N_PKTS    64

static void
test_random_vs_reference(void **state)
{
	static struct psw_rule rules[MAX_RULES];
	const struct psw_rule *ptrs[MAX_RULES], *out[N_PKTS], *want;
	struct psw_flow_key keys[N_PKTS];
	unsigned set, i, n, matched = 0, compared = 0, multi_masks = 0;

	(void)state;
	for (set = 0; set < N_SETS; set++) {
		struct psw_classifier *cls;
		struct psw_classifier_info info;
		uint16_t hits, nb;

		n = rnd_below(MAX_RULES + 1);
		for (i = 0; i < n; i++) {
			/* seqs mostly increasing, sometimes repeated: full ties happen */
			random_rule(&rules[i], rnd_below(4) == 0 ? rnd_below(n + 1) : i);
			ptrs[i] = &rules[i];
		}
		cls = psw_classifier_build(ptrs, n);
		assert_non_null(cls);
		psw_classifier_info(cls, &info);
		assert_int_equal(info.n_rules + info.n_shadowed, n);
		multi_masks += info.n_subtables > 1;

		for (i = 0; i < N_PKTS; i++) {
			if (n && rnd_below(4))
				key_near_rule(&keys[i], &rules[rnd_below(n)]);
			else
				random_key(&keys[i]);
		}
		nb = rnd_below(N_PKTS + 1);
		hits = psw_classifier_lookup_burst(cls, keys, nb, out);
		for (i = 0; i < N_PKTS; i++) {
			const struct psw_rule *got = psw_classifier_lookup(cls, &keys[i]);

			want = psw_classifier_reference(ptrs, n, &keys[i]);
			if (got != want)
				fail_msg("set %u rule count %u packet %u: classifier %s, reference %s",
					 set, n, i, describe(got), describe(want));
			if (i < nb) {
				assert_ptr_equal(out[i], want);
				hits -= want != NULL;
			}
			matched += want != NULL;
			compared++;
		}
		assert_int_equal(hits, 0);
		psw_classifier_free(cls);
	}
	/* the generator must exercise what it claims to */
	assert_true(matched > compared / 4);
	assert_true(matched < compared);
	assert_true(multi_masks > N_SETS / 2);
}

/* ---- targeted cases -------------------------------------------------------------------- */

static uint16_t
out_port(const struct psw_classifier *cls, const struct psw_flow_key *k)
{
	const struct psw_rule *r = psw_classifier_lookup(cls, k);
	const struct psw_rule *b;

	psw_classifier_lookup_burst(cls, k, 1, &b);
	assert_ptr_equal(r, b);
	return r ? r->actions[0].port : PSW_PORT_NONE;
}

static void
test_priority_and_prefixes(void **state)
{
	struct psw_rule r[5];
	const struct psw_rule *p[5] = { &r[0], &r[1], &r[2], &r[3], &r[4] };
	struct psw_classifier *cls;
	struct psw_flow_key k;

	(void)state;
	rule_init(&r[0], 0, 0, 1);                      /* catch-all */
	rule_init(&r[1], 100, 1, 2);
	match_nw_dst(&r[1], 0x0a010000, 16);            /* 10.1/16 */
	rule_init(&r[2], 200, 2, 3);
	match_nw_dst(&r[2], 0x0a010200, 24);            /* 10.1.2/24 */
	rule_init(&r[3], 50, 3, 4);
	match_nw_dst(&r[3], 0x0a010203, 32);            /* 10.1.2.3/32, but low priority */
	rule_init(&r[4], 100, 4, 5);                    /* in_port 7 at priority 100 */
	r[4].match.key.in_port = 7;
	r[4].match.mask.in_port = 0xffff;

	cls = psw_classifier_build(p, 5);
	assert_non_null(cls);
	k = ip_pkt(0, 1, 0x0b000001);
	assert_int_equal(out_port(cls, &k), 1);
	k = ip_pkt(0, 1, 0x0a01ff01);
	assert_int_equal(out_port(cls, &k), 2);
	k = ip_pkt(0, 1, 0x0a010201);
	assert_int_equal(out_port(cls, &k), 3);
	k = ip_pkt(0, 1, 0x0a010203);                   /* the /32 loses on priority */
	assert_int_equal(out_port(cls, &k), 3);
	k = ip_pkt(7, 1, 0x0b000001);
	assert_int_equal(out_port(cls, &k), 5);
	/* in_port 7 and 10.1/16, both priority 100: the one added first (seq 1) wins */
	k = ip_pkt(7, 1, 0x0a01ff01);
	assert_int_equal(out_port(cls, &k), 2);
	psw_classifier_free(cls);

	/* the same rules given in another order: the same answers (seq decides, not order) */
	p[0] = &r[4]; p[1] = &r[2]; p[2] = &r[0]; p[3] = &r[3]; p[4] = &r[1];
	cls = psw_classifier_build(p, 5);
	k = ip_pkt(7, 1, 0x0a01ff01);
	assert_int_equal(out_port(cls, &k), 2);
	k = ip_pkt(0, 1, 0x0a010203);
	assert_int_equal(out_port(cls, &k), 3);
	psw_classifier_free(cls);

	/* with a later seq the in_port rule loses the tie */
	r[4].seq = 0;
	r[0].seq = 9;
	cls = psw_classifier_build(p, 5);
	k = ip_pkt(7, 1, 0x0a01ff01);
	assert_int_equal(out_port(cls, &k), 5);
	psw_classifier_free(cls);
}

static void
test_ipv6_tun_id_and_ports(void **state)
{
	struct psw_rule r[4];
	const struct psw_rule *p[4] = { &r[0], &r[1], &r[2], &r[3] };
	struct psw_classifier *cls;
	struct psw_flow_key k;
	static const uint8_t net[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 };

	(void)state;
	rule_init(&r[0], 10, 0, 1);                     /* ipv6,ipv6_dst=2001:db8:1::/48 */
	r[0].match.key.dl_type = RTE_BE16(0x86dd);
	r[0].match.mask.dl_type = 0xffff;
	memcpy(r[0].match.key.ipv6_dst, net, 16);
	psw_prefix_mask128(r[0].match.mask.ipv6_dst, 48);
	rule_init(&r[1], 20, 1, 2);                     /* tun_id=5000 */
	r[1].match.key.tun_id = 5000;
	r[1].match.mask.tun_id = UINT32_MAX;
	rule_init(&r[2], 30, 2, 3);                     /* ipv6,udp,tp_dst=53 */
	r[2].match.key.dl_type = RTE_BE16(0x86dd);
	r[2].match.mask.dl_type = 0xffff;
	r[2].match.key.nw_proto = 17;
	r[2].match.mask.nw_proto = 0xff;
	r[2].match.key.tp_dst = RTE_BE16(53);
	r[2].match.mask.tp_dst = 0xffff;
	rule_init(&r[3], 5, 3, 4);                      /* ip (v4) catch-all */
	match_ip(&r[3]);

	cls = psw_classifier_build(p, 4);
	assert_non_null(cls);
	memset(&k, 0, sizeof(k));
	k.dl_type = RTE_BE16(0x86dd);
	memcpy(k.ipv6_dst, net, 16);
	k.ipv6_dst[15] = 9;
	k.nw_proto = 6;
	assert_int_equal(out_port(cls, &k), 1);
	k.ipv6_dst[5] = 2;                              /* 2001:db8:2::9: outside /48 */
	assert_int_equal(out_port(cls, &k), PSW_PORT_NONE);
	k.tun_id = 5000;
	assert_int_equal(out_port(cls, &k), 2);
	k.nw_proto = 17;
	k.tp_dst = RTE_BE16(53);
	assert_int_equal(out_port(cls, &k), 3);
	/* IPv4 whose first address bytes equal the IPv6 prefix: dl_type keeps them apart */
	memset(&k, 0, sizeof(k));
	k.dl_type = RTE_BE16(0x0800);
	memcpy(k.ipv6_dst, net, 4);
	assert_int_equal(out_port(cls, &k), 4);
	psw_classifier_free(cls);
}

static void
test_shadowed_and_empty(void **state)
{
	struct psw_rule r[3];
	const struct psw_rule *p[3] = { &r[0], &r[1], &r[2] };
	struct psw_classifier *cls;
	struct psw_classifier_info info;
	struct psw_flow_key k = ip_pkt(0, 1, 0x0a010203);
	const struct psw_rule *out[3] = { &r[0], &r[0], &r[0] };

	(void)state;
	rule_init(&r[0], 10, 5, 1);
	match_nw_dst(&r[0], 0x0a010000, 16);
	rule_init(&r[1], 10, 3, 2);                     /* same match, added earlier */
	match_nw_dst(&r[1], 0x0a01ffff, 16);            /* differs only in wildcarded bits */
	rule_init(&r[2], 9, 1, 3);
	match_nw_dst(&r[2], 0x0a010000, 16);
	cls = psw_classifier_build(p, 3);
	psw_classifier_info(cls, &info);
	assert_int_equal(info.n_rules, 1);
	assert_int_equal(info.n_shadowed, 2);
	assert_int_equal(info.n_subtables, 1);
	assert_int_equal(out_port(cls, &k), 2);
	psw_classifier_free(cls);

	cls = psw_classifier_build(NULL, 0);
	assert_non_null(cls);
	assert_null(psw_classifier_lookup(cls, &k));
	assert_int_equal(psw_classifier_lookup_burst(cls, &k, 1, out), 0);
	assert_null(out[0]);
	psw_classifier_free(cls);

	p[1] = NULL;
	errno = 0;
	assert_null(psw_classifier_build(p, 3));
	assert_int_equal(errno, EINVAL);
	psw_classifier_free(NULL);
}

/* Bursts of every awkward size against single lookups, with many masks. */
static void
test_burst_sizes(void **state)
{
	enum { NR = 500, NK = 100 };
	static struct psw_rule rules[NR];
	static const struct psw_rule *ptrs[NR], *out[NK];
	static struct psw_flow_key keys[NK];
	static const uint16_t sizes[] = { 0, 1, 3, 4, 5, 31, 32, 33, 64, 100 };
	struct psw_classifier *cls;
	unsigned i, s;

	(void)state;
	for (i = 0; i < NR; i++) {
		random_rule(&rules[i], i);
		ptrs[i] = &rules[i];
	}
	cls = psw_classifier_build(ptrs, NR);
	assert_non_null(cls);
	for (i = 0; i < NK; i++)
		key_near_rule(&keys[i], &rules[rnd_below(NR)]);
	for (s = 0; s < RTE_DIM(sizes); s++) {
		for (i = 0; i < NK; i++)
			out[i] = (const void *)&out;   /* poison */
		psw_classifier_lookup_burst(cls, keys, sizes[s], out);
		for (i = 0; i < NK; i++) {
			if (i < sizes[s])
				assert_ptr_equal(out[i], psw_classifier_reference(ptrs, NR, &keys[i]));
			else
				assert_ptr_equal(out[i], (const void *)&out);
		}
	}
	psw_classifier_free(cls);
}

/* 10,000 rules over 20 masks build fast and answer like the reference. */
static void
test_build_10k(void **state)
{
	enum { NR = 10000 };
	struct psw_rule *rules = calloc(NR, sizeof(*rules));
	const struct psw_rule **ptrs = calloc(NR, sizeof(*ptrs));
	struct psw_classifier *cls;
	struct psw_classifier_info info;
	struct timespec t0, t1;
	double ms;
	unsigned i;

	(void)state;
	assert_non_null(rules);
	assert_non_null(ptrs);
	for (i = 0; i < NR; i++) {
		rule_init(&rules[i], rnd_below(1000), i, i & 0xff);
		match_nw_dst(&rules[i], 0x0a000000 | rnd(), 12 + i % 20);
		rules[i].match.key.in_port = i % 7;
		rules[i].match.mask.in_port = 0xffff;
		ptrs[i] = &rules[i];
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cls = psw_classifier_build(ptrs, NR);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_non_null(cls);
	ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	psw_classifier_info(cls, &info);
	print_message("# build of %u rules: %.2f ms, %u subtables, %u shadowed, %zu KB\n",
		      NR, ms, info.n_subtables, info.n_shadowed, info.bytes / 1024);
	assert_int_equal(info.n_subtables, 20);
	/* the target is < 50 ms; the bound leaves room for a loaded 2-core test machine */
	assert_true(ms < 500);
	for (i = 0; i < 2000; i++) {
		struct psw_flow_key k = ip_pkt(rnd_below(7), 1, 0x0a000000 | rnd());

		assert_ptr_equal(psw_classifier_lookup(cls, &k),
				 psw_classifier_reference(ptrs, NR, &k));
	}
	psw_classifier_free(cls);
	free(ptrs);
	free(rules);
}

/* One mask, 3 x 2^14 - 3 rules: 16384 buckets at 3 entries each on average, so dozens of
 * buckets overflow into their neighbours; every rule is still found, misses still miss. */
static void
test_full_buckets(void **state)
{
	enum { NR = 3 * (1 << 14) - 3 };
	struct psw_rule *rules = calloc(NR, sizeof(*rules));
	const struct psw_rule **ptrs = calloc(NR, sizeof(*ptrs));
	struct psw_classifier *cls;
	struct psw_classifier_info info;
	unsigned i;

	(void)state;
	assert_non_null(rules);
	assert_non_null(ptrs);
	for (i = 0; i < NR; i++) {
		rule_init(&rules[i], 1, i, i & 0xff);
		match_nw_dst(&rules[i], 0x0a000000 + i * 2, 32);
		ptrs[i] = &rules[i];
	}
	cls = psw_classifier_build(ptrs, NR);
	assert_non_null(cls);
	psw_classifier_info(cls, &info);
	print_message("# %u rules in one subtable: %u stored past their home bucket\n",
		      NR, info.n_spilled);
	assert_int_equal(info.n_subtables, 1);
	assert_int_equal(info.n_rules, NR);
	assert_true(info.n_spilled > 0);
	for (i = 0; i < NR; i++) {
		struct psw_flow_key k = ip_pkt(0, 1, 0x0a000000 + i * 2);
		const struct psw_rule *out[1];

		assert_ptr_equal(psw_classifier_lookup(cls, &k), &rules[i]);
		k.nw_dst = rte_cpu_to_be_32(0x0a000000 + i * 2 + 1);
		assert_null(psw_classifier_lookup(cls, &k));
		psw_classifier_lookup_burst(cls, &k, 1, out);
		assert_null(out[0]);
	}
	psw_classifier_free(cls);
	free(ptrs);
	free(rules);
}

static void
test_match_check(void **state)
{
	struct psw_flow_match m;

	(void)state;
	memset(&m, 0, sizeof(m));
	assert_null(psw_flow_match_check(&m));
	m.mask.nw_dst = psw_prefix_mask32(8);
	assert_string_equal(psw_flow_match_check(&m), "nw_dst");
	m.mask.dl_type = 0xffff;
	m.key.dl_type = RTE_BE16(0x0800);
	assert_null(psw_flow_match_check(&m));
	m.mask.ipv6_src[8] = 0xff;
	assert_string_equal(psw_flow_match_check(&m), "ipv6_src");
	m.key.dl_type = RTE_BE16(0x86dd);
	assert_null(psw_flow_match_check(&m));
	m.mask.tp_dst = 0xffff;
	assert_string_equal(psw_flow_match_check(&m), "tp_dst");
	m.mask.nw_proto = 0xff;
	m.key.nw_proto = 17;
	assert_null(psw_flow_match_check(&m));
	m.key.nw_proto = 1;                            /* ICMPv4 in IPv6 */
	assert_string_equal(psw_flow_match_check(&m), "icmp_code");
	m.key.nw_proto = 58;
	assert_null(psw_flow_match_check(&m));
	m.mask.dl_type = 0;
	m.mask.ipv6_src[8] = 0;
	m.mask.nw_dst = 0;
	m.mask.tp_dst = 0;
	assert_string_equal(psw_flow_match_check(&m), "nw_proto");
	memset(&m, 0, sizeof(m));
	m.mask.vlan_tci = rte_cpu_to_be_16(PSW_VLAN_VID_MASK);
	assert_string_equal(psw_flow_match_check(&m), "dl_vlan");
	m.mask.vlan_tci |= rte_cpu_to_be_16(PSW_VLAN_PRESENT);
	assert_null(psw_flow_match_check(&m));

	assert_int_equal(psw_prefix_mask32(0), 0);
	assert_int_equal(psw_prefix_mask32(24), RTE_BE32(0xffffff00));
	assert_int_equal(psw_prefix_mask32(32), 0xffffffff);
	{
		uint8_t m6[16];
		static const uint8_t want[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xe0 };

		psw_prefix_mask128(m6, 51);
		assert_memory_equal(m6, want, 16);
	}
}

static void
test_rule_counters(void **state)
{
	struct psw_rule r;
	struct psw_rule_counters c;
	uint32_t a, b, i;

	(void)state;
	rule_init(&r, 1, 1, 1);
	assert_int_equal(psw_rule_stats_alloc(&a), -EINVAL);  /* before init */
	assert_int_equal(psw_rule_stats_init(2), 0);
	assert_int_equal(psw_rule_stats_init(3), -EBUSY);
	assert_int_equal(psw_rule_stats_alloc(&a), 0);
	assert_int_equal(psw_rule_stats_alloc(&b), 0);
	assert_int_not_equal(a, b);

	r.stats_idx = a;
	psw_rule_count(&r, 0, 3, 300, 10);
	psw_rule_count(&r, 1, 2, 128, 12);
	psw_rule_count(&r, 0, 1, 64, 11);
	psw_rule_stats_read(a, &c);
	assert_int_equal(c.packets, 6);
	assert_int_equal(c.bytes, 492);
	assert_int_equal(c.last_hit, 12);
	psw_rule_stats_read(b, &c);
	assert_int_equal(c.packets, 0);

	/* a freed index comes back zeroed */
	psw_rule_stats_free(a);
	assert_int_equal(psw_rule_stats_alloc(&i), 0);
	assert_int_equal(i, a);
	psw_rule_stats_read(i, &c);
	assert_int_equal(c.packets, 0);
	assert_int_equal(c.last_hit, 0);

	/* a rule without counters counts nothing and does not crash */
	r.stats_idx = PSW_RULE_STATS_NONE;
	psw_rule_count(&r, 0, 1, 1, 1);

	/* past the first chunk */
	for (i = 0; i < PSW_RULE_STATS_CHUNK + 10; i++)
		assert_int_equal(psw_rule_stats_alloc(&a), 0);
	r.stats_idx = a;
	assert_true(a >= PSW_RULE_STATS_CHUNK);
	psw_rule_count(&r, 1, 5, 5, 99);
	psw_rule_stats_read(a, &c);
	assert_int_equal(c.packets, 5);
	psw_rule_stats_fini();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_vs_reference),
		cmocka_unit_test(test_priority_and_prefixes),
		cmocka_unit_test(test_ipv6_tun_id_and_ports),
		cmocka_unit_test(test_shadowed_and_empty),
		cmocka_unit_test(test_burst_sizes),
		cmocka_unit_test(test_build_10k),
		cmocka_unit_test(test_full_buckets),
		cmocka_unit_test(test_match_check),
		cmocka_unit_test(test_rule_counters),
	};

	return cmocka_run_group_tests_name("classifier", tests, NULL, NULL);
}
