/*
 * state_sections.c: what the state file holds and in which order it is replayed
 * (control thread, at start and after every change): networks, then ports (which join
 * their networks), then the ports' static outputs (a port may name one created after it),
 * static MAC entries, then the rules (which name ports). Each section is a list of the RPC params that
 * recreate it, replayed through the same handlers (state.c). A pod's port whose
 * attachment the CNI plugin deleted while podswitchd was down is not replayed
 * (tombstones.c); the others are replayed with the back ends told so
 * (psw_backend_set_restoring: a tap re-attaches to its pod's interface).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/state.h"
#include "control/state_sections.h"
#include "control/tombstones.h"
#include "flow/flow_json.h"
#include "flow/flow_table.h"
#include "flow/rpc_flow.h"
#include "l2/l2.h"
#include "l2/rpc_network.h"
#include "neigh/rpc_neigh.h"
#include "port/backend.h"
#include "port/port.h"
#include "port/rpc_port.h"

static json_t *
networks_dump(void)
{
	json_t *a = json_array();

	for (uint16_t n = psw_l2_network_next(0); n; n = psw_l2_network_next(n))
		json_array_append_new(a, psw_rpc_network_params(n));
	return a;
}

static int
by_id(const void *x, const void *y)
{
	const struct psw_flow_entry *a = *(const struct psw_flow_entry *const *)x;
	const struct psw_flow_entry *b = *(const struct psw_flow_entry *const *)y;

	return a->id < b->id ? -1 : a->id > b->id;
}

/* Rules in the order they were added: among equal priorities the older rule wins, and a
 * replay in id order keeps that. */
static json_t *
flows_dump(void)
{
	unsigned n = psw_flow_table_count();
	const struct psw_flow_entry **es = calloc(n ? n : 1, sizeof(*es));
	json_t *a = json_array();

	if (es == NULL)
		return a;
	for (unsigned i = 0; i < n; i++)
		es[i] = psw_flow_table_at(i);
	qsort(es, n, sizeof(*es), by_id);
	for (unsigned i = 0; i < n; i++) {
		const struct psw_rule *r = &es[i]->rule;

		json_array_append_new(a, json_pack("{s:I,s:I,s:o,s:o}",
			"priority", (json_int_t)r->priority, "cookie", (json_int_t)r->cookie,
			"match", psw_flow_match_to_json(&r->match),
			"actions", psw_flow_actions_to_json(r->actions, r->n_actions)));
	}
	free(es);
	return a;
}

static int
static_one(const struct psw_fdb_entry *e, void *arg)
{
	struct rte_ether_addr mac;
	char m[RTE_ETHER_ADDR_FMT_SIZE];
	const struct psw_port *p = psw_port_get(e->port);

	if (!e->is_static || p == NULL)
		return 0;
	for (int b = 0; b < 6; b++)
		mac.addr_bytes[b] = (uint8_t)(e->key >> (40 - 8 * b));
	rte_ether_format_addr(m, sizeof(m), &mac);
	json_array_append_new(arg, json_pack("{s:s,s:s,s:s}", "network",
					     psw_l2_network_name(e->net), "mac", m, "port", p->name));
	return 0;
}

/* Static MAC entries (fdb.add); learned ones are relearned from traffic. */
static json_t *
fdb_static_dump(void)
{
	json_t *a = json_array();

	psw_l2_fdb_foreach(0, static_one, a);
	return a;
}

static json_t *
port_restore(json_t *params, struct psw_rpc_error *err)
{
	json_t *r;

	psw_backend_set_restoring(true);
	r = psw_rpc_port_add(params, err);
	psw_backend_set_restoring(false);
	return r;
}

/* A pod deleted while we were down: its port stays gone, and what it left goes too. */
static bool
port_skip(json_t *entry, char *why, size_t len)
{
	if (!psw_tombstones_match(entry, why, len))
		return false;
	psw_rpc_port_forget(entry);
	return true;
}

static const struct psw_state_section sections[] = {
	{"networks", networks_dump, psw_rpc_network_add, NULL, NULL},
	{"ports", psw_rpc_port_dump, port_restore, port_skip, psw_tombstones_done},
	{"uplink", psw_rpc_uplink_dump, psw_rpc_uplink_set, NULL, NULL},
	{"neighbors", psw_rpc_neigh_static_dump, psw_rpc_neigh_add, NULL, NULL},
	{"port_outputs", psw_rpc_port_outputs_dump, psw_rpc_port_set, NULL, NULL},
	{"fdb_static", fdb_static_dump, psw_rpc_fdb_add, NULL, NULL},
	{"flows", flows_dump, psw_rpc_flow_add, NULL, NULL},
};

int
psw_state_sections_register(const char *control_socket)
{
	char dir[4096];
	int t;

	/* Not fatal: without them, ports of pods deleted meanwhile come back (as before). */
	if (control_socket != NULL &&
	    ((t = psw_tombstones_dir(control_socket, dir, sizeof(dir))) != 0 ||
	     (t = psw_tombstones_load(dir)) != 0))
		fprintf(stderr, "podswitchd: state: pods deleted while podswitchd was down (%s.deleted): %s\n",
			control_socket, strerror(-t));
	for (unsigned i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		int rc = psw_state_register(&sections[i]);

		if (rc != 0)
			return rc;
	}
	return 0;
}
