/*
 * main.c: the CNI plugin `podswitch` (CNI spec 1.1.0): ADD, DEL, CHECK, STATUS, GC and
 * VERSION. The runtime (kubelet's CRI runtime, or Multus for secondary interfaces) runs it
 * once per command with CNI_* in the environment and the network config on stdin; it
 * answers on stdout with a result or a CNI error object and exits non-zero on error.
 *
 * It is a thin client of podswitchd's control socket: it asks for one port per pod
 * interface (port.add with the attachment's identity in external_ids), then plumbs the
 * pod's side: a tap moved into the pod's netns (netns.c), or a socket and a metadata file
 * in a per-pod directory for userspace pods (devinfo.c). Every step that made something
 * is undone when a later step fails, so a failed ADD leaves nothing behind. Commands that
 * change state hold an flock on a lock file, so parallel runtimes cannot interleave.
 * Far from the packet path: nothing here runs in podswitchd.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cni.h"
#include "ctl/client.h"

#define STDIN_MAX (1u << 20)

/* What a command needs, in one place. */
struct cmd {
	struct psw_cni_env env;
	struct psw_netconf nc;
	struct psw_cni_error err;
	int lock_fd;
	struct psw_sock_access access;  /* ADD, CHECK: socketOwner/Group/Mode resolved */
};

static __attribute__((format(printf, 1, 2))) void warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "podswitch: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static char *read_stdin(size_t *len)
{
	size_t cap = 4096;
	char *buf = malloc(cap);

	*len = 0;
	while (buf) {
		ssize_t r;

		if (*len + 1 >= cap) {
			char *nb = cap < STDIN_MAX ? realloc(buf, cap * 2) : NULL;

			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(0, buf + *len, cap - *len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		*len += r;
	}
	if (buf)
		buf[*len] = '\0';
	return buf;
}

static void print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(4) | JSON_PRESERVE_ORDER);

	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
	}
	fflush(stdout);
}

/* The version an error is reported in: the config's when it is one we speak. */
static void report_error(const char *stdin_text, size_t len, const struct psw_cni_error *err)
{
	json_t *conf = stdin_text ? json_loadb(stdin_text, len, 0, NULL) : NULL;
	const char *v = json_string_value(json_object_get(conf, "cniVersion"));
	json_t *o;

	if (v && psw_cni_version_parse(v) < 0)
		v = NULL;
	o = psw_result_error(v, err);
	print_json(o);
	fprintf(stderr, "podswitch: error %d: %s%s%s\n", err->code, err->msg,
		err->details[0] ? ": " : "", err->details);
	json_decref(o);
	json_decref(conf);
}

