/*
 * rpc_flow.h: the flow.* JSON-RPC methods (rpc_flow.c). Control thread. main.c registers
 * psw_rpc_flow_methods; the config's "flows" go through psw_rpc_flow_add_config.
 */
#ifndef PSW_FLOW_RPC_FLOW_H
#define PSW_FLOW_RPC_FLOW_H

#include <stdbool.h>
#include <jansson.h>

#include "ctl/rpc.h"
#include "flow/rule.h"

extern const struct psw_rpc_method psw_rpc_flow_methods[];    /* flow.* */
/* The flow.add method ({rule} or {"rules":[rule|"text", ...]}). */
json_t *psw_rpc_flow_add(json_t *params, struct psw_rpc_error *err);
/* The config's "flows": an array of rule strings or rule objects, added all or none. */
int psw_rpc_flow_add_config(json_t *flows, char *err, size_t errlen);

#endif
