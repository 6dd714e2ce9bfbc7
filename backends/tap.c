/*
 * tap.c: the "tap" port type, for ordinary (kernel networking) pods. The device is DPDK's
 * net_tap: a kernel tap netdev whose file descriptors podswitchd polls. The CNI plugin
 * moves the netdev into the pod's network namespace; the descriptors keep working there
 * (a tap is bound to its fd, not to a namespace). MAC and MTU come from port.add ("mac",
 * "mtu") and are set by port.c through ethdev before the move.
 *
 * What changes after the move: net_tap manages the netdev with ioctls by name on a socket
 * in podswitchd's namespace, which no longer sees it; link state read through ethdev then
 * says "down" (tap_link() answers instead) and MTU/MAC changes fail. Because those ioctls
 * go by name, two tap ports made in our namespace may never use the same ifname: a new
 * netdev of the same name would receive the old port's ioctls.
 *
 * A pod's tap (options "netns" and "pod_ifname", given by the CNI plugin) outlives
 * podswitchd: it is made persistent (net_tap "persist": no fd keeps it, and closing the
 * port neither deletes it nor sets it down), tagged with the port's name in its alias
 * (tap_pod.h), so a stop or a crash leaves the pod's interface, addresses and routes in
 * place. When the state file is replayed, prepare() looks for it in the pod: found, the
 * port re-attaches to it (net_tap probed inside the pod's namespace, enter()/leave(), where
 * it finds the interface by its pod name: its ioctls then reach it, and link state is
 * ethdev's); gone, a new tap is made and started() rebuilds the pod side from the options
 * (move, rename, up, "ips", "routes"). port.del deletes the pod's tap (wherever it is);
 * a stopping podswitchd keeps it (psw_backends_stopping()). A plain tap (no netns) is
 * deleted by the kernel when its last fd closes, as before.
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
#include "port/port.h"
#include "backends/backend_lib.h"
#include "backends/backends.h"
#include "backends/tap_pod.h"

/* net_tap names a mempool "mp_<device name>" (tap_gso_ctx_setup) and fails to start
 * when that does not fit in a mempool name. */
#define TAP_DEV_NAME_MAX (RTE_MEMPOOL_NAMESIZE - 1 - 3)

/* A tap port's options, checked. */
struct tap_conf {
	const char *ifname;       /* the netdev's name in our namespace when made */
	struct psw_tap_pod pod;   /* pod.netns == NULL: a plain tap */
	char tag[PSW_TAP_TAG_MAX];
};

/* How a port found its pod's interface when the state file was replayed. */
enum tap_restore { TAP_ADDED, TAP_ATTACHED, TAP_REBUILT };

static const char *const restore_names[] = {"added", "attached", "rebuilt"};

/* The tap ports that exist (or are being added), by name. */
struct tap_port {
	char name[PSW_NAME_MAX]; /* "" when free */
	int dpdk_port;           /* -1 until started */
	enum tap_restore how;
};

static struct tap_port tap_ports[PSW_MAX_PORTS];
static bool keep_pods; /* podswitchd is stopping: pods keep their taps */

static struct tap_port *
tap_port_find(const char *name)
{
	for (unsigned i = 0; i < PSW_MAX_PORTS; i++)
		if (strcmp(tap_ports[i].name, name) == 0)
			return &tap_ports[i];
	return NULL;
}

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

/* Strict: every key known, each of its type (arrays are checked by tap_pod.c). */
static int
tap_opts_check(json_t *o, struct psw_rpc_error *err)
{
	static const char *const strings[] = {"ifname", "netns", "pod_ifname", NULL};
	const char *key;
	json_t *v;

	if (o == NULL || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS, "options: expected an object");
	json_object_foreach(o, key, v) {
		bool known = strcmp(key, "ips") == 0 || strcmp(key, "routes") == 0;

		for (const char *const *k = strings; *k != NULL && !known; k++)
			if (strcmp(key, *k) == 0) {
				if (!json_is_string(v))
					return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
							       "options.%s: expected a string", key);
				known = true;
			}
		if (!known)
			return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
					       "options.%s: unknown option", key);
	}
	return psw_tap_pod_check(json_object_get(o, "ips"), json_object_get(o, "routes"), err);
}