static int lock_take(struct cmd *c)
{
	if (mkdir(c->nc.socket_dir, 0755) && errno != EEXIST) {
		/* mkdir -p: the usual parent (/run/podswitch) may not exist yet either. */
		char parent[PSW_CNI_PATH_MAX], *slash;

		snprintf(parent, sizeof(parent), "%s", c->nc.socket_dir);
		for (slash = strchr(parent + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
			*slash = '\0';
			mkdir(parent, 0755);
			*slash = '/';
		}
		if (mkdir(c->nc.socket_dir, 0755) && errno != EEXIST)
			return psw_cni_err(&c->err, PSW_CNI_E_IO, "cannot create %s: %s",
					   c->nc.socket_dir, strerror(errno));
	}
	c->lock_fd = open(c->nc.lock_file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->lock_fd < 0)
		return psw_cni_err(&c->err, PSW_CNI_E_IO, "cannot open lock file %s: %s",
				   c->nc.lock_file, strerror(errno));
	while (flock(c->lock_fd, LOCK_EX) < 0) {
		if (errno != EINTR)
			return psw_cni_err(&c->err, PSW_CNI_E_IO, "cannot lock %s: %s",
					   c->nc.lock_file, strerror(errno));
	}
	return 0;
}

static struct psw_client *connect_switch(struct cmd *c, int code)
{
	char msg[PSW_CNI_MSG_MAX];
	struct psw_client *cl = psw_client_connect(c->nc.control_socket, c->nc.timeout_ms, msg,
						   sizeof(msg));

	if (!cl)
		psw_cni_err(&c->err, code, "podswitchd is not reachable: %s", msg);
	return cl;
}

/* One RPC; a server error becomes a CNI error (code 100) naming the method. */
static json_t *call(struct cmd *c, struct psw_client *cl, const char *method, json_t *params,
		    int *rpc_code)
{
	struct psw_rpc_error rerr = {0};
	json_t *r = psw_client_call(cl, method, params, &rerr);

	if (rpc_code)
		*rpc_code = r ? 0 : rerr.code;
	if (!r)
		psw_cni_err(&c->err, PSW_CNI_E_SWITCH, "podswitchd %s: %s", method, rerr.message);
	return r;
}

/* Removes the port; 0 also when it is not there. */
static int port_del(struct cmd *c, struct psw_client *cl, const char *name)
{
	int code;
	json_t *r = call(c, cl, "port.del", json_pack("{s:s}", "name", name), &code);

	if (r || code == PSW_RPC_NOT_FOUND) {
		json_decref(r);
		return 0;
	}
	return -1;
}

static void unlink_quiet(const char *path)
{
	if (path && path[0] && unlink(path) && errno != ENOENT)
		warn("cannot remove %s: %s", path, strerror(errno));
}

static json_t *external_ids(struct cmd *c, const struct psw_attachment *a)
{
	json_t *ids = json_pack("{s:s, s:s, s:s, s:s}", "cni.container_id", c->env.container_id,
				"cni.ifname", c->env.ifname, "cni.network", c->nc.name,
				"cni.netns", c->env.netns);

	if (a->pod_dir[0])
		json_object_set_new(ids, "cni.pod_dir", json_string(a->pod_dir));
	if (c->env.k8s_namespace[0] && c->env.k8s_pod[0]) {
		char pod[520];

		snprintf(pod, sizeof(pod), "%s/%s", c->env.k8s_namespace, c->env.k8s_pod);
		json_object_set_new(ids, "k8s.pod", json_string(pod));
	}
	if (c->env.k8s_infra_id[0])
		json_object_set_new(ids, "k8s.infra_container_id", json_string(c->env.k8s_infra_id));
	if (c->env.k8s_pod_uid[0])
		json_object_set_new(ids, "k8s.pod_uid", json_string(c->env.k8s_pod_uid));
	return ids;
}

/* The pod side of a tap as this plugin sets it up, for podswitchd to find it again or
 * rebuild it after a restart (backends/README.md, tap). */
static void tap_pod_options(struct cmd *c, const struct psw_ipam_result *ipam, json_t *opts)
{
	json_t *ips = json_array();

	json_object_set_new(opts, "netns", json_string(c->env.netns));
	json_object_set_new(opts, "pod_ifname", json_string(c->env.ifname));
	for (unsigned i = 0; i < ipam->n_ips; i++) {
		json_t *ip = json_pack("{s:s}", "address", ipam->ips[i].address);

		if (ipam->ips[i].gateway[0])
			json_object_set_new(ip, "gateway", json_string(ipam->ips[i].gateway));
		json_array_append_new(ips, ip);
	}
	json_object_set_new(opts, "ips", ips);
	if (json_array_size(ipam->routes) > 0)
		json_object_set_new(opts, "routes", json_deep_copy(ipam->routes));
}

/* podswitchd's socket options (README "Ports"): numeric ids, so that both processes
 * mean the same user; an octal string for the mode. */
static void sock_access_opts(const struct psw_sock_access *acc, json_t *opts)
{
	char buf[16];

	if (acc->uid_set) {
		snprintf(buf, sizeof(buf), "%u", acc->uid);
		json_object_set_new(opts, "owner", json_string(buf));
	}
	if (acc->gid_set) {
		snprintf(buf, sizeof(buf), "%u", acc->gid);
		json_object_set_new(opts, "group", json_string(buf));
	}
	if (acc->mode_set) {
		snprintf(buf, sizeof(buf), "0%03o", acc->mode);
		json_object_set_new(opts, "perm", json_string(buf));
	}
}

static json_t *port_add_params(struct cmd *c, const struct psw_attachment *a,
			       const char *tap_name, const struct psw_ipam_result *ipam)
{
	json_t *p = json_object(), *opts = json_object();

	json_object_set_new(p, "name", json_string(a->port_name));
	json_object_set_new(p, "type", json_string(psw_cni_iface_name(a->iface)));
	switch (a->iface) {
	case PSW_IFACE_TAP:
		json_object_set_new(opts, "ifname", json_string(tap_name));
		tap_pod_options(c, ipam, opts);
		/* The tap's MAC is the pod's: podswitchd sets it before we move it. */
		if (a->mac[0])
			json_object_set_new(p, "mac", json_string(a->mac));
		break;
	case PSW_IFACE_VHOST_USER:
		sock_access_opts(&c->access, opts);
		json_object_set_new(opts, "socket", json_string(a->socket_path));
		json_object_set_new(opts, "mode",
				    json_string(c->nc.vhost_switch_server ? "server" : "client"));
		if (c->nc.queues)
			json_object_set_new(opts, "queues", json_integer(c->nc.queues));
		break;
	case PSW_IFACE_MEMIF:
		if (c->nc.memif_abstract) {
			json_object_set_new(opts, "socket", json_string(a->abstract_socket));
			json_object_set_new(opts, "abstract", json_true());
			json_object_set_new(opts, "netns", json_string(c->env.netns));
		} else {
			sock_access_opts(&c->access, opts);
			json_object_set_new(opts, "socket", json_string(a->socket_path));
			json_object_set_new(opts, "abstract", json_false());
		}
		if (c->nc.memif_ring_size)
			json_object_set_new(opts, "ring_size", json_integer(c->nc.memif_ring_size));
		if (c->nc.memif_buffer_size)
			json_object_set_new(opts, "buffer_size",
					    json_integer(c->nc.memif_buffer_size));
		break;
	}
	json_object_set_new(p, "options", opts);
	if (a->mtu)
		json_object_set_new(p, "mtu", json_integer(a->mtu));
	if (c->nc.network[0])
		json_object_set_new(p, "network", json_string(c->nc.network));
	json_object_set_new(p, "external_ids", external_ids(c, a));
	return p;
}

/* Fills the names and paths of the attachment (no side effects). */
static int attachment_init(struct cmd *c, struct psw_attachment *a)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->ifname, sizeof(a->ifname), "%s", c->env.ifname);
	a->sandbox = c->env.netns;
	a->iface = c->nc.iface;
	a->mtu = c->nc.mtu;
	psw_cni_port_name(c->env.container_id, c->env.ifname, a->port_name);
	if (a->iface == PSW_IFACE_TAP)
		return 0;
	if (psw_cni_pod_dir(&c->nc, &c->env, a->pod_dir, sizeof(a->pod_dir), &c->err))
		return -1;
	psw_cni_meta_path(a->pod_dir, a->ifname, a->meta_path, sizeof(a->meta_path));
	if (a->iface == PSW_IFACE_MEMIF && c->nc.memif_abstract) {
		/* DPDK keys memif listeners by name across namespaces: make it unique. */
		snprintf(a->abstract_socket, sizeof(a->abstract_socket), "podswitch/%s",
			 a->port_name);
	} else if (psw_cni_socket_path(a->pod_dir, a->ifname, a->socket_path,
				       sizeof(a->socket_path), &c->err)) {
		return -1;
	}
	if (a->iface == PSW_IFACE_VHOST_USER)
		a->mode = c->nc.vhost_switch_server ? "client" : "server";
	else
		a->mode = "client";
	return 0;
}

