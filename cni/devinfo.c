/*
 * devinfo.c: the files a userspace pod (vhost-user, memif) reads to find its interface.
 * The metadata file "<ifname>.json" sits next to the socket in the pod's directory (the
 * directory the pod mounts, see cni/README.md); the NPWG device-info file goes where
 * Multus asks (runtimeConfig.CNIDeviceInfoFile) and ends up in the pod's network-status
 * annotation. Files are written atomically (temporary file + rename) so a pod polling for
 * them never reads half a file. The pod directory's owner and mode (socketOwner, socketGroup,
 * socketMode) are set and checked here too. Plugin process only.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cni.h"

/* mkdir -p for the parent directory of path. */
static int mkdir_parent(const char *path)
{
	char buf[PSW_CNI_PATH_MAX];

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

int psw_json_write_file(const char *path, json_t *v, struct psw_cni_error *err)
{
	char tmp[PSW_CNI_PATH_MAX + 16];
	int fd, rc;

	if (!v)
		return psw_cni_err(err, PSW_CNI_E_IO, "out of memory writing %s", path);
	if ((rc = mkdir_parent(path)))
		return psw_cni_err(err, PSW_CNI_E_IO, "cannot create the directory of %s: %s",
				   path, strerror(-rc));
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	/* A pod may own its directory (socketOwner): never write through a name it could
	 * have planted (a link to a host file). A fresh file, and rename() replaces the
	 * final name itself, not what it points to. */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return psw_cni_err(err, PSW_CNI_E_IO, "cannot write %s: %s", tmp, strerror(errno));
	if (json_dumpfd(v, fd, JSON_INDENT(2) | JSON_SORT_KEYS) || write(fd, "\n", 1) != 1 ||
	    fsync(fd)) {
		rc = errno;
		close(fd);
		unlink(tmp);
		return psw_cni_err(err, PSW_CNI_E_IO, "cannot write %s: %s", tmp, strerror(rc));
	}
	close(fd);
	if (rename(tmp, path)) {
		rc = errno;
		unlink(tmp);
		return psw_cni_err(err, PSW_CNI_E_IO, "cannot rename %s: %s", tmp, strerror(rc));
	}
	return 0;
}

json_t *psw_json_read_file(const char *path)
{
	struct stat st;
	json_t *v = NULL;
	int fd;

	/* O_NONBLOCK: opening a FIFO does not wait for a writer; it is then refused. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= PSW_CNI_META_MAX)
		v = json_loadfd(fd, 0, NULL);
	close(fd);
	return v;
}

json_t *psw_devinfo_build(const struct psw_attachment *a)
{
	const char *path = a->socket_path[0] ? a->socket_path : a->abstract_socket;

	if (a->iface == PSW_IFACE_VHOST_USER)
		/* "mode" is the container's side: "server" = the pod creates the socket. */
		return json_pack("{s:s, s:s, s:{s:s, s:s}}", "type", "vhost-user", "version",
				 "1.1.0", "vhost-user", "mode", a->mode, "path", path);
	if (a->iface == PSW_IFACE_MEMIF)
		/* "slave" = the host (podswitchd) created the socket; the pod attaches. */
		return json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}", "type", "memif", "version",
				 "1.1.0", "memif", "role", "slave", "path", path, "mode",
				 "ethernet");
	return NULL;
}

int psw_devinfo_write(const char *path, const struct psw_attachment *a,
		      struct psw_cni_error *err)
{
	json_t *v = psw_devinfo_build(a);
	int rc;

	if (!v)
		return 0; /* kernel interfaces have no device-info */
	rc = psw_json_write_file(path, v, err);
	json_decref(v);
	return rc;
}

int psw_meta_write(const struct psw_attachment *a, const struct psw_netconf *nc,
		   const struct psw_cni_env *env, const struct psw_ipam_result *ipam,
		   struct psw_cni_error *err)
{
	json_t *m = json_object(), *ips = json_array(), *gws = json_array();
	char sockfile[PSW_CNI_SUN_MAX];
	int rc;

