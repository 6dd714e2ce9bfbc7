/*
 * flow_json.c: a rule <-> JSON (control thread): the match object, the action list, a
 * whole rule (object or ovs-ofctl-like text). The one codec behind flow.* RPCs, trace
 * and the state file. Every check happens here, before anything changes; messages name
 * the field: "rules[2].match.nw_src: needs dl_type=0x0800 (ip)".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/flow_text.h"
#include "flow/flow_json.h"
#include "port/port.h"

#define ERR_INVALID(err, ...) psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, __VA_ARGS__)

static int
parse_mac(const char *s, struct rte_ether_addr *mac)
{
	unsigned b[6];
	int n = 0;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &n) != 6 || n != 17)
		return -1;
	for (int i = 0; i < 6; i++)
		mac->addr_bytes[i] = (uint8_t)b[i];
	return 0;
}

/* "mac[/mask]" */
static int
parse_mac_mask(const char *s, bool packet, struct rte_ether_addr *mac,
	       struct rte_ether_addr *mask)
{
	const char *slash = strchr(s, '/');
	char a[32];

	if (!slash) {
		memset(mask, 0xff, sizeof(*mask));
		return parse_mac(s, mac);
	}
	if (packet || (size_t)(slash - s) >= sizeof(a))
		return -1;
	memcpy(a, s, slash - s);
	a[slash - s] = '\0';
	return parse_mac(a, mac) < 0 || parse_mac(slash + 1, mask) < 0 ? -1 : 0;
}

/* "addr[/len|/mask]" for af into addr and mask (4 or 16 bytes). */
static int
parse_ip_mask(int af, const char *s, bool packet, uint8_t *addr, uint8_t *mask)
{
	size_t len = af == AF_INET ? 4 : 16;
	const char *slash = strchr(s, '/');
	char a[64];
	char *end;
	unsigned long plen;

	if ((slash ? (size_t)(slash - s) : strlen(s)) >= sizeof(a))
		return -1;
	snprintf(a, sizeof(a), "%.*s", slash ? (int)(slash - s) : (int)strlen(s), s);
	if (inet_pton(af, a, addr) != 1)
		return -1;
	if (!slash) {
		memset(mask, 0xff, len);
		return 0;
	}
	if (packet || !slash[1])
		return -1;
	if (inet_pton(af, slash + 1, mask) == 1)
		goto apply;
	errno = 0;
	plen = strtoul(slash + 1, &end, 10);
	if (errno || *end || slash[1] < '0' || slash[1] > '9' || plen > len * 8)
		return -1;
	psw_prefix_mask128(mask, (unsigned)plen);
apply:
	for (size_t i = 0; i < len; i++)
		addr[i] &= mask[i];
	return 0;
}


static const char *const match_keys[] = {
	"in_port", "dl_src", "dl_dst", "dl_vlan", "dl_type", "nw_src", "nw_dst", "ipv6_src",
	"ipv6_dst", "nw_proto", "tp_src", "tp_dst", "icmp_type", "tun_id", NULL,
};

static const char *
prereq_text(const char *field)
{
	if (!strcmp(field, "nw_src") || !strcmp(field, "nw_dst"))
		return "needs dl_type=0x0800 (ip)";
	if (!strcmp(field, "ipv6_src") || !strcmp(field, "ipv6_dst"))
		return "needs dl_type=0x86dd (ipv6)";
	if (!strcmp(field, "nw_proto"))
		return "needs dl_type ip or ipv6";
	if (!strcmp(field, "icmp_type") || !strcmp(field, "icmp_code"))
		return "needs icmp (ip,nw_proto=1) or icmp6 (ipv6,nw_proto=58)";
	if (!strcmp(field, "tp_src") || !strcmp(field, "tp_dst"))
		return "needs nw_proto tcp (6), udp (17) or sctp (132) with ip or ipv6";
	return "has an unmet prerequisite";
}

