/*
 * backend_lib.c: the helpers every back end uses to turn JSON options into safe DPDK
 * devargs, socket paths and directories (backend_lib.h). Control thread (main lcore) only;
 * not on the packet path.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_ethdev.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#include "backends/backend_lib.h"
#include "backends/backends.h"
#include "port/backend.h"
#include "port/port.h"

static char socket_dir[PSW_SOCK_PATH_MAX + 1] = "/run/podswitch/sockets";

int
psw_backend_err(struct psw_rpc_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* --- options --- */

static const char *
type_name(enum psw_opt_type t)
{
	switch (t) {
	case PSW_OPT_STRING: return "a string";
	case PSW_OPT_UINT: return "a non-negative integer";
	case PSW_OPT_BOOL: return "true or false";
	}
	return "?";
}

/* podswitchctl's --option key=value and CNI configs may give numbers and booleans as
 * strings: "2", "true"/"false"/"yes"/"no" are taken too. */
static bool
str_uint(const char *s, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return *end == '\0' && errno == 0;
}

static int
str_bool(const char *s)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
		return 1;
	if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)
		return 0;
	return -1;
}

static bool
type_ok(json_t *v, enum psw_opt_type t)
{
	uint64_t x;

	switch (t) {
	case PSW_OPT_STRING: return json_is_string(v);
	case PSW_OPT_UINT:
		return (json_is_integer(v) && json_integer_value(v) >= 0) ||
		       (json_is_string(v) && str_uint(json_string_value(v), &x));
	case PSW_OPT_BOOL:
		return json_is_boolean(v) ||
		       (json_is_string(v) && str_bool(json_string_value(v)) >= 0);
	}
	return false;
}

int
psw_opts_check(json_t *options, const struct psw_opt *spec, struct psw_rpc_error *err)
{
	const char *key;
	json_t *v;

	if (options == NULL || json_is_null(options))
		return 0;
	if (!json_is_object(options))
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options: expected an object");
	json_object_foreach(options, key, v) {
		const struct psw_opt *o;

		for (o = spec; o->key != NULL; o++)
			if (strcmp(o->key, key) == 0)
				break;
		if (o->key == NULL)
			return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
					       "options.%s: unknown option", key);
		if (!type_ok(v, o->type))
			return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
					       "options.%s: expected %s", key,
					       type_name(o->type));
	}
	return 0;
}

const char *
psw_opt_str(json_t *options, const char *key, const char *def)
{
	json_t *v = options ? json_object_get(options, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : def;
}

bool
psw_opt_bool(json_t *options, const char *key, bool def)
{
	json_t *v = options ? json_object_get(options, key) : NULL;

	if (json_is_string(v) && str_bool(json_string_value(v)) >= 0)
		return str_bool(json_string_value(v)) == 1;
	return json_is_boolean(v) ? json_is_true(v) : def;
}

int
psw_opt_uint(json_t *options, const char *key, uint64_t def, uint64_t min, uint64_t max,
	     uint64_t *out, struct psw_rpc_error *err)
{
	json_t *v = options ? json_object_get(options, key) : NULL;
	uint64_t x;

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		x = (uint64_t)json_integer_value(v);
	else if (!json_is_string(v) || !str_uint(json_string_value(v), &x))
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.%s: expected a non-negative integer", key);
	if (x < min || x > max)
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.%s: %" PRIu64 " is out of range %" PRIu64
				       "..%" PRIu64, key, x, min, max);
	*out = x;
	return 0;
}

/* A user or group given by name or number. */
static int
lookup_id(const char *key, const char *s, bool group, unsigned *out,
	  struct psw_rpc_error *err)
{
	char buf[4096], *end;
	unsigned long n;

	if (*s == '\0')
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.%s: empty", key);
	errno = 0;
	n = strtoul(s, &end, 10);
	if (*end == '\0' && errno == 0 && n < UINT32_MAX) {
		*out = n;
		return 0;
	}
	if (group) {
		struct group gr, *res = NULL;

		if (getgrnam_r(s, &gr, buf, sizeof(buf), &res) != 0 || res == NULL)
			return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
					       "options.%s: no group '%s'", key, s);
		*out = gr.gr_gid;
	} else {
		struct passwd pw, *res = NULL;

		if (getpwnam_r(s, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
			return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
					       "options.%s: no user '%s'", key, s);
		*out = pw.pw_uid;
	}
	return 0;
}

