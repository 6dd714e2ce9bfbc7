/*
 * rpc_switch.c: switch.info, stats.get, stats.clear, pmd.stats, pmd.rxq and flow.stats
 * (control thread): what the whole switch counts, over every layer.
 * Counters are summed over PMDs on read (port.c, pmd.c); a clear moves a baseline.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_malloc.h>
#include <rte_cycles.h>
#include <rte_version.h>

#include "control/control.h"
#include "control/rpc_switch.h"
#include "control/trace.h"
#include "core/clock.h"
#include "ctl/rpc.h"
#include "datapath/pipeline.h"
#include "datapath/pmd.h"
#include "flow/classifier.h"
#include "flow/flow_table.h"
#include "l2/l2.h"
#include "port/port.h"
#include "port/rpc_port.h"

static const struct psw_control *control;
static json_t *start_info;

void
psw_rpc_switch_set_info(json_t *info)
{
	json_decref(start_info);
	start_info = info;
}

void
psw_rpc_switch_set_control(const struct psw_control *c)
{
	control = c;
}

static const struct psw_rpc_param no_params[] = {{NULL}};

static json_t *
rpc_switch_info(json_t *params, struct psw_rpc_error *err)
{
	struct rte_malloc_socket_stats ms;
	json_t *o;

	if (psw_rpc_check_params(params, no_params, err) != 0)
		return NULL;
	o = json_pack("{s:s,s:s,s:i,s:I,s:i}",
		      "version", PODSWITCH_VERSION, "dpdk", rte_version(), "pid", (int)getpid(),
		      "uptime_s", (json_int_t)psw_clock_uptime_s(), "ports", (int)psw_port_count());
	if (start_info != NULL)
		json_object_update(o, start_info);
	memset(&ms, 0, sizeof(ms));
	rte_malloc_get_socket_stats((int)rte_socket_id(), &ms);
	json_object_set_new(o, "heap_allocated_bytes", json_integer((json_int_t)ms.heap_allocsz_bytes));
	json_object_set_new(o, "tsc_hz", json_integer((json_int_t)rte_get_tsc_hz()));
	if (control != NULL) {
		struct psw_control_stats cs;

		psw_control_get_stats(control, &cs);
		json_object_set_new(o, "control", json_pack("{s:i,s:I,s:I,s:I,s:I,s:I}",
			"clients", (int)cs.clients, "accepted", (json_int_t)cs.accepted,
			"refused", (json_int_t)cs.refused, "requests", (json_int_t)cs.requests,
			"errors", (json_int_t)cs.errors, "dropped", (json_int_t)cs.dropped));
	}
	return o;
}

static const struct psw_rpc_param port_param[] = {
	{"port", PSW_T_STRING, false},
	{NULL},
};

static int
port_arg(json_t *params, int *id, struct psw_rpc_error *err)
{
	json_t *v = json_object_get(params, "port");
	const struct psw_port *p;

	*id = -1;
	if (v == NULL)
		return 0;
	p = psw_port_by_name(json_string_value(v));
	if (p == NULL) {
		psw_rpc_err(err, PSW_RPC_NOT_FOUND, "port: no port \"%s\"", json_string_value(v));
		return -1;
	}
	*id = p->id;
	return 0;
}

static json_t *
rpc_stats_get(json_t *params, struct psw_rpc_error *err)
{
	json_t *ports, *totals;
	uint64_t sum[PSW_DROP_MAX] = {0};
	int id;

	if (psw_rpc_check_params(params, port_param, err) != 0 || port_arg(params, &id, err) != 0)
		return NULL;
	ports = json_array();
	for (unsigned i = 0; i < PSW_MAX_PORTS; i++) {
		struct psw_port_counters c;

		if (!psw_ports[i].used || (id >= 0 && (int)i != id))
			continue;
		json_array_append_new(ports, psw_rpc_port_stats_json((uint16_t)i));
		psw_port_read_counters((uint16_t)i, &c);
		for (unsigned r = 0; r < PSW_DROP_MAX; r++)
			sum[r] += c.drops[r];
	}
	totals = json_object();
	for (unsigned r = 0; r < PSW_DROP_MAX; r++)
		json_object_set_new(totals, psw_drop_names[r], json_integer((json_int_t)sum[r]));
	return json_pack("{s:o,s:o}", "ports", ports, "drops_by_reason", totals);
}

static json_t *
rpc_stats_clear(json_t *params, struct psw_rpc_error *err)
{
	int id;

	if (psw_rpc_check_params(params, port_param, err) != 0 || port_arg(params, &id, err) != 0)
		return NULL;
	for (unsigned i = 0; i < PSW_MAX_PORTS; i++)
		if (psw_ports[i].used && (id < 0 || (int)i == id))
			psw_port_clear_counters((uint16_t)i);
	return json_object();
}

/* The datapath's counters of PMD idx (exact-match cache hits, misses, inserts, evictions;
 * cached L2 decisions, floods, copies, learn events). */
