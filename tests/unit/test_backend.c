/*
 * test_backend.c: the pod-side back ends (vhost/). Real DPDK devices under EAL --no-huge:
 * options become the devargs DPDK needs and bad options are refused naming the key;
 * device names are unique and fit DPDK's limits; a vhost-user server socket appears with
 * the asked mode and disappears on removal; a stale socket from a killed switch is
 * cleared, a live one is not; memif (podswitch's own server, through create()) listens
 * on an abstract name or a socket file, inside the pod's network namespace when asked;
 * a tap netdev comes and goes; a link event reaches the control loop; add/remove cycles
 * leak no file descriptor, no DPDK heap and no malloc heap memory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <net/if.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "port/backend.h"
#include "backends/backend_lib.h"
#include "backends/backends.h"
#include "backends/memif_proto.h"
#include "backends/memif_server.h"
#include "port/port.h"

static char tmp[128];
static char tap1[IFNAMSIZ], tap2[IFNAMSIZ]; /* per-process names: builds may run at once */
static char pod_ns[32];                      /* a pod's network namespace (memif) */
static struct rte_mempool *pool;
static int link_polls;

/* The back ends' only call into the switch (backend.c): count it. */
void
psw_port_poll_links(void)
{
	link_polls++;
}

static int
prep(const char *type, const char *name, const char *options_json, char *devargs,
     struct psw_rpc_error *err)
{
	const struct psw_backend *be = psw_backend_find(type);
	json_t *o = options_json ? json_loads(options_json, 0, NULL) : NULL;
	int rc;

	assert_non_null(be);
	if (options_json != NULL)
		assert_non_null(o);
	memset(err, 0, sizeof(*err));
	rc = be->prepare(name, o, devargs, PSW_DEVARGS_MAX, err);
	json_decref(o);
	return rc;
}

/* What rpc_port.c does for a back end that serves the port itself: create(), then
 * started(). 0, or -1 with err set (and nothing left behind). */
static int
create(const char *type, const char *name, const char *options_json,
       struct psw_rpc_error *err)
{
	const struct psw_backend *be = psw_backend_find(type);
	struct psw_port_conf conf = { .output = PSW_PORT_NONE };
	json_t *o = options_json ? json_loads(options_json, 0, NULL) : NULL;
	const struct psw_port_io *io = NULL;
	int rc;

	assert_non_null(be);
	assert_non_null(be->create);
	assert_null(be->prepare); /* rpc_port.c calls prepare only without create */
	if (options_json != NULL)
		assert_non_null(o);
	memset(err, 0, sizeof(*err));
	snprintf(conf.name, sizeof(conf.name), "%s", name);
	snprintf(conf.type, sizeof(conf.type), "%s", type);
	rc = be->create(name, o, &conf, &io, err);
	if (rc == 0) {
		assert_non_null(io);
		assert_non_null(io->rx_burst);
		assert_non_null(io->tx_burst);
		if (be->started != NULL && be->started(name, UINT16_MAX, o, err) != 0) {
			be->removed(name, o);
			rc = -1;
		}
	}
	json_decref(o);
	return rc;
}

/* port.del for a create() back end: the switch forgets the port, then removed(). */
static void
destroy(const char *type, const char *name, const char *options_json)
{
	const struct psw_backend *be = psw_backend_find(type);
	json_t *o = options_json ? json_loads(options_json, 0, NULL) : NULL;

	be->removed(name, o);
	json_decref(o);
}

static void
expect_bad(const char *type, const char *name, const char *options_json, int code,
	   const char *needle)
{
	char devargs[PSW_DEVARGS_MAX];
	struct psw_rpc_error err;

	if (psw_backend_find(type)->create != NULL) {
		if (create(type, name, options_json, &err) == 0) {
			destroy(type, name, options_json);
			fail_msg("%s %s accepted", type, options_json);
		}
		/* nothing left behind: no listener under that name */
		if (strcmp(type, "memif") == 0)
			assert_null(psw_memif_server_find(name));
	} else if (prep(type, name, options_json, devargs, &err) == 0) {
		fail_msg("%s %s accepted: %s", type, options_json, devargs);
	}
	assert_int_equal(err.code, code);
	if (strstr(err.message, needle) == NULL)
		fail_msg("%s %s: message \"%s\" lacks \"%s\"", type, options_json, err.message,
			 needle);
}

static void
test_find(void **state)
{
	(void)state;
	assert_string_equal(psw_backend_find("vhost-user")->type, "vhost-user");
	assert_string_equal(psw_backend_find("memif")->type, "memif");
	assert_string_equal(psw_backend_find("tap")->type, "tap");
	assert_null(psw_backend_find("dpdk"));
	assert_null(psw_backend_find("vhost"));
	assert_null(psw_backend_find(NULL));
	assert_true(psw_backend_event_fd() >= 0);
}

