/*
 * test_netconf.c: the CNI plugin's inputs (cni/netconf.c): strict network-config parsing
 * (error codes and the field each message names), CNI_* environment and CNI_ARGS, and the
 * names derived from (container id, ifname): port, tap, pod directory, socket path; the
 * network's transport and gateway (cni/network.c) against podswitchd's network.list.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cni.h"

static int parse(const char *text, const char *command, struct psw_netconf *nc,
		 struct psw_cni_error *err)
{
	return psw_netconf_parse(text, strlen(text), command, nc, err);
}

/* The config must fail with code and a message containing msg. */
static void expect_fail(const char *text, const char *command, int code, const char *msg)
{
	struct psw_netconf nc;
	struct psw_cni_error err = {0};

	if (parse(text, command, &nc, &err) == 0) {
		psw_netconf_free(&nc);
		fail_msg("accepted: %s", text);
	}
	if (err.code != code || !strstr(err.msg, msg))
		fail_msg("config %s\n got %d \"%s\", want %d \"%s\"", text, err.code, err.msg, code,
			 msg);
}

#define BASE "\"cniVersion\": \"1.1.0\", \"name\": \"podnet\", \"type\": \"podswitch\""

static void test_defaults(void **state)
{
	struct psw_netconf nc;
	struct psw_cni_error err;

	(void)state;
	assert_int_equal(parse("{" BASE "}", "ADD", &nc, &err), 0);
	assert_int_equal(nc.version, PSW_CNI_V110);
	assert_string_equal(nc.name, "podnet");
	assert_int_equal(nc.iface, PSW_IFACE_TAP);
	assert_string_equal(nc.control_socket, "/run/podswitch/podswitchd.sock");
	assert_string_equal(nc.socket_dir, "/run/podswitch/pods");
	assert_string_equal(nc.lock_file, "/run/podswitch/pods/.podswitch-cni.lock");
	assert_string_equal(nc.network, "");
	assert_null(nc.ipam);
	assert_false(nc.mac_set);
	assert_int_equal(nc.mtu, 0);
	assert_false(nc.vhost_switch_server);
	psw_netconf_free(&nc);
}

static void test_full(void **state)
{
	struct psw_netconf nc;
	struct psw_cni_error err;
	const char *text = "{" BASE ", \"socket\": \"/tmp/s.sock\", \"network\": \"blue\","
		" \"interface\": \"vhost-user\", \"mtu\": 9000, \"socketDir\": \"/var/run/psw///\","
		" \"timeout\": 5000, \"vhostUser\": {\"mode\": \"server\", \"queues\": 4},"
		" \"ipam\": {\"type\": \"host-local\", \"subnet\": \"10.1.0.0/16\"},"
		" \"dns\": {\"nameservers\": [\"1.1.1.1\"]}, \"capabilities\": {\"mac\": true},"
		" \"runtimeConfig\": {\"mac\": \"0a:58:0a:01:00:02\", \"ips\": [\"10.1.0.9/16\"],"
		" \"CNIDeviceInfoFile\": \"/var/run/k8s.cni.cncf.io/devinfo/cni/x.json\", \"other\": 1},"
		" \"args\": {\"cni\": {}}, \"disableCheck\": false}";

	(void)state;
	assert_int_equal(parse(text, "ADD", &nc, &err), 0);
	assert_string_equal(nc.control_socket, "/tmp/s.sock");
	assert_string_equal(nc.network, "blue");
	assert_int_equal(nc.iface, PSW_IFACE_VHOST_USER);
	assert_int_equal(nc.mtu, 9000);
	assert_string_equal(nc.socket_dir, "/var/run/psw"); /* trailing slashes dropped */
	assert_int_equal(nc.timeout_ms, 5000);
	assert_true(nc.vhost_switch_server);
	assert_int_equal(nc.queues, 4);
	assert_non_null(nc.ipam);
	assert_string_equal(nc.ipam_type, "host-local");
	assert_non_null(nc.dns);
	assert_true(nc.mac_set);
	assert_memory_equal(nc.mac, "\x0a\x58\x0a\x01\x00\x02", 6);
	assert_string_equal(nc.device_info_file, "/var/run/k8s.cni.cncf.io/devinfo/cni/x.json");
	psw_netconf_free(&nc);
}

static void test_memif(void **state)
{
	struct psw_netconf nc;
	struct psw_cni_error err;

	(void)state;
	assert_int_equal(parse("{" BASE ", \"interface\": \"memif\", \"memif\": {\"abstract\": true,"
			       " \"ringSize\": 2048, \"bufferSize\": 4096}}", "ADD", &nc, &err), 0);
	assert_int_equal(nc.iface, PSW_IFACE_MEMIF);
	assert_true(nc.memif_abstract);
	assert_int_equal(nc.memif_ring_size, 2048);
	assert_int_equal(nc.memif_buffer_size, 4096);
	psw_netconf_free(&nc);
}

/* socketOwner, socketGroup, socketMode: parsed strictly, resolved at ADD against this
 * machine's users and groups (Debian always has root, nobody and nogroup). */
