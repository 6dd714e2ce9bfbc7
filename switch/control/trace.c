/*
 * trace.c: the `trace` method (control thread). Given the fields of a packet, it builds
 * that packet and runs it through the real datapath stages (datapath/pipeline.c) with a
 * PMD context of its own whose trace sink records what each stage decided (core/trace.h):
 * the rule, every action, NORMAL's L2 decision, every output with the headers as they
 * would leave, and every drop with its reason. Nothing is sent and no shared state
 * changes: while tracing, stages neither learn nor refresh MACs nor count rule hits, and
 * the packets the tx stage would send are freed here. So what trace says is what the
 * datapath does (tests/unit/test_trace.c compares the two on random tables).
 *
 * Its own context has its own caches, emptied before every trace, so a trace always
 * shows the classifier's choice, never a stale cached one.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "control/trace.h"
#include "core/trace.h"
#include "datapath/ctx.h"
#include "datapath/pipeline.h"
#include "datapath/txq.h"
#include "flow/flow_json.h"
#include "flow/flow_table.h"
#include "l2/l2.h"
#include "neigh/neigh.h"
#include "tunnel/tunnel.h"
#include "port/port.h"

static struct psw_pmd *tpmd;
static struct psw_trace_sink sink;

/* ---- the packet ------------------------------------------------------------------------ */

static void
put16(uint8_t *p, uint16_t host)
{
	p[0] = (uint8_t)(host >> 8);
	p[1] = (uint8_t)host;
}

/* L4 header for proto at p (room for 20 bytes); returns its length. The ports (or ICMP
 * type and code) are the key's, in network order already. */
static unsigned
build_l4(const struct psw_flow_key *k, uint8_t *p)
{
	switch (k->nw_proto) {
	case IPPROTO_TCP:
		memcpy(p, &k->tp_src, 2);
		memcpy(p + 2, &k->tp_dst, 2);
		p[12] = 5 << 4;             /* data offset */
		p[13] = 0x02;               /* SYN */
		return 20;
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		memcpy(p, &k->tp_src, 2);
		memcpy(p + 2, &k->tp_dst, 2);
		put16(p + 4, 8);
		return k->nw_proto == IPPROTO_UDP ? 8 : 12;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		p[0] = PSW_ICMP_TYPE(k);
		p[1] = PSW_ICMP_CODE(k);
		return 8;
	default:
		return 0;
	}
}

/* The frame whose key is k (what the parser would make of it). 0 or -1. */
static int
build_packet(const struct psw_flow_key *k, struct rte_mbuf *m)
{
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, 128);
	unsigned off = 12, l3, l4;

	if (f == NULL)
		return -1;
	memset(f, 0, 128);
	memcpy(f, &k->dl_dst, RTE_ETHER_ADDR_LEN);
	memcpy(f + 6, &k->dl_src, RTE_ETHER_ADDR_LEN);
	if (k->vlan_tci & RTE_BE16(PSW_VLAN_PRESENT)) {
		put16(f + off, RTE_ETHER_TYPE_VLAN);
		put16(f + off + 2, rte_be_to_cpu_16(k->vlan_tci) & ~PSW_VLAN_PRESENT);
		off += 4;
	}
	memcpy(f + off, &k->dl_type, 2);
	l3 = off + 2;
	if (k->dl_type == RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
		uint8_t *ip = f + l3;

		ip[0] = 0x45;
		ip[8] = 64;
		ip[9] = k->nw_proto;
		memcpy(ip + 12, &k->nw_src, 4);
		memcpy(ip + 16, &k->nw_dst, 4);
		l4 = build_l4(k, ip + 20);
		put16(ip + 2, (uint16_t)(20 + l4));
		rte_pktmbuf_trim(m, (uint16_t)(128 - (l3 + 20 + l4)));
	} else if (k->dl_type == RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
		uint8_t *ip = f + l3;

		ip[0] = 0x60;
		ip[6] = k->nw_proto;
		ip[7] = 64;
		memcpy(ip + 8, k->ipv6_src, 16);
		memcpy(ip + 24, k->ipv6_dst, 16);
		l4 = build_l4(k, ip + 40);
		put16(ip + 4, (uint16_t)l4);
		rte_pktmbuf_trim(m, (uint16_t)(128 - (l3 + 40 + l4)));
	} else {
		rte_pktmbuf_trim(m, (uint16_t)(128 - RTE_MAX(60u, l3 + 28)));
	}
	if (m->pkt_len < 60 && rte_pktmbuf_append(m, (uint16_t)(60 - m->pkt_len)) == NULL)
		return -1;
	return 0;
}

/* ---- the context ------------------------------------------------------------------------ */

