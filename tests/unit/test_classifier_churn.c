/*
 * test_classifier_churn.c: the classifier changed in place (switch/flow/classifier.c), as
 * the flow table changes it: random add / delete / replace sequences applied one by one
 * and compared with brute force (psw_classifier_reference) after every step, with the
 * preemption hook checked (a rule that loses flows to a new one is reported); big
 * subtables rebuilt alone as they grow, churn and empty; and a reader thread that must
 * never see anything but its rule while another thread churns thousands of others (the
 * lock-free publication). No EAL needed.
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
#include <pthread.h>
#include <cmocka.h>

#include "flow/classifier.h"
#include "classifier_gen.h"

/* ---- changes in place ------------------------------------------------------------------ */

/* What the preemption hook reported during one change. */
struct victims {
	const struct psw_rule *v[256];
	unsigned n;
	bool any;
};

static void
on_preempt(const struct psw_rule *victim, void *arg)
{
	struct victims *vs = arg;

	if (victim == NULL)
		vs->any = true;
	else if (vs->n < RTE_DIM(vs->v))
		vs->v[vs->n++] = victim;
	else
		vs->any = true;
}

static bool
reported(const struct victims *vs, const struct psw_rule *r)
{
	if (vs->any)
		return true;
	for (unsigned i = 0; i < vs->n; i++)
		if (vs->v[i] == r)
			return true;
	return false;
}

#define INC_SEQS   400
#define INC_STEPS  200
#define INC_RULES  (INC_STEPS + 1)
#define INC_KEYS   24

/* Random add / delete / replace sequences applied one by one to a classifier, compared
 * with brute force over the live rules after every step: single and burst lookups, the
 * counts, and the preemption hook (every key whose winner changed from a rule that is
 * still there must have had that rule reported, or "any"). Small domains, few priorities
 * and a handful of masks make shadowing, promotion, ties by seq, new and emptied
 * subtables, reordering and table rebuilds all frequent. */
