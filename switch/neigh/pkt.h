/*
 * pkt.h: ARP and IPv6 neighbor discovery on the wire (both threads): recognising a
 * request, turning it into the reply in place (PMDs: the underlay's own addresses,
 * neigh_dp.c; pod addresses a network knows, datapath/actions.c), and building the
 * requests the control thread sends for next hops (neigh.c). Frames are untagged
 * Ethernet here; callers strip or skip a VLAN tag (l3 is the offset of the ethertype's
 * payload). Every length is checked against the mbuf's first segment.
 */
#ifndef PSW_NEIGH_PKT_H
#define PSW_NEIGH_PKT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#define PSW_ND_NS 135
#define PSW_ND_NA 136
#define PSW_ND_OPT_SLLA 1
#define PSW_ND_OPT_TLLA 2

/* ICMPv6 neighbor solicitation / advertisement (RFC 4861), with one link-layer option. */
struct psw_nd_msg {
	uint8_t type, code;
	rte_be16_t cksum;
	rte_be32_t flags;              /* NA: R, S, O in the top bits; NS: reserved */
	uint8_t target[16];
	uint8_t opt_type, opt_len;     /* opt_len in units of 8 bytes */
	struct rte_ether_addr opt_mac;
} __rte_packed __rte_aligned(2);

#define PSW_NA_FLAG_SOLICITED RTE_BE32(0x40000000u)
#define PSW_NA_FLAG_OVERRIDE  RTE_BE32(0x20000000u)

/* The ARP header after the Ethernet header at l3, if the frame holds a whole Ethernet/IPv4
 * ARP packet; else NULL. */
static inline struct rte_arp_hdr *
psw_arp_hdr(struct rte_mbuf *m, uint16_t l3)
{
	struct rte_arp_hdr *a;

	if (rte_pktmbuf_data_len(m) < l3 + sizeof(*a))
		return NULL;
	a = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, l3);
	if (a->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    a->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) || a->arp_hlen != 6 ||
	    a->arp_plen != 4)
		return NULL;
	return a;
}

/* Turn the ARP request a (in m, Ethernet at offset 0) into the reply "tip is at mac", to
 * be sent back where the request came from. */
static inline void
psw_arp_reply_in_place(struct rte_mbuf *m, struct rte_arp_hdr *a, const struct rte_ether_addr *mac)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	uint32_t tip = a->arp_data.arp_tip;

	a->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	a->arp_data.arp_tha = a->arp_data.arp_sha;
	a->arp_data.arp_tip = a->arp_data.arp_sip;
	a->arp_data.arp_sha = *mac;
	a->arp_data.arp_sip = tip;
	eh->dst_addr = a->arp_data.arp_tha;
	eh->src_addr = *mac;
}

/* The IPv6 header and ND message of an NS or NA at l3 (hop limit 255, as RFC 4861 asks
 * of both), or NULL. */
static inline struct psw_nd_msg *
psw_nd_msg(struct rte_mbuf *m, uint16_t l3, struct rte_ipv6_hdr **ip6)
{
	struct rte_ipv6_hdr *h;
	struct psw_nd_msg *nd;

	if (rte_pktmbuf_data_len(m) < l3 + sizeof(*h) + offsetof(struct psw_nd_msg, opt_type))
		return NULL;
	h = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, l3);
	if ((h->vtc_flow & RTE_BE32(0xf0000000u)) != RTE_BE32(0x60000000u) ||
	    h->proto != IPPROTO_ICMPV6 || h->hop_limits != 255)
		return NULL;
	nd = (struct psw_nd_msg *)(h + 1);
	if ((nd->type != PSW_ND_NS && nd->type != PSW_ND_NA) || nd->code != 0)
		return NULL;
	*ip6 = h;
	return nd;
}

/* The link-layer address option of an ND message (SLLA of an NS, TLLA of an NA), if it
 * comes first and the packet holds it; else NULL. */
static inline const struct rte_ether_addr *
psw_nd_lladdr(const struct rte_mbuf *m, uint16_t l3, const struct psw_nd_msg *nd)
{
	if (rte_pktmbuf_data_len(m) < l3 + sizeof(struct rte_ipv6_hdr) + sizeof(*nd) ||
	    nd->opt_len != 1 ||
	    nd->opt_type != (nd->type == PSW_ND_NS ? PSW_ND_OPT_SLLA : PSW_ND_OPT_TLLA))
		return NULL;
	return &nd->opt_mac;
}

/* Turn the neighbor solicitation nd (in m, Ethernet at 0, IPv6 at l3) into the solicited
 * advertisement "target is at mac", sent back to the solicitor. The solicitor's source
 * address must not be unspecified (duplicate address detection is not answered). */