static int
context(void)
{
	struct psw_dp_ctx *ctx;

	if (tpmd == NULL) {
		tpmd = rte_zmalloc("psw_trace_pmd", sizeof(*tpmd), RTE_CACHE_LINE_SIZE);
		if (tpmd == NULL)
			return -1;
		tpmd->lcore = rte_lcore_id();
		tpmd->trace = &sink;
		if (psw_pipeline_pmd_init(tpmd) != 0) {
			rte_free(tpmd);
			tpmd = NULL;
			return -1;
		}
	}
	/* Fresh caches: the trace shows what the tables say now. */
	ctx = tpmd->ctx;
	psw_flow_cache_clear(ctx->cache);
	memset(ctx->memo, 0, sizeof(ctx->memo));
	memset(ctx->l2c, 0, sizeof(ctx->l2c));
	memset(&sink, 0, sizeof(sink));
	return 0;
}

void
psw_trace_fini(void)
{
	if (tpmd == NULL)
		return;
	psw_pipeline_pmd_fini(tpmd);
	rte_free(tpmd);
	tpmd = NULL;
}

/* ---- rendering ---------------------------------------------------------------------------- */

struct render {
	json_t *steps, *outputs, *l2, *rule;
	const char *drop;          /* the last drop's reason */
	const char *via;           /* why the next outputs happen */
	uint16_t in_port;
};

static void __attribute__((format(printf, 2, 3)))
step(struct render *r, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(r->steps, json_string(buf));
}

static const char *const src_text[] = {
	[PSW_L2_SRC_KNOWN] = "known on the input port",
	[PSW_L2_SRC_NEW] = "unknown: will be learned on the input port",
	[PSW_L2_SRC_MOVED] = "known on another port: will be relearned (moved)",
	[PSW_L2_SRC_LIMIT] = "unknown and the input port is at its MAC limit",
	[PSW_L2_SRC_INVALID] = "not a valid unicast source",
};

static void
render_rule(struct render *r, const struct psw_rule *rule)
{
	const struct psw_flow_entry *e = psw_flow_entry_of(rule);

	json_decref(r->rule);
	r->rule = json_pack("{sI sI sI so so}", "id", (json_int_t)e->id,
			    "priority", (json_int_t)rule->priority,
			    "cookie", (json_int_t)rule->cookie,
			    "match", psw_flow_match_to_json(&rule->match),
			    "actions", psw_flow_actions_to_json(rule->actions, rule->n_actions));
	step(r, "rule %llu (priority %u) matched", (unsigned long long)e->id, rule->priority);
}

static void
render_action(struct render *r, const struct psw_action *a)
{
	char name[PSW_NAME_MAX], mac[18];

	switch (a->type) {
	case PSW_ACT_OUTPUT:
		if (a->port == r->in_port)
			step(r, "output:%s: skipped, it is the input port", psw_port_name(a->port, name));
		else
			step(r, "output:%s", psw_port_name(a->port, name));
		r->via = "output";
		break;
	case PSW_ACT_NORMAL:
		r->via = "normal";
		break;
	case PSW_ACT_DROP:
		step(r, "drop");
		break;
	case PSW_ACT_SET_ETH_SRC:
		step(r, "mod_dl_src:%s", psw_mac_str(&a->mac, mac));
		break;
	case PSW_ACT_SET_ETH_DST:
		step(r, "mod_dl_dst:%s", psw_mac_str(&a->mac, mac));
		break;
	case PSW_ACT_PUSH_VLAN:
		step(r, "push_vlan:%u", a->vlan_tci & PSW_VLAN_VID_MASK);
		break;
	case PSW_ACT_POP_VLAN:
		step(r, "pop_vlan");
		break;
	case PSW_ACT_ENCAP_VXLAN:
		step(r, "encap_vxlan:%u", a->vxlan.vni);
		break;
	case PSW_ACT_DECAP_VXLAN:
		step(r, "decap_vxlan");
		break;
	default:
		step(r, "action %u", a->type);
		break;
	}
}