	for (unsigned i = 0; ipam && i < ipam->n_ips; i++) {
		json_array_append_new(ips, json_string(ipam->ips[i].address));
		if (ipam->ips[i].gateway[0])
			json_array_append_new(gws, json_string(ipam->ips[i].gateway));
	}
	json_object_set_new(m, "version", json_integer(1));
	json_object_set_new(m, "ifname", json_string(a->ifname));
	json_object_set_new(m, "type", json_string(psw_cni_iface_name(a->iface)));
	json_object_set_new(m, "mode", json_string(a->mode));
	if (a->socket_path[0]) {
		/* The pod mounts the directory somewhere else: the file name is what it
		 * joins to its own mount point. */
		snprintf(sockfile, sizeof(sockfile), "%s", strrchr(a->socket_path, '/') + 1);
		json_object_set_new(m, "socketPath", json_string(a->socket_path));
		json_object_set_new(m, "socketFile", json_string(sockfile));
	}
	if (a->abstract_socket[0])
		json_object_set_new(m, "abstractSocket", json_string(a->abstract_socket));
	json_object_set_new(m, "mac", json_string(a->mac));
	if (a->mtu)
		json_object_set_new(m, "mtu", json_integer(a->mtu));
	json_object_set_new(m, "ips", ips);
	json_object_set_new(m, "gateways", gws);
	json_object_set_new(m, "routes", ipam && ipam->routes ? json_deep_copy(ipam->routes) : json_array());
	if (ipam && ipam->dns)
		json_object_set(m, "dns", ipam->dns);
	else if (nc->dns)
		json_object_set(m, "dns", nc->dns);
	json_object_set_new(m, "network", json_string(nc->network));
	json_object_set_new(m, "networkName", json_string(nc->name));
	json_object_set_new(m, "port", json_string(a->port_name));
	json_object_set_new(m, "containerId", json_string(env->container_id));
	if (env->k8s_namespace[0])
		json_object_set_new(m, "podNamespace", json_string(env->k8s_namespace));
	if (env->k8s_pod[0])
		json_object_set_new(m, "podName", json_string(env->k8s_pod));
	if (a->iface == PSW_IFACE_VHOST_USER)
		json_object_set_new(m, "queues", json_integer(nc->queues ? nc->queues : 1));
	if (a->iface == PSW_IFACE_MEMIF)
		json_object_set_new(m, "memif", json_pack("{s:s, s:i, s:b}", "role", "slave",
							  "id", 0, "abstract",
							  nc->memif_abstract));
	rc = psw_json_write_file(a->meta_path, m, err);
	json_decref(m);
	return rc;
}

/* A name or decimal id; 1 when s is all digits (then *id is set). */
static int numeric_id(const char *s, unsigned *id)
{
	unsigned long long v = 0;

	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (unsigned)(*p - '0');
		if (v >= UINT32_MAX)
			return 0;
	}
	*id = (unsigned)v;
	return 1;
}

int psw_sock_access_resolve(const struct psw_netconf *nc, struct psw_sock_access *out,
			    struct psw_cni_error *err)
{
	char buf[4096];

	memset(out, 0, sizeof(*out));
	if (nc->socket_owner[0]) {
		struct passwd pw, *res = NULL;

		if (!numeric_id(nc->socket_owner, &out->uid)) {
			if (getpwnam_r(nc->socket_owner, &pw, buf, sizeof(buf), &res) || !res)
				return psw_cni_err(err, PSW_CNI_E_CONFIG,
						   "network config: \"socketOwner\": no user \"%s\" on this node",
						   nc->socket_owner);
			out->uid = pw.pw_uid;
		}
		out->uid_set = true;
	}
	if (nc->socket_group[0]) {
		struct group gr, *res = NULL;

		if (!numeric_id(nc->socket_group, &out->gid)) {
			if (getgrnam_r(nc->socket_group, &gr, buf, sizeof(buf), &res) || !res)
				return psw_cni_err(err, PSW_CNI_E_CONFIG,
						   "network config: \"socketGroup\": no group \"%s\" on this node",
						   nc->socket_group);
			out->gid = gr.gr_gid;
		}
		out->gid_set = true;
	}
	out->mode_set = nc->socket_mode_set;
	out->mode = nc->socket_mode;
	return 0;
}

unsigned psw_sock_dir_mode(unsigned m)
{
	m |= 0700;
	if (m & 0060)
		m |= 0010;
	if (m & 0006)
		m |= 0001;
	return m;
}

int psw_pod_dir_set_access(const char *dir, const struct psw_sock_access *acc,
			   struct psw_dir_state *before, struct psw_cni_error *err)
{
	struct stat st;
	int fd, rc = 0;

