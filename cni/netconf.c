/*
 * netconf.c: the network configuration from stdin, parsed strictly: an unknown key is
 * error 2, a bad value error 7, both naming the field, so that a mistake shows at ADD
 * and not as a pod that half works. Also the CNI versions and error objects the other
 * rooms use. The environment is env.c's, the names derived from it names.c's. Runs in
 * the plugin process, far from the packet path.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"

#define DEFAULT_CONTROL_SOCKET "/run/podswitch/podswitchd.sock"
#define DEFAULT_SOCKET_DIR     "/run/podswitch/pods"
#define DEFAULT_TIMEOUT_MS     20000
#define LOCK_NAME              ".podswitch-cni.lock"

static const char *const version_names[PSW_CNI_V_COUNT] = {
	[PSW_CNI_V031] = "0.3.1",
	[PSW_CNI_V040] = "0.4.0",
	[PSW_CNI_V100] = "1.0.0",
	[PSW_CNI_V110] = "1.1.0",
};

int psw_cni_err(struct psw_cni_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->details[0] = '\0';
	return -1;
}

int psw_cni_err_details(struct psw_cni_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->details, sizeof(err->details), fmt, ap);
	va_end(ap);
	return -1;
}

int psw_cni_version_parse(const char *s)
{
	for (int v = 0; v < PSW_CNI_V_COUNT; v++)
		if (s && strcmp(s, version_names[v]) == 0)
			return v;
	return -1;
}

const char *psw_cni_version_name(enum psw_cni_version v)
{
	return v < PSW_CNI_V_COUNT ? version_names[v] : "?";
}

int psw_cni_version_cmp(const char *a, const char *b)
{
	/* major.minor.patch; a missing part counts as 0 */
	for (int i = 0; i < 3; i++) {
		char *ea, *eb;
		long x = strtol(a, &ea, 10), y = strtol(b, &eb, 10);

		if (x != y)
			return x < y ? -1 : 1;
		a = *ea == '.' ? ea + 1 : ea;
		b = *eb == '.' ? eb + 1 : eb;
	}
	return 0;
}

const char *psw_cni_iface_name(enum psw_cni_iface i)
{
	switch (i) {
	case PSW_IFACE_TAP: return "tap";
	case PSW_IFACE_VHOST_USER: return "vhost-user";
	case PSW_IFACE_MEMIF: return "memif";
	}
	return "?";
}

/* ---- strict JSON field checks ---- */

static int bad_field(struct psw_cni_error *err, const char *where, const char *key,
		     const char *want)
{
	return psw_cni_err(err, PSW_CNI_E_CONFIG, "network config: \"%s%s\" must be %s", where,
			   key, want);
}

static int get_string(json_t *obj, const char *where, const char *key, bool required,
		      char *out, size_t len, struct psw_cni_error *err)
{
	json_t *v = json_object_get(obj, key);

	if (!v) {
		if (required)
			return psw_cni_err(err, PSW_CNI_E_CONFIG,
					   "network config: \"%s%s\" is missing", where, key);
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) == 0)
		return bad_field(err, where, key, "a non-empty string");
	if (json_string_length(v) >= len)
		return psw_cni_err(err, PSW_CNI_E_CONFIG,
				   "network config: \"%s%s\" is longer than %zu bytes", where, key,
				   len - 1);
	snprintf(out, len, "%s", json_string_value(v));
	return 0;
}

static int get_uint(json_t *obj, const char *where, const char *key, unsigned lo,
		    unsigned hi, unsigned *out, struct psw_cni_error *err)
{
	json_t *v = json_object_get(obj, key);
	char want[80];

	if (!v)
		return 0;
	snprintf(want, sizeof(want), "an integer from %u to %u", lo, hi);
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return bad_field(err, where, key, want);
	*out = json_integer_value(v);
	return 0;
}

static int get_bool(json_t *obj, const char *where, const char *key, bool *out,
		    struct psw_cni_error *err)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return bad_field(err, where, key, "true or false");
	*out = json_is_true(v);
	return 0;
}