static void
test_vhost_devargs(void **state)
{
	char devargs[PSW_DEVARGS_MAX], want[512];
	struct psw_rpc_error err;

	(void)state;
	assert_int_equal(prep("vhost-user", "pod1", NULL, devargs, &err), 0);
	snprintf(want, sizeof(want), "net_vhost_pod1,iface=%s/pod1.sock,queues=1,client=1", tmp);
	assert_string_equal(devargs, want);
	assert_int_equal(prep("vhost-user", "pod-2.a", "{\"mode\":\"server\",\"queues\":4,"
			      "\"socket\":\"/tmp/x/y.sock\",\"perm\":\"0660\"}", devargs, &err), 0);
	assert_string_equal(devargs, "net_vhost_pod-2.a,iface=/tmp/x/y.sock,queues=4");
	rmdir("/tmp/x");
	/* CLI spelling: numbers as strings */
	assert_int_equal(prep("vhost-user", "p3", "{\"queues\":\"2\",\"mode\":\"client\"}",
			      devargs, &err), 0);
	assert_non_null(strstr(devargs, ",queues=2,client=1"));

	expect_bad("vhost-user", "p", "{\"sockett\":\"/a\"}", PSW_RPC_INVALID_PARAMS,
		   "options.sockett: unknown option");
	expect_bad("vhost-user", "p", "{\"mode\":\"both\"}", PSW_RPC_INVALID_PARAMS, "options.mode");
	expect_bad("vhost-user", "p", "{\"queues\":0}", PSW_RPC_INVALID_PARAMS, "options.queues");
	expect_bad("vhost-user", "p", "{\"queues\":17}", PSW_RPC_INVALID_PARAMS, "options.queues");
	expect_bad("vhost-user", "p", "{\"queues\":\"many\"}", PSW_RPC_INVALID_PARAMS,
		   "options.queues");
	expect_bad("vhost-user", "p", "{\"socket\":\"rel/path.sock\"}", PSW_RPC_INVALID_PARAMS,
		   "absolute");
	/* devargs injection: a comma would add "client=0" or another device's options */
	expect_bad("vhost-user", "p", "{\"socket\":\"/tmp/a.sock,client=0\"}",
		   PSW_RPC_INVALID_PARAMS, "options.socket");
	expect_bad("vhost-user", "p", "{\"socket\":\"/tmp/../etc/a.sock\"}",
		   PSW_RPC_INVALID_PARAMS, "..");
	expect_bad("vhost-user", "p", "{\"socket\":\"/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\"}",
		   PSW_RPC_INVALID_PARAMS, "longer than a socket address");
	expect_bad("vhost-user", "p", "{\"perm\":\"rw-rw----\"}", PSW_RPC_INVALID_PARAMS,
		   "options.perm");
	expect_bad("vhost-user", "p", "{\"owner\":\"no-such-user-here\"}", PSW_RPC_INVALID_PARAMS,
		   "options.owner");
	expect_bad("vhost-user", "p", "[1]", PSW_RPC_INVALID_PARAMS, "options: expected an object");
	expect_bad("vhost-user", "a,b", NULL, PSW_RPC_INVALID_PARAMS, "name");
}

static void
test_dev_names(void **state)
{
	char a[RTE_DEV_NAME_MAX_LEN], b[RTE_DEV_NAME_MAX_LEN];
	const char *l1 = "a-very-long-port-name-for-a-pod-interface-0123456789-abcdefgh-1";
	const char *l2 = "a-very-long-port-name-for-a-pod-interface-0123456789-abcdefgh-2";

	(void)state;
	assert_int_equal(psw_backend_dev_name("net_vhost", "p1", 63, a, sizeof(a)), 0);
	assert_string_equal(a, "net_vhost_p1");
	assert_int_equal(psw_backend_dev_name("net_vhost", l1, 63, a, sizeof(a)), 0);
	assert_int_equal(psw_backend_dev_name("net_vhost", l2, 63, b, sizeof(b)), 0);
	assert_true(strlen(a) <= 63);
	assert_string_not_equal(a, b);
	assert_int_equal(strncmp(a, "net_vhost_", 10), 0);
	/* tap: "mp_" + name must fit a mempool name (22 characters) */
	assert_int_equal(psw_backend_dev_name("net_tap", "pod-1234567890", 22, a, sizeof(a)), 0);
	assert_string_equal(a, "net_tap_pod-1234567890");
	assert_int_equal(psw_backend_dev_name("net_tap", "pod-12345678901", 22, a, sizeof(a)), 0);
	assert_int_equal(strlen(a), 22);
	assert_int_equal(psw_backend_dev_name("net_tap", "pod-12345678902", 22, b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(psw_backend_dev_name("net_tap", "x/y", 22, a, sizeof(a)), -EINVAL);
	assert_int_equal(psw_backend_dev_name("net_tap", "", 22, a, sizeof(a)), -EINVAL);
}

static struct memif_msg hello; /* the last HELLO memif_hello() received */

/* Connect as a memif client does (from inside netns when given) and wait for the
 * server's HELLO. 0, or -errno when nothing listens there. */
static int
memif_hello(const char *sock, bool abstract, const char *netns)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct memif_msg m;
	socklen_t len;
	ssize_t n = -1;
	int fd, saved, rc;

	if (netns != NULL)
		assert_int_equal(psw_netns_enter(netns, &saved, NULL), 0);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (netns != NULL)
		assert_int_equal(psw_netns_leave(saved), 0);
	assert_true(fd >= 0);
	if (abstract) {
		memcpy(sa.sun_path + 1, sock, strlen(sock));
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sock));
	} else {
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		len = sizeof(sa);
	}
	if (connect(fd, (struct sockaddr *)&sa, len) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	for (int i = 0; i < 200 && n != (ssize_t)sizeof(m); i++) {
		psw_backend_poll_events(); /* the control loop accepts and says HELLO */
		n = recv(fd, &m, sizeof(m), MSG_DONTWAIT);
		if (n != (ssize_t)sizeof(m))
			usleep(5 * 1000);
	}
	close(fd);
	assert_int_equal(n, (ssize_t)sizeof(m));
	assert_int_equal(m.type, MEMIF_MSG_HELLO);
	hello = m;
	return 0;
}

