/*
 * startup.c: the tables and the hooks between layers (startup.h). Control thread.
 */
#include <stdio.h>
#include <string.h>

#include "control/startup.h"
#include "control/trace.h"
#include "core/inject.h"
#include "datapath/pipeline.h"
#include "datapath/pmd.h"
#include "flow/flow_table.h"
#include "l2/bind.h"
#include "l2/l2.h"
#include "l2/rpc_network.h"
#include "neigh/neigh.h"
#include "neigh/rpc_neigh.h"
#include "port/port.h"
#include "port/rpc_port.h"
#include "tunnel/rpc_tunnel.h"
#include "tunnel/tunnel.h"

/* A port is going away and its id will be reused: rules that name it go, and it leaves
 * its network (its MACs flushed). */
static void
port_removed(uint16_t port)
{
	psw_flow_table_port_gone(port);
	psw_l2_port_leave(port);
	psw_l2_bind_port_gone(port);
	psw_rpc_uplink_port_gone(port);
}

int
psw_startup_tables(unsigned cache_entries, unsigned mac_aging_s, unsigned mac_limit,
		   char *err, size_t errlen)
{
	int rc;

	psw_l2_set_limits(mac_aging_s, mac_limit);
	if ((rc = psw_flow_table_init(psw_n_pmds)) != 0 || (rc = psw_l2_init(0)) != 0 ||
	    (rc = psw_l2_learn_init()) != 0) {
		snprintf(err, errlen, "tables: %s", strerror(-rc));
		return rc;
	}
	if ((rc = psw_l2_bind_init()) != 0 || (rc = psw_neigh_init()) != 0 || (rc = psw_tunnel_init()) != 0 ||
	    (rc = psw_inject_init()) != 0 || (rc = psw_rpc_tunnel_init()) != 0) {
		snprintf(err, errlen, "underlay and tunnels: %s", strerror(-rc));
		return rc;
	}
	if ((rc = psw_pipeline_init(cache_entries, err, errlen)) != 0)
		return rc;
	psw_port_on_remove(port_removed);
	psw_port_on_queues_changed(psw_pmd_assign_rxqs);
	psw_rpc_port_set_net_ops(&psw_l2_port_net_ops);
	return 0;
}

void
psw_startup_tables_fini(void)
{
	psw_trace_fini();
	psw_pipeline_fini();
	psw_tunnel_fini();
	psw_neigh_fini();
	psw_inject_fini();
	psw_flow_table_fini();
	psw_l2_learn_fini();
	psw_l2_bind_fini();
	psw_l2_fini();
}
