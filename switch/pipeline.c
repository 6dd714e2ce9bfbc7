/*
 * pipeline.c: the forwarding decision for one rx burst (PMD threads), between pmd.c's rx
 * and txq.c's tx: parse.c -> flow_cache.c -> classifier.c -> l2.c -> actions.c -> txq.c.
 *
 * Staged over the burst: parse every packet, look the whole burst up in the PMD's
 * exact-match cache, send the misses to the classifier (and cache the rule's result),
 * then act on every packet. A rule whose only action is NORMAL makes an L2 decision per
 * packet; when the source is known on the input port, the decision itself (a known
 * unicast port or a flood) is cached for the flow (a per-PMD result pool, see
 * actions.h), so a steady flow costs one cache lookup. That floods can be cached is a
 * change from DESIGN.md: every FDB change, including learning a new MAC, bumps the
 * generation (batched per drain of the learn ring), so a destination learned meanwhile
 * makes the cached flood stale and the next packet goes to the learned port.
 *
 * The L2 fast path. A table whose rules look at no more than in_port and the Ethernet
 * header (flow_table.h's PSW_SHAPE_L2: the default priority=0,actions=normal, in_port
 * rules, MAC and VLAN rules) takes burst_l2() instead: the parser cuts the burst into
 * runs of packets with the same key words 1 and 2 (MACs, VLAN, ethertype; a bad packet is
 * a run of its own), and one decision -- the rule the classifier picks for that header,
 * and NORMAL's L2 decision -- serves a whole run (ctx->memo, kept across bursts while
 * the generation holds and the decision depends on nothing else). Per run, not per
 * packet: the rule's counters, the source's last-seen refresh or its learn event, one
 * enabled check (or static output) and one copy into the tx buffer. Same rule, same
 * outputs, same drops as the full path (test_flow_table's property test runs both on
 * random rule sets and traffic). Measured (benchmarks/run.sh --quick, on-CPU
 * cycles/packet, normal): 81 -> 52 at 1 flow, 193 -> 80 at 100,000 flows, where the
 * 5-tuple cache had missed 93% of the time.
 *
 * On the full path, while whole keys keep missing the cache (more live flows than
 * entries), the keys are cut down to the view's cache mask first (the fields some rule
 * matches on, plus in_port, flags and the Ethernet header that NORMAL decides on), so
 * flows that differ only elsewhere share an entry: OVS's megaflow idea on the
 * exact-match cache (throttle_update() turns it on and off).
 *
 * Generation: read once per burst, before the table pointers (flow_cache.h's rule), and
 * every result is cached with it; any table change bumps it and every cached result goes
 * stale. When no rule matches, the port's static output (issue 2) is the fallback; with
 * none the packet is dropped as NO_RULE.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>

#include "actions.h"
#include "classifier.h"
#include "flow_cache.h"
#include "flow_table.h"
#include "l2.h"
#include "parse.h"
#include "pipeline.h"
#include "rcu.h"
#include "rpc_flow.h"

static unsigned cache_entries = PSW_PIPELINE_DEFAULT_CACHE;
static unsigned cache_inv_prob = 1;
static uint64_t tsc_hz = 1;

void
psw_pipeline_configure(unsigned entries, unsigned insert_inv_prob)
{
	/* The cache wants a power of two: round up (a config may say 1000). */
	cache_entries = entries ? rte_align32pow2(entries < 2 ? 2 : entries)
				: PSW_PIPELINE_DEFAULT_CACHE;
	cache_inv_prob = insert_inv_prob ? insert_inv_prob : 1;
}

