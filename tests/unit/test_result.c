/*
 * test_result.c: CNI results (cni/result.c) and the files for userspace pods
 * (cni/devinfo.c). IPAM results of every shape are read; the ADD result is written in each
 * cniVersion with that version's fields only; errors, VERSION, prevResult for CHECK; the
 * NPWG device-info and the metadata file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cni.h"

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);

	if (!v)
		fail_msg("bad test JSON: %s: %s", e.text, text);
	return v;
}

/* host-local's 0.4.0 answer and 1.0.0 answer for the same lease. */
static const char *ipam040 =
	"{\"cniVersion\": \"0.4.0\", \"ips\": [{\"version\": \"4\", \"address\": \"10.1.0.5/24\","
	" \"gateway\": \"10.1.0.1\"}, {\"version\": \"6\", \"address\": \"fd00::5/64\", \"gateway\": \"fd00::1\"}],"
	" \"routes\": [{\"dst\": \"0.0.0.0/0\"}, {\"dst\": \"10.9.0.0/16\", \"gw\": \"10.1.0.254\"}],"
	" \"dns\": {\"nameservers\": [\"10.1.0.53\"]}}";
static const char *ipam100 =
	"{\"cniVersion\": \"1.0.0\", \"ips\": [{\"address\": \"10.1.0.5/24\", \"gateway\": \"10.1.0.1\","
	" \"interface\": 0}], \"routes\": [{\"dst\": \"0.0.0.0/0\", \"gw\": \"10.1.0.1\", \"mtu\": 1400,"
	" \"priority\": 10, \"table\": 100, \"scope\": 0, \"advmss\": 1360}]}";

static void test_ipam_parse(void **state)
{
	struct psw_ipam_result r;
	struct psw_cni_error err;
	json_t *v = J(ipam040);

	(void)state;
	assert_int_equal(psw_ipam_result_parse(v, &r, &err), 0);
	assert_int_equal(r.n_ips, 2);
	assert_int_equal(r.ips[0].family, AF_INET);
	assert_string_equal(r.ips[0].address, "10.1.0.5/24");
	assert_string_equal(r.ips[0].gateway, "10.1.0.1");
	assert_int_equal(r.ips[1].family, AF_INET6);
	assert_string_equal(r.ips[1].gateway, "fd00::1");
	assert_int_equal(json_array_size(r.routes), 2);
	assert_non_null(r.dns);
	psw_ipam_result_free(&r);
	json_decref(v);

	v = J(ipam100);
	assert_int_equal(psw_ipam_result_parse(v, &r, &err), 0);
	assert_int_equal(r.n_ips, 1);
	assert_null(r.dns);
	psw_ipam_result_free(&r);
	json_decref(v);

	/* No IPAM at all: an empty result. */
	assert_int_equal(psw_ipam_result_parse(NULL, &r, &err), 0);
	assert_int_equal(r.n_ips, 0);
	assert_int_equal(json_array_size(r.routes), 0);
	psw_ipam_result_free(&r);
}

static void expect_parse_fail(const char *text, const char *msg)
{
	struct psw_ipam_result r;
	struct psw_cni_error err = {0};
	json_t *v = J(text);

	if (psw_ipam_result_parse(v, &r, &err) == 0)
		fail_msg("accepted %s", text);
	if (err.code != PSW_CNI_E_DECODE || !strstr(err.msg, msg))
		fail_msg("%s: got %d \"%s\", want \"%s\"", text, err.code, err.msg, msg);
	json_decref(v);
}

