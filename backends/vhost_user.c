/*
 * vhost_user.c: the "vhost-user" port type, for DPDK pods (virtio-user) and VMs (QEMU).
 * The device is DPDK's net_vhost; this file turns port.add options into its devargs and
 * looks after the socket outside DPDK (directory, stale files, owner and mode).
 *
 * Modes. "client" (default): the pod or QEMU owns the socket (virtio-user server=1) and
 * podswitchd connects to it; DPDK's vhost library retries the connection every second
 * whenever it is down, so both a pod restart and a podswitchd restart heal by themselves
 * (the model is OVS's dpdkvhostuserclient). "server": podswitchd creates the socket and
 * the pod connects; a pod that restarts reconnects, but after a podswitchd restart the pod
 * must reconnect on its own (virtio-user client mode does not).
 *
 * Queues: "queues" is the maximum number of queue pairs; the device has that many queues
 * and the pod enables as many as it negotiated (net_vhost returns 0 from bursts on queues
 * the pod has not enabled). vu_txqs() tells port.c which tx queues the pod enabled
 * (net_vhost's vring-state events, drained with rte_eth_vhost_get_queue_event, as OVS's
 * netdev-dpdk does), so that with more PMDs than enabled queue pairs the PMDs share the
 * enabled ones instead of sending into disabled rings (tx_full). Link state follows the virtio side: net_vhost raises an LSC
 * event when the pod connects (new_device) or goes away (destroy_device).
 *
 * Hostile peer: descriptors, indexes and lengths in the shared virtqueues come from the pod.
 * DPDK's vhost library (lib/vhost/virtio_net.c) checks them: descriptor chains are bounded
 * by the ring size, addresses are translated through the pod's memory table and rejected
 * when outside it, available indexes are checked against the ring size ("invalid ring
 * index"), and lengths are clamped to the mapped region. podswitchd reads packets only
 * through rte_vhost_dequeue_burst, never through the rings directly.
 *
 * Packet path: the PMDs call the vhost library on the pod's connection themselves
 * (vhost_user_dp.c, through the back end's datapath()), not net_vhost's bursts. This
 * file keeps the connection's vid and vring count current for them from net_vhost's link
 * and queue-state events (vu_event, on net_vhost's events thread or ours).
 *
 * Control thread (main lcore), and vu_event on DPDK's vhost events thread; not on the
 * packet path.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_eth_vhost.h>
#include <rte_ethdev.h>

#include "port/backend.h"
#include "backends/backend_lib.h"
#include "backends/vhost_user_dp.h"
#include "core/rcu.h"
#include "port/port.h"

struct vu_conf {
	char socket[PSW_SOCK_PATH_MAX + 1];
	bool server;
	unsigned queues;
	struct psw_sock_perm perm;
};

static const struct psw_opt vu_opts[] = {
	{ "socket", PSW_OPT_STRING },
	{ "mode", PSW_OPT_STRING },
	{ "queues", PSW_OPT_UINT },
	{ "owner", PSW_OPT_STRING },
	{ "group", PSW_OPT_STRING },
	{ "perm", PSW_OPT_STRING },
	{ NULL },
};

static int
vu_parse(const char *name, json_t *o, struct vu_conf *c, struct psw_rpc_error *err)
{
	const char *mode, *sock;
	uint64_t q;

	memset(c, 0, sizeof(*c));
	if (!psw_backend_name_ok(name))
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "name: '%s' is not a valid port name", name);
	if (psw_opts_check(o, vu_opts, err) < 0)
		return -1;
	mode = psw_opt_str(o, "mode", "client");
	if (strcmp(mode, "client") == 0)
		c->server = false;
	else if (strcmp(mode, "server") == 0)
		c->server = true;
	else
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.mode: expected \"client\" or \"server\", got \"%s\"",
				       mode);
	if (psw_opt_uint(o, "queues", 1, 1, PSW_MAX_QUEUES, &q, err) < 0)
		return -1;
	c->queues = (unsigned)q;
	sock = psw_opt_str(o, "socket", NULL);
	if (sock != NULL) {
		if (strlen(sock) >= sizeof(c->socket))
			return psw_sock_path_check("socket", sock, false, err);
		snprintf(c->socket, sizeof(c->socket), "%s", sock);
	} else if (snprintf(c->socket, sizeof(c->socket), "%s/%s.sock",
			    psw_backend_socket_dir(), name) >= (int)sizeof(c->socket)) {
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.socket: default path for '%s' is too long; give one",
				       name);
	}
	if (psw_sock_path_check("socket", c->socket, false, err) < 0)
		return -1;
	return psw_opt_perm(o, &c->perm, err);
}

static int
vu_prepare(const char *name, json_t *options, char *devargs, size_t len,
	   struct psw_rpc_error *err)
{
	char dev[RTE_DEV_NAME_MAX_LEN], owner[RTE_DEV_NAME_MAX_LEN];
	struct vu_conf c;
	int n;

	if (vu_parse(name, options, &c, err) < 0)
		return -1;
	if (psw_backend_dev_name("net_vhost", name, RTE_DEV_NAME_MAX_LEN - 1, dev,
				 sizeof(dev)) < 0)
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS, "name: '%s' is not usable",
				       name);
	if (psw_devargs_in_use("net_vhost", "iface", c.socket, owner, sizeof(owner)))
		return psw_backend_err(err, PSW_RPC_EXISTS,
				       "options.socket: %s is already used by device %s",
				       c.socket, owner);
	n = snprintf(devargs, len, "%s,iface=%s,queues=%u%s", dev, c.socket, c.queues,
		     c.server ? "" : ",client=1");
	if (n < 0 || (size_t)n >= len)
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS, "options: devargs too long");
	/* Server: the socket is ours; a file left by a killed podswitchd would make bind()
	 * fail. Client: the directory must exist for the pod to create its socket in. */
	if (psw_sock_dir_make(c.socket, &c.perm, err) < 0)
		return -1;
	if (c.server && psw_sock_clear_stale(c.socket, err) < 0)
		return -1;
	return 0;
}