static void
test_incremental_vs_reference(void **state)
{
	static struct psw_rule pool[INC_RULES];
	const struct psw_rule *live[INC_RULES], *before[INC_KEYS], *out[INC_KEYS];
	struct psw_flow_key keys[INC_KEYS], masks[6];
	struct victims vs;
	struct psw_classifier_hooks hooks = { NULL, on_preempt, &vs };
	unsigned seq_n, step, compared = 0, shadowed_seen = 0, preempt_checked = 0;
	unsigned adds = 0, dels = 0, repls = 0, max_subtables = 0;

	(void)state;
	for (seq_n = 0; seq_n < INC_SEQS; seq_n++) {
		struct psw_classifier *cls = psw_classifier_new(&hooks);
		unsigned n_live = 0, used = 0;
		uint64_t next_seq = 1;

		assert_non_null(cls);
		/* a few masks per sequence, so that rules share subtables */
		for (unsigned i = 0; i < RTE_DIM(masks); i++)
			random_mask(&masks[i]);
		for (step = 0; step < INC_STEPS; step++) {
			unsigned op = rnd_below(20), i;
			struct psw_rule *r = NULL, *old = NULL;
			struct psw_classifier_info info;

			for (i = 0; i < INC_KEYS; i++) {
				if (n_live && rnd_below(4))
					key_near_rule(&keys[i], live[rnd_below(n_live)]);
				else
					random_key(&keys[i]);
				before[i] = psw_classifier_lookup(cls, &keys[i]);
			}
			vs.n = 0;
			vs.any = false;
			if (n_live == 0 || op < 11) {
				/* add: often a copy of a live rule's match at another priority */
				r = &pool[used++];
				random_rule(r, 0);
				r->match.mask = masks[rnd_below(RTE_DIM(masks))];
				if (n_live && rnd_below(3) == 0) {
					r->match = live[rnd_below(n_live)]->match;
					r->priority = rnd_below(5);
				}
				psw_flow_match_normalize(&r->match);
				r->seq = next_seq++;
				assert_int_equal(psw_classifier_insert(cls, r), 0);
				live[n_live++] = r;
				adds++;
			} else if (op < 18) {
				i = rnd_below(n_live);
				assert_int_equal(psw_classifier_remove(cls,
							(struct psw_rule *)live[i]), 0);
				old = (struct psw_rule *)live[i];
				live[i] = live[--n_live];
				/* removing it again: not there */
				assert_int_equal(psw_classifier_remove(cls, old), -ENOENT);
				dels++;
			} else {
				/* replace (OpenFlow's same match and priority), or a better one */
				i = rnd_below(n_live);
				old = (struct psw_rule *)live[i];
				r = &pool[used++];
				*r = *old;
				r->actions[0].port = rnd_below(8);
				if (rnd_below(3) == 0)
					r->priority = rnd_below(5);
				r->seq = next_seq++;
				assert_int_equal(psw_classifier_replace(cls, old, r), 0);
				live[i] = r;
				repls++;
			}
			psw_classifier_info(cls, &info);
			assert_int_equal(info.n_rules + info.n_shadowed, n_live);
			shadowed_seen += info.n_shadowed > 0;
			max_subtables = RTE_MAX(max_subtables, info.n_subtables);
			psw_classifier_lookup_burst(cls, keys, INC_KEYS, out);
			for (i = 0; i < INC_KEYS; i++) {
				const struct psw_rule *want =
					psw_classifier_reference(live, n_live, &keys[i]);
				const struct psw_rule *got = psw_classifier_lookup(cls, &keys[i]);

				if (got != want || out[i] != want)
					fail_msg("seq %u step %u key %u: classifier %s / burst %s, "
						 "reference %s", seq_n, step, i, describe(got),
						 describe(out[i]), describe(want));
				/* a rule still there that lost this key was told about it */
				if (r && before[i] && before[i] != got && before[i] != old) {
					if (!reported(&vs, before[i]))
						fail_msg("seq %u step %u: %s lost a flow to %s "
							 "unreported", seq_n, step,
							 describe(before[i]), describe(got));
					preempt_checked++;
				}
				compared++;
			}
		}
		/* empty it again: every subtable goes */
		while (n_live) {
			assert_int_equal(psw_classifier_remove(cls, (struct psw_rule *)live[--n_live]),
					 0);
		}
		{
			struct psw_classifier_info info;
			struct psw_flow_key k;

			psw_classifier_info(cls, &info);
			assert_int_equal(info.n_rules + info.n_shadowed + info.n_subtables, 0);
			random_key(&k);
			assert_null(psw_classifier_lookup(cls, &k));
		}
		psw_classifier_free(cls);
	}
	print_message("# %u adds, %u deletes, %u replaces; %u lookups compared, %u preemptions "
		      "checked, up to %u subtables\n", adds, dels, repls, compared,
		      preempt_checked, max_subtables);
	assert_true(shadowed_seen > INC_SEQS * 10);
	assert_true(preempt_checked > 1000);
	assert_true(max_subtables >= 4);
}

/* Big subtables: their tables are rebuilt alone as they grow and churn, and shrink when
 * emptied; lookups stay right throughout. */
