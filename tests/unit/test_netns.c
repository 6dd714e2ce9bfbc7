/*
 * test_netns.c: the kernel side of a tap attachment (cni/netns.c) against real kernel
 * objects: a network namespace and veth pairs this test makes (with `ip`, test set-up
 * only; the code under test uses netlink). The host end of a veth stands in for
 * podswitchd's tap: moved and renamed into the pod, MAC, MTU, IPv4 and IPv6 addresses
 * and routes set, read back by CHECK; name clashes, missing namespaces and missing links
 * fail with their CNI codes; ADD's look for an existing interface. Needs root; skipped
 * otherwise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "cni.h"

static char ns[32], ns_path[64], host_a[16], peer_a[16], host_c[16], peer_c[16];

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int setup(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;
	snprintf(ns, sizeof(ns), "psw-ut-ns%d", (int)getpid());
	snprintf(ns_path, sizeof(ns_path), "/var/run/netns/%s", ns);
	snprintf(host_a, sizeof(host_a), "pswut%da", (int)getpid() % 100000);
	snprintf(peer_a, sizeof(peer_a), "pswut%db", (int)getpid() % 100000);
	snprintf(host_c, sizeof(host_c), "pswut%dc", (int)getpid() % 100000);
	snprintf(peer_c, sizeof(peer_c), "pswut%dd", (int)getpid() % 100000);
	if (sh("ip netns add %s", ns) || sh("ip link add %s type veth peer name %s", host_a, peer_a) ||
	    sh("ip link add %s type veth peer name %s", host_c, peer_c))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;
	sh("ip netns del %s 2>/dev/null", ns);
	sh("ip link del %s 2>/dev/null", host_a);
	sh("ip link del %s 2>/dev/null", host_c);
	return 0;
}

static struct psw_ipam_result ipam(void)
{
	struct psw_ipam_result r;
	struct psw_cni_error err;
	json_t *v = json_loads(
		"{\"ips\": [{\"address\": \"10.55.0.2/24\", \"gateway\": \"10.55.0.1\"},"
		" {\"address\": \"fd55::2/64\", \"gateway\": \"fd55::1\"}],"
		" \"routes\": [{\"dst\": \"0.0.0.0/0\"}, {\"dst\": \"10.66.0.0/16\", \"gw\": \"10.55.0.254\"},"
		" {\"dst\": \"10.55.0.0/24\"}, {\"dst\": \"10.77.0.0/16\", \"priority\": 50, \"mtu\": 1300},"
		" {\"dst\": \"::/0\"}]}", 0, NULL);

	assert_int_equal(psw_ipam_result_parse(v, &r, &err), 0);
	json_decref(v);
	return r;
}

static void test_setup_and_check(void **state)
{
	static const unsigned char mac[6] = {0x0a, 0x58, 0x0a, 0x37, 0x00, 0x02};
	struct psw_ipam_result r = ipam();
	struct psw_link_conf lc = {
		.host_name = host_a, .netns = ns_path, .ifname = "eth0", .mac = mac, .mtu = 1400,
		.ipam = &r,
	};
	struct psw_cni_error err;
	char mac_out[18];

	(void)state;
	if (geteuid() != 0)
		skip();
	if (psw_netns_setup(&lc, mac_out, &err))
		fail_msg("setup: %d %s", err.code, err.msg);
	assert_string_equal(mac_out, "0a:58:0a:37:00:02");
	assert_int_equal(if_nametoindex(host_a), 0); /* gone from the host */
	assert_int_equal(sh("ip -n %s -o link show eth0 | grep -q 'mtu 1400'", ns), 0);
	assert_int_equal(sh("ip -n %s -o link show eth0 | grep -q ',UP'", ns), 0);
	assert_int_equal(sh("ip -n %s -4 addr show eth0 | grep -q 'inet 10.55.0.2/24'", ns), 0);
	assert_int_equal(sh("ip -n %s -6 addr show eth0 | grep -q 'inet6 fd55::2/64'", ns), 0);
	/* A route without gw goes via the gateway of its family's address. */
	assert_int_equal(sh("ip -n %s route show default | grep -q 'via 10.55.0.1 dev eth0'", ns), 0);
	assert_int_equal(sh("ip -n %s route show 10.66.0.0/16 | grep -q 'via 10.55.0.254'", ns), 0);
	assert_int_equal(sh("ip -n %s route show 10.77.0.0/16 | grep -q 'metric 50.*mtu 1300'", ns), 0);
	assert_int_equal(sh("ip -n %s -6 route show default | grep -q 'via fd55::1 dev eth0'", ns), 0);

	/* CHECK reads it all back. */
	assert_int_equal(psw_netns_check(ns_path, "eth0", "0a:58:0a:37:00:02", &r, &err), 0);
	assert_int_equal(psw_netns_check(ns_path, "eth0", "", &r, &err), 0);
	assert_int_equal(psw_netns_check(ns_path, "eth0", "0a:58:0a:37:00:03", &r, &err), -1);
	assert_int_equal(err.code, PSW_CNI_E_CHECK);
	assert_non_null(strstr(err.msg, "MAC"));
	strcpy(r.ips[1].address, "fd55::3/64");
	assert_int_equal(psw_netns_check(ns_path, "eth0", NULL, &r, &err), -1);
	assert_int_equal(err.code, PSW_CNI_E_CHECK);
	assert_non_null(strstr(err.msg, "lacks address fd55::3/64"));
	strcpy(r.ips[1].address, "fd55::2/96"); /* same address, other prefix */
	assert_int_equal(psw_netns_check(ns_path, "eth0", NULL, &r, &err), -1);
	strcpy(r.ips[1].address, "fd55::2/64");
	assert_int_equal(psw_netns_check(ns_path, "net9", NULL, &r, &err), -1);
	assert_non_null(strstr(err.msg, "net9 is missing"));
	assert_int_equal(sh("ip -n %s link set eth0 down", ns), 0);
	assert_int_equal(psw_netns_check(ns_path, "eth0", NULL, &r, &err), -1);
	assert_non_null(strstr(err.msg, "is down"));
	assert_int_equal(sh("ip -n %s link set eth0 up", ns), 0);
	psw_ipam_result_free(&r);
}

