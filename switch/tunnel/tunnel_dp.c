/*
 * tunnel_dp.c: VXLAN and VLAN on the packet path (tunnel_dp.h; PMD threads).
 *
 * Decap (after neigh_dp.c on the uplink's bursts): an IPv4 UDP packet to this node's
 * underlay address on a VXLAN port is checked (a whole outer header, no fragment, the I
 * flag, a VNI of a network here, a source that is a peer of that network), its outer
 * headers stripped and the inner frame handed on as received on the peer's port; an
 * 802.1Q frame of a VLAN network loses its tag and is received on that network's port.
 * Everything else on the uplink is dropped and counted: nothing else is for this node.
 *
 * Encap (in the tx stage, once per burst queued for a transport port): one peer per burst,
 * so the next hop is looked up and the outer header template (Ethernet, IPv4 with DF, UDP,
 * VXLAN) built once; per packet: the MTU check, 50 bytes prepended from the template,
 * the lengths, the IPv4 checksum (the template's partial sum plus the length) and the UDP
 * source port from the inner flow's hash (RFC 7348, so that the underlay's ECMP spreads
 * flows). A packet that does not fit the underlay MTU is dropped (MTU), never fragmented.
 */
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>
#include <rte_prefetch.h>
#include <rte_vxlan.h>

#include "core/key.h"
#include "l2/bind.h"
#include "neigh/pkt.h"
#include "neigh/neigh.h"
#include "tunnel/tunnel.h"
#include "tunnel/tunnel_dp.h"

#define VLAN_HLEN 4

/* The inner frame of one packet, or a drop reason. */
/* The last VXLAN sender seen in this burst (a burst usually comes from one peer): its
 * (UDP port, VNI, source) and the port it maps to, so that only the first packet of a run
 * looks the map up twice. */
struct last_peer {
	uint64_t key;                  /* udp port << 48 | vni << 24... 0: none */
	uint32_t src;
	uint16_t port;
	uint32_t vni;
};

/* The outer headers of the burst's last good VXLAN packet as a template: bytes 12..51
 * (EtherType to the VNI) compared under a mask in five 64-bit words, so that a run of
 * packets from one peer costs five loads and compares each instead of the checks of
 * decap_one(). The mask keeps what decap_one() checks: EtherType, IPv4 with a 20-byte
 * header, no fragment, UDP, the source (the peer) and this node's address, the UDP
 * port, the I flag and the VNI. Built per burst, so a changed map is seen at the next
 * burst. Frames shorter than 64 bytes (outer headers + an inner Ethernet header) take
 * the slow path. */
#define FAST_OFF   12
#define FAST_WORDS 5
#define FAST_MIN   (PSW_VXLAN_OVERHEAD + RTE_ETHER_HDR_LEN)

struct fast_peer {
	uint64_t val[FAST_WORDS];
	uint16_t port;
	uint32_t vni;
	bool valid;
};

static const uint8_t fast_mask_bytes[FAST_WORDS * 8] = {
	0xff, 0xff,                   /* 12: EtherType */
	0xff, 0x00, 0x00, 0x00, 0x00, 0x00, /* 14: version and IHL; TOS, length, id */
	0x3f, 0xff,                   /* 20: MF and fragment offset (DF any) */
	0x00, 0xff, 0x00, 0x00,       /* 22: TTL, protocol, checksum */
	0xff, 0xff, 0xff, 0xff,       /* 26: source */
	0xff, 0xff, 0xff, 0xff,       /* 30: destination */
	0x00, 0x00, 0xff, 0xff,       /* 34: UDP source port, destination port */
	0x00, 0x00, 0x00, 0x00,       /* 38: UDP length, checksum */
	0x08, 0x00, 0x00, 0x00,       /* 42: VXLAN flags (I), reserved */
	0xff, 0xff, 0xff, 0x00,       /* 46: VNI, reserved */
	0x00, 0x00,                   /* 50: the inner frame */
};

/* The mask as five words in host order, for the compiler to fold into immediates. */
static inline uint64_t
fast_mask(unsigned i)
{
	uint64_t w;

	memcpy(&w, fast_mask_bytes + 8 * i, 8);
	return w;
}