static void test_ipam_parse_bad(void **state)
{
	(void)state;
	expect_parse_fail("{\"ips\": [{\"address\": \"10.1.0.5\"}]}", "ips[0].address");
	expect_parse_fail("{\"ips\": [{\"address\": \"10.1.0.500/24\"}]}", "ips[0].address");
	expect_parse_fail("{\"ips\": [{\"address\": \"10.1.0.5/33\"}]}", "ips[0].address");
	expect_parse_fail("{\"ips\": [{\"address\": \"10.1.0.5/24\", \"gateway\": \"fd00::1\"}]}",
			  "ips[0].gateway");
	expect_parse_fail("{\"ips\": {}}", "\"ips\" is not an array");
	expect_parse_fail("{\"routes\": [{\"gw\": \"10.0.0.1\"}]}", "routes[0].dst");
	expect_parse_fail("{\"routes\": [{\"dst\": \"0.0.0.0/0\", \"gw\": \"nope\"}]}", "routes[0].gw");
	expect_parse_fail("[]", "not a JSON object");
}

static struct psw_attachment attachment(enum psw_cni_iface iface)
{
	struct psw_attachment a;

	memset(&a, 0, sizeof(a));
	strcpy(a.ifname, "net1");
	strcpy(a.mac, "0a:58:0a:01:00:05");
	a.mtu = 1400;
	a.sandbox = "/var/run/netns/pod1";
	a.iface = iface;
	if (iface != PSW_IFACE_TAP) {
		strcpy(a.socket_path, "/run/podswitch/pods/default_web-0/net1.sock");
		a.mode = iface == PSW_IFACE_VHOST_USER ? "server" : "client";
		strcpy(a.pod_dir, "/run/podswitch/pods/default_web-0");
	}
	strcpy(a.port_name, "cni0123456789a");
	return a;
}

static void test_build_each_version(void **state)
{
	struct psw_attachment a = attachment(PSW_IFACE_VHOST_USER);
	struct psw_ipam_result r;
	struct psw_cni_error err;
	json_t *v = J(ipam040), *conf_dns = J("{\"nameservers\": [\"9.9.9.9\"]}");

	(void)state;
	assert_int_equal(psw_ipam_result_parse(v, &r, &err), 0);
	for (int ver = 0; ver < PSW_CNI_V_COUNT; ver++) {
		json_t *res = psw_result_build(ver, &a, &r, conf_dns);
		json_t *ifc = json_array_get(json_object_get(res, "interfaces"), 0);
		json_t *ip0 = json_array_get(json_object_get(res, "ips"), 0);
		json_t *ip1 = json_array_get(json_object_get(res, "ips"), 1);
		json_t *rt0 = json_array_get(json_object_get(res, "routes"), 0);

		assert_string_equal(json_string_value(json_object_get(res, "cniVersion")),
				    psw_cni_version_name(ver));
		assert_int_equal(json_array_size(json_object_get(res, "interfaces")), 1);
		assert_string_equal(json_string_value(json_object_get(ifc, "name")), "net1");
		assert_string_equal(json_string_value(json_object_get(ifc, "mac")), "0a:58:0a:01:00:05");
		/* Multus needs sandbox on every version. */
		assert_string_equal(json_string_value(json_object_get(ifc, "sandbox")), "/var/run/netns/pod1");
		if (ver >= PSW_CNI_V110) {
			assert_int_equal(json_integer_value(json_object_get(ifc, "mtu")), 1400);
			assert_string_equal(json_string_value(json_object_get(ifc, "socketPath")),
					    "/run/podswitch/pods/default_web-0/net1.sock");
		} else {
			assert_null(json_object_get(ifc, "mtu"));
			assert_null(json_object_get(ifc, "socketPath"));
		}
		assert_string_equal(json_string_value(json_object_get(ip0, "address")), "10.1.0.5/24");
		assert_string_equal(json_string_value(json_object_get(ip0, "gateway")), "10.1.0.1");
		assert_int_equal(json_integer_value(json_object_get(ip0, "interface")), 0);
		if (ver < PSW_CNI_V100) {
			assert_string_equal(json_string_value(json_object_get(ip0, "version")), "4");
			assert_string_equal(json_string_value(json_object_get(ip1, "version")), "6");
		} else {
			assert_null(json_object_get(ip0, "version"));
		}
		assert_string_equal(json_string_value(json_object_get(rt0, "dst")), "0.0.0.0/0");
		/* IPAM's dns wins over the config's. */
		assert_string_equal(json_string_value(json_array_get(json_object_get(
			json_object_get(res, "dns"), "nameservers"), 0)), "10.1.0.53");
		json_decref(res);
	}
	psw_ipam_result_free(&r);
	json_decref(v);
	json_decref(conf_dns);
}

