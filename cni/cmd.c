/*
 * cmd.c: what the commands of the CNI plugin share (cmd.h): messages, the connection to
 * podswitchd and one RPC on it, removing a port, and the names and paths of an
 * attachment. Plugin process only.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

void psw_cmd_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "podswitch: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void psw_cmd_print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(4) | JSON_PRESERVE_ORDER);

	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
	}
	fflush(stdout);
}

struct psw_client *psw_cmd_connect(struct cmd *c, int code)
{
	char msg[PSW_CNI_MSG_MAX];
	struct psw_client *cl = psw_client_connect(c->nc.control_socket, c->nc.timeout_ms, msg,
						   sizeof(msg));

	if (!cl)
		psw_cni_err(&c->err, code, "podswitchd is not reachable: %s", msg);
	return cl;
}

/* One RPC; a server error becomes a CNI error (code 100) naming the method. */
json_t *psw_cmd_call(struct cmd *c, struct psw_client *cl, const char *method, json_t *params,
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
int psw_cmd_port_del(struct cmd *c, struct psw_client *cl, const char *name)
{
	int code;
	json_t *r = psw_cmd_call(c, cl, "port.del", json_pack("{s:s}", "name", name), &code);

	if (r || code == PSW_RPC_NOT_FOUND) {
		json_decref(r);
		return 0;
	}
	return -1;
}

void psw_cmd_unlink(const char *path)
{
	if (path && path[0] && unlink(path) && errno != ENOENT)
		psw_cmd_warn("cannot remove %s: %s", path, strerror(errno));
}

/* Fills the names and paths of the attachment (no side effects). */
int psw_cmd_attachment_init(struct cmd *c, struct psw_attachment *a)
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

/* A directory one level under socketDir (never elsewhere, never ".."). */
bool psw_cmd_under_socket_dir(const struct cmd *c, const char *dir)
{
	size_t n = strlen(c->nc.socket_dir);

	return strncmp(dir, c->nc.socket_dir, n) == 0 && dir[n] == '/' && dir[n + 1] &&
	       !strchr(dir + n + 1, '/') && strcmp(dir + n + 1, "..") && strcmp(dir + n + 1, ".");
}
