/*
 * rpc_network.c: the network.* and fdb.* methods (control thread): networks (bridge
 * domains) and their MAC tables. JSON stays here; the tables live in l2.c.
 *   network.add {"name"}            network.del {"name"}      network.list {}
 *   network.join {"port","network"} network.leave {"port"}
 *   fdb.list {"network"?}           fdb.flush {"network"?, "port"?}
 *   fdb.add {"network","mac","port"}: a static entry (never aged, not moved by learning)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/change.h"
#include "core/clock.h"
#include "l2/bind.h"
#include "l2/l2.h"
#include "l2/rpc_network.h"
#include "port/port.h"

static const struct psw_rpc_param name_spec[] = {
	{"name", PSW_T_STRING, true},
	{NULL},
};

static const struct psw_rpc_param no_spec[] = {{NULL}};

/* network.add params beyond the name: l2's own, then what extensions take. */
#define MAX_EXT 4
static const struct psw_network_ext *exts[MAX_EXT];
static unsigned n_exts;
/* Each network's gateway as given ("10.244.1.1/24"), for network.list, the state file
 * and a host port in the network. */
static char gateways[PSW_L2_MAX_NETS][64];

int
psw_rpc_network_extend(const struct psw_network_ext *ext)
{
	/* Once per extension: a second start in one process (tests) adds nothing. */
	for (unsigned i = 0; i < n_exts; i++)
		if (exts[i] == ext)
			return 0;
	if (n_exts == MAX_EXT)
		return -ENOSPC;
	exts[n_exts++] = ext;
	return 0;
}

const char *
psw_rpc_network_gateway(uint16_t net)
{
	return net < PSW_L2_MAX_NETS && gateways[net][0] ? gateways[net] : NULL;
}

/* "a.b.c.d/len" with a host part: a gateway. */
static bool
gateway_ok(const char *s)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	unsigned char buf[16];
	char *end;
	long len;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(ip))
		return false;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	len = strtol(slash + 1, &end, 10);
	if (*end != '\0' || end == slash + 1)
		return false;
	if (inet_pton(AF_INET, ip, buf) == 1)
		return len >= 1 && len <= 31;
	return inet_pton(AF_INET6, ip, buf) == 1 && len >= 1 && len <= 127;
}

/* Is key a network.add param (l2's or an extension's)? */
static bool
known_key(const char *key)
{
	if (!strcmp(key, "name") || !strcmp(key, "gateway"))
		return true;
	for (unsigned i = 0; i < n_exts; i++)
		for (const char *const *k = exts[i]->keys; *k; k++)
			if (!strcmp(key, *k))
				return true;
	return false;
}

json_t *
psw_rpc_network_add(json_t *params, struct psw_rpc_error *err)
{
	const char *key, *name, *gw;
	char msg[256];
	json_t *v;
	int rc;

	if (!json_is_object(params))
		return psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "params: must be an object");
	json_object_foreach(params, key, v)
		if (!known_key(key))
			return psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "%s: unknown parameter", key);
	name = json_string_value(json_object_get(params, "name"));
	if (name == NULL)
		return psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "name: required, a string");
	v = json_object_get(params, "gateway");
	gw = json_string_value(v);
	if (v != NULL && (gw == NULL || strlen(gw) >= sizeof(gateways[0]) || !gateway_ok(gw)))
		return psw_rpc_err(err, PSW_RPC_INVALID_PARAMS,
				   "gateway: must be an address with its prefix, e.g. 10.244.1.1/24");
	/* Every extension checks its params before anything changes. */
	for (unsigned i = 0; i < n_exts; i++)
		if (exts[i]->check(params, err) != 0)
			return NULL;
	rc = psw_l2_network_add(name, msg, sizeof(msg));
	if (rc < 0)
		return psw_rpc_err(err, rc == -EEXIST ? PSW_RPC_EXISTS :
				   rc == -ENOSPC ? PSW_RPC_FAILED : PSW_RPC_INVALID_PARAMS, "%s", msg);
	for (unsigned i = 0; i < n_exts; i++) {
		if (exts[i]->apply((uint16_t)rc, name, params, err) == 0)
			continue;
		/* Undo: the extensions applied so far, then the network. */
		while (i-- > 0)
			exts[i]->removed((uint16_t)rc);
		psw_l2_network_del(name, msg, sizeof(msg));
		return NULL;
	}
	snprintf(gateways[rc], sizeof(gateways[rc]), "%s", gw ? gw : "");
	psw_change_notify();
	return json_pack("{si}", "id", rc);
}