static void test_build_routes_and_dns(void **state)
{
	struct psw_attachment a = attachment(PSW_IFACE_TAP);
	struct psw_ipam_result r;
	struct psw_cni_error err;
	json_t *v = J(ipam100), *conf_dns = J("{\"nameservers\": [\"9.9.9.9\"], \"search\": [\"svc\"]}");
	json_t *res, *rt;

	(void)state;
	assert_int_equal(psw_ipam_result_parse(v, &r, &err), 0);
	/* 1.1.0 keeps the route attributes it introduced... */
	res = psw_result_build(PSW_CNI_V110, &a, &r, conf_dns);
	rt = json_array_get(json_object_get(res, "routes"), 0);
	assert_int_equal(json_integer_value(json_object_get(rt, "mtu")), 1400);
	assert_int_equal(json_integer_value(json_object_get(rt, "priority")), 10);
	assert_int_equal(json_integer_value(json_object_get(rt, "table")), 100);
	assert_int_equal(json_integer_value(json_object_get(rt, "advmss")), 1360);
	assert_non_null(json_object_get(rt, "scope"));
	assert_string_equal(json_string_value(json_object_get(rt, "gw")), "10.1.0.1");
	/* a tap has no socketPath even in 1.1.0 */
	assert_null(json_object_get(json_array_get(json_object_get(res, "interfaces"), 0), "socketPath"));
	/* no IPAM dns: the config's */
	assert_string_equal(json_string_value(json_array_get(json_object_get(
		json_object_get(res, "dns"), "search"), 0)), "svc");
	json_decref(res);
	/* ...1.0.0 does not know them. */
	res = psw_result_build(PSW_CNI_V100, &a, &r, NULL);
	rt = json_array_get(json_object_get(res, "routes"), 0);
	assert_int_equal(json_object_size(rt), 2);
	assert_int_equal(json_object_size(json_object_get(res, "dns")), 0);
	json_decref(res);
	/* No IPAM: no ips, no routes, still the interface. */
	res = psw_result_build(PSW_CNI_V110, &a, NULL, NULL);
	assert_int_equal(json_array_size(json_object_get(res, "ips")), 0);
	assert_int_equal(json_array_size(json_object_get(res, "routes")), 0);
	assert_int_equal(json_array_size(json_object_get(res, "interfaces")), 1);
	json_decref(res);
	psw_ipam_result_free(&r);
	json_decref(v);
	json_decref(conf_dns);
}

static void test_error_and_version(void **state)
{
	struct psw_cni_error err;
	json_t *o;

	(void)state;
	psw_cni_err(&err, 7, "network config: \"%s\" is missing", "name");
	o = psw_result_error("0.4.0", &err);
	assert_string_equal(json_string_value(json_object_get(o, "cniVersion")), "0.4.0");
	assert_int_equal(json_integer_value(json_object_get(o, "code")), 7);
	assert_string_equal(json_string_value(json_object_get(o, "msg")), "network config: \"name\" is missing");
	assert_null(json_object_get(o, "details"));
	json_decref(o);
	psw_cni_err_details(&err, "more: %d", 3);
	o = psw_result_error(NULL, &err);
	assert_string_equal(json_string_value(json_object_get(o, "cniVersion")), "1.1.0");
	assert_string_equal(json_string_value(json_object_get(o, "details")), "more: 3");
	json_decref(o);

	o = psw_result_version("0.4.0");
	assert_string_equal(json_string_value(json_object_get(o, "cniVersion")), "0.4.0");
	assert_int_equal(json_array_size(json_object_get(o, "supportedVersions")), 4);
	json_decref(o);
	o = psw_result_version("7.0.0");
	assert_string_equal(json_string_value(json_object_get(o, "cniVersion")), "1.1.0");
	json_decref(o);
	o = psw_result_version(NULL);
	assert_string_equal(json_string_value(json_object_get(o, "cniVersion")), "1.1.0");
	json_decref(o);
}

