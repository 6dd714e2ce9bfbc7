/*
 * test_config.c: the startup config parser (switch/config.c). Every key is accepted with a
 * good value and refused, naming the key, with a bad one; unknown keys are errors.
 */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

static int
parse(struct psw_config *c, const char *text, char *err, size_t len)
{
	json_error_t jerr;
	json_t *root = json_loads(text, 0, &jerr);
	int rc;

	assert_non_null(root);
	psw_config_defaults(c);
	rc = psw_config_parse(c, root, err, len);
	json_decref(root);
	return rc;
}

static void
expect_error(const char *text, const char *needle)
{
	struct psw_config c;
	char err[512] = "";

	assert_int_equal(parse(&c, text, err, sizeof(err)), -1);
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" does not name \"%s\"", err, needle);
	psw_config_free(&c);
}

static void
test_defaults(void **state)
{
	struct psw_config c;
	char err[256];

	(void)state;
	assert_int_equal(parse(&c, "{}", err, sizeof(err)), 0);
	assert_string_equal(c.control_socket, "/run/podswitch/podswitchd.sock");
	assert_string_equal(c.state_dir, "/var/lib/podswitch");
	assert_string_equal(c.file_prefix, "podswitch");
	assert_int_equal(c.memory_mb, 256);
	assert_int_equal(c.n_pmd_cpus, 1);
	assert_int_equal(c.pmd_cpus[0], 1);
	assert_int_equal(c.pmd_idle_sleep_us, 0); /* back-off is off by default */
	assert_int_equal(c.control_socket_mode, 0660);
	assert_int_equal(c.mac_aging_s, 300);
	assert_string_equal(c.metrics_listen, "");   /* no /metrics unless asked */
	psw_config_free(&c);
	assert_int_equal(parse(&c, "{\"metrics\": {\"listen\": \"[::1]:9100\"}}", err,
			       sizeof(err)), 0);
	assert_string_equal(c.metrics_listen, "[::1]:9100");
	psw_config_free(&c);
}

static void
test_full_example(void **state)
{
	struct psw_config c;
	char err[256];

	(void)state;
	assert_int_equal(parse(&c,
		"{\"eal\": {\"lcores\": \"0-3\", \"main_lcore\": 0, \"memory_mb\": 512,"
		"  \"file_prefix\": \"sw1\", \"args\": [\"--no-pci\", \"--in-memory\"]},"
		" \"pmd_cpus\": [2, 3], \"pmd_idle_sleep_us\": 50, \"mbufs\": 65536,"
		" \"flow_cache_entries\": 4096, \"mac_aging_s\": 60, \"mac_limit_per_port\": 10,"
		" \"control_socket\": \"/tmp/x.sock\", \"control_socket_mode\": \"0600\","
		" \"state_dir\": \"/tmp/st\", \"socket_dir\": \"/tmp/so\", \"log_level\": \"debug\","
		" \"ports\": [{\"name\": \"in\", \"devargs\": \"net_null0\"}],"
		" \"networks\": [{\"name\": \"default\"}], \"flows\": [\"actions=normal\"],"
		" \"_comment\": \"ignored\"}", err, sizeof(err)), 0);
	assert_string_equal(c.lcores, "0-3");
	assert_int_equal(c.memory_mb, 512);
	assert_string_equal(c.file_prefix, "sw1");
	assert_int_equal(c.n_eal_args, 2);
	assert_string_equal(c.eal_args[1], "--in-memory");
	assert_int_equal(c.n_pmd_cpus, 2);
	assert_int_equal(c.pmd_cpus[1], 3);
	assert_int_equal(c.pmd_idle_sleep_us, 50);
	assert_int_equal(c.mbufs, 65536);
	assert_int_equal(c.control_socket_mode, 0600);
	assert_string_equal(c.log_level, "debug");
	assert_int_equal(json_array_size(c.ports), 1);
	assert_int_equal(json_array_size(c.networks), 1);
	assert_int_equal(json_array_size(c.flows), 1);
	psw_config_free(&c);
}

