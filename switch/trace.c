/*
 * trace.c: the `trace` method (control thread). Given the fields of a packet, it says
 * what the data plane would do, without sending anything: the rule the classifier picks,
 * each action in turn, the L2 decision of NORMAL (source learning, destination lookup,
 * flood list), the rewrites and the final outputs or the drop reason. It walks the same
 * tables the PMDs read (psw_flow_cls, the FDB, network members) and the same decision
 * function (psw_l2_decide_rcu), so what it prints is what a packet gets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "actions.h"
#include "classifier.h"
#include "flow_table.h"
#include "l2.h"
#include "port.h"
#include "rpc_flow.h"

#define MAX_TAGS 4

/* The packet's headers as the actions change them. */
struct hdr {
	struct rte_ether_addr src, dst;
	uint16_t vid[MAX_TAGS];   /* outer first */
	unsigned n_tags;
};

struct trace {
	json_t *steps;
	json_t *outputs;
	json_t *l2;
	const char *drop;         /* drop reason name, if the packet ends dropped */
};

static void __attribute__((format(printf, 2, 3)))
step(struct trace *t, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(t->steps, json_string(buf));
}

static void
output(struct trace *t, const struct hdr *h, uint16_t port, const char *why)
{
	char name[PSW_NAME_MAX], s[18], d[18];
	json_t *o;

	o = json_pack("{ss ss ss ss}", "port", psw_rpc_port_name(port, name),
		      "dl_src", psw_rpc_mac_str(&h->src, s), "dl_dst", psw_rpc_mac_str(&h->dst, d),
		      "via", why);
	if (h->n_tags) {
		json_t *tags = json_array();

		for (unsigned i = 0; i < h->n_tags; i++)
			json_array_append_new(tags, json_integer(h->vid[i]));
		json_object_set_new(o, "dl_vlan", json_integer(h->vid[0]));
		json_object_set_new(o, "vlans", tags);
	}
	if (!psw_port_get(port) || !psw_ports[port].enabled)
		json_object_set_new(o, "note", json_string("port down or removed: dropped as port_down"));
	json_array_append_new(t->outputs, o);
}

static const char *const src_text[] = {
	[PSW_L2_SRC_KNOWN] = "known on the input port",
	[PSW_L2_SRC_NEW] = "unknown: will be learned on the input port",
	[PSW_L2_SRC_MOVED] = "known on another port: will be relearned (moved)",
	[PSW_L2_SRC_LIMIT] = "unknown and the input port is at its MAC limit",
	[PSW_L2_SRC_INVALID] = "not a valid unicast source",
};

static void
normal(struct trace *t, const struct hdr *h, uint16_t in_port)
{
	struct psw_l2_decision d;
	const struct psw_l2_members *mem;
	char name[PSW_NAME_MAX], s[18];
	json_t *l2 = json_object(), *flood;
	const char *net;

	psw_l2_decide_rcu(in_port, &h->src, &h->dst, &d);
	net = psw_l2_network_name(d.net);
	json_object_set_new(l2, "network", net ? json_string(net) : json_null());
	json_object_set_new(l2, "source", json_string(src_text[d.src_state]));
	if (d.src_e && d.src_state == PSW_L2_SRC_MOVED)
		json_object_set_new(l2, "source_port",
				    json_string(psw_rpc_port_name(d.src_e->port, name)));
	switch (d.verdict) {
	case PSW_L2_UNICAST:
		json_object_set_new(l2, "destination", json_string("known"));
		json_object_set_new(l2, "decision", json_string("unicast"));
		step(t, "normal: %s known on %s in network %s", psw_rpc_mac_str(&h->dst, s),
		     psw_rpc_port_name(d.out_port, name), net);
		output(t, h, d.out_port, "normal");
		break;
	case PSW_L2_FLOOD:
		json_object_set_new(l2, "destination",
				    json_string(d.dst_multicast ? "broadcast or multicast" : "unknown"));
		json_object_set_new(l2, "decision", json_string("flood"));
		flood = json_array();
		mem = psw_l2_members[d.net];
		for (unsigned i = 0; mem && i < mem->n; i++) {
			if (mem->port[i] == in_port)
				continue;
			json_array_append_new(flood, json_string(psw_rpc_port_name(mem->port[i], name)));
			output(t, h, mem->port[i], "normal flood");
		}
		step(t, "normal: flood %s to %zu other port(s) of network %s",
		     d.dst_multicast ? "broadcast/multicast" : "unknown unicast",
		     json_array_size(flood), net);
		if (json_array_size(flood) == 0)
			t->drop = "hairpin";
		json_object_set_new(l2, "flood", flood);
		break;
	default:
		json_object_set_new(l2, "decision", json_string("drop"));
		json_object_set_new(l2, "drop", json_string(psw_drop_names[d.drop_reason]));
		step(t, "normal: drop (%s)", psw_drop_texts[d.drop_reason]);
		t->drop = psw_drop_names[d.drop_reason];
		break;
	}
	json_decref(t->l2);
	t->l2 = l2;
}