static inline void
fast_set(struct fast_peer *f, const uint8_t *p, uint16_t port, uint32_t vni)
{
	memcpy(f->val, p + FAST_OFF, sizeof(f->val));
	for (unsigned i = 0; i < FAST_WORDS; i++)
		f->val[i] &= fast_mask(i);
	f->port = port;
	f->vni = vni;
	f->valid = true;
}

static inline uint64_t
fast_word(const uint8_t *p, unsigned i)
{
	uint64_t w;

	memcpy(&w, p + FAST_OFF + 8 * i, 8);
	return w & fast_mask(i);
}

static inline bool
fast_match(const struct fast_peer *f, const uint8_t *p)
{
	return ((fast_word(p, 0) ^ f->val[0]) | (fast_word(p, 1) ^ f->val[1]) |
		(fast_word(p, 2) ^ f->val[2]) | (fast_word(p, 3) ^ f->val[3]) |
		(fast_word(p, 4) ^ f->val[4])) == 0;
}

static inline int
decap_one(const struct psw_tunnel_map *t, const struct psw_underlay *u, struct rte_mbuf *m,
	  uint16_t *port, uint32_t *vni_out, struct last_peer *lp, struct fast_peer *fp)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint16_t len = rte_pktmbuf_data_len(m), hl, dport;
	const struct psw_tmap_slot *s, *ps;
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *udp;
	const struct rte_vxlan_hdr *vx;
	rte_be16_t type;
	uint32_t vni;
	uint64_t key;
	unsigned k;

	if (unlikely(len < RTE_ETHER_HDR_LEN))
		return PSW_DROP_TRUNCATED;
	type = ((const struct rte_ether_hdr *)p)->ether_type;
	if (type == RTE_BE16(RTE_ETHER_TYPE_VLAN)) {
		uint16_t vid;

		if (unlikely(len < RTE_ETHER_HDR_LEN + VLAN_HLEN))
			return PSW_DROP_TRUNCATED;
		vid = (uint16_t)(((p[14] << 8) | p[15]) & 0xfff);
		s = psw_tunnel_map_find(t, PSW_TMAP_VLAN(vid));
		if (s == NULL)
			return PSW_DROP_UPLINK_OTHER;
		memmove(p + VLAN_HLEN, p, 2 * RTE_ETHER_ADDR_LEN);
		rte_pktmbuf_adj(m, VLAN_HLEN);
		*port = s->port;
		*vni_out = 0;
		return 0;
	}
	if (type != RTE_BE16(RTE_ETHER_TYPE_IPV4) || len < RTE_ETHER_HDR_LEN + sizeof(*ip))
		return PSW_DROP_UPLINK_OTHER;
	ip = (const struct rte_ipv4_hdr *)(p + RTE_ETHER_HDR_LEN);
	if (ip->dst_addr != u->ip4 || u->ip4 == 0 || ip->next_proto_id != IPPROTO_UDP ||
	    (ip->version_ihl >> 4) != 4)
		return PSW_DROP_UPLINK_OTHER;
	hl = (uint16_t)(RTE_ETHER_HDR_LEN + (ip->version_ihl & 0xf) * 4);
	if ((ip->version_ihl & 0xf) < 5 || len < hl + sizeof(*udp))
		return PSW_DROP_UPLINK_OTHER;
	udp = (const struct rte_udp_hdr *)(p + hl);
	dport = udp->dst_port;
	for (k = 0; k < t->n_udp && t->udp[k] != dport; k++)
		;
	if (k == t->n_udp)
		return PSW_DROP_UPLINK_OTHER;
	/* From here on it is VXLAN to this node: a bad one is a tunnel drop. */
	if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return PSW_DROP_TUNNEL_MALFORMED;
	if (len < hl + sizeof(*udp) + sizeof(*vx) + RTE_ETHER_HDR_LEN)
		return PSW_DROP_TUNNEL_MALFORMED;
	vx = (const struct rte_vxlan_hdr *)(udp + 1);
	if (!(vx->vx_flags & RTE_BE32(0x08000000u)))
		return PSW_DROP_TUNNEL_MALFORMED;
	vni = rte_be_to_cpu_32(vx->vx_vni) >> 8;
	key = (uint64_t)dport << 48 | (uint64_t)vni << 16 | 1;
	if (likely(lp->key == key && lp->src == ip->src_addr)) {
		*port = lp->port;
	} else {
		s = psw_tunnel_map_find(t, PSW_TMAP_VNI(rte_be_to_cpu_16(dport), vni));
		if (s == NULL)
			return PSW_DROP_TUNNEL_VNI;
		ps = psw_tunnel_map_find(t, PSW_TMAP_PEER(s->net, rte_be_to_cpu_32(ip->src_addr)));
		if (ps == NULL)
			return PSW_DROP_TUNNEL_PEER;
		lp->key = key;
		lp->src = ip->src_addr;
		lp->port = ps->port;
		*port = ps->port;
	}
	*vni_out = vni;
	if (ip->version_ihl == RTE_IPV4_VHL_DEF && len >= FAST_MIN)
		fast_set(fp, p, *port, vni);
	rte_pktmbuf_adj(m, (uint16_t)(hl + sizeof(*udp) + sizeof(*vx)));
	return 0;
}

