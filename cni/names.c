/*
 * names.c: the names an attachment gets, derived from (container id, ifname) so that ADD,
 * DEL, CHECK and GC all compute the same ones without keeping state: podswitchd's port,
 * the host tap, the pod's socket directory, its socket and metadata file; and MAC
 * addresses as the plugin reads, writes and makes them. Plugin process only.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cni.h"

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

bool psw_cni_name_valid(const char *s)
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
	if (env->k8s_namespace[0] && env->k8s_pod[0] && psw_cni_name_valid(env->k8s_namespace) &&
	    psw_cni_name_valid(env->k8s_pod) && (long)n <= room) {
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