static void test_clash_and_missing(void **state)
{
	struct psw_ipam_result r = ipam();
	struct psw_link_conf lc = {
		.host_name = host_c, .netns = ns_path, .ifname = "eth0", .ipam = &r,
	};
	struct psw_cni_error err;
	char mac_out[18];

	(void)state;
	if (geteuid() != 0)
		skip();
	/* eth0 is taken in the pod (by the previous test): refused, link stays home. */
	assert_int_equal(psw_netns_setup(&lc, mac_out, &err), -1);
	assert_int_equal(err.code, PSW_CNI_E_NETNS);
	assert_non_null(strstr(err.msg, "eth0 already exists"));
	assert_int_not_equal(if_nametoindex(host_c), 0);
	/* No such namespace. */
	lc.netns = "/var/run/netns/psw-ut-none";
	assert_int_equal(psw_netns_setup(&lc, mac_out, &err), -1);
	assert_int_equal(err.code, PSW_CNI_E_NO_CONTAINER);
	/* No such host link (podswitchd made none). */
	lc.netns = ns_path;
	lc.host_name = "pswnolink";
	lc.ifname = "net1";
	assert_int_equal(psw_netns_setup(&lc, mac_out, &err), -1);
	assert_int_equal(err.code, PSW_CNI_E_SWITCH);
	/* Not a namespace. */
	assert_int_equal(psw_netns_exists("/tmp", &err), -1);
	assert_int_equal(err.code, PSW_CNI_E_NO_CONTAINER);
	assert_int_equal(psw_netns_exists("/var/run/netns/psw-ut-none", &err), 0);
	assert_int_equal(psw_netns_exists(ns_path, &err), 1);
	assert_int_equal(psw_netns_exists("/proc/self/ns/net", &err), 1);
	assert_int_equal(psw_netns_check("/tmp", "eth0", NULL, &r, &err), -1);
	assert_int_equal(err.code, PSW_CNI_E_NO_CONTAINER);
	/* ADD's duplicate check: the pod's eth0 is there, net1 is not; looking leaves us
	 * in our own namespace. */
	assert_int_equal(psw_netns_link_exists(ns_path, "eth0", &err), 1);
	assert_int_equal(psw_netns_link_exists(ns_path, "net1", &err), 0);
	assert_int_equal(psw_netns_link_exists("/var/run/netns/psw-ut-none", "eth0", &err), -1);
	assert_int_equal(err.code, PSW_CNI_E_NO_CONTAINER);
	assert_int_not_equal(if_nametoindex(host_c), 0);
	psw_ipam_result_free(&r);
}

static void test_del_link(void **state)
{
	struct psw_cni_error err;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(psw_netns_del_link(ns_path, "eth0", &err), 0);
	assert_int_not_equal(sh("ip -n %s link show eth0 >/dev/null 2>&1", ns), 0);
	assert_int_equal(psw_netns_del_link(ns_path, "eth0", &err), 0);      /* gone: fine */
	assert_int_equal(psw_netns_del_link("/var/run/netns/psw-ut-none", "eth0", &err), 0);
	assert_int_equal(psw_netns_del_link(NULL, "eth0", &err), 0);
	/* We are back in our own namespace. */
	assert_int_not_equal(if_nametoindex(host_c), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_setup_and_check),
		cmocka_unit_test(test_clash_and_missing),
		cmocka_unit_test(test_del_link),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