	if (!acc->uid_set && !acc->gid_set && !acc->mode_set)
		return 0;
	/* Through a descriptor opened without following links: the pod may own the
	 * directory's contents, never the directory entry itself (socketDir is root's). */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		rc = psw_cni_err(err, PSW_CNI_E_IO, "cannot open %s: %s", dir, strerror(errno));
		goto out;
	}
	before->saved = true;
	before->uid = st.st_uid;
	before->gid = st.st_gid;
	before->mode = st.st_mode & 07777;
	if ((acc->uid_set || acc->gid_set) &&
	    fchown(fd, acc->uid_set ? acc->uid : (uid_t)-1, acc->gid_set ? acc->gid : (gid_t)-1)) {
		rc = psw_cni_err(err, PSW_CNI_E_IO, "cannot give %s to uid %d gid %d: %s", dir,
				 acc->uid_set ? (int)acc->uid : -1, acc->gid_set ? (int)acc->gid : -1,
				 strerror(errno));
		goto out;
	}
	/* After chown, which may clear set-id bits; mkdir honoured the umask. */
	if (acc->mode_set && fchmod(fd, psw_sock_dir_mode(acc->mode)))
		rc = psw_cni_err(err, PSW_CNI_E_IO, "cannot set the mode of %s: %s", dir,
				 strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

void psw_pod_dir_restore(const char *dir, const struct psw_dir_state *before)
{
	int fd;

	if (!before->saved)
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchown(fd, before->uid, before->gid) || fchmod(fd, before->mode))
		fprintf(stderr, "podswitch: undo: cannot restore owner and mode of %s: %s\n", dir,
			strerror(errno));
	if (fd >= 0)
		close(fd);
}

int psw_pod_dir_check_access(const char *dir, const struct psw_netconf *nc,
			     const struct psw_sock_access *acc, struct psw_cni_error *err)
{
	struct stat st;

	if (!acc->uid_set && !acc->gid_set && !acc->mode_set)
		return 0;
	if (lstat(dir, &st) || !S_ISDIR(st.st_mode))
		return psw_cni_err(err, PSW_CNI_E_CHECK, "pod directory %s is missing", dir);
	if (acc->uid_set && st.st_uid != acc->uid)
		return psw_cni_err(err, PSW_CNI_E_CHECK,
				   "pod directory %s has owner %u, \"socketOwner\" is %s", dir,
				   (unsigned)st.st_uid, nc->socket_owner);
	if (acc->gid_set && st.st_gid != acc->gid)
		return psw_cni_err(err, PSW_CNI_E_CHECK,
				   "pod directory %s has group %u, \"socketGroup\" is %s", dir,
				   (unsigned)st.st_gid, nc->socket_group);
	if (acc->mode_set && (st.st_mode & 07777) != psw_sock_dir_mode(acc->mode))
		return psw_cni_err(err, PSW_CNI_E_CHECK,
				   "pod directory %s has mode %04o, \"socketMode\" %04o needs %04o", dir,
				   (unsigned)(st.st_mode & 07777), acc->mode,
				   psw_sock_dir_mode(acc->mode));
	return 0;
}

static void unlink_quiet(const char *path)
{
	if (unlink(path) && errno != ENOENT)
		fprintf(stderr, "podswitch: cannot remove %s: %s\n", path, strerror(errno));
}

void psw_pod_files_remove(const char *pod_dir, const char *ifname, const char *container_id)
{
	char p[PSW_CNI_PATH_MAX + 32];
	json_t *meta;
	const char *owner;

	snprintf(p, sizeof(p), "%s/%s.json", pod_dir, ifname);
	meta = psw_json_read_file(p);
	owner = json_string_value(json_object_get(meta, "containerId"));
	if (owner && container_id && strcmp(owner, container_id)) {
		fprintf(stderr, "podswitch: %s belongs to container %s, not %s: kept\n", p, owner,
			container_id);
		json_decref(meta);
		return;
	}
	json_decref(meta);
	unlink_quiet(p);
	snprintf(p, sizeof(p), "%s/%s.sock", pod_dir, ifname);
	unlink_quiet(p);
	if (rmdir(pod_dir) && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
		fprintf(stderr, "podswitch: cannot remove %s: %s\n", pod_dir, strerror(errno));
}
