/*
 * netns.c: the pod side of a kernel (tap) attachment, through netlink (libnl-route-3), no
 * `ip` commands. podswitchd creates the tap in the host network namespace; here it is
 * moved into the pod's namespace and renamed in one request (so no other interface of
 * the pod ever sees a half-set-up name), then given its MAC, MTU, addresses and routes and
 * brought up. CHECK reads the same things back. A netlink socket belongs to the namespace
 * it was opened in, so pod-side work opens its socket after setns(). Plugin process only
 * (single-threaded, so switching the process's namespace is safe).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "cni.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

static struct nl_sock *nl_open(struct psw_cni_error *err)
{
	struct nl_sock *sk = nl_socket_alloc();
	int rc;

	if (!sk) {
		psw_cni_err(err, PSW_CNI_E_IO, "netlink: out of memory");
		return NULL;
	}
	if ((rc = nl_connect(sk, NETLINK_ROUTE)) < 0) {
		psw_cni_err(err, PSW_CNI_E_IO, "netlink: %s", nl_geterror(rc));
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

int psw_netns_exists(const char *netns, struct psw_cni_error *err)
{
	struct statfs fs;

	if (statfs(netns, &fs)) {
		if (errno == ENOENT)
			return 0;
		return psw_cni_err(err, PSW_CNI_E_NO_CONTAINER, "netns %s: %s", netns,
				   strerror(errno));
	}
	if (fs.f_type != NSFS_MAGIC && fs.f_type != PROC_SUPER_MAGIC)
		return psw_cni_err(err, PSW_CNI_E_NO_CONTAINER, "%s is not a network namespace",
				   netns);
	return 1;
}

/* Switch this process into netns; *back is the namespace to return to. */
static int enter(const char *netns, int *back, struct psw_cni_error *err)
{
	int fd = open(netns, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return psw_cni_err(err, PSW_CNI_E_NO_CONTAINER, "netns %s: %s", netns,
				   strerror(errno));
	*back = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*back < 0) {
		close(fd);
		return psw_cni_err(err, PSW_CNI_E_IO, "/proc/self/ns/net: %s", strerror(errno));
	}
	if (setns(fd, CLONE_NEWNET)) {
		int e = errno;

		close(fd);
		close(*back);
		return psw_cni_err(err, PSW_CNI_E_NO_CONTAINER, "netns %s: %s", netns,
				   e == EINVAL ? "not a network namespace" : strerror(e));
	}
	close(fd);
	return 0;
}

static void leave(int back)
{
	if (setns(back, CLONE_NEWNET))
		fprintf(stderr, "podswitch: cannot return to the host netns: %s\n", strerror(errno));
	close(back);
}

static int set_addresses(struct nl_sock *sk, int ifindex, const struct psw_ipam_result *ipam,
			 struct psw_cni_error *err)
{
	for (unsigned i = 0; ipam && i < ipam->n_ips; i++) {
		const struct psw_ip *ip = &ipam->ips[i];
		struct rtnl_addr *a = rtnl_addr_alloc();
		struct nl_addr *local = NULL;
		int rc;

		if (!a)
			return psw_cni_err(err, PSW_CNI_E_IO, "netlink: out of memory");
		rc = nl_addr_parse(ip->address, ip->family, &local);
		if (rc == 0) {
			rtnl_addr_set_ifindex(a, ifindex);
			rtnl_addr_set_family(a, ip->family);
			rc = rtnl_addr_set_local(a, local);
			/* The address is ours by IPAM: no duplicate detection delay. */
			if (ip->family == AF_INET6)
				rtnl_addr_set_flags(a, IFA_F_NODAD);
		}
		if (rc == 0)
			rc = rtnl_addr_add(sk, a, 0);
		nl_addr_put(local);
		rtnl_addr_put(a);
		if (rc < 0 && rc != -NLE_EXIST)
			return psw_cni_err(err, PSW_CNI_E_NETNS, "adding address %s: %s", ip->address,
					   nl_geterror(rc));
	}
	return 0;
}

static const char *default_gateway(const struct psw_ipam_result *ipam, int family)
{
	for (unsigned i = 0; i < ipam->n_ips; i++)
		if (ipam->ips[i].family == family && ipam->ips[i].gateway[0])
			return ipam->ips[i].gateway;
	return NULL;
}