static void test_socket_access(void **state)
{
	struct psw_netconf nc;
	struct psw_cni_error err;
	struct psw_sock_access acc;

	(void)state;
	assert_int_equal(parse("{" BASE ", \"interface\": \"vhost-user\", \"socketOwner\": \"nobody\","
			       " \"socketGroup\": \"nogroup\", \"socketMode\": \"0660\"}", "ADD", &nc, &err), 0);
	assert_string_equal(nc.socket_owner, "nobody");
	assert_string_equal(nc.socket_group, "nogroup");
	assert_true(nc.socket_mode_set);
	assert_int_equal(nc.socket_mode, 0660);
	assert_int_equal(psw_sock_access_resolve(&nc, &acc, &err), 0);
	assert_true(acc.uid_set && acc.gid_set && acc.mode_set);
	assert_int_equal(acc.uid, 65534);
	assert_int_equal(acc.gid, 65534);
	assert_int_equal(acc.mode, 0660);
	psw_netconf_free(&nc);

	/* Numeric ids as integers or strings; a 3-digit mode; only some keys. */
	assert_int_equal(parse("{" BASE ", \"interface\": \"memif\", \"socketOwner\": 1000,"
			       " \"socketMode\": \"600\"}", "ADD", &nc, &err), 0);
	assert_int_equal(psw_sock_access_resolve(&nc, &acc, &err), 0);
	assert_true(acc.uid_set && !acc.gid_set && acc.mode_set);
	assert_int_equal(acc.uid, 1000);
	assert_int_equal(acc.mode, 0600);
	psw_netconf_free(&nc);
	assert_int_equal(parse("{" BASE ", \"interface\": \"memif\", \"socketGroup\": \"0\"}", "ADD",
			       &nc, &err), 0);
	assert_int_equal(psw_sock_access_resolve(&nc, &acc, &err), 0);
	assert_true(!acc.uid_set && acc.gid_set && !acc.mode_set);
	assert_int_equal(acc.gid, 0);
	psw_netconf_free(&nc);

	/* None set: nothing to do. */
	assert_int_equal(parse("{" BASE ", \"interface\": \"memif\"}", "ADD", &nc, &err), 0);
	assert_int_equal(psw_sock_access_resolve(&nc, &acc, &err), 0);
	assert_false(acc.uid_set || acc.gid_set || acc.mode_set);
	psw_netconf_free(&nc);

	/* A name this node does not know fails at ADD (DEL still parses the config). */
	assert_int_equal(parse("{" BASE ", \"interface\": \"vhost-user\", \"socketOwner\": \"no-such-user-psw\"}",
			       "DEL", &nc, &err), 0);
	assert_int_equal(psw_sock_access_resolve(&nc, &acc, &err), -1);
	assert_int_equal(err.code, PSW_CNI_E_CONFIG);
	assert_non_null(strstr(err.msg, "\"socketOwner\": no user \"no-such-user-psw\""));
	psw_netconf_free(&nc);
	assert_int_equal(parse("{" BASE ", \"interface\": \"vhost-user\", \"socketGroup\": \"no-such-group-psw\"}",
			       "ADD", &nc, &err), 0);
	assert_int_equal(psw_sock_access_resolve(&nc, &acc, &err), -1);
	assert_non_null(strstr(err.msg, "\"socketGroup\": no group"));
	psw_netconf_free(&nc);

	/* Bad values name the field. */
	expect_fail("{" BASE ", \"interface\": \"memif\", \"socketMode\": 660}", "ADD", 7,
		    "\"socketMode\" must be an octal mode");
	expect_fail("{" BASE ", \"interface\": \"memif\", \"socketMode\": \"0680\"}", "ADD", 7,
		    "\"socketMode\" must be an octal mode");
	expect_fail("{" BASE ", \"interface\": \"memif\", \"socketMode\": \"66\"}", "ADD", 7,
		    "\"socketMode\" must be an octal mode");
	expect_fail("{" BASE ", \"interface\": \"memif\", \"socketMode\": \"4755\"}", "ADD", 7,
		    "\"socketMode\" must be permission bits only");
	expect_fail("{" BASE ", \"interface\": \"memif\", \"socketOwner\": \"\"}", "ADD", 7,
		    "\"socketOwner\" must be a name");
	expect_fail("{" BASE ", \"interface\": \"memif\", \"socketOwner\": \"a/b\"}", "ADD", 7,
		    "\"socketOwner\" must be a name");
	expect_fail("{" BASE ", \"interface\": \"memif\", \"socketGroup\": -1}", "ADD", 7,
		    "\"socketGroup\" must be a name or an id");
	expect_fail("{" BASE ", \"interface\": \"memif\", \"socketGroup\": true}", "ADD", 7,
		    "\"socketGroup\" must be a name");
	expect_fail("{" BASE ", \"interface\": \"memif\", \"socketOwner\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		    "ADD", 7, "\"socketOwner\" must be a name");
	expect_fail("{" BASE ", \"socketMode\": \"0660\"}", "ADD", 7,
		    "\"socketMode\" needs \"interface\": \"vhost-user\" or \"memif\"");

	/* The directory lets whoever may use the socket reach it. */
	assert_int_equal(psw_sock_dir_mode(0660), 0770);
	assert_int_equal(psw_sock_dir_mode(0600), 0700);
	assert_int_equal(psw_sock_dir_mode(0666), 0777);
	assert_int_equal(psw_sock_dir_mode(0640), 0750);
	assert_int_equal(psw_sock_dir_mode(0000), 0700);
}

static void test_versions(void **state)
{
	static const char *const ok[] = {"0.3.1", "0.4.0", "1.0.0", "1.1.0"};
	char text[256];

	(void)state;
	for (int i = 0; i < 4; i++) {
		struct psw_netconf nc;
		struct psw_cni_error err;

		snprintf(text, sizeof(text),
			 "{\"cniVersion\": \"%s\", \"name\": \"n\", \"type\": \"podswitch\"}", ok[i]);
		assert_int_equal(parse(text, "ADD", &nc, &err), 0);
		assert_int_equal(nc.version, i);
		assert_string_equal(nc.version_str, ok[i]);
		assert_string_equal(psw_cni_version_name(i), ok[i]);
		psw_netconf_free(&nc);
	}
	expect_fail("{\"cniVersion\": \"0.2.0\", \"name\": \"n\", \"type\": \"podswitch\"}", "ADD", 1,
		    "incompatible CNI version \"0.2.0\"");
	expect_fail("{\"cniVersion\": \"2.0.0\", \"name\": \"n\", \"type\": \"podswitch\"}", "ADD", 1,
		    "\"2.0.0\"");
	/* An unknown version wins over unknown fields: a newer spec may have them. */
	expect_fail("{\"cniVersion\": \"9.9.9\", \"new\": 1}", "ADD", 1, "9.9.9");
	expect_fail("{\"cniVersion\": 1, \"name\": \"n\", \"type\": \"podswitch\"}", "ADD", 7,
		    "\"cniVersion\" must be a string");
	expect_fail("{\"name\": \"n\", \"type\": \"podswitch\"}", "ADD", 7, "\"cniVersion\" is missing");
	assert_true(psw_cni_version_cmp("0.4.0", "1.0.0") < 0);
	assert_true(psw_cni_version_cmp("1.1.0", "1.0.0") > 0);
	assert_true(psw_cni_version_cmp("1.0", "1.0.0") == 0);
	assert_true(psw_cni_version_cmp("0.10.0", "0.9.0") > 0);
	assert_int_equal(psw_cni_version_parse("0.3.0"), -1);
}

