/*
 * memif.c: the "memif" port type, for DPDK, VPP and libmemif pods. podswitchd is the
 * memif server: it listens, the pod connects as client and brings the shared memory.
 * The server is podswitch's own (memif_server.c, memif_ring.c), behind the back end's
 * create() hook: the switch polls it through psw_port_io, no DPDK device is made. This
 * file turns port.add options into the server's configuration, clears stale socket
 * files, and has the listening socket created inside the pod's network namespace when
 * asked ("netns").
 *
 * Sockets: abstract (DPDK's default, "abstract": true) or a filesystem path. An abstract
 * name lives in one network namespace; to serve a pod in its own namespace the listening
 * socket is created in that namespace (netns.c) and works from there after we come back.
 * Nothing is mounted into the pod. Two ports may not share a socket name, even in
 * different namespaces (as with DPDK's net_memif, which keyed listeners by name).
 *
 * Restarts: a pod that restarts connects again to the same listener. After a podswitchd
 * restart the listener is created again (from the saved state); DPDK's memif client does
 * not retry by itself (it connects in dev_start), so a DPDK pod must restart its port;
 * VPP and libmemif clients retry on a timer.
 *
 * Hostile peer (closed): every region, ring placement and descriptor the client gives is
 * checked before use (memif_server.c at set-up, memif_ring.c per packet); a bad
 * descriptor is a counted drop ("bad_desc" in port show). DPDK 22.11's net_memif did not
 * check descriptors (its server read region + offset for length bytes as the client
 * wrote them).
 *
 * prepare()/probe() still make DPDK's net_memif server device from the same options
 * (with memif_leaks.c giving back what that driver leaks); podswitchd does not call them
 * any more (create() is set), only tests/unit/test_backend.c does.
 *
 * Control thread (main lcore) only; not on the packet path.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_debug.h>
#include <rte_ether.h>
#include <rte_dev.h>
#include <rte_log.h>

#include "backend.h"
#include "backend_lib.h"
#include "memif_server.h"
#include "pmd.h"
#include "port.h"

#define MEMIF_SECRET_MAX 24 /* net_memif: "string len 24" */

struct memif_conf {
	char socket[PSW_SOCK_PATH_MAX + 1];
	bool abstract;
	const char *netns;    /* NULL: podswitchd's own namespace */
	unsigned id;
	unsigned log2_ring;
	unsigned buffer_size;
	const char *secret;   /* NULL: none */
	struct psw_sock_perm perm;
};

static const struct psw_opt memif_opts[] = {
	{ "socket", PSW_OPT_STRING },
	{ "abstract", PSW_OPT_BOOL },
	{ "netns", PSW_OPT_STRING },
	{ "id", PSW_OPT_UINT },
	{ "ring_size", PSW_OPT_UINT },
	{ "buffer_size", PSW_OPT_UINT },
	{ "secret", PSW_OPT_STRING },
	{ "owner", PSW_OPT_STRING },
	{ "group", PSW_OPT_STRING },
	{ "perm", PSW_OPT_STRING },
	{ NULL },
};