/* An ADD for an attachment that already exists is an error (CNI spec 1.1.0, "ADD"). It is
 * checked before anything is made, so that the failed call owns nothing and its undo
 * cannot touch the existing attachment's port, interface, files or lease. */
static int attachment_exists(struct cmd *c, struct psw_client *cl, const struct psw_attachment *a)
{
	json_t *port, *ids;
	int code, n;

	port = call(c, cl, "port.get", json_pack("{s:s}", "name", a->port_name), &code);
	if (port) {
		ids = json_object_get(port, "external_ids");
		psw_cni_err(&c->err, PSW_CNI_E_EXISTS,
			    "attachment %s/%s exists (port %s of container %s, ifname %s): ADD ran before without DEL",
			    c->env.container_id, c->env.ifname, a->port_name,
			    json_string_value(json_object_get(ids, "cni.container_id")) ?: "?",
			    json_string_value(json_object_get(ids, "cni.ifname")) ?: "?");
		json_decref(port);
		return -1;
	}
	if (code != PSW_RPC_NOT_FOUND)
		return -1;
	if (a->iface == PSW_IFACE_TAP) {
		if ((n = psw_netns_link_exists(c->env.netns, c->env.ifname, &c->err)) != 0) {
			if (n > 0)
				psw_cni_err(&c->err, PSW_CNI_E_NETNS,
					    "interface %s already exists in %s", c->env.ifname,
					    c->env.netns);
			return -1;
		}
	} else {
		/* The metadata file of this very attachment (a new sandbox of the pod, with
		 * another container id, reuses the directory and may overwrite it). */
		json_t *meta = psw_json_read_file(a->meta_path);
		const char *owner = json_string_value(json_object_get(meta, "containerId"));
		bool mine = owner && !strcmp(owner, c->env.container_id);

		json_decref(meta);
		if (mine)
			return psw_cni_err(&c->err, PSW_CNI_E_EXISTS,
					   "attachment %s/%s exists (metadata file %s): ADD ran before without DEL",
					   c->env.container_id, c->env.ifname, a->meta_path);
	}
	return 0;
}

