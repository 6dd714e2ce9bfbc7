/*
 * netconf.c: the CNI plugin's inputs. Parses the network configuration from stdin
 * strictly (an unknown key is error 2, a bad value error 7, both naming the field), reads
 * the CNI_* environment and CNI_ARGS, and derives the names an attachment gets (podswitchd
 * port, host tap, per-pod socket directory) from (container id, ifname) so that ADD, DEL,
 * CHECK and GC all compute the same ones without keeping state. Runs in the plugin
 * process, far from the packet path.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

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

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int psw_mac_parse(const char *s, unsigned char mac[6])
{
	/* Exactly "xx:xx:xx:xx:xx:xx" (sscanf's %2x also took " 2", "+2" and "0x"). */
	if (strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -1;
		mac[i] = (unsigned char)(hi << 4 | lo);
	}
	if (mac[0] & 1)
		return -1; /* multicast: not an interface address */
	return 0;
}

void psw_mac_format(const unsigned char mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
}

void psw_mac_random(unsigned char mac[6])
{
	if (getrandom(mac, 6, 0) != 6) {
		uint64_t h = psw_cni_hash("mac", "fallback") ^ (uint64_t)rand();
		memcpy(mac, &h, 6);
	}
	mac[0] = (mac[0] & 0xfe) | 0x02; /* unicast, locally administered */
}

uint64_t psw_cni_hash(const char *a, const char *b)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *p = a; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	h = (h ^ 0) * 0x100000001b3ull;
	for (const char *p = b; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	return h;
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

/* Copy at most max chars of s, replacing anything outside [A-Za-z0-9_.-] by '_'. */
static void sanitize(char *out, const char *s, size_t max)
{
	size_t i;

	for (i = 0; i < max && s[i]; i++)
		out[i] = name_char(s[i]) ? s[i] : '_';
	out[i] = '\0';
}

void psw_cni_port_name(const char *container_id, const char *ifname, char out[PSW_CNI_PORT_NAME_MAX])
{
	/* Short on purpose: DPDK's net_tap names a mempool "mp_net_tap_<port>" and mempool
	 * names stop at 25 characters, so a tap port name may have 14. Whose port it is
	 * shows in its external_ids (container id, ifname, pod). 44 bits of hash: a
	 * collision needs about 4 million attachments on one node. */
	snprintf(out, PSW_CNI_PORT_NAME_MAX, "cni%011" PRIx64,
		 (uint64_t)(psw_cni_hash(container_id, ifname) & 0xfffffffffffull));
}

void psw_cni_tap_name(const char *container_id, const char *ifname, char out[PSW_CNI_IFNAME_MAX])
{
	snprintf(out, PSW_CNI_IFNAME_MAX, "psw%012" PRIx64,
		 (uint64_t)(psw_cni_hash(container_id, ifname) & 0xffffffffffffull));
}

/* Longest pod-directory name that keeps "<dir>/<name>/<ifname>.sock" under 108 bytes. */
static long pod_dir_room(const struct psw_netconf *nc, const char *ifname)
{
	return (long)PSW_CNI_SUN_MAX - 1 - (long)strlen(nc->socket_dir) - 1 - 1 -
	       (long)strlen(ifname) - (long)strlen(".sock");
}

static bool all_name_chars(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!name_char(*s))
			return false;
	return true;
}

int psw_cni_pod_dir(const struct psw_netconf *nc, const struct psw_cni_env *env,
		    char *out, size_t len, struct psw_cni_error *err)
{
	long room = pod_dir_room(nc, env->ifname);
	char name[PSW_CNI_PATH_MAX];
	size_t n;

	if (room < 20)
		return psw_cni_err(err, PSW_CNI_E_CONFIG,
				   "network config: \"socketDir\" is too long for a %d-byte socket path",
				   PSW_CNI_SUN_MAX);
	n = strlen(env->k8s_namespace) + 1 + strlen(env->k8s_pod);
	if (env->k8s_namespace[0] && env->k8s_pod[0] && all_name_chars(env->k8s_namespace) &&
	    all_name_chars(env->k8s_pod) && (long)n <= room) {
		snprintf(name, sizeof(name), "%s_%s", env->k8s_namespace, env->k8s_pod);
	} else if ((long)strlen(env->container_id) <= room) {
		sanitize(name, env->container_id, room);
	} else {
		size_t k;

		sanitize(name, env->container_id, room - 9);
		k = strlen(name);
		snprintf(name + k, sizeof(name) - k, "-%08" PRIx32,
			 (uint32_t)psw_cni_hash(env->container_id, ""));
	}
	if ((size_t)snprintf(out, len, "%s/%s", nc->socket_dir, name) >= len)
		return psw_cni_err(err, PSW_CNI_E_CONFIG, "network config: \"socketDir\" is too long");
	return 0;
}