static json_t *
describe(const struct psw_backend *be, const char *name, const char *options_json)
{
	json_t *out = json_object();
	json_t *o = options_json ? json_loads(options_json, 0, NULL) : NULL;

	/* port_json() puts the port's options in the reply before describe() */
	json_object_set_new(out, "options", o ? json_incref(o) : json_object());
	be->describe(name, o, out);
	json_decref(o);
	return out;
}

static void
test_memif_options(void **state)
{
	char sock[256], m2sock[256], m2[512];
	struct psw_rpc_error err;
	struct stat st;
	json_t *out;

	(void)state;
	snprintf(m2sock, sizeof(m2sock), "%s/m2/m2.sock", tmp);
	snprintf(m2, sizeof(m2), "{\"socket\":\"%s\",\"abstract\":\"no\",\"id\":7,"
		 "\"ring_size\":256,\"buffer_size\":4096,\"secret\":\"s3cr3t\",\"perm\":\"0660\","
		 "\"netns\":\"/proc/self/ns/net\"}", m2sock);
	/* defaults: an abstract listener named <socket_dir>/<port>.sock, no file */
	snprintf(sock, sizeof(sock), "%s/m1.sock", tmp);
	if (create("memif", "m1", NULL, &err) != 0)
		fail_msg("memif m1: %s", err.message);
	assert_int_equal(memif_hello(sock, true, NULL), 0);
	assert_int_equal(hello.hello.max_log2_ring_size, 10); /* ring_size 1024 */
	assert_int_equal(access(sock, F_OK), -1);
	out = describe(&psw_backend_memif, "m1", NULL);
	assert_string_equal(json_string_value(json_object_get(out, "socket")), sock);
	assert_true(json_is_true(json_object_get(out, "abstract")));
	assert_int_equal(json_integer_value(json_object_get(out, "id")), 0);
	assert_int_equal(json_integer_value(json_object_get(out, "ring_size")), 1024);
	assert_int_equal(json_integer_value(json_object_get(out, "buffer_size")), 2048);
	assert_true(json_is_false(json_object_get(out, "connected")));
	json_decref(out);
	/* a second port on the same name is refused and names the port that has it */
	snprintf(sock, sizeof(sock), "{\"socket\":\"%s/m1.sock\"}", tmp);
	expect_bad("memif", "m1b", sock, PSW_RPC_EXISTS, "already used by port m1");
	destroy("memif", "m1", NULL);
	snprintf(sock, sizeof(sock), "%s/m1.sock", tmp);
	assert_int_equal(memif_hello(sock, true, NULL), -ECONNREFUSED);
	assert_null(psw_memif_server_find("m1"));

	/* every option (CLI spelling "no" for a boolean); a socket file with its mode */
	if (create("memif", "m2", m2, &err) != 0)
		fail_msg("memif m2: %s", err.message);
	assert_int_equal(stat(m2sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(memif_hello(m2sock, false, NULL), 0);
	assert_int_equal(hello.hello.max_log2_ring_size, 8); /* ring_size 256 */
	assert_int_equal(memif_hello(m2sock, true, NULL), -ECONNREFUSED);
	out = describe(&psw_backend_memif, "m2", m2);
	assert_true(json_is_false(json_object_get(out, "abstract")));
	assert_int_equal(json_integer_value(json_object_get(out, "id")), 7);
	assert_int_equal(json_integer_value(json_object_get(out, "ring_size")), 256);
	assert_int_equal(json_integer_value(json_object_get(out, "buffer_size")), 4096);
	assert_string_equal(json_string_value(json_object_get(out, "netns")), "/proc/self/ns/net");
	/* the secret is not shown */
	assert_string_equal(json_string_value(json_object_get(json_object_get(out, "options"),
							      "secret")), "*");
	char *dump = json_dumps(out, 0);
	assert_null(strstr(dump, "s3cr3t"));
	free(dump);
	json_decref(out);
	destroy("memif", "m2", m2);
	assert_int_equal(access(m2sock, F_OK), -1);
	snprintf(sock, sizeof(sock), "%s/m2", tmp);
	assert_int_equal(rmdir(sock), 0);

	expect_bad("memif", "m", "{\"ring_size\":1000}", PSW_RPC_INVALID_PARAMS,
		   "options.ring_size: 1000 is not a power of two");
	expect_bad("memif", "m", "{\"ring_size\":32768}", PSW_RPC_INVALID_PARAMS, "options.ring_size");
	expect_bad("memif", "m", "{\"buffer_size\":70000}", PSW_RPC_INVALID_PARAMS,
		   "options.buffer_size");
	expect_bad("memif", "m", "{\"id\":-1}", PSW_RPC_INVALID_PARAMS, "options.id");
	expect_bad("memif", "m", "{\"secret\":\"0123456789012345678901234\"}",
		   PSW_RPC_INVALID_PARAMS, "options.secret");
	expect_bad("memif", "m", "{\"secret\":\"a,b\"}", PSW_RPC_INVALID_PARAMS, "options.secret");
	expect_bad("memif", "m", "{\"netns\":\"/var/run/netns/no-such-pod-ns\"}",
		   PSW_RPC_INVALID_PARAMS, "options.netns");
	expect_bad("memif", "m", "{\"netns\":\"pod1\"}", PSW_RPC_INVALID_PARAMS,
		   "options.netns: must be an absolute path");
	expect_bad("memif", "m", "{\"abstract\":1}", PSW_RPC_INVALID_PARAMS, "options.abstract");
	expect_bad("memif", "m", "{\"role\":\"client\"}", PSW_RPC_INVALID_PARAMS,
		   "options.role: unknown option");
	expect_bad("memif", "m", "{\"mode\":\"server\"}", PSW_RPC_INVALID_PARAMS,
		   "options.mode: unknown option");
	/* socket names: the same rules as vhost-user, abstract or not */
	expect_bad("memif", "m", "{\"socket\":\"/tmp/m.sock,role=client\"}",
		   PSW_RPC_INVALID_PARAMS, "options.socket");
	expect_bad("memif", "m", "{\"socket\":\"/tmp/m.sock\\\"x\"}", PSW_RPC_INVALID_PARAMS,
		   "options.socket");
	expect_bad("memif", "m", "{\"socket\":\"/tmp/../etc/m.sock\",\"abstract\":false}",
		   PSW_RPC_INVALID_PARAMS, "..");
	expect_bad("memif", "m", "{\"socket\":\"rel/m.sock\",\"abstract\":false}",
		   PSW_RPC_INVALID_PARAMS, "absolute");
	expect_bad("memif", "m", "{\"socket\":\"/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\"}",
		   PSW_RPC_INVALID_PARAMS, "longer than a socket address");
	expect_bad("memif", "m", "{\"perm\":\"rw-rw----\"}", PSW_RPC_INVALID_PARAMS, "options.perm");
	expect_bad("memif", "m", "[1]", PSW_RPC_INVALID_PARAMS, "options: expected an object");
	expect_bad("memif", "a,b", NULL, PSW_RPC_INVALID_PARAMS, "name");
}

static void
test_tap_devargs(void **state)
{
	char devargs[PSW_DEVARGS_MAX];
	struct psw_rpc_error err;

	(void)state;
	assert_int_equal(prep("tap", "tp1", NULL, devargs, &err), 0);
	assert_string_equal(devargs, "net_tap_tp1,iface=tp1");
	assert_int_equal(prep("tap", "pod-with-a-long-name", "{\"ifname\":\"veth-pod1\"}", devargs,
			      &err), 0);
	assert_int_equal(strncmp(devargs, "net_tap_pod-w", 13), 0);
	assert_non_null(strstr(devargs, ",iface=veth-pod1"));
	expect_bad("tap", "pod-with-a-long-name", NULL, PSW_RPC_INVALID_PARAMS,
		   "options.ifname: required");
	expect_bad("tap", "t", "{\"ifname\":\"lo\"}", PSW_RPC_EXISTS, "lo exists");
	expect_bad("tap", "t", "{\"ifname\":\"a/b\"}", PSW_RPC_INVALID_PARAMS, "options.ifname");
	expect_bad("tap", "t", "{\"ifname\":\"0123456789abcdef\"}", PSW_RPC_INVALID_PARAMS,
		   "options.ifname");
	expect_bad("tap", "t", "{\"mtu\":1500}", PSW_RPC_INVALID_PARAMS, "options.mtu");

	/* A pod's tap (issue 10): persistent, so that it outlives podswitchd in its pod. */
	assert_int_equal(prep("tap", "tpod", "{\"ifname\":\"tpod1\",\"netns\":\"/proc/self/ns/net\","
			      "\"pod_ifname\":\"eth0\",\"ips\":[{\"address\":\"10.1.0.5/24\","
			      "\"gateway\":\"10.1.0.1\"},{\"address\":\"fd00::5/64\"}],"
			      "\"routes\":[{\"dst\":\"0.0.0.0/0\"},{\"dst\":\"10.9.0.0/16\","
			      "\"gw\":\"10.1.0.9\",\"mtu\":1400}]}", devargs, &err), 0);
	assert_string_equal(devargs, "net_tap_tpod,iface=tpod1,persist");
	psw_backend_find("tap")->removed("tpod", NULL);
	expect_bad("tap", "t", "{\"netns\":\"/proc/self/ns/net\"}", PSW_RPC_INVALID_PARAMS,
		   "options.pod_ifname: required");
	expect_bad("tap", "t", "{\"pod_ifname\":\"eth0\"}", PSW_RPC_INVALID_PARAMS,
		   "options.netns: required");
	expect_bad("tap", "t", "{\"netns\":\"/nonexistent/ns\",\"pod_ifname\":\"eth0\"}",
		   PSW_RPC_INVALID_PARAMS, "options.netns");
	expect_bad("tap", "t", "{\"netns\":\"/proc/self/ns/net\",\"pod_ifname\":\"a/b\"}",
		   PSW_RPC_INVALID_PARAMS, "options.pod_ifname");
	expect_bad("tap", "t", "{\"ips\":[]}", PSW_RPC_INVALID_PARAMS, "only with options.netns");
	expect_bad("tap", "t", "{\"netns\":\"/proc/self/ns/net\",\"pod_ifname\":\"eth0\","
		   "\"ips\":[{\"address\":\"10.1.0.300/24\"}]}", PSW_RPC_INVALID_PARAMS,
		   "options.ips[0].address");
	expect_bad("tap", "t", "{\"netns\":\"/proc/self/ns/net\",\"pod_ifname\":\"eth0\","
		   "\"ips\":[{\"address\":\"10.1.0.3/24\",\"gw\":\"10.1.0.1\"}]}",
		   PSW_RPC_INVALID_PARAMS, "options.ips[0].gw: unknown key");
	expect_bad("tap", "t", "{\"netns\":\"/proc/self/ns/net\",\"pod_ifname\":\"eth0\","
		   "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.1.0.1/24\"}]}",
		   PSW_RPC_INVALID_PARAMS, "options.routes[0].gw");
	expect_bad("tap", "t", "{\"netns\":\"/proc/self/ns/net\",\"pod_ifname\":\"eth0\","
		   "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"mtu\":\"big\"}]}",
		   PSW_RPC_INVALID_PARAMS, "options.routes[0].mtu");
	expect_bad("tap", "t", "{\"netns\":\"/proc/self/ns/net\",\"pod_ifname\":\"eth0\","
		   "\"routes\":{}}", PSW_RPC_INVALID_PARAMS, "options.routes: expected an array");
	expect_bad("tap", "t", "{\"netns\":1}", PSW_RPC_INVALID_PARAMS,
		   "options.netns: expected a string");
}

/* A bound unix socket; listening or left as a dead file. Returns the fd or -1. */
static int
make_socket(const char *path, bool keep_listening)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	if (keep_listening)
		return fd;
	close(fd); /* the file stays: what a SIGKILL leaves */
	return -1;
}

static void
test_stale_socket(void **state)
{
	char devargs[PSW_DEVARGS_MAX], sock[256], opts[400];
	struct psw_rpc_error err;
	int fd;

	(void)state;
	snprintf(sock, sizeof(sock), "%s/stale.sock", tmp);
	snprintf(opts, sizeof(opts), "{\"mode\":\"server\",\"socket\":\"%s\"}", sock);
	make_socket(sock, false);
	assert_int_equal(prep("vhost-user", "s1", opts, devargs, &err), 0);
	assert_int_equal(access(sock, F_OK), -1);

	fd = make_socket(sock, true);
	expect_bad("vhost-user", "s1", opts, PSW_RPC_EXISTS, "in use");
	assert_int_equal(access(sock, F_OK), 0); /* someone else's live socket is kept */
	close(fd);
	unlink(sock);

	/* memif, filesystem socket: the dead file is replaced by our listener */
	snprintf(opts, sizeof(opts), "{\"abstract\":false,\"socket\":\"%s\"}", sock);
	make_socket(sock, false);
	assert_int_equal(memif_hello(sock, false, NULL), -ECONNREFUSED);
	if (create("memif", "s2", opts, &err) != 0)
		fail_msg("memif s2: %s", err.message);
	assert_int_equal(memif_hello(sock, false, NULL), 0);
	destroy("memif", "s2", opts);
	assert_int_equal(access(sock, F_OK), -1);

	fd = make_socket(sock, true);
	expect_bad("memif", "s2", opts, PSW_RPC_EXISTS, "in use");
	assert_int_equal(access(sock, F_OK), 0);
	close(fd);
	unlink(sock);

	/* a regular file is not ours to remove */
	close(open(sock, O_CREAT | O_WRONLY, 0600));
	expect_bad("memif", "s2", opts, PSW_RPC_FAILED, "not a socket");
	unlink(sock);
}

/* The lifecycle port.c and rpc_port.c run: prepare, probe, configure, start, started;
 * then stop, close, remove, removed. */
static uint16_t
bring_up(const char *type, const char *name, const char *options_json)
{
	const struct psw_backend *be = psw_backend_find(type);
	char devargs[PSW_DEVARGS_MAX], dev[RTE_DEV_NAME_MAX_LEN];
	struct rte_eth_conf conf = { 0 };
	struct psw_rpc_error err;
	json_t *o = options_json ? json_loads(options_json, 0, NULL) : NULL;
	uint16_t port;

	if (be->prepare(name, o, devargs, sizeof(devargs), &err) != 0)
		fail_msg("prepare %s: %s", name, err.message);
	assert_int_equal(rte_dev_probe(devargs), 0);
	snprintf(dev, sizeof(dev), "%.*s", (int)strcspn(devargs, ","), devargs);
	assert_int_equal(rte_eth_dev_get_port_by_name(dev, &port), 0);
	assert_int_equal(rte_eth_dev_configure(port, 1, 1, &conf), 0);
	assert_int_equal(rte_eth_rx_queue_setup(port, 0, 256, SOCKET_ID_ANY, NULL, pool), 0);
	assert_int_equal(rte_eth_tx_queue_setup(port, 0, 256, SOCKET_ID_ANY, NULL), 0);
	assert_int_equal(rte_eth_dev_start(port), 0);
	if (be->started != NULL && be->started(name, port, o, &err) != 0)
		fail_msg("started %s: %s", name, err.message);
	json_decref(o);
	return port;
}

static void
take_down(const char *type, const char *name, const char *options_json, uint16_t port)
{
	const struct psw_backend *be = psw_backend_find(type);
	json_t *o = options_json ? json_loads(options_json, 0, NULL) : NULL;
	struct rte_eth_dev_info info;
	struct rte_device *dev;

	assert_int_equal(rte_eth_dev_info_get(port, &info), 0);
	dev = info.device;
	assert_int_equal(rte_eth_dev_stop(port), 0);
	assert_int_equal(rte_eth_dev_close(port), 0);
	assert_int_equal(rte_dev_remove(dev), 0);
	if (be->removed != NULL)
		be->removed(name, o);
	json_decref(o);
}

static void
test_vhost_server_socket(void **state)
{
	char sock[256], opts[400];
	struct stat st;
	uint16_t port;
	json_t *out = json_object(), *o;

	(void)state;
	snprintf(sock, sizeof(sock), "%s/vs/vs1.sock", tmp);
	snprintf(opts, sizeof(opts),
		 "{\"mode\":\"server\",\"socket\":\"%s\",\"perm\":\"0660\",\"group\":\"0\"}", sock);
	port = bring_up("vhost-user", "vs1", opts);
	assert_int_equal(stat(sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	o = json_loads(opts, 0, NULL);
	psw_backend_vhost_user.describe("vs1", o, out);
	assert_string_equal(json_string_value(json_object_get(out, "socket")), sock);
	assert_string_equal(json_string_value(json_object_get(out, "mode")), "server");
	json_decref(o);
	json_decref(out);
	/* a second port on the same socket is refused before DPDK sees it */
	expect_bad("vhost-user", "vs2", opts, PSW_RPC_EXISTS, "already used by device net_vhost_vs1");
	struct rte_eth_link link;
	assert_int_equal(rte_eth_link_get_nowait(port, &link), 0);
	assert_int_equal(link.link_status, RTE_ETH_LINK_DOWN); /* no pod yet */
	take_down("vhost-user", "vs1", opts, port);
	assert_int_equal(access(sock, F_OK), -1);
	snprintf(sock, sizeof(sock), "%s/vs", tmp);
	assert_int_equal(rmdir(sock), 0);
}

static void
test_vhost_client_no_peer(void **state)
{
	char sock[256], opts[400];
	uint16_t port;

	(void)state;
	/* The pod is not there yet: the port still comes up (link down) and the vhost
	 * library keeps retrying; the pod's socket path is never created by us. */
	snprintf(sock, sizeof(sock), "%s/pods/vc1.sock", tmp);
	snprintf(opts, sizeof(opts), "{\"socket\":\"%s\"}", sock);
	port = bring_up("vhost-user", "vc1", opts);
	assert_int_equal(access(sock, F_OK), -1);
	take_down("vhost-user", "vc1", opts, port);
	snprintf(sock, sizeof(sock), "%s/pods", tmp);
	assert_int_equal(rmdir(sock), 0);
}

static void
test_memif_in_netns(void **state)
{
	char sock[256], opts[400], ns[64], other[400];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct psw_rpc_error err;
	int fd;

	(void)state;
	/* A pod's namespace: the abstract listener is there, not in ours. */
	snprintf(ns, sizeof(ns), "/var/run/netns/%s", pod_ns);
	snprintf(sock, sizeof(sock), "ip netns add %s", pod_ns);
	assert_int_equal(system(sock), 0);
	snprintf(sock, sizeof(sock), "%s/mm1.sock", tmp);
	snprintf(opts, sizeof(opts), "{\"socket\":\"%s\",\"netns\":\"%s\"}", sock, ns);
	if (create("memif", "mm1", opts, &err) != 0)
		fail_msg("memif mm1: %s", err.message);
	assert_int_equal(memif_hello(sock, true, ns), 0);
	assert_int_equal(memif_hello(sock, true, NULL), -ECONNREFUSED);
	/* the name is still refused to a second port, even in another namespace */
	snprintf(other, sizeof(other), "{\"socket\":\"%s\"}", sock);
	expect_bad("memif", "mm2", other, PSW_RPC_EXISTS, "already used by port mm1");
	destroy("memif", "mm1", opts);
	assert_int_equal(memif_hello(sock, true, ns), -ECONNREFUSED);

	/* Someone else holds the name in our namespace: the pod's is another one... */
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	memcpy(sa.sun_path + 1, sock, strlen(sock));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sock))), 0);
	if (create("memif", "mm1", opts, &err) != 0)
		fail_msg("memif mm1 in %s: %s", ns, err.message);
	assert_int_equal(memif_hello(sock, true, ns), 0);
	destroy("memif", "mm1", opts);
	/* ...but in ours it is a clear error, and nothing is left. */
	expect_bad("memif", "mm1", other, PSW_RPC_FAILED, "Address already in use");
	close(fd);
	snprintf(sock, sizeof(sock), "ip netns del %s", pod_ns);
	assert_int_equal(system(sock), 0);
}

