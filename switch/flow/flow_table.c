/*
 * flow_table.c: the rule set (control thread only). The cost of a change follows the
 * change, not the table:
 *
 * - The classifier is one for the switch's life and changes in place (classifier_update.c):
 *   an added rule goes into its subtable, a deleted one out, a replaced one (same match and
 *   priority) is swapped in one store. PMDs keep looking up meanwhile.
 * - Caches (result.h): a deleted rule's result is marked dead; a rule that a new one may
 *   take flows from (the classifier's preemption scan) gets valid_from = the new rule
 *   generation; psw_flow_gen moves on after the change. Cached copies of every other rule
 *   stay good. Only where the scan cannot tell (a new rule overlapping a subtable of more
 *   than 64 worse masked keys on fields it does not match) is psw_generation bumped: then
 *   every cache of every PMD forgets, as every change did before.
 * - The view (flow_view.c) is published only when the fields the rules look at change:
 *   before the rules that need it go in (with a grace period in between, so that no PMD
 *   classifies them with the old view), or after the last rule that needed it went.
 * - Rule results come from a pool that is never given back (result.c): caches may check a
 *   result long after its rule went. Entries (rules, counters) gone in one change are
 *   retired together (core/rcu.h) and their results go back to the pool after the grace
 *   period.
 * - The list in the order added keeps holes where rules went (compacted when listed or
 *   when mostly holes); a hash of (match, priority) finds a rule to replace or to delete
 *   strictly, a hash of cookies the rules of a cookie: only a loose delete and a port's
 *   removal scan the table.
 *
 * A change ends with its stores visible to every core before the RPC answers
 * (change_done()): the next packet follows the new table. A failed change changes
 * nothing. PMDs never wait for any of this, nor the control thread for them (but when
 * the view grows).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/rcu.h"
#include "flow/flow_table.h"

struct psw_classifier *psw_flow_cls;
uint32_t psw_flow_n_rules;

/* The list in the order added, NULL where a rule went. */
static struct psw_flow_entry **list;
static unsigned n_list, cap_list, n_live;
/* Hash of (match, priority) and of cookies: chains, power-of-two bucket counts. */
static struct psw_flow_entry **mtab, **ctab;
static unsigned tab_size;
static uint64_t next_id = 1, next_seq = 1;
static unsigned n_tunnel;               /* rules with a tunnel action: the full path */
static uint64_t pending_gen;            /* the generation of the change under way */
static bool pending_global;             /* it overlaps too widely: bump psw_generation */
static struct psw_flow_table_stats tstats;

static void
res_release_cb(void *r)
{
	psw_flow_result_release(r);
}

/* ---- entries --------------------------------------------------------------------------- */

struct psw_flow_entry *
psw_flow_entry_new(void)
{
	struct psw_flow_entry *e = calloc(1, sizeof(*e));

	if (e)
		e->rule.stats_idx = PSW_RULE_STATS_NONE;
	return e;
}

void
psw_flow_entry_free(struct psw_flow_entry *e)
{
	if (e == NULL)
		return;
	if (e->rule.stats_idx != PSW_RULE_STATS_NONE)
		psw_rule_stats_free(e->rule.stats_idx);
	if (e->res != NULL)
		psw_flow_result_release(e->res);
	free(e);
}

static void
entry_free_cb(void *p)
{
	psw_flow_entry_free(p);
}

/* Entries gone in one change, retired together: one grace period for the lot. */
struct gone {
	unsigned n;
	struct psw_flow_entry *e[];
};

static void
gone_free_cb(void *p)
{
	struct gone *g = p;

	for (unsigned i = 0; i < g->n; i++)
		psw_flow_entry_free(g->e[i]);
	free(g);
}

/* Retire the entries of v[0..n) that are not NULL, in one piece if memory allows. */
static void
retire_entries(struct psw_flow_entry *const *v, unsigned n)
{
	unsigned k = 0;
	struct gone *g;

	for (unsigned i = 0; i < n; i++)
		k += v[i] != NULL;
	if (k == 0)
		return;
	g = malloc(sizeof(*g) + sizeof(g->e[0]) * k);
	if (g == NULL) {
		for (unsigned i = 0; i < n; i++)
			if (v[i])
				psw_retire(v[i], entry_free_cb);
		return;
	}
	g->n = 0;
	for (unsigned i = 0; i < n; i++)
		if (v[i])
			g->e[g->n++] = v[i];
	psw_retire(g, gone_free_cb);
}