int
psw_flow_match_from_json(json_t *match, bool packet, struct psw_flow_match *m,
			const char *where, struct psw_rpc_error *err)
{
	struct psw_flow_key *k = &m->key, *mk = &m->mask;
	const char *key, *s, *bad;
	json_t *v;
	uint64_t u;

	memset(m, 0, sizeof(*m));
	if (!json_is_object(match)) {
		ERR_INVALID(err, "%s: must be an object", where);
		return -1;
	}
	json_object_foreach(match, key, v) {
		bool known = false;

		for (int i = 0; match_keys[i]; i++)
			known |= !strcmp(key, match_keys[i]);
		if (!known) {
			ERR_INVALID(err, "%s.%s: unknown field (fields: in_port dl_src dl_dst dl_vlan "
				    "dl_type nw_src nw_dst ipv6_src ipv6_dst nw_proto tp_src tp_dst "
				    "icmp_type tun_id)", where, key);
			return -1;
		}
		s = json_string_value(v);
		if (!strcmp(key, "in_port")) {
			const struct psw_port *p = s ? psw_port_by_name(s) : NULL;

			if (!s) {
				ERR_INVALID(err, "%s.in_port: must be a port name", where);
				return -1;
			}
			if (!p) {
				psw_rpc_err(err, PSW_RPC_NOT_FOUND, "%s.in_port: unknown port '%s'",
					    where, s);
				return -1;
			}
			k->in_port = p->id;
			mk->in_port = 0xffff;
		} else if (!strcmp(key, "dl_src") || !strcmp(key, "dl_dst")) {
			bool src = key[3] == 's';

			if (!s || parse_mac_mask(s, packet, src ? &k->dl_src : &k->dl_dst,
						 src ? &mk->dl_src : &mk->dl_dst) < 0) {
				ERR_INVALID(err, "%s.%s: bad MAC%s '%s'", where, key,
					    packet ? "" : " (aa:bb:cc:dd:ee:ff[/mask])",
					    s ? s : "(not a string)");
				return -1;
			}
		} else if (!strcmp(key, "nw_src") || !strcmp(key, "nw_dst") ||
			   !strcmp(key, "ipv6_src") || !strcmp(key, "ipv6_dst")) {
			bool v6 = key[2] == 'v';
			bool src = strstr(key, "src") != NULL;
			uint8_t *a = src ? k->ipv6_src : k->ipv6_dst;
			uint8_t *am = src ? mk->ipv6_src : mk->ipv6_dst;

			if (!s || parse_ip_mask(v6 ? AF_INET6 : AF_INET, s, packet, a, am) < 0) {
				ERR_INVALID(err, "%s.%s: bad %s %s '%s'", where, key,
					    v6 ? "IPv6" : "IPv4", packet ? "address" : "address or prefix",
					    s ? s : "(not a string)");
				return -1;
			}
		} else {
			uint64_t max = !strcmp(key, "dl_vlan") ? 4095 :
				       !strcmp(key, "dl_type") ? 0xffff :
				       !strcmp(key, "nw_proto") || !strcmp(key, "icmp_type") ? 255 :
				       !strcmp(key, "tun_id") ? 0xffffff : 65535;

			if (psw_json_uint(v, max, &u) < 0) {
				ERR_INVALID(err, "%s.%s: must be an integer in 0..%" PRIu64, where, key,
					    max);
				return -1;
			}
			if (!strcmp(key, "dl_vlan")) {
				k->vlan_tci = rte_cpu_to_be_16(PSW_VLAN_PRESENT | u);
				mk->vlan_tci = rte_cpu_to_be_16(PSW_VLAN_PRESENT | PSW_VLAN_VID_MASK);
			} else if (!strcmp(key, "dl_type")) {
				k->dl_type = rte_cpu_to_be_16(u);
				mk->dl_type = 0xffff;
			} else if (!strcmp(key, "nw_proto")) {
				k->nw_proto = u;
				mk->nw_proto = 0xff;
			} else if (!strcmp(key, "tun_id")) {
				k->tun_id = u;
				mk->tun_id = UINT32_MAX;
			} else if (!strcmp(key, "tp_dst")) {
				k->tp_dst = rte_cpu_to_be_16(u);
				mk->tp_dst = 0xffff;
			} else {
				if (mk->tp_src) {
					ERR_INVALID(err, "%s.%s: tp_src and icmp_type are the same field; "
						    "give one", where, key);
					return -1;
				}
				k->tp_src = rte_cpu_to_be_16(u);
				mk->tp_src = 0xffff;
			}
		}
	}
	if (packet)
		return 0;
	{
		static const char *const l3[] = {"nw_src", "nw_dst", "ipv6_src", "ipv6_dst"};

		for (int i = 0; i < 4; i++) {
			rte_be16_t want = RTE_BE16(i < 2 ? 0x0800 : 0x86dd);

			if (json_object_get(match, l3[i]) && (!mk->dl_type || k->dl_type != want)) {
				ERR_INVALID(err, "%s.%s: %s", where, l3[i], prereq_text(l3[i]));
				return -1;
			}
		}
	}
	if (json_object_get(match, "icmp_type")) {
		bool ok = mk->nw_proto && mk->dl_type &&
			  ((k->nw_proto == 1 && k->dl_type == RTE_BE16(0x0800)) ||
			   (k->nw_proto == 58 && k->dl_type == RTE_BE16(0x86dd)));

		if (!ok) {
			ERR_INVALID(err, "%s.icmp_type: %s", where, prereq_text("icmp_type"));
			return -1;
		}
	}
	bad = psw_flow_match_check(m);
	if (bad) {
		if (!strcmp(bad, "icmp_type") && json_object_get(match, "tp_src"))
			bad = "tp_src";
		if (!strcmp(bad, "icmp_code"))
			bad = "tp_dst";
		ERR_INVALID(err, "%s.%s: %s", where, bad, prereq_text(bad));
		return -1;
	}
	psw_flow_match_normalize(m);
	return 0;
}

