/*
 * actions.c: the actions stage (actions.h; PMD threads), after the classifier or the cache
 * has named each packet's result and before txq.c sends.
 *
 * Actions run in order on the packet as it is at that point, as in OpenFlow: an output
 * followed by more actions sends a copy (rte_pktmbuf_copy: later rewrites must not
 * reach a packet already queued), the last output sends the packet itself. A list that
 * outputs nothing drops the packet (ACTION_DROP). Output to the input port is skipped
 * (HAIRPIN if nothing else was sent). No lock, no log: every loss is a counted drop.
 *
 * NORMAL on the full path: when the source is known on the input port, the decision (a
 * known unicast port or a flood) is cached for the flow (an L2 result from the per-PMD
 * pool, ctx.h) and for the MAC pair (the L2 decision cache), so a steady flow costs one
 * exact-match lookup. That floods can be cached is a change from DESIGN.md: every FDB
 * change, learning a new MAC included, bumps the generation (batched per drain of the
 * learn ring), so a destination learned meanwhile makes a cached flood stale and the next
 * packet goes to the learned port.
 */
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "datapath/actions.h"
#include "datapath/flow_cache.h"
#include "l2/bind.h"
#include "neigh/neigh_dp.h"
#include "neigh/pkt.h"

psw_tunnel_action_fn psw_actions_tunnel;

static inline void
trace_action(struct psw_pmd *pmd, uint16_t in_port, const struct psw_rule *rule, unsigned i)
{
	struct psw_trace_event *e = psw_trace_add(pmd->trace, PSW_TR_ACTION, in_port,
						  &rule->actions[i], NULL, 0);

	if (e != NULL)
		e->u = i;
}

static inline void
trace_l2(struct psw_pmd *pmd, uint16_t in_port, const struct psw_l2_decision *d)
{
	psw_trace_add(pmd->trace, PSW_TR_L2, in_port, NULL, d, sizeof(*d));
}

void
psw_actions_trace_no_rule(struct psw_pmd *pmd, uint16_t in_port, uint16_t out)
{
	psw_trace_add(pmd->trace, PSW_TR_NO_RULE, out, NULL, NULL, 0);
	(void)in_port;
}

/* A copy of m for one more output; NULL (counted NO_MBUF) when the pool is empty. */
static inline struct rte_mbuf *
copy_pkt(struct psw_pmd *pmd, struct rte_mbuf *m, uint16_t in_port)
{
	struct rte_mbuf *c = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);

	if (unlikely(c == NULL)) {
		psw_pmd_drop(pmd, NULL, in_port, PSW_DROP_NO_MBUF);
		return NULL;
	}
	pmd->ctx->flood_copies++;
	return c;
}

/* ARP suppression: an ARP request or a neighbor solicitation for an address the network
 * knows (l2/bind.h) is answered here and sent back where it came from (within the
 * per-PMD answer budget, else dropped as ARP_LIMIT). True if m was consumed. */
static bool
answer_neigh(struct psw_pmd *pmd, struct rte_mbuf *m, uint16_t in_port, uint16_t net)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct psw_l2_bind_slot *s = NULL;
	struct rte_arp_hdr *a = NULL;
	struct psw_nd_msg *nd = NULL;
	struct rte_ipv6_hdr *ip6 = NULL;
	uint8_t ip[16] = {0};

	if (eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
		a = psw_arp_hdr(m, RTE_ETHER_HDR_LEN);
		if (a == NULL || a->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST))
			return false;
		memcpy(ip, &a->arp_data.arp_tip, 4);
		s = psw_l2_bind_lookup_rcu(net, ip, false);
	} else if (eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
		nd = psw_nd_msg(m, RTE_ETHER_HDR_LEN, &ip6);
		if (nd == NULL || nd->type != PSW_ND_NS)
			return false;
		s = psw_l2_bind_lookup_rcu(net, nd->target, true);
	}
	if (s == NULL || s->port == in_port)
		return false;
	if (!psw_neigh_answer_ok(pmd)) {
		psw_pmd_drop(pmd, m, in_port, PSW_DROP_ARP_LIMIT);
		return true;
	}
	if (psw_tracing(pmd))
		psw_trace_add(pmd->trace, PSW_TR_NOTE, in_port,
			      "answered from the network's address bindings (ARP suppression)",
			      NULL, 0);
	if (a != NULL)
		psw_arp_reply_in_place(m, a, &s->mac);
	else if (!psw_nd_reply_in_place(m, RTE_ETHER_HDR_LEN, ip6, nd, &s->mac))
		return false;
	psw_txq_enqueue(pmd, in_port, m, in_port);
	return true;
}

