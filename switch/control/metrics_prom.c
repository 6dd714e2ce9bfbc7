/*
 * metrics_prom.c: the /metrics page (metrics_http.h) in the Prometheus text format:
 * podswitch_* counters and gauges from metrics.c, labelled port, reason, pmd, network.
 * Runs on the HTTP server's thread; reads only through metrics.c.
 * README.md "Monitoring" lists every name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_version.h>

#include "control/metrics.h"
#include "control/metrics_fmt.h"
#include "control/metrics_http.h"
#include "core/clock.h"
#include "l2/l2.h"

struct port_metric {
	const char *name, *help;
	size_t off;     /* in struct psw_port_counters */
};

static const struct port_metric port_metrics[] = {
	{"podswitch_port_rx_packets_total", "Packets received on the port.",
	 offsetof(struct psw_port_counters, rx_packets)},
	{"podswitch_port_rx_bytes_total", "Bytes received on the port.",
	 offsetof(struct psw_port_counters, rx_bytes)},
	{"podswitch_port_tx_packets_total", "Packets sent out of the port.",
	 offsetof(struct psw_port_counters, tx_packets)},
	{"podswitch_port_tx_bytes_total", "Bytes sent out of the port.",
	 offsetof(struct psw_port_counters, tx_bytes)},
	{"podswitch_port_tx_drops_total",
	 "Packets for the port that it did not take (queue full, link down, over the MTU).",
	 offsetof(struct psw_port_counters, tx_drops)},
};

struct pmd_metric {
	const char *name, *type, *help;
	uint64_t (*get)(const struct psw_metrics_pmd *);
};

#define GET(fn, expr) \
	static uint64_t fn(const struct psw_metrics_pmd *m) { return (expr); }
GET(busy, m->s.busy_cycles)
GET(idle, m->s.idle_cycles)
GET(packets, m->s.packets)
GET(iters, m->s.iterations)
GET(busy_iters, m->perf.busy_iterations)
GET(sleeps, m->s.sleeps)
GET(hits, m->p.cache.hits)
GET(misses, m->p.cache.misses)
GET(inserts, m->p.cache.inserts)
GET(evictions, m->p.cache.evictions)
GET(l2_cached, m->p.l2_cached)
GET(floods, m->p.floods)
#undef GET

static const struct pmd_metric pmd_metrics[] = {
	{"podswitch_pmd_busy_cycles_total", "counter",
	 "TSC cycles of PMD iterations that received packets.", busy},
	{"podswitch_pmd_idle_cycles_total", "counter",
	 "TSC cycles of PMD iterations that received nothing.", idle},
	{"podswitch_pmd_packets_total", "counter", "Packets the PMD received.", packets},
	{"podswitch_pmd_iterations_total", "counter", "PMD loop iterations.", iters},
	{"podswitch_pmd_busy_iterations_total", "counter",
	 "PMD loop iterations that received packets.", busy_iters},
	{"podswitch_pmd_sleeps_total", "counter", "Idle back-off sleeps of the PMD.", sleeps},
	{"podswitch_pmd_cache_hits_total", "counter",
	 "Exact-match cache hits (full path).", hits},
	{"podswitch_pmd_cache_misses_total", "counter",
	 "Exact-match cache misses (full path).", misses},
	{"podswitch_pmd_cache_inserts_total", "counter", "Exact-match cache inserts.", inserts},
	{"podswitch_pmd_cache_evictions_total", "counter",
	 "Exact-match cache entries replaced.", evictions},
	{"podswitch_pmd_l2_cached_total", "counter",
	 "Packets forwarded by a cached L2 decision (memo or L2 decision cache).", l2_cached},
	{"podswitch_pmd_floods_total", "counter", "Packets flooded.", floods},
};

static void
render_ports(struct psw_text *t, const struct psw_metrics_port *ports, unsigned n)
{
	psw_prom_head(t, "podswitch_port_info", "gauge",
		      "A port of the switch (value 1), with its type and id.");
	for (unsigned i = 0; i < n; i++) {
		char id[8];

		snprintf(id, sizeof(id), "%u", ports[i].id);
		psw_prom_sample(t, "podswitch_port_info", (const char *const[]){
			"port", ports[i].name, "type", ports[i].type, "id", id, NULL}, 1);
	}
	for (size_t m = 0; m < RTE_DIM(port_metrics); m++) {
		psw_prom_head(t, port_metrics[m].name, "counter", port_metrics[m].help);
		for (unsigned i = 0; i < n; i++)
			psw_prom_sample(t, port_metrics[m].name,
					(const char *const[]){"port", ports[i].name, NULL},
					*(const uint64_t *)((const char *)&ports[i].c +
							    port_metrics[m].off));
	}
	psw_prom_head(t, "podswitch_drops_total", "counter",
		      "Packets dropped, by the port that received them (or, for tx_full, "
		      "port_down and mtu, the port they were for) and reason.");
	for (unsigned i = 0; i < n; i++)
		for (unsigned r = 0; r < PSW_DROP_MAX; r++)
			psw_prom_sample(t, "podswitch_drops_total", (const char *const[]){
				"port", ports[i].name, "reason", psw_drop_names[r], NULL},
				ports[i].c.drops[r]);
}

