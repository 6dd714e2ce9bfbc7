/*
 * actions.c: run a rule's actions on one packet (PMD threads), after the classifier or
 * the cache has named the rule and before txq.c sends (classifier.c -> l2.c ->
 * actions.c -> txq.c). Also the control thread's precomputation of a rule's result
 * (psw_actions_result_init), so that the common cases (one output, drop, normal) skip the
 * action loop.
 *
 * Actions run in order on the packet as it is at that point, as in OpenFlow: an output
 * followed by more actions sends a copy (rte_pktmbuf_copy: later rewrites must not
 * reach a packet already queued), the last output sends the packet itself. A list that
 * outputs nothing drops the packet (ACTION_DROP). Output to the input port is skipped
 * (HAIRPIN if nothing else was sent). No lock, no log: every loss is a counted drop.
 */
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "actions.h"

psw_tunnel_action_fn psw_actions_tunnel;

void
psw_actions_result_init(struct psw_flow_result *res, const struct psw_rule *rule)
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

/* A copy of m for one more output; NULL (counted NO_MBUF) when the pool is empty. */
static inline struct rte_mbuf *
copy_pkt(struct psw_pmd *pmd, struct psw_flow_ctx *ctx, struct rte_mbuf *m, uint16_t in_port)
{
	struct rte_mbuf *c = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);

	if (unlikely(c == NULL)) {
		psw_pmd_drop(pmd, NULL, in_port, PSW_DROP_NO_MBUF);
		return NULL;
	}
	ctx->flood_copies++;
	return c;
}

void
psw_actions_flood(struct psw_pmd *pmd, struct psw_flow_ctx *ctx, struct rte_mbuf *m,
		  uint16_t in_port, uint16_t net)
{
	const struct psw_l2_members *mem = __atomic_load_n(&psw_l2_members[net], __ATOMIC_ACQUIRE);
	int last = -1;

	if (likely(mem != NULL))
		for (int i = mem->n - 1; i >= 0; i--)
			if (mem->port[i] != in_port) {
				last = i;
				break;
			}
	if (unlikely(last < 0)) {
		psw_pmd_drop(pmd, m, in_port, PSW_DROP_HAIRPIN);
		return;
	}
	ctx->floods++;
	for (int i = 0; i < last; i++) {
		struct rte_mbuf *c;

		if (mem->port[i] == in_port)
			continue;
		c = copy_pkt(pmd, ctx, m, in_port);
		if (c)
			psw_txq_enqueue(pmd, mem->port[i], c, in_port);
	}
	psw_txq_enqueue(pmd, mem->port[last], m, in_port);
}

void
psw_actions_normal(struct psw_pmd *pmd, struct psw_flow_ctx *ctx, struct rte_mbuf *m,
		   uint16_t in_port, const struct psw_l2_decision *d)
{
	const struct rte_ether_hdr *eh;

	switch (d->src_state) {
	case PSW_L2_SRC_KNOWN:
		/* Shared line: written only when the second changes. */
		if (unlikely(d->src_e->seen != ctx->now_s))
			__atomic_store_n(&((struct psw_fdb_entry *)d->src_e)->seen, ctx->now_s,
					 __ATOMIC_RELAXED);
		break;
	case PSW_L2_SRC_NEW:
	case PSW_L2_SRC_MOVED:
		eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		psw_l2_learn_post_filtered(&ctx->learn, pmd->now, d->net, &eh->src_addr, in_port);
		break;
	default:
		break;
	}
	switch (d->verdict) {
	case PSW_L2_UNICAST:
		psw_txq_enqueue(pmd, d->out_port, m, in_port);
		break;
	case PSW_L2_FLOOD:
		psw_actions_flood(pmd, ctx, m, in_port, d->net);
		break;
	default:
		psw_pmd_drop(pmd, m, in_port, d->drop_reason);
		break;
	}
}

static inline bool
has_vlan(const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	return eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_VLAN) ||
	       eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_QINQ);
}

/* Insert an 802.1Q tag after the MAC addresses; false if there is no headroom. */
static bool
push_vlan(struct rte_mbuf *m, uint16_t tci)
{
	struct rte_ether_hdr *nh;
	struct rte_vlan_hdr *vh;
	char *p;

	if (unlikely(m->data_len < RTE_ETHER_HDR_LEN))
		return false;
	p = rte_pktmbuf_prepend(m, sizeof(struct rte_vlan_hdr));
	if (unlikely(p == NULL))
		return false;
	nh = (struct rte_ether_hdr *)p;
	memmove(nh, p + sizeof(struct rte_vlan_hdr), 2 * RTE_ETHER_ADDR_LEN);
	/* The old ethertype stays where it was: it is now the tag's inner type. */
	nh->ether_type = RTE_BE16(RTE_ETHER_TYPE_VLAN);
	vh = (struct rte_vlan_hdr *)(nh + 1);
	vh->vlan_tci = rte_cpu_to_be_16(tci);
	return true;
}

