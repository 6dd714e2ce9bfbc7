/*
 * l2_path.c: the L2 fast path (l2_path.h; PMD threads). The parser cuts the burst into
 * runs of packets with the same key words 1 and 2 (MACs, VLAN, ethertype; a bad packet is
 * a run of its own), and one decision -- the rule the classifier picks for that header,
 * and NORMAL's L2 decision -- serves a whole run (ctx->memo, one per input port slot, kept
 * across bursts while the generation holds, its rule stands (no rule change concerning
 * it: flow/result.h) and the decision depends on nothing else). Per run, not per packet:
 * the rule's counters, the source's last-seen refresh or its learn event, one enabled
 * check (or static output) and one copy into the tx buffer. Same rule, same
 * outputs, same drops as the full path (test_flow_table's property test runs both on
 * random rule sets and traffic). Measured (benchmarks/run.sh --quick, on-CPU
 * cycles/packet, normal): 81 -> 52 at 1 flow, 193 -> 80 at 100,000 flows, where the
 * 5-tuple cache had missed 93% of the time.
 */
#include <string.h>

#include "datapath/actions.h"
#include "datapath/l2_path.h"
#include "datapath/parse.h"
#include "flow/classifier.h"
#include "l2/bind.h"

/* Decide for the header (in_port, w1, w2) on table cls: the rule the full path would pick
 * (its key agrees with this one on every field the table looks at, and the others are
 * masked out by every rule) and what it does with such a packet. */
static void
memo_resolve(struct psw_pmd *pmd, struct psw_l2_memo *mo, const struct psw_classifier *cls,
	     const struct psw_burst *b, uint64_t fgen, uint16_t in_port, uint64_t w1, uint64_t w2)
{
	struct psw_flow_key k;
	const struct psw_rule *rule;
	const struct psw_flow_result *res;
	struct psw_l2_decision d;

	memset(&k, 0, sizeof(k));
	k.in_port = in_port;
	memcpy(&k.dl_dst, &w1, 8);
	memcpy((char *)&k.dl_src + 2, &w2, 8);
	mo->w1 = w1;
	mo->w2 = w2;
	mo->gen = b->gen;
	mo->fgen = fgen;
	mo->learn_gen = b->learn_gen;
	mo->in_port = in_port;
	mo->normal = mo->flood = mo->learn = 0;
	mo->src_e = NULL;
	mo->keep = 1;
	rule = cls ? psw_classifier_lookup(cls, &k) : NULL;
	res = rule ? rule->owner : NULL;
	mo->res = res;
	if (psw_tracing(pmd)) {
		/* The same events as the full path's classify and actions stages. */
		if (rule != NULL)
			psw_trace_add(pmd->trace, PSW_TR_RULE, in_port, rule, NULL, 0);
		if (res != NULL && res->kind != PSW_RES_ACTIONS && rule->n_actions > 0)
			psw_trace_add(pmd->trace, PSW_TR_ACTION, in_port, &rule->actions[0],
				      NULL, 0);
		mo->keep = 0;   /* a decision per traced packet */
	}
	if (res == NULL) {
		mo->act = PSW_MEMO_NO_RULE;
		return;
	}
	switch (res->kind) {
	case PSW_RES_OUTPUT:
		mo->act = res->out_port == in_port ? PSW_MEMO_DROP : PSW_MEMO_SEND;
		mo->out_port = res->out_port;
		mo->drop_reason = PSW_DROP_HAIRPIN;
		return;
	case PSW_RES_DROP:
		mo->act = PSW_MEMO_DROP;
		mo->drop_reason = PSW_DROP_ACTION_DROP;
		return;
	case PSW_RES_NORMAL:
		break;
	default:
		mo->act = PSW_MEMO_RUN;
		return;
	}
	psw_l2_decide_rcu(in_port, &k.dl_src, &k.dl_dst, &d);
	if (psw_tracing(pmd))
		psw_trace_add(pmd->trace, PSW_TR_L2, in_port, NULL, &d, sizeof(d));
	mo->normal = 1;
	mo->net = d.net;
	if (d.src_state == PSW_L2_SRC_KNOWN)
		mo->src_e = d.src_e;
	else if (d.src_state == PSW_L2_SRC_NEW || d.src_state == PSW_L2_SRC_MOVED)
		mo->learn = 1;
	/* Learning to come or a drop (a MAC limit, say) can change without a generation
	 * bump that concerns this decision: decide again in the next burst. */
	mo->keep &= d.src_state == PSW_L2_SRC_KNOWN && d.verdict != PSW_L2_DROP;
	switch (d.verdict) {
	case PSW_L2_UNICAST:
		mo->act = PSW_MEMO_SEND;
		mo->out_port = d.out_port;
		break;
	case PSW_L2_FLOOD:
		mo->flood = 1;
		mo->out_port = psw_l2_net_binds[d.net] != 0 && psw_key_neigh_request(&k)
			       ? PSW_PORT_NONE   /* per packet: psw_actions_flood may answer */
			       : psw_l2_flood_single(d.net, in_port);
		mo->act = mo->out_port != PSW_PORT_NONE ? PSW_MEMO_SEND : PSW_MEMO_FLOOD;
		break;
	default:
		mo->act = PSW_MEMO_DROP;
		mo->drop_reason = d.drop_reason;
		break;
	}
}