static void test_prev_result(void **state)
{
	/* A chain's prevResult: the loopback plugin's lo and our eth0, ips pointing at them. */
	json_t *prev = J("{\"cniVersion\": \"1.0.0\", \"interfaces\": ["
			 " {\"name\": \"lo\", \"sandbox\": \"/ns/p\"},"
			 " {\"name\": \"eth0\", \"mac\": \"0a:00:00:00:00:07\", \"sandbox\": \"/ns/p\"},"
			 " {\"name\": \"eth0\", \"sandbox\": \"/ns/other\"}],"
			 " \"ips\": [{\"address\": \"127.0.0.1/8\", \"interface\": 0},"
			 " {\"address\": \"10.0.0.7/24\", \"interface\": 1}, {\"address\": \"fd00::7/64\", \"interface\": 1}]}");
	struct psw_ipam_result r;
	struct psw_cni_error err;
	char mac[18];

	(void)state;
	assert_int_equal(psw_prev_result_parse(prev, "eth0", "/ns/p", &r, mac, &err), 0);
	assert_string_equal(mac, "0a:00:00:00:00:07");
	assert_int_equal(r.n_ips, 2);
	assert_string_equal(r.ips[0].address, "10.0.0.7/24");
	assert_string_equal(r.ips[1].address, "fd00::7/64");
	psw_ipam_result_free(&r);
	assert_int_equal(psw_prev_result_parse(prev, "net1", "/ns/p", &r, mac, &err), -1);
	assert_int_equal(err.code, PSW_CNI_E_CHECK);
	assert_non_null(strstr(err.msg, "no interface net1"));
	json_decref(prev);
}

/* After a plugin that made lo and an address on it: ours is appended, indexes shifted. */
static void test_chain(void **state)
{
	json_t *prev = J("{\"cniVersion\": \"1.0.0\", \"interfaces\": [{\"name\": \"lo\", \"sandbox\": \"/ns/p\"}],"
			 " \"ips\": [{\"address\": \"127.0.0.1/8\", \"interface\": 0}],"
			 " \"routes\": [{\"dst\": \"127.0.0.0/8\"}], \"dns\": {\"nameservers\": [\"1.1.1.1\"]}}");
	json_t *ours = J("{\"cniVersion\": \"1.0.0\", \"interfaces\": [{\"name\": \"eth0\", \"sandbox\": \"/ns/p\"}],"
			 " \"ips\": [{\"address\": \"10.0.0.7/24\", \"interface\": 0}],"
			 " \"routes\": [{\"dst\": \"0.0.0.0/0\"}], \"dns\": {}}");
	json_t *out = psw_result_chain(prev, ours), *ips = json_object_get(out, "ips");

	(void)state;
	assert_int_equal(json_array_size(json_object_get(out, "interfaces")), 2);
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(json_object_get(out, "interfaces"), 1), "name")), "eth0");
	assert_int_equal(json_array_size(ips), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ips, 0), "interface")), 0);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ips, 1), "interface")), 1);
	assert_int_equal(json_array_size(json_object_get(out, "routes")), 2);
	/* our dns is empty: the earlier plugin's stays */
	assert_string_equal(json_string_value(json_array_get(json_object_get(
		json_object_get(out, "dns"), "nameservers"), 0)), "1.1.1.1");
	/* prev is not modified */
	assert_int_equal(json_array_size(json_object_get(prev, "interfaces")), 1);
	json_decref(out);
	json_decref(prev);
	json_decref(ours);
}