static void test_command_rules(void **state)
{
	(void)state;
	expect_fail("{\"cniVersion\": \"0.3.1\", \"name\": \"n\", \"type\": \"podswitch\", "
		    "\"prevResult\": {}}", "CHECK", 1, "CHECK needs cniVersion 0.4.0");
	expect_fail("{" BASE "}", "CHECK", 7, "\"prevResult\" is missing");
	expect_fail("{\"cniVersion\": \"1.0.0\", \"name\": \"n\", \"type\": \"podswitch\"}", "STATUS", 1,
		    "STATUS needs cniVersion 1.1.0");
	expect_fail("{\"cniVersion\": \"1.0.0\", \"name\": \"n\", \"type\": \"podswitch\"}", "GC", 1,
		    "GC needs cniVersion 1.1.0");
	expect_fail("{" BASE "}", "GC", 7, "\"cni.dev/valid-attachments\" is missing");
	expect_fail("{" BASE ", \"cni.dev/valid-attachments\": {}}", "GC", 7,
		    "\"cni.dev/valid-attachments\" must be an array");
	expect_fail("{" BASE ", \"cni.dev/valid-attachments\": [{\"containerID\": \"a\"}]}", "GC", 7,
		    "cni.dev/valid-attachments[0]");
}

static void test_bad_fields(void **state)
{
	(void)state;
	expect_fail("not json", "ADD", 6, "not valid JSON");
	expect_fail("[1, 2]", "ADD", 6, "not a JSON object");
	expect_fail("{" BASE ", \"name\": \"again\"}", "ADD", 6, "duplicate");
	expect_fail("{\"cniVersion\": \"1.1.0\", \"type\": \"podswitch\"}", "ADD", 7, "\"name\" is missing");
	expect_fail("{\"cniVersion\": \"1.1.0\", \"name\": \"n\"}", "ADD", 7, "\"type\" is missing");
	expect_fail("{\"cniVersion\": \"1.1.0\", \"name\": \"n\", \"type\": \"bridge\"}", "ADD", 7,
		    "\"type\" must be \"podswitch\"");
	expect_fail("{" BASE ", \"colour\": 1}", "ADD", 2, "unknown field \"colour\"");
	expect_fail("{" BASE ", \"mtu\": \"big\"}", "ADD", 7, "\"mtu\" must be an integer from 68 to 9600");
	expect_fail("{" BASE ", \"mtu\": 67}", "ADD", 7, "\"mtu\" must be an integer from 68 to 9600");
	/* podswitchd's limit: refused at parse, before IPAM, not by port.add. */
	expect_fail("{" BASE ", \"mtu\": 9601}", "ADD", 7, "\"mtu\" must be an integer from 68 to 9600");
	expect_fail("{" BASE ", \"mtu\": 65535}", "ADD", 7, "\"mtu\" must be an integer from 68 to 9600");
	expect_fail("{" BASE ", \"mtu\": 1500.0}", "ADD", 7, "\"mtu\"");
	expect_fail("{" BASE ", \"mtu\": -1}", "ADD", 7, "\"mtu\"");
	expect_fail("{" BASE ", \"interface\": \"veth\"}", "ADD", 7, "\"interface\" must be");
	expect_fail("{" BASE ", \"socket\": \"relative.sock\"}", "ADD", 7, "\"socket\" must be an absolute");
	expect_fail("{" BASE ", \"socket\": \"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		    "ADD", 7, "\"socket\" is longer than 107 bytes");
	expect_fail("{" BASE ", \"socket\": \"\"}", "ADD", 7, "\"socket\" must be a non-empty string");
	expect_fail("{" BASE ", \"socketDir\": \"run/x\"}", "ADD", 7, "\"socketDir\" must be an absolute");
	expect_fail("{" BASE ", \"network\": \"a b\"}", "ADD", 7, "\"network\" must be");
	expect_fail("{" BASE ", \"timeout\": 5}", "ADD", 7, "\"timeout\"");
	expect_fail("{" BASE ", \"dns\": []}", "ADD", 7, "\"dns\" must be an object");
	expect_fail("{" BASE ", \"args\": 1}", "ADD", 7, "\"args\" must be an object");
	expect_fail("{" BASE ", \"vhostUser\": {}}", "ADD", 7, "\"vhostUser\" needs \"interface\": \"vhost-user\"");
	expect_fail("{" BASE ", \"interface\": \"vhost-user\", \"vhostUser\": {\"mode\": \"both\"}}", "ADD",
		    7, "\"vhostUser.mode\" must be \"client\" or \"server\"");
	expect_fail("{" BASE ", \"interface\": \"vhost-user\", \"vhostUser\": {\"queues\": 0}}", "ADD", 7,
		    "\"vhostUser.queues\"");
	expect_fail("{" BASE ", \"interface\": \"vhost-user\", \"vhostUser\": {\"path\": \"/x\"}}", "ADD",
		    2, "unknown field \"vhostUser.path\"");
	expect_fail("{" BASE ", \"interface\": \"memif\", \"memif\": {\"ringSize\": 1000}}", "ADD", 7,
		    "\"memif.ringSize\" must be a power of two");
	expect_fail("{" BASE ", \"interface\": \"memif\", \"memif\": {\"abstract\": 1}}", "ADD", 7,
		    "\"memif.abstract\" must be true or false");
	expect_fail("{" BASE ", \"memif\": {}}", "ADD", 7, "\"memif\" needs \"interface\": \"memif\"");
	expect_fail("{" BASE ", \"ipam\": {\"subnet\": \"10.0.0.0/8\"}}", "ADD", 7, "\"ipam.type\" is missing");
	expect_fail("{" BASE ", \"ipam\": {\"type\": \"../bin/sh\"}}", "ADD", 7, "\"ipam.type\" must be a plugin name");
	expect_fail("{" BASE ", \"ipam\": 3}", "ADD", 7, "\"ipam\" must be an object");
	expect_fail("{" BASE ", \"runtimeConfig\": {\"mac\": \"01:00:5e:00:00:01\"}}", "ADD", 7,
		    "\"runtimeConfig.mac\" must be a unicast MAC");
	expect_fail("{" BASE ", \"runtimeConfig\": {\"mac\": \"0a:58:0a:01:00\"}}", "ADD", 7,
		    "\"runtimeConfig.mac\"");
	expect_fail("{" BASE ", \"runtimeConfig\": {\"ips\": \"10.0.0.1/8\"}}", "ADD", 7,
		    "\"runtimeConfig.ips\" must be an array");
	expect_fail("{" BASE ", \"runtimeConfig\": {\"CNIDeviceInfoFile\": \"x.json\"}}", "ADD", 7,
		    "\"runtimeConfig.CNIDeviceInfoFile\" must be an absolute path");
}

