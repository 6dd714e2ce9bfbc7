/*
 * rpc_pmd_perf.c: pmd.perf (control thread), `podswitchctl pmd perf`: where each PMD's
 * time and packets go, like OVS's dpif-netdev/pmd-perf-show. From the PMD counters
 * (core/burst.h: stats and perf) and the datapath caches' counters, read as metrics.c
 * reads them. Per PMD: iterations and the busy share, cycles per packet, packets per
 * busy iteration, rx bursts by size, and what decided each packet: the exact-match
 * cache, the L2 fast path's memo, a classifier lookup, or nothing (malformed).
 * {"clear": true} moves this command's own baseline (not pmd.stats' or the metrics').
 */
#include <rte_cycles.h>

#include "control/metrics.h"
#include "control/rpc_pmd_perf.h"

static struct psw_metrics_pmd base[PSW_MAX_PMDS];

static const struct psw_rpc_param perf_params[] = {
	{"clear", PSW_T_BOOL, false},
	{NULL},
};

/* cur - base, word by word, for the uint64_t-only structs. */
static void
sub_words(void *cur, const void *b, size_t size)
{
	uint64_t *c = cur;
	const uint64_t *o = b;

	for (size_t w = 0; w < size / 8; w++)
		c[w] -= o[w];
}

static json_t *
pmd_json(const struct psw_metrics_pmd *m)
{
	const struct psw_pmd_perf *pf = &m->perf;
	uint64_t total = m->s.busy_cycles + m->s.idle_cycles, bursts = 0, in_bursts = 0;
	uint64_t memo = pf->l2_packets - pf->l2_resolves - pf->l2_bad;
	uint64_t cls = pf->cls_lookups + pf->l2_resolves;
	uint64_t none = m->p.cache.misses - pf->cls_lookups + pf->l2_bad;
	json_t *hist = json_array(), *o;

	for (unsigned n = 0; n <= PSW_BURST; n++) {
		json_array_append_new(hist, json_integer((json_int_t)pf->rx_bursts[n]));
		bursts += pf->rx_bursts[n];
		in_bursts += n * pf->rx_bursts[n];
	}
	o = json_pack("{s:i,s:i,s:I,s:I,s:f,s:I,s:I,s:I,s:f,s:f,s:I,s:f,s:o}",
		      "index", (int)m->index, "lcore", (int)m->lcore,
		      "iterations", (json_int_t)m->s.iterations,
		      "busy_iterations", (json_int_t)pf->busy_iterations,
		      "busy_pct", total ? 100.0 * (double)m->s.busy_cycles / (double)total : 0.0,
		      "busy_cycles", (json_int_t)m->s.busy_cycles,
		      "idle_cycles", (json_int_t)m->s.idle_cycles,
		      "packets", (json_int_t)m->s.packets,
		      "cycles_per_packet", m->s.packets ? (double)m->s.busy_cycles /
							  (double)m->s.packets : 0.0,
		      "packets_per_busy_iteration", pf->busy_iterations ?
			      (double)m->s.packets / (double)pf->busy_iterations : 0.0,
		      "rx_bursts", (json_int_t)bursts,
		      "avg_burst", bursts ? (double)in_bursts / (double)bursts : 0.0,
		      "rx_burst_sizes", hist);
	json_object_set_new(o, "lookups", json_pack("{s:I,s:I,s:I,s:I,s:I}",
		"total", (json_int_t)(m->p.cache.hits + memo + cls + none),
		"emc", (json_int_t)m->p.cache.hits, "l2_memo", (json_int_t)memo,
		"classifier", (json_int_t)cls, "none", (json_int_t)none));
	json_object_set_new(o, "l2_cached", json_integer((json_int_t)m->p.l2_cached));
	return o;
}

static json_t *
rpc_pmd_perf(json_t *params, struct psw_rpc_error *err)
{
	struct psw_metrics_pmd cur[PSW_MAX_PMDS];
	json_t *pmds, *v;
	unsigned n;

	if (psw_rpc_check_params(params, perf_params, err) != 0)
		return NULL;
	n = psw_metrics_pmds(cur, PSW_MAX_PMDS);
	v = json_object_get(params, "clear");
	if (v != NULL && json_is_true(v)) {
		for (unsigned i = 0; i < n; i++)
			base[i] = cur[i];
		return json_object();
	}
	pmds = json_array();
	for (unsigned i = 0; i < n; i++) {
		sub_words(&cur[i].s, &base[i].s, sizeof(cur[i].s));
		sub_words(&cur[i].perf, &base[i].perf, sizeof(cur[i].perf));
		sub_words(&cur[i].p.cache, &base[i].p.cache, sizeof(cur[i].p.cache));
		cur[i].p.l2_cached -= base[i].p.l2_cached;
		json_array_append_new(pmds, pmd_json(&cur[i]));
	}
	return json_pack("{s:I,s:o}", "tsc_hz", (json_int_t)rte_get_tsc_hz(), "pmds", pmds);
}

const struct psw_rpc_method psw_rpc_pmd_perf_methods[] = {
	{"pmd.perf", rpc_pmd_perf},
	{NULL, NULL},
};
