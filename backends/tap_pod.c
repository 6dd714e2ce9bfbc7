/*
 * tap_pod.c: a tap port's interface inside its pod, through netlink (libnl-route-3), for
 * tap.c. At a restart podswitchd finds the pod's interface again (find), and rebuilds it
 * when it is gone (setup: the same steps as the CNI plugin's cni/netns.c: move under the
 * unique host name, rename inside the pod, up, addresses, routes); port.del deletes it
 * (delete). Nothing here touches an interface that does not carry this port's tag.
 *
 * Control thread (main lcore) only, never on the packet path. A netlink socket belongs to
 * the namespace it was opened in, so pod-side work switches the calling thread into the
 * pod's namespace (backends/netns.c, setns() on this thread alone) and opens its socket
 * there.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "backends/backend_lib.h"
#include "backends/tap_pod.h"

static struct nl_sock *
nl_open(void)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (sk != NULL && nl_connect(sk, NETLINK_ROUTE) < 0) {
		nl_socket_free(sk);
		sk = NULL;
	}
	return sk;
}

/* --- option checks (no system calls) --- */

static int
check_addr(const char *what, json_t *v, bool prefix, struct psw_rpc_error *err)
{
	struct nl_addr *a = NULL;
	const char *s = json_string_value(v);

	if (s == NULL)
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS, "options.%s: expected a string",
				       what);
	if (nl_addr_parse(s, AF_UNSPEC, &a) < 0 ||
	    (nl_addr_get_family(a) != AF_INET && nl_addr_get_family(a) != AF_INET6) ||
	    (!prefix && strchr(s, '/') != NULL)) {
		nl_addr_put(a);
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.%s: '%s' is not an IP %s", what, s,
				       prefix ? "prefix (address/length)" : "address");
	}
	nl_addr_put(a);
	return 0;
}

static bool
key_in(const char *key, const char *const *keys)
{
	for (; *keys != NULL; keys++)
		if (strcmp(key, *keys) == 0)
			return true;
	return false;
}

int
psw_tap_pod_check(json_t *ips, json_t *routes, struct psw_rpc_error *err)
{
	static const char *const ip_keys[] = {"address", "gateway", NULL};
	static const char *const route_keys[] = {"dst", "gw", "mtu", "advmss", "priority",
						 "table", "scope", NULL};
	char what[64];
	const char *key;
	json_t *e, *v;
	size_t i;

	if (ips != NULL && !json_is_array(ips))
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.ips: expected an array");
	if (routes != NULL && !json_is_array(routes))
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.routes: expected an array");
	json_array_foreach(ips, i, e) {
		if (!json_is_object(e))
			return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
					       "options.ips[%zu]: expected an object", i);
		json_object_foreach(e, key, v)
			if (!key_in(key, ip_keys))
				return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
						       "options.ips[%zu].%s: unknown key", i, key);
		snprintf(what, sizeof(what), "ips[%zu].address", i);
		if (check_addr(what, json_object_get(e, "address"), true, err) < 0)
			return -1;
		snprintf(what, sizeof(what), "ips[%zu].gateway", i);
		if (json_object_get(e, "gateway") != NULL &&
		    check_addr(what, json_object_get(e, "gateway"), false, err) < 0)
			return -1;
	}
	json_array_foreach(routes, i, e) {
		if (!json_is_object(e))
			return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
					       "options.routes[%zu]: expected an object", i);
		json_object_foreach(e, key, v) {
			if (!key_in(key, route_keys))
				return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
						       "options.routes[%zu].%s: unknown key", i, key);
			if (strcmp(key, "dst") != 0 && strcmp(key, "gw") != 0 &&
			    (!json_is_integer(v) || json_integer_value(v) < 0))
				return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
						       "options.routes[%zu].%s: expected a non-negative integer",
						       i, key);
		}
		snprintf(what, sizeof(what), "routes[%zu].dst", i);
		if (check_addr(what, json_object_get(e, "dst"), true, err) < 0)
			return -1;
		snprintf(what, sizeof(what), "routes[%zu].gw", i);
		if (json_object_get(e, "gw") != NULL &&
		    check_addr(what, json_object_get(e, "gw"), false, err) < 0)
			return -1;
	}
	return 0;
}

/* --- finding and deleting (in whichever namespace) --- */

/* Is link a tap carrying tag? */
static bool
ours(struct rtnl_link *link, const char *tag)
{
	const char *kind = rtnl_link_get_type(link);
	const char *alias = rtnl_link_get_ifalias(link);

	return kind != NULL && strcmp(kind, "tun") == 0 &&
	       rtnl_link_get_arptype(link) == ARPHRD_ETHER && alias != NULL &&
	       strcmp(alias, tag) == 0;
}

