/*
 * rpc_port.c: the port.* methods (control thread). Checks params strictly, turns a
 * pod-side type into devargs through its back end (port/backend.h), adds the port to
 * the registry (port.c), and remembers the validated params ("spec") of every port so the
 * state file can replay them. A failing call changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>

#include "port/backend.h"
#include "port/port.h"
#include "ctl/rpc.h"
#include "core/burst.h"
#include "core/change.h"
#include "port/rpc_port.h"

static const struct psw_port_net_ops *net_ops;

void
psw_rpc_port_set_net_ops(const struct psw_port_net_ops *ops)
{
	net_ops = ops;
}

static const char *
net_of(uint16_t port)
{
	return net_ops != NULL ? net_ops->network_of(port) : NULL;
}

struct spec {
	json_t *params; /* port.add params as given, minus "output" */
	uint64_t seq;   /* creation order */
};

static struct spec specs[PSW_MAX_PORTS];
static uint64_t next_seq = 1;

static const struct psw_rpc_param add_params[] = {
	{"name", PSW_T_STRING, true},
	{"type", PSW_T_STRING, false},
	{"devargs", PSW_T_STRING, false},
	{"options", PSW_T_OBJECT, false},
	{"output", PSW_T_STRING, false},
	{"rxq", PSW_T_UINT, false},
	{"txq", PSW_T_UINT, false},
	{"mtu", PSW_T_UINT, false},
	{"mac", PSW_T_STRING, false},
	{"network", PSW_T_STRING, false},
	{"external_ids", PSW_T_OBJECT, false},
	{"addresses", PSW_T_OBJECT, false},
	{"rxq_pmd", PSW_T_OBJECT, false},
	{NULL},
};

static const struct psw_rpc_param name_params[] = {
	{"name", PSW_T_STRING, true},
	{NULL},
};

bool
psw_rpc_port_exists(const char *name)
{
	return psw_port_by_name(name) != NULL;
}

static json_t *
counters_json(uint16_t id)
{
	struct psw_port_counters c;
	json_t *by = json_object();
	uint64_t total = 0;

	psw_port_read_counters(id, &c);
	for (unsigned r = 0; r < PSW_DROP_MAX; r++) {
		json_object_set_new(by, psw_drop_names[r], json_integer((json_int_t)c.drops[r]));
		total += c.drops[r];
	}
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:o}",
			 "rx_packets", (json_int_t)c.rx_packets, "rx_bytes", (json_int_t)c.rx_bytes,
			 "tx_packets", (json_int_t)c.tx_packets, "tx_bytes", (json_int_t)c.tx_bytes,
			 "tx_drops", (json_int_t)c.tx_drops, "drops", (json_int_t)total,
			 "drops_by_reason", by);
}

json_t *
psw_rpc_port_stats_json(uint16_t id)
{
	json_t *o = counters_json(id);

	json_object_set_new(o, "name", json_string(psw_ports[id].name));
	return o;
}

static bool
is_pmd_core(unsigned core)
{
	for (unsigned i = 0; i < psw_n_pmds; i++)
		if (psw_pmds[i] != NULL && psw_pmds[i]->lcore == core)
			return true;
	return false;
}

/* rxq_pmd {"QUEUE": CORE, ...} (OVS's pmd-rxq-affinity) for a port of n_rxq rx queues.
 * strict: every core must run a PMD (port.set). port.add keeps a pin to a core that runs
 * no PMD (after pmd_cpus changed, a restore must not lose the port): the queue floats. */
static int
parse_pins(json_t *v, uint16_t n_rxq, bool strict, uint16_t *pinned, uint16_t *cores,
	   struct psw_rpc_error *err)
{
	const char *k;
	json_t *x;

	*pinned = 0;
	json_object_foreach(v, k, x) {
		char *end;
		unsigned long q = strtoul(k, &end, 10);

		if (k[0] < '0' || k[0] > '9' || *end != '\0' || q >= n_rxq) {
			psw_rpc_err(err, PSW_RPC_INVALID_PARAMS,
				    "rxq_pmd.%s: not an rx queue of the port (0..%u)", k, n_rxq - 1u);
			return -1;
		}
		if (!json_is_integer(x) || json_integer_value(x) < 0 ||
		    json_integer_value(x) >= RTE_MAX_LCORE) {
			psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "rxq_pmd.%s: must be a core id", k);
			return -1;
		}
		if (strict && !is_pmd_core((unsigned)json_integer_value(x))) {
			psw_rpc_err(err, PSW_RPC_INVALID_PARAMS,
				    "rxq_pmd.%s: core %lld runs no PMD (see pmd_cpus)", k,
				    (long long)json_integer_value(x));
			return -1;
		}
		*pinned |= (uint16_t)(1u << q);
		cores[q] = (uint16_t)json_integer_value(x);
	}
	return 0;
}