void
psw_actions_flood(struct psw_pmd *pmd, struct rte_mbuf *m, uint16_t in_port, uint16_t net)
{
	const struct psw_l2_members *mem = __atomic_load_n(&psw_l2_members[net], __ATOMIC_ACQUIRE);
	int last = -1, lim;

	/* Only a request from this node's own ports: one that came over a transport was
	 * flooded by a node that could not answer it; answering here too would send the
	 * target's MAC back from this node, and the asker's node would learn it here. */
	if (unlikely(psw_l2_net_binds[net] != 0) &&
	    psw_ports[in_port].tunnel == PSW_TUNNEL_NONE &&
	    rte_is_multicast_ether_addr(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr) &&
	    answer_neigh(pmd, m, in_port, net))
		return;
	if (likely(mem != NULL)) {
		/* From a transport port: to the local ports only (split horizon). */
		lim = psw_ports[in_port].tunnel == PSW_TUNNEL_NONE ? mem->n : mem->n_local;
		for (int i = lim - 1; i >= 0; i--)
			if (mem->port[i] != in_port) {
				last = i;
				break;
			}
	}
	if (unlikely(last < 0)) {
		psw_pmd_drop(pmd, m, in_port, PSW_DROP_HAIRPIN);
		return;
	}
	pmd->ctx->floods++;
	for (int i = 0; i < last; i++) {
		struct rte_mbuf *c;

		if (mem->port[i] == in_port)
			continue;
		c = copy_pkt(pmd, m, in_port);
		if (c)
			psw_txq_enqueue(pmd, mem->port[i], c, in_port);
	}
	psw_txq_enqueue(pmd, mem->port[last], m, in_port);
}