/* Run in netns (NULL: where we are) with a netlink socket opened there. */
static int
in_ns(const char *netns, int (*fn)(struct nl_sock *, void *), void *arg,
      struct psw_rpc_error *err)
{
	struct nl_sock *sk;
	int saved = -1, rc;

	if (netns != NULL && psw_netns_enter(netns, &saved, err) < 0)
		return -2;
	sk = nl_open();
	if (sk == NULL)
		rc = psw_backend_err(err, PSW_RPC_FAILED, "netlink: cannot open a socket");
	else
		rc = fn(sk, arg);
	if (sk != NULL)
		nl_socket_free(sk);
	if (saved >= 0 && psw_netns_leave(saved) < 0) {
		/* Cannot happen short of a kernel bug; the control thread must not go on in a
		 * pod's namespace (its next tap or socket would be made there). */
		fprintf(stderr, "podswitchd: cannot return from network namespace %s\n", netns);
		abort();
	}
	return rc;
}

struct find_arg {
	const char *ifname, *tag;
	char *mac;
	bool del;
	struct psw_rpc_error *err;
};

static int
find_fn(struct nl_sock *sk, void *p)
{
	struct find_arg *a = p;
	struct rtnl_link *link = NULL;
	int rc;

	if (rtnl_link_get_kernel(sk, 0, a->ifname, &link) < 0)
		return 0;
	if (!ours(link, a->tag)) {
		rtnl_link_put(link);
		return psw_backend_err(a->err, PSW_RPC_EXISTS,
				       "%s is not this port's tap (no tag %s): not touched", a->ifname,
				       a->tag);
	}
	if (a->mac != NULL)
		nl_addr2str(rtnl_link_get_addr(link), a->mac, 18);
	rc = 1;
	if (a->del && rtnl_link_delete(sk, link) < 0)
		rc = 0;
	rtnl_link_put(link);
	return rc;
}

int
psw_tap_pod_find(const char *netns, const char *ifname, const char *tag, char mac[18],
		 struct psw_rpc_error *err)
{
	struct find_arg a = {.ifname = ifname, .tag = tag, .mac = mac, .err = err};
	int rc = in_ns(netns, find_fn, &a, err);

	return rc < -1 ? -1 : rc;
}

int
psw_tap_pod_delete(const char *netns, const char *ifname, const char *tag)
{
	struct psw_rpc_error ignored;
	struct find_arg a = {.ifname = ifname, .tag = tag, .del = true, .err = &ignored};

	if (netns != NULL && access(netns, F_OK) != 0)
		return 0; /* the pod's namespace is gone, and its interfaces with it */
	return in_ns(netns, find_fn, &a, &ignored) > 0;
}

struct tag_arg {
	const char *ifname, *tag;
	struct psw_rpc_error *err;
};

static int
tag_fn(struct nl_sock *sk, void *p)
{
	struct tag_arg *a = p;
	struct rtnl_link *link = NULL, *change = rtnl_link_alloc();
	int rc = -1, nrc;

	if (change == NULL)
		return psw_backend_err(a->err, PSW_RPC_FAILED, "netlink: out of memory");
	if ((nrc = rtnl_link_get_kernel(sk, 0, a->ifname, &link)) < 0) {
		psw_backend_err(a->err, PSW_RPC_FAILED, "tap %s: %s", a->ifname, nl_geterror(nrc));
		goto out;
	}
	rtnl_link_set_ifalias(change, a->tag);
	if ((nrc = rtnl_link_change(sk, link, change, 0)) < 0) {
		psw_backend_err(a->err, PSW_RPC_FAILED, "tap %s: setting its alias: %s", a->ifname,
				nl_geterror(nrc));
		goto out;
	}
	rc = 0;
out:
	if (link != NULL)
		rtnl_link_put(link);
	rtnl_link_put(change);
	return rc;
}

int
psw_tap_pod_tag(const char *ifname, const char *tag, struct psw_rpc_error *err)
{
	struct tag_arg a = {.ifname = ifname, .tag = tag, .err = err};

	return in_ns(NULL, tag_fn, &a, err) < 0 ? -1 : 0;
}

/* --- rebuilding the pod side --- */

