/*
 * network.c: the podswitchd network a config names ("network"), as the config describes
 * it: its transport ("vxlan" or "vlan") and gateway. ADD (cmd_add.c) makes the network
 * with these when podswitchd lacks it, so that a secondary network spans nodes with
 * nothing configured per node; when it exists, what the config names must be what the
 * network has (a VNI is not changed under running pods), and the pod gets the network's
 * MTU. Pure functions over the config and podswitchd's network.list JSON, so that the
 * unit tests run them. Plugin process only.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"

int psw_cidr_parse(const char *s, struct psw_cidr *out)
{
	char ip[INET6_ADDRSTRLEN + 1], *end;
	const char *slash = s ? strchr(s, '/') : NULL;
	long len;

	if (!slash || (size_t)(slash - s) >= sizeof(ip) || slash[1] < '0' || slash[1] > '9')
		return -1;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	len = strtol(slash + 1, &end, 10);
	if (*end || end - slash > 4)
		return -1;
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, ip, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, ip, out->addr) == 1)
		out->family = AF_INET6;
	else
		return -1;
	if (len > (out->family == AF_INET ? 32 : 128))
		return -1;
	out->len = (unsigned)len;
	return 0;
}

bool psw_network_makes(const struct psw_netconf *nc)
{
	return nc->vxlan_set || nc->vlan || nc->gateway_explicit;
}

json_t *psw_network_add_params(const struct psw_netconf *nc)
{
	json_t *p = json_pack("{s:s}", "name", nc->network);

	if (nc->vxlan_set) {
		json_object_set_new(p, "vxlan", json_integer(nc->vxlan_vni));
		json_object_set_new(p, "udp_port", json_integer(nc->vxlan_port));
		if (nc->n_peers) {
			json_t *peers = json_array();

			for (unsigned i = 0; i < nc->n_peers; i++)
				json_array_append_new(peers, json_string(nc->peers[i]));
			json_object_set_new(p, "peers", peers);
		}
	}
	if (nc->vlan)
		json_object_set_new(p, "vlan", json_integer(nc->vlan));
	if (nc->gateway[0])
		json_object_set_new(p, "gateway", json_string(nc->gateway));
	return p;
}

json_t *psw_network_find(json_t *list, const char *name)
{
	json_t *n;
	size_t i;

	json_array_foreach(json_object_get(list, "networks"), i, n) {
		const char *s = json_string_value(json_object_get(n, "name"));

		if (s && !strcmp(s, name))
			return n;
	}
	return NULL;
}

/* What the network has instead, for the message: "VXLAN VNI 100", "VLAN 42", "no
 * transport". */
static const char *transport_str(json_t *net, char *buf, size_t len)
{
	json_t *vx = json_object_get(net, "vxlan"), *vl = json_object_get(net, "vlan");

	if (json_is_integer(vx))
		snprintf(buf, len, "VXLAN VNI %" JSON_INTEGER_FORMAT, json_integer_value(vx));
	else if (json_is_integer(vl))
		snprintf(buf, len, "VLAN %" JSON_INTEGER_FORMAT, json_integer_value(vl));
	else
		snprintf(buf, len, "no transport");
	return buf;
}

static int conflict(struct psw_cni_error *err, const struct psw_netconf *nc, const char *key,
		    const char *want, const char *has)
{
	psw_cni_err(err, PSW_CNI_E_CONFIG,
		    "network config: \"%s\" is %s, but podswitchd's network \"%s\" has %s",
		    key, want, nc->network, has);
	return psw_cni_err_details(err, "a network's transport and gateway are fixed when it "
				   "is made: use the network's values, another \"network\", or "
				   "delete the network (podswitchctl network del) once no pod uses it");
}

static bool same_cidr(const char *a, const char *b)
{
	struct psw_cidr x, y;

	return a && b && !psw_cidr_parse(a, &x) && !psw_cidr_parse(b, &y) &&
	       x.family == y.family && x.len == y.len && !memcmp(x.addr, y.addr, 16);
}

int psw_network_agrees(const struct psw_netconf *nc, json_t *net, struct psw_cni_error *err)
{
	json_t *vx = json_object_get(net, "vxlan"), *vl = json_object_get(net, "vlan");
	json_t *port = json_object_get(net, "udp_port");
	const char *gw = json_string_value(json_object_get(net, "gateway"));
	char want[80], has[80];

	if (nc->vxlan_set) {
		/* network.list leaves the port out when it is the default. */
		json_int_t udp = json_is_integer(port) ? json_integer_value(port) : PSW_CNI_VXLAN_PORT;

		if (!json_is_integer(vx)) {
			snprintf(want, sizeof(want), "VNI %u", nc->vxlan_vni);
			return conflict(err, nc, "vxlan", want, transport_str(net, has, sizeof(has)));
		}
		snprintf(want, sizeof(want), "%u", nc->vxlan_vni);
		if (json_integer_value(vx) != (json_int_t)nc->vxlan_vni)
			return conflict(err, nc, "vxlan.vni", want, transport_str(net, has, sizeof(has)));
		if (udp != (json_int_t)nc->vxlan_port) {
			snprintf(want, sizeof(want), "%u", nc->vxlan_port);
			snprintf(has, sizeof(has), "UDP port %" JSON_INTEGER_FORMAT, udp);
			return conflict(err, nc, "vxlan.port", want, has);
		}
	}
	if (nc->vlan && (!json_is_integer(vl) || json_integer_value(vl) != (json_int_t)nc->vlan)) {
		snprintf(want, sizeof(want), "%u", nc->vlan);
		return conflict(err, nc, "vlan", want, transport_str(net, has, sizeof(has)));
	}
	if (nc->gateway_explicit && !same_cidr(nc->gateway, gw)) {
		snprintf(want, sizeof(want), "%s", nc->gateway);
		snprintf(has, sizeof(has), gw ? "gateway %s" : "no gateway", gw);
		return conflict(err, nc, "gateway", want, has);
	}
	return 0;
}

int psw_network_mtu(const struct psw_netconf *nc, json_t *net, unsigned *mtu,
		    struct psw_cni_error *err)
{
	json_t *v = json_object_get(net, "mtu");
	json_int_t net_mtu = json_is_integer(v) ? json_integer_value(v) : 0;

	if (net_mtu < PSW_CNI_MTU_MIN || net_mtu > PSW_CNI_MTU_MAX)
		net_mtu = 0;   /* none (no transport), or nothing a pod could use */
	if (nc->mtu && net_mtu && nc->mtu > net_mtu)
		return psw_cni_err(err, PSW_CNI_E_CONFIG,
				   "network config: \"mtu\" is %u, above the %" JSON_INTEGER_FORMAT
				   " of podswitchd's network \"%s\" (%s): its frames would not fit",
				   nc->mtu, net_mtu, nc->network,
				   json_is_integer(json_object_get(net, "vxlan")) ?
				   "VXLAN: the uplink's MTU less 50" : "the uplink's MTU");
	*mtu = nc->mtu ? nc->mtu : (unsigned)net_mtu;
	return 0;
}