/* The port's pins as rxq_pmd. */
static json_t *
pins_json(const struct psw_port *p)
{
	json_t *o = json_object();
	char k[8];

	for (unsigned q = 0; q < PSW_MAX_QUEUES; q++) {
		if (!(p->rxq_pinned & (1u << q)))
			continue;
		snprintf(k, sizeof(k), "%u", q);
		json_object_set_new(o, k, json_integer(p->rxq_core[q]));
	}
	return o;
}

static json_t *
port_json(const struct psw_port *p)
{
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	const json_t *spec = specs[p->id].params;
	json_t *o, *v;
	const struct psw_backend *be;

	rte_ether_format_addr(mac, sizeof(mac), &p->mac);
	o = json_pack("{s:s,s:i,s:s,s:s,s:i,s:s,s:s,s:i,s:i,s:i}",
		      "name", p->name, "id", p->id, "type", p->type, "devargs", p->devargs,
		      "dpdk_port", p->io || p->tunnel ? -1 : p->dpdk_port, "driver", p->driver, "mac", mac,
		      "mtu", p->mtu, "rxq", p->n_rxq, "txq", p->n_txq);
	json_object_set_new(o, "link", json_pack("{s:b,s:i,s:s}", "up", p->link_up,
						 "speed_mbps", (int)p->link_speed, "duplex",
						 p->link_full_duplex ? "full" : "half"));
	json_object_set_new(o, "output", p->output != PSW_PORT_NONE && psw_port_get(p->output)
				 ? json_string(psw_ports[p->output].name) : json_null());
	json_object_set_new(o, "network", net_of(p->id) ? json_string(net_of(p->id)) : json_null());
	json_object_set_new(o, "rxq_pmd", pins_json(p));
	/* The tx queue each PMD sends on, and whether they share under the lock (fewer
	 * queues, or fewer enabled by the peer, than PMDs). */
	v = json_array();
	for (unsigned i = 0; i < psw_n_pmds; i++)
		json_array_append_new(v, json_integer(p->txq_of[i]));
	json_object_set_new(o, "pmd_txq", v);
	json_object_set_new(o, "tx_shared", json_boolean(p->tx_shared));
	v = spec ? json_object_get(spec, "external_ids") : NULL;
	json_object_set_new(o, "external_ids", v ? json_deep_copy(v) : json_object());
	v = spec ? json_object_get(spec, "options") : NULL;
	json_object_set_new(o, "options", v ? json_deep_copy(v) : json_object());
	v = spec ? json_object_get(spec, "addresses") : NULL;
	json_object_set_new(o, "addresses", v ? json_deep_copy(v) : json_null());
	be = psw_backend_find(p->type);
	if (be != NULL && be->describe != NULL)
		be->describe(p->name, json_object_get(spec, "options"), o);
	json_object_set_new(o, "stats", counters_json(p->id));
	return o;
}

/* An optional integer param in min..max into *out (untouched when absent). */
static int
opt_range(json_t *params, const char *key, json_int_t min, json_int_t max, uint16_t *out,
	  struct psw_rpc_error *err)
{
	json_t *v = json_object_get(params, key);

	if (v == NULL)
		return 0;
	if (json_integer_value(v) < min || json_integer_value(v) > max) {
		psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "%s: must be %lld..%lld", key,
			    (long long)min, (long long)max);
		return -1;
	}
	*out = (uint16_t)json_integer_value(v);
	return 0;
}

static int
fill_conf(json_t *params, struct psw_port_conf *conf, const struct psw_backend **be,
	  struct psw_rpc_error *err)
{
	json_t *v;
	const char *s;