/* pkts[0..n) all have the memo's header: act on them, count them as one run. */
static inline void
memo_run(struct psw_pmd *pmd, const struct psw_l2_memo *mo, struct rte_mbuf **pkts,
	 uint16_t n, uint16_t in_port, uint32_t bytes, uint64_t now_s)
{
	struct psw_dp_ctx *ctx = pmd->ctx;
	uint16_t i, out;

	/* NORMAL's refresh or learn event, once per run. */
	if (mo->normal)
		psw_actions_source(pmd, mo->src_e ? PSW_L2_SRC_KNOWN :
				   mo->learn ? PSW_L2_SRC_NEW : PSW_L2_SRC_INVALID,
				   mo->src_e, mo->net, pkts[0], in_port, now_s);
	if (mo->res != NULL && !psw_tracing(pmd))
		psw_rule_count(mo->res->rule, pmd->idx, n, bytes, now_s);
	if (mo->normal)
		ctx->l2_cached += n - 1u;
	switch (mo->act) {
	case PSW_MEMO_SEND:
		if (mo->flood)
			ctx->floods += n;   /* a flood that reaches one port: no copy */
		psw_txq_send_run(pmd, mo->out_port, pkts, n, in_port);
		break;
	case PSW_MEMO_FLOOD:
		for (i = 0; i < n; i++)
			psw_actions_flood(pmd, pkts[i], in_port, mo->net);
		break;
	case PSW_MEMO_DROP:
		for (i = 0; i < n; i++)
			psw_pmd_drop(pmd, pkts[i], in_port, mo->drop_reason);
		break;
	case PSW_MEMO_RUN:
		for (i = 0; i < n; i++)
			psw_actions_run(pmd, pkts[i], in_port, mo->res->rule, now_s);
		break;
	default:
		/* No rule: the port's static output, read once for the run. */
		out = __atomic_load_n(&psw_ports[in_port].output, __ATOMIC_RELAXED);
		if (likely(out != PSW_PORT_NONE && out != in_port) && !psw_tracing(pmd))
			psw_txq_send_run(pmd, out, pkts, n, in_port);
		else
			for (i = 0; i < n; i++)
				psw_actions_no_rule(pmd, pkts[i], in_port);
		break;
	}
}

/* May the memo made in an earlier burst serve this one? Same generation and input port,
 * a flood only in its learn generation, and no rule changed since, or the rule it found
 * still the one (not deleted nor preempted since, flow/result.h). */
static inline bool
memo_live(const struct psw_l2_memo *mo, const struct psw_burst *b, uint64_t fgen)
{
	return mo->keep && mo->gen == b->gen && mo->in_port == b->in_port &&
	       (!mo->flood || mo->learn_gen == b->learn_gen) &&
	       (mo->fgen == fgen || (mo->res && psw_flow_result_usable(mo->res, mo->fgen)));
}

void
psw_l2_path_burst(struct psw_pmd *pmd, struct psw_burst *b)
{
	struct psw_l2_run runs[PSW_BURST];
	struct psw_l2_memo *mo = &pmd->ctx->memo[b->in_port & (PSW_MEMO_SLOTS - 1)];
	const struct psw_classifier *cls = b->view ? b->view->cls : NULL;
	uint16_t in_port = b->in_port;
	/* the rule generation before any rule is looked up (flow_cache.h) */
	uint64_t fgen = __atomic_load_n(&psw_flow_gen, __ATOMIC_ACQUIRE);
	bool live = memo_live(mo, b, fgen);
	uint16_t nr = psw_parse_l2_runs(b->pkts, b->n, runs);

	pmd->perf.l2_packets += b->n;
	for (uint16_t r = 0; r < nr; r++) {
		const struct psw_l2_run *run = &runs[r];

		if (unlikely(run->bad)) {
			pmd->perf.l2_bad += run->n;
			for (uint16_t i = 0; i < run->n; i++)
				psw_pmd_drop(pmd, b->pkts[run->start + i], in_port,
					     run->bad & PSW_KEY_F_TRUNCATED ?
					     PSW_DROP_TRUNCATED : PSW_DROP_MALFORMED);
			continue;
		}
		if (unlikely(!live || run->w1 != mo->w1 || run->w2 != mo->w2)) {
			memo_resolve(pmd, mo, cls, b, fgen, in_port, run->w1, run->w2);
			pmd->perf.l2_resolves++;
			live = true;
		}
		memo_run(pmd, mo, b->pkts + run->start, run->n, in_port, run->bytes, b->now_s);
	}
}
