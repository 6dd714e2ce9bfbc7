/*
 * config.c: the startup config file -> struct psw_config (main thread, before EAL
 * init). Every key is checked against a table; unknown keys and ill-typed or out-of-range
 * values are errors that name the key ("eal.memory_mb: must be an integer 64..65536").
 */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "control/metrics_http.h"

struct psw_config psw_conf;

void
psw_config_defaults(struct psw_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->lcores, sizeof(c->lcores), "0,1");
	c->main_lcore = 0;
	c->memory_mb = 256;
	snprintf(c->file_prefix, sizeof(c->file_prefix), "podswitch");
	c->pmd_cpus[0] = 1;
	c->n_pmd_cpus = 1;
	c->mbufs = 32768;
	c->flow_cache_entries = 8192;
	c->mac_aging_s = 300;
	c->mac_limit_per_port = 4096;
	snprintf(c->control_socket, sizeof(c->control_socket), "/run/podswitch/podswitchd.sock");
	c->control_socket_mode = 0660;
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/podswitch");
	snprintf(c->socket_dir, sizeof(c->socket_dir), "/run/podswitch/sockets");
	snprintf(c->log_level, sizeof(c->log_level), "info");
	c->arp_answer_rate = 5000;
}

void
psw_config_free(struct psw_config *c)
{
	for (unsigned i = 0; i < c->n_eal_args; i++)
		free(c->eal_args[i]);
	c->n_eal_args = 0;
	json_decref(c->ports);
	json_decref(c->networks);
	json_decref(c->flows);
	json_decref(c->uplink);
	c->ports = c->networks = c->flows = c->uplink = NULL;
}

static int
fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

static int
get_uint(json_t *v, const char *key, unsigned min, unsigned max, unsigned *out,
	 char *err, size_t len)
{
	json_int_t x;

	if (!json_is_integer(v))
		return fail(err, len, "%s: must be an integer %u..%u", key, min, max);
	x = json_integer_value(v);
	if (x < (json_int_t)min || x > (json_int_t)max)
		return fail(err, len, "%s: %lld is out of range %u..%u", key, (long long)x, min, max);
	*out = (unsigned)x;
	return 0;
}

static int
get_str(json_t *v, const char *key, char *out, size_t outlen, char *err, size_t len)
{
	if (!json_is_string(v))
		return fail(err, len, "%s: must be a string", key);
	if (json_string_length(v) == 0 || json_string_length(v) >= outlen)
		return fail(err, len, "%s: must be 1..%zu characters", key, outlen - 1);
	snprintf(out, outlen, "%s", json_string_value(v));
	return 0;
}

static int
get_array(json_t *v, const char *key, json_t **out, char *err, size_t len)
{
	if (!json_is_array(v))
		return fail(err, len, "%s: must be an array", key);
	json_decref(*out);
	*out = json_incref(v);
	return 0;
}

static int
parse_eal(struct psw_config *c, json_t *eal, char *err, size_t len)
{
	const char *key;
	json_t *v;
	unsigned u;

	if (!json_is_object(eal))
		return fail(err, len, "eal: must be an object");
	json_object_foreach(eal, key, v) {
		if (strcmp(key, "lcores") == 0) {
			if (get_str(v, "eal.lcores", c->lcores, sizeof(c->lcores), err, len))
				return -1;
		} else if (strcmp(key, "main_lcore") == 0) {
			if (get_uint(v, "eal.main_lcore", 0, 1023, &u, err, len))
				return -1;
			c->main_lcore = (int)u;
		} else if (strcmp(key, "memory_mb") == 0) {
			if (get_uint(v, "eal.memory_mb", 16, 1 << 20, &c->memory_mb, err, len))
				return -1;
		} else if (strcmp(key, "file_prefix") == 0) {
			if (get_str(v, "eal.file_prefix", c->file_prefix, sizeof(c->file_prefix),
				    err, len))
				return -1;
			if (strchr(c->file_prefix, '/') != NULL)
				return fail(err, len, "eal.file_prefix: must not contain '/'");
		} else if (strcmp(key, "args") == 0) {
			size_t i;
			json_t *a;

			if (!json_is_array(v))
				return fail(err, len, "eal.args: must be an array of strings");
			if (json_array_size(v) > PSW_EAL_ARGS_MAX)
				return fail(err, len, "eal.args: at most %d", PSW_EAL_ARGS_MAX);
			for (i = 0; i < c->n_eal_args; i++)
				free(c->eal_args[i]);
			c->n_eal_args = 0;
			json_array_foreach(v, i, a) {
				if (!json_is_string(a))
					return fail(err, len, "eal.args[%zu]: must be a string", i);
				c->eal_args[c->n_eal_args] = strdup(json_string_value(a));
				if (c->eal_args[c->n_eal_args] == NULL)
					return fail(err, len, "out of memory");
				c->n_eal_args++;
			}
		} else {
			return fail(err, len, "eal.%s: unknown key", key);
		}
	}
	return 0;
}

