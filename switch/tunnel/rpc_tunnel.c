/*
 * rpc_tunnel.c: transports in JSON (control thread). network.add takes them (an extension
 * of l2/rpc_network.c): {"vxlan": VNI, "udp_port": 4789, "peers": ["192.0.2.2", ...]} or
 * {"vlan": VID}; network.list shows them with the MTU pods get and each peer's port and
 * counters. network.peer_add / network.peer_del {"network", "peer"} change a VXLAN
 * network's peers at runtime.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/change.h"
#include "l2/l2.h"
#include "l2/rpc_network.h"
#include "port/port.h"
#include "tunnel/rpc_tunnel.h"
#include "tunnel/tunnel.h"

static const char *const keys[] = {"vxlan", "udp_port", "peers", "vlan", NULL};

static int
uint_param(json_t *params, const char *key, uint64_t max, uint64_t *out,
	   struct psw_rpc_error *err)
{
	json_t *v = json_object_get(params, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max) {
		psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "%s: must be an integer in 0..%llu", key,
			    (unsigned long long)max);
		return -1;
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int
addr_param(json_t *v, const char *where, rte_be32_t *out, struct psw_rpc_error *err)
{
	const char *s = json_string_value(v);

	if (s == NULL || inet_pton(AF_INET, s, out) != 1) {
		psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "%s: must be an IPv4 address, e.g. "
			    "192.0.2.2", where);
		return -1;
	}
	return 0;
}

/* params -> c; 0 or -1 with err naming the field. */
static int
conf(json_t *params, struct psw_transport_conf *c, struct psw_rpc_error *err)
{
	uint64_t vni = 0, vid = 0, port = PSW_VXLAN_UDP_PORT;
	json_t *peers = json_object_get(params, "peers"), *v;
	size_t i;

	memset(c, 0, sizeof(*c));
	if (uint_param(params, "vxlan", 0xffffff, &vni, err) || uint_param(params, "vlan", 4094, &vid, err) ||
	    uint_param(params, "udp_port", 65535, &port, err))
		return -1;
	if (json_object_get(params, "vxlan") && json_object_get(params, "vlan")) {
		psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "vlan: a network has one transport: "
			    "vxlan or vlan");
		return -1;
	}
	if (json_object_get(params, "vxlan") == NULL &&
	    (peers != NULL || json_object_get(params, "udp_port") != NULL)) {
		psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "%s: needs vxlan",
			    peers ? "peers" : "udp_port");
		return -1;
	}
	if (json_object_get(params, "vxlan")) {
		if (vni == 0 || port == 0) {
			psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, vni == 0 ?
				    "vxlan: VNI must be 1..16777215" : "udp_port: must be 1..65535");
			return -1;
		}
		c->kind = PSW_TRANSPORT_VXLAN;
		c->vni = (uint32_t)vni;
		c->udp_port = (uint16_t)port;
		if (peers != NULL && !json_is_array(peers)) {
			psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "peers: must be an array of addresses");
			return -1;
		}
		if (json_array_size(peers) > PSW_TUNNEL_MAX_PEERS) {
			psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "peers: at most %d",
				    PSW_TUNNEL_MAX_PEERS);
			return -1;
		}
		json_array_foreach(peers, i, v) {
			char where[32], list[1024], *save = NULL;

			snprintf(where, sizeof(where), "peers[%zu]", i);
			if (!json_is_string(v) || json_string_length(v) >= sizeof(list)) {
				psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "%s: must be an address", where);
				return -1;
			}
			/* "a,b,c" is three peers: one environment variable can list a cluster. */
			snprintf(list, sizeof(list), "%s", json_string_value(v));
			for (char *t = strtok_r(list, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
				json_t *one = json_string(t);
				int rc;

				if (c->n_peers == PSW_TUNNEL_MAX_PEERS) {
					json_decref(one);
					psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "peers: at most %d",
						    PSW_TUNNEL_MAX_PEERS);
					return -1;
				}
				rc = addr_param(one, where, &c->peers[c->n_peers], err);
				json_decref(one);
				if (rc != 0)
					return -1;
				c->n_peers++;
			}
		}
	} else if (json_object_get(params, "vlan")) {
		if (vid == 0) {
			psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "vlan: VLAN id must be 1..4094");
			return -1;
		}
		c->kind = PSW_TRANSPORT_VLAN;
		c->vid = (uint16_t)vid;
	}
	return 0;
}

static int
ext_check(json_t *params, struct psw_rpc_error *err)
{
	struct psw_transport_conf c;

	return conf(params, &c, err);
}

