/*
 * result.c: a rule's resolved result (result.h). Control thread, when the rule is added.
 */
#include <string.h>

#include "flow/result.h"

void
psw_flow_result_init(struct psw_flow_result *res, const struct psw_rule *rule)
{
	memset(res, 0, sizeof(*res));
	res->rule = rule;
	res->out_port = PSW_PORT_NONE;
	res->in_port = PSW_PORT_NONE;
	res->rule_res = res;
	res->kind = PSW_RES_ACTIONS;
	if (rule->n_actions == 1) {
		switch (rule->actions[0].type) {
		case PSW_ACT_OUTPUT:
			res->kind = PSW_RES_OUTPUT;
			res->out_port = rule->actions[0].port;
			break;
		case PSW_ACT_DROP:
			res->kind = PSW_RES_DROP;
			break;
		case PSW_ACT_NORMAL:
			res->kind = PSW_RES_NORMAL;
			break;
		default:
			break;
		}
	} else if (rule->n_actions == 0) {
		res->kind = PSW_RES_DROP;
	}
}