static void test_devinfo(void **state)
{
	struct psw_attachment vu = attachment(PSW_IFACE_VHOST_USER);
	struct psw_attachment mi = attachment(PSW_IFACE_MEMIF);
	struct psw_attachment tap = attachment(PSW_IFACE_TAP);
	json_t *d;

	(void)state;
	d = psw_devinfo_build(&vu);
	assert_string_equal(json_string_value(json_object_get(d, "type")), "vhost-user");
	assert_string_equal(json_string_value(json_object_get(d, "version")), "1.1.0");
	/* device-info "mode" is the container's side: it creates the socket = server */
	assert_string_equal(json_string_value(json_object_get(json_object_get(d, "vhost-user"), "mode")), "server");
	assert_string_equal(json_string_value(json_object_get(json_object_get(d, "vhost-user"), "path")),
			    "/run/podswitch/pods/default_web-0/net1.sock");
	json_decref(d);
	d = psw_devinfo_build(&mi);
	assert_string_equal(json_string_value(json_object_get(d, "type")), "memif");
	assert_string_equal(json_string_value(json_object_get(json_object_get(d, "memif"), "role")), "slave");
	assert_string_equal(json_string_value(json_object_get(json_object_get(d, "memif"), "mode")), "ethernet");
	json_decref(d);
	assert_null(psw_devinfo_build(&tap));
	/* abstract memif: the abstract name is the path */
	mi.socket_path[0] = '\0';
	strcpy(mi.abstract_socket, "podswitch/cni0123456789a");
	d = psw_devinfo_build(&mi);
	assert_string_equal(json_string_value(json_object_get(json_object_get(d, "memif"), "path")),
			    "podswitch/cni0123456789a");
	json_decref(d);
}