/* The MTU limits are podswitchd's, both ends included. */
static void test_mtu_bounds(void **state)
{
	static const unsigned ok[] = {68, 1500, 9000, 9600};
	struct psw_netconf nc;
	struct psw_cni_error err;
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), "{" BASE ", \"mtu\": %u}", ok[i]);
		if (parse(text, "ADD", &nc, &err))
			fail_msg("mtu %u refused: %s", ok[i], err.msg);
		assert_int_equal(nc.mtu, ok[i]);
		psw_netconf_free(&nc);
	}
}

static void test_empty_ipam(void **state)
{
	struct psw_netconf nc;
	struct psw_cni_error err;

	(void)state;
	assert_int_equal(parse("{" BASE ", \"ipam\": {}}", "ADD", &nc, &err), 0);
	assert_null(nc.ipam);
	psw_netconf_free(&nc);
}

static void test_cni_args(void **state)
{
	struct psw_cni_env env;
	struct psw_cni_error err;

	(void)state;
	memset(&env, 0, sizeof(env));
	assert_int_equal(psw_cni_args_parse("IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web-0;"
					    "K8S_POD_INFRA_CONTAINER_ID=abc123;K8S_POD_UID=u-1;"
					    "MAC=0a:00:00:00:00:01;IP=10.1.1.1/24;Whatever=x",
					    &env, &err), 0);
	assert_true(env.ignore_unknown);
	assert_string_equal(env.k8s_namespace, "ns1");
	assert_string_equal(env.k8s_pod, "web-0");
	assert_string_equal(env.k8s_infra_id, "abc123");
	assert_string_equal(env.k8s_pod_uid, "u-1");
	assert_true(env.mac_set);

	/* IgnoreUnknown may come after the unknown key. */
	memset(&env, 0, sizeof(env));
	assert_int_equal(psw_cni_args_parse("Foo=1;IgnoreUnknown=true", &env, &err), 0);
	memset(&env, 0, sizeof(env));
	assert_int_equal(psw_cni_args_parse("Foo=1", &env, &err), -1);
	assert_int_equal(err.code, 4);
	assert_non_null(strstr(err.msg, "unknown key \"Foo\""));
	memset(&env, 0, sizeof(env));
	assert_int_equal(psw_cni_args_parse("IgnoreUnknown=0;Foo=1", &env, &err), -1);
	memset(&env, 0, sizeof(env));
	assert_int_equal(psw_cni_args_parse("K8S_POD_NAME", &env, &err), -1);
	assert_non_null(strstr(err.msg, "invalid pair"));
	memset(&env, 0, sizeof(env));
	assert_int_equal(psw_cni_args_parse("IgnoreUnknown=maybe", &env, &err), -1);
	memset(&env, 0, sizeof(env));
	assert_int_equal(psw_cni_args_parse("MAC=zz", &env, &err), -1);
	memset(&env, 0, sizeof(env));
	/* Keys static IPAM reads pass without IgnoreUnknown. */
	assert_int_equal(psw_cni_args_parse("IP=10.0.0.2/24;GATEWAY=10.0.0.1", &env, &err), 0);
	assert_int_equal(psw_cni_args_parse("", &env, &err), 0);
	assert_int_equal(psw_cni_args_parse(NULL, &env, &err), 0);
}

static void set_env(const char *cmd, const char *cid, const char *netns, const char *ifname,
		    const char *path, const char *args)
{
	const char *names[] = {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME",
			       "CNI_PATH", "CNI_ARGS"};
	const char *vals[] = {cmd, cid, netns, ifname, path, args};

	for (int i = 0; i < 6; i++)
		if (vals[i])
			setenv(names[i], vals[i], 1);
		else
			unsetenv(names[i]);
}

static void expect_env(int code, const char *msg)
{
	struct psw_cni_env env;
	struct psw_cni_error err = {0};

	if (code == 0) {
		if (psw_cni_env_load(&env, &err))
			fail_msg("env refused: %s", err.msg);
		return;
	}
	assert_int_equal(psw_cni_env_load(&env, &err), -1);
	if (err.code != code || !strstr(err.msg, msg))
		fail_msg("got %d \"%s\", want %d \"%s\"", err.code, err.msg, code, msg);
}