/* The tx queues (the pod's rx vrings) the pod has enabled, per ethdev, kept from the
 * vring-state events. When the pod goes, net_vhost resets its vring state without an
 * event (and a new connection enables its vrings again, with events): so the mask is
 * forgotten when the link goes down, before the events are read, since the enables of
 * the next connection may already be waiting (they come before its link is up). */
static uint32_t txq_enabled[RTE_MAX_ETHPORTS];
static bool was_up[RTE_MAX_ETHPORTS];

static int
vu_started(const char *name, uint16_t dpdk_port, json_t *options, struct psw_rpc_error *err)
{
	struct vu_conf c;

	if (dpdk_port < RTE_MAX_ETHPORTS) {     /* a new device on this ethdev id */
		txq_enabled[dpdk_port] = 0;
		was_up[dpdk_port] = false;
	}
	if (vu_parse(name, options, &c, err) < 0)
		return -1;
	if (!c.server)
		return 0; /* the pod owns its socket */
	return psw_sock_apply_perm(c.socket, &c.perm, err);
}

static void
vu_removed(const char *name, json_t *options)
{
	struct vu_conf c;
	struct stat st;

	if (vu_parse(name, options, &c, NULL) < 0 || !c.server)
		return;
	/* The vhost library unlinks its server socket on unregister; make sure. */
	if (lstat(c.socket, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)psw_sock_clear_stale(c.socket, NULL);
}

static void
vu_describe(const char *name, json_t *options, json_t *out)
{
	struct vu_conf c;

	if (vu_parse(name, options, &c, NULL) < 0)
		return;
	json_object_set_new(out, "socket", json_string(c.socket));
	json_object_set_new(out, "mode", json_string(c.server ? "server" : "client"));
	json_object_set_new(out, "queues", json_integer(c.queues));
}

static uint32_t
vu_txqs(uint16_t dpdk_port)
{
	struct rte_eth_vhost_queue_event ev;
	struct rte_eth_link link;
	bool up;

	if (dpdk_port >= RTE_MAX_ETHPORTS)
		return 0;
	memset(&link, 0, sizeof(link));
	up = rte_eth_link_get_nowait(dpdk_port, &link) == 0 &&
	     link.link_status == RTE_ETH_LINK_UP;
	if (!up && was_up[dpdk_port])
		txq_enabled[dpdk_port] = 0;
	was_up[dpdk_port] = up;
	while (rte_eth_vhost_get_queue_event(dpdk_port, &ev) == 0) {
		if (ev.rx || ev.queue_id >= 32)
			continue;
		if (ev.enable)
			txq_enabled[dpdk_port] |= 1u << ev.queue_id;
		else
			txq_enabled[dpdk_port] &= ~(1u << ev.queue_id);
	}
	return txq_enabled[dpdk_port];
}

/* ---- the packet path's view of the connection ---------------------------------------
 * dp_on[p]: ethdev p is a vhost-user port whose PMDs use vhost_user_dp.c. vu_refresh()
 * reads the connection from net_vhost and hands it to the packet path; when the pod went,
 * it waits a grace period before returning, so that net_vhost's destroy_device (which
 * raises the link event) returns only when no PMD is in a burst on the old vid any more. */
static pthread_mutex_t dp_lock = PTHREAD_MUTEX_INITIALIZER;
static bool dp_on[RTE_MAX_ETHPORTS];

static void
vu_refresh(uint16_t dpdk_port)
{
	struct rte_eth_link link;
	int vid = -1, vrings = 0;
	bool gone = false;

	if (dpdk_port >= RTE_MAX_ETHPORTS)
		return;
	pthread_mutex_lock(&dp_lock);
	if (dp_on[dpdk_port]) {
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(dpdk_port, &link) == 0 &&
		    link.link_status == RTE_ETH_LINK_UP)
			vid = rte_eth_vhost_get_vid_from_port_id(dpdk_port);
		if (vid >= 0)
			vrings = rte_vhost_get_vring_num(vid);
		gone = psw_vu_dp_set(dpdk_port, vid, (uint16_t)(vrings > 0 ? vrings : 0));
	}
	pthread_mutex_unlock(&dp_lock);
	if (gone)
		psw_rcu_synchronize();
}