static json_t *
pipeline_stats_json(unsigned idx)
{
	struct psw_pipeline_stats st;

	if (idx >= psw_n_pmds || psw_pipeline_read_stats(psw_pmds[idx], &st) < 0)
		return json_null();
	return json_pack("{s{sI sI sI sI sI} sI sI sI sI sI}",
			 "cache", "entries", (json_int_t)st.cache_entries,
			 "hits", (json_int_t)st.cache.hits, "misses", (json_int_t)st.cache.misses,
			 "inserts", (json_int_t)st.cache.inserts,
			 "evictions", (json_int_t)st.cache.evictions,
			 "l2_cached", (json_int_t)st.l2_cached, "floods", (json_int_t)st.floods,
			 "copies", (json_int_t)st.copies, "learn_posted", (json_int_t)st.learn_posted,
			 "learn_lost", (json_int_t)st.learn_lost);
}

static json_t *
rpc_flow_stats(json_t *params, struct psw_rpc_error *err)
{
	static const struct psw_rpc_param spec[] = {{NULL}};
	struct psw_classifier_info ci = {0};
	json_t *pmds;

	if (psw_rpc_check_params(params, spec, err) < 0)
		return NULL;
	if (psw_flow_cls)
		psw_classifier_info(psw_flow_cls, &ci);
	pmds = json_array();
	for (unsigned i = 0; i < psw_n_pmds; i++) {
		json_t *o = pipeline_stats_json(i);

		if (json_is_object(o))
			json_object_set_new(o, "index", json_integer(i));
		json_array_append_new(pmds, o);
	}
	return json_pack("{sI sI sI sI sI sI so}",
			 "rules", (json_int_t)psw_flow_table_count(),
			 "shadowed", (json_int_t)ci.n_shadowed,
			 "subtables", (json_int_t)ci.n_subtables,
			 "classifier_bytes", (json_int_t)ci.bytes,
			 "fdb_entries", (json_int_t)psw_l2_fdb_count(),
			 "learn_lost", (json_int_t)psw_l2_learn_lost(),
			 "pmds", pmds);
}

static const struct psw_rpc_param pmd_params[] = {
	{"clear", PSW_T_BOOL, false},
	{NULL},
};