static bool
all_ones(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0xff)
			return false;
	return true;
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Prefix length of mask, or -1 if not contiguous. */
static int
prefix_len(const uint8_t *mask, size_t n)
{
	int bits = 0;
	size_t i;

	for (i = 0; i < n && mask[i] == 0xff; i++)
		bits += 8;
	if (i < n) {
		uint8_t b = mask[i];

		while (b & 0x80) {
			bits++;
			b <<= 1;
		}
		if (b)
			return -1;
		for (i++; i < n; i++)
			if (mask[i])
				return -1;
	}
	return bits;
}

static json_t *
ip_json(int af, const uint8_t *addr, const uint8_t *mask)
{
	size_t n = af == AF_INET ? 4 : 16;
	char a[INET6_ADDRSTRLEN], mk[INET6_ADDRSTRLEN], buf[2 * INET6_ADDRSTRLEN + 2];
	int plen = prefix_len(mask, n);

	inet_ntop(af, addr, a, sizeof(a));
	if (plen == (int)n * 8)
		return json_string(a);
	if (plen >= 0) {
		snprintf(buf, sizeof(buf), "%s/%d", a, plen);
		return json_string(buf);
	}
	inet_ntop(af, mask, mk, sizeof(mk));
	snprintf(buf, sizeof(buf), "%s/%s", a, mk);
	return json_string(buf);
}

static json_t *
mac_json(const struct rte_ether_addr *mac, const struct rte_ether_addr *mask)
{
	char a[18], m[18], buf[40];

	psw_mac_str(mac, a);
	if (all_ones(mask->addr_bytes, 6))
		return json_string(a);
	snprintf(buf, sizeof(buf), "%s/%s", a, psw_mac_str(mask, m));
	return json_string(buf);
}

