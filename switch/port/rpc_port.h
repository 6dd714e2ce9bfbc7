/*
 * rpc_port.h: the port.* methods (rpc_port.c) and what the state file and start-up need
 * of them. Control thread.
 */
#ifndef PSW_PORT_RPC_PORT_H
#define PSW_PORT_RPC_PORT_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "ctl/rpc.h"

extern const struct psw_rpc_method psw_rpc_port_methods[];

json_t *psw_rpc_port_add(json_t *params, struct psw_rpc_error *err);
json_t *psw_rpc_port_del(json_t *params, struct psw_rpc_error *err);
json_t *psw_rpc_port_set(json_t *params, struct psw_rpc_error *err);
json_t *psw_rpc_port_dump(void);          /* port.add params of every port, in creation order */
json_t *psw_rpc_port_outputs_dump(void);  /* port.set params restoring static outputs */
void psw_rpc_port_fini(void);             /* forget specs (ports are being removed at exit) */
/* A saved port that is not restored (its pod was deleted meanwhile): let its back end
 * remove what the port left outside the switch (a pod's persistent tap, a stale socket). */
void psw_rpc_port_forget(json_t *params);
bool psw_rpc_port_exists(const char *name);
/* The network layer above (l2/rpc_network.c) answers these for port.add's "network" and
 * port.get (set once at start, main.c). */
struct psw_port_net_ops {
	const char *(*network_of)(uint16_t port);   /* NULL: in no network */
	bool (*exists)(const char *network);
	int (*join)(uint16_t port, const char *network);  /* 0 or -errno */
	const char *(*gateway_of)(const char *network);   /* "10.244.1.1/24", or NULL */
	/* The pod's addresses on port (port.add "addresses"); port PSW_PORT_NONE: check only.
	 * 0 or -1 with err. */
	int (*addresses)(uint16_t port, json_t *addresses, struct psw_rpc_error *err);
};
void psw_rpc_port_set_net_ops(const struct psw_port_net_ops *ops);

/* A port's counters as JSON (stats.get, port.get). */
json_t *psw_rpc_port_stats_json(uint16_t id);

#endif
