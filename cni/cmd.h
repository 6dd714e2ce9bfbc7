/*
 * cmd.h: what the commands of the plugin binary share (main.c runs one of them): the
 * command's context and the helpers of cmd.c. Only the binary includes it; the rooms of
 * cni.h (parsing, IPAM, netns, files) stay in the library the unit tests link.
 */
#ifndef PSW_CNI_CMD_H
#define PSW_CNI_CMD_H

#include "cni.h"
#include "ctl/client.h"

/* What a command needs, in one place. */
struct cmd {
	struct psw_cni_env env;
	struct psw_netconf nc;
	struct psw_cni_error err;
	int lock_fd;
	struct psw_sock_access access;  /* ADD, CHECK: socketOwner/Group/Mode resolved */
};

/* "podswitch: <message>" on stderr (the runtime logs it). */
void psw_cmd_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A result or error object on stdout. */
void psw_cmd_print_json(json_t *v);
/* podswitchd's control socket, or NULL with c->err set to code. */
struct psw_client *psw_cmd_connect(struct cmd *c, int code);
/* One RPC (params consumed); a server error becomes a CNI error (code 100) naming the
 * method, and *rpc_code (when given) gets the RPC error code (0 on success). */
json_t *psw_cmd_call(struct cmd *c, struct psw_client *cl, const char *method, json_t *params,
		     int *rpc_code);
/* Removes the port; 0 also when it is not there. */
int psw_cmd_port_del(struct cmd *c, struct psw_client *cl, const char *name);
/* unlink, warning about anything but ENOENT. */
void psw_cmd_unlink(const char *path);
/* Fills the names and paths of the attachment (no side effects). */
int psw_cmd_attachment_init(struct cmd *c, struct psw_attachment *a);
/* A directory one level under socketDir (never elsewhere, never ".."). */
bool psw_cmd_under_socket_dir(const struct cmd *c, const char *dir);

/* The commands: 0, or -1 with c->err set. */
int psw_cmd_add(struct cmd *c);
int psw_cmd_del(struct cmd *c);
int psw_cmd_gc(struct cmd *c);
int psw_cmd_check(struct cmd *c);
int psw_cmd_status(struct cmd *c);

#endif
