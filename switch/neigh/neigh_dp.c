/*
 * neigh_dp.c: the underlay's PMD side (neigh.h). The stage psw_neigh_burst() runs first
 * on every burst from the uplink (datapath/pipeline.c): it answers ARP requests and IPv6
 * neighbor solicitations for this node's underlay addresses in place (turned around, sent
 * back out of the uplink by the pipeline), hands the bindings it sees to the control
 * thread, and leaves everything else in the burst for the tunnel stage. Answers are
 * limited per PMD and second (psw_neigh_answer_rate; beyond: ARP_LIMIT), so a flood of
 * requests costs the PMD little and the control thread nothing.
 *
 * Also what the tunnel's encapsulation calls when a next hop is not resolved
 * (psw_neigh_post_hold). No lock, no system call: the control thread gets everything on
 * one ring.
 */
#include <rte_cycles.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "core/burst.h"
#include "core/clock.h"
#include "neigh/neigh.h"
#include "neigh/neigh_dp.h"
#include "neigh/neigh_ev.h"
#include "neigh/pkt.h"

unsigned psw_neigh_answer_rate = PSW_NEIGH_DEFAULT_ANSWER_RATE;

/* Per PMD: the answer budget and the hold filter. Only its PMD writes its slot; trace runs
 * without touching them. */
#define HOLD_FILTER 64
struct pmd_state {
	uint64_t window;               /* TSC at the start of the current second */
	uint32_t answers;              /* answers in it */
	uint64_t hold_key[HOLD_FILTER];
	uint64_t hold_tsc[HOLD_FILTER];
	uint32_t hold_n[HOLD_FILTER];
} __rte_cache_aligned;

static struct pmd_state pmd_state[PSW_MAX_PMDS];

static void
post(unsigned pmd, struct neigh_ev *ev)
{
	if (psw_neigh_ring == NULL ||
	    rte_ring_enqueue_elem(psw_neigh_ring, ev, sizeof(*ev)) != 0) {
		if (pmd < PSW_MAX_PMDS)
			psw_neigh_lost[pmd]++;
		if (ev->kind == NEIGH_EV_HOLD)
			rte_pktmbuf_free(ev->m);
	}
}

void
psw_neigh_post_learn(unsigned pmd, const uint8_t addr[16], bool v6,
		     const struct rte_ether_addr *mac)
{
	struct neigh_ev ev = { .kind = NEIGH_EV_LEARN, .v6 = v6, .mac = *mac };

	memcpy(ev.addr, addr, 16);
	post(pmd, &ev);
}

bool
psw_neigh_post_hold(unsigned pmd, uint64_t tsc, const uint8_t addr[16], bool v6,
		    struct rte_mbuf *m)
{
	struct pmd_state *st = &pmd_state[pmd % PSW_MAX_PMDS];
	struct neigh_ev ev = { .kind = NEIGH_EV_HOLD, .v6 = v6, .m = m };
	uint64_t key = psw_neigh_hash(addr) | (uint64_t)v6 << 32 | 1ull << 40;
	unsigned i = (unsigned)(key % HOLD_FILTER);

	if (st->hold_key[i] != key || tsc - st->hold_tsc[i] >= psw_clock_hz()) {
		st->hold_key[i] = key;
		st->hold_tsc[i] = tsc;
		st->hold_n[i] = 0;
	}
	if (st->hold_n[i] >= PSW_NEIGH_HOLD)
		return false;
	st->hold_n[i]++;
	memcpy(ev.addr, addr, 16);
	if (psw_neigh_ring == NULL ||
	    rte_ring_enqueue_elem(psw_neigh_ring, &ev, sizeof(ev)) != 0) {
		psw_neigh_lost[pmd % PSW_MAX_PMDS]++;
		return false;
	}
	return true;
}

/* May this PMD answer one more request this second? */
static inline bool
budget(struct psw_pmd *pmd)
{
	struct pmd_state *st;

	if (psw_tracing(pmd))
		return true;
	st = &pmd_state[pmd->idx % PSW_MAX_PMDS];
	if (pmd->now - st->window >= psw_clock_hz()) {
		st->window = pmd->now;
		st->answers = 0;
	}
	return st->answers++ < psw_neigh_answer_rate;
}

bool
psw_neigh_answer_ok(struct psw_pmd *pmd)
{
	return budget(pmd);
}

/* An ARP packet on the uplink: 1 consumed (answered, learned or dropped), 0 not ours. */
static int
arp(struct psw_pmd *pmd, struct psw_burst *b, const struct psw_underlay *u, struct rte_mbuf *m)
{
	struct rte_arp_hdr *a = psw_arp_hdr(m, RTE_ETHER_HDR_LEN);
	uint8_t addr[16] = {0};

	if (a == NULL || u->ip4 == 0 || a->arp_data.arp_tip != u->ip4)
		return 0;
	if (a->arp_opcode == RTE_BE16(RTE_ARP_OP_REQUEST) && !budget(pmd)) {
		psw_pmd_drop(pmd, m, b->in_port, PSW_DROP_ARP_LIMIT);
		return 1;
	}
	/* The sender told us its binding: what Linux does with a request for its address. */
	if (a->arp_data.arp_sip != 0 && a->arp_data.arp_sip != u->ip4 &&
	    ((a->arp_data.arp_sip ^ u->ip4) & u->mask4) == 0 &&
	    rte_is_unicast_ether_addr(&a->arp_data.arp_sha) && !psw_tracing(pmd)) {
		memcpy(addr, &a->arp_data.arp_sip, 4);
		psw_neigh_post_learn(pmd->idx, addr, false, &a->arp_data.arp_sha);
	}
	if (a->arp_opcode == RTE_BE16(RTE_ARP_OP_REQUEST)) {
		psw_arp_reply_in_place(m, a, &u->mac);
		psw_burst_answer(b, m, b->in_port);
	} else {
		rte_pktmbuf_free(m);   /* a reply to us: learned, done */
	}
	return 1;
}

