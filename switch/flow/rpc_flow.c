/*
 * rpc_flow.c: the flow.* methods (add, del, list, clear). Control thread only; JSON stays
 * here and in flow_json.c and never reaches the datapath (control/control.c ->
 * flow/rpc_flow.c -> flow_json.c -> flow_table.c).
 *
 * Every check happens before anything changes: a bulk add converts and validates every
 * rule first, then hands the whole batch to the flow table, which adds all or none. Error
 * messages name the field: "rules[2].match.nw_src: needs dl_type=0x0800 (ip)".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/change.h"
#include "core/clock.h"
#include "ctl/flow_text.h"
#include "flow/flow_json.h"
#include "flow/flow_table.h"
#include "flow/rpc_flow.h"
#include "port/port.h"

#define ERR_INVALID(err, ...) psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, __VA_ARGS__)

/* Validate every rule, then add them all or none. Returns the entries added (their ids
 * set) through *out (the caller frees the array, not the entries). */
static int
add_rules(json_t *arr, struct psw_flow_entry ***out, struct psw_rpc_error *err)
{
	size_t n = json_array_size(arr), i;
	struct psw_flow_entry **es = calloc(n ? n : 1, sizeof(*es));
	char where[32], msg[256];
	json_t *r;
	int rc;

	if (!es) {
		psw_rpc_err(err, PSW_RPC_INTERNAL_ERROR, "out of memory");
		return -1;
	}
	json_array_foreach(arr, i, r) {
		snprintf(where, sizeof(where), "rules[%zu]", i);
		es[i] = psw_flow_entry_from_json(r, where, err);
		if (!es[i])
			goto fail;
	}
	rc = psw_flow_table_add(es, n, msg, sizeof(msg));
	if (rc < 0) {
		psw_rpc_err(err, rc == -ENOSPC ? PSW_RPC_FAILED : PSW_RPC_INTERNAL_ERROR, "%s", msg);
		goto fail;
	}
	*out = es;
	return 0;
fail:
	for (i = 0; i < n; i++)
		psw_flow_entry_free(es[i]);
	free(es);
	return -1;
}

json_t *
psw_rpc_flow_add(json_t *params, struct psw_rpc_error *err)
{
	json_t *rules = json_object_get(params, "rules"), *res, *ids;
	struct psw_flow_entry **es, *e;
	char msg[256];
	size_t n;

	if (rules) {
		if (json_object_size(params) != 1)
			return ERR_INVALID(err, "rules: give either \"rules\" or one rule, not both");
		if (!json_is_array(rules))
			return ERR_INVALID(err, "rules: must be an array");
		if (add_rules(rules, &es, err) < 0)
			return NULL;
		n = json_array_size(rules);
		ids = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(ids, json_integer((json_int_t)es[i]->id));
		free(es);
		return json_pack("{sI so}", "added", (json_int_t)n, "ids", ids);
	}
	e = psw_flow_entry_from_json(params, "", err);
	if (!e)
		return NULL;
	if (psw_flow_table_add(&e, 1, msg, sizeof(msg)) < 0) {
		psw_flow_entry_free(e);
		return psw_rpc_err(err, PSW_RPC_FAILED, "%s", msg);
	}
	res = json_pack("{sI}", "id", (json_int_t)e->id);
	return res;
}

int
psw_rpc_flow_add_config(json_t *flows, char *errbuf, size_t errlen)
{
	struct psw_rpc_error err = {0};
	struct psw_flow_entry **es;

	if (!flows || json_array_size(flows) == 0)
		return 0;
	if (add_rules(flows, &es, &err) < 0) {
		snprintf(errbuf, errlen, "flows: %s", err.message);
		return -EINVAL;
	}
	free(es);
	return 0;
}

int
psw_flow_table_add_text(const char *rule, char *errbuf, size_t errlen)
{
	struct psw_rpc_error err = {0};
	struct psw_flow_entry *e;
	json_t *s = json_string(rule);
	char msg[256];

	e = psw_flow_entry_from_json(s, "rule", &err);
	json_decref(s);
	if (!e) {
		snprintf(errbuf, errlen, "%s", err.message);
		return -EINVAL;
	}
	if (psw_flow_table_add(&e, 1, msg, sizeof(msg)) < 0) {
		psw_flow_entry_free(e);
		snprintf(errbuf, errlen, "%s", msg);
		return -ENOMEM;
	}
	return 0;
}

static json_t *
rpc_flow_add(json_t *params, struct psw_rpc_error *err)
{
	json_t *r = psw_rpc_flow_add(params, err);

	if (r)
		psw_change_notify_batched();
	return r;
}

/* flow.del {"rules": [{"match": {...}, "priority": P}, ...]}: strict deletions, checked
 * all first, then done as one change (one grace period for the lot). */