static json_t *
rpc_network_del(json_t *params, struct psw_rpc_error *err)
{
	const struct psw_l2_members *m;
	const char *name;
	char msg[256];
	uint16_t net;
	int rc;

	if (psw_rpc_check_params(params, name_spec, err) < 0)
		return NULL;
	name = json_string_value(json_object_get(params, "name"));
	net = psw_l2_network_id(name);
	if (net == 0)
		return psw_rpc_err(err, PSW_RPC_NOT_FOUND, "name: no network '%s'", name);
	/* Pods' ports keep a network; its transport's ports go with it. */
	m = psw_l2_members[net];
	if (m != NULL && m->n_local > 0)
		return psw_rpc_err(err, PSW_RPC_BUSY, "name: network '%s' still has %u port(s)",
				   name, m->n_local);
	for (unsigned i = n_exts; i-- > 0;)
		exts[i]->removed(net);
	rc = psw_l2_network_del(name, msg, sizeof(msg));
	if (rc < 0)
		return psw_rpc_err(err, rc == -ENOENT ? PSW_RPC_NOT_FOUND :
				   rc == -EBUSY ? PSW_RPC_BUSY : PSW_RPC_FAILED, "%s", msg);
	gateways[net][0] = '\0';
	psw_change_notify();
	return json_object();
}

json_t *
psw_rpc_network_params(uint16_t net)
{
	json_t *o = json_pack("{ss}", "name", psw_l2_network_name(net));

	if (gateways[net][0])
		json_object_set_new(o, "gateway", json_string(gateways[net]));
	for (unsigned i = 0; i < n_exts; i++)
		exts[i]->describe(net, o, false);
	return o;
}

static int
count_macs(const struct psw_fdb_entry *e, void *arg)
{
	(void)e;
	(*(unsigned *)arg)++;
	return 0;
}

static json_t *
rpc_network_list(json_t *params, struct psw_rpc_error *err)
{
	json_t *nets;
	char name[PSW_NAME_MAX];

	if (psw_rpc_check_params(params, no_spec, err) < 0)
		return NULL;
	nets = json_array();
	for (uint16_t n = psw_l2_network_next(0); n; n = psw_l2_network_next(n)) {
		const struct psw_l2_members *m = psw_l2_members[n];
		json_t *ports = json_array(), *o = psw_rpc_network_params(n);
		unsigned macs = 0;

		for (unsigned i = 0; m && i < m->n; i++)
			json_array_append_new(ports, json_string(psw_port_name(m->port[i], name)));
		psw_l2_fdb_foreach(n, count_macs, &macs);
		json_object_set_new(o, "id", json_integer(n));
		json_object_set_new(o, "ports", ports);
		json_object_set_new(o, "macs", json_integer(macs));
		for (unsigned i = 0; i < n_exts; i++)
			exts[i]->describe(n, o, true);
		json_array_append_new(nets, o);
	}
	return json_pack("{so si si}", "networks", nets, "mac_aging_s", psw_l2_aging_s(),
			 "mac_limit_per_port", psw_l2_max_macs);
}

static const struct psw_port *
port_param(json_t *params, const char *key, struct psw_rpc_error *err)
{
	const char *s = json_string_value(json_object_get(params, key));
	const struct psw_port *p = s ? psw_port_by_name(s) : NULL;

	if (!p)
		psw_rpc_err(err, PSW_RPC_NOT_FOUND, "%s: unknown port '%s'", key, s ? s : "");
	return p;
}

static json_t *
rpc_network_join(json_t *params, struct psw_rpc_error *err)
{
	static const struct psw_rpc_param spec[] = {
		{"port", PSW_T_STRING, true},
		{"network", PSW_T_STRING, true},
		{NULL},
	};
	const struct psw_port *p;
	const char *net;
	int rc;

	if (psw_rpc_check_params(params, spec, err) < 0 || !(p = port_param(params, "port", err)))
		return NULL;
	net = json_string_value(json_object_get(params, "network"));
	rc = psw_l2_port_join(p->id, net);
	if (rc == -ENOENT)
		return psw_rpc_err(err, PSW_RPC_NOT_FOUND, "network: no network '%s'", net);
	if (rc < 0)
		return psw_rpc_err(err, PSW_RPC_FAILED, "network: cannot join: %s", strerror(-rc));
	psw_change_notify();
	return json_object();
}