	memset(conf, 0, sizeof(*conf));
	conf->output = PSW_PORT_NONE;
	snprintf(conf->name, sizeof(conf->name), "%s",
		 json_string_value(json_object_get(params, "name")));
	if (!psw_port_name_valid(json_string_value(json_object_get(params, "name")))) {
		psw_rpc_err(err, PSW_RPC_INVALID_PARAMS,
			    "name: \"%s\" is not valid: use 1-63 characters of A-Z a-z 0-9 _ . -",
			    json_string_value(json_object_get(params, "name")));
		return -1;
	}
	if (psw_port_by_name(conf->name) != NULL) {
		psw_rpc_err(err, PSW_RPC_EXISTS, "name: port \"%s\" exists", conf->name);
		return -1;
	}
	/* check_params made it a string when present. */
	s = json_string_value(json_object_get(params, "type"));
	if (s == NULL)
		s = "dpdk";
	if (strlen(s) >= sizeof(conf->type)) {
		psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "type: unknown port type \"%s\"", s);
		return -1;
	}
	snprintf(conf->type, sizeof(conf->type), "%s", s);
	*be = NULL;
	if (strcmp(s, "dpdk") == 0) {
		v = json_object_get(params, "devargs");
		if (v == NULL || json_string_length(v) == 0) {
			psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "devargs: required for type dpdk");
			return -1;
		}
		if (json_string_length(v) >= sizeof(conf->devargs)) {
			psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "devargs: longer than %zu",
				    sizeof(conf->devargs) - 1);
			return -1;
		}
		snprintf(conf->devargs, sizeof(conf->devargs), "%s", json_string_value(v));
		v = json_object_get(params, "options");
		if (v != NULL && json_object_size(v) != 0) {
			psw_rpc_err(err, PSW_RPC_INVALID_PARAMS,
				    "options: type dpdk takes none (put them in devargs)");
			return -1;
		}
	} else {
		*be = psw_backend_find(s);
		if (*be == NULL) {
			psw_rpc_err(err, PSW_RPC_INVALID_PARAMS,
				    "type: unknown port type \"%s\" (dpdk, vhost-user, memif, tap)", s);
			return -1;
		}
		if (json_object_get(params, "devargs") != NULL) {
			psw_rpc_err(err, PSW_RPC_INVALID_PARAMS,
				    "devargs: only for type dpdk; type %s takes options", s);
			return -1;
		}
	}
	v = json_object_get(params, "output");
	if (v != NULL) {
		const struct psw_port *o = psw_port_by_name(json_string_value(v));

		if (o == NULL) {
			psw_rpc_err(err, PSW_RPC_NOT_FOUND, "output: no port \"%s\"",
				    json_string_value(v));
			return -1;
		}
		conf->output = o->id;
	}
	if (opt_range(params, "rxq", 1, PSW_MAX_QUEUES, &conf->n_rxq, err) != 0 ||
	    opt_range(params, "txq", 1, PSW_MAX_QUEUES, &conf->n_txq, err) != 0 ||
	    opt_range(params, "mtu", 68, 9600, &conf->mtu, err) != 0)
		return -1;
	if ((v = json_object_get(params, "mac")) != NULL) {
		if (rte_ether_unformat_addr(json_string_value(v), &conf->mac) != 0 ||
		    !rte_is_unicast_ether_addr(&conf->mac) || rte_is_zero_ether_addr(&conf->mac)) {
			psw_rpc_err(err, PSW_RPC_INVALID_PARAMS,
				    "mac: \"%s\" is not a unicast MAC address", json_string_value(v));
			return -1;
		}
		conf->mac_set = true;
	}
	if ((v = json_object_get(params, "network")) != NULL &&
	    (net_ops == NULL || !net_ops->exists(json_string_value(v)))) {
		psw_rpc_err(err, PSW_RPC_NOT_FOUND, "network: no network \"%s\"",
			    json_string_value(v));
		return -1;
	}
	if ((v = json_object_get(params, "external_ids")) != NULL) {
		const char *k;
		json_t *x;

		json_object_foreach(v, k, x) {
			if (!json_is_string(x)) {
				psw_rpc_err(err, PSW_RPC_INVALID_PARAMS,
					    "external_ids.%s: must be a string", k);
				return -1;
			}
		}
	}
	return 0;
}

