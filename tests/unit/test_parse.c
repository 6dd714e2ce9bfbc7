/*
 * test_parse.c: the parser (switch/parse.c). Packets are built byte by byte, put in real
 * mbufs from a mempool (EAL with --no-huge --no-shconf) and parsed; the key must hold
 * exactly the fields a rule would match. Truncation is tested at every length with the
 * packet's last byte against a PROT_NONE page, so a read past data_len crashes the test.
 * Bursts of 0, 1, 3, 4, 5 and 32 run both the unrolled and the tail loop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <cmocka.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "datapath/parse.h"

static struct rte_mempool *pool;

/* ---- packet builder ------------------------------------------------------------------- */

struct pkt {
	uint8_t b[256];
	unsigned len;
};

static void
put(struct pkt *p, const void *data, unsigned n)
{
	assert_true(p->len + n <= sizeof(p->b));
	memcpy(p->b + p->len, data, n);
	p->len += n;
}

static void
put8(struct pkt *p, uint8_t v)
{
	put(p, &v, 1);
}

static void
put16(struct pkt *p, uint16_t v)
{
	uint8_t b[2] = { v >> 8, v & 0xff };

	put(p, b, 2);
}

static void
put32(struct pkt *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p, v & 0xffff);
}

static const uint8_t MAC_A[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a };
static const uint8_t MAC_B[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b };
static const uint8_t V6_A[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a };
static const uint8_t V6_B[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b };

static void
eth(struct pkt *p, uint16_t type)
{
	p->len = 0;
	put(p, MAC_B, 6);     /* dst */
	put(p, MAC_A, 6);     /* src */
	put16(p, type);
}

static void
vlan(struct pkt *p, uint16_t tpid_next, uint16_t tci)
{
	/* the caller's previous ethertype field already says 0x8100/0x88a8 */
	put16(p, tci);
	put16(p, tpid_next);
}

/* IPv4 header with `opt_words` 32-bit option words; frag = flags|offset field. */
static void
ipv4(struct pkt *p, uint8_t proto, uint32_t src, uint32_t dst, unsigned opt_words,
     uint16_t frag, unsigned payload)
{
	unsigned i, hl = 20 + opt_words * 4;

	put8(p, 0x40 | (hl / 4));
	put8(p, 0);
	put16(p, hl + payload);
	put16(p, 0x1234);
	put16(p, frag);
	put8(p, 64);
	put8(p, proto);
	put16(p, 0);
	put32(p, src);
	put32(p, dst);
	for (i = 0; i < opt_words; i++)
		put32(p, 0x01010101);  /* NOPs */
}

static void
ipv6(struct pkt *p, uint8_t nh, unsigned payload)
{
	put32(p, 0x60000000);
	put16(p, payload);
	put8(p, nh);
	put8(p, 64);
	put(p, V6_A, 16);
	put(p, V6_B, 16);
}

static void
tcp(struct pkt *p, uint16_t sp, uint16_t dp)
{
	put16(p, sp);
	put16(p, dp);
	put32(p, 1);
	put32(p, 0);
	put16(p, 0x5002);
	put16(p, 1024);
	put32(p, 0);
}

static void
udp(struct pkt *p, uint16_t sp, uint16_t dp)
{
	put16(p, sp);
	put16(p, dp);
	put16(p, 8 + 4);
	put16(p, 0);
	put32(p, 0xdeadbeef);  /* payload */
}

static void
icmp(struct pkt *p, uint8_t type, uint8_t code)
{
	put8(p, type);
	put8(p, code);
	put16(p, 0);
	put32(p, 0x00010001);
}

/* ---- mbufs ---------------------------------------------------------------------------- */

static struct rte_mbuf *
to_mbuf(const struct pkt *p)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *d;

	assert_non_null(m);
	d = rte_pktmbuf_append(m, p->len);
	assert_non_null(d);
	memcpy(d, p->b, p->len);
	return m;
}

static struct psw_flow_key
parse(const struct pkt *p, uint16_t in_port)
{
	struct rte_mbuf *m = to_mbuf(p);
	struct psw_flow_key k;
	uint32_t h;

	psw_parse_keys(&m, 1, in_port, &k, &h);
	assert_int_equal(h, psw_flow_key_hash(&k));
	rte_pktmbuf_free(m);
	return k;
}

/* An mbuf whose data ends exactly at a PROT_NONE page: reading past data_len faults. */
static uint8_t *guard_page;
static long page_size;