static json_t *
rpc_network_leave(json_t *params, struct psw_rpc_error *err)
{
	static const struct psw_rpc_param spec[] = {
		{"port", PSW_T_STRING, true},
		{NULL},
	};
	const struct psw_port *p;

	if (psw_rpc_check_params(params, spec, err) < 0 || !(p = port_param(params, "port", err)))
		return NULL;
	psw_l2_port_leave(p->id);
	psw_change_notify();
	return json_object();
}

static uint16_t
net_param(json_t *params, bool *bad, struct psw_rpc_error *err)
{
	const char *s = json_string_value(json_object_get(params, "network"));
	uint16_t n;

	*bad = false;
	if (!s)
		return 0;
	n = psw_l2_network_id(s);
	if (!n) {
		*bad = true;
		psw_rpc_err(err, PSW_RPC_NOT_FOUND, "network: no network '%s'", s);
	}
	return n;
}

struct list_ctx {
	json_t *arr;
	uint64_t now;
};

static int
list_one(const struct psw_fdb_entry *e, void *arg)
{
	struct list_ctx *c = arg;
	struct rte_ether_addr mac;
	char m[18], port[PSW_NAME_MAX];
	uint64_t seen = __atomic_load_n(&e->seen, __ATOMIC_RELAXED);

	for (int b = 0; b < 6; b++)
		mac.addr_bytes[b] = (uint8_t)(e->key >> (40 - 8 * b));
	json_array_append_new(c->arr, json_pack("{ss ss ss sI sb}",
		"network", psw_l2_network_name(e->net), "mac", psw_mac_str(&mac, m),
		"port", psw_port_name(e->port, port),
		"age_s", (json_int_t)(c->now > seen ? c->now - seen : 0),
		"static", e->is_static));
	return 0;
}

static json_t *
rpc_fdb_list(json_t *params, struct psw_rpc_error *err)
{
	static const struct psw_rpc_param spec[] = {
		{"network", PSW_T_STRING, false},
		{NULL},
	};
	struct list_ctx c;
	uint16_t net;
	bool bad;

	if (psw_rpc_check_params(params, spec, err) < 0)
		return NULL;
	net = net_param(params, &bad, err);
	if (bad)
		return NULL;
	c.arr = json_array();
	c.now = psw_clock_s();
	psw_l2_fdb_foreach(net, list_one, &c);
	return json_pack("{so}", "entries", c.arr);
}

json_t *
psw_rpc_fdb_add(json_t *params, struct psw_rpc_error *err)
{
	static const struct psw_rpc_param spec[] = {
		{"network", PSW_T_STRING, true},
		{"mac", PSW_T_STRING, true},
		{"port", PSW_T_STRING, true},
		{NULL},
	};
	const char *s;
	const struct psw_port *p;
	struct rte_ether_addr mac;
	uint16_t net;
	bool bad;

	if (psw_rpc_check_params(params, spec, err) < 0)
		return NULL;
	net = net_param(params, &bad, err);
	if (bad)
		return NULL;
	s = json_string_value(json_object_get(params, "mac"));
	if (rte_ether_unformat_addr(s, &mac) < 0 || !rte_is_unicast_ether_addr(&mac) ||
	    rte_is_zero_ether_addr(&mac))
		return psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "mac: '%s' is not a unicast MAC", s);
	if (!(p = port_param(params, "port", err)))
		return NULL;
	if (psw_l2_port_net[p->id] != net)
		return psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "port: '%s' is not in network '%s'",
				   p->name, psw_l2_network_name(net));
	if (psw_l2_fdb_add_static(net, &mac, p->id) < 0)
		return psw_rpc_err(err, PSW_RPC_FAILED, "mac: cannot add (out of memory)");
	psw_change_notify();
	return json_object();
}

static json_t *
rpc_fdb_flush(json_t *params, struct psw_rpc_error *err)
{
	static const struct psw_rpc_param spec[] = {
		{"network", PSW_T_STRING, false},
		{"port", PSW_T_STRING, false},
		{NULL},
	};
	const struct psw_port *p = NULL;
	unsigned n;
	uint16_t net;
	bool bad;

	if (psw_rpc_check_params(params, spec, err) < 0)
		return NULL;
	net = net_param(params, &bad, err);
	if (bad)
		return NULL;
	if (json_object_get(params, "port") && !(p = port_param(params, "port", err)))
		return NULL;
	n = psw_l2_fdb_flush(net, p ? p->id : PSW_PORT_NONE);
	psw_change_notify(); /* static entries may be gone */
	return json_pack("{si}", "flushed", n);
}

