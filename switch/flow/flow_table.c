/*
 * flow_table.c: the rule set (control thread only). Rules are kept in the order they were
 * added; each change builds a whole new classifier (classifier.c) from the new list,
 * publishes it (psw_publish bumps the generation, so every PMD's cache goes stale),
 * retires the old classifier and then the removed rules (rules must outlive every
 * classifier that references them), and waits for a grace period, so that the next
 * packet after the RPC's answer follows the new table. A failed build changes nothing.
 * PMDs never wait for any of this: they keep using the old table until the swap.
 *
 * What PMDs load is a view (flow_table.h): the classifier with the union of its rules'
 * masks and the shape that follows from it (L2 only, or full), published as one pointer,
 * so that the pipeline picks its path from the very table it classifies with.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/rcu.h"
#include "flow/flow_table.h"

struct psw_classifier *psw_flow_cls;
struct psw_flow_view *psw_flow_view;
uint32_t psw_flow_n_rules;

static struct psw_flow_entry **rules;
static unsigned n_rules, cap_rules;
static uint64_t next_id = 1;
static uint32_t next_seq = 1;

int
psw_flow_table_init(unsigned n_pmds)
{
	return psw_rule_stats_init(n_pmds ? n_pmds : 1);
}

struct psw_flow_entry *
psw_flow_entry_new(void)
{
	struct psw_flow_entry *e = calloc(1, sizeof(*e));

	if (e) {
		e->rule.stats_idx = PSW_RULE_STATS_NONE;
		e->rule.owner = &e->res;
	}
	return e;
}

void
psw_flow_entry_free(struct psw_flow_entry *e)
{
	if (e == NULL)
		return;
	if (e->rule.stats_idx != PSW_RULE_STATS_NONE)
		psw_rule_stats_free(e->rule.stats_idx);
	free(e);
}

static void
entry_free_cb(void *p)
{
	psw_flow_entry_free(p);
}

void
psw_flow_table_fini(void)
{
	/* After the PMDs have stopped. */
	free(psw_flow_view);
	psw_flow_view = NULL;
	psw_classifier_free(psw_flow_cls);
	psw_flow_cls = NULL;
	for (unsigned i = 0; i < n_rules; i++)
		psw_flow_entry_free(rules[i]);
	free(rules);
	rules = NULL;
	n_rules = cap_rules = 0;
	psw_flow_n_rules = 0;
}

/* The fields a PSW_SHAPE_L2 table may look at: in_port and dl_dst up to dl_type (key
 * words 1 and 2). Byte by byte: a char may alias the key, a word store may not. */
static bool
mask_within_l2(const struct psw_flow_key *m)
{
	const uint8_t *b = (const uint8_t *)m;

	for (size_t i = 0; i < sizeof(*m); i++) {
		bool l2 = (i >= offsetof(struct psw_flow_key, in_port) &&
			   i < offsetof(struct psw_flow_key, in_port) + sizeof(m->in_port)) ||
			  (i >= offsetof(struct psw_flow_key, dl_dst) &&
			   i < offsetof(struct psw_flow_key, dl_type) + sizeof(m->dl_type));

		if (b[i] && !l2)
			return false;
	}
	return true;
}

bool psw_flow_cache_masking = true;

/* The cache mask of a view (flow_table.h). Bytes, not words: see mask_within_l2(). */
static void
cache_mask(struct psw_flow_view *v)
{
	uint8_t *c = (uint8_t *)&v->cache_mask;
	const size_t l3 = offsetof(struct psw_flow_key, tp_src);

	v->cache_mask = v->mask_union;
	memset(c + offsetof(struct psw_flow_key, in_port), 0xff, sizeof(v->cache_mask.in_port));
	c[offsetof(struct psw_flow_key, flags)] = 0xff;
	memset(c + offsetof(struct psw_flow_key, dl_dst), 0xff,
	       offsetof(struct psw_flow_key, tp_src) - offsetof(struct psw_flow_key, dl_dst));
	v->cache_masked = 0;
	if (!psw_flow_cache_masking) {
		memset(c, 0xff, sizeof(v->cache_mask));
		return;
	}
	/* nw_proto and tp_src .. ipv6_dst are what the parser fills beyond L2. */
	if (c[offsetof(struct psw_flow_key, nw_proto)] != 0xff)
		v->cache_masked = 1;
	for (size_t i = l3; i < offsetof(struct psw_flow_key, pad); i++)
		if (c[i] != 0xff)
			v->cache_masked = 1;
}