/* An ARP packet or neighbor advertisement from another node tells who has which address
 * in the network: for ARP suppression (l2/bind.h), learned on the peer's port. */
static void
snoop(struct psw_pmd *pmd, struct rte_mbuf *m, uint16_t port)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	uint16_t net = psw_l2_port_net[port];
	uint8_t ip[16] = {0};

	if (eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
		const struct rte_arp_hdr *a = psw_arp_hdr(m, RTE_ETHER_HDR_LEN);

		if (a == NULL || a->arp_data.arp_sip == 0 ||
		    !rte_is_unicast_ether_addr(&a->arp_data.arp_sha))
			return;
		memcpy(ip, &a->arp_data.arp_sip, 4);
		psw_l2_bind_post(pmd->idx, pmd->now, net, ip, false, &a->arp_data.arp_sha, port);
	} else if (eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
		struct rte_ipv6_hdr *ip6;
		const struct psw_nd_msg *nd = psw_nd_msg(m, RTE_ETHER_HDR_LEN, &ip6);
		const struct rte_ether_addr *ll;

		if (nd == NULL || nd->type != PSW_ND_NA ||
		    (ll = psw_nd_lladdr(m, RTE_ETHER_HDR_LEN, nd)) == NULL)
			return;
		psw_l2_bind_post(pmd->idx, pmd->now, net, nd->target, true, ll, port);
	}
}

void
psw_tunnel_decap_burst(struct psw_pmd *pmd, struct psw_burst *b, struct psw_tunnel_groups *g)
{
	const struct psw_tunnel_map *t = __atomic_load_n(&psw_tunnel_map, __ATOMIC_ACQUIRE);
	const struct psw_underlay *u = __atomic_load_n(&psw_underlay, __ATOMIC_ACQUIRE);
	struct rte_mbuf *in[PSW_BURST];
	uint16_t ports[PSW_BURST], n = 0;
	uint32_t vnis[PSW_BURST];
	struct last_peer lp = {0};
	struct fast_peer fp;
	uint64_t bytes = 0;
	bool one = true;

	fp.valid = false;
	g->n = 0;
	/* Kept packets are compacted in place (n <= i). */
	for (uint16_t i = 0; i < b->n; i++) {
		struct rte_mbuf *m = b->pkts[i];
		const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

		if (i + 2 < b->n)
			rte_prefetch0(rte_pktmbuf_mtod(b->pkts[i + 2], void *));
		if (likely(fp.valid && rte_pktmbuf_data_len(m) >= FAST_MIN && fast_match(&fp, p))) {
			/* The same peer, network and checks as the packet before; the
			 * length is checked above, so the outer headers go without
			 * rte_pktmbuf_adj's own check. */
			ports[n] = fp.port;
			vnis[n] = fp.vni;
			m->data_off += PSW_VXLAN_OVERHEAD;
			m->data_len -= PSW_VXLAN_OVERHEAD;
			m->pkt_len -= PSW_VXLAN_OVERHEAD;
		} else {
			int r = t != NULL && u != NULL
				? decap_one(t, u, m, &ports[n], &vnis[n], &lp, &fp)
				: PSW_DROP_UPLINK_OTHER;

			if (unlikely(r != 0)) {
				psw_pmd_drop(pmd, m, b->in_port, (enum psw_drop_reason)r);
				continue;
			}
		}
		if (unlikely(rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->ether_type !=
			     RTE_BE16(RTE_ETHER_TYPE_IPV4)) && !psw_tracing(pmd))
			snoop(pmd, m, ports[n]);
		one &= ports[n] == ports[0];
		bytes += m->pkt_len;
		b->pkts[n++] = m;
	}
	b->n = n;
	if (n == 0)
		return;
	if (likely(one)) {
		/* One peer: one group, in order. */
		pmd->port_stats[ports[0]].rx_packets += n;
		pmd->port_stats[ports[0]].rx_bytes += bytes;
		g->start[0] = 0;
		g->len[0] = n;
		g->tun_id[0] = vnis[0];
		g->port[0] = ports[0];
		g->n = 1;
		return;
	}
	/* Several peers: grouped by port, in order of first appearance. */
	memcpy(in, b->pkts, n * sizeof(in[0]));
	b->n = 0;
	for (uint16_t i = 0; i < n; i++) {
		uint16_t port = ports[i], start = b->n;
		struct psw_pmd_port_stats *st = &pmd->port_stats[port];

		if (in[i] == NULL)
			continue;
		bytes = 0;
		for (uint16_t j = i; j < n; j++) {
			if (in[j] == NULL || ports[j] != port)
				continue;
			bytes += in[j]->pkt_len;
			b->pkts[b->n++] = in[j];
			in[j] = NULL;
		}
		st->rx_packets += b->n - start;
		st->rx_bytes += bytes;
		g->start[g->n] = start;
		g->len[g->n] = (uint16_t)(b->n - start);
		g->tun_id[g->n] = vnis[i];
		g->port[g->n++] = port;
	}
}

