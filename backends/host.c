/*
 * host.c: the "host" port type: a kernel interface in the node's own network namespace
 * (podswitchd's, hostNetwork in a DaemonSet) joined to a network and carrying addresses
 * on it, normally the network's gateway. The node and HostNetwork pods reach the
 * network's pods through it, and pods reach the node and, through the node's own routing
 * and NAT, the outside. The device is DPDK's net_tap left where it is made; the addresses
 * are set over rtnetlink once the port has started (net_tap brings the link up).
 *
 * Options: "ifname" (default: the port name), "address" and "address6" (an address with
 * its prefix). Given neither, port.add uses the network's gateway (network.add "gateway").
 * Removing the port removes the interface and with it its addresses and routes.
 *
 * Control thread (main lcore) only; not on the packet path.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>

#include <rte_dev.h>
#include <rte_mempool.h>

#include "backends/backend_lib.h"
#include "port/backend.h"
#include "port/port.h"

#define HOST_DEV_NAME_MAX (RTE_MEMPOOL_NAMESIZE - 1 - 3)   /* as net_tap's, see tap.c */

static const struct psw_opt host_opts[] = {
	{ "ifname", PSW_OPT_STRING },
	{ "address", PSW_OPT_STRING },
	{ "address6", PSW_OPT_STRING },
	{ NULL },
};

static bool
ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IFNAMSIZ)
		return false;
	for (const char *c = s; *c != '\0'; c++)
		if (*c == '/' || *c == ':')
			return false;
	return psw_devarg_value_ok(s);
}

/* An address with a prefix of family af ("10.244.1.1/24"): 0 or -1 with err. */
static int
addr_check(json_t *o, const char *key, int af, struct psw_rpc_error *err)
{
	const char *s = psw_opt_str(o, key, NULL);
	struct nl_addr *a = NULL;
	int ok;

	if (s == NULL)
		return 0;
	ok = strchr(s, '/') != NULL && nl_addr_parse(s, af, &a) == 0 &&
	     nl_addr_get_prefixlen(a) > 0 && !nl_addr_iszero(a);
	nl_addr_put(a);
	if (!ok)
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.%s: '%s' is not an %s address with its prefix",
				       key, s, af == AF_INET ? "IPv4" : "IPv6");
	return 0;
}

static int
host_parse(const char *name, json_t *o, const char **ifname, struct psw_rpc_error *err)
{
	if (!psw_backend_name_ok(name))
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "name: '%s' is not a valid port name", name);
	if (psw_opts_check(o, host_opts, err) < 0 || addr_check(o, "address", AF_INET, err) < 0 ||
	    addr_check(o, "address6", AF_INET6, err) < 0)
		return -1;
	*ifname = psw_opt_str(o, "ifname", name);
	if (!ifname_ok(*ifname))
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.ifname: '%s' is not a valid interface name (1..%d characters)",
				       *ifname, IFNAMSIZ - 1);
	return 0;
}

static int
host_prepare(const char *name, json_t *options, char *devargs, size_t len,
	     struct psw_rpc_error *err)
{
	char dev[RTE_DEV_NAME_MAX_LEN], owner[RTE_DEV_NAME_MAX_LEN];
	const char *ifname;
	int n;

	if (host_parse(name, options, &ifname, err) < 0)
		return -1;
	if (psw_backend_dev_name("net_tap", name, HOST_DEV_NAME_MAX, dev, sizeof(dev)) < 0)
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS, "name: '%s' is not usable", name);
	if (psw_devargs_in_use("net_tap", "iface", ifname, owner, sizeof(owner)))
		return psw_backend_err(err, PSW_RPC_EXISTS,
				       "options.ifname: %s is already used by device %s", ifname,
				       owner);
	if (if_nametoindex(ifname) != 0)
		return psw_backend_err(err, PSW_RPC_EXISTS,
				       "options.ifname: a network interface named %s exists", ifname);
	n = snprintf(devargs, len, "%s,iface=%s", dev, ifname);
	if (n < 0 || (size_t)n >= len)
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS, "options: devargs too long");
	return 0;
}

/* Add address s (with prefix) to interface ifindex. 0 or -errno. */
static int
addr_add(struct nl_sock *sk, int ifindex, const char *s, int af)
{
	struct rtnl_addr *ra = rtnl_addr_alloc();
	struct nl_addr *a = NULL;
	int rc;

	if (ra == NULL || nl_addr_parse(s, af, &a) != 0) {
		rtnl_addr_put(ra);
		return -EINVAL;
	}
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_local(ra, a);
	rc = rtnl_addr_add(sk, ra, 0);
	nl_addr_put(a);
	rtnl_addr_put(ra);
	return rc == 0 || rc == -NLE_EXIST ? 0 : -EIO;
}

static int
host_started(const char *name, uint16_t dpdk_port, json_t *options, struct psw_rpc_error *err)
{
	const char *ifname, *keys[] = {"address", "address6"};
	struct nl_sock *sk;
	int ifindex, rc = 0;

	(void)dpdk_port;
	if (host_parse(name, options, &ifname, err) < 0)
		return -1;
	ifindex = (int)if_nametoindex(ifname);
	if (ifindex == 0)
		return psw_backend_err(err, PSW_RPC_FAILED, "options.ifname: %s did not appear", ifname);
	sk = nl_socket_alloc();
	if (sk == NULL || nl_connect(sk, NETLINK_ROUTE) != 0) {
		nl_socket_free(sk);
		return psw_backend_err(err, PSW_RPC_FAILED, "cannot talk to rtnetlink");
	}
	for (int i = 0; i < 2 && rc == 0; i++) {
		const char *s = psw_opt_str(options, keys[i], NULL);

		if (s != NULL && addr_add(sk, ifindex, s, i ? AF_INET6 : AF_INET) != 0)
			rc = psw_backend_err(err, PSW_RPC_FAILED, "options.%s: cannot add %s to %s",
					     keys[i], s, ifname);
	}
	nl_socket_free(sk);
	return rc;
}

static void
host_describe(const char *name, json_t *options, json_t *out)
{
	const char *ifname;

	if (host_parse(name, options, &ifname, NULL) < 0)
		return;
	json_object_set_new(out, "ifname", json_string(ifname));
}

const struct psw_backend psw_backend_host = {
	.type = "host",
	.prepare = host_prepare,
	.started = host_started,
	.describe = host_describe,
	.gateway = true,
};