static int check_keys(json_t *obj, const char *where, const char *const *known,
		      struct psw_cni_error *err)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		bool ok = false;

		for (const char *const *k = known; *k; k++)
			if (strcmp(*k, key) == 0)
				ok = true;
		if (!ok)
			return psw_cni_err(err, PSW_CNI_E_UNSUPPORTED,
					   "network config: unknown field \"%s%s\"", where, key);
	}
	return 0;
}

static int check_object(json_t *obj, const char *key, struct psw_cni_error *err)
{
	json_t *v = json_object_get(obj, key);

	if (v && !json_is_object(v))
		return bad_field(err, "", key, "an object");
	return 0;
}

static int parse_vhost(struct psw_netconf *nc, json_t *o, struct psw_cni_error *err)
{
	static const char *const known[] = {"mode", "queues", NULL};
	char mode[16] = "client";

	if (!json_is_object(o))
		return bad_field(err, "", "vhostUser", "an object");
	if (check_keys(o, "vhostUser.", known, err) ||
	    get_string(o, "vhostUser.", "mode", false, mode, sizeof(mode), err) ||
	    get_uint(o, "vhostUser.", "queues", 1, 16, &nc->queues, err))
		return -1;
	if (strcmp(mode, "client") && strcmp(mode, "server"))
		return bad_field(err, "vhostUser.", "mode", "\"client\" or \"server\"");
	nc->vhost_switch_server = strcmp(mode, "server") == 0;
	return 0;
}

static int parse_memif(struct psw_netconf *nc, json_t *o, struct psw_cni_error *err)
{
	static const char *const known[] = {"abstract", "ringSize", "bufferSize", NULL};

	if (!json_is_object(o))
		return bad_field(err, "", "memif", "an object");
	if (check_keys(o, "memif.", known, err) ||
	    get_bool(o, "memif.", "abstract", &nc->memif_abstract, err) ||
	    get_uint(o, "memif.", "ringSize", 2, 16384, &nc->memif_ring_size, err) ||
	    get_uint(o, "memif.", "bufferSize", 128, 65535, &nc->memif_buffer_size, err))
		return -1;
	if (nc->memif_ring_size & (nc->memif_ring_size - 1))
		return bad_field(err, "memif.", "ringSize", "a power of two");
	return 0;
}

/* socketOwner / socketGroup: a user or group name, or a numeric id (string or integer). */
static int get_id(json_t *obj, const char *key, char *out, size_t len, struct psw_cni_error *err)
{
	json_t *v = json_object_get(obj, key);
	const char *s;

	if (!v)
		return 0;
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0 || json_integer_value(v) >= UINT32_MAX)
			return bad_field(err, "", key, "a name or an id from 0 to 4294967294");
		snprintf(out, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return 0;
	}
	s = json_string_value(v);
	if (!s || !psw_cni_name_valid(s) || strlen(s) >= len)
		return bad_field(err, "", key, "a name of [A-Za-z0-9_.-] (at most 32) or a numeric id");
	snprintf(out, len, "%s", s);
	return 0;
}

/* socketMode: an octal string such as "0660" (JSON has no octal numbers). */
static int get_mode(json_t *obj, const char *key, bool *set, unsigned *out,
		    struct psw_cni_error *err)
{
	json_t *v = json_object_get(obj, key);
	const char *s = json_string_value(v);
	unsigned m = 0;
	size_t n;

	if (!v)
		return 0;
	n = s ? strlen(s) : 0;
	if (n < 3 || n > 4 || strspn(s, "01234567") != n)
		return bad_field(err, "", key, "an octal mode of 3 or 4 digits such as \"0660\"");
	for (size_t i = 0; i < n; i++)
		m = m * 8 + (unsigned)(s[i] - '0');
	if (m > 0777)
		return bad_field(err, "", key, "permission bits only (at most \"0777\")");
	*out = m;
	*set = true;
	return 0;
}

/* vxlan: {"vni": 1..16777215, "port": 4789, "peers": ["192.0.2.2", ...]}: what podswitchd's
 * network.add takes (switch/tunnel/rpc_tunnel.c), one IPv4 address per peer. */