static json_t *
port_add(json_t *params, struct psw_rpc_error *err)
{
	const struct psw_backend *be;
	struct psw_port_conf conf;
	json_t *options, *spec;
	char msg[PSW_RPC_MSG_MAX];
	int id;

	if (psw_rpc_check_params(params, add_params, err) != 0)
		return NULL;
	if (fill_conf(params, &conf, &be, err) != 0)
		return NULL;
	if (json_object_get(params, "addresses") != NULL &&
	    (net_ops == NULL || net_ops->addresses(PSW_PORT_NONE, json_object_get(params, "addresses"),
						   err) != 0))
		return net_ops == NULL ? psw_rpc_err(err, PSW_RPC_FAILED, "addresses: no networks") : NULL;
	options = json_object_get(params, "options");
	/* A multi-queue pod port (vhost-user "queues") is polled on every queue it may
	 * enable, unless rxq says otherwise. */
	if (conf.n_rxq == 0 && json_is_integer(json_object_get(options, "queues")) &&
	    json_integer_value(json_object_get(options, "queues")) > 1 &&
	    json_integer_value(json_object_get(options, "queues")) <= PSW_MAX_QUEUES)
		conf.n_rxq = (uint16_t)json_integer_value(json_object_get(options, "queues"));
	if (json_object_get(params, "rxq_pmd") != NULL &&
	    parse_pins(json_object_get(params, "rxq_pmd"), conf.n_rxq ? conf.n_rxq : 1, false,
		       &conf.rxq_pinned, conf.rxq_core, err) != 0)
		return NULL;
	if (be != NULL && be->create != NULL) {
		const struct psw_port_io *io;

		if (be->create(conf.name, options, &conf, &io, err) != 0)
			return NULL;
		id = psw_port_add_io(&conf, io, msg, sizeof(msg));
	} else {
		int saved = -1, in_ns = 0;

		if (be != NULL &&
		    be->prepare(conf.name, options, conf.devargs, sizeof(conf.devargs), err) != 0)
			return NULL;
		if (be != NULL && be->enter != NULL &&
		    (in_ns = be->enter(conf.name, options, &saved, err)) < 0) {
			if (be->removed)
				be->removed(conf.name, options);
			return NULL;
		}
		id = psw_port_add(&conf, false, msg, sizeof(msg));
		if (in_ns > 0)
			be->leave(saved);
	}
	if (id < 0) {
		if (be != NULL && be->removed)
			be->removed(conf.name, options);
		return psw_rpc_err(err, id == -EEXIST ? PSW_RPC_EXISTS : PSW_RPC_FAILED,
				   "port %s: %s", conf.name, msg);
	}
	if (be != NULL && be->started != NULL &&
	    be->started(conf.name, psw_ports[id].dpdk_port, options, err) != 0) {
		psw_port_del((uint16_t)id, msg, sizeof(msg));
		if (be->removed)
			be->removed(conf.name, options);
		return NULL;
	}
	if (json_object_get(params, "network") != NULL) {
		int rc = net_ops->join((uint16_t)id,
				       json_string_value(json_object_get(params, "network")));

		if (rc != 0) {
			psw_port_del((uint16_t)id, msg, sizeof(msg));
			if (be != NULL && be->removed)
				be->removed(conf.name, options);
			return psw_rpc_err(err, PSW_RPC_FAILED, "network: cannot join: %s",
					   strerror(-rc));
		}
	}
	if (json_object_get(params, "addresses") != NULL &&
	    net_ops->addresses((uint16_t)id, json_object_get(params, "addresses"), err) != 0) {
		psw_port_del((uint16_t)id, msg, sizeof(msg));
		if (be != NULL && be->removed)
			be->removed(conf.name, options);
		return NULL;
	}
	spec = json_deep_copy(params);
	json_object_del(spec, "output");
	/* A tap keeps its MAC across a restart (it is the pod's own interface, and a new
	 * random MAC would stale every neighbour's cache): save the one it got. */
	if (be != NULL && be->keep_mac && json_object_get(spec, "mac") == NULL) {
		char mac[RTE_ETHER_ADDR_FMT_SIZE];

		rte_ether_format_addr(mac, sizeof(mac), &psw_ports[id].mac);
		json_object_set_new(spec, "mac", json_string(mac));
	}
	specs[id].params = spec;
	specs[id].seq = next_seq++;
	psw_change_notify();
	return port_json(&psw_ports[id]);
}

/* A back end that carries the network's gateway (a host port) gets it as its address
 * when port.add gives none: a copy of params with options.address(6) set, or NULL. */
static json_t *
with_gateway(json_t *params)
{
	const struct psw_backend *be = psw_backend_find(json_string_value(json_object_get(params, "type")));
	const char *net = json_string_value(json_object_get(params, "network")), *gw;
	json_t *copy, *options;

	if (be == NULL || !be->gateway || net == NULL || net_ops == NULL ||
	    net_ops->gateway_of == NULL || (gw = net_ops->gateway_of(net)) == NULL)
		return NULL;
	options = json_object_get(params, "options");
	if (options != NULL && (!json_is_object(options) || json_object_get(options, "address") ||
				json_object_get(options, "address6")))
		return NULL;
	copy = json_deep_copy(params);
	if (json_object_get(copy, "options") == NULL)
		json_object_set_new(copy, "options", json_object());
	json_object_set_new(json_object_get(copy, "options"), strchr(gw, ':') ? "address6" : "address",
			    json_string(gw));
	return copy;
}

