/*
 * env.c: the CNI_* environment a runtime sets for each command (which variables are
 * required depends on the command) and CNI_ARGS ("K=V;K=V": the pod's names from the
 * kubelet, a MAC, keys for other plugins of a chain). Plugin process only.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"

static bool parse_bool_text(const char *s, bool *out)
{
	static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True", NULL};
	static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False", NULL};

	for (int i = 0; t[i]; i++) {
		if (strcmp(s, t[i]) == 0)
			return *out = true, true;
		if (strcmp(s, f[i]) == 0)
			return *out = false, true;
	}
	return false;
}

static int copy_arg(char *out, size_t len, const char *key, const char *val,
		    struct psw_cni_error *err)
{
	if (strlen(val) >= len)
		return psw_cni_err(err, PSW_CNI_E_ENV, "CNI_ARGS: %s is too long", key);
	snprintf(out, len, "%s", val);
	return 0;
}

int psw_cni_args_parse(const char *args, struct psw_cni_env *env, struct psw_cni_error *err)
{
	/* Keys other plugins of a chain read (static IPAM: IP, GATEWAY): known, not ours. */
	static const char *const passed_on[] = {"IP", "GATEWAY", "K8S_POD_NETWORK", NULL};
	char *copy, *save = NULL, *pair;
	char unknown[128] = "";
	int rc = 0;

	if (!args || !*args)
		return 0;
	copy = strdup(args);
	if (!copy)
		return psw_cni_err(err, PSW_CNI_E_IO, "out of memory");
	for (pair = strtok_r(copy, ";", &save); pair; pair = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(pair, '='), *key = pair, *val;

		if (!eq || eq == pair) {
			rc = psw_cni_err(err, PSW_CNI_E_ENV, "CNI_ARGS: invalid pair \"%s\"", pair);
			goto out;
		}
		*eq = '\0';
		val = eq + 1;
		if (strcmp(key, "IgnoreUnknown") == 0) {
			if (!parse_bool_text(val, &env->ignore_unknown)) {
				rc = psw_cni_err(err, PSW_CNI_E_ENV,
						 "CNI_ARGS: IgnoreUnknown must be true or false, not \"%s\"", val);
				goto out;
			}
		} else if (strcmp(key, "K8S_POD_NAMESPACE") == 0) {
			rc = copy_arg(env->k8s_namespace, sizeof(env->k8s_namespace), key, val, err);
		} else if (strcmp(key, "K8S_POD_NAME") == 0) {
			rc = copy_arg(env->k8s_pod, sizeof(env->k8s_pod), key, val, err);
		} else if (strcmp(key, "K8S_POD_INFRA_CONTAINER_ID") == 0) {
			rc = copy_arg(env->k8s_infra_id, sizeof(env->k8s_infra_id), key, val, err);
		} else if (strcmp(key, "K8S_POD_UID") == 0) {
			rc = copy_arg(env->k8s_pod_uid, sizeof(env->k8s_pod_uid), key, val, err);
		} else if (strcmp(key, "MAC") == 0) {
			if (psw_mac_parse(val, env->mac)) {
				rc = psw_cni_err(err, PSW_CNI_E_ENV,
						 "CNI_ARGS: MAC \"%s\" is not a unicast MAC address", val);
				goto out;
			}
			env->mac_set = true;
		} else {
			bool known = false;

			for (int i = 0; passed_on[i]; i++)
				known |= strcmp(passed_on[i], key) == 0;
			if (!known && !unknown[0])
				snprintf(unknown, sizeof(unknown), "%s", key);
		}
		if (rc)
			goto out;
	}
	/* IgnoreUnknown may come after the unknown key, so decide at the end. */
	if (unknown[0] && !env->ignore_unknown)
		rc = psw_cni_err(err, PSW_CNI_E_ENV,
				 "CNI_ARGS: unknown key \"%s\" (set IgnoreUnknown=1 to allow it)", unknown);
out:
	free(copy);
	return rc;
}

static bool valid_container_id(const char *s)
{
	if (!isalnum((unsigned char)*s))
		return false;
	return psw_cni_name_valid(s);
}

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= PSW_CNI_IFNAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s))
			return false;
	return true;
}

static const char *env_get(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

int psw_cni_env_load(struct psw_cni_env *env, struct psw_cni_error *err)
{
	bool add_like, del;

	memset(env, 0, sizeof(*env));
	env->command = env_get("CNI_COMMAND");
	if (!env->command)
		return psw_cni_err(err, PSW_CNI_E_ENV, "CNI_COMMAND is not set");
	env->container_id = env_get("CNI_CONTAINERID");
	env->netns = env_get("CNI_NETNS");
	env->ifname = env_get("CNI_IFNAME");
	env->path = env_get("CNI_PATH");
	add_like = !strcmp(env->command, "ADD") || !strcmp(env->command, "CHECK");
	del = !strcmp(env->command, "DEL");
	if (!add_like && !del && strcmp(env->command, "STATUS") && strcmp(env->command, "GC") &&
	    strcmp(env->command, "VERSION"))
		return psw_cni_err(err, PSW_CNI_E_ENV,
				   "CNI_COMMAND \"%s\" is not one of ADD, DEL, CHECK, STATUS, GC, VERSION",
				   env->command);
	if (add_like || del) {
		if (!env->container_id)
			return psw_cni_err(err, PSW_CNI_E_ENV, "CNI_CONTAINERID is not set");
		if (!valid_container_id(env->container_id))
			return psw_cni_err(err, PSW_CNI_E_ENV,
					   "CNI_CONTAINERID \"%s\" must be alphanumeric with _ . -",
					   env->container_id);
		if (!env->ifname)
			return psw_cni_err(err, PSW_CNI_E_ENV, "CNI_IFNAME is not set");
		if (!valid_ifname(env->ifname))
			return psw_cni_err(err, PSW_CNI_E_ENV,
					   "CNI_IFNAME \"%s\" is not a valid interface name", env->ifname);
		if (add_like && !env->netns)
			return psw_cni_err(err, PSW_CNI_E_ENV, "CNI_NETNS is not set");
	}
	if (add_like || del || !strcmp(env->command, "GC")) {
		if (!env->path)
			return psw_cni_err(err, PSW_CNI_E_ENV, "CNI_PATH is not set");
	}
	return psw_cni_args_parse(getenv("CNI_ARGS"), env, err);
}