static int
memif_parse(const char *name, json_t *o, struct memif_conf *c, struct psw_rpc_error *err)
{
	const char *sock;
	uint64_t v;

	memset(c, 0, sizeof(*c));
	if (!psw_backend_name_ok(name))
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "name: '%s' is not a valid port name", name);
	if (psw_opts_check(o, memif_opts, err) < 0)
		return -1;
	c->abstract = psw_opt_bool(o, "abstract", true);
	sock = psw_opt_str(o, "socket", NULL);
	if (sock != NULL) {
		if (strlen(sock) >= sizeof(c->socket))
			return psw_sock_path_check("socket", sock, c->abstract, err);
		snprintf(c->socket, sizeof(c->socket), "%s", sock);
	} else if (snprintf(c->socket, sizeof(c->socket), "%s/%s.sock",
			    psw_backend_socket_dir(), name) >= (int)sizeof(c->socket)) {
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.socket: default path for '%s' is too long; give one",
				       name);
	}
	if (psw_sock_path_check("socket", c->socket, c->abstract, err) < 0)
		return -1;
	c->netns = psw_opt_str(o, "netns", NULL);
	if (c->netns != NULL && c->netns[0] != '/')
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.netns: must be an absolute path");
	if (psw_opt_uint(o, "id", 0, 0, UINT32_MAX, &v, err) < 0)
		return -1;
	c->id = (unsigned)v;
	if (psw_opt_uint(o, "ring_size", 1024, 2, 1 << 14, &v, err) < 0)
		return -1;
	if ((v & (v - 1)) != 0)
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.ring_size: %u is not a power of two", (unsigned)v);
	c->log2_ring = (unsigned)__builtin_ctzll(v);
	if (psw_opt_uint(o, "buffer_size", 2048, 128, UINT16_MAX, &v, err) < 0)
		return -1;
	c->buffer_size = (unsigned)v;
	c->secret = psw_opt_str(o, "secret", NULL);
	if (c->secret != NULL &&
	    (strlen(c->secret) > MEMIF_SECRET_MAX || !psw_devarg_value_ok(c->secret)))
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.secret: 1..%d characters, no spaces, quotes, ',', '=', '[' or ']'",
				       MEMIF_SECRET_MAX);
	return psw_opt_perm(o, &c->perm, err);
}

static int
memif_prepare(const char *name, json_t *options, char *devargs, size_t len,
	      struct psw_rpc_error *err)
{
	char dev[RTE_DEV_NAME_MAX_LEN], owner[RTE_DEV_NAME_MAX_LEN];
	struct memif_conf c;
	int n;

	if (memif_parse(name, options, &c, err) < 0)
		return -1;
	if (c.netns != NULL && psw_netns_check("netns", c.netns, err) < 0)
		return -1;
	if (psw_backend_dev_name("net_memif", name, RTE_DEV_NAME_MAX_LEN - 1, dev,
				 sizeof(dev)) < 0)
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS, "name: '%s' is not usable",
				       name);
	if (psw_devargs_in_use("net_memif", "socket", c.socket, owner, sizeof(owner)))
		return psw_backend_err(err, PSW_RPC_EXISTS,
				       "options.socket: %s is already used by device %s",
				       c.socket, owner);
	n = snprintf(devargs, len,
		     "%s,role=server,id=%u,socket=%s,socket-abstract=%s,rsize=%u,bsize=%u%s%s",
		     dev, c.id, c.socket, c.abstract ? "yes" : "no", c.log2_ring,
		     c.buffer_size, c.secret ? ",secret=" : "", c.secret ? c.secret : "");
	if (n < 0 || (size_t)n >= len)
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS, "options: devargs too long");
	if (!c.abstract) {
		/* A socket file survives a SIGKILL and makes bind() fail: remove it when
		 * nobody listens on it. */
		if (psw_sock_dir_make(c.socket, &c.perm, err) < 0)
			return -1;
		if (psw_sock_clear_stale(c.socket, err) < 0)
			return -1;
	}
	return 0;
}

/* Is an abstract socket name bound in the calling thread's network namespace? */
static bool
abstract_bound(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	bool bound;

	if (fd < 0)
		return false;
	memcpy(sa.sun_path + 1, name, strlen(name)); /* as net_memif binds it: no padding */
	bound = bind(fd, (struct sockaddr *)&sa, len) < 0 && errno == EADDRINUSE;
	close(fd);
	return bound;
}

/* A listener closed a moment ago can stay bound for a while: another thread may still
 * hold its file (a poll() in progress holds what it polls, and an fd number is reused at
 * once; DPDK's vhost-user events thread polls with a 1 s timeout). Measured: up to
 * 0.9 s, when a port is deleted and added again at once (tests/e2e/test_port_leak.sh).
 * Give it a second and a half. 0, or -EADDRINUSE when the name stays taken. */