static int cmd_add(struct cmd *c)
{
	struct psw_ipam_result ipam = {0};
	struct psw_attachment a;
	struct psw_client *cl = NULL;
	struct psw_cni_error undo_err, first;
	char tap[PSW_CNI_IFNAME_MAX];
	/* What this call made: the undo removes exactly these, nothing it found. */
	bool ipam_done = false, port_done = false, dir_made = false, meta_done = false;
	bool devinfo_done = false;
	struct psw_dir_state dir_before = {0};
	json_t *ipam_res = NULL, *r = NULL, *res;
	unsigned char mac[6];
	int rc = -1, n, code;

	if ((n = psw_netns_exists(c->env.netns, &c->err)) <= 0) {
		if (n == 0)
			psw_cni_err(&c->err, PSW_CNI_E_NO_CONTAINER, "netns %s does not exist",
				    c->env.netns);
		return -1;
	}
	if (attachment_init(c, &a) || psw_sock_access_resolve(&c->nc, &c->access, &c->err))
		return -1;
	if (c->nc.mac_set || c->env.mac_set || a.iface != PSW_IFACE_TAP) {
		if (c->nc.mac_set)
			memcpy(mac, c->nc.mac, 6);
		else if (c->env.mac_set)
			memcpy(mac, c->env.mac, 6);
		else
			psw_mac_random(mac);
		psw_mac_format(mac, a.mac);
	}
	psw_cni_tap_name(c->env.container_id, c->env.ifname, tap);

	/* Fail early, before IPAM hands out an address. */
	if (!(cl = connect_switch(c, PSW_CNI_E_TRY_AGAIN)))
		goto undo;
	if (attachment_exists(c, cl, &a))
		goto undo;
	/* IPAM DEL releases whatever the plugin holds for (container id, ifname), so it is
	 * asked only when its ADD succeeded here: a plugin whose ADD fails holds nothing
	 * new (the spec makes it clean up), and a DEL could release a lease this call did
	 * not take (host-local refuses a second lease for the same attachment). */
	if (psw_ipam_exec(&c->nc, "ADD", c->env.path, &ipam_res, &c->err))
		goto undo;
	ipam_done = c->nc.ipam != NULL;
	if (psw_ipam_result_parse(ipam_res, &ipam, &c->err))
		goto undo;
	if (a.pod_dir[0]) {
		if (mkdir(a.pod_dir, 0775) == 0) {
			dir_made = true;
		} else if (errno != EEXIST) {
			psw_cni_err(&c->err, PSW_CNI_E_IO, "cannot create %s: %s", a.pod_dir,
				    strerror(errno));
			goto undo;
		}
		if (psw_pod_dir_set_access(a.pod_dir, &c->access, &dir_before, &c->err))
			goto undo;
		/* A socket left by an earlier sandbox of the same pod would look live. */
		if (a.socket_path[0])
			unlink(a.socket_path);
	}
	r = call(c, cl, "port.add", port_add_params(c, &a, tap, &ipam), &code);
	if (!r) {
		if (code == PSW_RPC_EXISTS)
			psw_cni_err_details(&c->err,
					    "port %s exists: ADD for %s/%s ran before without DEL",
					    a.port_name, c->env.container_id, c->env.ifname);
		goto undo;
	}
	port_done = true;
	/* This attachment is alive again: an earlier DEL of the same names must not take
	 * the new port at podswitchd's next start. */
	psw_tombstone(&c->nc, &c->env, a.port_name, false, NULL);
	if (a.iface == PSW_IFACE_TAP) {
		struct psw_link_conf lc = {
			.host_name = tap, .netns = c->env.netns, .ifname = c->env.ifname,
			.mac = a.mac[0] ? mac : NULL, .mtu = a.mtu, .ipam = &ipam,
		};

		if (psw_netns_setup(&lc, a.mac, &c->err))
			goto undo;
	} else if (psw_meta_write(&a, &c->nc, &c->env, &ipam, &c->err)) {
		goto undo;
	} else {
		meta_done = true;
	}
	if (c->nc.device_info_file[0]) {
		if (psw_devinfo_write(c->nc.device_info_file, &a, &c->err))
			goto undo;
		devinfo_done = true;
	}
	res = psw_result_build(c->nc.version, &a, &ipam, c->nc.dns);
	if (c->nc.prev_result) {
		json_t *chained = psw_result_chain(c->nc.prev_result, res);

		json_decref(res);
		res = chained;
	}
	print_json(res);
	json_decref(res);
	rc = 0;
	goto out;
undo:
	/* Undo in reverse; the first error is the one reported. */
	first = c->err;
	if (devinfo_done)
		unlink_quiet(c->nc.device_info_file);
	if (meta_done)
		unlink_quiet(a.meta_path);
	/* The port's tap goes with the port (it is back in the host if it was moved); its
	 * socket is this call's once the port was added (made by podswitchd or the pod). */
	if (port_done) {
		if (port_del(c, cl, a.port_name))
			warn("undo: removing port %s failed: %s", a.port_name, c->err.msg);
		if (a.socket_path[0])
			unlink_quiet(a.socket_path);
	}
	if (dir_made)
		rmdir(a.pod_dir);
	else
		psw_pod_dir_restore(a.pod_dir, &dir_before);
	if (ipam_done && psw_ipam_exec(&c->nc, "DEL", c->env.path, NULL, &undo_err))
		warn("undo: IPAM release failed: %s", undo_err.msg);
	c->err = first;
out:
	json_decref(r);
	json_decref(ipam_res);
	psw_ipam_result_free(&ipam);
	if (cl)
		psw_client_close(cl);
	return rc;
}