static void test_env(void **state)
{
	struct psw_cni_env env;
	struct psw_cni_error err;

	(void)state;
	set_env("ADD", "c1", "/var/run/netns/x", "eth0", "/opt/cni/bin", "K8S_POD_NAME=p;IgnoreUnknown=1");
	assert_int_equal(psw_cni_env_load(&env, &err), 0);
	assert_string_equal(env.command, "ADD");
	assert_string_equal(env.container_id, "c1");
	assert_string_equal(env.netns, "/var/run/netns/x");
	assert_string_equal(env.ifname, "eth0");
	assert_string_equal(env.k8s_pod, "p");

	set_env("ADD", "c1", NULL, "eth0", "/opt/cni/bin", NULL);
	expect_env(4, "CNI_NETNS is not set");
	set_env("ADD", "c1", "", "eth0", "/opt/cni/bin", NULL);
	expect_env(4, "CNI_NETNS is not set");
	set_env("DEL", "c1", NULL, "eth0", "/opt/cni/bin", NULL);
	expect_env(0, NULL); /* DEL may come without a netns */
	set_env("ADD", NULL, "/x", "eth0", "/opt/cni/bin", NULL);
	expect_env(4, "CNI_CONTAINERID is not set");
	set_env("ADD", "-bad", "/x", "eth0", "/opt/cni/bin", NULL);
	expect_env(4, "CNI_CONTAINERID");
	set_env("ADD", "c/1", "/x", "eth0", "/opt/cni/bin", NULL);
	expect_env(4, "CNI_CONTAINERID");
	set_env("ADD", "c1", "/x", NULL, "/opt/cni/bin", NULL);
	expect_env(4, "CNI_IFNAME is not set");
	set_env("ADD", "c1", "/x", "a-very-long-ifname", "/opt/cni/bin", NULL);
	expect_env(4, "not a valid interface name");
	set_env("ADD", "c1", "/x", "a:b", "/opt/cni/bin", NULL);
	expect_env(4, "not a valid interface name");
	set_env("ADD", "c1", "/x", "..", "/opt/cni/bin", NULL);
	expect_env(4, "not a valid interface name");
	set_env("ADD", "c1", "/x", "eth0", NULL, NULL);
	expect_env(4, "CNI_PATH is not set");
	set_env("ADD", "c1", "/x", "eth0", "/p", "Nope=1");
	expect_env(4, "unknown key \"Nope\"");
	set_env("FROB", NULL, NULL, NULL, NULL, NULL);
	expect_env(4, "CNI_COMMAND \"FROB\"");
	set_env(NULL, NULL, NULL, NULL, NULL, NULL);
	expect_env(4, "CNI_COMMAND is not set");
	set_env("VERSION", NULL, NULL, NULL, NULL, NULL);
	expect_env(0, NULL);
	set_env("STATUS", NULL, NULL, NULL, NULL, NULL);
	expect_env(0, NULL);
	set_env("GC", NULL, NULL, NULL, NULL, NULL);
	expect_env(4, "CNI_PATH is not set");
}

static bool name_chars_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

static void test_names(void **state)
{
	char a[PSW_CNI_PORT_NAME_MAX], b[PSW_CNI_PORT_NAME_MAX], t1[16], t2[16];
	const char *cid = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

	(void)state;
	psw_cni_port_name(cid, "eth0", a);
	psw_cni_port_name(cid, "net1", b);
	assert_string_not_equal(a, b);
	assert_true(strlen(a) >= 1 && strlen(a) <= 14); /* net_tap's mempool-name limit */
	assert_true(name_chars_ok(a));
	psw_cni_port_name(cid, "eth0", b);
	assert_string_equal(a, b); /* stable: DEL finds what ADD made */
	psw_cni_port_name("x y/z", "e:0", a);
	assert_true(name_chars_ok(a));
	/* (container, ifname) pairs that concatenate alike still differ. */
	psw_cni_port_name("ab", "c", a);
	psw_cni_port_name("a", "bc", b);
	assert_string_not_equal(a, b);

	psw_cni_tap_name(cid, "eth0", t1);
	psw_cni_tap_name(cid, "net1", t2);
	assert_int_equal(strlen(t1), 15);
	assert_string_not_equal(t1, t2);
	assert_memory_equal(t1, "psw", 3);
}