int
psw_pipeline_pmd_init(struct psw_pmd *pmd)
{
	int socket = pmd->lcore < RTE_MAX_LCORE ? (int)rte_lcore_to_socket_id(pmd->lcore)
						: SOCKET_ID_ANY;
	struct psw_flow_ctx *ctx;
	unsigned pool = cache_entries * 2;
	int rc;

	if (pmd->flow_ctx)
		return 0;
	if (rte_get_tsc_hz())
		tsc_hz = rte_get_tsc_hz();
	ctx = rte_zmalloc_socket("psw_flow_ctx", sizeof(*ctx), RTE_CACHE_LINE_SIZE, socket);
	if (ctx == NULL)
		return -ENOMEM;
	ctx->cache = psw_flow_cache_create(cache_entries, cache_inv_prob, socket);
	if (ctx->cache == NULL)
		goto fail;
	ctx->pool = rte_zmalloc_socket("psw_l2_results", sizeof(*ctx->pool) * pool,
				       RTE_CACHE_LINE_SIZE, socket);
	if (ctx->pool == NULL)
		goto fail;
	ctx->pool_mask = pool - 1;
	psw_l2_learn_filter_init(&ctx->learn);
	pmd->flow_ctx = ctx;
	return 0;
fail:
	rc = errno ? -errno : -ENOMEM;
	psw_flow_cache_free(ctx->cache);
	rte_free(ctx);
	return rc;
}

void
psw_pipeline_pmd_fini(struct psw_pmd *pmd)
{
	struct psw_flow_ctx *ctx = pmd->flow_ctx;

	if (ctx == NULL)
		return;
	pmd->flow_ctx = NULL;
	psw_flow_cache_free(ctx->cache);
	rte_free(ctx->pool);
	rte_free(ctx);
}

int
psw_pipeline_read_stats(const struct psw_pmd *pmd, struct psw_pipeline_stats *st)
{
	const struct psw_flow_ctx *ctx = pmd->flow_ctx;

	memset(st, 0, sizeof(*st));
	if (ctx == NULL)
		return -ENOENT;
	psw_flow_cache_read_stats(ctx->cache, &st->cache);
	st->cache_entries = psw_flow_cache_entries(ctx->cache);
	st->l2_cached = ctx->l2_cached;
	st->floods = ctx->floods;
	st->copies = ctx->flood_copies;
	st->learn_posted = ctx->learn.posted;
	st->learn_lost = ctx->learn.lost;
	return 0;
}

int
psw_flow_pipeline_init(unsigned entries, unsigned aging_s, unsigned mac_limit, char *err,
		       size_t errlen)
{
	int rc;

	psw_pipeline_configure(entries, 1);
	psw_l2_set_limits(aging_s, mac_limit);
	rc = psw_flow_table_init(psw_n_pmds);
	if (rc == 0)
		rc = psw_l2_init(0);
	if (rc == 0)
		rc = psw_l2_learn_init();
	for (unsigned i = 0; rc == 0 && i < psw_n_pmds; i++)
		rc = psw_pipeline_pmd_init(psw_pmds[i]);
	if (rc < 0)
		snprintf(err, errlen, "flow pipeline set-up failed: %s", strerror(-rc));
	return rc;
}

int
psw_flow_config_networks(json_t *networks, char *err, size_t errlen)
{
	struct psw_rpc_error e;
	size_t i;
	json_t *n;

	json_array_foreach(networks, i, n) {
		json_t *r;

		if (json_is_string(n) && psw_l2_network_id(json_string_value(n)))
			continue;
		if (json_is_object(n) && json_is_string(json_object_get(n, "name")) &&
		    psw_l2_network_id(json_string_value(json_object_get(n, "name"))))
			continue;  /* already restored */
		if (json_is_string(n)) {
			json_t *p = json_pack("{sO}", "name", n);

			r = psw_rpc_network_add(p, &e);
			json_decref(p);
		} else {
			r = psw_rpc_network_add(n, &e);
		}
		if (r == NULL) {
			snprintf(err, errlen, "networks[%zu]: %s", i, e.message);
			return -EINVAL;
		}
		json_decref(r);
	}
	return 0;
}

int
psw_flow_config_flows(json_t *flows, char *err, size_t errlen)
{
	return psw_rpc_flow_add_config(flows, err, errlen);
}

void
psw_flow_port_removed(uint16_t port)
{
	psw_flow_table_port_gone(port);
	psw_l2_port_leave(port);
}

void
psw_flow_pipeline_fini(void)
{
	for (unsigned i = 0; i < psw_n_pmds; i++)
		if (psw_pmds[i])
			psw_pipeline_pmd_fini(psw_pmds[i]);
	psw_flow_table_fini();
	psw_l2_learn_fini();
	psw_l2_fini();
}