int psw_cni_socket_path(const char *pod_dir, const char *ifname, char *out, size_t len,
			struct psw_cni_error *err)
{
	int n = snprintf(out, len, "%s/%s.sock", pod_dir, ifname);

	if (n < 0 || (size_t)n >= len || n >= PSW_CNI_SUN_MAX)
		return psw_cni_err(err, PSW_CNI_E_CONFIG,
				   "socket path %s/%s.sock does not fit in %d bytes; shorten \"socketDir\"",
				   pod_dir, ifname, PSW_CNI_SUN_MAX);
	return 0;
}

void psw_cni_meta_path(const char *pod_dir, const char *ifname, char *out, size_t len)
{
	snprintf(out, len, "%s/%s.json", pod_dir, ifname);
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
	if (!s || !all_name_chars(s) || strlen(s) >= len)
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
		"memif", "socketOwner", "socketGroup", "socketMode", NULL,
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
	if (nc->network[0] && !all_name_chars(nc->network))
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

/* A name or decimal id; 1 when s is all digits (then *id is set). */
static int numeric_id(const char *s, unsigned *id)
{
	unsigned long long v = 0;

	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (unsigned)(*p - '0');
		if (v >= UINT32_MAX)
			return 0;
	}
	*id = (unsigned)v;
	return 1;
}

int psw_sock_access_resolve(const struct psw_netconf *nc, struct psw_sock_access *out,
			    struct psw_cni_error *err)
{
	char buf[4096];

	memset(out, 0, sizeof(*out));
	if (nc->socket_owner[0]) {
		struct passwd pw, *res = NULL;

		if (!numeric_id(nc->socket_owner, &out->uid)) {
			if (getpwnam_r(nc->socket_owner, &pw, buf, sizeof(buf), &res) || !res)
				return psw_cni_err(err, PSW_CNI_E_CONFIG,
						   "network config: \"socketOwner\": no user \"%s\" on this node",
						   nc->socket_owner);
			out->uid = pw.pw_uid;
		}
		out->uid_set = true;
	}
	if (nc->socket_group[0]) {
		struct group gr, *res = NULL;

		if (!numeric_id(nc->socket_group, &out->gid)) {
			if (getgrnam_r(nc->socket_group, &gr, buf, sizeof(buf), &res) || !res)
				return psw_cni_err(err, PSW_CNI_E_CONFIG,
						   "network config: \"socketGroup\": no group \"%s\" on this node",
						   nc->socket_group);
			out->gid = gr.gr_gid;
		}
		out->gid_set = true;
	}
	out->mode_set = nc->socket_mode_set;
	out->mode = nc->socket_mode;
	return 0;
}

unsigned psw_sock_dir_mode(unsigned m)
{
	m |= 0700;
	if (m & 0060)
		m |= 0010;
	if (m & 0006)
		m |= 0001;
	return m;
}

/* ---- environment ---- */

static bool parse_bool_text(const char *s, bool *out)
{
	static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True", NULL};
	static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False", NULL};

	for (int i = 0; t[i]; i++) {
		if (strcmp(s, t[i]) == 0)
			return *out = true, true;
		if (strcmp(s, f[i]) == 0)
			return *out = false, true;
	}
	return false;
}

static int copy_arg(char *out, size_t len, const char *key, const char *val,
		    struct psw_cni_error *err)
{
	if (strlen(val) >= len)
		return psw_cni_err(err, PSW_CNI_E_ENV, "CNI_ARGS: %s is too long", key);
	snprintf(out, len, "%s", val);
	return 0;
}

