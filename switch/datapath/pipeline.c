/*
 * pipeline.c: the packet path of one rx burst, as an ordered list of stages (PMD threads),
 * between the PMD loop's rx (pmd.c) and its tx flush (txq.c):
 *
 *   from the uplink:
 *       neigh (ARP/ND for the underlay) -> tunnel decap -> then, per transport port,
 *       the path below with the inner frames
 *   L2 table (every rule looks at in_port and the Ethernet header only):
 *       l2_path                              runs of equal headers, one decision each
 *   otherwise:
 *       parse -> flow_cache -> classify -> actions
 *   and in the tx stage (txq.c): tunnel encap for what goes to a transport port
 *
 * Every stage is `psw_<stage>_burst(pmd, burst)` (core/burst.h) in its own file; a new
 * feature adds its stage here (DESIGN.md has the order once tunnels, conntrack, services
 * and policy land). Also the per-PMD state the stages share (ctx.h): made here for every
 * PMD and for the trace's own context.
 *
 * Generation: read once per burst, before the table pointer (flow_cache.h's rule), and
 * every result is cached with it; any table change bumps it and every cached result goes
 * stale.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "core/rcu.h"
#include "datapath/actions.h"
#include "datapath/capture_dp.h"
#include "datapath/classify.h"
#include "datapath/ctx.h"
#include "datapath/flow_cache.h"
#include "datapath/l2_path.h"
#include "datapath/parse.h"
#include "datapath/pipeline.h"
#include "flow/flow_table.h"
#include "neigh/neigh.h"
#include "neigh/neigh_dp.h"
#include "tunnel/tunnel_dp.h"

static unsigned cache_entries = PSW_PIPELINE_DEFAULT_CACHE;
static unsigned cache_inv_prob = 1;

void
psw_pipeline_run(struct psw_pmd *pmd, struct psw_burst *b)
{
	/* Generations first, then the tables (flow_cache.h). */
	b->gen = __atomic_load_n(&psw_generation, __ATOMIC_ACQUIRE);
	b->learn_gen = __atomic_load_n(&psw_l2_learn_gen, __ATOMIC_ACQUIRE);
	b->view = __atomic_load_n(&psw_flow_view, __ATOMIC_ACQUIRE);
	b->now_s = pmd->now_s;
	if (b->view == NULL || b->view->shape == PSW_SHAPE_L2) {
		psw_l2_path_burst(pmd, b);
		return;
	}
	psw_parse_burst(pmd, b);
	psw_flow_cache_burst(pmd, b);
	psw_classify_burst(pmd, b);
	psw_actions_burst(pmd, b);
}

/* Send what a stage answered in place (ARP/ND replies). */
static void
answers(struct psw_pmd *pmd, struct psw_burst *b)
{
	for (uint16_t i = 0; i < b->n_tx; i++)
		psw_txq_enqueue(pmd, b->tx_port[i], b->tx_pkts[i], b->in_port);
	b->n_tx = 0;
}

/* A burst from the uplink: the underlay's own ARP/ND, then the transports' inner frames,
 * each group as received on its transport port. */
static void
uplink_burst(struct psw_pmd *pmd, struct psw_burst *b)
{
	struct psw_tunnel_groups g;
	struct psw_burst sub;

	psw_neigh_burst(pmd, b);
	answers(pmd, b);
	psw_tunnel_decap_burst(pmd, b, &g);
	sub.n_tx = 0;
	for (uint16_t i = 0; i < g.n; i++) {
		sub.pkts = b->pkts + g.start[i];
		sub.n = g.len[i];
		sub.in_port = g.port[i];
		sub.tun_id = g.tun_id[i];
		psw_capture_hook(pmd, sub.in_port, sub.pkts, sub.n, PSW_CAPTURE_RX);
		psw_pipeline_run(pmd, &sub);
		answers(pmd, &sub);
	}
}

void
psw_pipeline_burst(struct psw_pmd *pmd, uint16_t in_port, struct rte_mbuf **pkts, uint16_t n)
{
	struct psw_burst b;

	pmd->perf.rx_bursts[n < PSW_BURST ? n : PSW_BURST]++;
	psw_capture_hook(pmd, in_port, pkts, n, PSW_CAPTURE_RX);
	if (unlikely(pmd->ctx == NULL)) {
		for (uint16_t i = 0; i < n; i++)
			psw_actions_no_rule(pmd, pkts[i], in_port);
		return;
	}
	b.in_port = in_port;
	b.tun_id = 0;
	b.n_tx = 0;
	while (n > 0) {
		uint16_t c = n > PSW_BURST ? PSW_BURST : n;

		b.n = c;
		b.pkts = pkts;
		if (unlikely(in_port == __atomic_load_n(&psw_uplink_port, __ATOMIC_RELAXED))) {
			b.now_s = pmd->now_s;
			uplink_burst(pmd, &b);
		} else {
			psw_pipeline_run(pmd, &b);
		}
		pkts += c;
		n -= c;
	}
}

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
	struct psw_dp_ctx *ctx;
	unsigned pool = cache_entries * 2;
	int rc;

	if (pmd->ctx)
		return 0;
	ctx = rte_zmalloc_socket("psw_dp_ctx", sizeof(*ctx), RTE_CACHE_LINE_SIZE, socket);
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
	pmd->ctx = ctx;
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
	struct psw_dp_ctx *ctx = pmd->ctx;

	if (ctx == NULL)
		return;
	pmd->ctx = NULL;
	psw_flow_cache_free(ctx->cache);
	rte_free(ctx->pool);
	rte_free(ctx);
}

int
psw_pipeline_init(unsigned entries, char *err, size_t errlen)
{
	int rc = 0;

	psw_pipeline_configure(entries, 1);
	for (unsigned i = 0; rc == 0 && i < psw_n_pmds; i++)
		rc = psw_pipeline_pmd_init(psw_pmds[i]);
	if (rc < 0)
		snprintf(err, errlen, "datapath set-up failed: %s", strerror(-rc));
	return rc;
}

void
psw_pipeline_fini(void)
{
	for (unsigned i = 0; i < psw_n_pmds; i++)
		if (psw_pmds[i])
			psw_pipeline_pmd_fini(psw_pmds[i]);
}

int
psw_pipeline_read_stats(const struct psw_pmd *pmd, struct psw_pipeline_stats *st)
{
	const struct psw_dp_ctx *ctx = pmd->ctx;

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
