/*
 * rpc_network.h: the network.* and fdb.* methods (rpc_network.c). Control thread.
 * main.c registers psw_rpc_network_methods and gives the port layer psw_l2_port_net_ops;
 * the config's "networks" and the state file go through psw_rpc_network_add.
 */
#ifndef PSW_L2_RPC_NETWORK_H
#define PSW_L2_RPC_NETWORK_H

#include <jansson.h>

#include "ctl/rpc.h"
#include "port/rpc_port.h"

extern const struct psw_rpc_method psw_rpc_network_methods[]; /* network.*, fdb.* */
extern const struct psw_port_net_ops psw_l2_port_net_ops;

/* {"name": ...}: the network.add method. */
json_t *psw_rpc_network_add(json_t *params, struct psw_rpc_error *err);
json_t *psw_rpc_fdb_add(json_t *params, struct psw_rpc_error *err);

#endif
