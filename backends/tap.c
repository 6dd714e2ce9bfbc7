/*
 * tap.c: the "tap" port type, for ordinary (kernel networking) pods. The device is DPDK's
 * net_tap: a kernel tap netdev whose file descriptors podswitchd polls. The CNI plugin
 * moves the netdev into the pod's network namespace; the descriptors keep working there
 * (a tap is bound to its fd, not to a namespace). MAC and MTU come from port.add ("mac",
 * "mtu") and are set by port.c through ethdev before the move.
 *
 * What changes after the move: net_tap manages the netdev with ioctls by name on a socket
 * in podswitchd's namespace, which no longer sees it; link state read through ethdev then
 * says "down" (tap_link() answers instead) and MTU/MAC changes fail. Closing the port still deletes the netdev (the
 * kernel removes a non-persistent tap when its last fd closes), wherever it is.
 * Because those ioctls go by name, two tap ports may never use the same ifname: a new
 * netdev of the same name in our namespace would receive the old port's ioctls.
 *
 * Control thread (main lcore) only; not on the packet path.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "port/backend.h"
#include "backends/backend_lib.h"
#include "port/port.h"

/* net_tap names a mempool "mp_<device name>" (tap_gso_ctx_setup) and fails to start
 * when that does not fit in a mempool name. */
#define TAP_DEV_NAME_MAX (RTE_MEMPOOL_NAMESIZE - 1 - 3)

static const struct psw_opt tap_opts[] = {
	{ "ifname", PSW_OPT_STRING },
	{ NULL },
};

static bool
ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IFNAMSIZ || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (const char *c = s; *c != '\0'; c++)
		if (*c == '/' || *c == ':')
			return false;
	return psw_devarg_value_ok(s);
}

static bool
is_tap(const char *ifname)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/class/net/%s/tun_flags", ifname);
	return access(path, F_OK) == 0;
}

static int
tap_parse(const char *name, json_t *o, const char **ifname, struct psw_rpc_error *err)
{
	if (!psw_backend_name_ok(name))
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "name: '%s' is not a valid port name", name);
	if (psw_opts_check(o, tap_opts, err) < 0)
		return -1;
	*ifname = psw_opt_str(o, "ifname", NULL);
	if (*ifname == NULL) {
		if (!ifname_ok(name))
			return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
					       "options.ifname: required: port name '%s' is not a valid interface name (1..%d characters)",
					       name, IFNAMSIZ - 1);
		*ifname = name;
	} else if (!ifname_ok(*ifname)) {
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.ifname: '%s' is not a valid interface name (1..%d characters, no '/', ':', spaces, ',' or '=')",
				       *ifname, IFNAMSIZ - 1);
	}
	return 0;
}

static int
tap_prepare(const char *name, json_t *options, char *devargs, size_t len,
	    struct psw_rpc_error *err)
{
	char dev[RTE_DEV_NAME_MAX_LEN], owner[RTE_DEV_NAME_MAX_LEN];
	const char *ifname;
	int n;

	if (tap_parse(name, options, &ifname, err) < 0)
		return -1;
	if (psw_backend_dev_name("net_tap", name, TAP_DEV_NAME_MAX, dev,
				 sizeof(dev)) < 0)
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS, "name: '%s' is not usable",
				       name);
	if (psw_devargs_in_use("net_tap", "iface", ifname, owner, sizeof(owner)))
		return psw_backend_err(err, PSW_RPC_EXISTS,
				       "options.ifname: %s is already used by device %s", ifname,
				       owner);
	/* A tap closed a moment ago lives until the last reference to its fd goes, which
	 * another thread's poll() may hold for up to a second (see memif.c): wait for a tap
	 * (not for any other kind of netdev) to go away. */
	for (int i = 0; i < 75 && is_tap(ifname); i++)
		usleep(20 * 1000);
	if (if_nametoindex(ifname) != 0)
		return psw_backend_err(err, PSW_RPC_EXISTS,
				       "options.ifname: a network interface named %s exists",
				       ifname);
	n = snprintf(devargs, len, "%s,iface=%s", dev, ifname);
	if (n < 0 || (size_t)n >= len)
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS, "options: devargs too long");
	return 0;
}

static int
tap_link(uint16_t dpdk_port)
{
	struct rte_eth_dev_info info;
	const struct rte_devargs *da;
	char ifname[IFNAMSIZ];
	const char *at;

	if (rte_eth_dev_info_get(dpdk_port, &info) != 0 || info.device == NULL)
		return -1;
	da = rte_dev_devargs(info.device);
	if (da == NULL || da->args == NULL)
		return -1;
	at = strstr(da->args, "iface=");
	if (at == NULL)
		return -1;
	at += strlen("iface=");
	snprintf(ifname, sizeof(ifname), "%.*s", (int)strcspn(at, ","), at);
	/* Still in our namespace: ethdev's answer is right. Gone from it: moved into a pod
	 * (a tap is deleted only when its fds close, which is port.del). */
	return if_nametoindex(ifname) != 0 ? -1 : 1;
}

static void
tap_describe(const char *name, json_t *options, json_t *out)
{
	const char *ifname;

	if (tap_parse(name, options, &ifname, NULL) < 0)
		return;
	json_object_set_new(out, "ifname", json_string(ifname));
}

const struct psw_backend psw_backend_tap = {
	.type = "tap",
	.prepare = tap_prepare,
	.started = NULL,
	.removed = NULL,
	.link = tap_link,
	.describe = tap_describe,
};
