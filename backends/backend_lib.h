/*
 * backend_lib.h: helpers shared by the back ends (vhost_user.c, memif.c, tap.c),
 * implemented in backend_lib.c and netns.c. Control thread (main lcore) only: option checking,
 * device names, socket paths, directories and ownership, network namespaces. Nothing here
 * is on the packet path.
 */
#ifndef PSW_BACKEND_LIB_H
#define PSW_BACKEND_LIB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "ctl/rpc.h"

/* sun_path is 108 bytes with its NUL; an abstract name also loses its leading NUL byte. */
#define PSW_SOCK_PATH_MAX 107

enum psw_opt_type {
	PSW_OPT_STRING,
	PSW_OPT_UINT,
	PSW_OPT_BOOL,
};

struct psw_opt {
	const char *key; /* a spec ends with {NULL} */
	enum psw_opt_type type;
};

/* Owner, group and permission bits asked for a socket (and the directory it lives in). */
struct psw_sock_perm {
	bool uid_set, gid_set, perm_set;
	uid_t uid;
	gid_t gid;
	mode_t perm;
};

/* Sets err and returns -1. */
int psw_backend_err(struct psw_rpc_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* options must be NULL (no options) or an object whose keys are all in spec with the right
 * JSON type. Errors name the key: "options.socket: expected a string". */
int psw_opts_check(json_t *options, const struct psw_opt *spec, struct psw_rpc_error *err);
const char *psw_opt_str(json_t *options, const char *key, const char *def);
bool psw_opt_bool(json_t *options, const char *key, bool def);
/* An unsigned option in [min, max] (def when absent); -1 with err when out of range. */
int psw_opt_uint(json_t *options, const char *key, uint64_t def, uint64_t min, uint64_t max,
		 uint64_t *out, struct psw_rpc_error *err);
/* "owner" (user name or uid), "group" (name or gid), "perm" (octal string, e.g. "0660"). */
int psw_opt_perm(json_t *options, struct psw_sock_perm *p, struct psw_rpc_error *err);

/* Port names that may appear inside devargs and device names: [A-Za-z0-9_.-]{1,63}. */
bool psw_backend_name_ok(const char *name);
/* A devargs value: printable, no ',', '=', '[', ']', quotes, whitespace. */
bool psw_devarg_value_ok(const char *s);
/* The vdev name for port `name`: "<drv>_<name>", or, when that is longer than max
 * characters (or the DPDK device name limit), "<drv>_<first chars>_<hash>". Always
 * unique per port name. */
int psw_backend_dev_name(const char *drv, const char *name, size_t max, char *out,
			 size_t len);

/* A socket path option: absolute (unless abstract), short enough for sun_path, safe in
 * devargs. key names the option in the error. */
int psw_sock_path_check(const char *key, const char *path, bool abstract,
			struct psw_rpc_error *err);
/* Remove a socket file left behind by a dead process (nobody accepts on it). Errors when
 * something listens there or the path is not a socket. */
int psw_sock_clear_stale(const char *path, struct psw_rpc_error *err);
/* mkdir -p dirname(path); directories it creates get perm (x added where r or w is set)
 * and owner/group. */
int psw_sock_dir_make(const char *path, const struct psw_sock_perm *p,
		      struct psw_rpc_error *err);
/* chown/chmod the socket file itself (a no-op for unset fields). */
int psw_sock_apply_perm(const char *path, const struct psw_sock_perm *p,
			struct psw_rpc_error *err);

/* Is `value` already used for devargs key `key` by a probed device whose driver is `drv`?
 * If so, copies that device's name into owner. */
bool psw_devargs_in_use(const char *drv, const char *key, const char *value, char *owner,
			size_t owner_len);

/* Where default sockets go (<dir>/<port>.sock); set by psw_backends_init. */
const char *psw_backend_socket_dir(void);
int psw_backend_set_socket_dir(const char *dir);

/* netns.c: run the calling thread in the network namespace at `path` (for example
 * /var/run/netns/pod1), and back. enter returns an fd of the original namespace. */
int psw_netns_check(const char *key, const char *path, struct psw_rpc_error *err);
int psw_netns_enter(const char *path, int *saved_fd, struct psw_rpc_error *err);
int psw_netns_leave(int saved_fd);

extern const struct psw_backend psw_backend_vhost_user;
extern const struct psw_backend psw_backend_memif;
extern const struct psw_backend psw_backend_tap;
extern const struct psw_backend psw_backend_host;

/* The switch's mbuf pool for this thread's socket (or socket 0's), or NULL. */
struct rte_mempool;
struct rte_mempool *psw_backend_switch_pool(void);

#endif
