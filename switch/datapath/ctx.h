/*
 * ctx.h: each PMD's datapath state (pmd->ctx), made by datapath/pipeline.c for every PMD
 * before it starts and for `trace`'s own context. Only its PMD reads and writes it (the
 * control thread reads the counters): no atomics.
 *
 * Three caches, described once in switch/README.md ("The cache hierarchy"):
 * - the exact-match cache (flow_cache.c), keyed by the whole key, or by the view's cache
 *   mask while whole keys miss (megaflow-style), holding a rule's result or an L2 result
 *   from `pool`;
 * - the L2 decision cache `l2c`, keyed by (NORMAL rule, in_port, source, destination),
 *   in front of the FDB for the full path (l2_decide.h);
 * - the L2 fast path's memos (l2_path.h): per input port slot, the decision for the last
 *   Ethernet header seen on it.
 * Every entry carries the generation it was made in; any table change but a rule change
 * bumps it. Entries that hold a rule's result also carry the rule generation and check
 * the result (flow/result.h): a deleted or preempted rule is not used, other rules'
 * entries stay. A cached flood also carries the learn generation (l2/l2.h): a newly
 * learned MAC makes floods stale and nothing else.
 */
#ifndef PSW_DATAPATH_CTX_H
#define PSW_DATAPATH_CTX_H

#include <stdint.h>
#include <rte_ether.h>

#include "flow/result.h"
#include "l2/l2.h"

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
	uint32_t learn_gen;              /* a flood: valid in this learn generation only */
	struct rte_ether_addr src, dst;
	const struct psw_flow_result *rr; /* the NORMAL rule's result */
	const struct psw_fdb_entry *src_e;
};

/* The L2 fast path's memory (l2_path.c): per slot (in_port mod PSW_MEMO_SLOTS, so that a
 * PMD polling a pod's port and the port that feeds it keeps both decisions), the decision
 * made for the last Ethernet header seen, (in_port, key words 1 and 2), with the table
 * and FDB of generation gen. Packets with the same header reuse it; a decision that
 * depends on something the generation does not cover (a source still to be learned, a
 * drop) is reused only within a burst. */
enum psw_memo_act {
	PSW_MEMO_SEND,          /* out_port */
	PSW_MEMO_FLOOD,         /* psw_actions_flood to net (more than one port) */
	PSW_MEMO_DROP,          /* drop_reason */
	PSW_MEMO_RUN,           /* psw_actions_run(res->rule) */
	PSW_MEMO_NO_RULE,       /* the port's static output, if any */
};

#define PSW_MEMO_SLOTS 16                /* a power of 2 */

struct psw_l2_memo {
	uint64_t w1, w2;
	uint64_t gen;
	uint64_t fgen;                      /* the rule generation of the lookup */
	uint64_t learn_gen;                 /* a flood: valid in this learn generation only */
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

struct psw_dp_ctx {
	struct psw_flow_cache *cache;
	uint64_t fgen;                   /* psw_flow_gen of the burst (flow_cache stage) */
	struct psw_flow_result *pool;    /* L2 results, pool_mask + 1 of them */
	uint32_t pool_mask;
	uint32_t pool_next;
	uint64_t l2_cached;              /* hits on cached L2 decisions */
	/* Insertion throttle (flow_cache stage): insert 1 in (ins_mask + 1) misses. */
	uint32_t ins_mask, ins_tick;
	/* Full path: key the cache on the view's cache mask while the whole keys miss;
	 * mask_windows counts throttle windows since it was switched on. */
	uint8_t mask_on;
	uint32_t mask_windows;
	uint32_t win_lookups, win_misses;
	uint64_t floods;                 /* packets flooded */
	uint64_t flood_copies;           /* copies made for floods and multiple outputs */
	struct psw_l2_memo memo[PSW_MEMO_SLOTS]; /* the L2 fast path's last decisions */
	struct psw_l2_learn_filter learn;
	struct psw_l2c_entry l2c[PSW_L2C_SIZE];
};

/* May a miss be inserted into the exact-match cache now (the insertion throttle)? */
static inline bool
psw_dp_may_insert(struct psw_dp_ctx *ctx)
{
	return (++ctx->ins_tick & ctx->ins_mask) == 0;
}

#endif