static int
parse_pmd_cpus(struct psw_config *c, json_t *v, char *err, size_t len)
{
	size_t i;
	json_t *x;

	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > PSW_MAX_PMDS)
		return fail(err, len, "pmd_cpus: must be an array of 1..%d lcore ids", PSW_MAX_PMDS);
	json_array_foreach(v, i, x) {
		char key[32];

		snprintf(key, sizeof(key), "pmd_cpus[%zu]", i);
		if (get_uint(x, key, 0, 1023, &c->pmd_cpus[i], err, len))
			return -1;
		for (size_t j = 0; j < i; j++)
			if (c->pmd_cpus[j] == c->pmd_cpus[i])
				return fail(err, len, "%s: lcore %u listed twice", key, c->pmd_cpus[i]);
	}
	c->n_pmd_cpus = (unsigned)json_array_size(v);
	return 0;
}

static int
parse_mode(json_t *v, unsigned *out, char *err, size_t len)
{
	const char *s;
	char *end;
	long m;

	if (!json_is_string(v))
		return fail(err, len, "control_socket_mode: must be an octal string such as \"0660\"");
	s = json_string_value(v);
	errno = 0;
	m = strtol(s, &end, 8);
	if (errno || *s == '\0' || *end != '\0' || m < 0 || m > 0777)
		return fail(err, len, "control_socket_mode: \"%s\" is not an octal mode 0000..0777", s);
	*out = (unsigned)m;
	return 0;
}

/* "${VAR}" and "${VAR:-default}" in s, from the environment, into out. */
static int
expand_str(const char *where, const char *s, char *out, size_t outlen, char *err, size_t len)
{
	size_t o = 0;

	while (*s != '\0') {
		const char *end, *def, *val;
		char name[128];
		size_t n;

		if (s[0] != '$' || s[1] != '{') {
			if (o + 1 >= outlen)
				return fail(err, len, "%s: too long once expanded", where);
			out[o++] = *s++;
			continue;
		}
		end = strchr(s, '}');
		if (end == NULL)
			return fail(err, len, "%s: \"${\" without \"}\"", where);
		def = strstr(s, ":-");
		if (def != NULL && def > end)
			def = NULL;
		n = (size_t)((def ? def : end) - (s + 2));
		if (n == 0 || n >= sizeof(name))
			return fail(err, len, "%s: bad variable name", where);
		memcpy(name, s + 2, n);
		name[n] = '\0';
		val = getenv(name);
		if (val == NULL || val[0] == '\0') {
			if (def == NULL)
				return fail(err, len, "%s: ${%s} is not set in the environment", where,
					    name);
			val = NULL;
		}
		n = val ? strlen(val) : (size_t)(end - (def + 2));
		if (o + n >= outlen)
			return fail(err, len, "%s: too long once expanded", where);
		memcpy(out + o, val ? val : def + 2, n);
		o += n;
		s = end + 1;
	}
	out[o] = '\0';
	return 0;
}

/* Every string in v (recursively): ${VAR} from the environment, so that one config (a
 * ConfigMap) serves every node with its own values (underlay address, devices, CPUs). */
static int
expand(json_t *v, const char *where, char *err, size_t len)
{
	char path[256], buf[4096];
	const char *key;
	json_t *x;
	size_t i;

	if (json_is_string(v) && strstr(json_string_value(v), "${") != NULL) {
		if (expand_str(where, json_string_value(v), buf, sizeof(buf), err, len) != 0)
			return -1;
		json_string_set(v, buf);
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, x) {
			snprintf(path, sizeof(path), "%s%s%s", where, where[0] ? "." : "", key);
			if (expand(x, path, err, len) != 0)
				return -1;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			snprintf(path, sizeof(path), "%s[%zu]", where, i);
			if (expand(x, path, err, len) != 0)
				return -1;
		}
	}
	return 0;
}