static int
tap_parse(const char *name, json_t *o, struct tap_conf *c, struct psw_rpc_error *err)
{
	memset(c, 0, sizeof(*c));
	if (!psw_backend_name_ok(name))
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "name: '%s' is not a valid port name", name);
	if (tap_opts_check(o, err) < 0)
		return -1;
	c->ifname = psw_opt_str(o, "ifname", NULL);
	if (c->ifname == NULL) {
		if (!ifname_ok(name))
			return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
					       "options.ifname: required: port name '%s' is not a valid interface name (1..%d characters)",
					       name, IFNAMSIZ - 1);
		c->ifname = name;
	} else if (!ifname_ok(c->ifname)) {
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.ifname: '%s' is not a valid interface name (1..%d characters, no '/', ':', spaces, ',' or '=')",
				       c->ifname, IFNAMSIZ - 1);
	}
	c->pod.netns = psw_opt_str(o, "netns", NULL);
	c->pod.ifname = psw_opt_str(o, "pod_ifname", NULL);
	c->pod.host_name = c->ifname;
	c->pod.ips = json_object_get(o, "ips");
	c->pod.routes = json_object_get(o, "routes");
	snprintf(c->tag, sizeof(c->tag), "podswitch:%s", name);
	c->pod.tag = c->tag;
	if ((c->pod.netns == NULL) != (c->pod.ifname == NULL))
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.%s: required with options.%s (the pod's namespace and the interface's name in it)",
				       c->pod.netns ? "pod_ifname" : "netns",
				       c->pod.netns ? "netns" : "pod_ifname");
	if (c->pod.netns == NULL && (c->pod.ips != NULL || c->pod.routes != NULL))
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.%s: only with options.netns",
				       c->pod.ips ? "ips" : "routes");
	if (c->pod.ifname != NULL && !ifname_ok(c->pod.ifname))
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.pod_ifname: '%s' is not a valid interface name",
				       c->pod.ifname);
	if (c->pod.netns != NULL && c->pod.netns[0] != '/')
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.netns: must be an absolute path");
	return 0;
}

/* A tap made in our namespace: its name must be free (a tap closed a moment ago is
 * waited for) and used by no other port. */
static int
host_name_free(const char *ifname, struct psw_rpc_error *err)
{
	char owner[RTE_DEV_NAME_MAX_LEN];

	if (psw_devargs_in_use("net_tap", "iface", ifname, owner, sizeof(owner)))
		return psw_backend_err(err, PSW_RPC_EXISTS,
				       "options.ifname: %s is already used by device %s", ifname,
				       owner);
	/* A tap closed a moment ago lives until the last reference to its fd goes, which
	 * another thread's poll() may hold for up to a second: wait for a tap (not for any
	 * other kind of netdev) to go away. */
	for (int i = 0; i < 75 && is_tap(ifname); i++)
		usleep(20 * 1000);
	if (if_nametoindex(ifname) != 0)
		return psw_backend_err(err, PSW_RPC_EXISTS,
				       "options.ifname: a network interface named %s exists",
				       ifname);
	return 0;
}

static int
tap_prepare(const char *name, json_t *options, char *devargs, size_t len,
	    struct psw_rpc_error *err)
{
	char dev[RTE_DEV_NAME_MAX_LEN], mac[18];
	enum tap_restore how = TAP_ADDED;
	struct tap_port *tp;
	struct tap_conf c;
	int n;

	if (tap_parse(name, options, &c, err) < 0)
		return -1;
	if (psw_backend_dev_name("net_tap", name, TAP_DEV_NAME_MAX, dev,
				 sizeof(dev)) < 0)
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS, "name: '%s' is not usable",
				       name);
	if ((tp = tap_port_find(name)) == NULL && (tp = tap_port_find("")) == NULL)
		return psw_backend_err(err, PSW_RPC_FAILED, "too many tap ports");
	if (c.pod.netns != NULL) {
		if (psw_netns_check("netns", c.pod.netns, err) < 0)
			return -1;
		if (psw_backend_restoring()) {
			int r = psw_tap_pod_find(c.pod.netns, c.pod.ifname, c.tag, mac, err);

			if (r < 0) {
				char why[sizeof(err->message)];

				snprintf(why, sizeof(why), "%s", err ? err->message : "");
				return psw_backend_err(err, err ? err->code : 0,
						       "options.pod_ifname: in %s: %s", c.pod.netns,
						       why);
			}
			how = r == 1 ? TAP_ATTACHED : TAP_REBUILT;
		}
		/* One of ours left in our namespace (its pod's ADD never moved it): gone. */
		if (how != TAP_ATTACHED)
			psw_tap_pod_delete(NULL, c.ifname, c.tag);
	}
	if (how == TAP_ATTACHED) {
		/* In the pod's namespace, by its pod name; the MAC it has (net_tap would
		 * otherwise give it a random one). No other port can hold it: it is ours. */
		n = snprintf(devargs, len, "%s,iface=%s,persist,mac=%s", dev, c.pod.ifname, mac);
	} else {
		if (host_name_free(c.ifname, err) < 0)
			return -1;
		n = snprintf(devargs, len, "%s,iface=%s%s", dev, c.ifname,
			     c.pod.netns != NULL ? ",persist" : "");
	}
	if (n < 0 || (size_t)n >= len)
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS, "options: devargs too long");
	snprintf(tp->name, sizeof(tp->name), "%s", name);
	tp->dpdk_port = -1;
	tp->how = how;
	return 0;
}

