/*
 * test_ipam.c: delegation to IPAM plugins (cni/ipam.c) with Debian's real host-local and
 * static from /usr/lib/cni, and with small fake plugins (shell scripts) that misbehave:
 * a failure passes the plugin's CNI error on, garbage output is a decode error, a plugin
 * that speaks no usable version is refused, an older plugin gets our config at its
 * newest version.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cni.h"

#define DEBIAN_CNI "/usr/lib/cni"

static char dir[64];
static char path[256]; /* CNI_PATH: fakes first, then Debian's */

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/psw-ut-ipam-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/bin:%s", dir, DEBIAN_CNI);
	{
		char bin[128];

		snprintf(bin, sizeof(bin), "%s/bin", dir);
		mkdir(bin, 0755);
	}
	setenv("CNI_CONTAINERID", "ut-ctr", 1);
	setenv("CNI_IFNAME", "eth0", 1);
	setenv("CNI_NETNS", "/var/run/netns/none", 1);
	setenv("CNI_PATH", path, 1);
	unsetenv("CNI_ARGS");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void fake_plugin(const char *name, const char *body)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/bin/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(p, 0755);
}

static void load(struct psw_netconf *nc, const char *version, const char *ipam)
{
	char text[1024];
	struct psw_cni_error err;

	snprintf(text, sizeof(text),
		 "{\"cniVersion\": \"%s\", \"name\": \"utnet\", \"type\": \"podswitch\", \"ipam\": %s}",
		 version, ipam);
	if (psw_netconf_parse(text, strlen(text), "ADD", nc, &err))
		fail_msg("config: %s", err.msg);
}

/* host-local keeps one file per leased address, named by the address. */
static bool lease_exists(const char *cidr)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/leases/utnet/%.*s", dir, (int)strcspn(cidr, "/"), cidr);
	return access(p, F_OK) == 0;
}

static void test_find(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(psw_plugin_find("host-local", path, out, sizeof(out)), 0);
	assert_string_equal(out, DEBIAN_CNI "/host-local");
	assert_int_equal(psw_plugin_find("no-such-plugin", path, out, sizeof(out)), -1);
	assert_int_equal(psw_plugin_find("host-local", "", out, sizeof(out)), -1);
	assert_int_equal(psw_plugin_find("host-local", "::" DEBIAN_CNI, out, sizeof(out)), 0);
}

/* host-local speaks up to 1.0.0: a 1.1.0 config is passed down as 1.0.0; ADD leases an
 * address, DEL releases it, and a second DEL is fine. */
static void test_host_local(void **state)
{
	char ipam[256];
	struct psw_netconf nc;
	struct psw_ipam_result r;
	struct psw_cni_error err;
	json_t *res;

	(void)state;
	snprintf(ipam, sizeof(ipam),
		 "{\"type\": \"host-local\", \"subnet\": \"10.77.0.0/24\", \"dataDir\": \"%s/leases\","
		 " \"routes\": [{\"dst\": \"0.0.0.0/0\"}]}", dir);
	for (int v = 0; v < PSW_CNI_V_COUNT; v++) {
		load(&nc, psw_cni_version_name(v), ipam);
		if (psw_ipam_exec(&nc, "ADD", path, &res, &err))
			fail_msg("ADD %s: %s", psw_cni_version_name(v), err.msg);
		assert_int_equal(psw_ipam_result_parse(res, &r, &err), 0);
		assert_int_equal(r.n_ips, 1);
		/* host-local hands out addresses round-robin: any of the subnet */
		assert_memory_equal(r.ips[0].address, "10.77.0.", 8);
		assert_string_equal(r.ips[0].gateway, "10.77.0.1");
		assert_int_equal(json_array_size(r.routes), 1);
		assert_true(lease_exists(r.ips[0].address));
		assert_int_equal(psw_ipam_exec(&nc, "DEL", path, NULL, &err), 0);
		assert_false(lease_exists(r.ips[0].address));
		psw_ipam_result_free(&r);
		json_decref(res);
		assert_int_equal(psw_ipam_exec(&nc, "DEL", path, NULL, &err), 0);
		psw_netconf_free(&nc);
	}
}