static bool
has_tunnel(const struct psw_rule *r)
{
	/* The tunnel hooks may need more than the Ethernet header (a decap looks at the
	 * outer headers): keep them on the full path. */
	for (unsigned a = 0; a < r->n_actions; a++)
		if (r->actions[a].type == PSW_ACT_ENCAP_VXLAN ||
		    r->actions[a].type == PSW_ACT_DECAP_VXLAN || r->actions[a].type >= PSW_ACT_MAX)
			return true;
	return false;
}

/* ---- indexes --------------------------------------------------------------------------- */

static uint64_t
match_hash(const struct psw_flow_match *m, uint32_t priority)
{
	const uint64_t *k = psw_flow_key_words(&m->key);
	const uint64_t *w = psw_flow_key_words(&m->mask);
	uint64_t h = 0xcbf29ce484222325ull ^ priority;

	for (unsigned i = 0; i < PSW_FLOW_KEY_WORDS; i++) {
		h = (h ^ k[i]) * 0x100000001b3ull;
		h = (h ^ w[i]) * 0x100000001b3ull;
	}
	/* a product's low bits see only its inputs' low bits: mix the high ones down
	 * (MurmurHash3's finalizer), as the slot is taken from the low bits */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

static inline unsigned
cookie_slot(uint64_t c)
{
	c *= 0x9e3779b97f4a7c15ull;
	return (unsigned)(c >> 32) & (tab_size - 1);
}

static inline unsigned
match_slot(const struct psw_flow_match *m, uint32_t priority)
{
	return (unsigned)match_hash(m, priority) & (tab_size - 1);
}

static void
index_add(struct psw_flow_entry *e)
{
	unsigned ms = match_slot(&e->rule.match, e->rule.priority);
	unsigned cs = cookie_slot(e->rule.cookie);

	e->mnext = mtab[ms];
	mtab[ms] = e;
	e->cprev = NULL;
	e->cnext = ctab[cs];
	if (e->cnext)
		e->cnext->cprev = e;
	ctab[cs] = e;
}

static void
index_del(struct psw_flow_entry *e)
{
	struct psw_flow_entry **pp = &mtab[match_slot(&e->rule.match, e->rule.priority)];

	while (*pp && *pp != e)
		pp = &(*pp)->mnext;
	if (*pp)
		*pp = e->mnext;
	if (e->cprev)
		e->cprev->cnext = e->cnext;
	else
		ctab[cookie_slot(e->rule.cookie)] = e->cnext;
	if (e->cnext)
		e->cnext->cprev = e->cprev;
	e->mnext = e->cnext = e->cprev = NULL;
}

/* Room for n rules in the indexes (rehashed at one bucket per rule). */
static int
index_reserve(unsigned n)
{
	struct psw_flow_entry **m, **c;
	unsigned size = tab_size ? tab_size : 1024;

	while (size < n)
		size *= 2;
	if (size == tab_size)
		return 0;
	m = calloc(size, sizeof(*m));
	c = calloc(size, sizeof(*c));
	if (m == NULL || c == NULL) {
		free(m);
		free(c);
		return -ENOMEM;
	}
	free(mtab);
	free(ctab);
	mtab = m;
	ctab = c;
	tab_size = size;
	for (unsigned i = 0; i < n_list; i++)
		if (list[i])
			index_add(list[i]);
	return 0;
}

/* The rule with this (normalized) match and priority, if any. */
static struct psw_flow_entry *
index_find(const struct psw_flow_match *m, uint32_t priority)
{
	struct psw_flow_entry *e = tab_size ? mtab[match_slot(m, priority)] : NULL;

	for (; e; e = e->mnext)
		if (e->rule.priority == priority && !memcmp(&e->rule.match, m, sizeof(*m)))
			return e;
	return NULL;
}

/* ---- the list in the order added ------------------------------------------------------- */

static void
list_compact(void)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n_list; i++) {
		if (list[i]) {
			list[k] = list[i];
			list[k]->pos = k;
			k++;
		}
	}
	n_list = k;
}

static int
list_reserve(unsigned n)
{
	unsigned cap = cap_list ? cap_list : 1024;
	struct psw_flow_entry **v;

	if (n_list > 2 * n_live + 1024)
		list_compact();
	if (n_list + n <= cap_list)
		return 0;
	while (cap < n_list + n)
		cap *= 2;
	v = realloc(list, sizeof(*v) * cap);
	if (v == NULL)
		return -ENOMEM;
	list = v;
	cap_list = cap;
	return 0;
}

/* e leaves the table's list and indexes (it is already out of the classifier). */
static void
unlink_entry(struct psw_flow_entry *e)
{
	list[e->pos] = NULL;
	index_del(e);
	n_tunnel -= has_tunnel(&e->rule);
	n_live--;
}

