/*
 * rpc_flow.h: the flow.*, trace, network.* and fdb.* JSON-RPC methods (rpc_flow.c,
 * trace.c, rpc_network.c) and the JSON <-> rule conversions they share. Control thread.
 * main.c registers psw_rpc_flow_methods and psw_rpc_network_methods; config.c's
 * "networks" and "flows" go through psw_rpc_network_add and psw_rpc_flow_add_config.
 */
#ifndef PSW_RPC_FLOW_H
#define PSW_RPC_FLOW_H

#include <stdbool.h>
#include <jansson.h>

#include "flow.h"
#include "rpc.h"

extern const struct psw_rpc_method psw_rpc_flow_methods[];    /* flow.*, trace */
extern const struct psw_rpc_method psw_rpc_network_methods[]; /* network.*, fdb.* */

/* {"name": ...}: the network.add method, for the config's "networks". */
json_t *psw_rpc_network_add(json_t *params, struct psw_rpc_error *err);
json_t *psw_rpc_fdb_add(json_t *params, struct psw_rpc_error *err);
/* The flow.add method ({rule} or {"rules":[rule|"text", ...]}). */
json_t *psw_rpc_flow_add(json_t *params, struct psw_rpc_error *err);
/* The config's "flows": an array of rule strings or rule objects, added all or none. */
int psw_rpc_flow_add_config(json_t *flows, char *err, size_t errlen);

/* JSON match object -> m (key and mask). packet: exact values only, no prerequisite
 * checks (trace). where: prefix for messages ("match", "rules[3].match"). 0 or -1. */
int psw_rpc_match_from_json(json_t *match, bool packet, struct psw_flow_match *m,
			    const char *where, struct psw_rpc_error *err);
/* m -> JSON match object (canonical: prefixes, lower-case MACs, port names). */
json_t *psw_rpc_match_to_json(const struct psw_flow_match *m);
json_t *psw_rpc_actions_to_json(const struct psw_action *a, unsigned n);
/* "aa:bb:..." of mac into buf (18 bytes). */
const char *psw_rpc_mac_str(const struct rte_ether_addr *mac, char *buf);
/* The name of port id, or "#id" for an unknown id (buf of PSW_NAME_MAX). */
const char *psw_rpc_port_name(uint16_t id, char *buf);

/* The flow pipeline's counters of PMD idx (exact-match cache hits, misses, inserts,
 * evictions; cached L2 decisions, floods, copies, learn events), for pmd.stats. */
json_t *psw_rpc_pmd_flow_stats(unsigned idx);

/* trace.c */
json_t *psw_rpc_trace(json_t *params, struct psw_rpc_error *err);

#endif