static int
wait_abstract_free(const char *name)
{
	int i;

	for (i = 0; i < 75 && abstract_bound(name); i++)
		usleep(20 * 1000);
	if (i > 0)
		RTE_LOG(DEBUG, USER1, "memif: waited %d ms for @%s to be released\n", i * 20,
			name);
	return i < 75 ? 0 : -EADDRINUSE;
}

/* rte_dev_probe, with what net_memif allocates recorded for this port (memif_leaks.c). */
static int
probe_tracked(const char *name, const struct memif_conf *c, const char *devargs)
{
	int rc;

	if (c->abstract && wait_abstract_free(c->socket) < 0)
		return -EADDRINUSE;
	psw_memif_track_begin(name);
	rc = rte_dev_probe(devargs);
	psw_memif_track_probed();
	return rc == -1 ? -EIO : rc; /* some drivers fail with -1, not an errno */
}

static int
memif_probe(const char *name, json_t *options, const char *devargs,
	    struct psw_rpc_error *err)
{
	struct memif_conf c;
	int saved, rc, rc2;

	if (memif_parse(name, options, &c, err) < 0)
		return -EINVAL;
	if (c.netns == NULL) {
		rc = probe_tracked(name, &c, devargs);
		if (rc < 0)
			psw_backend_err(err, PSW_RPC_FAILED, "memif %s: probe failed: %s",
					c.socket, strerror(-rc));
		return rc;
	}
	if (psw_netns_enter(c.netns, &saved, err) < 0)
		return -EINVAL;
	rc = probe_tracked(name, &c, devargs);
	rc2 = psw_netns_leave(saved);
	/* Staying in the pod's namespace would put every later socket there: stop hard. */
	if (rc2 < 0)
		rte_panic("cannot return to podswitchd's network namespace: %s\n",
			  strerror(-rc2));
	if (rc < 0)
		psw_backend_err(err, PSW_RPC_FAILED, "memif %s in %s: probe failed: %s",
				c.socket, c.netns, strerror(-rc));
	return rc;
}

static int
memif_create(const char *name, json_t *options, const struct psw_port_conf *pc,
	     const struct psw_port_io **io, struct psw_rpc_error *err)
{
	struct psw_memif_server_conf sc;
	struct psw_memif_server *s;
	struct memif_conf c;

	if (memif_parse(name, options, &c, err) < 0)
		return -1;
	if (c.netns != NULL && psw_netns_check("netns", c.netns, err) < 0)
		return -1;
	if (psw_memif_server_find(name) != NULL)
		return psw_backend_err(err, PSW_RPC_EXISTS, "name: memif port %s exists", name);
	if (psw_memif_server_by_socket(c.socket) != NULL)
		return psw_backend_err(err, PSW_RPC_EXISTS,
				       "options.socket: %s is already used by port %s", c.socket,
				       psw_memif_server_name(psw_memif_server_by_socket(c.socket)));
	if (!c.abstract) {
		/* A socket file survives a SIGKILL and makes bind() fail: remove it when
		 * nobody listens on it. */
		if (psw_sock_dir_make(c.socket, &c.perm, err) < 0)
			return -1;
		if (psw_sock_clear_stale(c.socket, err) < 0)
			return -1;
	}
	memset(&sc, 0, sizeof(sc));
	sc.name = name;
	sc.socket = c.socket;
	sc.abstract = c.abstract;
	sc.netns = c.netns;
	sc.id = c.id;
	sc.log2_ring = c.log2_ring;
	sc.buffer_size = c.buffer_size;
	sc.secret = c.secret;
	sc.n_rxq = pc->n_rxq ? pc->n_rxq : 1;
	/* One tx queue per PMD (txq.c uses queue = PMD index without a lock below n_txq);
	 * PMDs beyond the client's s2c rings share them under a lock (memif_ring.c). */
	sc.n_txq = pc->n_txq ? pc->n_txq : (uint16_t)RTE_MAX(psw_n_pmds, 1u);
	if (sc.n_txq > PSW_MAX_QUEUES)
		sc.n_txq = PSW_MAX_QUEUES;
	sc.mtu = pc->mtu;
	if (pc->mac_set)
		sc.mac = pc->mac;
	else
		rte_eth_random_addr(sc.mac.addr_bytes);
	s = psw_memif_server_create(&sc);
	if (s == NULL && errno == EEXIST)
		return psw_backend_err(err, PSW_RPC_EXISTS,
				       "options.socket: %s is already used by another memif port",
				       c.socket);
	if (s == NULL)
		return psw_backend_err(err, PSW_RPC_FAILED, "memif %s%s%s: cannot listen: %s",
				       c.socket, c.netns ? " in " : "", c.netns ? c.netns : "",
				       strerror(errno));
	*io = psw_memif_server_io(s);
	return 0;
}