static json_t *
rpc_pmd_stats(json_t *params, struct psw_rpc_error *err)
{
	json_t *pmds = json_array(), *v;

	if (psw_rpc_check_params(params, pmd_params, err) != 0) {
		json_decref(pmds);
		return NULL;
	}
	v = json_object_get(params, "clear");
	if (v != NULL && json_is_true(v)) {
		psw_pmd_clear_stats();
		json_decref(pmds);
		return json_object();
	}
	for (unsigned i = 0; i < psw_n_pmds; i++) {
		const struct psw_pmd *pmd = psw_pmds[i];
		const struct psw_rxq_set *set = __atomic_load_n(&pmd->rxqs, __ATOMIC_ACQUIRE);
		struct psw_pmd_stats s;
		json_t *rxqs = json_array(), *drops = json_object();
		uint64_t total;

		psw_pmd_read_stats(i, &s);
		/* The set is only freed by this thread (psw_rcu_reclaim), so reading it here is safe. */
		for (uint16_t q = 0; q < set->n; q++)
			json_array_append_new(rxqs, json_pack("{s:s,s:i}", "port",
							      psw_ports[set->q[q].port].name,
							      "queue", set->q[q].queue));
		for (unsigned r = 0; r < PSW_DROP_MAX; r++)
			json_object_set_new(drops, psw_drop_names[r], json_integer((json_int_t)s.drops[r]));
		total = s.busy_cycles + s.idle_cycles;
		json_array_append_new(pmds, json_pack(
			"{s:i,s:i,s:I,s:I,s:I,s:f,s:I,s:I,s:f,s:o,s:o}",
			"lcore", (int)pmd->lcore, "index", (int)i,
			"packets", (json_int_t)s.packets, "busy_cycles", (json_int_t)s.busy_cycles,
			"idle_cycles", (json_int_t)s.idle_cycles,
			"cycles_per_packet", s.packets ? (double)s.busy_cycles / (double)s.packets : 0.0,
			"iterations", (json_int_t)s.iterations, "sleeps", (json_int_t)s.sleeps,
			"busy_pct", total ? 100.0 * (double)s.busy_cycles / (double)total : 0.0,
			"rxqs", rxqs, "drops_by_reason", drops));
		/* Exact-match cache hits and misses, L2 decisions, floods (flow pipeline). */
		json_object_set_new(json_array_get(pmds, json_array_size(pmds) - 1), "pipeline",
				    pipeline_stats_json(i));
	}
	return json_pack("{s:o}", "pmds", pmds);
}

/* pmd.rxq: every polled rx queue with its PMD and what it cost there (OVS's
 * pmd-rxq-show): its packets, its busy cycles (timed in the PMD loop in one iteration of
 * 16, datapath/pmd.c RXQ_SAMPLE, and counted 16 times) and their share of its PMD's busy
 * cycles, since the queue arrived on that PMD or the last `pmd stats --clear`. */
static json_t *
rpc_pmd_rxq(json_t *params, struct psw_rpc_error *err)
{
	unsigned max = PSW_MAX_PORTS * PSW_MAX_QUEUES, n;
	struct psw_rxq_info *info;
	json_t *a;

	if (psw_rpc_check_params(params, no_params, err) != 0)
		return NULL;
	info = malloc(sizeof(*info) * max);
	if (info == NULL)
		return psw_rpc_err(err, PSW_RPC_FAILED, "out of memory");
	n = psw_pmd_rxq_info(info, max);
	a = json_array();
	for (unsigned i = 0; i < n; i++) {
		const struct psw_rxq_info *q = &info[i];

		json_array_append_new(a, json_pack("{s:i,s:i,s:s,s:i,s:b,s:I,s:I,s:f}",
			"pmd", (int)q->pmd, "core", (int)psw_pmds[q->pmd]->lcore,
			"port", psw_ports[q->port].name, "queue", (int)q->queue,
			"pinned", q->pinned, "packets", (json_int_t)q->packets,
			"cycles", (json_int_t)q->cycles,
			"busy_pct", q->pmd_busy ? 100.0 * (double)q->cycles / (double)q->pmd_busy
						: 0.0));
	}
	free(info);
	return json_pack("{s:o}", "rxqs", a);
}

const struct psw_rpc_method psw_rpc_switch_methods[] = {
	{"switch.info", rpc_switch_info},
	{"stats.get", rpc_stats_get},
	{"stats.clear", rpc_stats_clear},
	{"pmd.stats", rpc_pmd_stats},
	{"pmd.rxq", rpc_pmd_rxq},
	{"flow.stats", rpc_flow_stats},
	{"trace", psw_rpc_trace},
	{NULL, NULL},
};
