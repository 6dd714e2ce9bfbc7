/*
 * flow_json.h: a rule <-> JSON (flow_json.c). Control thread.
 */
#ifndef PSW_FLOW_FLOW_JSON_H
#define PSW_FLOW_FLOW_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "ctl/rpc.h"
#include "flow/flow_table.h"
#include "flow/rule.h"

/* JSON match object -> m (key and mask). packet: exact values only, no prerequisite
 * checks (trace). where: prefix for messages ("match", "rules[3].match"). 0 or -1. */
int psw_flow_match_from_json(json_t *match, bool packet, struct psw_flow_match *m,
			     const char *where, struct psw_rpc_error *err);
/* m -> JSON match object (canonical: prefixes, lower-case MACs, port names). */
json_t *psw_flow_match_to_json(const struct psw_flow_match *m);
json_t *psw_flow_actions_to_json(const struct psw_action *a, unsigned n);
/* One rule (object or text) -> a new entry; NULL with err set. where: prefix for
 * messages ("rules[3]", or "" for a single rule). */
struct psw_flow_entry *psw_flow_entry_from_json(json_t *rule, const char *where,
						struct psw_rpc_error *err);

/* An integer in 0..max from v; 0 or -1. */
static inline int
psw_json_uint(json_t *v, uint64_t max, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

#endif
