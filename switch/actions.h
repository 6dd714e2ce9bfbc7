/*
 * actions.h: what a PMD does with a packet once the flow table has decided
 * (classifier.c -> actions.c -> txq.c): the resolved result that the exact-match cache
 * holds (struct psw_flow_result), the per-PMD state of the flow pipeline
 * (struct psw_flow_ctx, pmd->flow_ctx) and the action runner.
 *
 * A rule's result is computed once by the control thread when the rule is added
 * (psw_actions_result_init) and lives next to the rule (rule->owner points to it). For
 * rules whose only action is NORMAL, a PMD may also cache the L2 decision (a known
 * unicast port, or a flood) for one (in_port, source, destination) when the source is
 * known on the input port: such results live in a per-PMD pool, are recycled
 * round-robin, and carry what they were made for, so a recycled slot is detected and
 * treated as a miss of the L2 step. Every FDB change bumps the generation (l2.h), so a
 * cached decision never outlives the table it was made from.
 */
#ifndef PSW_ACTIONS_H
#define PSW_ACTIONS_H

#include <stdint.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "flow.h"
#include "l2.h"
#include "pmd.h"

enum psw_result_kind {
	PSW_RES_OUTPUT = 1,    /* a single output action: out_port */
	PSW_RES_DROP,          /* the action drop */
	PSW_RES_NORMAL,        /* the single action normal: an L2 decision per packet */
	PSW_RES_L2,            /* normal, resolved for (in_port, src, dst, hash): out_port, or
				* PSW_PORT_NONE for a flood to the other ports of net */
	PSW_RES_ACTIONS,       /* anything else: run the rule's action list */
};

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
	const struct psw_flow_result *rule_res;  /* the rule's own (NORMAL) result */
};

struct psw_flow_cache;

/* A per-PMD cache of L2 decisions keyed by (rule, in_port, source, destination) only, in
 * front of the FDB: with many flows between few MACs (the exact-match cache misses on
 * every new 5-tuple), the decision still costs one line instead of two FDB lookups.
 * Valid for one generation, like everything cached. */
#define PSW_L2C_SIZE 256
struct psw_l2c_entry {
	uint32_t gen;
	uint16_t in_port;
	uint16_t out_port;               /* unicast port, or the single port of a flood */
	uint16_t net;
	uint8_t flood;
	struct rte_ether_addr src, dst;
	const struct psw_flow_result *rr; /* the NORMAL rule's result */
	const struct psw_fdb_entry *src_e;
};

/* The L2 fast path's memory (pipeline.c): the decision made for the last Ethernet header
 * seen, (in_port, key words 1 and 2), with the table and FDB of generation gen. Packets
 * with the same header reuse it; a decision that depends on something the generation
 * does not cover (a source still to be learned, a drop) is reused only within a burst. */
enum psw_memo_act {
	PSW_MEMO_SEND,          /* out_port */
	PSW_MEMO_FLOOD,         /* psw_actions_flood to net (more than one port) */
	PSW_MEMO_DROP,          /* drop_reason */
	PSW_MEMO_RUN,           /* psw_actions_run(res->rule) */
	PSW_MEMO_NO_RULE,       /* the port's static output, if any */
};

struct psw_l2_memo {
	uint64_t w1, w2;
	uint64_t gen;
	const struct psw_flow_result *res;  /* the rule's result; NULL: no rule */
	const struct psw_fdb_entry *src_e;  /* NORMAL, source known: refreshed once a burst */
	uint16_t in_port;
	uint16_t out_port;
	uint16_t net;
	uint8_t act;                     /* enum psw_memo_act */
	uint8_t drop_reason;
	uint8_t normal;                  /* decided by NORMAL */
	uint8_t flood;                   /* NORMAL flooded (a single port one is a SEND) */
	uint8_t learn;                   /* NORMAL: the source is to be (re)learned */
	uint8_t keep;                    /* valid in later bursts of generation gen */
};

/* Per-PMD state of the pipeline (pmd->flow_ctx), made by psw_pipeline_pmd_init(). */
struct psw_flow_ctx {
	struct psw_flow_cache *cache;
	struct psw_flow_result *pool;    /* L2 results, pool_mask + 1 of them */
	uint32_t pool_mask;
	uint32_t pool_next;
	uint64_t now_s;                  /* coarse seconds of the current burst */
	uint64_t l2_cached;              /* hits on cached L2 decisions */
	/* Insertion throttle (pipeline.c): insert 1 in (ins_mask + 1) misses. */
	uint32_t ins_mask, ins_tick;
	/* Full path: key the cache on the view's cache mask (pipeline.c) while the whole
	 * keys miss; mask_windows counts throttle windows since it was switched on. */
	uint8_t mask_on;
	uint32_t mask_windows;
	uint32_t win_lookups, win_misses;
	uint64_t floods;                 /* packets flooded */
	uint64_t flood_copies;           /* copies made for floods and multiple outputs */
	struct psw_l2_memo memo;         /* the L2 fast path's last decision */
	struct psw_l2_learn_filter learn;
	struct psw_l2c_entry l2c[PSW_L2C_SIZE];
};

/* The tunnel actions (PSW_ACT_ENCAP_VXLAN, PSW_ACT_DECAP_VXLAN) are filled in by the
 * tunnels stage (vxlan.c) at start-up, before PMDs run: the hook runs action a on *m and
 * returns 0 to go on with the next action (with *m, possibly a new mbuf), or -1 when it
 * consumed the packet (queued it, or dropped and counted it). Unset: dropped as TUNNEL. */
typedef int (*psw_tunnel_action_fn)(struct psw_pmd *pmd, struct rte_mbuf **m, uint16_t in_port,
				    const struct psw_action *a);
extern psw_tunnel_action_fn psw_actions_tunnel;

/* Control thread: classify rule's actions into res (rule->owner should point to res). */
void psw_actions_result_init(struct psw_flow_result *res, const struct psw_rule *rule);

/* PMD: flood m (consumed) to the members of net other than in_port. */
void psw_actions_flood(struct psw_pmd *pmd, struct psw_flow_ctx *ctx, struct rte_mbuf *m,
		       uint16_t in_port, uint16_t net);

/* PMD: NORMAL for m (consumed) with decision d made for it; learns and refreshes. */
void psw_actions_normal(struct psw_pmd *pmd, struct psw_flow_ctx *ctx, struct rte_mbuf *m,
			uint16_t in_port, const struct psw_l2_decision *d);

/* PMD: run rule's action list on m (consumed). */
void psw_actions_run(struct psw_pmd *pmd, struct psw_flow_ctx *ctx, struct rte_mbuf *m,
		     uint16_t in_port, const struct psw_rule *rule);

#endif