static void
test_tap_netdev(void **state)
{
	uint16_t port;
	struct rte_ether_addr mac = { { 0x02, 0, 0, 0, 0x42, 0x01 } }, got;
	uint16_t mtu;
	char opts[64];

	(void)state;
	snprintf(opts, sizeof(opts), "{\"ifname\":\"%s\"}", tap1);
	port = bring_up("tap", "ptap1", opts);
	assert_true(if_nametoindex(tap1) != 0);
	assert_int_equal(rte_eth_dev_default_mac_addr_set(port, &mac), 0);
	assert_int_equal(rte_eth_macaddr_get(port, &got), 0);
	assert_true(rte_is_same_ether_addr(&mac, &got));
	assert_int_equal(rte_eth_dev_set_mtu(port, 1400), 0);
	assert_int_equal(rte_eth_dev_get_mtu(port, &mtu), 0);
	assert_int_equal(mtu, 1400);
	expect_bad("tap", "ptap2", opts, PSW_RPC_EXISTS, tap1);
	/* link: ethdev knows while the netdev is here; moved into a pod, tap says up */
	assert_int_equal(psw_backend_tap.link(port), -1);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "ip netns add psut%d && ip link set %s netns psut%d",
		 (int)getpid(), tap1, (int)getpid());
	assert_int_equal(system(cmd), 0);
	assert_int_equal(psw_backend_tap.link(port), 1);
	take_down("tap", "ptap1", opts, port);
	/* closing the port deleted the netdev inside the other namespace */
	snprintf(cmd, sizeof(cmd), "ip -n psut%d link show %s 2>/dev/null", (int)getpid(), tap1);
	assert_int_not_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "ip netns del psut%d", (int)getpid());
	assert_int_equal(system(cmd), 0);
}

