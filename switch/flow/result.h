/*
 * result.h: what a rule does, resolved in advance (control thread) so that the common
 * cases (one output, drop, normal) skip the action loop. A rule's result lives next to it
 * (flow_table.h's entry; rule->owner points to it) and is what the exact-match cache
 * holds. The datapath also makes results of its own for NORMAL rules (PSW_RES_L2: the L2
 * decision for one (in_port, source, destination)), in a per-PMD pool
 * (datapath/ctx.h); those carry what they were made for, so a recycled slot is detected.
 *
 * Rule changes and caches (flow_table.c sets, the caches check): a cached copy of a rule's
 * result is good while the rule still wins for the flows it was cached for. Each cache
 * entry carries the rule generation (psw_flow_gen, flow_table.h) read before the lookup
 * that made it; the rule's result carries `valid_from`: the generation from which cached
 * copies are good. It is set when the rule is added, raised when a later rule may take
 * some of its flows (the classifier's preemption scan), and PSW_RESULT_DEAD when the rule
 * is deleted. So a deleted or preempted rule is not used from any cache afterwards, and
 * no other cached flow is touched. Rule results live in a pool that is never returned to
 * the system (flow_table.c), so a cache may check one long after its rule has gone: a
 * slot used again has a valid_from newer than anything cached from its former rule.
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
	const struct psw_flow_result *rule_res;  /* the rule's own result (itself for a rule's;
						  * the NORMAL rule's for an L2 result) */
	uint64_t valid_from;           /* a rule's result: cached copies made at this rule
					* generation or later are good; PSW_RESULT_DEAD: none */
};

#define PSW_RESULT_DEAD UINT64_MAX

/* The rule generation: one more for every change of the rules, stored (release) by the
 * flow table (flow_table.c) once the change is in the classifier; PMDs load it (acquire)
 * before they look rules up and tag what they cache with it. A cached result tagged with
 * the current rule generation is good without a look at valid_from: no rule changed since.
 * Defined in rule.c. */
extern uint64_t psw_flow_gen;

/* PMD: may a result cached at rule generation `stamp` be used? Reads the rule's result
 * (for an L2 result, the NORMAL rule's): a relaxed load, the control thread's stores are
 * made before the RPC that changed the rule answers. */
static inline bool
psw_flow_result_usable(const struct psw_flow_result *r, uint64_t stamp)
{
	return __atomic_load_n(&r->rule_res->valid_from, __ATOMIC_RELAXED) <= stamp;
}

/* Control thread: the pool of rule results (result.c). alloc: NULL when out of memory.
 * release: a result no cache may use any more (marked DEAD here) and past its grace
 * period, or never published. pool_fini: after the PMDs have stopped; releases after it
 * are ignored (retired entries still freeing themselves). */
struct psw_flow_result *psw_flow_result_alloc(void);
void psw_flow_result_release(struct psw_flow_result *r);
void psw_flow_result_pool_fini(void);

/* Control thread: classify rule's actions into res (rule->owner should point to res);
 * cached copies are good from rule generation valid_from on. */
void psw_flow_result_init(struct psw_flow_result *res, const struct psw_rule *rule,
			  uint64_t valid_from);

#endif