static uint8_t
parse_guarded(const uint8_t *data, unsigned len, struct psw_flow_key *k)
{
	struct rte_mbuf m;
	uint8_t *at = guard_page + page_size - len;
	struct rte_mbuf *mp = &m;
	uint32_t h;

	memset(&m, 0, sizeof(m));
	memcpy(at, data, len);
	m.buf_addr = at;
	m.data_off = 0;
	m.data_len = len;
	m.pkt_len = len;
	m.nb_segs = 1;
	psw_parse_keys(&mp, 1, 7, k, &h);
	return k->flags;
}

/* The L2 fast path's parse of the same guarded frame (optionally with a tag the device
 * stripped) must agree with the full parse: key words 1 and 2, and the drop verdict. */
static void
check_l2_guarded(const uint8_t *data, unsigned len, bool stripped, uint16_t tci)
{
	struct rte_mbuf m;
	uint8_t *at = guard_page + page_size - len;
	struct rte_mbuf *mp = &m;
	struct psw_flow_key k;
	struct psw_l2_run h;
	uint64_t w[3];

	memset(&m, 0, sizeof(m));
	memcpy(at, data, len);
	m.buf_addr = at;
	m.data_len = len;
	m.pkt_len = len;
	m.nb_segs = 1;
	if (stripped) {
		m.ol_flags = RTE_MBUF_F_RX_VLAN_STRIPPED | RTE_MBUF_F_RX_VLAN;
		m.vlan_tci = tci;
	}
	psw_parse_one(&m, 7, &k);
	assert_int_equal(psw_parse_l2_runs(&mp, 1, &h), 1);
	assert_int_equal(h.start, 0);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.bytes, len);
	memcpy(w, &k, sizeof(w));
	assert_int_equal(h.bad, k.flags & PSW_KEY_F_BAD);
	if (!h.bad) {
		assert_int_equal(h.w1, w[1]);
		assert_int_equal(h.w2, w[2]);
	}
}

static void
assert_zero_from(const struct psw_flow_key *k, size_t off)
{
	const uint8_t *b = (const uint8_t *)k;
	size_t i;

	for (i = off; i < sizeof(*k); i++)
		if (b[i])
			fail_msg("key byte %zu is 0x%02x, expected 0", i, b[i]);
}

/* ---- tests ---------------------------------------------------------------------------- */

static void
test_ipv4_tcp(void **state)
{
	struct pkt p;
	struct psw_flow_key k;

	(void)state;
	eth(&p, 0x0800);
	ipv4(&p, 6, 0x0a000001, 0x0a010203, 0, 0, 20);
	tcp(&p, 12345, 80);
	k = parse(&p, 3);
	assert_int_equal(k.in_port, 3);
	assert_int_equal(k.flags, 0);
	assert_int_equal(k.tun_id, 0);
	assert_memory_equal(&k.dl_dst, MAC_B, 6);
	assert_memory_equal(&k.dl_src, MAC_A, 6);
	assert_int_equal(k.vlan_tci, 0);
	assert_int_equal(k.dl_type, RTE_BE16(0x0800));
	assert_int_equal(k.nw_proto, 6);
	assert_int_equal(k.nw_src, RTE_BE32(0x0a000001));
	assert_int_equal(k.nw_dst, RTE_BE32(0x0a010203));
	assert_int_equal(k.tp_src, RTE_BE16(12345));
	assert_int_equal(k.tp_dst, RTE_BE16(80));
	/* the rest of the address space and the padding stay zero */
	for (size_t i = 4; i < 16; i++) {
		assert_int_equal(k.ipv6_src[i], 0);
		assert_int_equal(k.ipv6_dst[i], 0);
	}
	assert_zero_from(&k, 60);
}