static int
memif_started(const char *name, uint16_t dpdk_port, json_t *options,
	      struct psw_rpc_error *err)
{
	struct psw_memif_server *s = psw_memif_server_find(name);
	struct memif_conf c;

	(void)dpdk_port;
	if (s != NULL)
		psw_memif_server_started(s);
	else
		psw_memif_track_end();
	if (memif_parse(name, options, &c, err) < 0)
		return -1;
	if (c.abstract)
		return 0;
	return psw_sock_apply_perm(c.socket, &c.perm, err);
}

static void
memif_stopping(const char *name, json_t *options)
{
	(void)options;
	if (psw_memif_server_find(name) == NULL)
		psw_memif_release_before_close(name);
}

static void
memif_removed(const char *name, json_t *options)
{
	char dev[RTE_DEV_NAME_MAX_LEN];
	struct memif_conf c;
	struct psw_memif_server *s = psw_memif_server_find(name);
	struct stat st;

	if (s != NULL) {
		psw_memif_server_destroy(s);
	} else {
		psw_memif_release_after_close(name);
		/* probe() made the device, so the switch may leave it on the bus after
		 * closing the port; a device left there would refuse the next probe. */
		if (psw_backend_dev_name("net_memif", name, RTE_DEV_NAME_MAX_LEN - 1, dev,
					 sizeof(dev)) == 0)
			(void)rte_eal_hotplug_remove("vdev", dev);
	}
	if (memif_parse(name, options, &c, NULL) < 0 || c.abstract)
		return;
	if (lstat(c.socket, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)psw_sock_clear_stale(c.socket, NULL);
}

static void
memif_describe(const char *name, json_t *options, json_t *out)
{
	struct memif_conf c;

	if (memif_parse(name, options, &c, NULL) < 0)
		return;
	json_object_set_new(out, "socket", json_string(c.socket));
	json_object_set_new(out, "abstract", json_boolean(c.abstract));
	if (c.netns != NULL)
		json_object_set_new(out, "netns", json_string(c.netns));
	json_object_set_new(out, "id", json_integer(c.id));
	json_object_set_new(out, "ring_size", json_integer(1 << c.log2_ring));
	json_object_set_new(out, "buffer_size", json_integer(c.buffer_size));
	json_object_set_new(out, "role", json_string("server"));
	if (psw_memif_server_find(name) != NULL)
		psw_memif_server_describe(psw_memif_server_find(name), out);
	/* The secret is a credential: not in port listings (the state file keeps it, 0600). */
	if (c.secret != NULL) {
		json_t *o = json_object_get(out, "options");
		const char *da = json_string_value(json_object_get(out, "devargs"));
		const char *at = da ? strstr(da, ",secret=") : NULL;

		if (json_is_object(o))
			json_object_set_new(o, "secret", json_string("*"));
		if (at != NULL)
			json_object_set_new(out, "devargs",
					    json_sprintf("%.*s,secret=*", (int)(at - da), da));
	}
}

const struct psw_backend psw_backend_memif = {
	.type = "memif",
	.create = memif_create,
	.prepare = memif_prepare,
	.probe = memif_probe,
	.started = memif_started,
	.stopping = memif_stopping,
	.removed = memif_removed,
	.describe = memif_describe,
};
