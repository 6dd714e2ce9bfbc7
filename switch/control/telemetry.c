/*
 * telemetry.c: podswitchd's counters in DPDK telemetry (telemetry.h), next to EAL's and
 * ethdev's own commands, for `dpdk-telemetry.py --file-prefix PREFIX` and any client of
 * the telemetry socket (/var/run/dpdk/PREFIX/dpdk_telemetry.v2). The callbacks run on
 * DPDK's telemetry thread and read through metrics.c only: live PMD counters, the
 * control thread's snapshot of names and table sizes (metrics.h says why that is safe).
 *
 *   /podswitch/info         version, uptime, ports, PMDs, rules, MACs, neighbors, control
 *   /podswitch/ports        port names
 *   /podswitch/port,NAME    one port's counters and drops by reason
 *   /podswitch/pmds         per PMD: cycles, packets, iterations, cache, lookups
 *   /podswitch/drops        drops by reason, all ports
 *   /podswitch/networks     MAC table entries per network
 */
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include "control/metrics.h"
#include "control/telemetry.h"
#include "core/clock.h"
#include "l2/l2.h"

static int
tel_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct psw_metrics_tables t;
	struct psw_metrics_port *ports;
	unsigned np;

	(void)cmd;
	(void)params;
	ports = malloc(sizeof(*ports) * PSW_MAX_PORTS);
	if (ports == NULL)
		return -ENOMEM;
	if (!psw_metrics_begin()) {
		free(ports);
		return -EAGAIN;
	}
	psw_metrics_tables(&t, NULL, 0);
	np = psw_metrics_ports(ports, PSW_MAX_PORTS);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", PODSWITCH_VERSION);
	rte_tel_data_add_dict_u64(d, "uptime_s", (uint64_t)psw_clock_uptime_s());
	rte_tel_data_add_dict_u64(d, "ports", np);
	rte_tel_data_add_dict_u64(d, "pmds", psw_n_pmds);
	rte_tel_data_add_dict_u64(d, "rules", t.rules);
	rte_tel_data_add_dict_u64(d, "fdb_entries", t.fdb_entries);
	rte_tel_data_add_dict_u64(d, "networks", t.networks);
	rte_tel_data_add_dict_u64(d, "neighbor_entries", t.neigh_entries);
	rte_tel_data_add_dict_u64(d, "control_requests", t.ctl_requests);
	rte_tel_data_add_dict_u64(d, "control_errors", t.ctl_errors);
	rte_tel_data_add_dict_u64(d, "control_clients", t.ctl_clients);
	psw_metrics_end();
	free(ports);
	return 0;
}

static int
tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct psw_metrics_port *ports;
	unsigned n;

	(void)cmd;
	(void)params;
	ports = malloc(sizeof(*ports) * PSW_MAX_PORTS);
	if (ports == NULL)
		return -ENOMEM;
	if (!psw_metrics_begin()) {
		free(ports);
		return -EAGAIN;
	}
	n = psw_metrics_ports(ports, PSW_MAX_PORTS);
	psw_metrics_end();
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	for (unsigned i = 0; i < n && i < RTE_TEL_MAX_ARRAY_ENTRIES; i++)
		rte_tel_data_add_array_string(d, ports[i].name);
	free(ports);
	return 0;
}

static int
tel_port(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct psw_metrics_port p;
	struct rte_tel_data *drops;
	int rc;

	(void)cmd;
	if (params == NULL || params[0] == '\0')
		return -EINVAL;     /* /podswitch/port,NAME */
	if (!psw_metrics_begin())
		return -EAGAIN;
	rc = psw_metrics_port(params, &p);
	psw_metrics_end();
	if (rc != 0)
		return -ENOENT;
	drops = rte_tel_data_alloc();
	if (drops == NULL)
		return -ENOMEM;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", p.name);
	rte_tel_data_add_dict_string(d, "type", p.type);
	rte_tel_data_add_dict_u64(d, "id", p.id);
	rte_tel_data_add_dict_u64(d, "rx_packets", p.c.rx_packets);
	rte_tel_data_add_dict_u64(d, "rx_bytes", p.c.rx_bytes);
	rte_tel_data_add_dict_u64(d, "tx_packets", p.c.tx_packets);
	rte_tel_data_add_dict_u64(d, "tx_bytes", p.c.tx_bytes);
	rte_tel_data_add_dict_u64(d, "tx_drops", p.c.tx_drops);
	rte_tel_data_start_dict(drops);
	for (unsigned r = 0; r < PSW_DROP_MAX; r++)
		rte_tel_data_add_dict_u64(drops, psw_drop_names[r], p.c.drops[r]);
	rte_tel_data_add_dict_container(d, "drops", drops, 0);
	return 0;
}