static void
run_actions(struct trace *t, struct hdr *h, const struct psw_rule *rule, uint16_t in_port)
{
	char name[PSW_NAME_MAX], mac[18];
	bool sent = false;

	for (unsigned i = 0; i < rule->n_actions; i++) {
		const struct psw_action *a = &rule->actions[i];

		switch (a->type) {
		case PSW_ACT_OUTPUT:
			if (a->port == in_port) {
				step(t, "output:%s: skipped, it is the input port",
				     psw_rpc_port_name(a->port, name));
				if (!sent && i + 1 == rule->n_actions)
					t->drop = "hairpin";
				break;
			}
			step(t, "output:%s", psw_rpc_port_name(a->port, name));
			output(t, h, a->port, "output");
			sent = true;
			break;
		case PSW_ACT_NORMAL:
			normal(t, h, in_port);
			sent = true;
			break;
		case PSW_ACT_DROP:
			step(t, "drop");
			t->drop = "action_drop";
			return;
		case PSW_ACT_SET_ETH_SRC:
			h->src = a->mac;
			step(t, "mod_dl_src:%s", psw_rpc_mac_str(&a->mac, mac));
			break;
		case PSW_ACT_SET_ETH_DST:
			h->dst = a->mac;
			step(t, "mod_dl_dst:%s", psw_rpc_mac_str(&a->mac, mac));
			break;
		case PSW_ACT_PUSH_VLAN:
			if (h->n_tags < MAX_TAGS) {
				memmove(&h->vid[1], &h->vid[0], sizeof(h->vid[0]) * h->n_tags);
				h->n_tags++;
			}
			h->vid[0] = a->vlan_tci & PSW_VLAN_VID_MASK;
			step(t, "push_vlan:%u", h->vid[0]);
			break;
		case PSW_ACT_POP_VLAN:
			if (h->n_tags) {
				step(t, "pop_vlan: removed VLAN %u", h->vid[0]);
				memmove(&h->vid[0], &h->vid[1], sizeof(h->vid[0]) * (h->n_tags - 1));
				h->n_tags--;
			} else {
				step(t, "pop_vlan: no tag, nothing to do");
			}
			break;
		case PSW_ACT_ENCAP_VXLAN:
		case PSW_ACT_DECAP_VXLAN:
			if (psw_actions_tunnel == NULL) {
				step(t, "%s: no tunnel support: drop (tunnel)",
				     a->type == PSW_ACT_ENCAP_VXLAN ? "encap_vxlan" : "decap_vxlan");
				t->drop = "tunnel";
				return;
			}
			if (a->type == PSW_ACT_ENCAP_VXLAN)
				step(t, "encap_vxlan: VNI %u (the outer headers are not traced)",
				     a->vxlan.vni);
			else
				step(t, "decap_vxlan");
			break;
		default:
			step(t, "action %u: unknown: drop", a->type);
			t->drop = "tunnel";
			return;
		}
	}
	if (!sent && !t->drop) {
		step(t, "no output action: drop");
		t->drop = "action_drop";
	}
}

json_t *
psw_rpc_trace(json_t *params, struct psw_rpc_error *err)
{
	static const struct psw_rpc_param spec[] = {
		{"packet", PSW_T_OBJECT, true},
		{NULL},
	};
	json_t *pkt, *res, *rule_j = json_null();
	struct psw_flow_match m;
	const struct psw_rule *rule = NULL;
	struct trace t = {0};
	struct hdr h = {0};
	char name[PSW_NAME_MAX];
	uint16_t in_port;

	if (psw_rpc_check_params(params, spec, err) < 0)
		return NULL;
	pkt = json_object_get(params, "packet");
	if (!json_object_get(pkt, "in_port"))
		return psw_rpc_err(err, PSW_RPC_INVALID_PARAMS,
				   "packet.in_port: required (the port the packet arrives on)");
	if (psw_rpc_match_from_json(pkt, true, &m, "packet", err) < 0)
		return NULL;
	in_port = m.key.in_port;
	h.src = m.key.dl_src;
	h.dst = m.key.dl_dst;
	if (m.key.vlan_tci & RTE_BE16(PSW_VLAN_PRESENT)) {
		h.vid[0] = rte_be_to_cpu_16(m.key.vlan_tci) & PSW_VLAN_VID_MASK;
		h.n_tags = 1;
	}
	t.steps = json_array();
	t.outputs = json_array();
	if (psw_flow_cls)
		rule = psw_classifier_lookup(psw_flow_cls, &m.key);
	if (rule) {
		const struct psw_flow_entry *e = (const struct psw_flow_entry *)
			((const char *)rule->owner - offsetof(struct psw_flow_entry, res));

		rule_j = json_pack("{sI sI sI so so}", "id", (json_int_t)e->id,
				   "priority", (json_int_t)rule->priority,
				   "cookie", (json_int_t)rule->cookie,
				   "match", psw_rpc_match_to_json(&rule->match),
				   "actions", psw_rpc_actions_to_json(rule->actions, rule->n_actions));
		step(&t, "rule %llu (priority %u) matched", (unsigned long long)e->id, rule->priority);
		run_actions(&t, &h, rule, in_port);
	} else {
		uint16_t out = psw_ports[in_port].output;

		if (out != PSW_PORT_NONE && out != in_port) {
			step(&t, "no rule matched: static output of %s",
			     psw_rpc_port_name(in_port, name));
			output(&t, &h, out, "static output");
		} else {
			step(&t, "no rule matched and %s has no static output: drop",
			     psw_rpc_port_name(in_port, name));
			t.drop = out == in_port ? "hairpin" : "no_rule";
		}
	}
	res = json_pack("{ss so so so so}", "in_port", psw_rpc_port_name(in_port, name),
			"rule", rule_j, "steps", t.steps, "outputs", t.outputs,
			"l2", t.l2 ? t.l2 : json_null());
	if (t.drop && json_array_size(t.outputs) == 0)
		json_object_set_new(res, "drop", json_string(t.drop));
	return res;
}