json_t *
psw_flow_match_to_json(const struct psw_flow_match *m)
{
	const struct psw_flow_key *k = &m->key, *mk = &m->mask;
	json_t *j = json_object();
	bool ip6 = mk->dl_type && k->dl_type == RTE_BE16(0x86dd);
	bool icmp = mk->nw_proto && (k->nw_proto == 1 || k->nw_proto == 58);
	char name[PSW_NAME_MAX];

	if (mk->in_port)
		json_object_set_new(j, "in_port", json_string(psw_port_name(k->in_port, name)));
	if (!all_zero(mk->dl_src.addr_bytes, 6))
		json_object_set_new(j, "dl_src", mac_json(&k->dl_src, &mk->dl_src));
	if (!all_zero(mk->dl_dst.addr_bytes, 6))
		json_object_set_new(j, "dl_dst", mac_json(&k->dl_dst, &mk->dl_dst));
	if (mk->vlan_tci & RTE_BE16(PSW_VLAN_VID_MASK))
		json_object_set_new(j, "dl_vlan",
				    json_integer(rte_be_to_cpu_16(k->vlan_tci) & PSW_VLAN_VID_MASK));
	if (mk->dl_type)
		json_object_set_new(j, "dl_type", json_integer(rte_be_to_cpu_16(k->dl_type)));
	if (ip6) {
		if (!all_zero(mk->ipv6_src, 16))
			json_object_set_new(j, "ipv6_src", ip_json(AF_INET6, k->ipv6_src, mk->ipv6_src));
		if (!all_zero(mk->ipv6_dst, 16))
			json_object_set_new(j, "ipv6_dst", ip_json(AF_INET6, k->ipv6_dst, mk->ipv6_dst));
	} else {
		if (mk->nw_src)
			json_object_set_new(j, "nw_src", ip_json(AF_INET, k->ipv6_src, mk->ipv6_src));
		if (mk->nw_dst)
			json_object_set_new(j, "nw_dst", ip_json(AF_INET, k->ipv6_dst, mk->ipv6_dst));
	}
	if (mk->nw_proto)
		json_object_set_new(j, "nw_proto", json_integer(k->nw_proto));
	if (mk->tp_src)
		json_object_set_new(j, icmp ? "icmp_type" : "tp_src",
				    json_integer(rte_be_to_cpu_16(k->tp_src)));
	if (mk->tp_dst)
		json_object_set_new(j, "tp_dst", json_integer(rte_be_to_cpu_16(k->tp_dst)));
	if (mk->tun_id)
		json_object_set_new(j, "tun_id", json_integer(k->tun_id));
	return j;
}