static int
tap_enter(const char *name, json_t *options, int *saved, struct psw_rpc_error *err)
{
	struct tap_port *tp = tap_port_find(name);
	const char *netns = psw_opt_str(options, "netns", NULL);

	if (tp == NULL || tp->how != TAP_ATTACHED || netns == NULL)
		return 0;
	return psw_netns_enter(netns, saved, err) < 0 ? -1 : 1;
}

static void
tap_leave(int saved)
{
	if (psw_netns_leave(saved) < 0) {
		fprintf(stderr, "podswitchd: tap: cannot return to our network namespace\n");
		abort();
	}
}

static int
tap_started(const char *name, uint16_t dpdk_port, json_t *options, struct psw_rpc_error *err)
{
	struct tap_port *tp = tap_port_find(name);
	struct tap_conf c;

	if (tap_parse(name, options, &c, err) < 0)
		return -1;
	if (tp != NULL)
		tp->dpdk_port = dpdk_port;
	if (c.pod.netns == NULL || (tp != NULL && tp->how == TAP_ATTACHED))
		return 0;
	if (psw_tap_pod_tag(c.ifname, c.tag, err) < 0)
		return -1;
	/* At port.add the CNI plugin moves and configures it; when the state is replayed
	 * and the pod's interface was gone, podswitchd puts it back. */
	if (tp != NULL && tp->how == TAP_REBUILT)
		return psw_tap_pod_setup(&c.pod, err);
	return 0;
}

static void
tap_removed(const char *name, json_t *options)
{
	struct tap_port *tp = tap_port_find(name);
	/* A re-attach that failed made nothing: the pod's interface is not ours to undo. */
	bool attach_failed = tp != NULL && tp->how == TAP_ATTACHED && tp->dpdk_port < 0;
	struct tap_conf c;

	if (tp != NULL)
		memset(tp, 0, sizeof(*tp));
	if (tap_parse(name, options, &c, NULL) < 0 || c.pod.netns == NULL || keep_pods ||
	    attach_failed)
		return;
	/* Persistent: the kernel keeps it after its fds close. It is in the pod, or still
	 * (or again, after a failed ADD) in our namespace under its host name. */
	psw_tap_pod_delete(NULL, c.ifname, c.tag);
	psw_tap_pod_delete(c.pod.netns, c.pod.ifname, c.tag);
	psw_tap_pod_delete(c.pod.netns, c.ifname, c.tag);
}

void
psw_backends_stopping(void)
{
	keep_pods = true;
}

static int
tap_link(uint16_t dpdk_port)
{
	struct rte_eth_dev_info info;
	const struct rte_devargs *da;
	char ifname[IFNAMSIZ];
	const char *at;

	for (unsigned i = 0; i < PSW_MAX_PORTS; i++)
		if (tap_ports[i].name[0] != '\0' && tap_ports[i].dpdk_port == dpdk_port &&
		    tap_ports[i].how == TAP_ATTACHED)
			return -1; /* net_tap's sockets are in the pod's namespace: it knows */
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
	struct tap_port *tp = tap_port_find(name);
	struct tap_conf c;

	if (tap_parse(name, options, &c, NULL) < 0)
		return;
	json_object_set_new(out, "ifname", json_string(c.ifname));
	if (c.pod.netns == NULL)
		return;
	json_object_set_new(out, "pod", json_pack("{s:s,s:s,s:s}", "netns", c.pod.netns,
						  "ifname", c.pod.ifname, "restore",
						  restore_names[tp ? tp->how : TAP_ADDED]));
}

const struct psw_backend psw_backend_tap = {
	.type = "tap",
	.keep_mac = true,
	.prepare = tap_prepare,
	.enter = tap_enter,
	.leave = tap_leave,
	.started = tap_started,
	.removed = tap_removed,
	.link = tap_link,
	.describe = tap_describe,
};