static int add_route(struct nl_sock *sk, int ifindex, json_t *r,
		     const struct psw_ipam_result *ipam, struct psw_cni_error *err)
{
	const char *dst_s = json_string_value(json_object_get(r, "dst"));
	const char *gw_s = json_string_value(json_object_get(r, "gw"));
	struct nl_addr *dst = NULL, *gw = NULL;
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	json_t *v;
	int fam, rc;

	if (!rt || !nh) {
		rc = -NLE_NOMEM;
		goto out;
	}
	fam = strchr(dst_s, ':') ? AF_INET6 : AF_INET;
	if (!gw_s)
		gw_s = default_gateway(ipam, fam);
	if ((rc = nl_addr_parse(dst_s, fam, &dst)) < 0 ||
	    (gw_s && (rc = nl_addr_parse(gw_s, fam, &gw)) < 0))
		goto out;
	rtnl_route_set_family(rt, fam);
	rtnl_route_set_dst(rt, dst);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_protocol(rt, RTPROT_BOOT);
	rtnl_route_set_scope(rt, gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
	rtnl_route_set_type(rt, RTN_UNICAST);
	/* CNI 1.1.0 route attributes. */
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
	if (gw)
		rtnl_route_nh_set_gateway(nh, gw);
	rtnl_route_add_nexthop(rt, nh);
	nh = NULL;
	rc = rtnl_route_add(sk, rt, NLM_F_EXCL);
	if (rc == -NLE_EXIST)
		rc = 0; /* e.g. the subnet route the kernel made for the address */
out:
	if (rc < 0)
		psw_cni_err(err, PSW_CNI_E_NETNS, "adding route %s%s%s: %s", dst_s ? dst_s : "?",
			    gw_s ? " via " : "", gw_s ? gw_s : "", nl_geterror(rc));
	if (nh)
		rtnl_route_nh_free(nh);
	rtnl_route_put(rt);
	nl_addr_put(dst);
	nl_addr_put(gw);
	return rc < 0 ? -1 : 0;
}

static int set_routes(struct nl_sock *sk, int ifindex, const struct psw_ipam_result *ipam,
		      struct psw_cni_error *err)
{
	size_t i;
	json_t *r;

	if (!ipam)
		return 0;
	json_array_foreach(ipam->routes, i, r)
		if (add_route(sk, ifindex, r, ipam, err))
			return -1;
	return 0;
}

/* Send one change for link; the message names what was being done. */
static int link_change(struct nl_sock *sk, struct rtnl_link *link, struct rtnl_link *change,
		       const char *what, const char *name, struct psw_cni_error *err)
{
	int nrc = rtnl_link_change(sk, link, change, 0);

	if (nrc < 0)
		return psw_cni_err(err, PSW_CNI_E_NETNS, "%s %s: %s", what, name, nl_geterror(nrc));
	return 0;
}

/* In the pod netns, on the link by its (unique) host name: rename to CNI_IFNAME, MAC,
 * MTU, up, addresses, routes. On failure the link goes back to the host netns under its
 * host name (host_ns), so nothing of ours stays in the pod and nothing of the pod's is
 * ever touched: an interface of that name already in the pod makes the rename fail. */
static int setup_in_pod(const struct psw_link_conf *lc, int host_ns, char mac_out[18],
			struct psw_cni_error *err)
{
	struct nl_sock *sk = nl_open(err);
	struct rtnl_link *link = NULL, *change = NULL, *back = NULL;
	struct nl_addr *mac = NULL;
	int rc = -1, nrc, ifindex = 0;

	if (!sk)
		return -1;
	if ((nrc = rtnl_link_get_kernel(sk, 0, lc->host_name, &link)) < 0) {
		psw_cni_err(err, PSW_CNI_E_NETNS, "%s is not in netns %s after the move: %s",
			    lc->host_name, lc->netns, nl_geterror(nrc));
		goto out;
	}
	ifindex = rtnl_link_get_ifindex(link);
	change = rtnl_link_alloc();
	if (!change) {
		psw_cni_err(err, PSW_CNI_E_IO, "netlink: out of memory");
		goto out;
	}
	/* A rename needs the link down; the move took it down. */
	rtnl_link_set_name(change, lc->ifname);
	if ((nrc = rtnl_link_change(sk, link, change, 0)) < 0) {
		if (nrc == -NLE_EXIST)
			psw_cni_err(err, PSW_CNI_E_NETNS, "interface %s already exists in %s",
				    lc->ifname, lc->netns);
		else
			psw_cni_err(err, PSW_CNI_E_NETNS, "renaming %s to %s: %s", lc->host_name,
				    lc->ifname, nl_geterror(nrc));
		goto out;
	}
	rtnl_link_put(change);
	rtnl_link_put(link);
	link = NULL;
	change = rtnl_link_alloc();
	if (!change || rtnl_link_get_kernel(sk, ifindex, NULL, &link) < 0) {
		psw_cni_err(err, PSW_CNI_E_NETNS, "%s vanished after the rename", lc->ifname);
		goto out;
	}
	if (lc->mac) {
		mac = nl_addr_build(AF_LLC, lc->mac, 6);
		rtnl_link_set_addr(change, mac);
	}
	if (lc->mtu)
		rtnl_link_set_mtu(change, lc->mtu);
	rtnl_link_set_flags(change, IFF_UP);
	if (link_change(sk, link, change, "setting MAC/MTU/up on", lc->ifname, err) ||
	    set_addresses(sk, ifindex, lc->ipam, err) || set_routes(sk, ifindex, lc->ipam, err))
		goto out;
	rtnl_link_put(link);
	link = NULL;
	if ((nrc = rtnl_link_get_kernel(sk, ifindex, NULL, &link)) < 0) {
		psw_cni_err(err, PSW_CNI_E_NETNS, "reading %s back: %s", lc->ifname,
			    nl_geterror(nrc));
		goto out;
	}
	nl_addr2str(rtnl_link_get_addr(link), mac_out, 18);
	rc = 0;
out:
	if (rc && ifindex && (back = rtnl_link_alloc())) {
		struct rtnl_link *cur = NULL;

		if (rtnl_link_get_kernel(sk, ifindex, NULL, &cur) == 0) {
			struct psw_cni_error ignored;

			rtnl_link_set_ns_fd(back, host_ns);
			rtnl_link_set_name(back, lc->host_name);
			if (link_change(sk, cur, back, "moving back to the host", lc->host_name,
					&ignored))
				fprintf(stderr, "podswitch: %s\n", ignored.msg);
			rtnl_link_put(cur);
		}
		rtnl_link_put(back);
	}
	nl_addr_put(mac);
	if (change)
		rtnl_link_put(change);
	if (link)
		rtnl_link_put(link);
	nl_socket_free(sk);
	return rc;
}

int psw_netns_setup(const struct psw_link_conf *lc, char mac_out[18], struct psw_cni_error *err)
{
	struct rtnl_link *link = NULL, *change = NULL;
	struct nl_sock *sk;
	int nsfd = -1, back, rc = -1, nrc;

	nsfd = open(lc->netns, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return psw_cni_err(err, PSW_CNI_E_NO_CONTAINER, "netns %s: %s", lc->netns,
				   strerror(errno));
	sk = nl_open(err);
	if (!sk)
		goto out;
	if ((nrc = rtnl_link_get_kernel(sk, 0, lc->host_name, &link)) < 0) {
		psw_cni_err(err, PSW_CNI_E_SWITCH, "podswitchd made no interface %s: %s",
			    lc->host_name, nl_geterror(nrc));
		goto out;
	}
	change = rtnl_link_alloc();
	if (!change) {
		psw_cni_err(err, PSW_CNI_E_IO, "netlink: out of memory");
		goto out;
	}
	/* Move under the host name (unique: psw + hash), rename inside. Moving and renaming
	 * in one request would leave the link in the pod when the name is taken. */
	rtnl_link_set_ns_fd(change, nsfd);
	if ((nrc = rtnl_link_change(sk, link, change, 0)) < 0) {
		psw_cni_err(err, PSW_CNI_E_NETNS, "moving %s into %s: %s", lc->host_name,
			    lc->netns, nl_geterror(nrc));
		goto out;
	}
	if (enter(lc->netns, &back, err))
		goto out;
	rc = setup_in_pod(lc, back, mac_out, err);
	leave(back);
out:
	if (change)
		rtnl_link_put(change);
	if (link)
		rtnl_link_put(link);
	if (sk)
		nl_socket_free(sk);
	close(nsfd);
	return rc;
}

struct addr_walk {
	int ifindex;
	struct nl_addr *want;
	bool found;
};

static void addr_match(struct nl_object *obj, void *arg)
{
	struct rtnl_addr *a = (struct rtnl_addr *)obj;
	struct addr_walk *w = arg;
	struct nl_addr *local = rtnl_addr_get_local(a);

	if (rtnl_addr_get_ifindex(a) != w->ifindex || !local)
		return;
	if (nl_addr_get_family(local) == nl_addr_get_family(w->want) &&
	    nl_addr_get_len(local) == nl_addr_get_len(w->want) &&
	    memcmp(nl_addr_get_binary_addr(local), nl_addr_get_binary_addr(w->want),
		   nl_addr_get_len(local)) == 0 &&
	    rtnl_addr_get_prefixlen(a) == (int)nl_addr_get_prefixlen(w->want))
		w->found = true;
}

static int check_in_pod(const char *ifname, const char *mac,
			const struct psw_ipam_result *ipam, struct psw_cni_error *err)
{
	struct nl_sock *sk = nl_open(err);
	struct rtnl_link *link = NULL;
	struct nl_cache *addrs = NULL;
	char have[32];
	int rc = -1, nrc;

	if (!sk)
		return -1;
	if ((nrc = rtnl_link_get_kernel(sk, 0, ifname, &link)) < 0) {
		psw_cni_err(err, PSW_CNI_E_CHECK, "interface %s is missing: %s", ifname,
			    nl_geterror(nrc));
		goto out;
	}
	if (!(rtnl_link_get_flags(link) & IFF_UP)) {
		psw_cni_err(err, PSW_CNI_E_CHECK, "interface %s is down", ifname);
		goto out;
	}
	nl_addr2str(rtnl_link_get_addr(link), have, sizeof(have));
	if (mac && mac[0] && strcasecmp(mac, have)) {
		psw_cni_err(err, PSW_CNI_E_CHECK, "interface %s has MAC %s, prevResult says %s",
			    ifname, have, mac);
		goto out;
	}
	if ((nrc = rtnl_addr_alloc_cache(sk, &addrs)) < 0) {
		psw_cni_err(err, PSW_CNI_E_IO, "netlink: reading addresses: %s", nl_geterror(nrc));
		goto out;
	}
	for (unsigned i = 0; i < ipam->n_ips; i++) {
		struct addr_walk w = {.ifindex = rtnl_link_get_ifindex(link)};

		if (nl_addr_parse(ipam->ips[i].address, ipam->ips[i].family, &w.want) < 0) {
			psw_cni_err(err, PSW_CNI_E_DECODE, "bad address %s", ipam->ips[i].address);
			goto out;
		}
		nl_cache_foreach(addrs, addr_match, &w);
		nl_addr_put(w.want);
		if (!w.found) {
			psw_cni_err(err, PSW_CNI_E_CHECK, "interface %s lacks address %s", ifname,
				    ipam->ips[i].address);
			goto out;
		}
	}
	rc = 0;
out:
	if (addrs)
		nl_cache_free(addrs);
	if (link)
		rtnl_link_put(link);
	nl_socket_free(sk);
	return rc;
}

int psw_netns_check(const char *netns, const char *ifname, const char *mac,
		    const struct psw_ipam_result *ipam, struct psw_cni_error *err)
{
	int back, rc;

	if (enter(netns, &back, err))
		return -1;
	rc = check_in_pod(ifname, mac, ipam, err);
	leave(back);
	return rc;
}

int psw_netns_link_exists(const char *netns, const char *ifname, struct psw_cni_error *err)
{
	struct rtnl_link *link = NULL;
	struct nl_sock *sk;
	int back, rc, nrc;

	if (enter(netns, &back, err))
		return -1;
	sk = nl_open(err);
	if (!sk) {
		leave(back);
		return -1;
	}
	nrc = rtnl_link_get_kernel(sk, 0, ifname, &link);
	if (nrc == 0)
		rc = 1;
	else if (nrc == -NLE_OBJ_NOTFOUND || nrc == -NLE_NODEV)
		rc = 0;
	else
		rc = psw_cni_err(err, PSW_CNI_E_NETNS, "reading %s in %s: %s", ifname, netns,
				 nl_geterror(nrc));
	if (link)
		rtnl_link_put(link);
	nl_socket_free(sk);
	leave(back);
	return rc;
}

int psw_netns_del_link(const char *netns, const char *ifname, struct psw_cni_error *err)
{
	struct rtnl_link *link = NULL;
	struct nl_sock *sk;
	int back, rc = 0, nrc;

	if (!netns || psw_netns_exists(netns, err) <= 0)
		return 0; /* nothing to delete: the namespace is gone */
	if (enter(netns, &back, err))
		return -1;
	sk = nl_open(err);
	if (!sk) {
		leave(back);
		return -1;
	}
	if (rtnl_link_get_kernel(sk, 0, ifname, &link) == 0) {
		if ((nrc = rtnl_link_delete(sk, link)) < 0 && nrc != -NLE_OBJ_NOTFOUND &&
		    nrc != -NLE_NODEV)
			rc = psw_cni_err(err, PSW_CNI_E_NETNS, "deleting %s in %s: %s", ifname, netns,
					 nl_geterror(nrc));
		rtnl_link_put(link);
	}
	nl_socket_free(sk);
	leave(back);
	return rc;
}