void
psw_flow_view_shape(const struct psw_rule *const *rules, unsigned n, struct psw_flow_view *v)
{
	uint64_t *u = (uint64_t *)&v->mask_union;
	bool l2 = true;

	memset(&v->mask_union, 0, sizeof(v->mask_union));
	for (unsigned i = 0; i < n; i++) {
		const uint64_t *m = psw_flow_key_words(&rules[i]->match.mask);

		for (unsigned w = 0; w < PSW_FLOW_KEY_WORDS; w++)
			u[w] |= m[w];
		/* The tunnel hooks may need more than the Ethernet header (a decap looks at
		 * the outer headers): keep them on the full path. */
		for (unsigned a = 0; a < rules[i]->n_actions; a++)
			if (rules[i]->actions[a].type == PSW_ACT_ENCAP_VXLAN ||
			    rules[i]->actions[a].type == PSW_ACT_DECAP_VXLAN ||
			    rules[i]->actions[a].type >= PSW_ACT_MAX)
				l2 = false;
	}
	v->n_rules = n;
	v->shape = l2 && mask_within_l2(&v->mask_union) ? PSW_SHAPE_L2 : PSW_SHAPE_FULL;
	cache_mask(v);
}

/* Make list[0..n) the table: build, publish, retire the old classifier and `gone`,
 * wait a grace period. On failure nothing changes (list and gone stay the caller's). */
static int
commit(struct psw_flow_entry **list, unsigned n, unsigned cap,
       struct psw_flow_entry **gone, unsigned n_gone)
{
	const struct psw_rule **rp = malloc(sizeof(*rp) * (n ? n : 1));
	struct psw_flow_view *view = malloc(sizeof(*view)), *old_view;
	struct psw_classifier *cls, *old;

	if (rp == NULL || view == NULL) {
		free(rp);
		free(view);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++)
		rp[i] = &list[i]->rule;
	cls = psw_classifier_build(rp, n);
	if (cls == NULL) {
		free(rp);
		free(view);
		return errno ? -errno : -ENOMEM;
	}
	psw_flow_view_shape(rp, n, view);
	free(rp);
	view->cls = cls;
	/* PMDs read only the view; psw_flow_cls is for the control thread's readers. The
	 * old classifier is retired after the view that points to it. */
	old = psw_publish(&psw_flow_cls, cls);
	old_view = psw_publish(&psw_flow_view, view);
	psw_retire(old_view, free);
	psw_retire(old, psw_classifier_free_cb);
	for (unsigned i = 0; i < n_gone; i++)
		psw_retire(gone[i], entry_free_cb);
	if (list != rules)
		free(rules);
	rules = list;
	n_rules = n;
	cap_rules = cap;
	__atomic_store_n(&psw_flow_n_rules, n, __ATOMIC_RELAXED);
	/* Every PMD has left the burst it was in: the next packet sees cls. */
	psw_rcu_synchronize();
	return 0;
}

static uint64_t
match_hash(const struct psw_flow_entry *e)
{
	const uint64_t *k = psw_flow_key_words(&e->rule.match.key);
	const uint64_t *m = psw_flow_key_words(&e->rule.match.mask);
	uint64_t h = 0xcbf29ce484222325ull ^ e->rule.priority;

	for (unsigned i = 0; i < PSW_FLOW_KEY_WORDS; i++) {
		h = (h ^ k[i]) * 0x100000001b3ull;
		h = (h ^ m[i]) * 0x100000001b3ull;
	}
	return h ^ (h >> 29);
}

static bool
same_rule(const struct psw_flow_entry *a, const struct psw_flow_entry *b)
{
	return a->rule.priority == b->rule.priority &&
	       !memcmp(&a->rule.match, &b->rule.match, sizeof(a->rule.match));
}

/* As in OpenFlow, a rule with the same match and priority as an earlier one replaces it.
 * Moves the replaced entries of list[0..*n) to gone[] (*n_gone) and compacts list.
 * -ENOMEM leaves list as it was. */
static int
drop_replaced(struct psw_flow_entry **list, unsigned *n, struct psw_flow_entry ***gone,
	      unsigned *n_gone)
{
	unsigned slots = 16, k = 0, ng = 0;
	uint32_t *tab;
	bool *dead;

	while (slots < *n * 2)
		slots *= 2;
	tab = malloc(sizeof(*tab) * slots);
	dead = calloc(*n ? *n : 1, sizeof(*dead));
	*gone = NULL;
	*n_gone = 0;
	if (!tab || !dead) {
		free(tab);
		free(dead);
		return -ENOMEM;
	}
	memset(tab, 0xff, sizeof(*tab) * slots);
	for (unsigned i = 0; i < *n; i++) {
		uint32_t h = (uint32_t)match_hash(list[i]) & (slots - 1);

		while (tab[h] != UINT32_MAX && !same_rule(list[tab[h]], list[i]))
			h = (h + 1) & (slots - 1);
		if (tab[h] != UINT32_MAX) {
			dead[tab[h]] = true;
			ng++;
		}
		tab[h] = i;
	}
	free(tab);
	if (ng) {
		*gone = malloc(sizeof(**gone) * ng);
		if (*gone == NULL) {
			free(dead);
			return -ENOMEM;
		}
		for (unsigned i = 0; i < *n; i++) {
			if (dead[i])
				(*gone)[(*n_gone)++] = list[i];
			else
				list[k++] = list[i];
		}
		*n = k;
	}
	free(dead);
	return 0;
}