static void
test_ipv4_udp_icmp(void **state)
{
	struct pkt p;
	struct psw_flow_key k;

	(void)state;
	eth(&p, 0x0800);
	ipv4(&p, 17, 0xc0a80001, 0xc0a80002, 0, 0, 12);
	udp(&p, 53, 5353);
	k = parse(&p, 0);
	assert_int_equal(k.flags, 0);
	assert_int_equal(k.nw_proto, 17);
	assert_int_equal(k.tp_src, RTE_BE16(53));
	assert_int_equal(k.tp_dst, RTE_BE16(5353));

	eth(&p, 0x0800);
	ipv4(&p, 1, 0xc0a80001, 0xc0a80002, 0, 0, 8);
	icmp(&p, 8, 0);
	k = parse(&p, 0);
	assert_int_equal(k.flags, 0);
	assert_int_equal(k.nw_proto, 1);
	assert_int_equal(PSW_ICMP_TYPE(&k), 8);
	assert_int_equal(PSW_ICMP_CODE(&k), 0);
	eth(&p, 0x0800);
	ipv4(&p, 1, 0xc0a80001, 0xc0a80002, 0, 0, 8);
	icmp(&p, 3, 4);
	k = parse(&p, 0);
	assert_int_equal(k.tp_src, RTE_BE16(3));
	assert_int_equal(k.tp_dst, RTE_BE16(4));

	/* an unknown protocol: addresses, no ports */
	eth(&p, 0x0800);
	ipv4(&p, 47, 0xc0a80001, 0xc0a80002, 0, 0, 8);
	put32(&p, 0);
	put32(&p, 0);
	k = parse(&p, 0);
	assert_int_equal(k.flags, 0);
	assert_int_equal(k.nw_proto, 47);
	assert_int_equal(k.tp_src, 0);
	assert_int_equal(k.tp_dst, 0);
	assert_int_equal(k.nw_dst, RTE_BE32(0xc0a80002));
}

static void
test_ipv4_options_and_fragments(void **state)
{
	struct pkt p;
	struct psw_flow_key k;

	(void)state;
	/* IHL 7: ports come after 8 bytes of options */
	eth(&p, 0x0800);
	ipv4(&p, 6, 1, 2, 2, 0, 20);
	tcp(&p, 1000, 2000);
	k = parse(&p, 0);
	assert_int_equal(k.flags, 0);
	assert_int_equal(k.tp_src, RTE_BE16(1000));
	assert_int_equal(k.tp_dst, RTE_BE16(2000));

	/* first fragment (MF, offset 0): ports, and the FRAG flag */
	eth(&p, 0x0800);
	ipv4(&p, 17, 1, 2, 0, 0x2000, 12);
	udp(&p, 7, 9);
	k = parse(&p, 0);
	assert_int_equal(k.flags, PSW_KEY_F_FRAG);
	assert_int_equal(k.tp_src, RTE_BE16(7));

	/* a later fragment: what looks like ports is payload */
	eth(&p, 0x0800);
	ipv4(&p, 17, 1, 2, 0, 0x0010, 12);
	udp(&p, 7, 9);
	k = parse(&p, 0);
	assert_int_equal(k.flags, PSW_KEY_F_FRAG | PSW_KEY_F_FRAG_LATER);
	assert_int_equal(k.nw_proto, 17);
	assert_int_equal(k.tp_src, 0);
	assert_int_equal(k.tp_dst, 0);

	/* DF alone is not a fragment */
	eth(&p, 0x0800);
	ipv4(&p, 17, 1, 2, 0, 0x4000, 12);
	udp(&p, 7, 9);
	k = parse(&p, 0);
	assert_int_equal(k.flags, 0);
}

static void
test_ipv4_malformed(void **state)
{
	struct pkt p;
	struct psw_flow_key k;
	unsigned ihl;

	(void)state;
	for (ihl = 0; ihl < 5; ihl++) {
		eth(&p, 0x0800);
		ipv4(&p, 6, 1, 2, 0, 0, 20);
		tcp(&p, 1, 2);
		p.b[14] = 0x40 | ihl;
		k = parse(&p, 0);
		assert_int_equal(k.flags, PSW_KEY_F_MALFORMED);
		assert_int_equal(k.tp_src, 0);
	}
	/* version 5 */
	eth(&p, 0x0800);
	ipv4(&p, 6, 1, 2, 0, 0, 20);
	tcp(&p, 1, 2);
	p.b[14] = 0x55;
	assert_int_equal(parse(&p, 0).flags, PSW_KEY_F_MALFORMED);
	/* total length shorter than the header */
	eth(&p, 0x0800);
	ipv4(&p, 6, 1, 2, 0, 0, 20);
	tcp(&p, 1, 2);
	p.b[16] = 0;
	p.b[17] = 19;
	assert_int_equal(parse(&p, 0).flags, PSW_KEY_F_MALFORMED);
	/* IHL 15 (60 bytes) in a packet that has 40 after the Ethernet header */
	eth(&p, 0x0800);
	ipv4(&p, 6, 1, 2, 0, 0, 20);
	tcp(&p, 1, 2);
	p.b[14] = 0x4f;
	p.b[17] = 60;   /* total length agrees with the header */
	assert_int_equal(parse(&p, 0).flags, PSW_KEY_F_TRUNCATED);
	/* IPv6 header with version 4 */
	eth(&p, 0x86dd);
	ipv6(&p, 17, 12);
	udp(&p, 1, 2);
	p.b[14] = 0x40;
	assert_int_equal(parse(&p, 0).flags, PSW_KEY_F_MALFORMED);
}

