/*
 * fuzz_cni_env.c: libFuzzer target for the CNI plugin's environment (cni/netconf.c):
 * CNI_ARGS ("K=V;K=V", any bytes) and the CNI_* variables the runtime sets, then the names
 * derived from them (port, host tap, pod directory, socket path), which must fit their
 * limits whatever the container id, interface and pod names are. The input is the
 * variables separated by newlines, in this order: CNI_ARGS, CNI_COMMAND, CNI_CONTAINERID,
 * CNI_IFNAME, CNI_NETNS, CNI_PATH; missing ones are unset.
 * Corpus: tests/fuzz/corpus/cni_env/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void names(const struct psw_cni_env *env)
{
	static const char *const conf =
		"{\"cniVersion\": \"1.1.0\", \"name\": \"n\", \"type\": \"podswitch\","
		" \"interface\": \"vhost-user\"}";
	char port[PSW_CNI_PORT_NAME_MAX], tap[PSW_CNI_IFNAME_MAX], dir[PSW_CNI_PATH_MAX];
	char sock[PSW_CNI_SUN_MAX];
	struct psw_netconf nc;
	struct psw_cni_error err;

	psw_cni_port_name(env->container_id, env->ifname, port);
	psw_cni_tap_name(env->container_id, env->ifname, tap);
	if (strlen(port) >= 15 || strlen(tap) >= PSW_CNI_IFNAME_MAX)
		abort();
	if (psw_netconf_parse(conf, strlen(conf), "ADD", &nc, &err))
		abort();
	if (psw_cni_pod_dir(&nc, env, dir, sizeof(dir), &err) == 0 &&
	    psw_cni_socket_path(dir, env->ifname, sock, sizeof(sock), &err) == 0 &&
	    strlen(sock) >= PSW_CNI_SUN_MAX)
		abort();
	psw_netconf_free(&nc);
}

/* An accepted CNI_ARGS reads back: the last MAC= is the MAC (as written, lower case),
 * the pod names are the values given. */
static void args_oracle(const char *args, const struct psw_cni_env *env)
{
	char *copy = strdup(args), *rest = copy, *pair, mac[18] = "", ns[256] = "";
	char out[18];

	if (!copy)
		return;
	while ((pair = strsep(&rest, ";"))) {
		if (!strncmp(pair, "MAC=", 4))
			snprintf(mac, sizeof(mac), "%s", pair + 4);
		if (!strncmp(pair, "K8S_POD_NAMESPACE=", 18))
			snprintf(ns, sizeof(ns), "%s", pair + 18);
	}
	free(copy);
	if (env->mac_set) {
		psw_mac_format(env->mac, out);
		if (strcasecmp(mac, out) || (env->mac[0] & 1))
			abort();
	}
	if (strcmp(ns, env->k8s_namespace))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const vars[] = {"CNI_ARGS", "CNI_COMMAND", "CNI_CONTAINERID",
					   "CNI_IFNAME", "CNI_NETNS", "CNI_PATH", NULL};
	static char envbuf[6][8192];
	char *text = malloc(size + 1), *line, *rest;
	struct psw_cni_env env;
	struct psw_cni_error err;
	int i = 0;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (const char *const *v = vars; *v; v++)
		unsetenv(*v);
	/* CNI_ARGS alone, as the first line gives it. */
	line = strchr(text, '\n');
	if (line)
		*line = '\0';
	memset(&env, 0, sizeof(env));
	if (psw_cni_args_parse(text, &env, &err) == 0)
		args_oracle(text, &env);
	if (line)
		*line = '\n';
	/* The whole environment; an empty line is an empty (unset) variable. putenv with
	 * one buffer per variable: setenv keeps every value it was ever given, so millions
	 * of runs would grow without bound (and hit the RSS limit), not a plugin leak. */
	rest = text;
	while ((line = strsep(&rest, "\n")) && vars[i]) {
		snprintf(envbuf[i], sizeof(envbuf[i]), "%s=%s", vars[i], line);
		putenv(envbuf[i]);
		i++;
	}
	if (psw_cni_env_load(&env, &err) == 0 && env.container_id && env.ifname)
		names(&env);
	free(text);
	return 0;
}
