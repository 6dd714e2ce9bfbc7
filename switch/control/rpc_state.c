/*
 * rpc_state.c: the state.* methods (control thread). state.show returns the state file
 * as saved on disk with its path and the last save or restore problems; state.export
 * returns the configuration as it would be saved now (a document podswitchd accepts as
 * state.json, e.g. to seed another node). Neither changes anything.
 */
#include "ctl/rpc.h"
#include "control/state.h"

static const struct psw_rpc_param no_params[] = {
	{NULL},
};

static json_t *
rpc_state_show(json_t *params, struct psw_rpc_error *err)
{
	json_t *o;

	if (psw_rpc_check_params(params, no_params, err) != 0)
		return NULL;
	o = psw_state_info();
	if (o == NULL)
		return psw_rpc_err(err, PSW_RPC_INTERNAL_ERROR, "cannot read the state");
	return o;
}

static json_t *
rpc_state_export(json_t *params, struct psw_rpc_error *err)
{
	json_t *doc;

	if (psw_rpc_check_params(params, no_params, err) != 0)
		return NULL;
	doc = psw_state_dump();
	if (doc == NULL)
		return psw_rpc_err(err, PSW_RPC_INTERNAL_ERROR, "cannot build the state document");
	return doc;
}

const struct psw_rpc_method psw_rpc_state_methods[] = {
	{"state.show", rpc_state_show},
	{"state.export", rpc_state_export},
	{NULL, NULL},
};