static void
test_bad_values(void **state)
{
	(void)state;
	expect_error("[]", "JSON object");
	expect_error("{\"bogus\": 1}", "bogus: unknown key");
	expect_error("{\"eal\": {\"cores\": \"0\"}}", "eal.cores: unknown key");
	expect_error("{\"eal\": 3}", "eal: must be an object");
	expect_error("{\"eal\": {\"memory_mb\": \"256\"}}", "eal.memory_mb");
	expect_error("{\"eal\": {\"memory_mb\": 1}}", "eal.memory_mb: 1 is out of range");
	expect_error("{\"eal\": {\"file_prefix\": \"a/b\"}}", "eal.file_prefix");
	expect_error("{\"eal\": {\"file_prefix\": \"\"}}", "eal.file_prefix");
	expect_error("{\"eal\": {\"args\": [\"--no-pci\", 7]}}", "eal.args[1]");
	expect_error("{\"eal\": {\"lcores\": 5}}", "eal.lcores: must be a string");
	expect_error("{\"pmd_cpus\": []}", "pmd_cpus");
	expect_error("{\"pmd_cpus\": [1, 1]}", "listed twice");
	expect_error("{\"pmd_cpus\": [-1]}", "pmd_cpus[0]");
	expect_error("{\"pmd_cpus\": [0]}", "main_lcore");
	expect_error("{\"pmd_idle_sleep_us\": true}", "pmd_idle_sleep_us");
	expect_error("{\"mbufs\": 10}", "mbufs");
	expect_error("{\"control_socket\": \"\"}", "control_socket");
	expect_error("{\"control_socket_mode\": \"0999\"}", "control_socket_mode");
	expect_error("{\"control_socket_mode\": 660}", "control_socket_mode");
	expect_error("{\"log_level\": \"loud\"}", "log_level");
	expect_error("{\"ports\": {}}", "ports: must be an array");
	expect_error("{\"flows\": \"x\"}", "flows: must be an array");
	expect_error("{\"metrics\": \"127.0.0.1:9100\"}", "metrics: must be an object");
	expect_error("{\"metrics\": {\"port\": 9100}}", "metrics.port: unknown key");
	expect_error("{\"metrics\": {\"listen\": \"localhost:9100\"}}", "metrics.listen");
	expect_error("{\"metrics\": {\"listen\": 9100}}", "metrics.listen: must be a string");
	/* A socket path longer than sun_path cannot be bound. */
	expect_error("{\"control_socket\": \"/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		     "control_socket");
}

static void
test_load_file(void **state)
{
	struct psw_config c;
	char err[512], path[] = "/tmp/psw-config-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("{\"pmd_cpus\": [1],\n \"eal\": {\"memory_mb\": 128,}}\n", f);
	fclose(f);
	psw_config_defaults(&c);
	assert_int_equal(psw_config_load(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));  /* names the file, line and column */
	assert_non_null(strstr(err, ":2:"));
	unlink(path);
	assert_int_equal(psw_config_load(&c, "/nonexistent/podswitchd.json", err, sizeof(err)), -1);
	psw_config_free(&c);
}

static void
test_shipped_config(void **state)
{
	struct psw_config c;
	char err[512];

	(void)state;
	/* What make install installs: starts on any node (no ports), the networks the
	 * shipped CNI configs name, the learning rule, PMD idle back-off off. */
	psw_config_defaults(&c);
	if (psw_config_load(&c, SRC_ROOT "/config/podswitchd.json", err, sizeof(err)) != 0)
		fail_msg("config/podswitchd.json: %s", err);
	assert_true(c.ports == NULL || json_array_size(c.ports) == 0);
	assert_int_equal(json_array_size(c.networks), 3);
	assert_int_equal(json_array_size(c.flows), 1);
	assert_int_equal(c.pmd_idle_sleep_us, 0);
	psw_config_free(&c);
	/* make demo's: two net_pcap ports. */
	psw_config_defaults(&c);
	if (psw_config_load(&c, SRC_ROOT "/config/demo.json", err, sizeof(err)) != 0)
		fail_msg("config/demo.json: %s", err);
	assert_int_equal(json_array_size(c.ports), 2);
	psw_config_free(&c);
}

/* ${VAR} and ${VAR:-default} in any string, from the environment; an unset variable
 * without a default names the key. */
static void
test_env(void **state)
{
	struct psw_config c;
	char err[256];

	(void)state;
	setenv("PSW_TEST_IP", "192.0.2.7", 1);
	setenv("PSW_TEST_PREFIX", "node7", 1);
	unsetenv("PSW_TEST_UNSET");
	assert_int_equal(parse(&c, "{\"eal\": {\"file_prefix\": \"psw-${PSW_TEST_PREFIX}\"},"
			       "\"uplink\": {\"port\": \"up\", \"ip\": \"${PSW_TEST_IP}/24\"},"
			       "\"state_dir\": \"/var/lib/${PSW_TEST_UNSET:-podswitch}\"}",
			       err, sizeof(err)), 0);
	assert_string_equal(c.file_prefix, "psw-node7");
	assert_string_equal(json_string_value(json_object_get(c.uplink, "ip")), "192.0.2.7/24");
	assert_string_equal(c.state_dir, "/var/lib/podswitch");
	psw_config_free(&c);
	expect_error("{\"uplink\": {\"port\": \"up\", \"ip\": \"${PSW_TEST_UNSET}/24\"}}",
		     "uplink.ip: ${PSW_TEST_UNSET} is not set");
	expect_error("{\"networks\": [{\"name\": \"${PSW_TEST_IP\"}]}", "networks[0].name");
	expect_error("{\"arp_answer_rate\": 0}", "arp_answer_rate");
	expect_error("{\"uplink\": \"up\"}", "uplink: must be an object");
}

/* Several files: each merged over the ones before (objects key by key, arrays whole). */
static void
test_merge(void **state)
{
	const char *paths[2] = {"/tmp/psw-test-config-a.json", "/tmp/psw-test-config-b.json"};
	struct psw_config c;
	char err[256];
	FILE *f;

	(void)state;
	f = fopen(paths[0], "w");
	fputs("{\"eal\": {\"memory_mb\": 512, \"file_prefix\": \"a\"}, \"mbufs\": 4096,"
	      " \"networks\": [{\"name\": \"x\"}, {\"name\": \"y\"}]}", f);
	fclose(f);
	f = fopen(paths[1], "w");
	fputs("{\"eal\": {\"memory_mb\": 128}, \"networks\": [{\"name\": \"z\"}],"
	      " \"uplink\": {\"port\": \"up\", \"ip\": \"192.0.2.1/24\"}}", f);
	fclose(f);
	psw_config_defaults(&c);
	assert_int_equal(psw_config_load_files(&c, paths, 2, err, sizeof(err)), 0);
	assert_int_equal(c.memory_mb, 128);                 /* the node's file wins */
	assert_string_equal(c.file_prefix, "a");             /* kept from the first */
	assert_int_equal(c.mbufs, 4096);
	assert_int_equal(json_array_size(c.networks), 1);    /* arrays replaced whole */
	assert_non_null(c.uplink);
	psw_config_free(&c);
	f = fopen(paths[1], "w");
	fputs("[1]", f);
	fclose(f);
	psw_config_defaults(&c);
	assert_int_equal(psw_config_load_files(&c, paths, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, paths[1]));
	psw_config_free(&c);
	unlink(paths[0]);
	unlink(paths[1]);
}

/* "auto" CPUs: the ones this process may run on; the first for the control thread. */
static void
test_auto_cpus(void **state)
{
	struct psw_config c;
	cpu_set_t set;
	char err[256], want[64] = "";
	unsigned first = 0, n = 0;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	for (unsigned i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set)) {
			if (n++ == 0)
				first = i;
			snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%u",
				 n > 1 ? "," : "", i);
		}
	if (n < 2) {
		expect_error("{\"eal\": {\"lcores\": \"auto\"}, \"pmd_cpus\": \"auto\"}",
			     "needs 2");
		return;
	}
	assert_int_equal(parse(&c, "{\"eal\": {\"lcores\": \"auto\"}, \"pmd_cpus\": \"auto\"}",
			       err, sizeof(err)), 0);
	assert_string_equal(c.lcores, want);
	assert_int_equal(c.main_lcore, (int)first);
	assert_int_equal(c.n_pmd_cpus, n - 1);
	assert_true(c.pmd_cpus[0] != first);
	psw_config_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_example),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_shipped_config),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_auto_cpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