json_t *
psw_rpc_port_add(json_t *params, struct psw_rpc_error *err)
{
	json_t *copy = json_is_object(params) ? with_gateway(params) : NULL;
	json_t *r = port_add(copy ? copy : params, err);

	json_decref(copy);
	return r;
}

/* A network's transport port is changed through its network (network.add, peers). */
static json_t *
refuse_tunnel(const struct psw_port *p, struct psw_rpc_error *err)
{
	const char *net = net_of(p->id);

	return psw_rpc_err(err, PSW_RPC_BUSY, "name: port \"%s\" is the %s transport of network "
			   "\"%s\"; change the network instead", p->name, p->type, net ? net : "?");
}

json_t *
psw_rpc_port_del(json_t *params, struct psw_rpc_error *err)
{
	const struct psw_backend *be;
	struct psw_port *p;
	char msg[PSW_RPC_MSG_MAX], name[PSW_NAME_MAX];
	json_t *spec;
	uint16_t id;

	if (psw_rpc_check_params(params, name_params, err) != 0)
		return NULL;
	p = psw_port_by_name(json_string_value(json_object_get(params, "name")));
	if (p == NULL)
		return psw_rpc_err(err, PSW_RPC_NOT_FOUND, "name: no port \"%s\"",
				   json_string_value(json_object_get(params, "name")));
	if (p->tunnel != PSW_TUNNEL_NONE)
		return refuse_tunnel(p, err);
	id = p->id;
	snprintf(name, sizeof(name), "%s", p->name);
	be = psw_backend_find(p->type);
	if (psw_port_del(id, msg, sizeof(msg)) != 0)
		return psw_rpc_err(err, PSW_RPC_FAILED, "port %s: %s", name, msg);
	spec = specs[id].params;
	if (be != NULL && be->removed != NULL)
		be->removed(name, json_object_get(spec, "options"));
	json_decref(spec);
	specs[id].params = NULL;
	psw_change_notify();
	return json_object();
}

static const struct psw_rpc_param set_params[] = {
	{"name", PSW_T_STRING, true},
	{"output", PSW_T_ANY, false},
	{"rxq_pmd", PSW_T_OBJECT, false},
	{NULL},
};

/* port.set rxq_pmd: pin (or, with {}, unpin) the port's rx queues; remembered in its spec,
 * so the state file restores them with the port. */
static int
set_pins(struct psw_port *p, json_t *v, struct psw_rpc_error *err)
{
	uint16_t pinned, cores[PSW_MAX_QUEUES] = {0};
	json_t *spec = specs[p->id].params;
	int rc;

	if (parse_pins(v, p->n_rxq, true, &pinned, cores, err) != 0)
		return -1;
	rc = psw_port_set_rxq_pins(p->id, pinned, cores);
	if (rc != 0) {
		psw_rpc_err(err, PSW_RPC_FAILED, "rxq_pmd: %s", strerror(-rc));
		return -1;
	}
	if (spec != NULL) {
		if (pinned)
			json_object_set_new(spec, "rxq_pmd", pins_json(p));
		else
			json_object_del(spec, "rxq_pmd");
	}
	return 0;
}

/* port.set {"name", "output": "port" | null, "rxq_pmd": {...}}: change what can change on
 * a live port. Everything is checked before anything changes. */