static void
test_incremental_rebuilds(void **state)
{
	enum { NR = 20000 };
	struct psw_rule *rules = calloc(NR * 2, sizeof(*rules));
	struct psw_classifier *cls = psw_classifier_new(NULL);
	struct psw_classifier_info info;
	unsigned i;

	(void)state;
	assert_non_null(rules);
	for (i = 0; i < NR * 2; i++) {
		rule_init(&rules[i], 10 + i % 3, i + 1, i & 0xff);
		match_nw_dst(&rules[i], 0x0a000000 + i, i % 2 ? 32 : 24 + i % 8 / 4);
		psw_flow_match_normalize(&rules[i].match);
	}
	for (i = 0; i < NR; i++)
		assert_int_equal(psw_classifier_insert(cls, &rules[i]), 0);
	/* churn: the oldest out, a new one in */
	for (i = 0; i < NR; i++) {
		assert_int_equal(psw_classifier_remove(cls, &rules[i]), 0);
		assert_int_equal(psw_classifier_insert(cls, &rules[NR + i]), 0);
		if (i % 997 == 0) {
			struct psw_flow_key k = ip_pkt(0, 1, 0x0a000000 + NR + i);
			const struct psw_rule *p[1];

			psw_classifier_lookup_burst(cls, &k, 1, p);
			assert_ptr_equal(psw_classifier_lookup(cls, &k), p[0]);
			assert_non_null(p[0]);
		}
	}
	psw_classifier_info(cls, &info);
	print_message("# %u rules after %u changes: %u subtables, %llu table rebuilds, %zu KB\n",
		      info.n_rules + info.n_shadowed, 3 * NR, info.n_subtables,
		      (unsigned long long)info.rebuilds, info.bytes / 1024);
	assert_true(info.rebuilds > 10);
	{
		const struct psw_rule **live = malloc(sizeof(*live) * NR);

		assert_non_null(live);
		for (i = 0; i < NR; i++)
			live[i] = &rules[NR + i];
		for (i = 0; i < 3000; i++) {
			struct psw_flow_key k = ip_pkt(0, 1, 0x0a000000 + rnd_below(NR * 3));

			assert_ptr_equal(psw_classifier_lookup(cls, &k),
					 psw_classifier_reference(live, NR, &k));
		}
		free(live);
	}
	for (i = NR; i < NR * 2; i++)
		assert_int_equal(psw_classifier_remove(cls, &rules[i]), 0);
	psw_classifier_info(cls, &info);
	assert_int_equal(info.n_rules + info.n_subtables, 0);
	assert_true(info.bytes < 64 * 1024);
	/* a built classifier cannot be changed */
	{
		const struct psw_rule *p = &rules[0];
		struct psw_classifier *b = psw_classifier_build(&p, 1);

		assert_int_equal(psw_classifier_insert(b, &rules[1]), -EPERM);
		assert_int_equal(psw_classifier_remove(b, &rules[0]), -EPERM);
		psw_classifier_free(b);
	}
	rules[0].priority = 70000;
	assert_int_equal(psw_classifier_insert(cls, &rules[0]), -EINVAL);
	psw_classifier_free(cls);
	free(rules);
}

/* ---- readers while the table changes --------------------------------------------------- */

#define CONC_STABLE  2000
#define CONC_CHURN   3000

struct conc {
	struct psw_classifier *cls;
	const struct psw_rule *const *stable;
	volatile int stop;
	uint64_t lookups, wrong;
};

static void **retired;
static unsigned n_retired, cap_retired;

/* No grace periods in this test: what is retired is freed once the reader has stopped. */
static void
retire_later(void *obj, void (*fn)(void *))
{
	(void)fn;
	if (n_retired == cap_retired) {
		cap_retired = cap_retired ? cap_retired * 2 : 4096;
		retired = realloc(retired, sizeof(*retired) * cap_retired);
		assert_non_null(retired);
	}
	retired[n_retired++] = obj;
}

/* The reader: packets to the stable rules' addresses, one at a time and in bursts; each
 * must get its stable rule, whatever the writer is doing. */
static void *
conc_reader(void *arg)
{
	struct conc *c = arg;
	uint64_t x = 0x9e3779b97f4a7c15ull, lookups = 0, wrong = 0;
	struct psw_flow_key keys[32];
	const struct psw_rule *want[32], *out[32];

	while (!c->stop) {
		for (unsigned j = 0; j < 32; j++) {
			unsigned i;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			i = (unsigned)(x >> 20) % CONC_STABLE;
			keys[j] = ip_pkt(1, 1, 0x0a010000 + i);
			want[j] = c->stable[i];
		}
		psw_classifier_lookup_burst(c->cls, keys, 32, out);
		for (unsigned j = 0; j < 32; j++) {
			wrong += out[j] != want[j];
			wrong += psw_classifier_lookup(c->cls, &keys[j]) != want[j];
		}
		lookups += 64;
	}
	c->lookups = lookups;
	c->wrong = wrong;
	return NULL;
}