static int
binding_json(const struct psw_l2_bind_info *in, void *arg)
{
	char ip[INET6_ADDRSTRLEN], mac[18], port[PSW_NAME_MAX];

	json_array_append_new(arg, json_pack("{ss ss ss ss sb sI}", "network",
		psw_l2_network_name(in->net), "ip", inet_ntop(in->v6 ? AF_INET6 : AF_INET, in->ip, ip,
							      sizeof(ip)),
		"mac", psw_mac_str(&in->mac, mac), "port", psw_port_name(in->port, port),
		"learned", in->learned, "age_s", (json_int_t)in->age_s));
	return 0;
}

/* network.bindings {"network"?}: the IP -> MAC bindings ARP suppression answers from. */
static json_t *
rpc_network_bindings(json_t *params, struct psw_rpc_error *err)
{
	static const struct psw_rpc_param spec[] = {
		{"network", PSW_T_STRING, false},
		{NULL},
	};
	const char *name;
	uint16_t net = 0;
	json_t *a;

	if (psw_rpc_check_params(params, spec, err) < 0)
		return NULL;
	name = json_string_value(json_object_get(params, "network"));
	if (name != NULL && (net = psw_l2_network_id(name)) == 0)
		return psw_rpc_err(err, PSW_RPC_NOT_FOUND, "network: no network '%s'", name);
	a = json_array();
	psw_l2_bind_foreach(net, binding_json, a);
	return json_pack("{so}", "bindings", a);
}

const struct psw_rpc_method psw_rpc_network_methods[] = {
	{"network.bindings", rpc_network_bindings},
	{"network.add", psw_rpc_network_add},
	{"network.del", rpc_network_del},
	{"network.list", rpc_network_list},
	{"network.join", rpc_network_join},
	{"network.leave", rpc_network_leave},
	{"fdb.list", rpc_fdb_list},
	{"fdb.add", psw_rpc_fdb_add},
	{"fdb.flush", rpc_fdb_flush},
	{NULL, NULL},
};

/* What port.add's "network" and port.get need of networks (port/rpc_port.h). */
static const char *
port_network(uint16_t port)
{
	uint16_t net = psw_l2_port_net[port];

	return net != PSW_L2_NET_NONE ? psw_l2_network_name(net) : NULL;
}

static bool
network_exists(const char *name)
{
	return psw_l2_network_id(name) != 0;
}

/* port.add's "addresses": {"mac": "02:..", "ips": ["10.244.1.5/24", ...]}. */
static int
port_addresses(uint16_t port, json_t *a, struct psw_rpc_error *err)
{
	const char *ips[16];
	struct rte_ether_addr mac;
	json_t *list = json_object_get(a, "ips"), *v;
	const char *key;
	char msg[256];
	size_t i;

	json_object_foreach(a, key, v)
		if (strcmp(key, "mac") && strcmp(key, "ips")) {
			psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "addresses.%s: unknown field", key);
			return -1;
		}
	if (!json_is_string(json_object_get(a, "mac")) ||
	    rte_ether_unformat_addr(json_string_value(json_object_get(a, "mac")), &mac) != 0 ||
	    !rte_is_unicast_ether_addr(&mac) || rte_is_zero_ether_addr(&mac)) {
		psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "addresses.mac: must be the pod's unicast MAC");
		return -1;
	}
	if (!json_is_array(list) || json_array_size(list) > 16) {
		psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "addresses.ips: must be an array of addresses");
		return -1;
	}
	json_array_foreach(list, i, v) {
		ips[i] = json_string_value(v);
		if (ips[i] == NULL) {
			psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "addresses.ips[%zu]: must be a string", i);
			return -1;
		}
	}
	if (port == PSW_PORT_NONE)
		return 0;   /* a check only */
	if (psw_l2_bind_set_port(port, &mac, ips, (unsigned)json_array_size(list), msg,
				 sizeof(msg)) != 0) {
		psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "%s", msg);
		return -1;
	}
	return 0;
}

static const char *
network_gateway(const char *name)
{
	return psw_rpc_network_gateway(psw_l2_network_id(name));
}

const struct psw_port_net_ops psw_l2_port_net_ops = {
	.network_of = port_network,
	.exists = network_exists,
	.join = psw_l2_port_join,
	.gateway_of = network_gateway,
	.addresses = port_addresses,
};