static int parse_vxlan(struct psw_netconf *nc, json_t *o, struct psw_cni_error *err)
{
	static const char *const known[] = {"vni", "port", "peers", NULL};
	json_t *peers, *v;
	size_t i;

	if (!json_is_object(o))
		return bad_field(err, "", "vxlan", "an object such as {\"vni\": 100, \"peers\": [...]}");
	if (check_keys(o, "vxlan.", known, err))
		return -1;
	if (!json_object_get(o, "vni"))
		return psw_cni_err(err, PSW_CNI_E_CONFIG, "network config: \"vxlan.vni\" is missing");
	nc->vxlan_port = PSW_CNI_VXLAN_PORT;
	if (get_uint(o, "vxlan.", "vni", 1, 16777215, &nc->vxlan_vni, err) ||
	    get_uint(o, "vxlan.", "port", 1, 65535, &nc->vxlan_port, err))
		return -1;
	peers = json_object_get(o, "peers");
	if (peers && !json_is_array(peers))
		return bad_field(err, "vxlan.", "peers", "an array of IPv4 addresses");
	if (json_array_size(peers) > PSW_CNI_MAX_PEERS)
		return psw_cni_err(err, PSW_CNI_E_CONFIG,
				   "network config: \"vxlan.peers\" has more than %d addresses",
				   PSW_CNI_MAX_PEERS);
	json_array_foreach(peers, i, v) {
		struct in_addr a;
		char *out = nc->peers[nc->n_peers];

		if (!json_is_string(v) || inet_pton(AF_INET, json_string_value(v), &a) != 1)
			return psw_cni_err(err, PSW_CNI_E_CONFIG,
					   "network config: \"vxlan.peers[%zu]\" must be an IPv4 address such as \"192.0.2.2\"",
					   i);
		inet_ntop(AF_INET, &a, out, sizeof(nc->peers[0]));
		for (unsigned k = 0; k < nc->n_peers; k++)
			if (!strcmp(nc->peers[k], out))
				return psw_cni_err(err, PSW_CNI_E_CONFIG,
						   "network config: \"vxlan.peers[%zu]\": %s is listed twice",
						   i, out);
		nc->n_peers++;
	}
	nc->vxlan_set = true;
	return 0;
}

/* gateway: "address/len" with a host part, as podswitchd's network.add takes it. */
static bool gateway_ok(const char *s)
{
	struct psw_cidr c;

	return !psw_cidr_parse(s, &c) && c.len >= 1 && c.len <= (c.family == AF_INET ? 31u : 127u);
}

/* gw with the prefix of subnet ("10.244.1.1", "10.244.0.0/16" -> "10.244.1.1/16") into
 * nc->gateway when both read as such; true when they did. */
static bool gateway_with_prefix(struct psw_netconf *nc, json_t *gw, json_t *subnet)
{
	struct psw_cidr s;
	unsigned char a[16];

	if (!json_is_string(gw) || psw_cidr_parse(json_string_value(subnet), &s) ||
	    inet_pton(s.family, json_string_value(gw), a) != 1)
		return false;
	snprintf(nc->gateway, sizeof(nc->gateway), "%s/%u", json_string_value(gw), s.len);
	if (gateway_ok(nc->gateway))
		return true;
	nc->gateway[0] = '\0';
	return false;
}

/* The gateway of a host-local IPAM config with its subnet's prefix: the first range
 * (of "ranges") with both, or the older top-level "subnet" and "gateway". Used only to
 * make a missing network; a config podswitch cannot read here is the IPAM plugin's to
 * refuse. */
static void gateway_from_ipam(struct psw_netconf *nc)
{
	json_t *set, *r;
	size_t i, j;

	json_array_foreach(json_object_get(nc->ipam, "ranges"), i, set)
		json_array_foreach(set, j, r)
			if (gateway_with_prefix(nc, json_object_get(r, "gateway"),
						json_object_get(r, "subnet")))
				return;
	gateway_with_prefix(nc, json_object_get(nc->ipam, "gateway"),
			    json_object_get(nc->ipam, "subnet"));
}