static int
tel_pmds(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct psw_metrics_pmd pmds[PSW_MAX_PMDS];
	unsigned n;

	(void)cmd;
	(void)params;
	if (!psw_metrics_begin())
		return -EAGAIN;
	n = psw_metrics_pmds(pmds, PSW_MAX_PMDS);
	psw_metrics_end();
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < n; i++) {
		const struct psw_metrics_pmd *m = &pmds[i];
		struct rte_tel_data *c = rte_tel_data_alloc();
		char key[16];

		if (c == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_u64(c, "lcore", m->lcore);
		rte_tel_data_add_dict_u64(c, "packets", m->s.packets);
		rte_tel_data_add_dict_u64(c, "busy_cycles", m->s.busy_cycles);
		rte_tel_data_add_dict_u64(c, "idle_cycles", m->s.idle_cycles);
		rte_tel_data_add_dict_u64(c, "iterations", m->s.iterations);
		rte_tel_data_add_dict_u64(c, "busy_iterations", m->perf.busy_iterations);
		rte_tel_data_add_dict_u64(c, "sleeps", m->s.sleeps);
		rte_tel_data_add_dict_u64(c, "cache_hits", m->p.cache.hits);
		rte_tel_data_add_dict_u64(c, "cache_misses", m->p.cache.misses);
		rte_tel_data_add_dict_u64(c, "lookups_emc", m->p.cache.hits);
		rte_tel_data_add_dict_u64(c, "lookups_l2_memo", m->perf.l2_packets -
					  m->perf.l2_resolves - m->perf.l2_bad);
		rte_tel_data_add_dict_u64(c, "lookups_classifier",
					  m->perf.cls_lookups + m->perf.l2_resolves);
		rte_tel_data_add_dict_u64(c, "lookups_none", m->p.cache.misses -
					  m->perf.cls_lookups + m->perf.l2_bad);
		snprintf(key, sizeof(key), "pmd%u", m->index);
		rte_tel_data_add_dict_container(d, key, c, 0);
	}
	return 0;
}

static int
tel_drops(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct psw_metrics_port *ports;
	uint64_t sum[PSW_DROP_MAX] = {0};
	unsigned n;

	(void)cmd;
	(void)params;
	ports = malloc(sizeof(*ports) * PSW_MAX_PORTS);
	if (ports == NULL)
		return -ENOMEM;
	if (!psw_metrics_begin()) {
		free(ports);
		return -EAGAIN;
	}
	n = psw_metrics_ports(ports, PSW_MAX_PORTS);
	psw_metrics_end();
	for (unsigned i = 0; i < n; i++)
		for (unsigned r = 0; r < PSW_DROP_MAX; r++)
			sum[r] += ports[i].c.drops[r];
	free(ports);
	rte_tel_data_start_dict(d);
	for (unsigned r = 0; r < PSW_DROP_MAX; r++)
		rte_tel_data_add_dict_u64(d, psw_drop_names[r], sum[r]);
	return 0;
}

static int
tel_networks(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct psw_metrics_net *nets;
	struct psw_metrics_tables t;
	unsigned n;

	(void)cmd;
	(void)params;
	nets = malloc(sizeof(*nets) * PSW_L2_MAX_NETS);
	if (nets == NULL)
		return -ENOMEM;
	if (!psw_metrics_begin()) {
		free(nets);
		return -EAGAIN;
	}
	n = psw_metrics_tables(&t, nets, PSW_L2_MAX_NETS);
	psw_metrics_end();
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < n && i < RTE_TEL_MAX_DICT_ENTRIES; i++)
		rte_tel_data_add_dict_u64(d, nets[i].name, nets[i].macs);
	free(nets);
	return 0;
}

int
psw_telemetry_init(void)
{
	int rc = 0;

	rc |= rte_telemetry_register_cmd("/podswitch/info", tel_info,
		"podswitchd: version, uptime, ports, PMDs, rules, MACs, neighbors, control socket");
	rc |= rte_telemetry_register_cmd("/podswitch/ports", tel_ports,
		"podswitchd's port names. No parameters");
	rc |= rte_telemetry_register_cmd("/podswitch/port", tel_port,
		"A port's counters and drops by reason. Parameters: port name");
	rc |= rte_telemetry_register_cmd("/podswitch/pmds", tel_pmds,
		"Per PMD: cycles, packets, iterations, exact-match cache, lookups. No parameters");
	rc |= rte_telemetry_register_cmd("/podswitch/drops", tel_drops,
		"Drops by reason, all ports. No parameters");
	rc |= rte_telemetry_register_cmd("/podswitch/networks", tel_networks,
		"MAC table entries per network. No parameters");
	return rc;
}