static int
ext_apply(uint16_t net, const char *name, json_t *params, struct psw_rpc_error *err)
{
	struct psw_transport_conf c;
	char msg[256];
	int rc;

	if (conf(params, &c, err) != 0)
		return -1;
	rc = psw_tunnel_set(net, name, &c, msg, sizeof(msg));
	if (rc != 0) {
		psw_rpc_err(err, rc == -EEXIST ? PSW_RPC_EXISTS : rc == -EINVAL ?
			    PSW_RPC_INVALID_PARAMS : PSW_RPC_FAILED, "%s", msg);
		return -1;
	}
	return 0;
}

static void
ext_describe(uint16_t net, json_t *o, bool live)
{
	struct psw_transport_conf c;
	char ip[INET_ADDRSTRLEN];

	psw_tunnel_get(net, &c);
	if (c.kind == PSW_TRANSPORT_NONE)
		return;
	if (!live) {
		if (c.kind == PSW_TRANSPORT_VLAN) {
			json_object_set_new(o, "vlan", json_integer(c.vid));
			return;
		}
		json_t *peers = json_array();

		json_object_set_new(o, "vxlan", json_integer(c.vni));
		if (c.udp_port != PSW_VXLAN_UDP_PORT)
			json_object_set_new(o, "udp_port", json_integer(c.udp_port));
		for (unsigned i = 0; i < c.n_peers; i++)
			json_array_append_new(peers, json_string(inet_ntop(AF_INET, &c.peers[i], ip,
									    sizeof(ip))));
		json_object_set_new(o, "peers", peers);
		return;
	}
	json_object_set_new(o, "mtu", json_integer(psw_tunnel_mtu(net)));
	if (c.kind == PSW_TRANSPORT_VXLAN) {
		json_t *st = json_array();

		for (unsigned i = 0; i < c.n_peers; i++) {
			uint16_t port = psw_tunnel_peer_port(net, c.peers[i]);
			struct psw_port_counters pc;

			if (port == PSW_PORT_NONE)
				continue;   /* this node itself */
			psw_port_read_counters(port, &pc);
			json_array_append_new(st, json_pack("{ss ss sI sI sI sI sI}",
				"peer", inet_ntop(AF_INET, &c.peers[i], ip, sizeof(ip)),
				"port", psw_ports[port].name,
				"rx_packets", (json_int_t)pc.rx_packets, "rx_bytes", (json_int_t)pc.rx_bytes,
				"tx_packets", (json_int_t)pc.tx_packets, "tx_bytes", (json_int_t)pc.tx_bytes,
				"tx_drops", (json_int_t)pc.tx_drops));
		}
		json_object_set_new(o, "peer_stats", st);
	}
}

static const struct psw_network_ext ext = {
	.keys = keys,
	.check = ext_check,
	.apply = ext_apply,
	.removed = psw_tunnel_remove,
	.describe = ext_describe,
};

int
psw_rpc_tunnel_init(void)
{
	return psw_rpc_network_extend(&ext);
}

static json_t *
peer_change(json_t *params, struct psw_rpc_error *err, bool add)
{
	static const struct psw_rpc_param spec[] = {
		{"network", PSW_T_STRING, true},
		{"peer", PSW_T_STRING, true},
		{NULL},
	};
	const char *name;
	rte_be32_t peer;
	uint16_t net;
	char msg[256];
	int rc;

	if (psw_rpc_check_params(params, spec, err) != 0 ||
	    addr_param(json_object_get(params, "peer"), "peer", &peer, err) != 0)
		return NULL;
	name = json_string_value(json_object_get(params, "network"));
	net = psw_l2_network_id(name);
	if (net == 0)
		return psw_rpc_err(err, PSW_RPC_NOT_FOUND, "network: no network '%s'", name);
	rc = add ? psw_tunnel_peer_add(net, peer, msg, sizeof(msg))
		 : psw_tunnel_peer_del(net, peer, msg, sizeof(msg));
	if (rc != 0)
		return psw_rpc_err(err, rc == -ENOENT ? PSW_RPC_NOT_FOUND : rc == -EEXIST ?
				   PSW_RPC_EXISTS : PSW_RPC_INVALID_PARAMS, "%s", msg);
	psw_change_notify();
	return json_object();
}

static json_t *
rpc_peer_add(json_t *params, struct psw_rpc_error *err)
{
	return peer_change(params, err, true);
}

static json_t *
rpc_peer_del(json_t *params, struct psw_rpc_error *err)
{
	return peer_change(params, err, false);
}

const struct psw_rpc_method psw_rpc_tunnel_methods[] = {
	{"network.peer_add", rpc_peer_add},
	{"network.peer_del", rpc_peer_del},
	{NULL, NULL},
};