static int
vu_event(uint16_t dpdk_port, enum rte_eth_event_type type, void *arg, void *ret)
{
	(void)type, (void)arg, (void)ret;
	vu_refresh(dpdk_port);
	return 0;
}

static const struct psw_port_io *
vu_datapath(uint16_t dpdk_port)
{
	static bool registered;
	const struct psw_port_io *io;
	struct rte_mempool *mp;

	if (!registered) {
		if (rte_eth_dev_callback_register(RTE_ETH_ALL, RTE_ETH_EVENT_INTR_LSC, vu_event,
						  NULL) != 0)
			return NULL;
		if (rte_eth_dev_callback_register(RTE_ETH_ALL, RTE_ETH_EVENT_QUEUE_STATE,
						  vu_event, NULL) != 0) {
			rte_eth_dev_callback_unregister(RTE_ETH_ALL, RTE_ETH_EVENT_INTR_LSC,
							vu_event, NULL);
			return NULL;
		}
		registered = true;
	}
	mp = psw_backend_switch_pool();
	io = mp != NULL ? psw_vu_dp_io(dpdk_port, mp) : NULL;
	if (io == NULL)
		return NULL;
	pthread_mutex_lock(&dp_lock);
	dp_on[dpdk_port] = true;
	pthread_mutex_unlock(&dp_lock);
	vu_refresh(dpdk_port);
	return io;
}

const struct psw_backend psw_backend_vhost_user = {
	.type = "vhost-user",
	.prepare = vu_prepare,
	.datapath = vu_datapath,
	.started = vu_started,
	.removed = vu_removed,
	.describe = vu_describe,
	.txqs = vu_txqs,
};