/* "auto" CPUs: the ones this process may run on (a container's cpuset): the first runs
 * the control thread, the others PMDs. */
static int
auto_cpus(struct psw_config *c, bool lcores, bool pmds, char *err, size_t len)
{
	cpu_set_t set;
	unsigned cpus[CPU_SETSIZE], n = 0;
	size_t o = 0;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return fail(err, len, "eal.lcores: auto: cannot read the CPU affinity");
	for (unsigned i = 0; i < CPU_SETSIZE && n < 1024; i++)
		if (CPU_ISSET(i, &set))
			cpus[n++] = i;
	if (n < 2)
		return fail(err, len, "eal.lcores: auto: %u CPU allowed; podswitchd needs 2 (control "
			    "and one PMD)", n);
	if (lcores) {
		c->lcores[0] = '\0';
		for (unsigned i = 0; i < n && o + 8 < sizeof(c->lcores); i++)
			o += (size_t)snprintf(c->lcores + o, sizeof(c->lcores) - o, "%s%u", i ? "," : "",
					      cpus[i]);
		c->main_lcore = (int)cpus[0];
	}
	if (pmds) {
		c->n_pmd_cpus = 0;
		for (unsigned i = 1; i < n && c->n_pmd_cpus < PSW_MAX_PMDS; i++)
			c->pmd_cpus[c->n_pmd_cpus++] = cpus[i];
	}
	return 0;
}

/* "metrics": {"listen": "ADDR:PORT"} (README.md "Monitoring"). */
static int
parse_metrics(struct psw_config *c, json_t *v, char *err, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	const char *key;
	json_t *x;

	if (!json_is_object(v))
		return fail(err, len, "metrics: must be an object such as {\"listen\": "
			    "\"127.0.0.1:9100\"}");
	c->metrics_listen[0] = '\0';
	json_object_foreach(v, key, x) {
		if (strcmp(key, "listen") != 0)
			return fail(err, len, "metrics.%s: unknown key", key);
		if (get_str(x, "metrics.listen", c->metrics_listen, sizeof(c->metrics_listen),
			    err, len) != 0 ||
		    psw_metrics_parse_listen(c->metrics_listen, "metrics.listen", &ss, &sl, err,
					     len) != 0)
			return -1;
	}
	return 0;
}