static void
test_ipv6(void **state)
{
	struct pkt p;
	struct psw_flow_key k;

	(void)state;
	eth(&p, 0x86dd);
	ipv6(&p, 17, 12);
	udp(&p, 546, 547);
	k = parse(&p, 9);
	assert_int_equal(k.flags, 0);
	assert_int_equal(k.in_port, 9);
	assert_int_equal(k.dl_type, RTE_BE16(0x86dd));
	assert_int_equal(k.nw_proto, 17);
	assert_memory_equal(k.ipv6_src, V6_A, 16);
	assert_memory_equal(k.ipv6_dst, V6_B, 16);
	assert_int_equal(k.tp_src, RTE_BE16(546));
	assert_int_equal(k.tp_dst, RTE_BE16(547));
	assert_zero_from(&k, 60);

	eth(&p, 0x86dd);
	ipv6(&p, 58, 8);
	icmp(&p, 135, 0);
	k = parse(&p, 0);
	assert_int_equal(k.flags, 0);
	assert_int_equal(k.nw_proto, 58);
	assert_int_equal(PSW_ICMP_TYPE(&k), 135);

	/* hop-by-hop (8 bytes) then a first fragment then TCP */
	eth(&p, 0x86dd);
	ipv6(&p, 0, 8 + 8 + 20);
	put8(&p, 44); put8(&p, 0); put16(&p, 0x0104); put32(&p, 0);  /* hbh: PadN */
	put8(&p, 6); put8(&p, 0); put16(&p, 0x0001); put32(&p, 42);  /* frag: off 0, M */
	tcp(&p, 22, 40000);
	k = parse(&p, 0);
	assert_int_equal(k.flags, PSW_KEY_F_FRAG);
	assert_int_equal(k.nw_proto, 6);
	assert_int_equal(k.tp_src, RTE_BE16(22));
	assert_int_equal(k.tp_dst, RTE_BE16(40000));

	/* a later fragment: no L4 */
	eth(&p, 0x86dd);
	ipv6(&p, 44, 8 + 20);
	put8(&p, 6); put8(&p, 0); put16(&p, 0x00a8); put32(&p, 42);
	tcp(&p, 22, 40000);
	k = parse(&p, 0);
	assert_int_equal(k.flags, PSW_KEY_F_FRAG | PSW_KEY_F_FRAG_LATER);
	assert_int_equal(k.nw_proto, 6);
	assert_int_equal(k.tp_src, 0);

	/* routing header (24 bytes: hdr ext len 2) then UDP */
	eth(&p, 0x86dd);
	ipv6(&p, 43, 24 + 12);
	put8(&p, 17); put8(&p, 2); put16(&p, 0); put32(&p, 0);
	put32(&p, 0); put32(&p, 0); put32(&p, 0); put32(&p, 0);
	udp(&p, 1, 2);
	k = parse(&p, 0);
	assert_int_equal(k.flags, 0);
	assert_int_equal(k.nw_proto, 17);
	assert_int_equal(k.tp_dst, RTE_BE16(2));

	/* ESP is the upper layer, as in IPv4 */
	eth(&p, 0x86dd);
	ipv6(&p, 50, 8);
	put32(&p, 1); put32(&p, 1);
	k = parse(&p, 0);
	assert_int_equal(k.flags, 0);
	assert_int_equal(k.nw_proto, 50);

	/* mobility header: not walked, the key says so */
	eth(&p, 0x86dd);
	ipv6(&p, 135, 8);
	put32(&p, 0x3b000000); put32(&p, 0);
	k = parse(&p, 0);
	assert_int_equal(k.flags, PSW_KEY_F_IPV6_EXT);
	assert_int_equal(k.nw_proto, 135);

	/* five destination-options headers: more than the parser walks */
	eth(&p, 0x86dd);
	ipv6(&p, 60, 5 * 8 + 12);
	for (int i = 0; i < 5; i++) {
		put8(&p, i == 4 ? 17 : 60); put8(&p, 0); put16(&p, 0x0104); put32(&p, 0);
	}
	udp(&p, 1, 2);
	k = parse(&p, 0);
	assert_int_equal(k.flags, PSW_KEY_F_IPV6_EXT);
	assert_int_equal(k.tp_src, 0);
}