json_t *
psw_flow_actions_to_json(const struct psw_action *a, unsigned n)
{
	json_t *arr = json_array();
	char buf[PSW_NAME_MAX];

	for (unsigned i = 0; i < n; i++) {
		json_t *o = NULL;

		switch (a[i].type) {
		case PSW_ACT_OUTPUT:
			o = json_pack("{ss ss}", "type", "output",
				      "port", psw_port_name(a[i].port, buf));
			break;
		case PSW_ACT_DROP:
			o = json_pack("{ss}", "type", "drop");
			break;
		case PSW_ACT_NORMAL:
			o = json_pack("{ss}", "type", "normal");
			break;
		case PSW_ACT_SET_ETH_SRC:
		case PSW_ACT_SET_ETH_DST:
			o = json_pack("{ss ss}", "type",
				      a[i].type == PSW_ACT_SET_ETH_SRC ? "set_eth_src" : "set_eth_dst",
				      "mac", psw_mac_str(&a[i].mac, buf));
			break;
		case PSW_ACT_PUSH_VLAN:
			o = json_pack("{ss sI}", "type", "push_vlan",
				      "vid", (json_int_t)(a[i].vlan_tci & PSW_VLAN_VID_MASK));
			break;
		case PSW_ACT_POP_VLAN:
			o = json_pack("{ss}", "type", "pop_vlan");
			break;
		case PSW_ACT_ENCAP_VXLAN:
			o = json_pack("{ss sI}", "type", "encap_vxlan", "vni", (json_int_t)a[i].vxlan.vni);
			if (a[i].vxlan.remote) {
				char ip[INET_ADDRSTRLEN];

				inet_ntop(AF_INET, &a[i].vxlan.remote, ip, sizeof(ip));
				json_object_set_new(o, "remote", json_string(ip));
			}
			break;
		case PSW_ACT_DECAP_VXLAN:
			o = json_pack("{ss}", "type", "decap_vxlan");
			break;
		default:
			o = json_pack("{sI}", "type_id", (json_int_t)a[i].type);
			break;
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

static int
actions_from_json(json_t *arr, struct psw_rule *r, const char *where, struct psw_rpc_error *err)
{
	size_t i;
	json_t *a;

	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		ERR_INVALID(err, "%s.actions: must be a non-empty array", where);
		return -1;
	}
	if (json_array_size(arr) > PSW_MAX_ACTIONS) {
		ERR_INVALID(err, "%s.actions: at most %d actions", where, PSW_MAX_ACTIONS);
		return -1;
	}
	json_array_foreach(arr, i, a) {
		const char *type = json_string_value(json_object_get(a, "type"));
		struct psw_action *act = &r->actions[i];
		const char *arg = NULL, *s;
		size_t n_keys = json_object_size(a);

		memset(act, 0, sizeof(*act));
		if (!json_is_object(a) || !type) {
			ERR_INVALID(err, "%s.actions[%zu]: must be an object with a \"type\"", where, i);
			return -1;
		}
		if (!strcmp(type, "output")) {
			const struct psw_port *p;

			arg = "port";
			s = json_string_value(json_object_get(a, "port"));
			if (!s) {
				ERR_INVALID(err, "%s.actions[%zu].port: must be a port name", where, i);
				return -1;
			}
			p = psw_port_by_name(s);
			if (!p) {
				psw_rpc_err(err, PSW_RPC_NOT_FOUND,
					    "%s.actions[%zu].port: unknown port '%s'", where, i, s);
				return -1;
			}
			act->type = PSW_ACT_OUTPUT;
			act->port = p->id;
		} else if (!strcmp(type, "drop") || !strcmp(type, "normal") ||
			   !strcmp(type, "pop_vlan")) {
			act->type = type[0] == 'd' ? PSW_ACT_DROP :
				    type[0] == 'n' ? PSW_ACT_NORMAL : PSW_ACT_POP_VLAN;
			if (act->type == PSW_ACT_DROP && json_array_size(arr) > 1) {
				ERR_INVALID(err, "%s.actions[%zu]: 'drop' must be the only action",
					    where, i);
				return -1;
			}
		} else if (!strcmp(type, "set_eth_src") || !strcmp(type, "set_eth_dst")) {
			arg = "mac";
			s = json_string_value(json_object_get(a, "mac"));
			if (!s || parse_mac(s, &act->mac) < 0) {
				ERR_INVALID(err, "%s.actions[%zu].mac: bad MAC '%s'", where, i,
					    s ? s : "(missing)");
				return -1;
			}
			act->type = type[8] == 's' ? PSW_ACT_SET_ETH_SRC : PSW_ACT_SET_ETH_DST;
		} else if (!strcmp(type, "push_vlan")) {
			uint64_t vid;

			arg = "vid";
			if (psw_json_uint(json_object_get(a, "vid"), 4095, &vid) < 0) {
				ERR_INVALID(err, "%s.actions[%zu].vid: must be an integer in 0..4095",
					    where, i);
				return -1;
			}
			act->type = PSW_ACT_PUSH_VLAN;
			act->vlan_tci = (uint16_t)vid;
		} else if (!strcmp(type, "encap_vxlan")) {
			uint64_t vni;
			json_t *rem = json_object_get(a, "remote");

			arg = "vni";
			if (psw_json_uint(json_object_get(a, "vni"), 0xffffff, &vni) < 0) {
				ERR_INVALID(err, "%s.actions[%zu].vni: must be an integer in 0..16777215",
					    where, i);
				return -1;
			}
			act->type = PSW_ACT_ENCAP_VXLAN;
			act->vxlan.vni = (uint32_t)vni;
			if (rem) {
				s = json_string_value(rem);
				if (!s || inet_pton(AF_INET, s, &act->vxlan.remote) != 1) {
					ERR_INVALID(err, "%s.actions[%zu].remote: bad IPv4 address", where, i);
					return -1;
				}
				n_keys--;
			}
		} else if (!strcmp(type, "decap_vxlan")) {
			act->type = PSW_ACT_DECAP_VXLAN;
		} else {
			ERR_INVALID(err, "%s.actions[%zu].type: unknown action '%s' (output, drop, "
				    "normal, set_eth_src, set_eth_dst, push_vlan, pop_vlan, encap_vxlan, "
				    "decap_vxlan)", where, i, type);
			return -1;
		}
		if (n_keys != 1u + (arg != NULL)) {
			const char *k;
			json_t *v;

			json_object_foreach(a, k, v)
				if (strcmp(k, "type") && (!arg || strcmp(k, arg)) &&
				    (act->type != PSW_ACT_ENCAP_VXLAN || strcmp(k, "remote")))
					break;
			ERR_INVALID(err, "%s.actions[%zu].%s: unknown key for action '%s'", where, i,
				    k ? k : "?", type);
			return -1;
		}
	}
	r->n_actions = json_array_size(arr);
	return 0;
}

static const struct psw_rpc_param rule_spec[] = {
	{"priority", PSW_T_UINT, false},
	{"cookie", PSW_T_UINT, false},
	{"match", PSW_T_OBJECT, false},
	{"actions", PSW_T_ARRAY, true},
	{NULL},
};

/* One rule (object or text) -> a new entry; NULL with err set. */
struct psw_flow_entry *
psw_flow_entry_from_json(json_t *rule, const char *where, struct psw_rpc_error *err)
{
	struct psw_flow_entry *e;
	json_t *parsed = NULL, *v, *empty = NULL;
	char w[64], terr[256];
	uint64_t prio = PSW_FLOW_DEFAULT_PRIORITY;

	if (json_is_string(rule)) {
		parsed = psw_flow_text_parse(json_string_value(rule), PSW_FT_RULE, terr,
					     sizeof(terr));
		if (!parsed) {
			ERR_INVALID(err, "%s: %s", where, terr);
			return NULL;
		}
		rule = parsed;
	}
	if (!json_is_object(rule)) {
		ERR_INVALID(err, "%s: must be a rule object or a rule string", where);
		return NULL;
	}
	if (psw_rpc_check_params(rule, rule_spec, err) < 0) {
		char msg[PSW_RPC_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s", err->message);
		ERR_INVALID(err, "%s: %s", where, msg);
		goto fail_json;
	}
	v = json_object_get(rule, "priority");
	if (v && psw_json_uint(v, 65535, &prio) < 0) {
		ERR_INVALID(err, "%s.priority: must be an integer in 0..65535", where);
		goto fail_json;
	}
	e = psw_flow_entry_new();
	if (!e) {
		psw_rpc_err(err, PSW_RPC_INTERNAL_ERROR, "out of memory");
		goto fail_json;
	}
	e->rule.priority = (uint32_t)prio;
	v = json_object_get(rule, "cookie");
	e->rule.cookie = v ? (uint64_t)json_integer_value(v) : 0;
	snprintf(w, sizeof(w), "%s%smatch", where, where[0] ? "." : "");
	v = json_object_get(rule, "match");
	if (!v)
		v = empty = json_object();
	if (psw_flow_match_from_json(v, false, &e->rule.match, w, err) < 0 ||
	    actions_from_json(json_object_get(rule, "actions"), &e->rule, where[0] ? where : "rule",
			      err) < 0) {
		json_decref(empty);
		psw_flow_entry_free(e);
		goto fail_json;
	}
	json_decref(empty);
	json_decref(parsed);
	return e;
fail_json:
	json_decref(parsed);
	return NULL;
}