int
psw_config_parse(struct psw_config *c, json_t *root, char *err, size_t len)
{
	bool auto_lcores = false, auto_pmds = false;
	json_t *eal, *pc;
	const char *key;
	json_t *v;

	if (!json_is_object(root))
		return fail(err, len, "the config must be a JSON object");
	if (expand(root, "", err, len) != 0)
		return -1;
	eal = json_object_get(root, "eal");
	if (json_is_string(json_object_get(eal, "lcores")) &&
	    strcmp(json_string_value(json_object_get(eal, "lcores")), "auto") == 0) {
		auto_lcores = true;
		json_object_del(eal, "lcores");
		json_object_del(eal, "main_lcore");
	}
	pc = json_object_get(root, "pmd_cpus");
	if (json_is_string(pc) && strcmp(json_string_value(pc), "auto") == 0) {
		auto_pmds = true;
		json_object_del(root, "pmd_cpus");
	}
	if ((auto_lcores || auto_pmds) && auto_cpus(c, auto_lcores, auto_pmds, err, len) != 0)
		return -1;
	json_object_foreach(root, key, v) {
		int rc;

		if (strcmp(key, "eal") == 0)
			rc = parse_eal(c, v, err, len);
		else if (strcmp(key, "pmd_cpus") == 0)
			rc = parse_pmd_cpus(c, v, err, len);
		else if (strcmp(key, "pmd_idle_sleep_us") == 0)
			rc = get_uint(v, key, 0, 100000, &c->pmd_idle_sleep_us, err, len);
		else if (strcmp(key, "mbufs") == 0)
			rc = get_uint(v, key, 1024, 4 << 20, &c->mbufs, err, len);
		else if (strcmp(key, "flow_cache_entries") == 0)
			rc = get_uint(v, key, 0, 1 << 22, &c->flow_cache_entries, err, len);
		else if (strcmp(key, "mac_aging_s") == 0)
			rc = get_uint(v, key, 1, 1000000, &c->mac_aging_s, err, len);
		else if (strcmp(key, "mac_limit_per_port") == 0)
			rc = get_uint(v, key, 1, 1 << 20, &c->mac_limit_per_port, err, len);
		else if (strcmp(key, "control_socket") == 0)
			rc = get_str(v, key, c->control_socket, 108, err, len);
		else if (strcmp(key, "control_socket_mode") == 0)
			rc = parse_mode(v, &c->control_socket_mode, err, len);
		else if (strcmp(key, "state_dir") == 0)
			rc = get_str(v, key, c->state_dir, sizeof(c->state_dir), err, len);
		else if (strcmp(key, "socket_dir") == 0)
			rc = get_str(v, key, c->socket_dir, sizeof(c->socket_dir), err, len);
		else if (strcmp(key, "log_level") == 0) {
			rc = get_str(v, key, c->log_level, sizeof(c->log_level), err, len);
			if (rc == 0 && strcmp(c->log_level, "error") && strcmp(c->log_level, "warning") &&
			    strcmp(c->log_level, "info") && strcmp(c->log_level, "debug"))
				rc = fail(err, len, "log_level: \"%s\": use error, warning, info or debug",
					  c->log_level);
		} else if (strcmp(key, "ports") == 0)
			rc = get_array(v, key, &c->ports, err, len);
		else if (strcmp(key, "uplink") == 0) {
			rc = json_is_object(v) ? 0 : fail(err, len, "uplink: must be an object "
							  "(uplink.set params)");
			if (rc == 0) {
				json_decref(c->uplink);
				c->uplink = json_incref(v);
			}
		} else if (strcmp(key, "arp_answer_rate") == 0)
			rc = get_uint(v, key, 1, 10000000, &c->arp_answer_rate, err, len);
		else if (strcmp(key, "networks") == 0)
			rc = get_array(v, key, &c->networks, err, len);
		else if (strcmp(key, "flows") == 0)
			rc = get_array(v, key, &c->flows, err, len);
		else if (strcmp(key, "metrics") == 0)
			rc = parse_metrics(c, v, err, len);
		else if (strcmp(key, "comment") == 0 || key[0] == '_')
			rc = 0; /* documentation in the file itself */
		else
			rc = fail(err, len, "%s: unknown key", key);
		if (rc)
			return -1;
	}
	for (unsigned i = 0; i < c->n_pmd_cpus; i++)
		if ((int)c->pmd_cpus[i] == c->main_lcore)
			return fail(err, len, "pmd_cpus: lcore %u is eal.main_lcore, which runs the "
				    "control thread", c->pmd_cpus[i]);
	return 0;
}

int
psw_config_load_files(struct psw_config *c, const char *const *paths, unsigned n, char *err,
		      size_t len)
{
	json_t *root = NULL;
	int rc;

	for (unsigned i = 0; i < n; i++) {
		json_error_t jerr;
		json_t *one = json_load_file(paths[i], JSON_REJECT_DUPLICATES, &jerr);

		if (one == NULL) {
			json_decref(root);
			return fail(err, len, "%s:%d:%d: %s", paths[i], jerr.line, jerr.column,
				    jerr.text);
		}
		if (!json_is_object(one)) {
			json_decref(one);
			json_decref(root);
			return fail(err, len, "%s: the config must be a JSON object", paths[i]);
		}
		/* Objects merge key by key, the later file winning; anything else (arrays
		 * too) is replaced whole. */
		if (root == NULL)
			root = one;
		else {
			json_object_update_recursive(root, one);
			json_decref(one);
		}
	}
	rc = psw_config_parse(c, root, err, len);
	json_decref(root);
	return rc;
}

int
psw_config_load(struct psw_config *c, const char *path, char *err, size_t len)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return fail(err, len, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
	rc = psw_config_parse(c, root, err, len);
	json_decref(root);
	return rc;
}
