/*
 * rpc_neigh.c: the underlay in JSON (control thread).
 *   uplink.set {"port", "ip": "192.0.2.1/24", "gateway"?, "ip6"?: "2001:db8::1/64",
 *               "gateway6"?}    the uplink and this node's underlay addresses
 *   uplink.show {}            the uplink, its addresses and the resolver's counters
 *   uplink.clear {}
 *   neigh.list {}             next hops: address, MAC, state, age, held, dropped
 *   neigh.add {"ip", "mac"}   a static neighbor;  neigh.del {"ip"};  neigh.flush {}
 * uplink.set and the static neighbors are saved in the state file.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ether.h>

#include "core/change.h"
#include "neigh/neigh.h"
#include "neigh/rpc_neigh.h"
#include "port/port.h"

static json_t *uplink_params;   /* uplink.set's params as given, NULL: no uplink */

/* "addr/len" (or "addr" when len_required is false) into buf (4 or 16 bytes). */
static int
cidr(const char *s, int af, uint8_t *buf, uint8_t *len, bool len_required)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *slash = s ? strchr(s, '/') : NULL;
	unsigned max = af == AF_INET ? 32 : 128;
	char *end;
	long l;

	if (s == NULL)
		return -1;
	if (slash == NULL) {
		if (len_required)
			return -1;
		*len = (uint8_t)max;
		return inet_pton(af, s, buf) == 1 ? 0 : -1;
	}
	if ((size_t)(slash - s) >= sizeof(ip))
		return -1;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	l = strtol(slash + 1, &end, 10);
	if (*end != '\0' || end == slash + 1 || l < 1 || l > (long)max - 1)
		return -1;
	*len = (uint8_t)l;
	return inet_pton(af, ip, buf) == 1 ? 0 : -1;
}

static json_t *
rpc_uplink_set(json_t *params, struct psw_rpc_error *err)
{
	static const struct psw_rpc_param spec[] = {
		{"port", PSW_T_STRING, true},
		{"ip", PSW_T_STRING, false},
		{"gateway", PSW_T_STRING, false},
		{"ip6", PSW_T_STRING, false},
		{"gateway6", PSW_T_STRING, false},
		{NULL},
	};
	uint8_t ip6[16], gw6[16], plen4 = 0, plen6 = 0, l;
	rte_be32_t ip4 = 0, gw4 = 0;
	const struct psw_port *p;
	const char *s;
	char msg[256];

	if (psw_rpc_check_params(params, spec, err) != 0)
		return NULL;
	s = json_string_value(json_object_get(params, "port"));
	p = psw_port_by_name(s);
	if (p == NULL)
		return psw_rpc_err(err, PSW_RPC_NOT_FOUND, "port: no port \"%s\"", s);
	if (p->tunnel != PSW_TUNNEL_NONE)
		return psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "port: %s is a transport port", s);
	if (!json_object_get(params, "ip") && !json_object_get(params, "ip6"))
		return psw_rpc_err(err, PSW_RPC_INVALID_PARAMS,
				   "ip: the uplink needs an underlay address (ip or ip6)");
	s = json_string_value(json_object_get(params, "ip"));
	if (s != NULL && cidr(s, AF_INET, (uint8_t *)&ip4, &plen4, true) != 0)
		return psw_rpc_err(err, PSW_RPC_INVALID_PARAMS,
				   "ip: must be an IPv4 address with its prefix, e.g. 192.0.2.1/24");
	s = json_string_value(json_object_get(params, "gateway"));
	if (s != NULL && (ip4 == 0 || cidr(s, AF_INET, (uint8_t *)&gw4, &l, false) != 0 ||
			  ((gw4 ^ ip4) & rte_cpu_to_be_32(~(UINT32_MAX >> plen4))) != 0))
		return psw_rpc_err(err, PSW_RPC_INVALID_PARAMS,
				   "gateway: must be an IPv4 address in the ip's subnet");
	s = json_string_value(json_object_get(params, "ip6"));
	if (s != NULL && cidr(s, AF_INET6, ip6, &plen6, true) != 0)
		return psw_rpc_err(err, PSW_RPC_INVALID_PARAMS,
				   "ip6: must be an IPv6 address with its prefix, e.g. 2001:db8::1/64");
	s = json_string_value(json_object_get(params, "gateway6"));
	if (s != NULL && (!json_object_get(params, "ip6") || cidr(s, AF_INET6, gw6, &l, false) != 0))
		return psw_rpc_err(err, PSW_RPC_INVALID_PARAMS,
				   "gateway6: must be an IPv6 address (with ip6)");
	if (psw_neigh_set_uplink(p->id, ip4, plen4, gw4, json_object_get(params, "ip6") ? ip6 : NULL,
				 plen6, json_object_get(params, "gateway6") ? gw6 : NULL, msg,
				 sizeof(msg)) != 0)
		return psw_rpc_err(err, PSW_RPC_FAILED, "%s", msg);
	json_decref(uplink_params);
	uplink_params = json_deep_copy(params);
	psw_change_notify();
	return json_object();
}