/* The network's transport and gateway: "vxlan" or "vlan", "gateway" (else the IPAM's). */
static int parse_transport(struct psw_netconf *nc, json_t *o, struct psw_cni_error *err)
{
	json_t *v;

	if ((v = json_object_get(o, "vxlan")) && parse_vxlan(nc, v, err))
		return -1;
	if (get_uint(o, "", "vlan", 1, 4094, &nc->vlan, err) ||
	    get_string(o, "", "gateway", false, nc->gateway, sizeof(nc->gateway), err))
		return -1;
	if (nc->vxlan_set && nc->vlan)
		return psw_cni_err(err, PSW_CNI_E_CONFIG,
				   "network config: \"vlan\" and \"vxlan\": a network has one transport");
	if (nc->gateway[0]) {
		if (!gateway_ok(nc->gateway))
			return bad_field(err, "", "gateway",
					 "an address with its prefix, such as \"10.244.1.1/16\"");
		nc->gateway_explicit = true;
	}
	if (psw_network_makes(nc) && !nc->network[0])
		return psw_cni_err(err, PSW_CNI_E_CONFIG,
				   "network config: \"%s\" needs \"network\" (the podswitchd network it describes)",
				   nc->vxlan_set ? "vxlan" : nc->vlan ? "vlan" : "gateway");
	if (!nc->gateway[0] && nc->ipam)
		gateway_from_ipam(nc);
	return 0;
}

static int parse_runtime_config(struct psw_netconf *nc, json_t *rc, struct psw_cni_error *err)
{
	json_t *v;

	/* Keys here come from the runtime for the capabilities we declare; others (a
	 * runtime's own) are ignored rather than refused. */
	if ((v = json_object_get(rc, "mac")) && !json_is_null(v)) {
		if (!json_is_string(v) || psw_mac_parse(json_string_value(v), nc->mac))
			return bad_field(err, "runtimeConfig.", "mac",
					 "a unicast MAC address like \"0a:58:0a:01:00:02\"");
		nc->mac_set = true;
	}
	if ((v = json_object_get(rc, "ips")) && !json_is_array(v) && !json_is_null(v))
		return bad_field(err, "runtimeConfig.", "ips", "an array of CIDR strings");
	if (get_string(rc, "runtimeConfig.", "CNIDeviceInfoFile", false, nc->device_info_file,
		       sizeof(nc->device_info_file), err))
		return -1;
	if (nc->device_info_file[0] && nc->device_info_file[0] != '/')
		return bad_field(err, "runtimeConfig.", "CNIDeviceInfoFile", "an absolute path");
	return 0;
}