int
psw_opt_perm(json_t *options, struct psw_sock_perm *p, struct psw_rpc_error *err)
{
	const char *owner = psw_opt_str(options, "owner", NULL);
	const char *group = psw_opt_str(options, "group", NULL);
	const char *perm = psw_opt_str(options, "perm", NULL);
	unsigned id;

	memset(p, 0, sizeof(*p));
	if (owner != NULL) {
		if (lookup_id("owner", owner, false, &id, err) < 0)
			return -1;
		p->uid = id;
		p->uid_set = true;
	}
	if (group != NULL) {
		if (lookup_id("group", group, true, &id, err) < 0)
			return -1;
		p->gid = id;
		p->gid_set = true;
	}
	if (perm != NULL) {
		char *end;
		unsigned long m;

		errno = 0;
		m = strtoul(perm, &end, 8);
		if (*perm == '\0' || *end != '\0' || errno != 0 || m > 0777)
			return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
					       "options.perm: expected an octal mode like \"0660\", got \"%s\"",
					       perm);
		p->perm = (mode_t)m;
		p->perm_set = true;
	}
	return 0;
}

/* --- names and paths --- */

bool
psw_backend_name_ok(const char *name)
{
	size_t n = 0;

	for (const char *c = name; *c != '\0'; c++, n++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' || *c == '.'))
			return false;
	}
	return n > 0 && n < PSW_NAME_MAX;
}

bool
psw_devarg_value_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (const unsigned char *c = (const unsigned char *)s; *c != '\0'; c++)
		if (*c <= ' ' || *c >= 0x7f || strchr(",=[]\"'\\", *c) != NULL)
			return false;
	return true;
}

int
psw_backend_dev_name(const char *drv, const char *name, size_t max, char *out, size_t len)
{
	size_t cap = RTE_MIN(RTE_MIN(len, (size_t)RTE_DEV_NAME_MAX_LEN), max + 1);
	int n;

	if (!psw_backend_name_ok(name))
		return -EINVAL;
	n = snprintf(out, cap, "%s_%s", drv, name);
	if (n > 0 && (size_t)n < cap)
		return 0;
	/* Too long: keep a prefix of the name and add a hash of all of it. Port names are
	 * unique, and the hash tells apart names sharing the prefix. */
	uint32_t h = rte_hash_crc(name, strlen(name), 0x70737721);
	int keep = (int)cap - (int)strlen(drv) - 1 - 1 - 8 - 1;

	if (keep < 1)
		return -ENAMETOOLONG;
	snprintf(out, cap, "%s_%.*s_%08x", drv, keep, name, h);
	return 0;
}

int
psw_sock_path_check(const char *key, const char *path, bool abstract,
		    struct psw_rpc_error *err)
{
	size_t n = strlen(path);

	if (n == 0)
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS, "options.%s: empty", key);
	if (n > (abstract ? PSW_SOCK_PATH_MAX - 1 : PSW_SOCK_PATH_MAX))
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.%s: %zu bytes, longer than a socket address allows (%d)",
				       key, n, abstract ? PSW_SOCK_PATH_MAX - 1 : PSW_SOCK_PATH_MAX);
	if (!abstract && path[0] != '/')
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.%s: must be an absolute path", key);
	if (!psw_devarg_value_ok(path))
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.%s: must not contain spaces, quotes, ',', '=', '[' or ']'",
				       key);
	if (strstr(path, "/../") != NULL || (n >= 3 && strcmp(path + n - 3, "/..") == 0))
		return psw_backend_err(err, PSW_RPC_INVALID_PARAMS,
				       "options.%s: must not contain '..'", key);
	return 0;
}