static void
render_l2(struct render *r, const struct psw_l2_decision *d)
{
	const struct psw_l2_members *mem;
	char name[PSW_NAME_MAX];
	const char *net = psw_l2_network_name(d->net);
	json_t *l2 = json_object(), *flood;

	json_object_set_new(l2, "network", net ? json_string(net) : json_null());
	json_object_set_new(l2, "source", json_string(src_text[d->src_state]));
	if (d->src_e && d->src_state == PSW_L2_SRC_MOVED)
		json_object_set_new(l2, "source_port",
				    json_string(psw_port_name(d->src_e->port, name)));
	switch (d->verdict) {
	case PSW_L2_UNICAST:
		json_object_set_new(l2, "destination", json_string("known"));
		json_object_set_new(l2, "decision", json_string("unicast"));
		step(r, "normal: destination known on %s in network %s",
		     psw_port_name(d->out_port, name), net);
		r->via = "normal";
		break;
	case PSW_L2_FLOOD:
		json_object_set_new(l2, "destination",
				    json_string(d->dst_multicast ? "broadcast or multicast" : "unknown"));
		json_object_set_new(l2, "decision", json_string("flood"));
		flood = json_array();
		mem = psw_l2_members[d->net];
		for (unsigned i = 0; mem && i < mem->n; i++)
			if (mem->port[i] != r->in_port)
				json_array_append_new(flood, json_string(psw_port_name(mem->port[i], name)));
		step(r, "normal: flood %s to %zu other port(s) of network %s",
		     d->dst_multicast ? "broadcast/multicast" : "unknown unicast",
		     json_array_size(flood), net);
		json_object_set_new(l2, "flood", flood);
		r->via = "normal flood";
		break;
	default:
		json_object_set_new(l2, "decision", json_string("drop"));
		json_object_set_new(l2, "drop", json_string(psw_drop_names[d->drop_reason]));
		step(r, "normal: drop (%s)", psw_drop_texts[d->drop_reason]);
		break;
	}
	json_decref(r->l2);
	r->l2 = l2;
}

/* What the tx stage puts around a frame for transport port `port` (tunnel_dp.c): the
 * outer headers, and whether they can leave now. */
static json_t *
outer(uint16_t port, uint32_t len)
{
	const struct psw_underlay *u = psw_underlay;
	const struct psw_port *p = &psw_ports[port];
	char a[INET_ADDRSTRLEN], mac[RTE_ETHER_ADDR_FMT_SIZE];
	json_t *o;

	if (p->tunnel == PSW_TUNNEL_VLAN) {
		const struct psw_vlan_ctx *v = p->tunnel_ctx;

		return json_pack("{ss si si}", "type", "vlan", "vid", v->vid, "bytes", (int)len + 4);
	} else {
		const struct psw_vxlan_peer *v = p->tunnel_ctx;
		uint8_t nh[16] = {0};
		const struct rte_ether_addr *m;
		rte_be32_t hop;

		o = json_pack("{ss si ss si si}", "type", "vxlan", "vni", (int)v->vni,
			      "ip_dst", inet_ntop(AF_INET, &v->remote, a, sizeof(a)),
			      "udp_dst", rte_be_to_cpu_16(v->udp_port),
			      "bytes", (int)len + PSW_VXLAN_OVERHEAD);
		if (u == NULL || u->ip4 == 0) {
			json_object_set_new(o, "note", json_string("no uplink address: dropped as neigh_unresolved"));
			return o;
		}
		json_object_set_new(o, "ip_src", json_string(inet_ntop(AF_INET, &u->ip4, a, sizeof(a))));
		rte_ether_format_addr(mac, sizeof(mac), &u->mac);
		json_object_set_new(o, "eth_src", json_string(mac));
		hop = psw_neigh_next_hop4(u, v->remote);
		memcpy(nh, &hop, 4);
		json_object_set_new(o, "next_hop", json_string(inet_ntop(AF_INET, &hop, a, sizeof(a))));
		m = psw_neigh_lookup_rcu(nh, false);
		if (m != NULL) {
			rte_ether_format_addr(mac, sizeof(mac), m);
			json_object_set_new(o, "eth_dst", json_string(mac));
		} else {
			json_object_set_new(o, "note", json_string("next hop not resolved yet: held "
								   "while it is asked, then sent or dropped"));
		}
		if (len + PSW_VXLAN_OVERHEAD - RTE_ETHER_HDR_LEN > u->mtu)
			json_object_set_new(o, "drop", json_string("mtu"));
		return o;
	}
}

static void
render_output(struct render *r, const struct psw_trace_event *e)
{
	const struct rte_ether_hdr *eh = (const struct rte_ether_hdr *)e->data;
	char name[PSW_NAME_MAX], s[18], d[18];
	json_t *o, *tags;
	unsigned off = 12;

	if (e->len < RTE_ETHER_HDR_LEN)
		return;
	o = json_pack("{ss ss ss ss sI}", "port", psw_port_name(e->port, name),
		      "dl_src", psw_mac_str(&eh->src_addr, s), "dl_dst", psw_mac_str(&eh->dst_addr, d),
		      "via", r->via ? r->via : "output", "bytes", (json_int_t)e->u);
	tags = json_array();
	while (off + 4 <= e->len) {
		unsigned type = (unsigned)e->data[off] << 8 | e->data[off + 1];

		if (type != RTE_ETHER_TYPE_VLAN && type != RTE_ETHER_TYPE_QINQ)
			break;
		json_array_append_new(tags, json_integer(((e->data[off + 2] << 8) |
							  e->data[off + 3]) & PSW_VLAN_VID_MASK));
		off += 4;
	}
	if (json_array_size(tags) > 0) {
		json_object_set(o, "dl_vlan", json_array_get(tags, 0));
		json_object_set_new(o, "vlans", tags);
	} else {
		json_decref(tags);
	}
	if (e->reason == PSW_DROP_MTU)
		json_object_set_new(o, "note", json_string("larger than the port's MTU: dropped as mtu"));
	if (psw_ports[e->port].tunnel != PSW_TUNNEL_NONE)
		json_object_set_new(o, "outer", outer(e->port, e->u));
	json_array_append_new(r->outputs, o);
}