static int parse_fields(struct psw_netconf *nc, const char *command, struct psw_cni_error *err)
{
	static const char *const known[] = {
		"cniVersion", "name", "type", "args", "ipam", "dns", "capabilities",
		"runtimeConfig", "prevResult", "cni.dev/valid-attachments", "disableCheck",
		"disableGC",
		/* podswitch's own */
		"socket", "network", "interface", "mtu", "socketDir", "timeout", "vhostUser",
		"memif", "socketOwner", "socketGroup", "socketMode", "vxlan", "vlan", "gateway",
		NULL,
	};
	json_t *o = nc->raw, *v;
	char type[64], iface[16] = "tap";
	unsigned timeout = DEFAULT_TIMEOUT_MS;
	int ver;

	if (!json_is_object(o))
		return psw_cni_err(err, PSW_CNI_E_DECODE, "network config: not a JSON object");
	/* The version first: an error for an unknown version must say so, not complain
	 * about fields a newer spec may have. */
	v = json_object_get(o, "cniVersion");
	if (!v)
		return psw_cni_err(err, PSW_CNI_E_CONFIG, "network config: \"cniVersion\" is missing");
	if (!json_is_string(v))
		return bad_field(err, "", "cniVersion", "a string");
	ver = psw_cni_version_parse(json_string_value(v));
	if (ver < 0)
		return psw_cni_err(err, PSW_CNI_E_INCOMPATIBLE,
				   "incompatible CNI version \"%s\": podswitch supports 0.3.1, 0.4.0, 1.0.0, 1.1.0",
				   json_string_value(v));
	nc->version = ver;
	snprintf(nc->version_str, sizeof(nc->version_str), "%s", json_string_value(v));

	if (check_keys(o, "", known, err) ||
	    get_string(o, "", "name", true, nc->name, sizeof(nc->name), err) ||
	    get_string(o, "", "type", true, type, sizeof(type), err))
		return -1;
	if (strcmp(type, "podswitch"))
		return bad_field(err, "", "type", "\"podswitch\"");
	if (get_string(o, "", "socket", false, nc->control_socket, sizeof(nc->control_socket), err) ||
	    get_string(o, "", "network", false, nc->network, sizeof(nc->network), err) ||
	    get_string(o, "", "interface", false, iface, sizeof(iface), err) ||
	    get_uint(o, "", "mtu", PSW_CNI_MTU_MIN, PSW_CNI_MTU_MAX, &nc->mtu, err) ||
	    get_string(o, "", "socketDir", false, nc->socket_dir, sizeof(nc->socket_dir), err) ||
	    get_uint(o, "", "timeout", 100, 600000, &timeout, err) ||
	    check_object(o, "args", err) || check_object(o, "dns", err) ||
	    check_object(o, "capabilities", err) || check_object(o, "runtimeConfig", err) ||
	    check_object(o, "prevResult", err))
		return -1;
	nc->timeout_ms = timeout;
	if (nc->control_socket[0] != '/')
		return bad_field(err, "", "socket", "an absolute path shorter than 108 bytes");
	if (nc->socket_dir[0] != '/')
		return bad_field(err, "", "socketDir", "an absolute path");
	if (nc->network[0] && !psw_cni_name_valid(nc->network))
		return bad_field(err, "", "network", "a name of [A-Za-z0-9_.-]");
	if (strcmp(iface, "tap") == 0)
		nc->iface = PSW_IFACE_TAP;
	else if (strcmp(iface, "vhost-user") == 0)
		nc->iface = PSW_IFACE_VHOST_USER;
	else if (strcmp(iface, "memif") == 0)
		nc->iface = PSW_IFACE_MEMIF;
	else
		return bad_field(err, "", "interface", "\"tap\", \"vhost-user\" or \"memif\"");
	if ((v = json_object_get(o, "vhostUser")) && parse_vhost(nc, v, err))
		return -1;
	if ((v = json_object_get(o, "memif")) && parse_memif(nc, v, err))
		return -1;
	if (json_object_get(o, "vhostUser") && nc->iface != PSW_IFACE_VHOST_USER)
		return psw_cni_err(err, PSW_CNI_E_CONFIG,
				   "network config: \"vhostUser\" needs \"interface\": \"vhost-user\"");
	if (json_object_get(o, "memif") && nc->iface != PSW_IFACE_MEMIF)
		return psw_cni_err(err, PSW_CNI_E_CONFIG,
				   "network config: \"memif\" needs \"interface\": \"memif\"");
	if (get_id(o, "socketOwner", nc->socket_owner, sizeof(nc->socket_owner), err) ||
	    get_id(o, "socketGroup", nc->socket_group, sizeof(nc->socket_group), err) ||
	    get_mode(o, "socketMode", &nc->socket_mode_set, &nc->socket_mode, err))
		return -1;
	if ((nc->socket_owner[0] || nc->socket_group[0] || nc->socket_mode_set) &&
	    nc->iface == PSW_IFACE_TAP)
		return psw_cni_err(err, PSW_CNI_E_CONFIG,
				   "network config: \"%s\" needs \"interface\": \"vhost-user\" or \"memif\"",
				   nc->socket_owner[0] ? "socketOwner" :
				   nc->socket_group[0] ? "socketGroup" : "socketMode");

	if ((v = json_object_get(o, "ipam")) && !json_is_null(v)) {
		if (!json_is_object(v))
			return bad_field(err, "", "ipam", "an object");
		if (json_object_size(v) > 0) {
			if (get_string(v, "ipam.", "type", true, nc->ipam_type,
				       sizeof(nc->ipam_type), err))
				return -1;
			if (strchr(nc->ipam_type, '/') || strcmp(nc->ipam_type, "..") == 0)
				return bad_field(err, "ipam.", "type", "a plugin name, not a path");
			nc->ipam = v;
		}
	}
	if (parse_transport(nc, o, err))
		return -1;
	nc->dns = json_object_get(o, "dns");
	nc->prev_result = json_object_get(o, "prevResult");
	if ((v = json_object_get(o, "runtimeConfig")) && parse_runtime_config(nc, v, err))
		return -1;
	if ((v = json_object_get(o, "cni.dev/valid-attachments"))) {
		size_t i;
		json_t *a;

		if (!json_is_array(v))
			return bad_field(err, "", "cni.dev/valid-attachments", "an array");
		json_array_foreach(v, i, a)
			if (!json_is_object(a) ||
			    !json_is_string(json_object_get(a, "containerID")) ||
			    !json_is_string(json_object_get(a, "ifname")))
				return psw_cni_err(err, PSW_CNI_E_CONFIG,
						   "network config: \"cni.dev/valid-attachments[%zu]\" must be {\"containerID\", \"ifname\"}",
						   i);
		nc->valid_attachments = v;
	}
	/* Without the list every attachment would look stale: refuse rather than remove
	 * every pod's port. */
	if (command && strcmp(command, "GC") == 0 && !nc->valid_attachments &&
	    nc->version >= PSW_CNI_V110)
		return psw_cni_err(err, PSW_CNI_E_CONFIG,
				   "network config: \"cni.dev/valid-attachments\" is missing (GC needs it)");
	if (command && strcmp(command, "CHECK") == 0 && nc->version < PSW_CNI_V040)
		return psw_cni_err(err, PSW_CNI_E_INCOMPATIBLE,
				   "CHECK needs cniVersion 0.4.0 or newer, config has %s", nc->version_str);
	if (command && strcmp(command, "CHECK") == 0 && !nc->prev_result)
		return psw_cni_err(err, PSW_CNI_E_CONFIG,
				   "network config: \"prevResult\" is missing (CHECK needs it)");
	if (command && (strcmp(command, "STATUS") == 0 || strcmp(command, "GC") == 0) &&
	    nc->version < PSW_CNI_V110)
		return psw_cni_err(err, PSW_CNI_E_INCOMPATIBLE,
				   "%s needs cniVersion 1.1.0, config has %s", command, nc->version_str);
	return 0;
}