/* A directory one level under socketDir (never elsewhere, never ".."). */
static bool under_socket_dir(const struct cmd *c, const char *dir)
{
	size_t n = strlen(c->nc.socket_dir);

	return strncmp(dir, c->nc.socket_dir, n) == 0 && dir[n] == '/' && dir[n + 1] &&
	       !strchr(dir + n + 1, '/') && strcmp(dir + n + 1, "..") && strcmp(dir + n + 1, ".");
}

static int cmd_del(struct cmd *c)
{
	struct psw_cni_error port_err = {0}, tomb_err = {0};
	struct psw_attachment a;
	struct psw_client *cl;
	bool port_failed = false, tomb_failed, unknown = true;

	/* DEL must succeed when things are already gone; keep going after each failure
	 * and report the first real one at the end. */
	if (attachment_init(c, &a))
		return -1;
	/* Before podswitchd is asked (one starting now reads it); removed once it acted. */
	tomb_failed = psw_tombstone(&c->nc, &c->env, a.port_name, true, &tomb_err) != 0;
	cl = connect_switch(c, PSW_CNI_E_TRY_AGAIN);
	if (!cl) {
		/* Down: the tombstone keeps the port from coming back at its next start.
		 * Without one the DEL cannot win: fail, the runtime retries. */
		if (tomb_failed) {
			c->err = tomb_err;
			return psw_cni_err_details(&c->err, "podswitchd is down and the deletion "
						   "could not be recorded");
		}
		warn("%s; deletion recorded, releasing IPAM and files", c->err.msg);
	} else {
		/* The directory ADD used, in case this DEL's CNI_ARGS name the pod
		 * differently (or not at all). */
		json_t *port = call(c, cl, "port.get", json_pack("{s:s}", "name", a.port_name), NULL);
		const char *dir = json_string_value(json_object_get(
			json_object_get(port, "external_ids"), "cni.pod_dir"));

		if (dir && under_socket_dir(c, dir))
			snprintf(a.pod_dir, sizeof(a.pod_dir), "%s", dir);
		unknown = !port;
		json_decref(port);
		if (port_del(c, cl, a.port_name)) {
			port_failed = true;
			port_err = c->err;
		} else {
			psw_tombstone(&c->nc, &c->env, a.port_name, false, NULL);
		}
		psw_client_close(cl);
	}
	/* A pod's tap outlives podswitchd: with no port to delete it, delete it in the pod
	 * and on the host (a podswitchd killed before it saved the port, a failed ADD). */
	if (unknown && a.iface == PSW_IFACE_TAP) {
		char tap[PSW_CNI_IFNAME_MAX];

		psw_cni_tap_name(c->env.container_id, c->env.ifname, tap);
		if ((c->env.netns && c->env.netns[0] &&
		     psw_netns_del_link(c->env.netns, c->env.ifname, &tomb_err)) ||
		    psw_netns_del_link("/proc/self/ns/net", tap, &tomb_err))
			warn("%s", tomb_err.msg);
	}
	if (psw_ipam_exec(&c->nc, "DEL", c->env.path, NULL, &c->err))
		return -1;
	if (a.pod_dir[0])
		psw_pod_files_remove(a.pod_dir, a.ifname, c->env.container_id);
	if (c->nc.device_info_file[0])
		unlink_quiet(c->nc.device_info_file);
	if (port_failed) {
		c->err = port_err;
		return -1;
	}
	return 0;
}