static void
test_vlan(void **state)
{
	struct pkt p;
	struct psw_flow_key k;
	struct rte_mbuf *m;

	(void)state;
	eth(&p, 0x8100);
	vlan(&p, 0x0800, (5 << 13) | 100);
	ipv4(&p, 17, 1, 2, 0, 0, 12);
	udp(&p, 10, 20);
	k = parse(&p, 0);
	assert_int_equal(k.flags, 0);
	assert_int_equal(k.vlan_tci, rte_cpu_to_be_16((5 << 13) | PSW_VLAN_PRESENT | 100));
	assert_int_equal(k.dl_type, RTE_BE16(0x0800));
	assert_int_equal(k.tp_dst, RTE_BE16(20));

	/* VLAN 0 with the DEI bit set on the wire: present, vid 0, DEI not kept */
	eth(&p, 0x8100);
	vlan(&p, 0x0806, 0x1000);
	put32(&p, 0);
	k = parse(&p, 0);
	assert_int_equal(k.vlan_tci, RTE_BE16(PSW_VLAN_PRESENT));
	assert_int_equal(k.dl_type, RTE_BE16(0x0806));

	/* 802.1ad outer 10 + 802.1Q inner 20: the outer one is the key's */
	eth(&p, 0x88a8);
	vlan(&p, 0x8100, 10);
	vlan(&p, 0x86dd, 20);
	ipv6(&p, 17, 12);
	udp(&p, 3, 4);
	k = parse(&p, 0);
	assert_int_equal(k.flags, PSW_KEY_F_QINQ);
	assert_int_equal(k.vlan_tci, rte_cpu_to_be_16(PSW_VLAN_PRESENT | 10));
	assert_int_equal(k.dl_type, RTE_BE16(0x86dd));
	assert_int_equal(k.tp_src, RTE_BE16(3));

	/* a tag the device stripped counts as the tag; one left in the packet is inner */
	eth(&p, 0x0800);
	ipv4(&p, 6, 1, 2, 0, 0, 20);
	tcp(&p, 1, 2);
	m = to_mbuf(&p);
	m->ol_flags |= RTE_MBUF_F_RX_VLAN_STRIPPED;
	m->vlan_tci = 300;
	psw_parse_one(m, 0, &k);
	assert_int_equal(k.vlan_tci, rte_cpu_to_be_16(PSW_VLAN_PRESENT | 300));
	assert_int_equal(k.dl_type, RTE_BE16(0x0800));
	assert_int_equal(k.flags, 0);
	rte_pktmbuf_free(m);

	/* untagged ARP: L2 only */
	eth(&p, 0x0806);
	put32(&p, 0x00010800);
	k = parse(&p, 0);
	assert_int_equal(k.vlan_tci, 0);
	assert_int_equal(k.dl_type, RTE_BE16(0x0806));
	assert_int_equal(k.nw_proto, 0);
	assert_zero_from(&k, 24);
}

static void
test_rss_hash(void **state)
{
	struct pkt p;
	struct psw_flow_key k;
	struct rte_mbuf *m;
	uint32_t h;

	(void)state;
	eth(&p, 0x0800);
	ipv4(&p, 6, 1, 2, 0, 0, 20);
	tcp(&p, 1, 2);
	m = to_mbuf(&p);
	m->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
	m->hash.rss = 0xabcdef01;
	psw_parse_keys(&m, 1, 0, &k, &h);
	assert_int_equal(h, 0xabcdef01);
	/* hashes may be NULL */
	psw_parse_keys(&m, 1, 0, &k, NULL);
	assert_int_equal(k.tp_dst, RTE_BE16(2));
	rte_pktmbuf_free(m);
	/* the key hash depends on every field, e.g. in_port */
	k.in_port = 1;
	h = psw_flow_key_hash(&k);
	k.in_port = 2;
	assert_int_not_equal(h, psw_flow_key_hash(&k));
}

/* Keys that count up in several fields at once (a counter in in_port and nw_src, MACs and
 * addresses together, ports) must still spread over a table's low bits: 4096 keys into
 * 4096 buckets fill about 63% of them at random; a plain CRC filled 25% for some sets. */