/* No rule: the port's static output, if it has one. */
static inline void
no_rule(struct psw_pmd *pmd, struct rte_mbuf *m, uint16_t in_port)
{
	uint16_t out = __atomic_load_n(&psw_ports[in_port].output, __ATOMIC_RELAXED);

	if (out == PSW_PORT_NONE)
		/* An empty table is issue 2's "no output"; a table that misses is NO_RULE. */
		psw_pmd_drop(pmd, m, in_port, __atomic_load_n(&psw_flow_n_rules, __ATOMIC_RELAXED) ?
			     PSW_DROP_NO_RULE : PSW_DROP_NO_OUTPUT);
	else if (unlikely(out == in_port))
		psw_pmd_drop(pmd, m, in_port, PSW_DROP_HAIRPIN);
	else
		psw_txq_enqueue(pmd, out, m, in_port);
}

static inline bool
l2_result_valid(const struct psw_flow_result *r, const struct psw_flow_key *k, uint32_t hash,
		uint16_t in_port)
{
	return r->in_port == in_port && r->hash == hash &&
	       rte_is_same_ether_addr(&r->src, &k->dl_src) &&
	       rte_is_same_ether_addr(&r->dst, &k->dl_dst);
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
throttle_update(struct psw_flow_ctx *ctx, uint16_t n, uint16_t hits)
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

static inline bool
may_insert(struct psw_flow_ctx *ctx)
{
	return (++ctx->ins_tick & ctx->ins_mask) == 0;
}

/* The one port a flood from in_port reaches, or PSW_PORT_NONE if there are more (or
 * none). A member list change is published with a generation bump, so a cached answer
 * never outlives the list it was read from. */
static inline uint16_t
flood_single(uint16_t net, uint16_t in_port)
{
	const struct psw_l2_members *mem = __atomic_load_n(&psw_l2_members[net], __ATOMIC_ACQUIRE);

	if (mem == NULL || mem->n != 2 || (mem->port[0] != in_port && mem->port[1] != in_port))
		return PSW_PORT_NONE;
	return mem->port[0] == in_port ? mem->port[1] : mem->port[0];
}

/* NORMAL for one packet; caches the decision for the flow when the source is known on
 * this port (a known unicast or a flood: either is exact until the FDB changes, and
 * every FDB change bumps the generation). */
static inline void
normal(struct psw_pmd *pmd, struct psw_flow_ctx *ctx, struct rte_mbuf *m, uint16_t in_port,
       const struct psw_flow_result *rr, const struct psw_flow_key *k, uint32_t hash,
       uint64_t gen, bool cached)
{
	/* The MACs are key words 1 (dl_dst, dl_src[0..1]) and 2 (dl_src[2..5] in the low half). */
	const uint64_t *w = psw_flow_key_words(k);
	uint64_t x = (w[1] * 0x9e3779b97f4a7c15ull) ^ ((w[2] & 0xffffffffu) * 0xc2b2ae3d27d4eb4full);
	struct psw_l2c_entry *c = &ctx->l2c[((x >> 40) ^ in_port) & (PSW_L2C_SIZE - 1)];
	struct psw_l2_decision d;

	if (c->gen == (uint32_t)gen && c->rr == rr && c->in_port == in_port &&
	    rte_is_same_ether_addr(&c->src, &k->dl_src) &&
	    rte_is_same_ether_addr(&c->dst, &k->dl_dst)) {
		d.net = c->net;
		d.out_port = c->out_port;
		d.verdict = c->flood ? PSW_L2_FLOOD : PSW_L2_UNICAST;
		d.src_state = PSW_L2_SRC_KNOWN;
		d.src_e = c->src_e;
		d.drop_reason = 0;
		d.dst_multicast = 0;
	} else {
		psw_l2_decide_rcu(in_port, &k->dl_src, &k->dl_dst, &d);
		if (d.src_state == PSW_L2_SRC_KNOWN && d.verdict != PSW_L2_DROP) {
			c->gen = (uint32_t)gen;
			c->rr = rr;
			c->in_port = in_port;
			c->src = k->dl_src;
			c->dst = k->dl_dst;
			c->net = d.net;
			c->out_port = d.out_port;
			c->flood = d.verdict == PSW_L2_FLOOD;
			c->src_e = d.src_e;
		}
	}
	if (unlikely(d.src_state != PSW_L2_SRC_KNOWN || d.verdict == PSW_L2_DROP)) {
		/* Not a decision to keep: cache the rule, decide again next time. */
		if (!cached && may_insert(ctx))
			psw_flow_cache_insert(ctx->cache, k, hash, gen, rr);
	} else if (may_insert(ctx)) {
		struct psw_flow_result *r = &ctx->pool[ctx->pool_next++ & ctx->pool_mask];

		r->rule = rr->rule;
		r->kind = PSW_RES_L2;
		r->out_port = d.verdict == PSW_L2_UNICAST ? d.out_port : flood_single(d.net, in_port);
		r->net = d.net;
		r->in_port = in_port;
		r->hash = hash;
		r->src = k->dl_src;
		r->dst = k->dl_dst;
		r->src_e = (struct psw_fdb_entry *)d.src_e;
		r->rule_res = rr;
		psw_flow_cache_insert(ctx->cache, k, hash, gen, r);
	}
	psw_actions_normal(pmd, ctx, m, in_port, &d);
}

/* Per-rule counters, gathered over runs of packets that hit the same rule. */
struct count_run {
	const struct psw_rule *rule;
	uint32_t packets;
	uint64_t bytes;
};

static inline void
count_flush(struct psw_pmd *pmd, struct psw_flow_ctx *ctx, struct count_run *c)
{
	if (c->rule)
		psw_rule_count(c->rule, pmd->idx, c->packets, c->bytes, ctx->now_s);
	c->rule = NULL;
	c->packets = 0;
	c->bytes = 0;
}

static inline void
count(struct psw_pmd *pmd, struct psw_flow_ctx *ctx, struct count_run *c,
      const struct psw_rule *rule, uint32_t len)
{
	if (c->rule != rule)
		count_flush(pmd, ctx, c);
	c->rule = rule;
	c->packets++;
	c->bytes += len;
}

/* ---- the L2 fast path: a table whose rules look at the Ethernet header only ---- */

/* Decide for the header (in_port, w1, w2) on table cls: the rule the full path would pick
 * (its key agrees with this one on every field the table looks at, and the others are
 * masked out by every rule) and what it does with such a packet. */
static void
memo_resolve(struct psw_l2_memo *mo, const struct psw_classifier *cls, uint64_t gen,
	     uint16_t in_port, uint64_t w1, uint64_t w2)
{
	struct psw_flow_key k;
	const struct psw_rule *rule;
	const struct psw_flow_result *res;
	struct psw_l2_decision d;

	memset(&k, 0, sizeof(k));
	k.in_port = in_port;
	memcpy(&k.dl_dst, &w1, 8);
	memcpy((char *)&k.dl_src + 2, &w2, 8);
	mo->w1 = w1;
	mo->w2 = w2;
	mo->gen = gen;
	mo->in_port = in_port;
	mo->normal = mo->flood = mo->learn = 0;
	mo->src_e = NULL;
	mo->keep = 1;
	rule = cls ? psw_classifier_lookup(cls, &k) : NULL;
	res = rule ? rule->owner : NULL;
	mo->res = res;
	if (res == NULL) {
		mo->act = PSW_MEMO_NO_RULE;
		return;
	}
	switch (res->kind) {
	case PSW_RES_OUTPUT:
		mo->act = res->out_port == in_port ? PSW_MEMO_DROP : PSW_MEMO_SEND;
		mo->out_port = res->out_port;
		mo->drop_reason = PSW_DROP_HAIRPIN;
		return;
	case PSW_RES_DROP:
		mo->act = PSW_MEMO_DROP;
		mo->drop_reason = PSW_DROP_ACTION_DROP;
		return;
	case PSW_RES_NORMAL:
		break;
	default:
		mo->act = PSW_MEMO_RUN;
		return;
	}
	psw_l2_decide_rcu(in_port, &k.dl_src, &k.dl_dst, &d);
	mo->normal = 1;
	mo->net = d.net;
	if (d.src_state == PSW_L2_SRC_KNOWN)
		mo->src_e = d.src_e;
	else if (d.src_state == PSW_L2_SRC_NEW || d.src_state == PSW_L2_SRC_MOVED)
		mo->learn = 1;
	/* Learning to come or a drop (a MAC limit, say) can change without a generation
	 * bump that concerns this decision: decide again in the next burst. */
	mo->keep = d.src_state == PSW_L2_SRC_KNOWN && d.verdict != PSW_L2_DROP;
	switch (d.verdict) {
	case PSW_L2_UNICAST:
		mo->act = PSW_MEMO_SEND;
		mo->out_port = d.out_port;
		break;
	case PSW_L2_FLOOD:
		mo->flood = 1;
		mo->out_port = flood_single(d.net, in_port);
		mo->act = mo->out_port != PSW_PORT_NONE ? PSW_MEMO_SEND : PSW_MEMO_FLOOD;
		break;
	default:
		mo->act = PSW_MEMO_DROP;
		mo->drop_reason = d.drop_reason;
		break;
	}
}

/* Once per run of packets with the memo's header: NORMAL's refresh or learn event. */
static inline void
memo_effects(struct psw_pmd *pmd, struct psw_flow_ctx *ctx, const struct psw_l2_memo *mo,
	     const struct rte_mbuf *m, uint16_t in_port)
{
	if (mo->src_e != NULL) {
		/* Shared line: written only when the second changes. */
		if (unlikely(mo->src_e->seen != ctx->now_s))
			__atomic_store_n(&((struct psw_fdb_entry *)mo->src_e)->seen, ctx->now_s,
					 __ATOMIC_RELAXED);
	} else if (mo->learn) {
		const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

		psw_l2_learn_post_filtered(&ctx->learn, pmd->now, mo->net, &eh->src_addr, in_port);
	}
}

/* Queue pkts[0..n) on port (enabled, not the input port): one check for the run. */
static inline void
send_run(struct psw_pmd *pmd, uint16_t port, struct rte_mbuf **pkts, uint16_t n,
	 uint16_t in_port)
{
	struct psw_txbuf *b;

	if (unlikely(port >= PSW_MAX_PORTS ||
		     !__atomic_load_n(&psw_ports[port].enabled, __ATOMIC_ACQUIRE))) {
		for (uint16_t i = 0; i < n; i++)
			psw_pmd_drop(pmd, pkts[i], in_port, PSW_DROP_PORT_DOWN);
		return;
	}
	b = &pmd->txbuf[port];
	if (!b->listed) {
		b->listed = 1;
		pmd->dirty[pmd->n_dirty++] = port;
	}
	while (n > 0) {
		uint16_t c = PSW_TXBUF - b->n < n ? PSW_TXBUF - b->n : n;

		rte_memcpy(&b->pkts[b->n], pkts, sizeof(pkts[0]) * c);
		b->n += c;
		pkts += c;
		n -= c;
		if (unlikely(b->n == PSW_TXBUF))
			psw_txq_flush_port(pmd, port);
	}
}

/* pkts[0..n) all have the memo's header: act on them, count them as one run. */
static inline void
memo_run(struct psw_pmd *pmd, struct psw_flow_ctx *ctx, const struct psw_l2_memo *mo,
	 struct rte_mbuf **pkts, uint16_t n, uint16_t in_port, uint32_t bytes)
{
	uint16_t i, out;

	memo_effects(pmd, ctx, mo, pkts[0], in_port);
	if (mo->res != NULL)
		psw_rule_count(mo->res->rule, pmd->idx, n, bytes, ctx->now_s);
	if (mo->normal)
		ctx->l2_cached += n - 1u;
	switch (mo->act) {
	case PSW_MEMO_SEND:
		if (mo->flood)
			ctx->floods += n;   /* a flood that reaches one port: no copy */
		send_run(pmd, mo->out_port, pkts, n, in_port);
		break;
	case PSW_MEMO_FLOOD:
		for (i = 0; i < n; i++)
			psw_actions_flood(pmd, ctx, pkts[i], in_port, mo->net);
		break;
	case PSW_MEMO_DROP:
		for (i = 0; i < n; i++)
			psw_pmd_drop(pmd, pkts[i], in_port, mo->drop_reason);
		break;
	case PSW_MEMO_RUN:
		for (i = 0; i < n; i++)
			psw_actions_run(pmd, ctx, pkts[i], in_port, mo->res->rule);
		break;
	default:
		/* No rule: the port's static output, read once for the run. */
		out = __atomic_load_n(&psw_ports[in_port].output, __ATOMIC_RELAXED);
		if (likely(out != PSW_PORT_NONE && out != in_port))
			send_run(pmd, out, pkts, n, in_port);
		else
			for (i = 0; i < n; i++)
				no_rule(pmd, pkts[i], in_port);
		break;
	}
}

/* A burst on a PSW_SHAPE_L2 table: no L3/L4 key, no exact-match cache; one decision per
 * run of packets with the same Ethernet header (usually the whole burst). */
static void
burst_l2(struct psw_pmd *pmd, struct psw_flow_ctx *ctx, uint16_t in_port,
	 struct rte_mbuf **pkts, uint16_t n, const struct psw_classifier *cls, uint64_t gen)
{
	struct psw_l2_run runs[PSW_BURST];
	struct psw_l2_memo *mo = &ctx->memo;
	bool live = mo->keep && mo->gen == gen && mo->in_port == in_port;
	uint16_t nr = psw_parse_l2_runs(pkts, n, runs);

	for (uint16_t r = 0; r < nr; r++) {
		const struct psw_l2_run *run = &runs[r];

		if (unlikely(run->bad)) {
			for (uint16_t i = 0; i < run->n; i++)
				psw_pmd_drop(pmd, pkts[run->start + i], in_port,
					     run->bad & PSW_KEY_F_TRUNCATED ?
					     PSW_DROP_TRUNCATED : PSW_DROP_MALFORMED);
			continue;
		}
		if (unlikely(!live || run->w1 != mo->w1 || run->w2 != mo->w2)) {
			memo_resolve(mo, cls, gen, in_port, run->w1, run->w2);
			live = true;
		}
		memo_run(pmd, ctx, mo, pkts + run->start, run->n, in_port, run->bytes);
	}
}

static void
burst(struct psw_pmd *pmd, struct psw_flow_ctx *ctx, uint16_t in_port,
      struct rte_mbuf **pkts, uint16_t n)
{
	struct psw_flow_key keys[PSW_BURST];
	uint32_t hashes[PSW_BURST];
	const struct psw_flow_result *res[PSW_BURST];
	bool hit[PSW_BURST];
	struct count_run run = {0};
	/* Generation first, then the table (flow_cache.h). */
	uint64_t gen = __atomic_load_n(&psw_generation, __ATOMIC_ACQUIRE);
	const struct psw_flow_view *view = __atomic_load_n(&psw_flow_view, __ATOMIC_ACQUIRE);
	const struct psw_classifier *cls = view ? view->cls : NULL;
	uint16_t i, hits;

	ctx->now_s = pmd->now / tsc_hz;
	if (view == NULL || view->shape == PSW_SHAPE_L2) {
		burst_l2(pmd, ctx, in_port, pkts, n, cls, gen);
		return;
	}
	if (view->cache_masked && ctx->mask_on) {
		/* Megaflow-style: the cache keys on what some rule looks at (and what NORMAL
		 * needs), so flows that differ elsewhere share an entry and the classifier;
		 * the hash is taken after the mask (not the device's). A separate pass: the
		 * keys were just written field by field (store forwarding, parse.c). */
		psw_parse_burst_masked(pkts, n, in_port, &view->cache_mask, keys, hashes);
	} else {
		psw_parse_burst(pkts, n, in_port, keys, hashes);
	}
	hits = psw_flow_cache_lookup_burst(ctx->cache, keys, hashes, n, gen, res);
	throttle_update(ctx, n, hits);
	if (hits < n) {
		const struct psw_rule *rules[PSW_BURST];
		struct psw_flow_key mkeys[PSW_BURST];
		uint16_t midx[PSW_BURST], nm = 0;

		/* The misses go to the classifier as one burst: in place when the whole burst
		 * missed (many flows), else gathered. */
		for (i = 0; i < n; i++) {
			hit[i] = res[i] != NULL;
			if (!hit[i] && !(keys[i].flags & PSW_KEY_F_BAD))
				midx[nm++] = i;
		}
		if (cls != NULL && nm == n) {
			psw_classifier_lookup_burst(cls, keys, n, rules);
		} else if (cls != NULL && nm > 0) {
			for (uint16_t j = 0; j < nm; j++)
				mkeys[j] = keys[midx[j]];
			psw_classifier_lookup_burst(cls, mkeys, nm, rules);
		}
		for (uint16_t j = 0; cls != NULL && j < nm; j++) {
			const struct psw_rule *rule = rules[nm == n ? midx[j] : j];

			i = midx[j];
			if (rule == NULL)
				continue;
			res[i] = rule->owner;
			/* NORMAL inserts its own result (the decision, or the rule's). */
			if (res[i]->kind != PSW_RES_NORMAL && may_insert(ctx))
				psw_flow_cache_insert(ctx->cache, &keys[i], hashes[i], gen, res[i]);
		}
	} else {
		memset(hit, 1, sizeof(hit[0]) * n);
	}

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct psw_flow_result *r = res[i];

		if (i + 1 < n)
			rte_prefetch0(res[i + 1]);
		if (unlikely(keys[i].flags & PSW_KEY_F_BAD)) {
			psw_pmd_drop(pmd, m, in_port, keys[i].flags & PSW_KEY_F_TRUNCATED ?
				     PSW_DROP_TRUNCATED : PSW_DROP_MALFORMED);
			continue;
		}
		if (unlikely(r == NULL)) {
			no_rule(pmd, m, in_port);
			continue;
		}
		count(pmd, ctx, &run, r->rule, m->pkt_len);
		switch (r->kind) {
		case PSW_RES_L2:
			if (likely(l2_result_valid(r, &keys[i], hashes[i], in_port))) {
				struct psw_fdb_entry *e = r->src_e;

				/* Shared line: written only when the second changes. */
				if (unlikely(e->seen != ctx->now_s))
					__atomic_store_n(&e->seen, ctx->now_s, __ATOMIC_RELAXED);
				ctx->l2_cached++;
				if (likely(r->out_port != PSW_PORT_NONE))
					psw_txq_enqueue(pmd, r->out_port, m, in_port);
				else
					psw_actions_flood(pmd, ctx, m, in_port, r->net);
				break;
			}
			normal(pmd, ctx, m, in_port, r->rule_res, &keys[i], hashes[i], gen, false);
			break;
		case PSW_RES_NORMAL:
			normal(pmd, ctx, m, in_port, r, &keys[i], hashes[i], gen, hit[i]);
			break;
		case PSW_RES_OUTPUT:
			if (unlikely(r->out_port == in_port))
				psw_pmd_drop(pmd, m, in_port, PSW_DROP_HAIRPIN);
			else
				psw_txq_enqueue(pmd, r->out_port, m, in_port);
			break;
		case PSW_RES_DROP:
			psw_pmd_drop(pmd, m, in_port, PSW_DROP_ACTION_DROP);
			break;
		default:
			psw_actions_run(pmd, ctx, m, in_port, r->rule);
			break;
		}
	}
	count_flush(pmd, ctx, &run);
}

void
psw_pipeline_burst(struct psw_pmd *pmd, uint16_t in_port, struct rte_mbuf **pkts, uint16_t n)
{
	struct psw_flow_ctx *ctx = pmd->flow_ctx;

	if (unlikely(ctx == NULL)) {
		for (uint16_t i = 0; i < n; i++)
			no_rule(pmd, pkts[i], in_port);
		return;
	}
	while (n > 0) {
		uint16_t c = n > PSW_BURST ? PSW_BURST : n;

		burst(pmd, ctx, in_port, pkts, c);
		pkts += c;
		n -= c;
	}
}
