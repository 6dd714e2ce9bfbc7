/*
 * rpc_network.h: the network.* and fdb.* methods (rpc_network.c). Control thread.
 * main.c registers psw_rpc_network_methods and gives the port layer psw_l2_port_net_ops;
 * the config's "networks" and the state file go through psw_rpc_network_add.
 */
#ifndef PSW_L2_RPC_NETWORK_H
#define PSW_L2_RPC_NETWORK_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "ctl/rpc.h"
#include "port/rpc_port.h"

extern const struct psw_rpc_method psw_rpc_network_methods[]; /* network.*, fdb.* */
extern const struct psw_port_net_ops psw_l2_port_net_ops;

/* A feature above l2 that gives networks more network.add params (tunnel/: a transport).
 * check: before anything changes (unknown combinations, ranges), 0 or -1 with err.
 * apply: after the network exists; on failure the network is removed again (removed()
 * of the extensions applied before it is called). removed: before network.del. describe:
 * add its params as they are now to o (network.list and the state file); live: also
 * what network.list shows beyond params (counters, the MTU pods get). */
struct psw_network_ext {
	const char *const *keys;       /* its network.add params, NULL-terminated */
	int (*check)(json_t *params, struct psw_rpc_error *err);
	int (*apply)(uint16_t net, const char *name, json_t *params, struct psw_rpc_error *err);
	void (*removed)(uint16_t net);
	void (*describe)(uint16_t net, json_t *o, bool live);
};
int psw_rpc_network_extend(const struct psw_network_ext *ext);

/* network.add params of net as it is now (the state file). New reference. */
json_t *psw_rpc_network_params(uint16_t net);
/* net's gateway ("10.244.1.1/24") or NULL. */
const char *psw_rpc_network_gateway(uint16_t net);

/* {"name": ...}: the network.add method. */
json_t *psw_rpc_network_add(json_t *params, struct psw_rpc_error *err);
json_t *psw_rpc_fdb_add(json_t *params, struct psw_rpc_error *err);

#endif