static void
test_hash_spread(void **state)
{
	enum { N = 4096 };
	static uint8_t used[N];
	unsigned mode, i, n_used;

	(void)state;
	for (mode = 0; mode < 4; mode++) {
		memset(used, 0, sizeof(used));
		for (i = 0; i < N; i++) {
			struct psw_flow_key k;

			memset(&k, 0, sizeof(k));
			k.dl_type = RTE_BE16(0x0800);
			switch (mode) {
			case 0:
				k.in_port = i & 0xff;
				k.nw_src = rte_cpu_to_be_32(0x0a000000 | i);
				break;
			case 1:
				k.dl_dst.addr_bytes[5] = i & 0xff;
				k.dl_dst.addr_bytes[4] = i >> 8;
				k.nw_dst = rte_cpu_to_be_32(0x0a000000 | i);
				break;
			case 2:
				k.tp_src = rte_cpu_to_be_16(i);
				k.tp_dst = rte_cpu_to_be_16(i);
				break;
			default:
				k.dl_type = RTE_BE16(0x86dd);
				k.ipv6_dst[15] = i & 0xff;
				k.ipv6_dst[14] = i >> 8;
				k.tp_src = rte_cpu_to_be_16(i);
				break;
			}
			used[psw_flow_key_hash(&k) & (N - 1)] = 1;
		}
		for (i = n_used = 0; i < N; i++)
			n_used += used[i];
		if (n_used < N * 55 / 100)
			fail_msg("key set %u: %u of %u buckets used", mode, n_used, N);
	}
}

/* Every prefix of these packets is truncated; the whole packet is not. */
static void
check_truncation(const struct pkt *p, uint8_t full_flags)
{
	struct psw_flow_key k, whole;
	unsigned len;

	assert_int_equal(parse_guarded(p->b, p->len, &whole), full_flags);
	for (len = 0; len < p->len; len++) {
		uint8_t f = parse_guarded(p->b, len, &k);

		if (!(f & PSW_KEY_F_TRUNCATED))
			fail_msg("packet of %u bytes cut at %u: flags 0x%x, not truncated",
				 p->len, len, f);
		assert_int_equal(k.in_port, 7);
	}
}

static void
test_truncated_every_length(void **state)
{
	struct pkt p;

	(void)state;
	eth(&p, 0x0800);
	ipv4(&p, 6, 1, 2, 0, 0, 20);
	tcp(&p, 1, 2);
	check_truncation(&p, 0);

	eth(&p, 0x0800);
	ipv4(&p, 17, 1, 2, 3, 0, 12);
	udp(&p, 1, 2);
	p.len -= 4;      /* drop the UDP payload: the header is whole */
	check_truncation(&p, 0);

	eth(&p, 0x8100);
	vlan(&p, 0x0800, 100);
	ipv4(&p, 1, 1, 2, 0, 0, 8);
	icmp(&p, 0, 0);
	check_truncation(&p, 0);

	eth(&p, 0x88a8);
	vlan(&p, 0x8100, 10);
	vlan(&p, 0x86dd, 20);
	ipv6(&p, 0, 8 + 8 + 8);
	put8(&p, 44); put8(&p, 0); put16(&p, 0x0104); put32(&p, 0);
	put8(&p, 17); put8(&p, 0); put16(&p, 0x0001); put32(&p, 42);
	udp(&p, 1, 2);
	p.len -= 4;
	check_truncation(&p, PSW_KEY_F_QINQ | PSW_KEY_F_FRAG);

	eth(&p, 0x86dd);
	ipv6(&p, 58, 4);
	put8(&p, 128); put8(&p, 0); put16(&p, 0);
	check_truncation(&p, 0);

	eth(&p, 0x86dd);
	ipv6(&p, 51, 16 + 20);         /* AH, payload len 2 -> 16 bytes */
	put8(&p, 6); put8(&p, 2); put16(&p, 0); put32(&p, 1); put32(&p, 2); put32(&p, 3);
	tcp(&p, 5, 6);
	check_truncation(&p, 0);
}

/* 200,000 random frames, ethertypes and IP versions biased so that every parser path runs,
 * each ending at the guard page: no read past data_len, and a key that says so; the L2
 * fast path's parse (psw_parse_l2_runs) agrees with the full one on each. */