static void
render_event(struct render *r, const struct psw_trace_event *e)
{
	char name[PSW_NAME_MAX];

	switch (e->type) {
	case PSW_TR_RULE:
		render_rule(r, e->ptr);
		break;
	case PSW_TR_ACTION:
		render_action(r, e->ptr);
		break;
	case PSW_TR_L2:
		render_l2(r, (const struct psw_l2_decision *)e->data);
		break;
	case PSW_TR_NO_RULE:
		if (e->port != PSW_PORT_NONE && e->port != r->in_port) {
			step(r, "no rule matched: static output of %s", psw_port_name(r->in_port, name));
			r->via = "static output";
		} else {
			step(r, "no rule matched and %s has no static output",
			     psw_port_name(r->in_port, name));
		}
		break;
	case PSW_TR_OUTPUT:
		render_output(r, e);
		break;
	case PSW_TR_DROP:
		r->drop = psw_drop_names[e->reason];
		step(r, "dropped: %s (%s)", psw_drop_texts[e->reason], r->drop);
		break;
	case PSW_TR_NOTE:
		step(r, "%s", (const char *)e->ptr);
		break;
	default:
		break;
	}
}

json_t *
psw_rpc_trace(json_t *params, struct psw_rpc_error *err)
{
	static const struct psw_rpc_param spec[] = {
		{"packet", PSW_T_OBJECT, true},
		{NULL},
	};
	struct render r = {0};
	struct psw_flow_match m;
	struct psw_burst b;
	struct rte_mbuf *pkt;
	char name[PSW_NAME_MAX];
	json_t *res, *p;

	if (psw_rpc_check_params(params, spec, err) < 0)
		return NULL;
	p = json_object_get(params, "packet");
	if (!json_object_get(p, "in_port"))
		return psw_rpc_err(err, PSW_RPC_INVALID_PARAMS,
				   "packet.in_port: required (the port the packet arrives on)");
	if (psw_flow_match_from_json(p, true, &m, "packet", err) < 0)
		return NULL;
	if (context() != 0 || (pkt = rte_pktmbuf_alloc(psw_port_pool())) == NULL)
		return psw_rpc_err(err, PSW_RPC_FAILED, "trace: out of memory");
	if (build_packet(&m.key, pkt) != 0) {
		rte_pktmbuf_free(pkt);
		return psw_rpc_err(err, PSW_RPC_FAILED, "trace: cannot build the packet");
	}
	r.in_port = m.key.in_port;
	memset(&b, 0, offsetof(struct psw_burst, keys));
	b.pkts = &pkt;
	b.n = 1;
	b.in_port = m.key.in_port;
	r.steps = json_array();
	if (psw_ports[b.in_port].tunnel == PSW_TUNNEL_VXLAN) {
		/* Received from a VXLAN peer: the uplink stage stripped the outer headers and
		 * set the VNI (tunnel_dp.c); so does the trace. */
		const struct psw_vxlan_peer *v = psw_ports[b.in_port].tunnel_ctx;
		char a[INET_ADDRSTRLEN];

		m.key.tun_id = v->vni;
		step(&r, "decap_vxlan: from peer %s, VNI %u", inet_ntop(AF_INET, &v->remote, a,
									sizeof(a)), v->vni);
	}
	/* As if the decap stage had received it on that VNI. */
	b.tun_id = m.key.tun_id;
	psw_pmd_set_now(tpmd, rte_rdtsc());
	if (b.in_port == psw_uplink_port)
		/* The uplink's own stages (neigh, decap) first, as a PMD runs them. */
		psw_pipeline_burst(tpmd, b.in_port, &pkt, 1);
	else
		psw_pipeline_run(tpmd, &b);
	psw_txq_discard_all(tpmd);

	r.outputs = json_array();
	for (unsigned i = 0; i < sink.n; i++)
		render_event(&r, &sink.ev[i]);
	if (sink.lost)
		step(&r, "(%u more events not shown)", sink.lost);
	res = json_pack("{ss so so so so}", "in_port", psw_port_name(m.key.in_port, name),
			"rule", r.rule ? r.rule : json_null(), "steps", r.steps,
			"outputs", r.outputs, "l2", r.l2 ? r.l2 : json_null());
	if (r.drop && json_array_size(r.outputs) == 0)
		json_object_set_new(res, "drop", json_string(r.drop));
	return res;
}
