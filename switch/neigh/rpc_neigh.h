/*
 * rpc_neigh.h: the uplink.* and neigh.* methods (rpc_neigh.c) and what the state file
 * needs of them. Control thread.
 */
#ifndef PSW_NEIGH_RPC_NEIGH_H
#define PSW_NEIGH_RPC_NEIGH_H

#include <stdint.h>
#include <jansson.h>

#include "ctl/rpc.h"

extern const struct psw_rpc_method psw_rpc_neigh_methods[];

json_t *psw_rpc_uplink_set(json_t *params, struct psw_rpc_error *err);
json_t *psw_rpc_uplink_dump(void);          /* [uplink.set params] or [] */
json_t *psw_rpc_neigh_add(json_t *params, struct psw_rpc_error *err);
json_t *psw_rpc_neigh_static_dump(void);    /* neigh.add params of the static entries */
/* A port is going: if it is the uplink, there is none any more. */
void psw_rpc_uplink_port_gone(uint16_t port);

#endif