/* What a driver calls from its own thread when the link changes (ethdev_driver.h, which
 * Debian does not install; both are exported for drivers). */
struct rte_eth_dev *rte_eth_dev_allocated(const char *name);
int rte_eth_dev_callback_process(struct rte_eth_dev *dev, enum rte_eth_event_type event,
				 void *ret_param);

static void *
driver_thread(void *dev)
{
	rte_eth_dev_callback_process(dev, RTE_ETH_EVENT_INTR_LSC, NULL);
	rte_eth_dev_callback_process(dev, RTE_ETH_EVENT_INTR_LSC, NULL);
	return NULL;
}

static void
test_link_event_reaches_control_loop(void **state)
{
	struct rte_eth_dev *dev;
	pthread_t t;
	uint16_t port;

	(void)state;
	port = bring_up("vhost-user", "ev1", "{\"mode\":\"server\"}");
	dev = rte_eth_dev_allocated("net_vhost_ev1");
	assert_non_null(dev);
	psw_backend_poll_events(); /* drain what start may have raised */
	link_polls = 0;
	psw_backend_poll_events();
	assert_int_equal(link_polls, 0); /* nothing pending: no refresh */
	/* net_vhost's events thread does this when a pod connects or leaves. */
	assert_int_equal(pthread_create(&t, NULL, driver_thread, dev), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	psw_backend_poll_events();
	assert_int_equal(link_polls, 1); /* two events, one refresh */
	psw_backend_poll_events();
	assert_int_equal(link_polls, 1);
	take_down("vhost-user", "ev1", "{\"mode\":\"server\"}", port);
}

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static size_t
heap_allocated(void)
{
	struct rte_malloc_socket_stats st;
	size_t total = 0;

	for (int s = 0; s < RTE_MAX_NUMA_NODES; s++)
		if (rte_malloc_get_socket_stats(s, &st) == 0)
			total += st.heap_allocsz_bytes;
	return total;
}

/* malloc'd bytes in use (main arena and mmapped chunks: the control thread's). */
static size_t
malloc_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static void
cycle(const char *type, const char *name, const char *opts)
{
	struct psw_rpc_error err;
	uint16_t p;

	if (psw_backend_find(type)->create != NULL) {
		if (create(type, name, opts, &err) != 0)
			fail_msg("%s %s: %s", type, name, err.message);
		destroy(type, name, opts);
		return;
	}
	p = bring_up(type, name, opts);
	take_down(type, name, opts, p);
}

static void
check_no_leak(const char *type, const char *name, const char *opts)
{
	int fds;
	size_t heap, mheap;

	cycle(type, name, opts); /* first use may allocate lasting things (vhost fdset...) */
	/* DPDK's interrupt thread closes its epoll fd and makes a new one whenever its
	 * sources change: a sample can be one short. Take the most of a few. */
	fds = 0;
	for (int i = 0; i < 10; i++, usleep(5 * 1000))
		fds = RTE_MAX(fds, count_fds());
	/* malloc's per-thread caches keep some freed chunks counted as in use; they settle
	 * within a few cycles. A leak grows with every cycle. */
	for (int i = 0; i < 5; i++)
		cycle(type, name, opts);
	heap = heap_allocated();
	mheap = malloc_in_use();
	for (int i = 0; i < 50; i++)
		cycle(type, name, opts);
	for (int i = 0; i < 40 && count_fds() > fds; i++)
		usleep(25 * 1000);
	if (count_fds() > fds || heap_allocated() != heap || malloc_in_use() > mheap)
		fail_msg("%s %s: after 50 add/remove cycles: fds %d -> %d, DPDK heap %zu -> %zu, "
			 "malloc heap %zu -> %zu", type, opts ? opts : "", fds, count_fds(), heap,
			 heap_allocated(), mheap, malloc_in_use());
}

static void
test_no_leak_over_cycles(void **state)
{
	char opts[64], nsopts[128], cmd[128];

	(void)state;
	snprintf(opts, sizeof(opts), "{\"ifname\":\"%s\"}", tap2);
	check_no_leak("vhost-user", "lv1", "{\"mode\":\"server\"}");
	check_no_leak("vhost-user", "lv2", NULL);
	snprintf(nsopts, sizeof(nsopts), "{\"netns\":\"/var/run/netns/%s\"}", pod_ns);
	snprintf(cmd, sizeof(cmd), "ip netns add %s", pod_ns);
	assert_int_equal(system(cmd), 0);
	check_no_leak("memif", "lm1", nsopts);
	snprintf(cmd, sizeof(cmd), "ip netns del %s", pod_ns);
	assert_int_equal(system(cmd), 0);
	check_no_leak("memif", "lm2", "{\"abstract\":false}");
	check_no_leak("tap", "lt1", opts);
}

int
main(int argc, char **argv)
{
	char prefix[64];
	char *eal[] = { argv[0], "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
			"--log-level", "error", "-l", "0", "--file-prefix", prefix,
			"--no-telemetry" };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_vhost_devargs),
		cmocka_unit_test(test_dev_names),
		cmocka_unit_test(test_memif_options),
		cmocka_unit_test(test_tap_devargs),
		cmocka_unit_test(test_stale_socket),
		cmocka_unit_test(test_vhost_server_socket),
		cmocka_unit_test(test_vhost_client_no_peer),
		cmocka_unit_test(test_memif_in_netns),
		cmocka_unit_test(test_tap_netdev),
		cmocka_unit_test(test_link_event_reaches_control_loop),
		cmocka_unit_test(test_no_leak_over_cycles),
	};
	int rc;

	(void)argc;
	snprintf(prefix, sizeof(prefix), "psw-ut-backend%d", (int)getpid());
	snprintf(tap1, sizeof(tap1), "psut%da", (int)getpid() % 1000000);
	snprintf(tap2, sizeof(tap2), "psut%db", (int)getpid() % 1000000);
	snprintf(pod_ns, sizeof(pod_ns), "psutm%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("ut_backend", 4096, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL)
		return 1;
	snprintf(tmp, sizeof(tmp), "/tmp/psw-ut-backend.%d", (int)getpid());
	mkdir(tmp, 0700);
	assert_int_equal(psw_backends_init(tmp), 0);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	/* a failed assertion may have left test_tap_netdev's or a memif test's namespace */
	snprintf(tmp, sizeof(tmp), "ip netns del psut%d 2>/dev/null", (int)getpid());
	int none_left = system(tmp); /* nonzero: no such namespace, the usual case */
	snprintf(tmp, sizeof(tmp), "ip netns del %s 2>/dev/null", pod_ns);
	none_left = system(tmp);
	/* and sockets or directories in the test's directory */
	snprintf(tmp, sizeof(tmp), "rm -rf /tmp/psw-ut-backend.%d", (int)getpid());
	if (rc != 0)
		none_left = system(tmp);
	snprintf(tmp, sizeof(tmp), "/tmp/psw-ut-backend.%d", (int)getpid());
	psw_backend_fini();
	rmdir(tmp);
	(void)none_left;
	rte_mempool_free(pool);
	rte_eal_cleanup();
	snprintf(tmp, sizeof(tmp), "/var/run/dpdk/%s", prefix);
	rmdir(tmp); /* EAL leaves its (empty, with --no-shconf) runtime directory */
	return rc;
}