int psw_cni_args_parse(const char *args, struct psw_cni_env *env, struct psw_cni_error *err)
{
	/* Keys other plugins of a chain read (static IPAM: IP, GATEWAY): known, not ours. */
	static const char *const passed_on[] = {"IP", "GATEWAY", "K8S_POD_NETWORK", NULL};
	char *copy, *save = NULL, *pair;
	char unknown[128] = "";
	int rc = 0;

	if (!args || !*args)
		return 0;
	copy = strdup(args);
	if (!copy)
		return psw_cni_err(err, PSW_CNI_E_IO, "out of memory");
	for (pair = strtok_r(copy, ";", &save); pair; pair = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(pair, '='), *key = pair, *val;

		if (!eq || eq == pair) {
			rc = psw_cni_err(err, PSW_CNI_E_ENV, "CNI_ARGS: invalid pair \"%s\"", pair);
			goto out;
		}
		*eq = '\0';
		val = eq + 1;
		if (strcmp(key, "IgnoreUnknown") == 0) {
			if (!parse_bool_text(val, &env->ignore_unknown)) {
				rc = psw_cni_err(err, PSW_CNI_E_ENV,
						 "CNI_ARGS: IgnoreUnknown must be true or false, not \"%s\"", val);
				goto out;
			}
		} else if (strcmp(key, "K8S_POD_NAMESPACE") == 0) {
			rc = copy_arg(env->k8s_namespace, sizeof(env->k8s_namespace), key, val, err);
		} else if (strcmp(key, "K8S_POD_NAME") == 0) {
			rc = copy_arg(env->k8s_pod, sizeof(env->k8s_pod), key, val, err);
		} else if (strcmp(key, "K8S_POD_INFRA_CONTAINER_ID") == 0) {
			rc = copy_arg(env->k8s_infra_id, sizeof(env->k8s_infra_id), key, val, err);
		} else if (strcmp(key, "K8S_POD_UID") == 0) {
			rc = copy_arg(env->k8s_pod_uid, sizeof(env->k8s_pod_uid), key, val, err);
		} else if (strcmp(key, "MAC") == 0) {
			if (psw_mac_parse(val, env->mac)) {
				rc = psw_cni_err(err, PSW_CNI_E_ENV,
						 "CNI_ARGS: MAC \"%s\" is not a unicast MAC address", val);
				goto out;
			}
			env->mac_set = true;
		} else {
			bool known = false;

			for (int i = 0; passed_on[i]; i++)
				known |= strcmp(passed_on[i], key) == 0;
			if (!known && !unknown[0])
				snprintf(unknown, sizeof(unknown), "%s", key);
		}
		if (rc)
			goto out;
	}
	/* IgnoreUnknown may come after the unknown key, so decide at the end. */
	if (unknown[0] && !env->ignore_unknown)
		rc = psw_cni_err(err, PSW_CNI_E_ENV,
				 "CNI_ARGS: unknown key \"%s\" (set IgnoreUnknown=1 to allow it)", unknown);
out:
	free(copy);
	return rc;
}

static bool valid_container_id(const char *s)
{
	if (!isalnum((unsigned char)*s))
		return false;
	return all_name_chars(s);
}

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= PSW_CNI_IFNAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s))
			return false;
	return true;
}

static const char *env_get(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

int psw_cni_env_load(struct psw_cni_env *env, struct psw_cni_error *err)
{
	bool add_like, del;

	memset(env, 0, sizeof(*env));
	env->command = env_get("CNI_COMMAND");
	if (!env->command)
		return psw_cni_err(err, PSW_CNI_E_ENV, "CNI_COMMAND is not set");
	env->container_id = env_get("CNI_CONTAINERID");
	env->netns = env_get("CNI_NETNS");
	env->ifname = env_get("CNI_IFNAME");
	env->path = env_get("CNI_PATH");
	add_like = !strcmp(env->command, "ADD") || !strcmp(env->command, "CHECK");
	del = !strcmp(env->command, "DEL");
	if (!add_like && !del && strcmp(env->command, "STATUS") && strcmp(env->command, "GC") &&
	    strcmp(env->command, "VERSION"))
		return psw_cni_err(err, PSW_CNI_E_ENV,
				   "CNI_COMMAND \"%s\" is not one of ADD, DEL, CHECK, STATUS, GC, VERSION",
				   env->command);
	if (add_like || del) {
		if (!env->container_id)
			return psw_cni_err(err, PSW_CNI_E_ENV, "CNI_CONTAINERID is not set");
		if (!valid_container_id(env->container_id))
			return psw_cni_err(err, PSW_CNI_E_ENV,
					   "CNI_CONTAINERID \"%s\" must be alphanumeric with _ . -",
					   env->container_id);
		if (!env->ifname)
			return psw_cni_err(err, PSW_CNI_E_ENV, "CNI_IFNAME is not set");
		if (!valid_ifname(env->ifname))
			return psw_cni_err(err, PSW_CNI_E_ENV,
					   "CNI_IFNAME \"%s\" is not a valid interface name", env->ifname);
		if (add_like && !env->netns)
			return psw_cni_err(err, PSW_CNI_E_ENV, "CNI_NETNS is not set");
	}
	if (add_like || del || !strcmp(env->command, "GC")) {
		if (!env->path)
			return psw_cni_err(err, PSW_CNI_E_ENV, "CNI_PATH is not set");
	}
	return psw_cni_args_parse(getenv("CNI_ARGS"), env, err);
}
