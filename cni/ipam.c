/*
 * ipam.c: delegation to other CNI plugins, as the spec's "delegated plugin" protocol asks:
 * the plugin named by the config's ipam.type is found on CNI_PATH, run with this process's
 * environment (CNI_COMMAND set to the delegated command) and the network config on stdin;
 * its stdout is the result or, with a non-zero exit, a CNI error that we pass on. Delegates
 * older than our cniVersion (Debian 12's host-local speaks up to 1.0.0) get the config at
 * the newest version they support; their result is converted by result.c. Plugin process
 * only.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cni.h"

#define OUT_MAX (1u << 20)

int psw_plugin_find(const char *name, const char *cni_path, char *out, size_t len)
{
	const char *p = cni_path;

	while (p && *p) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		struct stat st;

		if (n > 0 && (size_t)snprintf(out, len, "%.*s/%s", (int)n, p, name) < len &&
		    stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return 0;
		p = end ? end + 1 : NULL;
	}
	return -1;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= w;
	}
	return 0;
}

/* Runs path with CNI_COMMAND=command; feeds stdin_text, collects stdout. */
static int run(const char *path, const char *command, const char *stdin_text, char **out,
	       int *status, struct psw_cni_error *err)
{
	int in[2] = {-1, -1}, o[2] = {-1, -1};
	size_t len = 0, cap = 4096;
	char *buf = NULL;
	pid_t pid;
	int rc = -1;

	if (pipe2(in, O_CLOEXEC) || pipe2(o, O_CLOEXEC)) {
		psw_cni_err(err, PSW_CNI_E_IO, "pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		psw_cni_err(err, PSW_CNI_E_IO, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(o[1], 1);
		setenv("CNI_COMMAND", command, 1);
		execl(path, path, (char *)NULL);
		fprintf(stderr, "podswitch: exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(o[1]);
	in[0] = o[1] = -1;
	/* A delegate reads its whole stdin before it writes, and configs are small. */
	signal(SIGPIPE, SIG_IGN);
	write_all(in[1], stdin_text, strlen(stdin_text));
	close(in[1]);
	in[1] = -1;
	buf = malloc(cap);
	if (!buf) {
		psw_cni_err(err, PSW_CNI_E_IO, "out of memory");
		goto reap;
	}
	for (;;) {
		ssize_t r;

		if (len + 1 >= cap) {
			char *nb = cap < OUT_MAX ? realloc(buf, cap * 2) : NULL;

			if (!nb) {
				psw_cni_err(err, PSW_CNI_E_IO, "%s: output too large", path);
				goto reap;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(o[0], buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += r;
	}
	buf[len] = '\0';
	rc = 0;
reap:
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (o[i] >= 0)
			close(o[i]);
	}
	if (rc)
		free(buf);
	else
		*out = buf;
	return rc;
}

int psw_plugin_exec(const char *plugin, const char *cni_path, const char *command,
		    const char *stdin_text, json_t **out, struct psw_cni_error *err)
{
	char path[PSW_CNI_PATH_MAX];
	json_error_t jerr;
	char *text = NULL;
	json_t *v = NULL;
	int status = 0;

	if (out)
		*out = NULL;
	if (psw_plugin_find(plugin, cni_path, path, sizeof(path)))
		return psw_cni_err(err, PSW_CNI_E_CONFIG,
				   "network config: \"ipam.type\": plugin \"%s\" not found in CNI_PATH %s",
				   plugin, cni_path ? cni_path : "(unset)");
	if (run(path, command, stdin_text, &text, &status, err))
		return -1;
	if (text[strspn(text, " \t\r\n")])
		v = json_loads(text, 0, &jerr);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		json_t *code = json_object_get(v, "code"), *msg = json_object_get(v, "msg");
		json_t *details = json_object_get(v, "details");

		if (json_is_integer(code) && json_is_string(msg)) {
			psw_cni_err(err, json_integer_value(code), "%s %s: %s", plugin, command,
				    json_string_value(msg));
			if (json_is_string(details))
				psw_cni_err_details(err, "%s", json_string_value(details));
		} else {
			psw_cni_err(err, PSW_CNI_E_IO, "%s %s failed (%s %d) without a CNI error",
				    plugin, command, WIFEXITED(status) ? "exit" : "signal",
				    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		}
		json_decref(v);
		free(text);
		return -1;
	}
	if (text[strspn(text, " \t\r\n")] && !v) {
		psw_cni_err(err, PSW_CNI_E_DECODE, "%s %s: output is not JSON: %s", plugin, command,
			    jerr.text);
		free(text);
		return -1;
	}
	free(text);
	if (out)
		*out = v;
	else
		json_decref(v);
	return 0;
}

/* The version to talk to the delegate in: ours if it supports it, else its newest that
 * is older than ours. */
static int delegate_version(const char *plugin, const char *cni_path, const char *ours,
			    char *chosen, size_t len, struct psw_cni_error *err)
{
	char req[64];
	json_t *info, *sup, *v;
	const char *best = NULL;
	size_t i;

	snprintf(req, sizeof(req), "{\"cniVersion\":\"%s\"}", ours);
	if (psw_plugin_exec(plugin, cni_path, "VERSION", req, &info, err))
		return -1;
	sup = json_object_get(info, "supportedVersions");
	json_array_foreach(sup, i, v) {
		const char *s = json_string_value(v);

		if (!s)
			continue;
		if (strcmp(s, ours) == 0) {
			best = s;
			break;
		}
		if (psw_cni_version_cmp(s, ours) < 0 &&
		    (!best || psw_cni_version_cmp(s, best) > 0))
			best = s;
	}
	if (!best || psw_cni_version_parse(best) < 0) {
		/* Results before 0.3.0 have another shape: we do not read them. */
		json_decref(info);
		return psw_cni_err(err, PSW_CNI_E_INCOMPATIBLE,
				   "IPAM plugin %s supports no CNI version podswitch can use with %s",
				   plugin, ours);
	}
	snprintf(chosen, len, "%s", best);
	json_decref(info);
	return 0;
}

int psw_ipam_exec(const struct psw_netconf *nc, const char *command, const char *cni_path,
		  json_t **result, struct psw_cni_error *err)
{
	char version[16];
	json_t *conf;
	char *text;
	int rc;

	if (result)
		*result = NULL;
	if (!nc->ipam)
		return 0;
	if (delegate_version(nc->ipam_type, cni_path, nc->version_str, version, sizeof(version),
			     err))
		return -1;
	/* GC and STATUS are 1.1.0 commands: an older plugin is not asked (and keeps no
	 * state a GC could clean beyond what DEL of each stale attachment releases). */
	if ((!strcmp(command, "GC") || !strcmp(command, "STATUS")) &&
	    psw_cni_version_cmp(version, "1.1.0") < 0)
		return 0;
	conf = json_deep_copy(nc->raw);
	if (!conf)
		return psw_cni_err(err, PSW_CNI_E_IO, "out of memory");
	json_object_set_new(conf, "cniVersion", json_string(version));
	text = json_dumps(conf, JSON_COMPACT);
	json_decref(conf);
	if (!text)
		return psw_cni_err(err, PSW_CNI_E_IO, "out of memory");
	rc = psw_plugin_exec(nc->ipam_type, cni_path, command, text, result, err);
	free(text);
	if (rc == 0 && result && !strcmp(command, "ADD") && !json_is_object(*result)) {
		json_decref(*result);
		*result = NULL;
		return psw_cni_err(err, PSW_CNI_E_DECODE, "IPAM plugin %s returned no result",
				   nc->ipam_type);
	}
	return rc;
}