static int
add_addresses(struct nl_sock *sk, int ifindex, json_t *ips, struct psw_rpc_error *err)
{
	json_t *e;
	size_t i;

	json_array_foreach(ips, i, e) {
		const char *s = json_string_value(json_object_get(e, "address"));
		struct rtnl_addr *a = rtnl_addr_alloc();
		struct nl_addr *local = NULL;
		int rc = a == NULL ? -NLE_NOMEM : nl_addr_parse(s, AF_UNSPEC, &local);

		if (rc == 0) {
			rtnl_addr_set_ifindex(a, ifindex);
			rtnl_addr_set_family(a, nl_addr_get_family(local));
			rc = rtnl_addr_set_local(a, local);
			/* The address is the pod's by IPAM: no duplicate detection delay. */
			if (nl_addr_get_family(local) == AF_INET6)
				rtnl_addr_set_flags(a, IFA_F_NODAD);
		}
		if (rc == 0)
			rc = rtnl_addr_add(sk, a, 0);
		nl_addr_put(local);
		if (a != NULL)
			rtnl_addr_put(a);
		if (rc < 0 && rc != -NLE_EXIST)
			return psw_backend_err(err, PSW_RPC_FAILED, "adding address %s: %s", s,
					       nl_geterror(rc));
	}
	return 0;
}

/* A route without "gw" goes through the first gateway of its family among the
 * addresses, as the CNI plugin does (cni/netns.c default_gateway). */
static const char *
default_gateway(json_t *ips, int family)
{
	json_t *e;
	size_t i;

	json_array_foreach(ips, i, e) {
		const char *a = json_string_value(json_object_get(e, "address"));
		const char *g = json_string_value(json_object_get(e, "gateway"));

		if (a != NULL && g != NULL && (strchr(a, ':') != NULL) == (family == AF_INET6))
			return g;
	}
	return NULL;
}