static void
test_random_frames(void **state)
{
	static const uint16_t types[] = { 0x0800, 0x86dd, 0x8100, 0x88a8, 0x0806, 0x1234 };
	static const uint8_t protos[] = { 6, 17, 1, 58, 132, 0, 43, 44, 60, 51, 50, 47 };
	uint64_t x = 88172645463325252ull;
	uint8_t b[160];
	unsigned iter, i, len, truncated = 0, with_ports = 0;
	struct psw_flow_key k;

	(void)state;
	for (iter = 0; iter < 200000; iter++) {
		for (i = 0; i < sizeof(b); i++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			b[i] = (uint8_t)x;
		}
		/* plausible headers at the usual places, random elsewhere */
		for (i = 12; i < 24; i += 4) {
			uint16_t t = types[(b[i + 2] ^ iter) % RTE_DIM(types)];

			b[i] = t >> 8;
			b[i + 1] = t & 0xff;
			if (t != 0x8100 && t != 0x88a8)
				break;
		}
		i += 2;                                   /* L3 */
		if (b[i - 2] == 0x08 && b[i - 1] == 0x00) {
			b[i] = 0x40 | (b[i] & 0x0f);
			b[i + 9] = protos[b[i + 9] % RTE_DIM(protos)];
		} else if (b[i - 2] == 0x86) {
			b[i] = 0x60 | (b[i] & 0x0f);
			b[i + 6] = protos[b[i + 6] % RTE_DIM(protos)];
		}
		len = (unsigned)(x >> 40) % sizeof(b);
		parse_guarded(b, len, &k);
		check_l2_guarded(b, len, (iter & 0x30) == 0x30, (uint16_t)(x >> 16));
		assert_int_equal(k.in_port, 7);
		assert_zero_from(&k, 60);
		truncated += !!(k.flags & PSW_KEY_F_TRUNCATED);
		with_ports += k.tp_src != 0 && !(k.flags & PSW_KEY_F_BAD);
	}
	/* the generator reaches both outcomes */
	assert_true(truncated > 1000);
	assert_true(with_ports > 1000);
}

/* psw_parse_l2_runs on a burst of n packets with repeated headers (equal neighbours, a
 * VLAN tag, a truncated one in between): the runs cover the burst in order, every packet
 * of a run has the run's key words, runs break where the header changes or a packet is
 * bad, and bytes add up. */
static void
l2_runs_burst(uint16_t n)
{
	struct rte_mbuf *pkts[64];
	struct psw_l2_run runs[64];
	struct psw_flow_key k;
	uint16_t i, nr, at = 0;
	struct pkt p;

	for (i = 0; i < n; i++) {
		unsigned kind = (i * 2u / 3u) % 4u;   /* runs of one or two equal frames */

		eth(&p, kind == 2 ? 0x8100 : 0x0800);
		if (kind == 2)
			vlan(&p, 0x0800, 9);
		ipv4(&p, 17, i, 2, 0, 0, 12);
		udp(&p, i, 53);
		if (kind == 3)
			p.len = 30;  /* truncated */
		if (kind == 1)
			p.b[0] ^= 1;
		pkts[i] = to_mbuf(&p);
	}
	nr = psw_parse_l2_runs(pkts, n, runs);
	assert_true(nr <= n && (n == 0) == (nr == 0));
	for (uint16_t r = 0; r < nr; r++) {
		uint32_t bytes = 0;

		assert_int_equal(runs[r].start, at);
		assert_true(runs[r].n >= 1);
		for (i = at; i < at + runs[r].n; i++) {
			uint64_t w[3];

			psw_parse_one(pkts[i], 5, &k);
			memcpy(w, &k, sizeof(w));
			assert_int_equal(runs[r].bad, k.flags & PSW_KEY_F_BAD);
			if (!runs[r].bad) {
				assert_int_equal(runs[r].w1, w[1]);
				assert_int_equal(runs[r].w2, w[2]);
			}
			bytes += pkts[i]->pkt_len;
		}
		assert_int_equal(runs[r].bytes, bytes);
		if (runs[r].bad)
			assert_int_equal(runs[r].n, 1);
		if (r > 0 && !runs[r].bad && !runs[r - 1].bad)
			assert_true(runs[r].w1 != runs[r - 1].w1 || runs[r].w2 != runs[r - 1].w2);
		at += runs[r].n;
	}
	assert_int_equal(at, n);
	if (n >= 32)
		assert_true(nr < n);         /* equal neighbours did share runs */
	for (i = 0; i < n; i++)
		rte_pktmbuf_free(pkts[i]);
}

