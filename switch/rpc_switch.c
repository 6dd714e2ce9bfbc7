/*
 * rpc_switch.c: switch.info, stats.get, stats.clear and pmd.stats (control thread).
 * Counters are summed over PMDs on read (port.c, pmd.c); a clear moves a baseline.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_malloc.h>
#include <rte_cycles.h>
#include <rte_version.h>

#include "config.h"
#include "control.h"
#include "pmd.h"
#include "port.h"
#include "rpc.h"
#include "rpc_flow.h"
#include "rpcs.h"

static double start_time;
static const struct psw_control *control;

void
psw_rpc_switch_set_control(const struct psw_control *c)
{
	control = c;
}
void (*psw_on_change)(void);

json_t *psw_rpc_port_stats_json(uint16_t id);

void
psw_config_changed(void)
{
	if (psw_on_change != NULL)
		psw_on_change();
}

double
psw_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
psw_mark_start(void)
{
	start_time = psw_now_s();
}

static const struct psw_rpc_param no_params[] = {{NULL}};

static json_t *
rpc_switch_info(json_t *params, struct psw_rpc_error *err)
{
	struct rte_malloc_socket_stats ms;
	json_t *cpus = json_array(), *o;

	if (psw_rpc_check_params(params, no_params, err) != 0)
		return NULL;
	for (unsigned i = 0; i < psw_conf.n_pmd_cpus; i++)
		json_array_append_new(cpus, json_integer(psw_conf.pmd_cpus[i]));
	o = json_pack("{s:s,s:s,s:i,s:I,s:s,s:s,s:s,s:o,s:i}",
		      "version", PODSWITCH_VERSION, "dpdk", rte_version(), "pid", (int)getpid(),
		      "uptime_s", (json_int_t)(psw_now_s() - start_time),
		      "control_socket", psw_conf.control_socket, "state_dir", psw_conf.state_dir,
		      "file_prefix", psw_conf.file_prefix, "pmd_cpus", cpus,
		      "ports", (int)psw_port_count());
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
				    psw_rpc_pmd_flow_stats(i));
	}
	return json_pack("{s:o}", "pmds", pmds);
}

const struct psw_rpc_method psw_rpc_switch_methods[] = {
	{"switch.info", rpc_switch_info},
	{"stats.get", rpc_stats_get},
	{"stats.clear", rpc_stats_clear},
	{"pmd.stats", rpc_pmd_stats},
	{NULL, NULL},
};