/* runtimeConfig.ips reaches host-local (the "ips" capability). */
static void test_host_local_requested_ip(void **state)
{
	char text[1024];
	struct psw_netconf nc;
	struct psw_ipam_result r;
	struct psw_cni_error err;
	json_t *res;

	(void)state;
	snprintf(text, sizeof(text),
		 "{\"cniVersion\": \"1.0.0\", \"name\": \"utnet\", \"type\": \"podswitch\","
		 " \"capabilities\": {\"ips\": true}, \"runtimeConfig\": {\"ips\": [\"10.77.0.42/24\"]},"
		 " \"ipam\": {\"type\": \"host-local\", \"subnet\": \"10.77.0.0/24\", \"dataDir\": \"%s/leases\"}}",
		 dir);
	assert_int_equal(psw_netconf_parse(text, strlen(text), "ADD", &nc, &err), 0);
	if (psw_ipam_exec(&nc, "ADD", path, &res, &err))
		fail_msg("ADD: %s", err.msg);
	assert_int_equal(psw_ipam_result_parse(res, &r, &err), 0);
	assert_string_equal(r.ips[0].address, "10.77.0.42/24");
	psw_ipam_result_free(&r);
	json_decref(res);
	assert_int_equal(psw_ipam_exec(&nc, "DEL", path, NULL, &err), 0);
	psw_netconf_free(&nc);
}

static void test_static(void **state)
{
	struct psw_netconf nc;
	struct psw_ipam_result r;
	struct psw_cni_error err;
	json_t *res;

	(void)state;
	load(&nc, "1.1.0", "{\"type\": \"static\", \"addresses\": [{\"address\": \"10.5.0.9/24\","
	     " \"gateway\": \"10.5.0.1\"}, {\"address\": \"fd05::9/64\"}],"
	     " \"routes\": [{\"dst\": \"10.6.0.0/16\"}], \"dns\": {\"nameservers\": [\"10.5.0.53\"]}}");
	if (psw_ipam_exec(&nc, "ADD", path, &res, &err))
		fail_msg("ADD: %s", err.msg);
	assert_int_equal(psw_ipam_result_parse(res, &r, &err), 0);
	assert_int_equal(r.n_ips, 2);
	assert_string_equal(r.ips[0].address, "10.5.0.9/24");
	assert_string_equal(r.ips[1].address, "fd05::9/64");
	assert_non_null(r.dns);
	psw_ipam_result_free(&r);
	json_decref(res);
	assert_int_equal(psw_ipam_exec(&nc, "DEL", path, NULL, &err), 0);
	psw_netconf_free(&nc);
}