/* A reader thread looks up flows whose rules never change while this thread adds and
 * removes thousands of others: in the same subtables (new masked keys, rebuilt tables),
 * shadowed behind the stable rules (promotion paths), in subtables made and emptied,
 * better-ranked than everything (the order republished, mins lowered and raised). No
 * lookup may see anything but its stable rule. */
static void
test_concurrent_readers(void **state)
{
	static struct psw_rule stable[CONC_STABLE], churn[CONC_CHURN];
	const struct psw_rule *sp[CONC_STABLE];
	struct psw_classifier_hooks hooks = { retire_later, NULL, NULL };
	struct conc c = { 0 };
	struct timespec t0, t;
	pthread_t th;
	uint64_t ops = 0, next_seq = 1;
	bool in[CONC_CHURN] = { false };

	(void)state;
	c.cls = psw_classifier_new(&hooks);
	assert_non_null(c.cls);
	for (unsigned i = 0; i < CONC_STABLE; i++) {
		rule_init(&stable[i], 100, next_seq++, 1);
		match_nw_dst(&stable[i], 0x0a010000 + i, 32);
		sp[i] = &stable[i];
		assert_int_equal(psw_classifier_insert(c.cls, &stable[i]), 0);
	}
	c.stable = sp;
	assert_int_equal(pthread_create(&th, NULL, conc_reader, &c), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (unsigned k = 0; k < 256; k++) {
			unsigned i = rnd_below(CONC_CHURN);
			struct psw_rule *r = &churn[i];

			if (in[i]) {
				assert_int_equal(psw_classifier_remove(c.cls, r), 0);
				in[i] = false;
			} else {
				switch (i % 4) {
				case 0:   /* same subtable, other addresses */
					rule_init(r, 100, next_seq++, 2);
					match_nw_dst(r, 0x0a020000 + i, 32);
					break;
				case 1:   /* shadowed behind a stable rule */
					rule_init(r, 1 + i % 50, next_seq++, 3);
					match_nw_dst(r, 0x0a010000 + i % CONC_STABLE, 32);
					break;
				case 2:   /* a better subtable that the stable keys never match */
					rule_init(r, 200 + i % 300, next_seq++, 4);
					match_ip(r);
					r->match.key.nw_proto = 6;
					r->match.mask.nw_proto = 0xff;
					r->match.key.tp_dst = rte_cpu_to_be_16(i);
					r->match.mask.tp_dst = 0xffff;
					break;
				default:  /* subtables made and emptied: prefixes outside 10.1/16 */
					rule_init(r, 150, next_seq++, 5);
					match_nw_dst(r, 0x0b000000 + (i << 8), 16 + i % 16);
					break;
				}
				psw_flow_match_normalize(&r->match);
				assert_int_equal(psw_classifier_insert(c.cls, r), 0);
				in[i] = true;
			}
			ops++;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < 1500 &&
		 ops < 2000000);
	c.stop = 1;
	pthread_join(th, NULL);
	print_message("# %llu changes while a reader made %llu lookups: %llu wrong\n",
		      (unsigned long long)ops, (unsigned long long)c.lookups,
		      (unsigned long long)c.wrong);
	assert_int_equal(c.wrong, 0);
	assert_true(c.lookups > 10000);
	assert_true(ops > 10000);
	psw_classifier_free(c.cls);
	for (unsigned i = 0; i < n_retired; i++)
		free(retired[i]);
	free(retired);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_incremental_vs_reference),
		cmocka_unit_test(test_incremental_rebuilds),
		cmocka_unit_test(test_concurrent_readers),
	};

	return cmocka_run_group_tests_name("classifier_churn", tests, NULL, NULL);
}
