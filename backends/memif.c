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
 * different namespaces (memif_server.c keys listeners by name).
 *
 * Restarts: a pod that restarts connects again to the same listener. After a podswitchd
 * restart the listener is created again (from the saved state); DPDK's memif client does
 * not retry by itself (it connects in dev_start), so a DPDK pod must restart its port;
 * VPP and libmemif clients retry on a timer.
 *
 * Hostile peer: every region, ring placement and descriptor the client gives is checked
 * before use (memif_server.c at set-up, memif_ring.c per packet); a bad descriptor is a
 * counted drop ("bad_desc" in port show).
 *
 * The back end has create() and no prepare()/probe(): rpc_port.c adds the port with
 * psw_port_add_io(), and port.del calls removed(), which closes the listener, any client
 * and the socket file.
 *
 * Control thread (main lcore) only; not on the packet path.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <rte_common.h>
#include <rte_ether.h>

#include "port/backend.h"
#include "backends/backend_lib.h"
#include "backends/memif_proto.h"
#include "backends/memif_server.h"
#include "core/burst.h"
#include "port/port.h"

#define MEMIF_SECRET_MAX MEMIF_SECRET_SZ /* 24: the INIT message's secret field */

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
	/* What a DPDK client can give in its devargs ("secret=..."). */
	if (c->secret != NULL &&
	    (strlen(c->secret) > MEMIF_SECRET_MAX || !psw_devarg_value_ok(c->secret)))
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.secret: 1..%d characters, no spaces, quotes, ',', '=', '[' or ']'",
				       MEMIF_SECRET_MAX);
	return psw_opt_perm(o, &c->perm, err);
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
	if (memif_parse(name, options, &c, err) < 0)
		return -1;
	if (c.abstract)
		return 0;
	return psw_sock_apply_perm(c.socket, &c.perm, err);
}

static void
memif_removed(const char *name, json_t *options)
{
	struct memif_conf c;
	struct psw_memif_server *s = psw_memif_server_find(name);
	struct stat st;

	if (s != NULL)
		psw_memif_server_destroy(s);
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

		if (json_is_object(o))
			json_object_set_new(o, "secret", json_string("*"));
	}
}

const struct psw_backend psw_backend_memif = {
	.type = "memif",
	.create = memif_create,
	.started = memif_started,
	.removed = memif_removed,
	.describe = memif_describe,
	.poll = psw_memif_server_poll,
};