/* Remove the outer tag; a packet without one is left alone. */
static void
pop_vlan(struct rte_mbuf *m)
{
	char *p;

	if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) {
		m->ol_flags &= ~(RTE_MBUF_F_RX_VLAN_STRIPPED | RTE_MBUF_F_RX_VLAN);
		m->vlan_tci = 0;
		return;
	}
	if (m->data_len < RTE_ETHER_HDR_LEN + sizeof(struct rte_vlan_hdr) || !has_vlan(m))
		return;
	p = rte_pktmbuf_mtod(m, char *);
	memmove(p + sizeof(struct rte_vlan_hdr), p, 2 * RTE_ETHER_ADDR_LEN);
	rte_pktmbuf_adj(m, sizeof(struct rte_vlan_hdr));
}

/* NORMAL in the middle of a list: decide on the packet's current addresses. */
static void
normal_now(struct psw_pmd *pmd, struct psw_flow_ctx *ctx, struct rte_mbuf *m, uint16_t in_port)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	struct psw_l2_decision d;

	psw_l2_decide_rcu(in_port, &eh->src_addr, &eh->dst_addr, &d);
	psw_actions_normal(pmd, ctx, m, in_port, &d);
}

void
psw_actions_run(struct psw_pmd *pmd, struct psw_flow_ctx *ctx, struct rte_mbuf *m,
		uint16_t in_port, const struct psw_rule *rule)
{
	unsigned n = rule->n_actions;
	bool sent = false, hairpin = false;
	struct rte_ether_hdr *eh;

	for (unsigned i = 0; i < n; i++) {
		const struct psw_action *a = &rule->actions[i];
		bool last = i + 1 == n;
		struct rte_mbuf *c;

		switch (a->type) {
		case PSW_ACT_OUTPUT:
			if (unlikely(a->port == in_port)) {
				hairpin = true;
				break;
			}
			if (last) {
				psw_txq_enqueue(pmd, a->port, m, in_port);
				return;
			}
			c = copy_pkt(pmd, ctx, m, in_port);
			if (c)
				psw_txq_enqueue(pmd, a->port, c, in_port);
			sent = true;
			break;
		case PSW_ACT_NORMAL:
			if (last) {
				normal_now(pmd, ctx, m, in_port);
				return;
			}
			c = copy_pkt(pmd, ctx, m, in_port);
			if (c)
				normal_now(pmd, ctx, c, in_port);
			sent = true;
			break;
		case PSW_ACT_DROP:
			psw_pmd_drop(pmd, m, in_port, PSW_DROP_ACTION_DROP);
			return;
		case PSW_ACT_SET_ETH_SRC:
			eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
			rte_ether_addr_copy(&a->mac, &eh->src_addr);
			break;
		case PSW_ACT_SET_ETH_DST:
			eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
			rte_ether_addr_copy(&a->mac, &eh->dst_addr);
			break;
		case PSW_ACT_PUSH_VLAN:
			if (unlikely(!push_vlan(m, a->vlan_tci))) {
				psw_pmd_drop(pmd, m, in_port, PSW_DROP_VLAN);
				return;
			}
			break;
		case PSW_ACT_POP_VLAN:
			pop_vlan(m);
			break;
		case PSW_ACT_ENCAP_VXLAN:
		case PSW_ACT_DECAP_VXLAN:
			if (psw_actions_tunnel == NULL) {
				psw_pmd_drop(pmd, m, in_port, PSW_DROP_TUNNEL);
				return;
			}
			if (psw_actions_tunnel(pmd, &m, in_port, a) < 0)
				return;
			break;
		default:
			psw_pmd_drop(pmd, m, in_port, PSW_DROP_TUNNEL);
			return;
		}
	}
	if (sent)
		rte_pktmbuf_free(m);  /* its copies were the output */
	else
		psw_pmd_drop(pmd, m, in_port, hairpin ? PSW_DROP_HAIRPIN : PSW_DROP_ACTION_DROP);
}