/* ---- encap ---------------------------------------------------------------------------- */

struct outer {
	struct rte_ether_hdr eth;
	struct rte_ipv4_hdr ip;
	struct rte_udp_hdr udp;
	struct rte_vxlan_hdr vx;
} __rte_packed __rte_aligned(2);

_Static_assert(sizeof(struct outer) == PSW_VXLAN_OVERHEAD, "VXLAN outer headers are 50 bytes");

/* 16-bit one's complement sum of the IPv4 header words, folded later. */
static inline uint32_t
sum16(const void *p, unsigned len)
{
	const uint16_t *w = p;
	uint32_t s = 0;

	for (unsigned i = 0; i < len / 2; i++)
		s += w[i];
	return s;
}

static inline uint16_t
fold(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The inner flow's hash for the UDP source port: the device's RSS hash if it gave one,
 * else a CRC of the MACs and where an untagged IPv4 frame has its addresses and ports. */
static inline uint16_t
flow_port(const struct rte_mbuf *m)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint64_t w0, w1 = 0, w2 = 0;
	uint32_t h;

	if (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) {
		h = m->hash.rss;
	} else {
		memcpy(&w0, d, 8);
		if (rte_pktmbuf_data_len(m) >= 42) {
			memcpy(&w1, d + 26, 8);
			memcpy(&w2, d + 34, 8);
		}
		h = psw_hash_finish(psw_crc64(w2, psw_crc64(w1, psw_crc64(w0, 0))));
	}
	return (uint16_t)(49152 + (h & 0x3fff));   /* the dynamic port range */
}

static uint16_t
vxlan_encap(struct psw_pmd *pmd, const struct psw_port *p, const struct psw_underlay *u,
	    struct rte_mbuf **pkts, uint16_t n)
{
	const struct psw_vxlan_peer *peer = p->tunnel_ctx;
	uint8_t nh[16] = {0};
	const struct rte_ether_addr *mac;
	struct outer o;
	uint32_t base;
	uint16_t k = 0;

	rte_be32_t hop = psw_neigh_next_hop4(u, peer->remote);

	memcpy(nh, &hop, 4);
	mac = psw_neigh_lookup_rcu(nh, false);
	memset(&o, 0, sizeof(o));
	if (mac != NULL)
		o.eth.dst_addr = *mac;
	o.eth.src_addr = u->mac;
	o.eth.ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	o.ip.version_ihl = RTE_IPV4_VHL_DEF;
	o.ip.fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	o.ip.time_to_live = 64;
	o.ip.next_proto_id = IPPROTO_UDP;
	o.ip.src_addr = u->ip4;
	o.ip.dst_addr = peer->remote;
	o.udp.dst_port = peer->udp_port;
	o.vx.vx_flags = RTE_BE32(0x08000000u);
	o.vx.vx_vni = rte_cpu_to_be_32(peer->vni << 8);
	base = sum16(&o.ip, sizeof(o.ip));      /* total_length and checksum still 0 */

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t inner = m->pkt_len;
		struct outer *h;