static int cmd_check(struct cmd *c)
{
	struct psw_ipam_result prev = {0};
	struct psw_attachment a;
	struct psw_client *cl = NULL;
	json_t *port = NULL, *link;
	char mac[18];
	const char *type;
	int rc = -1, n;

	if ((n = psw_netns_exists(c->env.netns, &c->err)) <= 0) {
		if (n == 0)
			psw_cni_err(&c->err, PSW_CNI_E_NO_CONTAINER, "netns %s does not exist",
				    c->env.netns);
		return -1;
	}
	if (attachment_init(c, &a) ||
	    psw_prev_result_parse(c->nc.prev_result, c->env.ifname, c->env.netns, &prev, mac,
				  &c->err))
		goto out;
	if (!(cl = connect_switch(c, PSW_CNI_E_TRY_AGAIN)))
		goto out;
	port = call(c, cl, "port.get", json_pack("{s:s}", "name", a.port_name), NULL);
	if (!port) {
		c->err.code = PSW_CNI_E_CHECK;
		goto out;
	}
	type = json_string_value(json_object_get(port, "type"));
	if (!type || strcmp(type, psw_cni_iface_name(a.iface))) {
		psw_cni_err(&c->err, PSW_CNI_E_CHECK, "port %s has type %s, config says %s",
			    a.port_name, type ? type : "?", psw_cni_iface_name(a.iface));
		goto out;
	}
	if (a.iface == PSW_IFACE_TAP) {
		if (psw_netns_check(c->env.netns, c->env.ifname, mac, &prev, &c->err))
			goto out;
	} else {
		struct stat st;

		link = json_object_get(port, "link");
		/* Connectable: the side that listens has its socket in place. A pod that has
		 * not started its application yet is still fine (client-mode vhost). */
		if (a.socket_path[0] && strcmp(a.mode, "client") == 0 &&
		    stat(a.socket_path, &st)) {
			psw_cni_err(&c->err, PSW_CNI_E_CHECK, "socket %s is missing", a.socket_path);
			goto out;
		}
		if (stat(a.meta_path, &st)) {
			psw_cni_err(&c->err, PSW_CNI_E_CHECK, "metadata file %s is missing",
				    a.meta_path);
			goto out;
		}
		if (psw_sock_access_resolve(&c->nc, &c->access, &c->err) ||
		    psw_pod_dir_check_access(a.pod_dir, &c->nc, &c->access, &c->err))
			goto out;
		(void)link;
	}
	if (psw_ipam_exec(&c->nc, "CHECK", c->env.path, NULL, &c->err))
		goto out;
	rc = 0;
out:
	json_decref(port);
	psw_ipam_result_free(&prev);
	if (cl)
		psw_client_close(cl);
	return rc;
}