static void
link_entry(struct psw_flow_entry *e)
{
	e->pos = n_list;
	list[n_list++] = e;
	index_add(e);
	n_tunnel += has_tunnel(&e->rule);
	n_live++;
}

/* ---- changes --------------------------------------------------------------------------- */

/* The view of the rules in the table, plus `extra` (masks of rules about to go in, one of
 * which may have a tunnel action): published if it changed. 1, 0 or -ENOMEM. */
static int
view_update(const struct psw_flow_key *extra, bool extra_tunnel)
{
	int rc = psw_flow_view_update(extra, n_tunnel > 0 || extra_tunnel);

	tstats.view_publishes += rc > 0;
	return rc;
}

static void
preempt_cb(const struct psw_rule *victim, void *arg)
{
	struct psw_flow_result *r;

	(void)arg;
	if (victim == NULL) {
		pending_global = true;
		return;
	}
	r = victim->owner;
	if (__atomic_load_n(&r->valid_from, __ATOMIC_RELAXED) < pending_gen) {
		__atomic_store_n(&r->valid_from, pending_gen, __ATOMIC_RELAXED);
		tstats.preempted++;
	}
}

static void
retire_cb(void *obj, void (*fn)(void *))
{
	psw_retire(obj, fn);
}

int
psw_flow_table_init(unsigned n_pmds)
{
	static const struct psw_classifier_hooks hooks = {
		.retire = retire_cb,
		.preempt = preempt_cb,
	};
	int rc = psw_rule_stats_init(n_pmds ? n_pmds : 1);

	if (rc < 0 || psw_flow_cls)
		return rc;
	psw_flow_cls = psw_classifier_new(&hooks);
	if (psw_flow_cls == NULL || index_reserve(1) < 0 || view_update(NULL, false) < 0) {
		psw_flow_table_fini();
		return -ENOMEM;
	}
	return 0;
}

void
psw_flow_table_fini(void)
{
	/* After the PMDs have stopped. */
	free(psw_flow_view);
	psw_flow_view = NULL;
	for (unsigned i = 0; i < n_list; i++)
		if (list[i])
			psw_flow_entry_free(list[i]);
	psw_classifier_free(psw_flow_cls);
	psw_flow_cls = NULL;
	free(list);
	free(mtab);
	free(ctab);
	list = NULL;
	mtab = ctab = NULL;
	n_list = cap_list = n_live = tab_size = n_tunnel = 0;
	psw_flow_n_rules = 0;
	/* entries still retired free themselves without the pool */
	psw_flow_result_pool_fini();
}

/* The end of every change: caches, counts, and the stores made visible. Every store of
 * the change is in memory every core sees (a full fence) before the RPC can answer. A
 * packet that arrives after the answer is read by a PMD after that, and x86 does not
 * reorder loads, so the burst that handles it loads the new generations and finds the
 * change in the classifier and the results: the next packet follows the new table, and
 * no PMD is waited for. (A burst already under way when the change was made handles
 * packets that came before the answer.) */