static void
render_pmds(struct psw_text *t, const struct psw_metrics_pmd *pmds, unsigned n)
{
	char idx[PSW_MAX_PMDS][8], lc[PSW_MAX_PMDS][8];

	for (unsigned i = 0; i < n; i++) {
		snprintf(idx[i], sizeof(idx[i]), "%u", pmds[i].index);
		snprintf(lc[i], sizeof(lc[i]), "%u", pmds[i].lcore);
	}
	psw_prom_head(t, "podswitch_pmd_info", "gauge",
		      "A PMD thread (value 1) and the lcore it runs on.");
	for (unsigned i = 0; i < n; i++)
		psw_prom_sample(t, "podswitch_pmd_info",
				(const char *const[]){"pmd", idx[i], "lcore", lc[i], NULL}, 1);
	for (size_t m = 0; m < RTE_DIM(pmd_metrics); m++) {
		psw_prom_head(t, pmd_metrics[m].name, pmd_metrics[m].type, pmd_metrics[m].help);
		for (unsigned i = 0; i < n; i++)
			psw_prom_sample(t, pmd_metrics[m].name,
					(const char *const[]){"pmd", idx[i], NULL},
					pmd_metrics[m].get(&pmds[i]));
	}
	psw_prom_head(t, "podswitch_pmd_lookups_total", "counter",
		      "Packets by what decided them: the exact-match cache (emc), the L2 fast "
		      "path's memo (l2_memo), a classifier lookup (classifier), or nothing "
		      "(none: malformed, truncated).");
	for (unsigned i = 0; i < n; i++) {
		const struct psw_metrics_pmd *p = &pmds[i];
		uint64_t memo = p->perf.l2_packets - p->perf.l2_resolves - p->perf.l2_bad;
		uint64_t cls = p->perf.cls_lookups + p->perf.l2_resolves;
		uint64_t none = p->p.cache.misses - p->perf.cls_lookups + p->perf.l2_bad;

		psw_prom_sample(t, "podswitch_pmd_lookups_total",
				(const char *const[]){"pmd", idx[i], "by", "emc", NULL},
				p->p.cache.hits);
		psw_prom_sample(t, "podswitch_pmd_lookups_total",
				(const char *const[]){"pmd", idx[i], "by", "l2_memo", NULL}, memo);
		psw_prom_sample(t, "podswitch_pmd_lookups_total",
				(const char *const[]){"pmd", idx[i], "by", "classifier", NULL}, cls);
		psw_prom_sample(t, "podswitch_pmd_lookups_total",
				(const char *const[]){"pmd", idx[i], "by", "none", NULL}, none);
	}
}

static void
render_tables(struct psw_text *t)
{
	static struct psw_metrics_net nets[PSW_L2_MAX_NETS];    /* the HTTP thread's */
	struct psw_metrics_tables tb;
	unsigned n = psw_metrics_tables(&tb, nets, PSW_L2_MAX_NETS);

	psw_prom_head(t, "podswitch_rules", "gauge", "Rules in the flow table.");
	psw_prom_sample(t, "podswitch_rules", NULL, tb.rules);
	psw_prom_head(t, "podswitch_fdb_entries", "gauge", "MAC table entries, all networks.");
	psw_prom_sample(t, "podswitch_fdb_entries", NULL, tb.fdb_entries);
	psw_prom_head(t, "podswitch_network_macs", "gauge", "MAC table entries of a network.");
	for (unsigned i = 0; i < n; i++)
		psw_prom_sample(t, "podswitch_network_macs",
				(const char *const[]){"network", nets[i].name, NULL}, nets[i].macs);
	psw_prom_head(t, "podswitch_neighbor_entries", "gauge",
		      "Underlay neighbor (ARP/ND) entries.");
	psw_prom_sample(t, "podswitch_neighbor_entries", NULL, tb.neigh_entries);
	psw_prom_head(t, "podswitch_control_requests_total", "counter",
		      "Control-socket requests handled.");
	psw_prom_sample(t, "podswitch_control_requests_total", NULL, tb.ctl_requests);
	psw_prom_head(t, "podswitch_control_errors_total", "counter",
		      "Control-socket requests answered with an error.");
	psw_prom_sample(t, "podswitch_control_errors_total", NULL, tb.ctl_errors);
	psw_prom_head(t, "podswitch_control_clients", "gauge",
		      "Clients connected to the control socket.");
	psw_prom_sample(t, "podswitch_control_clients", NULL, tb.ctl_clients);
}

int
psw_metrics_render_prom(struct psw_text *t)
{
	struct psw_metrics_port *ports;
	struct psw_metrics_pmd pmds[PSW_MAX_PMDS];
	unsigned np, nd;

	ports = malloc(sizeof(*ports) * PSW_MAX_PORTS);
	if (ports == NULL)
		return -1;
	if (!psw_metrics_begin()) {
		free(ports);
		return -1;
	}
	np = psw_metrics_ports(ports, PSW_MAX_PORTS);
	nd = psw_metrics_pmds(pmds, PSW_MAX_PMDS);
	psw_prom_head(t, "podswitch_info", "gauge", "podswitchd (value 1) and its versions.");
	psw_prom_sample(t, "podswitch_info", (const char *const[]){
		"version", PODSWITCH_VERSION, "dpdk", rte_version(), NULL}, 1);
	psw_prom_head(t, "podswitch_uptime_seconds", "gauge", "Seconds since podswitchd started.");
	psw_prom_sample_f(t, "podswitch_uptime_seconds", NULL, psw_clock_uptime_s());
	psw_prom_head(t, "podswitch_tsc_hz", "gauge",
		      "TSC cycles per second (the unit of the pmd cycle counters).");
	psw_prom_sample(t, "podswitch_tsc_hz", NULL, rte_get_tsc_hz());
	render_ports(t, ports, np);
	render_pmds(t, pmds, nd);
	render_tables(t);
	psw_metrics_end();
	free(ports);
	return t->oom ? -1 : 0;
}