void
psw_actions_normal(struct psw_pmd *pmd, struct rte_mbuf *m, uint16_t in_port,
		   const struct psw_l2_decision *d, uint64_t now_s)
{
	if (psw_tracing(pmd))
		trace_l2(pmd, in_port, d);
	psw_actions_source(pmd, d->src_state, d->src_e, d->net, m, in_port, now_s);
	switch (d->verdict) {
	case PSW_L2_UNICAST:
		psw_txq_enqueue(pmd, d->out_port, m, in_port);
		break;
	case PSW_L2_FLOOD:
		psw_actions_flood(pmd, m, in_port, d->net);
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
normal_now(struct psw_pmd *pmd, struct rte_mbuf *m, uint16_t in_port, uint64_t now_s)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	struct psw_l2_decision d;

	psw_l2_decide_rcu(in_port, &eh->src_addr, &eh->dst_addr, &d);
	psw_actions_normal(pmd, m, in_port, &d, now_s);
}

void
psw_actions_run(struct psw_pmd *pmd, struct rte_mbuf *m, uint16_t in_port,
		const struct psw_rule *rule, uint64_t now_s)
{
	unsigned n = rule->n_actions;
	bool sent = false, hairpin = false;
	struct rte_ether_hdr *eh;

	for (unsigned i = 0; i < n; i++) {
		const struct psw_action *a = &rule->actions[i];
		bool last = i + 1 == n;
		struct rte_mbuf *c;

		if (psw_tracing(pmd))
			trace_action(pmd, in_port, rule, i);
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
			c = copy_pkt(pmd, m, in_port);
			if (c)
				psw_txq_enqueue(pmd, a->port, c, in_port);
			sent = true;
			break;
		case PSW_ACT_NORMAL:
			if (last) {
				normal_now(pmd, m, in_port, now_s);
				return;
			}
			c = copy_pkt(pmd, m, in_port);
			if (c)
				normal_now(pmd, c, in_port, now_s);
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

/* ---- the per-packet decision of the full path -------------------------------------- */

static inline bool
l2_result_valid(const struct psw_flow_result *r, const struct psw_flow_key *k, uint32_t hash,
		uint16_t in_port)
{
	return r->in_port == in_port && r->hash == hash &&
	       rte_is_same_ether_addr(&r->src, &k->dl_src) &&
	       rte_is_same_ether_addr(&r->dst, &k->dl_dst);
}

/* NORMAL for one packet of the full path: the L2 decision cache, else the FDB; caches the
 * decision for the flow when the source is known on this port (a known unicast or a
 * flood: either is exact until the FDB changes, and every FDB change bumps the
 * generation). */
static inline void
normal_cached(struct psw_pmd *pmd, struct psw_burst *b, uint16_t i,
	      const struct psw_flow_result *rr, bool cached)
{
	struct psw_dp_ctx *ctx = pmd->ctx;
	const struct psw_flow_key *k = &b->keys[i];
	uint16_t in_port = b->in_port;
	uint32_t hash = b->hashes[i];
	/* The MACs are key words 1 (dl_dst, dl_src[0..1]) and 2 (dl_src[2..5] in the low half). */
	const uint64_t *w = psw_flow_key_words(k);
	uint64_t x = (w[1] * 0x9e3779b97f4a7c15ull) ^ ((w[2] & 0xffffffffu) * 0xc2b2ae3d27d4eb4full);
	struct psw_l2c_entry *c = &ctx->l2c[((x >> 40) ^ in_port) & (PSW_L2C_SIZE - 1)];
	struct psw_l2_decision d;

	if (c->gen == (uint32_t)b->gen && c->rr == rr && c->in_port == in_port &&
	    (!c->flood || c->learn_gen == (uint32_t)b->learn_gen) &&
	    rte_is_same_ether_addr(&c->src, &k->dl_src) &&
	    rte_is_same_ether_addr(&c->dst, &k->dl_dst)) {
		d.net = c->net;
		d.out_port = c->out_port;
		d.verdict = c->flood ? PSW_L2_FLOOD : PSW_L2_UNICAST;
		d.src_state = PSW_L2_SRC_KNOWN;
		d.src_e = c->src_e;
		d.drop_reason = 0;
		d.dst_multicast = 0;
	} else {
		psw_l2_decide_rcu(in_port, &k->dl_src, &k->dl_dst, &d);
		if (d.src_state == PSW_L2_SRC_KNOWN && d.verdict != PSW_L2_DROP) {
			c->gen = (uint32_t)b->gen;
			c->rr = rr;
			c->in_port = in_port;
			c->src = k->dl_src;
			c->dst = k->dl_dst;
			c->net = d.net;
			c->out_port = d.out_port;
			c->flood = d.verdict == PSW_L2_FLOOD;
			c->learn_gen = (uint32_t)b->learn_gen;
			c->src_e = d.src_e;
		}
	}
	if (unlikely(d.src_state != PSW_L2_SRC_KNOWN || d.verdict == PSW_L2_DROP)) {
		/* Not a decision to keep: cache the rule, decide again next time. */
		if (!cached && psw_dp_may_insert(ctx))
			psw_flow_cache_insert(ctx->cache, k, hash, b->gen, ctx->fgen, rr);
	} else if (psw_dp_may_insert(ctx)) {
		struct psw_flow_result *r = &ctx->pool[ctx->pool_next++ & ctx->pool_mask];

		r->rule = rr->rule;
		r->kind = PSW_RES_L2;
		r->flood = d.verdict == PSW_L2_FLOOD;
		r->learn_gen = (uint32_t)b->learn_gen;
		r->out_port = d.verdict == PSW_L2_UNICAST ? d.out_port
			      : psw_l2_net_binds[d.net] != 0 && psw_key_neigh_request(k)
			      ? PSW_PORT_NONE   /* through psw_actions_flood: it may answer */
			      : psw_l2_flood_single(d.net, in_port);
		r->net = d.net;
		r->in_port = in_port;
		r->hash = hash;
		r->src = k->dl_src;
		r->dst = k->dl_dst;
		r->src_e = (struct psw_fdb_entry *)d.src_e;
		r->rule_res = rr;
		psw_flow_cache_insert(ctx->cache, k, hash, b->gen, ctx->fgen, r);
	}
	psw_actions_normal(pmd, b->pkts[i], in_port, &d, b->now_s);
}

/* Per-rule counters, gathered over runs of packets that hit the same rule. */
struct count_run {
	const struct psw_rule *rule;
	uint32_t packets;
	uint64_t bytes;
};

static inline void
count_flush(struct psw_pmd *pmd, struct count_run *c, uint64_t now_s)
{
	if (c->rule && !psw_tracing(pmd))
		psw_rule_count(c->rule, pmd->idx, c->packets, c->bytes, now_s);
	c->rule = NULL;
	c->packets = 0;
	c->bytes = 0;
}

static inline void
count(struct psw_pmd *pmd, struct count_run *c, const struct psw_rule *rule, uint32_t len,
      uint64_t now_s)
{
	if (c->rule != rule)
		count_flush(pmd, c, now_s);
	c->rule = rule;
	c->packets++;
	c->bytes += len;
}

void
psw_actions_burst(struct psw_pmd *pmd, struct psw_burst *b)
{
	struct count_run run = {0};
	uint16_t in_port = b->in_port;

	for (uint16_t i = 0; i < b->n; i++) {
		struct rte_mbuf *m = b->pkts[i];
		const struct psw_flow_result *r = b->res[i];

		if (i + 1 < b->n)
			rte_prefetch0(b->res[i + 1]);
		if (unlikely(b->keys[i].flags & PSW_KEY_F_BAD)) {
			psw_pmd_drop(pmd, m, in_port, b->keys[i].flags & PSW_KEY_F_TRUNCATED ?
				     PSW_DROP_TRUNCATED : PSW_DROP_MALFORMED);
			continue;
		}
		if (unlikely(r == NULL)) {
			psw_actions_no_rule(pmd, m, in_port);
			continue;
		}
		count(pmd, &run, r->rule, m->pkt_len, b->now_s);
		if (psw_tracing(pmd) && r->kind != PSW_RES_ACTIONS && r->rule->n_actions > 0)
			trace_action(pmd, in_port, r->rule, 0);
		switch (r->kind) {
		case PSW_RES_L2:
			if (likely(l2_result_valid(r, &b->keys[i], b->hashes[i], in_port) &&
				   (!r->flood || r->learn_gen == (uint32_t)b->learn_gen))) {
				if (!psw_tracing(pmd))
					psw_l2_fdb_refresh(r->src_e, b->now_s);
				pmd->ctx->l2_cached++;
				if (likely(r->out_port != PSW_PORT_NONE))
					psw_txq_enqueue(pmd, r->out_port, m, in_port);
				else
					psw_actions_flood(pmd, m, in_port, r->net);
				break;
			}
			normal_cached(pmd, b, i, r->rule_res, false);
			break;
		case PSW_RES_NORMAL:
			normal_cached(pmd, b, i, r, b->hit[i]);
			break;
		case PSW_RES_OUTPUT:
			if (unlikely(r->out_port == in_port))
				psw_pmd_drop(pmd, m, in_port, PSW_DROP_HAIRPIN);
			else
				psw_txq_enqueue(pmd, r->out_port, m, in_port);
			break;
		case PSW_RES_DROP:
			psw_pmd_drop(pmd, m, in_port, PSW_DROP_ACTION_DROP);
			break;
		default:
			psw_actions_run(pmd, m, in_port, r->rule, b->now_s);
			break;
		}
	}
	count_flush(pmd, &run, b->now_s);
}