static int
add_route(struct nl_sock *sk, int ifindex, json_t *r, json_t *ips, struct psw_rpc_error *err)
{
	const char *dst_s = json_string_value(json_object_get(r, "dst"));
	const char *gw_s = json_string_value(json_object_get(r, "gw"));
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = NULL, *gw = NULL;
	int fam = strchr(dst_s, ':') != NULL ? AF_INET6 : AF_INET, rc;
	json_t *v;

	if (rt == NULL || nh == NULL) {
		rc = -NLE_NOMEM;
		goto out;
	}
	if (gw_s == NULL)
		gw_s = default_gateway(ips, fam);
	if ((rc = nl_addr_parse(dst_s, fam, &dst)) < 0 ||
	    (gw_s != NULL && (rc = nl_addr_parse(gw_s, fam, &gw)) < 0))
		goto out;
	rtnl_route_set_family(rt, fam);
	rtnl_route_set_dst(rt, dst);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_protocol(rt, RTPROT_BOOT);
	rtnl_route_set_scope(rt, gw != NULL ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
	rtnl_route_set_type(rt, RTN_UNICAST);
	if (json_is_integer(v = json_object_get(r, "mtu")))
		rtnl_route_set_metric(rt, RTAX_MTU, json_integer_value(v));
	if (json_is_integer(v = json_object_get(r, "advmss")))
		rtnl_route_set_metric(rt, RTAX_ADVMSS, json_integer_value(v));
	if (json_is_integer(v = json_object_get(r, "priority")))
		rtnl_route_set_priority(rt, json_integer_value(v));
	if (json_is_integer(v = json_object_get(r, "table")))
		rtnl_route_set_table(rt, json_integer_value(v));
	if (json_is_integer(v = json_object_get(r, "scope")))
		rtnl_route_set_scope(rt, json_integer_value(v));
	rtnl_route_nh_set_ifindex(nh, ifindex);
	if (gw != NULL)
		rtnl_route_nh_set_gateway(nh, gw);
	rtnl_route_add_nexthop(rt, nh);
	nh = NULL;
	rc = rtnl_route_add(sk, rt, NLM_F_EXCL);
	if (rc == -NLE_EXIST)
		rc = 0; /* e.g. the subnet route the kernel made for the address */
out:
	if (rc < 0)
		psw_backend_err(err, PSW_RPC_FAILED, "adding route %s%s%s: %s", dst_s,
				gw_s ? " via " : "", gw_s ? gw_s : "", nl_geterror(rc));
	if (nh != NULL)
		rtnl_route_nh_free(nh);
	if (rt != NULL)
		rtnl_route_put(rt);
	nl_addr_put(dst);
	nl_addr_put(gw);
	return rc < 0 ? -1 : 0;
}

struct setup_arg {
	const struct psw_tap_pod *pod;
	int host_ns;               /* to move the link back on failure */
	struct psw_rpc_error *err;
};

/* Inside the pod: rename, up, addresses, routes; on failure back to the host. */
static int
setup_fn(struct nl_sock *sk, void *p)
{
	struct setup_arg *a = p;
	const struct psw_tap_pod *pod = a->pod;
	struct rtnl_link *link = NULL, *change = NULL;
	int rc = -1, nrc, ifindex = 0;
	json_t *r;
	size_t i;

	if ((nrc = rtnl_link_get_kernel(sk, 0, pod->host_name, &link)) < 0) {
		psw_backend_err(a->err, PSW_RPC_FAILED, "%s is not in %s after the move: %s",
				pod->host_name, pod->netns, nl_geterror(nrc));
		goto out;
	}
	ifindex = rtnl_link_get_ifindex(link);
	if ((change = rtnl_link_alloc()) == NULL)
		goto out;
	/* A rename needs the link down; the move took it down. An interface of that name
	 * in the pod makes it fail, and then nothing of the pod's was touched. */
	rtnl_link_set_name(change, pod->ifname);
	if ((nrc = rtnl_link_change(sk, link, change, 0)) < 0) {
		psw_backend_err(a->err, PSW_RPC_FAILED, "renaming %s to %s in %s: %s",
				pod->host_name, pod->ifname, pod->netns, nl_geterror(nrc));
		goto out;
	}
	rtnl_link_put(change);
	rtnl_link_put(link);
	link = NULL;
	change = rtnl_link_alloc();
	if (change == NULL || rtnl_link_get_kernel(sk, ifindex, NULL, &link) < 0) {
		psw_backend_err(a->err, PSW_RPC_FAILED, "%s vanished after the rename",
				pod->ifname);
		goto out;
	}
	rtnl_link_set_flags(change, IFF_UP);
	if ((nrc = rtnl_link_change(sk, link, change, 0)) < 0) {
		psw_backend_err(a->err, PSW_RPC_FAILED, "setting %s up: %s", pod->ifname,
				nl_geterror(nrc));
		goto out;
	}
	if (add_addresses(sk, ifindex, pod->ips, a->err) < 0)
		goto out;
	json_array_foreach(pod->routes, i, r)
		if (add_route(sk, ifindex, r, pod->ips, a->err) < 0)
			goto out;
	rc = 0;
out:
	if (change != NULL)
		rtnl_link_put(change);
	if (link != NULL)
		rtnl_link_put(link);
	if (rc < 0 && ifindex > 0 && (change = rtnl_link_alloc()) != NULL) {
		if (rtnl_link_get_kernel(sk, ifindex, NULL, &link) == 0) {
			rtnl_link_set_ns_fd(change, a->host_ns);
			rtnl_link_set_name(change, pod->host_name);
			(void)rtnl_link_change(sk, link, change, 0);
			rtnl_link_put(link);
		}
		rtnl_link_put(change);
	}
	return rc;
}

int
psw_tap_pod_setup(const struct psw_tap_pod *pod, struct psw_rpc_error *err)
{
	struct setup_arg a = {.pod = pod, .err = err};
	struct rtnl_link *link = NULL, *change = NULL;
	struct nl_sock *sk = nl_open();
	int nsfd = -1, rc = -1, nrc;

	a.host_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	nsfd = open(pod->netns, O_RDONLY | O_CLOEXEC);
	if (sk == NULL || a.host_ns < 0 || nsfd < 0) {
		psw_backend_err(err, PSW_RPC_FAILED, "options.netns: %s: %s", pod->netns,
				sk == NULL ? "netlink socket" : strerror(errno));
		goto out;
	}
	if ((nrc = rtnl_link_get_kernel(sk, 0, pod->host_name, &link)) < 0 ||
	    (change = rtnl_link_alloc()) == NULL) {
		psw_backend_err(err, PSW_RPC_FAILED, "tap %s: %s", pod->host_name,
				nrc < 0 ? nl_geterror(nrc) : "out of memory");
		goto out;
	}
	/* Move under the host name (unique), rename inside: moving and renaming in one
	 * request would leave the link in the pod when the name is taken. */
	rtnl_link_set_ns_fd(change, nsfd);
	if ((nrc = rtnl_link_change(sk, link, change, 0)) < 0) {
		psw_backend_err(err, PSW_RPC_FAILED, "moving %s into %s: %s", pod->host_name,
				pod->netns, nl_geterror(nrc));
		goto out;
	}
	rc = in_ns(pod->netns, setup_fn, &a, err) < 0 ? -1 : 0;
out:
	if (change != NULL)
		rtnl_link_put(change);
	if (link != NULL)
		rtnl_link_put(link);
	if (sk != NULL)
		nl_socket_free(sk);
	if (nsfd >= 0)
		close(nsfd);
	if (a.host_ns >= 0)
		close(a.host_ns);
	return rc;
}