		/* The outer header goes into the headroom line before the frame: not in the
		 * cache yet (the driver wrote the frame after it), so ask for it ahead. */
		if (i + 4 < n)
			rte_prefetch0_write(rte_pktmbuf_mtod(pkts[i + 4], char *) - PSW_VXLAN_OVERHEAD);

		if (unlikely(inner + PSW_VXLAN_OVERHEAD - RTE_ETHER_HDR_LEN > u->mtu)) {
			psw_pmd_drop(pmd, m, p->id, PSW_DROP_MTU);
			continue;
		}
		o.udp.src_port = rte_cpu_to_be_16(flow_port(m));   /* of the inner frame */
		h = (struct outer *)rte_pktmbuf_prepend(m, PSW_VXLAN_OVERHEAD);
		if (unlikely(h == NULL)) {
			psw_pmd_drop(pmd, m, p->id, PSW_DROP_TUNNEL);
			continue;
		}
		memcpy(h, &o, sizeof(o));
		h->ip.total_length = rte_cpu_to_be_16((uint16_t)(inner + PSW_VXLAN_OVERHEAD -
								  RTE_ETHER_HDR_LEN));
		h->ip.hdr_checksum = (rte_be16_t)~fold(base + h->ip.total_length);
		h->udp.dgram_len = rte_cpu_to_be_16((uint16_t)(inner + sizeof(struct rte_udp_hdr) +
								sizeof(struct rte_vxlan_hdr)));
		if (unlikely(mac == NULL)) {
			/* Complete but for the next hop's MAC: the control thread fills it in
			 * and sends it once resolved (a few per next hop), or drops it. */
			if (psw_tracing(pmd) ||
			    !psw_neigh_post_hold(pmd->idx, pmd->now, nh, false, m))
				psw_pmd_drop(pmd, m, p->id, PSW_DROP_NEIGH_UNRESOLVED);
			continue;
		}
		pkts[k++] = m;
	}
	return k;
}

static uint16_t
vlan_encap(struct psw_pmd *pmd, const struct psw_port *p, const struct psw_underlay *u,
	   struct rte_mbuf **pkts, uint16_t n)
{
	const struct psw_vlan_ctx *v = p->tunnel_ctx;
	rte_be16_t tci = rte_cpu_to_be_16(v->vid);
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t *d;

		if (unlikely(m->pkt_len > (uint32_t)u->mtu + RTE_ETHER_HDR_LEN ||
			     m->data_len < RTE_ETHER_HDR_LEN)) {
			psw_pmd_drop(pmd, m, p->id, m->data_len < RTE_ETHER_HDR_LEN ?
				     PSW_DROP_TRUNCATED : PSW_DROP_MTU);
			continue;
		}
		d = (uint8_t *)rte_pktmbuf_prepend(m, VLAN_HLEN);
		if (unlikely(d == NULL)) {
			psw_pmd_drop(pmd, m, p->id, PSW_DROP_VLAN);
			continue;
		}
		memmove(d, d + VLAN_HLEN, 2 * RTE_ETHER_ADDR_LEN);
		d[12] = 0x81;
		d[13] = 0x00;
		memcpy(d + 14, &tci, 2);
		pkts[k++] = m;
	}
	return k;
}

uint16_t
psw_tunnel_encap_burst(struct psw_pmd *pmd, const struct psw_port *p, struct rte_mbuf **pkts,
		       uint16_t n, uint16_t *uplink)
{
	const struct psw_underlay *u = __atomic_load_n(&psw_underlay, __ATOMIC_ACQUIRE);

	if (unlikely(u == NULL || (p->tunnel == PSW_TUNNEL_VXLAN && u->ip4 == 0))) {
		/* No uplink (or no underlay address): nowhere to send. */
		for (uint16_t i = 0; i < n; i++)
			psw_pmd_drop(pmd, pkts[i], p->id, PSW_DROP_NEIGH_UNRESOLVED);
		return 0;
	}
	*uplink = u->port;
	if (p->tunnel == PSW_TUNNEL_VXLAN)
		return vxlan_encap(pmd, p, u, pkts, n);
	return vlan_encap(pmd, p, u, pkts, n);
}