static json_t *
del_many(json_t *rules, struct psw_rpc_error *err)
{
	static const struct psw_rpc_param spec[] = {
		{"match", PSW_T_OBJECT, false},
		{"priority", PSW_T_UINT, false},
		{NULL},
	};
	size_t n = json_array_size(rules), i;
	struct psw_flow_match *m = calloc(n ? n : 1, sizeof(*m));
	uint32_t *prio = calloc(n ? n : 1, sizeof(*prio));
	char where[48];
	json_t *r, *v, *res = NULL, *empty = json_object();
	unsigned deleted;

	if (m == NULL || prio == NULL || empty == NULL) {
		psw_rpc_err(err, PSW_RPC_INTERNAL_ERROR, "out of memory");
		goto out;
	}
	json_array_foreach(rules, i, r) {
		uint64_t p = PSW_FLOW_DEFAULT_PRIORITY;

		if (!json_is_object(r)) {
			ERR_INVALID(err, "rules[%zu]: must be an object {\"match\", \"priority\"}", i);
			goto out;
		}
		if (psw_rpc_check_params(r, spec, err) < 0) {
			char msg[sizeof(err->message)];

			snprintf(msg, sizeof(msg), "%s", err->message);
			ERR_INVALID(err, "rules[%zu]: %s", i, msg);
			goto out;
		}
		v = json_object_get(r, "priority");
		if (v && psw_json_uint(v, 65535, &p) < 0) {
			ERR_INVALID(err, "rules[%zu].priority: must be an integer in 0..65535", i);
			goto out;
		}
		prio[i] = (uint32_t)p;
		snprintf(where, sizeof(where), "rules[%zu].match", i);
		v = json_object_get(r, "match");
		if (psw_flow_match_from_json(v ? v : empty, false, &m[i], where, err) < 0)
			goto out;
	}
	deleted = psw_flow_table_del_strict_many(m, prio, (unsigned)n);
	if (deleted)
		psw_change_notify_batched();
	res = json_pack("{sI}", "deleted", (json_int_t)deleted);
out:
	json_decref(empty);
	free(m);
	free(prio);
	return res;
}

static json_t *
rpc_flow_del(json_t *params, struct psw_rpc_error *err)
{
	static const struct psw_rpc_param spec[] = {
		{"match", PSW_T_OBJECT, false},
		{"priority", PSW_T_UINT, false},
		{"strict", PSW_T_BOOL, false},
		{"cookie", PSW_T_UINT, false},
		{"rules", PSW_T_ARRAY, false},
		{NULL},
	};
	json_t *match = json_object_get(params, "match"), *v, *empty = NULL;
	struct psw_flow_match m;
	uint64_t prio = PSW_FLOW_DEFAULT_PRIORITY;
	bool strict = json_is_true(json_object_get(params, "strict"));
	unsigned n;

	if (psw_rpc_check_params(params, spec, err) < 0)
		return NULL;
	v = json_object_get(params, "rules");
	if (v) {
		if (json_object_size(params) != 1)
			return ERR_INVALID(err, "rules: give either \"rules\" or one match, not both");
		return del_many(v, err);
	}
	v = json_object_get(params, "cookie");
	if (v) {
		if (match || json_object_get(params, "priority") || json_object_get(params, "strict"))
			return ERR_INVALID(err, "cookie: give either a cookie or a match, not both");
		n = psw_flow_table_del_cookie((uint64_t)json_integer_value(v));
		if (n)
			psw_change_notify_batched();
		return json_pack("{sI}", "deleted", (json_int_t)n);
	}
	v = json_object_get(params, "priority");
	if (v && psw_json_uint(v, 65535, &prio) < 0)
		return ERR_INVALID(err, "priority: must be an integer in 0..65535");
	if (!match)
		match = empty = json_object();
	if (psw_flow_match_from_json(match, false, &m, "match", err) < 0) {
		json_decref(empty);
		return NULL;
	}
	json_decref(empty);
	n = psw_flow_table_del(&m, strict, (uint32_t)prio);
	if (n)
		psw_change_notify_batched();
	return json_pack("{sI}", "deleted", (json_int_t)n);
}

static json_t *
rpc_flow_clear(json_t *params, struct psw_rpc_error *err)
{
	static const struct psw_rpc_param spec[] = {{NULL}};
	unsigned n;

	if (psw_rpc_check_params(params, spec, err) < 0)
		return NULL;
	n = psw_flow_table_clear();
	if (n)
		psw_change_notify_batched();
	return json_pack("{sI}", "deleted", (json_int_t)n);
}

static json_t *
rpc_flow_list(json_t *params, struct psw_rpc_error *err)
{
	static const struct psw_rpc_param spec[] = {{NULL}};
	json_t *flows;
	uint64_t now = psw_clock_s();

	if (psw_rpc_check_params(params, spec, err) < 0)
		return NULL;
	flows = json_array();
	for (unsigned i = 0; i < psw_flow_table_count(); i++) {
		const struct psw_flow_entry *e = psw_flow_table_at(i);
		struct psw_rule_counters c;
		uint64_t last;

		psw_rule_stats_read(e->rule.stats_idx, &c);
		last = c.last_hit ? c.last_hit : e->added_s;
		json_array_append_new(flows, json_pack(
			"{sI sI sI so so sI sI sI sI}",
			"id", (json_int_t)e->id,
			"priority", (json_int_t)e->rule.priority,
			"cookie", (json_int_t)e->rule.cookie,
			"match", psw_flow_match_to_json(&e->rule.match),
			"actions", psw_flow_actions_to_json(e->rule.actions, e->rule.n_actions),
			"packets", (json_int_t)c.packets,
			"bytes", (json_int_t)c.bytes,
			"duration_s", (json_int_t)(now - e->added_s),
			"idle_age_s", (json_int_t)(now > last ? now - last : 0)));
	}
	return json_pack("{so}", "flows", flows);
}

const struct psw_rpc_method psw_rpc_flow_methods[] = {
	{"flow.add", rpc_flow_add},
	{"flow.del", rpc_flow_del},
	{"flow.list", rpc_flow_list},
	{"flow.clear", rpc_flow_clear},
	{NULL, NULL},
};
