/*
 * result.h: what a rule does, resolved in advance (control thread) so that the common
 * cases (one output, drop, normal) skip the action loop. A rule's result lives next to it
 * (flow_table.h's entry; rule->owner points to it) and is what the exact-match cache
 * holds. The datapath also makes results of its own for NORMAL rules (PSW_RES_L2: the L2
 * decision for one (in_port, source, destination)), in a per-PMD pool
 * (datapath/ctx.h); those carry what they were made for, so a recycled slot is detected.
 */
#ifndef PSW_FLOW_RESULT_H
#define PSW_FLOW_RESULT_H

#include <stdint.h>
#include <rte_ether.h>

#include "flow/rule.h"

enum psw_result_kind {
	PSW_RES_OUTPUT = 1,    /* a single output action: out_port */
	PSW_RES_DROP,          /* the action drop (or no action) */
	PSW_RES_NORMAL,        /* the single action normal: an L2 decision per packet */
	PSW_RES_L2,            /* normal, resolved for (in_port, src, dst, hash): out_port, or
				* PSW_PORT_NONE for a flood to the other ports of net */
	PSW_RES_ACTIONS,       /* anything else: run the rule's action list */
};

struct psw_fdb_entry;

struct psw_flow_result {
	const struct psw_rule *rule;
	uint8_t kind;          /* enum psw_result_kind */
	uint16_t out_port;     /* OUTPUT, L2 */
	uint16_t net;          /* L2: the network of a flood */
	/* PSW_RES_L2: what the decision was made for. */
	uint16_t in_port;
	uint32_t hash;
	struct rte_ether_addr src, dst;
	struct psw_fdb_entry *src_e;   /* refreshed (coarse) on every hit */
	uint8_t flood;                 /* L2: a flood (valid only in learn generation learn_gen) */
	uint32_t learn_gen;
	const struct psw_flow_result *rule_res;  /* the rule's own (NORMAL) result */
};

/* Control thread: classify rule's actions into res (rule->owner should point to res). */
void psw_flow_result_init(struct psw_flow_result *res, const struct psw_rule *rule);

#endif