static int cmd_status(struct cmd *c)
{
	struct psw_client *cl = connect_switch(c, PSW_CNI_E_NOT_AVAILABLE);
	json_t *r;

	if (!cl)
		return -1;
	r = call(c, cl, "switch.info", json_object(), NULL);
	psw_client_close(cl);
	if (!r) {
		c->err.code = PSW_CNI_E_NOT_AVAILABLE;
		return -1;
	}
	json_decref(r);
	/* A 1.1.0 IPAM plugin reports its own availability. */
	if (c->nc.ipam && c->env.path &&
	    psw_ipam_exec(&c->nc, "STATUS", c->env.path, NULL, &c->err))
		return -1;
	return 0;
}

static bool attachment_valid(json_t *valid, const char *cid, const char *ifname)
{
	size_t i;
	json_t *a;

	json_array_foreach(valid, i, a) {
		const char *vc = json_string_value(json_object_get(a, "containerID"));
		const char *vi = json_string_value(json_object_get(a, "ifname"));

		if (vc && vi && !strcmp(vc, cid) && !strcmp(vi, ifname))
			return true;
	}
	return false;
}

/* IPAM DEL for an attachment other than the one in the environment. */
static void ipam_release(struct cmd *c, const char *cid, const char *ifname)
{
	struct psw_cni_error e;

	setenv("CNI_CONTAINERID", cid, 1);
	setenv("CNI_IFNAME", ifname, 1);
	unsetenv("CNI_NETNS");
	if (psw_ipam_exec(&c->nc, "DEL", c->env.path, NULL, &e))
		warn("gc: IPAM release failed: %s", e.msg);
}

/* Metadata files of this network whose attachment is gone: remove them, their sockets,
 * and empty pod directories. */
static void gc_dirs(struct cmd *c)
{
	DIR *d = opendir(c->nc.socket_dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char pod_dir[PSW_CNI_PATH_MAX + 256];
		struct dirent *fe;
		DIR *pd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(pod_dir, sizeof(pod_dir), "%s/%s", c->nc.socket_dir, de->d_name);
		pd = opendir(pod_dir);
		while (pd && (fe = readdir(pd))) {
			size_t n = strlen(fe->d_name);
			char path[PSW_CNI_PATH_MAX + 512], ifname[PSW_CNI_IFNAME_MAX];
			const char *net, *cid;
			json_t *m;

			if (n < 6 || strcmp(fe->d_name + n - 5, ".json") || n - 5 >= sizeof(ifname))
				continue;
			snprintf(path, sizeof(path), "%s/%s", pod_dir, fe->d_name);
			m = psw_json_read_file(path);
			net = json_string_value(json_object_get(m, "networkName"));
			cid = json_string_value(json_object_get(m, "containerId"));
			snprintf(ifname, sizeof(ifname), "%.*s", (int)(n - 5), fe->d_name);
			if (net && cid && !strcmp(net, c->nc.name) &&
			    !attachment_valid(c->nc.valid_attachments, cid, ifname)) {
				char sock[PSW_CNI_PATH_MAX + 512];

				unlink_quiet(path);
				snprintf(sock, sizeof(sock), "%s/%s.sock", pod_dir, ifname);
				unlink_quiet(sock);
			}
			json_decref(m);
		}
		if (pd)
			closedir(pd);
		rmdir(pod_dir); /* only when empty */
	}
	if (d)
		closedir(d);
}