static void
change_done(void)
{
	if (pending_global) {
		psw_generation_bump();
		tstats.global_bumps++;
		pending_global = false;
	}
	__atomic_store_n(&psw_flow_gen, pending_gen, __ATOMIC_RELEASE);
	__atomic_store_n(&psw_flow_n_rules, n_live, __ATOMIC_RELAXED);
	tstats.changes++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Put e in (replacing `old` when given); 0 or -errno. */
static int
put_rule(struct psw_flow_entry *e, struct psw_flow_entry *old)
{
	int rc = old ? psw_classifier_replace(psw_flow_cls, &old->rule, &e->rule)
		     : psw_classifier_insert(psw_flow_cls, &e->rule);

	if (rc < 0)
		return rc;
	if (old) {
		__atomic_store_n(&old->res->valid_from, PSW_RESULT_DEAD, __ATOMIC_RELAXED);
		unlink_entry(old);
	}
	link_entry(e);
	return 0;
}

/* Undo put_rule(e, old) (a batch that failed half-way; only when memory runs out). */
static void
unput_rule(struct psw_flow_entry *e, struct psw_flow_entry *old)
{
	unlink_entry(e);
	if (old) {
		(void)psw_classifier_replace(psw_flow_cls, &e->rule, &old->rule);
		__atomic_store_n(&old->res->valid_from, pending_gen, __ATOMIC_RELAXED);
		old->pos = n_list;
		list[n_list++] = old;
		index_add(old);
		n_tunnel += has_tunnel(&old->rule);
		n_live++;
	} else {
		(void)psw_classifier_remove(psw_flow_cls, &e->rule);
	}
}

int
psw_flow_table_add(struct psw_flow_entry **entries, unsigned n, char *err, size_t errlen)
{
	struct psw_flow_entry **replaced = NULL;
	struct psw_flow_key extra;
	uint64_t *u = (uint64_t *)&extra;
	bool tunnel = false, seen = false;
	unsigned i, done;
	int rc;

	if (n == 0)
		return 0;
	if (n_live + n > PSW_MAX_RULES) {
		snprintf(err, errlen, "too many rules (at most %u)", PSW_MAX_RULES);
		return -ENOSPC;
	}
	/* Everything that may fail and no reader sees: counters, results, room. */
	replaced = calloc(n, sizeof(*replaced));
	/* room in the list for the batch, and for the rules it replaces should it fail */
	if (replaced == NULL || list_reserve(2 * n) < 0 || index_reserve(n_live + n) < 0) {
		free(replaced);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pending_gen = psw_flow_gen + 1;
	memset(&extra, 0, sizeof(extra));
	for (i = 0; i < n; i++) {
		struct psw_flow_entry *e = entries[i];

		rc = psw_rule_stats_alloc(&e->rule.stats_idx);
		if (rc < 0) {
			e->rule.stats_idx = PSW_RULE_STATS_NONE;
			snprintf(err, errlen, "no room for rule counters (%s)", strerror(-rc));
			goto fail;
		}
		e->res = psw_flow_result_alloc();
		if (e->res == NULL) {
			rc = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		e->rule.seq = next_seq + i;
		e->rule.owner = e->res;
		e->rule.cls_next = NULL;
		psw_flow_match_normalize(&e->rule.match);
		psw_flow_result_init(e->res, &e->rule, pending_gen);
		for (unsigned w = 0; w < PSW_FLOW_KEY_WORDS; w++)
			u[w] |= psw_flow_key_words(&e->rule.match.mask)[w];
		tunnel |= has_tunnel(&e->rule);
	}
	/* The view first when the new rules look at more, and a grace period, so that no
	 * PMD classifies with the old view once they are visible. */
	rc = view_update(&extra, tunnel);
	if (rc < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (rc > 0)
		psw_rcu_synchronize();
	for (done = 0; done < n; done++) {
		struct psw_flow_entry *e = entries[done];

		replaced[done] = index_find(&e->rule.match, e->rule.priority);
		rc = put_rule(e, replaced[done]);
		if (rc < 0) {
			snprintf(err, errlen, "cannot add to the classifier: %s", strerror(-rc));
			seen = done > 0;
			while (done-- > 0)
				unput_rule(entries[done], replaced[done]);
			(void)view_update(NULL, false);
			change_done();
			goto fail;
		}
	}
	for (i = 0; i < n; i++) {
		entries[i]->id = next_id++;
		entries[i]->added_s = psw_clock_s();
	}
	retire_entries(replaced, n);
	next_seq += n;
	free(replaced);
	change_done();
	return 0;
fail:
	for (unsigned j = 0; j < n && j <= i; j++) {
		struct psw_flow_entry *e = entries[j];

		if (e->rule.stats_idx != PSW_RULE_STATS_NONE)
			psw_rule_stats_free(e->rule.stats_idx);
		e->rule.stats_idx = PSW_RULE_STATS_NONE;
		if (e->res) {
			__atomic_store_n(&e->res->valid_from, PSW_RESULT_DEAD, __ATOMIC_RELAXED);
			/* a PMD may have seen it while the batch was in: after a grace period */
			if (seen)
				psw_retire(e->res, res_release_cb);
			else
				psw_flow_result_release(e->res);
			e->res = NULL;
		}
		e->rule.owner = NULL;
	}
	free(replaced);
	return rc;
}

/* Remove the entries v[0..n) as one change. Returns how many went (a rule whose removal
 * needs memory that is not there stays). */
static unsigned
remove_entries(struct psw_flow_entry **v, unsigned n)
{
	unsigned done = 0;

	if (n == 0)
		return 0;
	pending_gen = psw_flow_gen + 1;
	for (unsigned i = 0; i < n; i++) {
		struct psw_flow_entry *e = v[i];

		v[i] = NULL;
		if (psw_classifier_remove(psw_flow_cls, &e->rule) < 0)
			continue;
		/* No cache uses it from now on; its slot is reused after the grace period. */
		__atomic_store_n(&e->res->valid_from, PSW_RESULT_DEAD, __ATOMIC_RELAXED);
		unlink_entry(e);
		v[i] = e;
		done++;
	}
	retire_entries(v, n);
	if (done) {
		(void)view_update(NULL, false);   /* narrower, after the rules went */
		if (n_list > 1024 && n_list > 2 * n_live)
			list_compact();
		change_done();
	}
	return done;
}

/* Remove the rules for which pred() holds. */
static unsigned
remove_if(bool (*pred)(const struct psw_flow_entry *, const void *), const void *arg)
{
	struct psw_flow_entry **v;
	unsigned n = 0;

	if (n_live == 0)
		return 0;
	v = malloc(sizeof(*v) * n_live);
	if (v == NULL)
		return 0;
	for (unsigned i = 0; i < n_list; i++)
		if (list[i] && pred(list[i], arg))
			v[n++] = list[i];
	n = remove_entries(v, n);
	free(v);
	return n;
}

struct del_arg {
	const struct psw_flow_match *m;
};

static bool
del_pred(const struct psw_flow_entry *e, const void *p)
{
	const struct del_arg *a = p;
	const uint64_t *rk = psw_flow_key_words(&e->rule.match.key);
	const uint64_t *rm = psw_flow_key_words(&e->rule.match.mask);
	const uint64_t *mk = psw_flow_key_words(&a->m->key);
	const uint64_t *mm = psw_flow_key_words(&a->m->mask);

	/* The rule is at least as specific (its mask covers m's) and agrees on m's bits. */
	for (unsigned i = 0; i < PSW_FLOW_KEY_WORDS; i++)
		if ((rm[i] & mm[i]) != mm[i] || ((rk[i] ^ mk[i]) & mm[i]))
			return false;
	return true;
}

unsigned
psw_flow_table_del_strict_many(const struct psw_flow_match *m, const uint32_t *prio, unsigned n)
{
	struct psw_flow_entry **v = malloc(sizeof(*v) * (n ? n : 1));
	unsigned k = 0;

	if (v == NULL)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		struct psw_flow_match nm = m[i];
		struct psw_flow_entry *e;

		psw_flow_match_normalize(&nm);
		e = index_find(&nm, prio[i]);
		/* the same rule twice in one request goes once */
		if (e && list[e->pos] == e) {
			v[k++] = e;
			list[e->pos] = NULL;
		}
	}
	for (unsigned i = 0; i < k; i++)
		list[v[i]->pos] = v[i];
	k = remove_entries(v, k);
	free(v);
	return k;
}

unsigned
psw_flow_table_del(const struct psw_flow_match *m, bool strict, uint32_t priority)
{
	struct del_arg a = {m};

	if (strict)
		return psw_flow_table_del_strict_many(m, &priority, 1);
	return remove_if(del_pred, &a);
}

unsigned
psw_flow_table_del_cookie(uint64_t cookie)
{
	struct psw_flow_entry **v, *e;
	unsigned n = 0;

	if (n_live == 0)
		return 0;
	for (e = ctab[cookie_slot(cookie)]; e; e = e->cnext)
		n += e->rule.cookie == cookie;
	v = malloc(sizeof(*v) * (n ? n : 1));
	if (v == NULL)
		return 0;
	n = 0;
	for (e = ctab[cookie_slot(cookie)]; e; e = e->cnext)
		if (e->rule.cookie == cookie)
			v[n++] = e;
	n = remove_entries(v, n);
	free(v);
	return n;
}

static bool
all_pred(const struct psw_flow_entry *e, const void *p)
{
	(void)e;
	(void)p;
	return true;
}

unsigned
psw_flow_table_clear(void)
{
	return remove_if(all_pred, NULL);
}

static bool
port_pred(const struct psw_flow_entry *e, const void *p)
{
	uint16_t port = *(const uint16_t *)p;

	if (e->rule.match.mask.in_port && e->rule.match.key.in_port == port)
		return true;
	for (unsigned i = 0; i < e->rule.n_actions; i++)
		if (e->rule.actions[i].type == PSW_ACT_OUTPUT && e->rule.actions[i].port == port)
			return true;
	return false;
}

unsigned
psw_flow_table_port_gone(uint16_t port)
{
	return remove_if(port_pred, &port);
}

unsigned
psw_flow_table_count(void)
{
	return n_live;
}

const struct psw_flow_entry *
psw_flow_table_at(unsigned i)
{
	if (n_list != n_live)
		list_compact();
	return i < n_live ? list[i] : NULL;
}

void
psw_flow_table_stats(struct psw_flow_table_stats *s)
{
	*s = tstats;
}
