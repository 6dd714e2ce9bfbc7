/*
 * actions.h: the actions stage (pipeline.c: ... classify -> actions; PMD threads): act on
 * every packet of a burst by its resolved result (flow/result.h): send to one port, drop,
 * make NORMAL's L2 decision (cached per flow in the exact-match cache, or per MAC pair in
 * the L2 decision cache, datapath/ctx.h), or run the rule's action list. Also what the L2
 * fast path (l2_path.c) shares: floods, NORMAL's effects, the action runner, the static
 * output of a port when no rule matches.
 */
#ifndef PSW_DATAPATH_ACTIONS_H
#define PSW_DATAPATH_ACTIONS_H

#include <stdint.h>
#include <rte_mbuf.h>

#include "core/burst.h"
#include "datapath/ctx.h"
#include "datapath/txq.h"
#include "flow/flow_table.h"
#include "l2/l2.h"

/* The tunnel actions (PSW_ACT_ENCAP_VXLAN, PSW_ACT_DECAP_VXLAN) are run by a hook that
 * the tunnel feature sets at start-up, before PMDs run: it runs action a on *m and
 * returns 0 to go on with the next action (with *m, possibly a new mbuf), or -1 when it
 * consumed the packet (queued it, or dropped and counted it). Unset: dropped as TUNNEL. */
typedef int (*psw_tunnel_action_fn)(struct psw_pmd *pmd, struct rte_mbuf **m, uint16_t in_port,
				    const struct psw_action *a);
extern psw_tunnel_action_fn psw_actions_tunnel;

/* The stage. */
void psw_actions_burst(struct psw_pmd *pmd, struct psw_burst *b);

/* m (consumed) to the members of net other than in_port. */
void psw_actions_flood(struct psw_pmd *pmd, struct rte_mbuf *m, uint16_t in_port,
		       uint16_t net);

/* NORMAL for m (consumed) with decision d made for it: the source's refresh or learn
 * event, then unicast, flood or drop. */
void psw_actions_normal(struct psw_pmd *pmd, struct rte_mbuf *m, uint16_t in_port,
			const struct psw_l2_decision *d, uint64_t now_s);

/* Run rule's action list on m (consumed). */
void psw_actions_run(struct psw_pmd *pmd, struct rte_mbuf *m, uint16_t in_port,
		     const struct psw_rule *rule, uint64_t now_s);

/* NORMAL's effect on the source of a frame: refresh a known entry's last-seen second
 * (a shared line, written only when the second changes) or post a learn event (filtered
 * per PMD). Nothing while tracing. */
static inline void
psw_actions_source(struct psw_pmd *pmd, uint8_t src_state, const struct psw_fdb_entry *src_e,
		   uint16_t net, const struct rte_mbuf *m, uint16_t in_port, uint64_t now_s)
{
	if (psw_tracing(pmd))
		return;
	if (src_state == PSW_L2_SRC_KNOWN) {
		psw_l2_fdb_refresh(src_e, now_s);
	} else if (src_state == PSW_L2_SRC_NEW || src_state == PSW_L2_SRC_MOVED) {
		const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

		psw_l2_learn_post_filtered(&pmd->ctx->learn, pmd->now, net, &eh->src_addr, in_port);
	}
}

void psw_actions_trace_no_rule(struct psw_pmd *pmd, uint16_t in_port, uint16_t out);

/* No rule matched m: the port's static output, if it has one. */
static inline void
psw_actions_no_rule(struct psw_pmd *pmd, struct rte_mbuf *m, uint16_t in_port)
{
	uint16_t out = __atomic_load_n(&psw_ports[in_port].output, __ATOMIC_RELAXED);

	if (psw_tracing(pmd))
		psw_actions_trace_no_rule(pmd, in_port, out);
	if (out == PSW_PORT_NONE)
		/* An empty table is issue 2's "no output"; a table that misses is NO_RULE. */
		psw_pmd_drop(pmd, m, in_port, __atomic_load_n(&psw_flow_n_rules, __ATOMIC_RELAXED) ?
			     PSW_DROP_NO_RULE : PSW_DROP_NO_OUTPUT);
	else if (unlikely(out == in_port))
		psw_pmd_drop(pmd, m, in_port, PSW_DROP_HAIRPIN);
	else
		psw_txq_enqueue(pmd, out, m, in_port);
}

#endif