json_t *
psw_rpc_port_set(json_t *params, struct psw_rpc_error *err)
{
	struct psw_port *p;
	json_t *v;
	uint16_t out = PSW_PORT_NONE;

	if (psw_rpc_check_params(params, set_params, err) != 0)
		return NULL;
	p = psw_port_by_name(json_string_value(json_object_get(params, "name")));
	if (p == NULL)
		return psw_rpc_err(err, PSW_RPC_NOT_FOUND, "name: no port \"%s\"",
				   json_string_value(json_object_get(params, "name")));
	if (p->tunnel != PSW_TUNNEL_NONE)
		return refuse_tunnel(p, err);
	v = json_object_get(params, "output");
	if (v != NULL && !json_is_null(v)) {
		const struct psw_port *o;

		if (!json_is_string(v))
			return psw_rpc_err(err, PSW_RPC_INVALID_PARAMS,
					   "output: must be a port name or null");
		o = psw_port_by_name(json_string_value(v));
		if (o == NULL)
			return psw_rpc_err(err, PSW_RPC_NOT_FOUND, "output: no port \"%s\"",
					   json_string_value(v));
		out = o->id;
	}
	if (json_object_get(params, "rxq_pmd") != NULL) {
		uint16_t pinned, cores[PSW_MAX_QUEUES];

		/* Check first, so that a bad pin changes no output either. */
		if (parse_pins(json_object_get(params, "rxq_pmd"), p->n_rxq, true, &pinned, cores,
			       err) != 0 ||
		    set_pins(p, json_object_get(params, "rxq_pmd"), err) != 0)
			return NULL;
	}
	if (v != NULL)
		psw_port_set_output(p->id, out);
	if (v != NULL || json_object_get(params, "rxq_pmd") != NULL)
		psw_change_notify();
	return port_json(p);
}

static json_t *
rpc_port_get(json_t *params, struct psw_rpc_error *err)
{
	const struct psw_port *p;

	if (psw_rpc_check_params(params, name_params, err) != 0)
		return NULL;
	p = psw_port_by_name(json_string_value(json_object_get(params, "name")));
	if (p == NULL)
		return psw_rpc_err(err, PSW_RPC_NOT_FOUND, "name: no port \"%s\"",
				   json_string_value(json_object_get(params, "name")));
	return port_json(p);
}

static const struct psw_rpc_param no_params[] = {{NULL}};

static json_t *
rpc_port_list(json_t *params, struct psw_rpc_error *err)
{
	json_t *a;

	if (psw_rpc_check_params(params, no_params, err) != 0)
		return NULL;
	a = json_array();
	for (unsigned i = 0; i < PSW_MAX_PORTS; i++)
		if (psw_ports[i].used)
			json_array_append_new(a, port_json(&psw_ports[i]));
	return json_pack("{s:o}", "ports", a);
}

/* A port's params as they are now: its network may have changed (network.join/leave). */
static json_t *
spec_now(const struct psw_port *p, const json_t *spec)
{
	json_t *o = json_deep_copy(spec);
	const char *net = net_of(p->id);

	if (net != NULL)
		json_object_set_new(o, "network", json_string(net));
	else
		json_object_del(o, "network");
	return o;
}

/* Ports in creation order, so a restore adds them in an order that worked before. */
json_t *
psw_rpc_port_dump(void)
{
	json_t *a = json_array();
	uint64_t last = 0;

	for (;;) {
		int best = -1;

		for (unsigned i = 0; i < PSW_MAX_PORTS; i++)
			if (psw_ports[i].used && specs[i].params && specs[i].seq > last &&
			    (best < 0 || specs[i].seq < specs[best].seq))
				best = (int)i;
		if (best < 0)
			break;
		json_array_append_new(a, spec_now(&psw_ports[best], specs[best].params));
		last = specs[best].seq;
	}
	return a;
}

/* Static outputs are restored after all ports exist (a port may name a later one). */
json_t *
psw_rpc_port_outputs_dump(void)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < PSW_MAX_PORTS; i++) {
		const struct psw_port *p = &psw_ports[i];

		if (p->used && p->output != PSW_PORT_NONE && psw_port_get(p->output))
			json_array_append_new(a, json_pack("{s:s,s:s}", "name", p->name, "output",
							   psw_ports[p->output].name));
	}
	return a;
}

void
psw_rpc_port_forget(json_t *params)
{
	const struct psw_backend *be =
		psw_backend_find(json_string_value(json_object_get(params, "type")));
	const char *name = json_string_value(json_object_get(params, "name"));

	if (be != NULL && be->removed != NULL && name != NULL &&
	    psw_port_by_name(name) == NULL)
		be->removed(name, json_object_get(params, "options"));
}

void
psw_rpc_port_fini(void)
{
	for (unsigned i = 0; i < PSW_MAX_PORTS; i++) {
		json_decref(specs[i].params);
		specs[i].params = NULL;
	}
}

const struct psw_rpc_method psw_rpc_port_methods[] = {
	{"port.add", psw_rpc_port_add},
	{"port.del", psw_rpc_port_del},
	{"port.set", psw_rpc_port_set},
	{"port.get", rpc_port_get},
	{"port.list", rpc_port_list},
	{NULL, NULL},
};
