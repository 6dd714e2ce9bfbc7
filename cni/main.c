/*
 * main.c: the CNI plugin `podswitch` (CNI spec 1.1.0): ADD, DEL, CHECK, STATUS, GC and
 * VERSION. The runtime (kubelet's CRI runtime, or Multus for secondary interfaces) runs it
 * once per command with CNI_* in the environment and the network config on stdin; it
 * answers on stdout with a result or a CNI error object and exits non-zero on error.
 *
 * It is a thin client of podswitchd's control socket. This file reads the input, takes
 * the lock and runs one command: cmd_add.c (ADD), cmd_del.c (DEL, GC), cmd_check.c
 * (CHECK, STATUS). Commands that change state hold an flock on a lock file, so parallel
 * runtimes cannot interleave. Far from the packet path: nothing here runs in podswitchd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"

#define STDIN_MAX (1u << 20)

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

/* The version an error is reported in: the config's when it is one we speak. */
static void report_error(const char *stdin_text, size_t len, const struct psw_cni_error *err)
{
	json_t *conf = stdin_text ? json_loadb(stdin_text, len, 0, NULL) : NULL;
	const char *v = json_string_value(json_object_get(conf, "cniVersion"));
	json_t *o;

	if (v && psw_cni_version_parse(v) < 0)
		v = NULL;
	o = psw_result_error(v, err);
	psw_cmd_print_json(o);
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

static int cmd_version(const char *text, size_t len)
{
	json_t *conf = json_loadb(text, len, 0, NULL);
	json_t *v = psw_result_version(json_string_value(json_object_get(conf, "cniVersion")));

	psw_cmd_print_json(v);
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
		rc = psw_cmd_status(&c);
	} else {
		rc = lock_take(&c);
		if (rc == 0) {
			if (!strcmp(c.env.command, "ADD"))
				rc = psw_cmd_add(&c);
			else if (!strcmp(c.env.command, "DEL"))
				rc = psw_cmd_del(&c);
			else if (!strcmp(c.env.command, "CHECK"))
				rc = psw_cmd_check(&c);
			else
				rc = psw_cmd_gc(&c);
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