static void test_pod_dir(void **state)
{
	struct psw_netconf nc = {0};
	struct psw_cni_env env = {0};
	struct psw_cni_error err;
	char dir[PSW_CNI_PATH_MAX], sock[PSW_CNI_SUN_MAX], meta[PSW_CNI_PATH_MAX];
	char longpod[200];

	(void)state;
	strcpy(nc.socket_dir, "/run/podswitch/pods");
	env.container_id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	env.ifname = "net1";
	strcpy(env.k8s_namespace, "default");
	strcpy(env.k8s_pod, "web-0");
	assert_int_equal(psw_cni_pod_dir(&nc, &env, dir, sizeof(dir), &err), 0);
	assert_string_equal(dir, "/run/podswitch/pods/default_web-0");
	assert_int_equal(psw_cni_socket_path(dir, "net1", sock, sizeof(sock), &err), 0);
	assert_string_equal(sock, "/run/podswitch/pods/default_web-0/net1.sock");
	psw_cni_meta_path(dir, "net1", meta, sizeof(meta));
	assert_string_equal(meta, "/run/podswitch/pods/default_web-0/net1.json");

	/* Without pod names: the container id. */
	env.k8s_pod[0] = '\0';
	assert_int_equal(psw_cni_pod_dir(&nc, &env, dir, sizeof(dir), &err), 0);
	assert_string_equal(dir, "/run/podswitch/pods/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	assert_int_equal(psw_cni_socket_path(dir, "net1", sock, sizeof(sock), &err), 0);

	/* A pod name too long for a socket path: the container id, shortened with a hash,
	 * and the socket path still fits for the longest ifname. */
	memset(longpod, 'p', 150);
	longpod[150] = '\0';
	strcpy(env.k8s_pod, longpod);
	env.ifname = "abcdefghijklmno";
	strcpy(nc.socket_dir, "/var/lib/kubelet/plugins/podswitch/sockets");
	assert_int_equal(psw_cni_pod_dir(&nc, &env, dir, sizeof(dir), &err), 0);
	assert_null(strstr(dir, "ppppp"));
	assert_int_equal(psw_cni_socket_path(dir, env.ifname, sock, sizeof(sock), &err), 0);
	assert_true(strlen(sock) < 108);
	assert_true(strlen(sock) >= 100); /* uses the room it has */

	/* Unsafe names never become paths. */
	strcpy(env.k8s_pod, "../../etc");
	assert_int_equal(psw_cni_pod_dir(&nc, &env, dir, sizeof(dir), &err), 0);
	assert_null(strstr(dir, ".."));

	/* A socketDir that leaves no room is a config error. */
	memset(nc.socket_dir, 'd', 100);
	nc.socket_dir[0] = '/';
	nc.socket_dir[100] = '\0';
	assert_int_equal(psw_cni_pod_dir(&nc, &env, dir, sizeof(dir), &err), -1);
	assert_int_equal(err.code, 7);
	assert_non_null(strstr(err.msg, "socketDir"));
	assert_int_equal(psw_cni_socket_path(nc.socket_dir, "eth0", sock, sizeof(sock), &err), -1);
	assert_int_equal(err.code, 7);
}

static void test_mac(void **state)
{
	unsigned char m[6];
	char s[18];

	(void)state;
	assert_int_equal(psw_mac_parse("0a:58:0A:01:00:02", m), 0);
	psw_mac_format(m, s);
	assert_string_equal(s, "0a:58:0a:01:00:02");
	assert_int_equal(psw_mac_parse("0a:58:0a:01:00:02:03", m), -1);
	assert_int_equal(psw_mac_parse("0a-58-0a-01-00-02", m), -1);
	assert_int_equal(psw_mac_parse("ff:ff:ff:ff:ff:ff", m), -1);
	/* Found by fuzz_cni_netconf and fuzz_cni_env: sscanf("%2x") read "0x", " 2" and
	 * "+2" as hex numbers, so these were accepted as 0a:58:0a:01:00:02. */
	assert_int_equal(psw_mac_parse("0a:58:0a:01:0x:02", m), -1);
	assert_int_equal(psw_mac_parse("0a:58:0a:01:00: 2", m), -1);
	assert_int_equal(psw_mac_parse("0a:58:0a:01:00:+2", m), -1);
	assert_int_equal(psw_mac_parse(" a:58:0a:01:00:02", m), -1);
	assert_int_equal(psw_mac_parse("0a:58:0a:01:00:0g", m), -1);
	assert_int_equal(psw_mac_parse("0a:58:0a:01:00;02", m), -1);
	assert_int_equal(psw_mac_parse("", m), -1);
	assert_int_equal(psw_mac_parse("FE:DC:BA:98:76:54", m), 0);
	psw_mac_format(m, s);
	assert_string_equal(s, "fe:dc:ba:98:76:54");
	for (int i = 0; i < 32; i++) {
		psw_mac_random(m);
		assert_int_equal(m[0] & 1, 0);     /* unicast */
		assert_int_equal(m[0] & 2, 2);     /* locally administered */
	}
}

/* The network's transport and gateway: "vxlan" (vni, port, peers), "vlan", "gateway",
 * the gateway taken from host-local's ranges when the config has none. */
static void test_transport(void **state)
{
	struct psw_netconf nc;
	struct psw_cni_error err;

	(void)state;
	assert_int_equal(parse("{" BASE ", \"network\": \"podnet\", \"vxlan\": {\"vni\": 100,"
			       " \"peers\": [\"192.168.250.1\", \"192.168.250.2\"]},"
			       " \"gateway\": \"10.244.1.1/16\"}", "ADD", &nc, &err), 0);
	assert_true(nc.vxlan_set);
	assert_int_equal(nc.vxlan_vni, 100);
	assert_int_equal(nc.vxlan_port, 4789);
	assert_int_equal(nc.n_peers, 2);
	assert_string_equal(nc.peers[0], "192.168.250.1");
	assert_string_equal(nc.peers[1], "192.168.250.2");
	assert_int_equal(nc.vlan, 0);
	assert_string_equal(nc.gateway, "10.244.1.1/16");
	assert_true(nc.gateway_explicit);
	assert_true(psw_network_makes(&nc));
	psw_netconf_free(&nc);

	assert_int_equal(parse("{" BASE ", \"network\": \"v\", \"vlan\": 42, \"vxlan\": null}", "ADD",
			       &nc, &err), -1);
	assert_int_equal(parse("{" BASE ", \"network\": \"v\", \"vlan\": 4094}", "ADD", &nc, &err), 0);
	assert_int_equal(nc.vlan, 4094);
	assert_false(nc.vxlan_set);
	assert_string_equal(nc.gateway, "");
	assert_true(psw_network_makes(&nc));
	psw_netconf_free(&nc);

	/* Neither: the network must exist; the IPAM's gateway is kept for making one. */
	assert_int_equal(parse("{" BASE ", \"network\": \"podnet\", \"ipam\": {\"type\": \"host-local\","
			       " \"ranges\": [[{\"subnet\": \"10.244.0.0/16\"}],"
			       " [{\"subnet\": \"10.244.0.0/16\", \"gateway\": \"10.244.3.1\"}]]}}",
			       "ADD", &nc, &err), 0);
	assert_false(psw_network_makes(&nc));
	assert_string_equal(nc.gateway, "10.244.3.1/16");
	assert_false(nc.gateway_explicit);
	psw_netconf_free(&nc);
	/* host-local's older top-level form, IPv6 */
	assert_int_equal(parse("{" BASE ", \"network\": \"n6\", \"vxlan\": {\"vni\": 7, \"port\": 8472},"
			       " \"ipam\": {\"type\": \"host-local\", \"subnet\": \"fd00:10::/64\","
			       " \"gateway\": \"fd00:10::1\"}}", "ADD", &nc, &err), 0);
	assert_string_equal(nc.gateway, "fd00:10::1/64");
	assert_int_equal(nc.vxlan_port, 8472);
	assert_int_equal(nc.n_peers, 0);
	psw_netconf_free(&nc);
	/* An IPAM gateway that is not one (a /32 has no host part, a family mismatch): none */
	assert_int_equal(parse("{" BASE ", \"network\": \"n\", \"ipam\": {\"type\": \"host-local\","
			       " \"ranges\": [[{\"subnet\": \"10.9.0.0/32\", \"gateway\": \"10.9.0.0\"},"
			       " {\"subnet\": \"10.8.0.0/24\", \"gateway\": \"fd00::1\"}]]}}", "ADD", &nc, &err), 0);
	assert_string_equal(nc.gateway, "");
	psw_netconf_free(&nc);
}

static void test_transport_errors(void **state)
{
	(void)state;
	expect_fail("{" BASE ", \"vxlan\": {\"vni\": 100}}", "ADD", 7, "\"vxlan\" needs \"network\"");
	expect_fail("{" BASE ", \"gateway\": \"10.1.0.1/24\"}", "ADD", 7, "\"gateway\" needs \"network\"");
	expect_fail("{" BASE ", \"vlan\": 5}", "ADD", 7, "\"vlan\" needs \"network\"");
	expect_fail("{" BASE ", \"network\": \"n\", \"vxlan\": 100}", "ADD", 7, "\"vxlan\" must be an object");
	expect_fail("{" BASE ", \"network\": \"n\", \"vxlan\": {}}", "ADD", 7, "\"vxlan.vni\" is missing");
	expect_fail("{" BASE ", \"network\": \"n\", \"vxlan\": {\"vni\": 0}}", "ADD", 7,
		    "\"vxlan.vni\" must be an integer from 1 to 16777215");
	expect_fail("{" BASE ", \"network\": \"n\", \"vxlan\": {\"vni\": 16777216}}", "ADD", 7, "\"vxlan.vni\"");
	expect_fail("{" BASE ", \"network\": \"n\", \"vxlan\": {\"vni\": \"100\"}}", "ADD", 7, "\"vxlan.vni\"");
	expect_fail("{" BASE ", \"network\": \"n\", \"vxlan\": {\"vni\": 1, \"port\": 0}}", "ADD", 7,
		    "\"vxlan.port\" must be an integer from 1 to 65535");
	expect_fail("{" BASE ", \"network\": \"n\", \"vxlan\": {\"vni\": 1, \"VNI\": 1}}", "ADD", 2,
		    "unknown field \"vxlan.VNI\"");
	expect_fail("{" BASE ", \"network\": \"n\", \"vxlan\": {\"vni\": 1, \"peers\": \"192.0.2.1\"}}",
		    "ADD", 7, "\"vxlan.peers\" must be an array");
	expect_fail("{" BASE ", \"network\": \"n\", \"vxlan\": {\"vni\": 1, \"peers\": [\"192.0.2.1\", \"fd00::1\"]}}",
		    "ADD", 7, "\"vxlan.peers[1]\" must be an IPv4 address");
	expect_fail("{" BASE ", \"network\": \"n\", \"vxlan\": {\"vni\": 1, \"peers\": [\"192.0.2.1,192.0.2.2\"]}}",
		    "ADD", 7, "\"vxlan.peers[0]\"");
	expect_fail("{" BASE ", \"network\": \"n\", \"vxlan\": {\"vni\": 1, \"peers\": [\"192.0.2.1\", \"192.0.2.1\"]}}",
		    "ADD", 7, "\"vxlan.peers[1]\": 192.0.2.1 is listed twice");
	expect_fail("{" BASE ", \"network\": \"n\", \"vlan\": 0}", "ADD", 7, "\"vlan\" must be an integer from 1 to 4094");
	expect_fail("{" BASE ", \"network\": \"n\", \"vlan\": 4095}", "ADD", 7, "\"vlan\"");
	expect_fail("{" BASE ", \"network\": \"n\", \"vlan\": 3, \"vxlan\": {\"vni\": 1}}", "ADD", 7,
		    "a network has one transport");
	expect_fail("{" BASE ", \"network\": \"n\", \"gateway\": \"10.1.0.1\"}", "ADD", 7,
		    "\"gateway\" must be an address with its prefix");
	expect_fail("{" BASE ", \"network\": \"n\", \"gateway\": \"10.1.0.1/32\"}", "ADD", 7, "\"gateway\"");
	expect_fail("{" BASE ", \"network\": \"n\", \"gateway\": \"10.1.0.1/24x\"}", "ADD", 7, "\"gateway\"");
	expect_fail("{" BASE ", \"network\": \"n\", \"gateway\": \"10.1.0.1/\"}", "ADD", 7, "\"gateway\"");
	expect_fail("{" BASE ", \"network\": \"n\", \"gateway\": 17}", "ADD", 7, "\"gateway\"");

	/* 128 peers are fine, 129 are not. */
	char text[8192];
	int n = snprintf(text, sizeof(text), "{" BASE ", \"network\": \"n\", \"vxlan\": {\"vni\": 1, \"peers\": [");
	struct psw_netconf nc;
	struct psw_cni_error err;

	for (int i = 0; i < 128; i++)
		n += snprintf(text + n, sizeof(text) - n, "%s\"10.0.%d.%d\"", i ? ", " : "", i / 100, i % 100);
	snprintf(text + n, sizeof(text) - n, "]}}");
	assert_int_equal(parse(text, "ADD", &nc, &err), 0);
	assert_int_equal(nc.n_peers, 128);
	psw_netconf_free(&nc);
	snprintf(text + n, sizeof(text) - n, ", \"10.1.1.1\"]}}");
	expect_fail(text, "ADD", 7, "\"vxlan.peers\" has more than 128 addresses");
}

/* What podswitchd is asked for, and whether an existing network agrees with the config. */
static void test_network_agrees(void **state)
{
	struct psw_netconf nc;
	struct psw_cni_error err;
	json_t *p, *list, *net;
	unsigned mtu = 0;

	(void)state;
	assert_int_equal(parse("{" BASE ", \"network\": \"podnet\", \"vxlan\": {\"vni\": 100,"
			       " \"peers\": [\"192.168.250.1\"]}, \"ipam\": {\"type\": \"host-local\","
			       " \"ranges\": [[{\"subnet\": \"10.244.0.0/16\", \"gateway\": \"10.244.1.1\"}]]}}",
			       "ADD", &nc, &err), 0);
	p = psw_network_add_params(&nc);
	list = json_loads("{\"name\": \"podnet\", \"vxlan\": 100, \"udp_port\": 4789,"
			  " \"peers\": [\"192.168.250.1\"], \"gateway\": \"10.244.1.1/16\"}", 0, NULL);
	assert_true(json_equal(p, list));
	json_decref(p);
	json_decref(list);

	list = json_loads("{\"networks\": ["
			  "{\"name\": \"podnet\", \"vxlan\": 100, \"peers\": [\"192.168.250.2\"], \"mtu\": 1450,"
			  " \"gateway\": \"10.244.2.1/16\"},"
			  "{\"name\": \"other\", \"vxlan\": 200, \"udp_port\": 8472, \"mtu\": 1450},"
			  "{\"name\": \"v42\", \"vlan\": 42, \"mtu\": 1500},"
			  "{\"name\": \"six\", \"gateway\": \"fd00::1/64\"},"
			  "{\"name\": \"plain\"}]}", 0, NULL);
	assert_non_null(list);
	assert_null(psw_network_find(list, "nosuch"));
	/* The same VNI and port: agrees (peers and an IPAM-derived gateway are not compared). */
	net = psw_network_find(list, "podnet");
	assert_int_equal(psw_network_agrees(&nc, net, &err), 0);
	assert_int_equal(psw_network_mtu(&nc, net, &mtu, &err), 0);
	assert_int_equal(mtu, 1450);
	/* Another VNI, another port, VLAN, none. */
	nc.vxlan_vni = 200;
	assert_int_equal(psw_network_agrees(&nc, net, &err), -1);
	assert_int_equal(err.code, 7);
	assert_non_null(strstr(err.msg, "\"vxlan.vni\" is 200, but podswitchd's network \"podnet\" has VXLAN VNI 100"));
	assert_int_equal(psw_network_agrees(&nc, psw_network_find(list, "other"), &err), -1);
	assert_non_null(strstr(err.msg, "\"vxlan.port\" is 4789") && strstr(err.msg, "UDP port 8472"));
	assert_int_equal(psw_network_agrees(&nc, psw_network_find(list, "v42"), &err), -1);
	assert_non_null(strstr(err.msg, "\"vxlan\" is VNI 200") && strstr(err.msg, "has VLAN 42"));
	assert_int_equal(psw_network_agrees(&nc, psw_network_find(list, "plain"), &err), -1);
	assert_non_null(strstr(err.msg, "has no transport"));
	psw_netconf_free(&nc);

	/* No transport in the config: any network agrees; its MTU still applies. */
	assert_int_equal(parse("{" BASE ", \"network\": \"v42\"}", "ADD", &nc, &err), 0);
	assert_int_equal(psw_network_agrees(&nc, psw_network_find(list, "v42"), &err), 0);
	assert_int_equal(psw_network_mtu(&nc, psw_network_find(list, "v42"), &mtu, &err), 0);
	assert_int_equal(mtu, 1500);
	assert_int_equal(psw_network_mtu(&nc, psw_network_find(list, "plain"), &mtu, &err), 0);
	assert_int_equal(mtu, 0);   /* the device's */
	psw_netconf_free(&nc);

	/* "vlan" and an explicit gateway are compared, as addresses (written differently,
	 * the same gateway agrees). */
	assert_int_equal(parse("{" BASE ", \"network\": \"six\", \"gateway\": \"fd00:0:0::0:1/64\"}",
			       "ADD", &nc, &err), 0);
	assert_int_equal(psw_network_agrees(&nc, psw_network_find(list, "six"), &err), 0);
	psw_netconf_free(&nc);
	assert_int_equal(parse("{" BASE ", \"network\": \"podnet\", \"gateway\": \"10.244.2.1/16\"}",
			       "ADD", &nc, &err), 0);
	assert_int_equal(psw_network_agrees(&nc, psw_network_find(list, "podnet"), &err), 0);
	assert_int_equal(psw_network_agrees(&nc, psw_network_find(list, "plain"), &err), -1);
	assert_non_null(strstr(err.msg, "\"gateway\" is 10.244.2.1/16") && strstr(err.msg, "no gateway"));
	psw_netconf_free(&nc);
	assert_int_equal(parse("{" BASE ", \"network\": \"podnet\", \"gateway\": \"10.244.2.1/24\"}",
			       "ADD", &nc, &err), 0);
	assert_int_equal(psw_network_agrees(&nc, psw_network_find(list, "podnet"), &err), -1);
	assert_non_null(strstr(err.msg, "has gateway 10.244.2.1/16"));
	psw_netconf_free(&nc);
	assert_int_equal(parse("{" BASE ", \"network\": \"v42\", \"vlan\": 43}", "ADD", &nc, &err), 0);
	assert_int_equal(psw_network_agrees(&nc, psw_network_find(list, "v42"), &err), -1);
	assert_non_null(strstr(err.msg, "\"vlan\" is 43, but podswitchd's network \"v42\" has VLAN 42"));
	psw_netconf_free(&nc);

	/* An explicit MTU: up to the network's. */
	assert_int_equal(parse("{" BASE ", \"network\": \"podnet\", \"mtu\": 1400}", "ADD", &nc, &err), 0);
	assert_int_equal(psw_network_mtu(&nc, psw_network_find(list, "podnet"), &mtu, &err), 0);
	assert_int_equal(mtu, 1400);
	nc.mtu = 1450;
	assert_int_equal(psw_network_mtu(&nc, psw_network_find(list, "podnet"), &mtu, &err), 0);
	assert_int_equal(mtu, 1450);
	nc.mtu = 1500;
	assert_int_equal(psw_network_mtu(&nc, psw_network_find(list, "podnet"), &mtu, &err), -1);
	assert_int_equal(err.code, 7);
	assert_non_null(strstr(err.msg, "\"mtu\" is 1500, above the 1450 of podswitchd's network \"podnet\""));
	assert_int_equal(psw_network_mtu(&nc, psw_network_find(list, "plain"), &mtu, &err), 0);
	assert_int_equal(mtu, 1500);
	psw_netconf_free(&nc);
	json_decref(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_memif),
		cmocka_unit_test(test_socket_access),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_command_rules),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_mtu_bounds),
		cmocka_unit_test(test_empty_ipam),
		cmocka_unit_test(test_cni_args),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_pod_dir),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_transport),
		cmocka_unit_test(test_transport_errors),
		cmocka_unit_test(test_network_agrees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