static int cmd_gc(struct cmd *c)
{
	struct psw_client *cl = connect_switch(c, PSW_CNI_E_TRY_AGAIN);
	json_t *list, *ports, *p;
	int rc = 0;
	size_t i;

	if (!cl)
		return -1;
	list = call(c, cl, "port.list", json_object(), NULL);
	if (!list) {
		psw_client_close(cl);
		return -1;
	}
	ports = json_object_get(list, "ports");
	json_array_foreach(ports, i, p) {
		json_t *ids = json_object_get(p, "external_ids");
		const char *name = json_string_value(json_object_get(p, "name"));
		const char *net = json_string_value(json_object_get(ids, "cni.network"));
		const char *cid = json_string_value(json_object_get(ids, "cni.container_id"));
		const char *ifn = json_string_value(json_object_get(ids, "cni.ifname"));
		const char *dir = json_string_value(json_object_get(ids, "cni.pod_dir"));

		if (!name || !net || !cid || !ifn || strcmp(net, c->nc.name) ||
		    attachment_valid(c->nc.valid_attachments, cid, ifn))
			continue;
		fprintf(stderr, "podswitch: gc: removing port %s (%s/%s)\n", name, cid, ifn);
		if (port_del(c, cl, name)) {
			rc = -1;
			continue;
		}
		ipam_release(c, cid, ifn);
		if (dir && under_socket_dir(c, dir))
			psw_pod_files_remove(dir, ifn, cid);
	}
	json_decref(list);
	psw_client_close(cl);
	gc_dirs(c);
	/* A 1.1.0 IPAM plugin cleans its own stale leases from the same valid list. */
	if (psw_ipam_exec(&c->nc, "GC", c->env.path, NULL, &c->err))
		rc = -1;
	return rc;
}

static int cmd_version(const char *text, size_t len)
{
	json_t *conf = json_loadb(text, len, 0, NULL);
	json_t *v = psw_result_version(json_string_value(json_object_get(conf, "cniVersion")));

	print_json(v);
	json_decref(v);
	json_decref(conf);
	return 0;
}

int main(void)
{
	struct cmd c = {.lock_fd = -1};
	size_t len = 0;
	char *text = read_stdin(&len);
	int rc;

	if (!text) {
		psw_cni_err(&c.err, PSW_CNI_E_IO, "cannot read the network config from stdin");
		report_error(NULL, 0, &c.err);
		return 1;
	}
	if (psw_cni_env_load(&c.env, &c.err)) {
		report_error(text, len, &c.err);
		free(text);
		return 1;
	}
	if (!strcmp(c.env.command, "VERSION")) {
		rc = cmd_version(text, len);
		free(text);
		return rc;
	}
	if (psw_netconf_parse(text, len, c.env.command, &c.nc, &c.err)) {
		report_error(text, len, &c.err);
		free(text);
		return 1;
	}
	if (!strcmp(c.env.command, "STATUS")) {
		rc = cmd_status(&c);
	} else {
		rc = lock_take(&c);
		if (rc == 0) {
			if (!strcmp(c.env.command, "ADD"))
				rc = cmd_add(&c);
			else if (!strcmp(c.env.command, "DEL"))
				rc = cmd_del(&c);
			else if (!strcmp(c.env.command, "CHECK"))
				rc = cmd_check(&c);
			else
				rc = cmd_gc(&c);
		}
	}
	if (rc)
		report_error(text, len, &c.err);
	if (c.lock_fd >= 0)
		close(c.lock_fd);
	psw_netconf_free(&c.nc);
	free(text);
	return rc ? 1 : 0;
}