int
psw_sock_clear_stale(const char *path, struct psw_rpc_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc, e;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return psw_backend_err(err, PSW_RPC_FAILED, "socket %s: %s", path,
				       strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return psw_backend_err(err, PSW_RPC_FAILED,
				       "socket %s: exists and is not a socket", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return psw_backend_err(err, PSW_RPC_FAILED, "socket: %s", strerror(errno));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	e = errno;
	close(fd);
	if (rc == 0)
		return psw_backend_err(err, PSW_RPC_EXISTS,
				       "socket %s: in use (something listens on it)", path);
	if (e != ECONNREFUSED)
		return psw_backend_err(err, PSW_RPC_FAILED, "socket %s: %s", path, strerror(e));
	if (unlink(path) < 0 && errno != ENOENT)
		return psw_backend_err(err, PSW_RPC_FAILED, "remove stale socket %s: %s", path,
				       strerror(errno));
	return 0;
}

static mode_t
dir_mode(const struct psw_sock_perm *p)
{
	mode_t m;

	if (!p->perm_set)
		return 0755;
	m = p->perm | S_IRWXU;
	if (m & (S_IRGRP | S_IWGRP))
		m |= S_IXGRP;
	if (m & (S_IROTH | S_IWOTH))
		m |= S_IXOTH;
	return m;
}

int
psw_sock_dir_make(const char *path, const struct psw_sock_perm *p,
		  struct psw_rpc_error *err)
{
	char dir[PSW_SOCK_PATH_MAX + 1];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	for (char *c = dir + 1; ; c++) {
		bool last = *c == '\0';

		if (*c != '/' && !last)
			continue;
		*c = '\0';
		if (mkdir(dir, dir_mode(p)) == 0) {
			/* mkdir honours the umask; set the asked mode exactly. */
			if (chmod(dir, dir_mode(p)) < 0 ||
			    ((p->uid_set || p->gid_set) &&
			     chown(dir, p->uid_set ? p->uid : (uid_t)-1,
				   p->gid_set ? p->gid : (gid_t)-1) < 0))
				return psw_backend_err(err, PSW_RPC_FAILED, "directory %s: %s",
						       dir, strerror(errno));
		} else if (errno != EEXIST) {
			return psw_backend_err(err, PSW_RPC_FAILED, "mkdir %s: %s", dir,
					       strerror(errno));
		}
		if (last)
			break;
		*c = '/';
	}
	return 0;
}

int
psw_sock_apply_perm(const char *path, const struct psw_sock_perm *p,
		    struct psw_rpc_error *err)
{
	if ((p->uid_set || p->gid_set) &&
	    chown(path, p->uid_set ? p->uid : (uid_t)-1, p->gid_set ? p->gid : (gid_t)-1) < 0)
		return psw_backend_err(err, PSW_RPC_FAILED, "chown %s: %s", path,
				       strerror(errno));
	if (p->perm_set && chmod(path, p->perm) < 0)
		return psw_backend_err(err, PSW_RPC_FAILED, "chmod %s: %s", path,
				       strerror(errno));
	return 0;
}

/* Does the devargs string "a=1,key=value,..." hold key=value exactly? */
static bool
args_have(const char *args, const char *key, const char *value)
{
	size_t kl = strlen(key), vl = strlen(value);
	const char *p = args;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == kl + 1 + vl && strncmp(p, key, kl) == 0 && p[kl] == '=' &&
		    strncmp(p + kl + 1, value, vl) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

bool
psw_devargs_in_use(const char *drv, const char *key, const char *value, char *owner,
		   size_t owner_len)
{
	uint16_t pid;

	RTE_ETH_FOREACH_DEV(pid) {
		struct rte_eth_dev_info info;
		const struct rte_devargs *da;

		if (rte_eth_dev_info_get(pid, &info) != 0 || info.device == NULL)
			continue;
		if (info.driver_name == NULL || strcmp(info.driver_name, drv) != 0)
			continue;
		da = rte_dev_devargs(info.device);
		if (da == NULL || da->args == NULL || !args_have(da->args, key, value))
			continue;
		if (owner != NULL)
			snprintf(owner, owner_len, "%s", rte_dev_name(info.device));
		return true;
	}
	return false;
}

const char *
psw_backend_socket_dir(void)
{
	return socket_dir;
}

int
psw_backend_set_socket_dir(const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (dir[0] != '/' || n + sizeof("/x.sock") - 1 > PSW_SOCK_PATH_MAX ||
	    !psw_devarg_value_ok(dir))
		return -EINVAL;
	snprintf(socket_dir, sizeof(socket_dir), "%.*s", (int)n, dir);
	return 0;
}

int
psw_backends_init(const char *dir)
{
	const struct psw_backend *all[] = {
		&psw_backend_vhost_user, &psw_backend_memif, &psw_backend_tap, &psw_backend_host,
	};
	int rc;

	for (size_t i = 0; i < RTE_DIM(all); i++)
		if ((rc = psw_backend_register(all[i])) != 0)
			return rc;
	if (psw_backend_init() != 0)
		return -EIO;
	return psw_backend_set_socket_dir(dir);
}

/* port.c creates "psw_mbuf_<socket>"; back ends find it by name (they do not call into
 * the port registry). */
struct rte_mempool *
psw_backend_switch_pool(void)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	struct rte_mempool *mp;
	int sock = (int)rte_socket_id();

	snprintf(name, sizeof(name), "psw_mbuf_%d", sock < 0 ? 0 : sock);
	mp = rte_mempool_lookup(name);
	return mp != NULL ? mp : rte_mempool_lookup("psw_mbuf_0");
}
