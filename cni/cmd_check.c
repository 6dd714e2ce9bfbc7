/*
 * cmd_check.c: CNI CHECK (the attachment is as ADD left it: port type, the pod's
 * interface and addresses, or a userspace pod's socket, metadata file and directory) and
 * STATUS (podswitchd answers). Plugin process only.
 */
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"

int psw_cmd_check(struct cmd *c)
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
	if (psw_cmd_attachment_init(c, &a) ||
	    psw_prev_result_parse(c->nc.prev_result, c->env.ifname, c->env.netns, &prev, mac,
				  &c->err))
		goto out;
	if (!(cl = psw_cmd_connect(c, PSW_CNI_E_TRY_AGAIN)))
		goto out;
	port = psw_cmd_call(c, cl, "port.get", json_pack("{s:s}", "name", a.port_name), NULL);
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

int psw_cmd_status(struct cmd *c)
{
	struct psw_client *cl = psw_cmd_connect(c, PSW_CNI_E_NOT_AVAILABLE);
	json_t *r;

	if (!cl)
		return -1;
	r = psw_cmd_call(c, cl, "switch.info", json_object(), NULL);
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