static void test_files(void **state)
{
	char dir[] = "/tmp/psw-ut-cni-XXXXXX", path[256], cmd[300];
	struct psw_attachment a = attachment(PSW_IFACE_VHOST_USER);
	struct psw_netconf nc;
	struct psw_cni_env env = {0};
	struct psw_ipam_result r;
	struct psw_cni_error err;
	json_t *v = J(ipam040), *m, *d;
	const char *conf = "{\"cniVersion\": \"1.1.0\", \"name\": \"dpdknet\", \"type\": \"podswitch\","
			   " \"network\": \"blue\", \"interface\": \"vhost-user\", \"vhostUser\": {\"queues\": 2}}";

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(psw_netconf_parse(conf, strlen(conf), "ADD", &nc, &err), 0);
	assert_int_equal(psw_ipam_result_parse(v, &r, &err), 0);
	env.container_id = "c0ffee";
	env.ifname = "net1";
	strcpy(env.k8s_namespace, "default");
	strcpy(env.k8s_pod, "web-0");
	/* The metadata file, with directories made as needed. */
	snprintf(a.meta_path, sizeof(a.meta_path), "%s/pods/default_web-0/net1.json", dir);
	assert_int_equal(psw_meta_write(&a, &nc, &env, &r, &err), 0);
	m = json_load_file(a.meta_path, 0, NULL);
	assert_non_null(m);
	assert_string_equal(json_string_value(json_object_get(m, "type")), "vhost-user");
	assert_string_equal(json_string_value(json_object_get(m, "mode")), "server");
	assert_string_equal(json_string_value(json_object_get(m, "socketFile")), "net1.sock");
	assert_string_equal(json_string_value(json_object_get(m, "socketPath")), a.socket_path);
	assert_string_equal(json_string_value(json_object_get(m, "mac")), "0a:58:0a:01:00:05");
	assert_string_equal(json_string_value(json_array_get(json_object_get(m, "ips"), 1)), "fd00::5/64");
	assert_string_equal(json_string_value(json_array_get(json_object_get(m, "gateways"), 0)), "10.1.0.1");
	assert_int_equal(json_array_size(json_object_get(m, "routes")), 2);
	assert_string_equal(json_string_value(json_object_get(m, "network")), "blue");
	assert_string_equal(json_string_value(json_object_get(m, "networkName")), "dpdknet");
	assert_string_equal(json_string_value(json_object_get(m, "containerId")), "c0ffee");
	assert_string_equal(json_string_value(json_object_get(m, "podName")), "web-0");
	assert_int_equal(json_integer_value(json_object_get(m, "queues")), 2);
	json_decref(m);
	/* The device-info file (Multus's path), and no temporary file left. */
	snprintf(path, sizeof(path), "%s/devinfo/cni/x.json", dir);
	assert_int_equal(psw_devinfo_write(path, &a, &err), 0);
	d = json_load_file(path, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(d, "type")), "vhost-user");
	json_decref(d);
	snprintf(cmd, sizeof(cmd), "test -z \"$(find %s -name '*.tmp*')\"", dir);
	assert_int_equal(system(cmd), 0);
	/* A pod that owns its directory (socketOwner) plants links where the plugin (root)
	 * writes: at the temporary name and at the final name. Neither target changes; the
	 * final name becomes the metadata file itself. */
	{
		char victim[300], victim2[300], link_tmp[PSW_CNI_PATH_MAX + 32];
		static char sh[4 * PSW_CNI_PATH_MAX];

		snprintf(victim, sizeof(victim), "%s/victim", dir);
		snprintf(victim2, sizeof(victim2), "%s/victim2", dir);
		snprintf(link_tmp, sizeof(link_tmp), "%s.tmp%d", a.meta_path, (int)getpid());
		snprintf(sh, sizeof(sh), "echo keep >%s && echo keep >%s && ln -sf %s %s && rm -f %s && ln -s %s %s",
			 victim, victim2, victim, link_tmp, a.meta_path, victim2, a.meta_path);
		assert_int_equal(system(sh), 0);
		assert_int_equal(psw_meta_write(&a, &nc, &env, &r, &err), 0);
		snprintf(sh, sizeof(sh), "grep -qx keep %s && grep -qx keep %s && test ! -L %s && test ! -e %s",
			 victim, victim2, a.meta_path, link_tmp);
		assert_int_equal(system(sh), 0);
		m = json_load_file(a.meta_path, 0, NULL);
		assert_string_equal(json_string_value(json_object_get(m, "containerId")), "c0ffee");
		json_decref(m);
	}
	/* Reading a metadata file back: the file itself only; a FIFO (which would block
	 * the plugin, and with it every pod's ADD behind the lock), a link or a huge file
	 * reads as no file. */
	{
		char f[300], big[1024];

		m = psw_json_read_file(a.meta_path);
		assert_non_null(m);
		json_decref(m);
		snprintf(f, sizeof(f), "%s/fifo.json", dir);
		assert_int_equal(mkfifo(f, 0644), 0);
		assert_null(psw_json_read_file(f));
		snprintf(f, sizeof(f), "%s/link.json", dir);
		assert_int_equal(symlink(a.meta_path, f), 0);
		assert_null(psw_json_read_file(f));
		snprintf(f, sizeof(f), "%s/big.json", dir);
		snprintf(big, sizeof(big), "printf '{\"a\": \"%%s\"}' \"$(head -c 70000 /dev/zero | tr '\\0' x)\" >%s", f);
		assert_int_equal(system(big), 0);
		d = json_load_file(f, 0, NULL); /* valid JSON, only too big */
		assert_non_null(d);
		json_decref(d);
		assert_null(psw_json_read_file(f));
		assert_null(psw_json_read_file("/nonexistent/x.json"));
	}
	/* Unwritable target: an I/O error naming the path. */
	assert_int_equal(psw_devinfo_write("/proc/nope/x.json", &a, &err), -1);
	assert_int_equal(err.code, PSW_CNI_E_IO);
	assert_non_null(strstr(err.msg, "/proc/nope"));

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	psw_ipam_result_free(&r);
	psw_netconf_free(&nc);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipam_parse),
		cmocka_unit_test(test_ipam_parse_bad),
		cmocka_unit_test(test_build_each_version),
		cmocka_unit_test(test_build_routes_and_dns),
		cmocka_unit_test(test_error_and_version),
		cmocka_unit_test(test_prev_result),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_devinfo),
		cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