static bool
ours6(const struct psw_underlay *u, const uint8_t *a)
{
	return u->has_ip6 && memcmp(a, u->ip6, 16) == 0;
}

/* A neighbor solicitation or advertisement on the uplink: 1 consumed, 0 not ours. */
static int
nd(struct psw_pmd *pmd, struct psw_burst *b, const struct psw_underlay *u, struct rte_mbuf *m)
{
	struct rte_ipv6_hdr *ip6;
	struct psw_nd_msg *msg = psw_nd_msg(m, RTE_ETHER_HDR_LEN, &ip6);
	const struct rte_ether_addr *ll;

	if (msg == NULL || !u->has_ip6)
		return 0;
	ll = psw_nd_lladdr(m, RTE_ETHER_HDR_LEN, msg);
	if (msg->type == PSW_ND_NA) {
		/* Solicited (an answer to us) or not: the target's binding. */
		if (ll == NULL)
			return 0;
		if (!psw_tracing(pmd))
			psw_neigh_post_learn(pmd->idx, msg->target, true, ll);
		rte_pktmbuf_free(m);
		return 1;
	}
	if (!ours6(u, msg->target))
		return 0;
	if (!budget(pmd)) {
		psw_pmd_drop(pmd, m, b->in_port, PSW_DROP_ARP_LIMIT);
		return 1;
	}
	if (ll != NULL && !psw_tracing(pmd))
		psw_neigh_post_learn(pmd->idx, ip6->src_addr, true, ll);
	if (psw_nd_reply_in_place(m, RTE_ETHER_HDR_LEN, ip6, msg, &u->mac))
		psw_burst_answer(b, m, b->in_port);
	else
		rte_pktmbuf_free(m);
	return 1;
}

/* An ICMP echo request to the underlay's own IPv4 address is answered (operators ping
 * the node's underlay address): 1 consumed, 0 not ours. */
static int
echo4(struct psw_pmd *pmd, struct psw_burst *b, const struct psw_underlay *u, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *icmp;
	uint32_t sum;
	uint16_t hl;

	if (rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN + sizeof(*ip) + sizeof(*icmp))
		return 0;
	ip = (struct rte_ipv4_hdr *)(eh + 1);
	hl = (uint16_t)((ip->version_ihl & 0xf) * 4);
	if (ip->dst_addr != u->ip4 || u->ip4 == 0 || ip->next_proto_id != IPPROTO_ICMP ||
	    (ip->version_ihl >> 4) != 4 || hl < sizeof(*ip) ||
	    (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) ||
	    rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN + hl + sizeof(*icmp))
		return 0;
	icmp = (struct rte_icmp_hdr *)((uint8_t *)ip + hl);
	if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0)
		return 0;
	if (!budget(pmd)) {
		psw_pmd_drop(pmd, m, b->in_port, PSW_DROP_ARP_LIMIT);
		return 1;
	}
	/* Turned around in place: addresses swapped, type 8 -> 0 (checksum adjusted by the
	 * difference, RFC 1624), TTL reset (the IPv4 checksum recomputed). */
	eh->dst_addr = eh->src_addr;
	eh->src_addr = u->mac;
	ip->dst_addr = ip->src_addr;
	ip->src_addr = u->ip4;
	ip->time_to_live = 64;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	sum = (uint16_t)~icmp->icmp_cksum + (uint32_t)(uint16_t)~RTE_BE16(0x0800);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	icmp->icmp_cksum = (uint16_t)~sum;
	psw_burst_answer(b, m, b->in_port);
	return 1;
}

void
psw_neigh_burst(struct psw_pmd *pmd, struct psw_burst *b)
{
	const struct psw_underlay *u = __atomic_load_n(&psw_underlay, __ATOMIC_ACQUIRE);
	uint16_t k = 0;

	if (u == NULL)
		return;
	for (uint16_t i = 0; i < b->n; i++) {
		struct rte_mbuf *m = b->pkts[i];
		const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		int taken = 0;

		if (likely(rte_pktmbuf_data_len(m) >= RTE_ETHER_HDR_LEN)) {
			if (eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP))
				taken = arp(pmd, b, u, m);
			else if (eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV6))
				taken = nd(pmd, b, u, m);
			else if (eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4))
				taken = echo4(pmd, b, u, m);
		}
		if (!taken)
			b->pkts[k++] = m;
	}
	b->n = k;
}