static void test_failures(void **state)
{
	struct psw_netconf nc;
	struct psw_cni_error err;
	json_t *res;
	char ipam[256];

	(void)state;
	/* host-local refusing its config: its error, its code, our prefix. */
	snprintf(ipam, sizeof(ipam), "{\"type\": \"host-local\", \"subnet\": \"bogus\", \"dataDir\": \"%s/l\"}", dir);
	load(&nc, "1.0.0", ipam);
	assert_int_equal(psw_ipam_exec(&nc, "ADD", path, &res, &err), -1);
	assert_non_null(strstr(err.msg, "host-local ADD: "));
	assert_true(err.code > 0);
	psw_netconf_free(&nc);

	/* Not on CNI_PATH. */
	load(&nc, "1.0.0", "{\"type\": \"nowhere\"}");
	assert_int_equal(psw_ipam_exec(&nc, "ADD", path, &res, &err), -1);
	assert_int_equal(err.code, PSW_CNI_E_CONFIG);
	assert_non_null(strstr(err.msg, "\"nowhere\" not found"));
	psw_netconf_free(&nc);

	/* A CNI error with details is passed on whole. */
	fake_plugin("failing", "if [ \"$CNI_COMMAND\" = VERSION ]; then echo '{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"1.0.0\"]}'; exit 0; fi\n"
		    "cat >/dev/null; echo '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"pool busy\",\"details\":\"retry\"}'; exit 1");
	load(&nc, "1.0.0", "{\"type\": \"failing\"}");
	assert_int_equal(psw_ipam_exec(&nc, "ADD", path, &res, &err), -1);
	assert_int_equal(err.code, 11);
	assert_string_equal(err.msg, "failing ADD: pool busy");
	assert_string_equal(err.details, "retry");
	psw_netconf_free(&nc);

	/* Exit 1 without an error object. */
	fake_plugin("crashing", "if [ \"$CNI_COMMAND\" = VERSION ]; then echo '{\"supportedVersions\":[\"1.0.0\"]}'; exit 0; fi\nexit 3");
	load(&nc, "1.0.0", "{\"type\": \"crashing\"}");
	assert_int_equal(psw_ipam_exec(&nc, "ADD", path, &res, &err), -1);
	assert_int_equal(err.code, PSW_CNI_E_IO);
	assert_non_null(strstr(err.msg, "exit 3"));
	psw_netconf_free(&nc);

	/* Success with garbage on stdout. */
	fake_plugin("garbage", "if [ \"$CNI_COMMAND\" = VERSION ]; then echo '{\"supportedVersions\":[\"1.0.0\"]}'; exit 0; fi\necho 'not json'");
	load(&nc, "1.0.0", "{\"type\": \"garbage\"}");
	assert_int_equal(psw_ipam_exec(&nc, "ADD", path, &res, &err), -1);
	assert_int_equal(err.code, PSW_CNI_E_DECODE);
	psw_netconf_free(&nc);

	/* Success with no result on ADD. */
	fake_plugin("silent", "if [ \"$CNI_COMMAND\" = VERSION ]; then echo '{\"supportedVersions\":[\"1.0.0\"]}'; exit 0; fi\ncat >/dev/null");
	load(&nc, "1.0.0", "{\"type\": \"silent\"}");
	assert_int_equal(psw_ipam_exec(&nc, "ADD", path, &res, &err), -1);
	assert_int_equal(err.code, PSW_CNI_E_DECODE);
	assert_int_equal(psw_ipam_exec(&nc, "DEL", path, NULL, &err), 0); /* DEL prints nothing */
	psw_netconf_free(&nc);

	/* Only pre-0.3 versions: incompatible. */
	fake_plugin("ancient", "echo '{\"cniVersion\":\"0.2.0\",\"supportedVersions\":[\"0.1.0\",\"0.2.0\"]}'");
	load(&nc, "1.0.0", "{\"type\": \"ancient\"}");
	assert_int_equal(psw_ipam_exec(&nc, "ADD", path, &res, &err), -1);
	assert_int_equal(err.code, PSW_CNI_E_INCOMPATIBLE);
	psw_netconf_free(&nc);
}

/* The delegate sees our config at the version chosen, with the same environment. */
static void test_version_and_env(void **state)
{
	struct psw_netconf nc;
	struct psw_cni_error err;
	json_t *res;
	char f[1024], *seen;
	FILE *fp;
	long n;

	(void)state;
	snprintf(f, sizeof(f),
		 "if [ \"$CNI_COMMAND\" = VERSION ]; then echo '{\"supportedVersions\":[\"0.3.1\",\"0.4.0\"]}'; exit 0; fi\n"
		 "{ cat; echo; echo \"$CNI_COMMAND $CNI_CONTAINERID $CNI_IFNAME\"; } >%s/seen\n"
		 "echo '{\"cniVersion\":\"0.4.0\",\"ips\":[{\"version\":\"4\",\"address\":\"10.0.0.3/8\"}]}'",
		 dir);
	fake_plugin("older", f);
	load(&nc, "1.1.0", "{\"type\": \"older\", \"extra\": 1}");
	assert_int_equal(psw_ipam_exec(&nc, "ADD", path, &res, &err), 0);
	json_decref(res);
	snprintf(f, sizeof(f), "%s/seen", dir);
	fp = fopen(f, "r");
	assert_non_null(fp);
	seen = calloc(1, 4096);
	n = fread(seen, 1, 4095, fp);
	fclose(fp);
	assert_true(n > 0);
	assert_non_null(strstr(seen, "\"cniVersion\":\"0.4.0\""));
	assert_non_null(strstr(seen, "\"extra\":1"));
	assert_non_null(strstr(seen, "ADD ut-ctr eth0"));
	free(seen);
	psw_netconf_free(&nc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_host_local),
		cmocka_unit_test(test_host_local_requested_ip),
		cmocka_unit_test(test_static),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_version_and_env),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