int
psw_flow_table_add(struct psw_flow_entry **entries, unsigned n, char *err, size_t errlen)
{
	struct psw_flow_entry **list, **gone = NULL;
	unsigned cap = cap_rules, i, total, n_gone = 0;
	int rc;

	if (n == 0)
		return 0;
	if (n_rules + n > PSW_MAX_RULES) {
		snprintf(err, errlen, "too many rules (at most %u)", PSW_MAX_RULES);
		return -ENOSPC;
	}
	while (cap < n_rules + n)
		cap = cap ? cap * 2 : 1024;
	/* A new array: the old one stays the table until commit() succeeds. */
	list = malloc(sizeof(*list) * cap);
	if (list == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (n_rules)
		memcpy(list, rules, sizeof(*list) * n_rules);
	for (i = 0; i < n; i++) {
		struct psw_flow_entry *e = entries[i];

		rc = psw_rule_stats_alloc(&e->rule.stats_idx);
		if (rc < 0) {
			e->rule.stats_idx = PSW_RULE_STATS_NONE;
			snprintf(err, errlen, "no room for rule counters (%s)", strerror(-rc));
			goto fail;
		}
		e->rule.seq = next_seq + i;
		e->rule.owner = &e->res;
		psw_flow_match_normalize(&e->rule.match);
		psw_flow_result_init(&e->res, &e->rule);
		list[n_rules + i] = e;
	}
	total = n_rules + n;
	rc = drop_replaced(list, &total, &gone, &n_gone);
	if (rc == 0)
		rc = commit(list, total, cap, gone, n_gone);
	free(gone);
	if (rc < 0) {
		snprintf(err, errlen, "cannot build the classifier: %s", strerror(-rc));
		goto fail;
	}
	for (i = 0; i < n; i++) {
		entries[i]->id = next_id++;
		entries[i]->added_s = psw_clock_s();
	}
	next_seq += n;
	return 0;
fail:
	for (unsigned j = 0; j < n && j <= i; j++) {
		if (entries[j]->rule.stats_idx != PSW_RULE_STATS_NONE)
			psw_rule_stats_free(entries[j]->rule.stats_idx);
		entries[j]->rule.stats_idx = PSW_RULE_STATS_NONE;
	}
	free(list);
	return rc;
}

/* Remove the rules for which pred() holds. Returns how many (0 if the rebuild failed:
 * then nothing changed). */
static unsigned
remove_if(bool (*pred)(const struct psw_flow_entry *, const void *), const void *arg)
{
	struct psw_flow_entry **keep, **gone;
	unsigned nk = 0, ng = 0;

	for (unsigned i = 0; i < n_rules; i++)
		ng += pred(rules[i], arg);
	if (ng == 0)
		return 0;
	keep = malloc(sizeof(*keep) * (cap_rules ? cap_rules : 1));
	gone = malloc(sizeof(*gone) * ng);
	if (keep == NULL || gone == NULL)
		goto fail;
	ng = 0;
	for (unsigned i = 0; i < n_rules; i++) {
		if (pred(rules[i], arg))
			gone[ng++] = rules[i];
		else
			keep[nk++] = rules[i];
	}
	if (commit(keep, nk, cap_rules, gone, ng) < 0)
		goto fail;
	free(gone);
	return ng;
fail:
	free(keep);
	free(gone);
	return 0;
}

struct del_arg {
	const struct psw_flow_match *m;
	bool strict;
	uint32_t priority;
};

static bool
del_pred(const struct psw_flow_entry *e, const void *p)
{
	const struct del_arg *a = p;
	const uint64_t *rk = psw_flow_key_words(&e->rule.match.key);
	const uint64_t *rm = psw_flow_key_words(&e->rule.match.mask);
	const uint64_t *mk = psw_flow_key_words(&a->m->key);
	const uint64_t *mm = psw_flow_key_words(&a->m->mask);

	if (a->strict) {
		if (e->rule.priority != a->priority)
			return false;
		for (unsigned i = 0; i < PSW_FLOW_KEY_WORDS; i++)
			if (rm[i] != mm[i] || (rk[i] & rm[i]) != (mk[i] & mm[i]))
				return false;
		return true;
	}
	/* The rule is at least as specific (its mask covers m's) and agrees on m's bits. */
	for (unsigned i = 0; i < PSW_FLOW_KEY_WORDS; i++)
		if ((rm[i] & mm[i]) != mm[i] || ((rk[i] ^ mk[i]) & mm[i]))
			return false;
	return true;
}

unsigned
psw_flow_table_del(const struct psw_flow_match *m, bool strict, uint32_t priority)
{
	struct del_arg a = {m, strict, priority};

	return remove_if(del_pred, &a);
}

static bool
cookie_pred(const struct psw_flow_entry *e, const void *p)
{
	return e->rule.cookie == *(const uint64_t *)p;
}

unsigned
psw_flow_table_del_cookie(uint64_t cookie)
{
	return remove_if(cookie_pred, &cookie);
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
	return n_rules;
}

const struct psw_flow_entry *
psw_flow_table_at(unsigned i)
{
	return i < n_rules ? rules[i] : NULL;
}