json_t *
psw_rpc_uplink_dump(void)
{
	json_t *a = json_array();

	if (uplink_params != NULL && psw_underlay != NULL)
		json_array_append(a, uplink_params);
	return a;
}

json_t *
psw_rpc_uplink_set(json_t *params, struct psw_rpc_error *err)
{
	return rpc_uplink_set(params, err);
}

static json_t *
rpc_uplink_show(json_t *params, struct psw_rpc_error *err)
{
	static const struct psw_rpc_param spec[] = {{NULL}};
	const struct psw_underlay *u = psw_underlay;
	struct psw_neigh_stats st;
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	json_t *o;

	if (psw_rpc_check_params(params, spec, err) != 0)
		return NULL;
	if (u == NULL || uplink_params == NULL)
		return json_pack("{s:n}", "port");
	psw_neigh_read_stats(&st);
	rte_ether_format_addr(mac, sizeof(mac), &u->mac);
	o = json_deep_copy(uplink_params);
	json_object_set_new(o, "mac", json_string(mac));
	json_object_set_new(o, "mtu", json_integer(u->mtu));
	json_object_set_new(o, "requests", json_integer((json_int_t)st.requests));
	json_object_set_new(o, "learned", json_integer((json_int_t)st.learned));
	json_object_set_new(o, "held", json_integer((json_int_t)st.held));
	json_object_set_new(o, "sent_held", json_integer((json_int_t)st.sent_held));
	json_object_set_new(o, "dropped", json_integer((json_int_t)st.dropped));
	json_object_set_new(o, "lost_events", json_integer((json_int_t)st.lost_events));
	return o;
}

void
psw_rpc_uplink_port_gone(uint16_t port)
{
	if (psw_underlay != NULL && psw_underlay->port == port) {
		psw_neigh_clear_uplink();
		json_decref(uplink_params);
		uplink_params = NULL;
	}
}

static json_t *
rpc_uplink_clear(json_t *params, struct psw_rpc_error *err)
{
	static const struct psw_rpc_param spec[] = {{NULL}};

	if (psw_rpc_check_params(params, spec, err) != 0)
		return NULL;
	psw_neigh_clear_uplink();
	json_decref(uplink_params);
	uplink_params = NULL;
	psw_change_notify();
	return json_object();
}

/* "ip" (v4 or v6) into a 16-byte address. */
static int
ip_param(json_t *params, uint8_t addr[16], bool *v6, struct psw_rpc_error *err)
{
	const char *s = json_string_value(json_object_get(params, "ip"));

	memset(addr, 0, 16);
	if (s != NULL && inet_pton(AF_INET, s, addr) == 1) {
		*v6 = false;
		return 0;
	}
	if (s != NULL && inet_pton(AF_INET6, s, addr) == 1) {
		*v6 = true;
		return 0;
	}
	psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "ip: must be an IPv4 or IPv6 address");
	return -1;
}

static const char *
addr_str(const uint8_t addr[16], bool v6, char *buf, size_t len)
{
	return inet_ntop(v6 ? AF_INET6 : AF_INET, addr, buf, (socklen_t)len);
}

static const char *const state_names[] = {
	[PSW_NEIGH_INCOMPLETE] = "incomplete",
	[PSW_NEIGH_REACHABLE] = "reachable",
	[PSW_NEIGH_STATIC] = "static",
};