static inline bool
psw_nd_reply_in_place(struct rte_mbuf *m, uint16_t l3, struct rte_ipv6_hdr *ip6,
		      struct psw_nd_msg *nd, const struct rte_ether_addr *mac)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	static const uint8_t zero[16];
	uint16_t len = (uint16_t)(l3 + sizeof(*ip6) + sizeof(*nd));

	if (memcmp(ip6->src_addr, zero, 16) == 0)
		return false;
	if (rte_pktmbuf_data_len(m) < len && rte_pktmbuf_append(m, (uint16_t)(len - rte_pktmbuf_data_len(m))) == NULL)
		return false;
	if (rte_pktmbuf_data_len(m) > len)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - len));
	eh->dst_addr = eh->src_addr;
	eh->src_addr = *mac;
	memcpy(ip6->dst_addr, ip6->src_addr, 16);
	memcpy(ip6->src_addr, nd->target, 16);
	ip6->payload_len = rte_cpu_to_be_16(sizeof(*nd));
	nd->type = PSW_ND_NA;
	nd->code = 0;
	nd->flags = PSW_NA_FLAG_SOLICITED | PSW_NA_FLAG_OVERRIDE;
	nd->opt_type = PSW_ND_OPT_TLLA;
	nd->opt_len = 1;
	nd->opt_mac = *mac;
	nd->cksum = 0;
	nd->cksum = rte_ipv6_udptcp_cksum(ip6, nd);
	return true;
}

/* Solicited-node multicast address of target (ff02::1:ffXX:XXXX) and its MAC. */
static inline void
psw_nd_solicited_node(const uint8_t target[16], uint8_t addr[16], struct rte_ether_addr *mac)
{
	static const uint8_t prefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};

	memcpy(addr, prefix, 13);
	memcpy(addr + 13, target + 13, 3);
	mac->addr_bytes[0] = 0x33;
	mac->addr_bytes[1] = 0x33;
	memcpy(&mac->addr_bytes[2], addr + 12, 4);
}

/* Fill m (empty) with an ARP request "who has tip, tell sip (at mac)". 0 or -1. */
static inline int
psw_arp_request(struct rte_mbuf *m, const struct rte_ether_addr *mac, rte_be32_t sip,
		rte_be32_t tip)
{
	struct rte_ether_hdr *eh;
	struct rte_arp_hdr *a;
	char *p = rte_pktmbuf_append(m, 60);

	if (p == NULL)
		return -1;
	memset(p, 0, 60);
	eh = (struct rte_ether_hdr *)p;
	memset(&eh->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	eh->src_addr = *mac;
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	a = (struct rte_arp_hdr *)(eh + 1);
	a->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = 6;
	a->arp_plen = 4;
	a->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
	a->arp_data.arp_sha = *mac;
	a->arp_data.arp_sip = sip;
	a->arp_data.arp_tip = tip;
	return 0;
}

/* Fill m (empty) with a neighbor solicitation for target from src (at mac). 0 or -1. */
static inline int
psw_nd_request(struct rte_mbuf *m, const struct rte_ether_addr *mac, const uint8_t src[16],
	       const uint8_t target[16])
{
	uint16_t len = RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv6_hdr) + sizeof(struct psw_nd_msg);
	struct rte_ether_hdr *eh;
	struct rte_ipv6_hdr *ip6;
	struct psw_nd_msg *nd;
	char *p = rte_pktmbuf_append(m, len);

	if (p == NULL)
		return -1;
	memset(p, 0, len);
	eh = (struct rte_ether_hdr *)p;
	ip6 = (struct rte_ipv6_hdr *)(eh + 1);
	nd = (struct psw_nd_msg *)(ip6 + 1);
	psw_nd_solicited_node(target, ip6->dst_addr, &eh->dst_addr);
	eh->src_addr = *mac;
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
	ip6->vtc_flow = RTE_BE32(0x60000000u);
	ip6->payload_len = rte_cpu_to_be_16(sizeof(*nd));
	ip6->proto = IPPROTO_ICMPV6;
	ip6->hop_limits = 255;
	memcpy(ip6->src_addr, src, 16);
	nd->type = PSW_ND_NS;
	memcpy(nd->target, target, 16);
	nd->opt_type = PSW_ND_OPT_SLLA;
	nd->opt_len = 1;
	nd->opt_mac = *mac;
	nd->cksum = rte_ipv6_udptcp_cksum(ip6, nd);
	return 0;
}

#endif
