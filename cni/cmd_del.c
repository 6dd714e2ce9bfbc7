/*
 * cmd_del.c: CNI DEL and GC, the commands that take attachments away. DEL succeeds when
 * things are already gone and wins even when podswitchd is down (a tombstone names the
 * attachment); GC removes the ports, leases and files of this network's attachments that
 * the runtime no longer lists. Plugin process only.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

int psw_cmd_del(struct cmd *c)
{
	struct psw_cni_error port_err = {0}, tomb_err = {0};
	struct psw_attachment a;
	struct psw_client *cl;
	bool port_failed = false, tomb_failed, unknown = true;

	/* DEL must succeed when things are already gone; keep going after each failure
	 * and report the first real one at the end. */
	if (psw_cmd_attachment_init(c, &a))
		return -1;
	/* Before podswitchd is asked (one starting now reads it); removed once it acted. */
	tomb_failed = psw_tombstone(&c->nc, &c->env, a.port_name, true, &tomb_err) != 0;
	cl = psw_cmd_connect(c, PSW_CNI_E_TRY_AGAIN);
	if (!cl) {
		/* Down: the tombstone keeps the port from coming back at its next start.
		 * Without one the DEL cannot win: fail, the runtime retries. */
		if (tomb_failed) {
			c->err = tomb_err;
			return psw_cni_err_details(&c->err, "podswitchd is down and the deletion "
						   "could not be recorded");
		}
		psw_cmd_warn("%s; deletion recorded, releasing IPAM and files", c->err.msg);
	} else {
		/* The directory ADD used, in case this DEL's CNI_ARGS name the pod
		 * differently (or not at all). */
		json_t *port = psw_cmd_call(c, cl, "port.get", json_pack("{s:s}", "name", a.port_name), NULL);
		const char *dir = json_string_value(json_object_get(
			json_object_get(port, "external_ids"), "cni.pod_dir"));

		if (dir && psw_cmd_under_socket_dir(c, dir))
			snprintf(a.pod_dir, sizeof(a.pod_dir), "%s", dir);
		unknown = !port;
		json_decref(port);
		if (psw_cmd_port_del(c, cl, a.port_name)) {
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
			psw_cmd_warn("%s", tomb_err.msg);
	}
	if (psw_ipam_exec(&c->nc, "DEL", c->env.path, NULL, &c->err))
		return -1;
	if (a.pod_dir[0])
		psw_pod_files_remove(a.pod_dir, a.ifname, c->env.container_id);
	if (c->nc.device_info_file[0])
		psw_cmd_unlink(c->nc.device_info_file);
	if (port_failed) {
		c->err = port_err;
		return -1;
	}
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
		psw_cmd_warn("gc: IPAM release failed: %s", e.msg);
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

				psw_cmd_unlink(path);
				snprintf(sock, sizeof(sock), "%s/%s.sock", pod_dir, ifname);
				psw_cmd_unlink(sock);
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

int psw_cmd_gc(struct cmd *c)
{
	struct psw_client *cl = psw_cmd_connect(c, PSW_CNI_E_TRY_AGAIN);
	json_t *list, *ports, *p;
	int rc = 0;
	size_t i;

	if (!cl)
		return -1;
	list = psw_cmd_call(c, cl, "port.list", json_object(), NULL);
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
		if (psw_cmd_port_del(c, cl, name)) {
			rc = -1;
			continue;
		}
		ipam_release(c, cid, ifn);
		if (dir && psw_cmd_under_socket_dir(c, dir))
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
