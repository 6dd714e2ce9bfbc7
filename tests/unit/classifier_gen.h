/*
 * classifier_gen.h: what the classifier's tests share (test_classifier.c,
 * test_classifier_churn.c): deterministic random numbers, random keys, masks and rules over
 * small domains (so that masks, values and priorities overlap), keys near a rule (a hit
 * or a near miss), and rules a user would write. Static: each test includes it once.
 */
#ifndef PSW_TESTS_CLASSIFIER_GEN_H
#define PSW_TESTS_CLASSIFIER_GEN_H

#include <stdio.h>
#include <string.h>

#include "flow/classifier.h"

/* ---- deterministic random numbers ------------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return (uint32_t)(x >> 16);
}

static uint32_t
rnd_below(uint32_t n)
{
	return rnd() % n;
}

/* ---- random rules and packets over small domains ---------------------------------------- */

static const uint16_t ETYPES[] = { 0x0800, 0x86dd, 0x0806 };
static const uint8_t PROTOS[] = { 6, 17, 1, 58 };

static void
random_mac(struct rte_ether_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->addr_bytes[0] = 0x02;
	a->addr_bytes[5] = rnd_below(4);
}

/* A packet-like key: every field drawn from a few values. */
static void
random_key(struct psw_flow_key *k)
{
	uint16_t et = ETYPES[rnd_below(3)];

	memset(k, 0, sizeof(*k));
	k->in_port = rnd_below(4);
	k->tun_id = rnd_below(3);
	random_mac(&k->dl_src);
	random_mac(&k->dl_dst);
	if (rnd_below(3) == 0)
		k->vlan_tci = rte_cpu_to_be_16(PSW_VLAN_PRESENT | rnd_below(4));
	k->dl_type = rte_cpu_to_be_16(et);
	if (et == 0x0800) {
		k->nw_src = rte_cpu_to_be_32(0x0a000000 | rnd_below(4) << 16 | rnd_below(4) << 8 | rnd_below(4));
		k->nw_dst = rte_cpu_to_be_32(0x0a000000 | rnd_below(4) << 16 | rnd_below(4) << 8 | rnd_below(4));
	} else if (et == 0x86dd) {
		k->ipv6_src[0] = 0x20;
		k->ipv6_src[1] = 0x01;
		k->ipv6_src[7] = rnd_below(4);
		k->ipv6_src[15] = rnd_below(4);
		k->ipv6_dst[0] = 0x20;
		k->ipv6_dst[1] = 0x01;
		k->ipv6_dst[7] = rnd_below(4);
		k->ipv6_dst[15] = rnd_below(4);
	}
	if (et != 0x0806) {
		k->nw_proto = PROTOS[rnd_below(4)];
		k->tp_src = rte_cpu_to_be_16(rnd_below(4));
		k->tp_dst = rte_cpu_to_be_16(rnd_below(4) * 1000);
	}
}

static void
random_mask(struct psw_flow_key *m)
{
	memset(m, 0, sizeof(*m));
	if (rnd_below(4) == 0)
		m->in_port = 0xffff;
	if (rnd_below(6) == 0)
		m->tun_id = UINT32_MAX;
	if (rnd_below(5) == 0)
		memset(&m->dl_src, 0xff, 6);
	if (rnd_below(5) == 0)
		memset(&m->dl_dst, 0xff, 6);
	if (rnd_below(5) == 0)
		m->vlan_tci = rte_cpu_to_be_16(PSW_VLAN_PRESENT | PSW_VLAN_VID_MASK);
	if (rnd_below(2) == 0)
		m->dl_type = 0xffff;
	if (rnd_below(3) == 0)
		psw_prefix_mask128(m->ipv6_src, rnd_below(129));
	if (rnd_below(3) == 0)
		psw_prefix_mask128(m->ipv6_dst, rnd_below(129));
	if (rnd_below(3) == 0)
		m->nw_proto = 0xff;
	if (rnd_below(4) == 0)
		m->tp_src = rnd_below(2) ? 0xffff : rte_cpu_to_be_16(0xfffc);
	if (rnd_below(4) == 0)
		m->tp_dst = 0xffff;
	if (rnd_below(8) == 0)
		m->flags = 0xff;
}

/* A key that may or may not match rule r: its key with some wildcarded bits changed. */
static void
key_near_rule(struct psw_flow_key *k, const struct psw_rule *r)
{
	struct psw_flow_key noise;
	uint8_t *d = (uint8_t *)k;
	const uint8_t *n = (const uint8_t *)&noise, *mk = (const uint8_t *)&r->match.mask;
	const uint8_t *rk = (const uint8_t *)&r->match.key;
	size_t i;

	random_key(&noise);
	for (i = 0; i < sizeof(*k); i++)
		d[i] = (rk[i] & mk[i]) | (n[i] & ~mk[i]);
	/* sometimes flip one masked bit: a near miss */
	if (rnd_below(4) == 0) {
		i = rnd_below(sizeof(*k));
		d[i] ^= mk[i] & -mk[i];   /* the lowest masked bit of that byte, if any */
	}
}

static void
random_rule(struct psw_rule *r, uint32_t seq)
{
	memset(r, 0, sizeof(*r));
	random_key(&r->match.key);
	random_mask(&r->match.mask);
	/* some rules are stored un-normalized: the classifier must not care */
	if (rnd_below(2))
		psw_flow_match_normalize(&r->match);
	r->priority = rnd_below(5);
	r->seq = seq;
	r->stats_idx = PSW_RULE_STATS_NONE;
	r->n_actions = 1;
	r->actions[0].type = PSW_ACT_OUTPUT;
	r->actions[0].port = rnd_below(8);
}

static const char *
describe(const struct psw_rule *r)
{
	static char buf[4][64];
	static unsigned k;
	char *b = buf[k++ % 4];

	if (!r)
		return "(none)";
	snprintf(b, sizeof(buf[0]), "prio %u seq %llu", r->priority, (unsigned long long)r->seq);
	return b;
}

/* ---- rules a user would write ---------------------------------------------------------- */

static void
rule_init(struct psw_rule *r, uint32_t prio, uint32_t seq, uint16_t out_port)
{
	memset(r, 0, sizeof(*r));
	r->priority = prio;
	r->seq = seq;
	r->stats_idx = PSW_RULE_STATS_NONE;
	r->n_actions = 1;
	r->actions[0].type = PSW_ACT_OUTPUT;
	r->actions[0].port = out_port;
}

static void
match_ip(struct psw_rule *r)
{
	r->match.key.dl_type = RTE_BE16(0x0800);
	r->match.mask.dl_type = 0xffff;
}

static void
match_nw_dst(struct psw_rule *r, uint32_t addr, unsigned plen)
{
	match_ip(r);
	r->match.key.nw_dst = rte_cpu_to_be_32(addr);
	r->match.mask.nw_dst = psw_prefix_mask32(plen);
}

static struct psw_flow_key
ip_pkt(uint16_t in_port, uint32_t src, uint32_t dst)
{
	struct psw_flow_key k;

	memset(&k, 0, sizeof(k));
	k.in_port = in_port;
	k.dl_type = RTE_BE16(0x0800);
	k.nw_src = rte_cpu_to_be_32(src);
	k.nw_dst = rte_cpu_to_be_32(dst);
	k.nw_proto = 17;
	k.tp_src = RTE_BE16(1234);
	k.tp_dst = RTE_BE16(53);
	return k;
}

#endif