static void
test_l2_runs(void **state)
{
	static const uint16_t sizes[] = {0, 1, 3, 4, 5, 32, 64};

	(void)state;
	for (unsigned i = 0; i < RTE_DIM(sizes); i++)
		l2_runs_burst(sizes[i]);
}

/* A burst of n mixed packets gives the same keys and hashes as one at a time. */
static void
run_burst(uint16_t n)
{
	struct rte_mbuf *pkts[64];
	struct psw_flow_key keys[64], one;
	uint32_t hashes[64];
	struct pkt p;
	uint16_t i;

	memset(keys, 0xee, sizeof(keys));
	for (i = 0; i < 64; i++)
		hashes[i] = 0xeeeeeeee;
	for (i = 0; i < n; i++) {
		switch (i % 4) {
		case 0:
			eth(&p, 0x0800);
			ipv4(&p, 6, 0x0a000000 + i, 0x0a010000 + i, 0, 0, 20);
			tcp(&p, 1000 + i, 80);
			break;
		case 1:
			eth(&p, 0x86dd);
			ipv6(&p, 17, 12);
			udp(&p, i, 53);
			break;
		case 2:
			eth(&p, 0x8100);
			vlan(&p, 0x0800, i);
			ipv4(&p, 1, i, 2, 0, 0, 8);
			icmp(&p, 8, 0);
			break;
		default:
			eth(&p, 0x0800);
			ipv4(&p, 17, i, 2, 0, 0, 12);
			p.len = 20;  /* truncated */
			break;
		}
		pkts[i] = to_mbuf(&p);
	}
	psw_parse_keys(pkts, n, 5, keys, hashes);
	for (i = 0; i < n; i++) {
		psw_parse_one(pkts[i], 5, &one);
		assert_memory_equal(&keys[i], &one, sizeof(one));
		assert_int_equal(hashes[i], psw_flow_key_hash(&one));
		assert_int_equal(keys[i].in_port, 5);
		assert_int_equal(!!(keys[i].flags & PSW_KEY_F_TRUNCATED), i % 4 == 3);
		if (i % 4 == 0)
			assert_int_equal(keys[i].tp_src, rte_cpu_to_be_16(1000 + i));
		rte_pktmbuf_free(pkts[i]);
	}
	/* nothing past n is written */
	for (i = n; i < 64; i++) {
		assert_int_equal(hashes[i], 0xeeeeeeee);
		assert_int_equal(((uint8_t *)&keys[i])[0], 0xee);
	}
}

static void
test_bursts(void **state)
{
	static const uint16_t sizes[] = { 0, 1, 3, 4, 5, 32, 33 };
	unsigned i;

	(void)state;
	for (i = 0; i < RTE_DIM(sizes); i++)
		run_burst(sizes[i]);
}

static int
setup(void **state)
{
	char prefix[64];
	char *argv[] = { "test_parse", "--no-huge", "--no-pci", "-m", "64", "--no-shconf",
			 "--no-telemetry", "--log-level=error", "-l", "0", prefix, NULL };

	(void)state;
	snprintf(prefix, sizeof(prefix), "--file-prefix=test_parse_%d", (int)getpid());
	if (rte_eal_init(RTE_DIM(argv) - 1, argv) < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("test_parse", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (!pool)
		return -1;
	page_size = sysconf(_SC_PAGESIZE);
	guard_page = mmap(NULL, page_size * 2, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard_page == MAP_FAILED || mprotect(guard_page + page_size, page_size, PROT_NONE))
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char dir[4096];

	(void)state;
	munmap(guard_page, page_size * 2);
	rte_mempool_free(pool);
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(dir);    /* EAL leaves its (empty, with --no-shconf) runtime directory behind */
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_tcp),
		cmocka_unit_test(test_ipv4_udp_icmp),
		cmocka_unit_test(test_ipv4_options_and_fragments),
		cmocka_unit_test(test_ipv4_malformed),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_rss_hash),
		cmocka_unit_test(test_hash_spread),
		cmocka_unit_test(test_truncated_every_length),
		cmocka_unit_test(test_random_frames),
		cmocka_unit_test(test_bursts),
		cmocka_unit_test(test_l2_runs),
	};

	return cmocka_run_group_tests_name("parse", tests, setup, teardown);
}