int psw_netconf_parse(const char *text, size_t len, const char *command,
		      struct psw_netconf *nc, struct psw_cni_error *err)
{
	json_error_t jerr;

	memset(nc, 0, sizeof(*nc));
	snprintf(nc->control_socket, sizeof(nc->control_socket), "%s", DEFAULT_CONTROL_SOCKET);
	snprintf(nc->socket_dir, sizeof(nc->socket_dir), "%s", DEFAULT_SOCKET_DIR);
	nc->raw = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!nc->raw)
		return psw_cni_err(err, PSW_CNI_E_DECODE,
				   "network config is not valid JSON: %s (line %d, column %d)",
				   jerr.text, jerr.line, jerr.column);
	if (parse_fields(nc, command, err)) {
		psw_netconf_free(nc);
		return -1;
	}
	/* Trailing slashes would make two spellings of one directory. */
	for (size_t n = strlen(nc->socket_dir); n > 1 && nc->socket_dir[n - 1] == '/'; n--)
		nc->socket_dir[n - 1] = '\0';
	snprintf(nc->lock_file, sizeof(nc->lock_file), "%s/%s", nc->socket_dir, LOCK_NAME);
	return 0;
}

void psw_netconf_free(struct psw_netconf *nc)
{
	json_decref(nc->raw);
	nc->raw = NULL;
}

