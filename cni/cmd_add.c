/*
 * cmd_add.c: CNI ADD. Checks that the pod's netns is there and the attachment is not,
 * runs IPAM, asks podswitchd for the port (port.add with the attachment's identity in
 * external_ids), then plumbs the pod's side: a tap moved into the pod's netns (netns.c),
 * or a socket and a metadata file in the pod's directory (devinfo.c). Every step that
 * made something is undone when a later one fails, so a failed ADD leaves nothing
 * behind. Plugin process only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"

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
	/* The pod's own addresses: podswitchd answers ARP and ND for them (ARP suppression)
	 * and lists them in port show. */
	if (ipam->n_ips && a->mac[0]) {
		json_t *ips = json_array();

		for (unsigned i = 0; i < ipam->n_ips; i++)
			json_array_append_new(ips, json_string(ipam->ips[i].address));
		json_object_set_new(p, "addresses", json_pack("{s:s, s:o}", "mac", a->mac,
							      "ips", ips));
	}
	if (c->nc.network[0])
		json_object_set_new(p, "network", json_string(c->nc.network));
	json_object_set_new(p, "external_ids", external_ids(c, a));
	return p;
}

/* An ADD for an attachment that already exists is an error (CNI spec 1.1.0, "ADD"). It is
 * checked before anything is made, so that the failed call owns nothing and its undo
 * cannot touch the existing attachment's port, interface, files or lease. */
static int attachment_exists(struct cmd *c, struct psw_client *cl, const struct psw_attachment *a)
{
	json_t *port, *ids;
	int code, n;

	port = psw_cmd_call(c, cl, "port.get", json_pack("{s:s}", "name", a->port_name), &code);
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

/* The podswitchd network the config names: made (network.add with the config's
 * transport and gateway) when podswitchd lacks it and the config says how, else it must
 * agree with what the config names. *made tells the undo; a->mtu gets the pod's MTU.
 * Runs before IPAM, so a conflict costs no lease. */
static int network_prepare(struct cmd *c, struct psw_client *cl, struct psw_attachment *a,
			   bool *made)
{
	json_t *list, *net, *r;
	int code, rc = -1;

	if (!c->nc.network[0])
		return 0;
	if (!(list = psw_cmd_call(c, cl, "network.list", json_object(), NULL)))
		return -1;
	net = psw_network_find(list, c->nc.network);
	if (!net) {
		if (!psw_network_makes(&c->nc)) {
			psw_cni_err(&c->err, PSW_CNI_E_CONFIG,
				    "network config: \"network\": podswitchd has no network \"%s\"",
				    c->nc.network);
			psw_cni_err_details(&c->err, "name its transport (\"vxlan\", \"vlan\") or "
					    "\"gateway\" to have the plugin make it, or add it to podswitchd");
			goto out;
		}
		/* Another ADD (another socketDir's lock, or another runtime) may make it
		 * at the same moment: "exists" is fine, and what it made must agree. */
		r = psw_cmd_call(c, cl, "network.add", psw_network_add_params(&c->nc), &code);
		if (!r && code != PSW_RPC_EXISTS)
			goto out;
		*made = r != NULL;
		json_decref(r);
		json_decref(list);
		if (!(list = psw_cmd_call(c, cl, "network.list", json_object(), NULL)))
			return -1;
		if (!(net = psw_network_find(list, c->nc.network))) {
			psw_cni_err(&c->err, PSW_CNI_E_TRY_AGAIN,
				    "podswitchd's network \"%s\" went away while this ADD made it",
				    c->nc.network);
			goto out;
		}
	}
	if (psw_network_agrees(&c->nc, net, &c->err) ||
	    psw_network_mtu(&c->nc, net, &a->mtu, &c->err))
		goto out;
	rc = 0;
out:
	json_decref(list);
	return rc;
}

int psw_cmd_add(struct cmd *c)
{
	struct psw_ipam_result ipam = {0};
	struct psw_attachment a;
	struct psw_client *cl = NULL;
	struct psw_cni_error undo_err, first;
	char tap[PSW_CNI_IFNAME_MAX];
	/* What this call made: the undo removes exactly these, nothing it found. */
	bool ipam_done = false, port_done = false, dir_made = false, meta_done = false;
	bool devinfo_done = false, net_made = false;
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
	if (psw_cmd_attachment_init(c, &a) || psw_sock_access_resolve(&c->nc, &c->access, &c->err))
		return -1;
	/* The pod's MAC is chosen here, also for a tap (podswitchd sets it before the tap
	 * moves): port.add registers it with the pod's addresses. */
	if (c->nc.mac_set)
		memcpy(mac, c->nc.mac, 6);
	else if (c->env.mac_set)
		memcpy(mac, c->env.mac, 6);
	else
		psw_mac_random(mac);
	psw_mac_format(mac, a.mac);
	psw_cni_tap_name(c->env.container_id, c->env.ifname, tap);

	/* Fail early, before IPAM hands out an address. */
	if (!(cl = psw_cmd_connect(c, PSW_CNI_E_TRY_AGAIN)))
		goto undo;
	if (attachment_exists(c, cl, &a) || network_prepare(c, cl, &a, &net_made))
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
	r = psw_cmd_call(c, cl, "port.add", port_add_params(c, &a, tap, &ipam), &code);
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
			.mac = mac, .mtu = a.mtu, .ipam = &ipam,
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
	psw_cmd_print_json(res);
	json_decref(res);
	rc = 0;
	goto out;
undo:
	/* Undo in reverse; the first error is the one reported. */
	first = c->err;
	if (devinfo_done)
		psw_cmd_unlink(c->nc.device_info_file);
	if (meta_done)
		psw_cmd_unlink(a.meta_path);
	/* The port's tap goes with the port (it is back in the host if it was moved); its
	 * socket is this call's once the port was added (made by podswitchd or the pod). */
	if (port_done) {
		if (psw_cmd_port_del(c, cl, a.port_name))
			psw_cmd_warn("undo: removing port %s failed: %s", a.port_name, c->err.msg);
		if (a.socket_path[0])
			psw_cmd_unlink(a.socket_path);
	}
	if (dir_made)
		rmdir(a.pod_dir);
	else
		psw_pod_dir_restore(a.pod_dir, &dir_before);
	if (ipam_done && psw_ipam_exec(&c->nc, "DEL", c->env.path, NULL, &undo_err))
		psw_cmd_warn("undo: IPAM release failed: %s", undo_err.msg);
	/* A network this call made goes too, unless a pod of another ADD joined it since
	 * (podswitchd refuses to remove a network with ports). */
	if (net_made) {
		json_t *d = psw_cmd_call(c, cl, "network.del",
					 json_pack("{s:s}", "name", c->nc.network), &code);

		if (!d && code != PSW_RPC_BUSY)
			psw_cmd_warn("undo: removing network %s failed: %s", c->nc.network,
				     c->err.msg);
		json_decref(d);
	}
	c->err = first;
out:
	json_decref(r);
	json_decref(ipam_res);
	psw_ipam_result_free(&ipam);
	if (cl)
		psw_client_close(cl);
	return rc;
}