static int
list_one(const struct psw_neigh_info *in, void *arg)
{
	char ip[INET6_ADDRSTRLEN], mac[RTE_ETHER_ADDR_FMT_SIZE];

	rte_ether_format_addr(mac, sizeof(mac), &in->mac);
	json_array_append_new(arg, json_pack("{ss ss ss sf si si sI}",
		"ip", addr_str(in->addr, in->v6, ip, sizeof(ip)),
		"mac", in->state == PSW_NEIGH_INCOMPLETE ? "" : mac,
		"state", state_names[in->state], "age_s", in->age_s, "probes", (int)in->probes,
		"held", (int)in->held, "dropped", (json_int_t)in->dropped));
	return 0;
}

static json_t *
rpc_neigh_list(json_t *params, struct psw_rpc_error *err)
{
	static const struct psw_rpc_param spec[] = {{NULL}};
	json_t *a;

	if (psw_rpc_check_params(params, spec, err) != 0)
		return NULL;
	a = json_array();
	psw_neigh_foreach(list_one, a);
	return json_pack("{so}", "neighbors", a);
}

static int
static_one(const struct psw_neigh_info *in, void *arg)
{
	char ip[INET6_ADDRSTRLEN], mac[RTE_ETHER_ADDR_FMT_SIZE];

	if (in->state != PSW_NEIGH_STATIC)
		return 0;
	rte_ether_format_addr(mac, sizeof(mac), &in->mac);
	json_array_append_new(arg, json_pack("{ss ss}", "ip",
					     addr_str(in->addr, in->v6, ip, sizeof(ip)), "mac", mac));
	return 0;
}

json_t *
psw_rpc_neigh_static_dump(void)
{
	json_t *a = json_array();

	psw_neigh_foreach(static_one, a);
	return a;
}

json_t *
psw_rpc_neigh_add(json_t *params, struct psw_rpc_error *err)
{
	static const struct psw_rpc_param spec[] = {
		{"ip", PSW_T_STRING, true},
		{"mac", PSW_T_STRING, true},
		{NULL},
	};
	struct rte_ether_addr mac;
	uint8_t addr[16];
	bool v6;

	if (psw_rpc_check_params(params, spec, err) != 0 || ip_param(params, addr, &v6, err) != 0)
		return NULL;
	if (rte_ether_unformat_addr(json_string_value(json_object_get(params, "mac")), &mac) != 0 ||
	    !rte_is_unicast_ether_addr(&mac) || rte_is_zero_ether_addr(&mac))
		return psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "mac: must be a unicast MAC address");
	if (psw_neigh_add_static(addr, v6, &mac) != 0)
		return psw_rpc_err(err, PSW_RPC_FAILED, "ip: no room for another neighbor");
	psw_change_notify();
	return json_object();
}

static json_t *
rpc_neigh_del(json_t *params, struct psw_rpc_error *err)
{
	static const struct psw_rpc_param spec[] = {
		{"ip", PSW_T_STRING, true},
		{NULL},
	};
	uint8_t addr[16];
	bool v6;

	if (psw_rpc_check_params(params, spec, err) != 0 || ip_param(params, addr, &v6, err) != 0)
		return NULL;
	if (psw_neigh_del(addr, v6) != 0)
		return psw_rpc_err(err, PSW_RPC_NOT_FOUND, "ip: no neighbor %s",
				   json_string_value(json_object_get(params, "ip")));
	psw_change_notify();
	return json_object();
}

static json_t *
rpc_neigh_flush(json_t *params, struct psw_rpc_error *err)
{
	static const struct psw_rpc_param spec[] = {{NULL}};

	if (psw_rpc_check_params(params, spec, err) != 0)
		return NULL;
	return json_pack("{si}", "flushed", (int)psw_neigh_flush());
}

const struct psw_rpc_method psw_rpc_neigh_methods[] = {
	{"uplink.set", rpc_uplink_set},
	{"uplink.show", rpc_uplink_show},
	{"uplink.clear", rpc_uplink_clear},
	{"neigh.list", rpc_neigh_list},
	{"neigh.add", psw_rpc_neigh_add},
	{"neigh.del", rpc_neigh_del},
	{"neigh.flush", rpc_neigh_flush},
	{NULL, NULL},
};
