/*
 * fuzz_rpc.c: JSON-RPC requests through the real control server and dispatcher
 * (switch/control/control.c on a Unix socket, ctl/protocol.c framing) into the real
 * method tables: port, switch (stats, pmd.stats, pmd.rxq, flow.stats, trace), flow,
 * network and fdb, state. The input is written to a client connection as it is (lines
 * of anything), followed by a request of our own; every reply line must be a JSON-RPC
 * 2.0 object, and the server must answer ours (it did not stall, it did not lose the
 * connection unless it said why). Tables fill up and empty as the inputs go.
 *
 * Safety: the fuzzer runs as root, and port.add probes any DPDK device its devargs name
 * (net_pcap writes files, net_tap makes interfaces...). Here port.add takes only
 * net_null devices; no pod back end is registered (their types are refused as unknown).
 * Everything else is the real handler. The socket lives in a private temp directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "control/control.h"
#include "control/rpc_switch.h"
#include "control/startup.h"
#include "control/state.h"
#include "core/rcu.h"
#include "datapath/pmd.h"
#include "flow/flow_table.h"
#include "flow/rpc_flow.h"
#include "l2/l2.h"
#include "l2/rpc_network.h"
#include "port/port.h"
#include "port/rpc_port.h"
#include "fuzz_common.h"

static struct psw_control *ctl;
static char dir[256], path[300];
static int cfd = -1;
static unsigned runs;
static char *buf;
static size_t buf_len, buf_cap;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* port.add, for net_null devices only (see the file comment). */
static json_t *
safe_port_add(json_t *params, struct psw_rpc_error *err)
{
	json_t *type = json_object_get(params, "type");
	const char *devargs = json_string_value(json_object_get(params, "devargs"));

	if ((type != NULL && (!json_is_string(type) ||
			      strcmp(json_string_value(type), "dpdk") != 0)) ||
	    (devargs != NULL && strncmp(devargs, "net_null", 8) != 0))
		return psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "fuzz: only net_null ports");
	return psw_rpc_port_add(params, err);
}

static struct psw_rpc_method port_methods[8];

static void
safe_port_table(void)
{
	unsigned n = 0;

	for (const struct psw_rpc_method *m = psw_rpc_port_methods; m->name && n < 7; m++, n++) {
		port_methods[n] = *m;
		if (strcmp(m->name, "port.add") == 0)
			port_methods[n].handler = safe_port_add;
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned lcore = 0;
	char err[256];

	(void)argc;
	(void)argv;
	psw_fuzz_eal("rpc");
	if (psw_rcu_init(1) || psw_pmd_init(&lcore, 1, 0) || psw_port_init(1, 4095, 0) ||
	    psw_startup_tables(256, 300, 64, err, sizeof(err)) != 0)
		abort();
	psw_fuzz_tmpdir(dir, sizeof(dir), "rpc");
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	ctl = psw_control_open(path, 0600, err, sizeof(err));
	if (ctl == NULL) {
		fprintf(stderr, "fuzz_rpc: %s\n", err);
		abort();
	}
	safe_port_table();
	if (psw_control_register(ctl, port_methods) || psw_control_register(ctl, psw_rpc_switch_methods) ||
	    psw_control_register(ctl, psw_rpc_flow_methods) ||
	    psw_control_register(ctl, psw_rpc_network_methods) ||
	    psw_control_register(ctl, psw_rpc_state_methods))
		abort();
	psw_rpc_switch_set_control(ctl);
	return 0;
}

static void
client_open(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (cfd >= 0)
		close(cfd);
	cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		abort();
	psw_control_poll(ctl, 0);
	buf_len = 0;
}

/* Write everything, serving the switch while its buffers are full. */
static bool
client_write(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(cfd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno != EAGAIN)
			return false;
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		}
		psw_control_poll(ctl, 0);
	}
	return true;
}

static bool
is_response(json_t *r)
{
	return json_is_object(r) &&
	       strcmp(json_string_value(json_object_get(r, "jsonrpc")) ?: "", "2.0") == 0 &&
	       (json_object_get(r, "result") == NULL) != (json_object_get(r, "error") == NULL);
}

/* A response, or a batch's non-empty array of them. */
static bool
is_reply(json_t *r)
{
	size_t i;
	json_t *e;

	if (!json_is_array(r))
		return is_response(r);
	if (json_array_size(r) == 0)
		return false;
	json_array_foreach(r, i, e)
		if (!is_response(e))
			return false;
	return true;
}

/* Every complete reply line must be a JSON-RPC 2.0 reply. Returns true when ours
 * ("id": "fuzz-end") is among them. */
static bool
check_lines(void)
{
	bool end = false;
	size_t off = 0;
	char *nl;

	while ((nl = memchr(buf + off, '\n', buf_len - off)) != NULL) {
		json_error_t je;
		json_t *r = json_loadb(buf + off, (size_t)(nl - (buf + off)), 0, &je);
		json_t *id;

		if (r == NULL || !is_reply(r)) {
			fprintf(stderr, "fuzz_rpc: bad reply line: %.*s\n", (int)(nl - (buf + off)),
				buf + off);
			abort();
		}
		id = json_object_get(r, "id");
		end |= json_is_string(id) && strcmp(json_string_value(id), "fuzz-end") == 0;
		json_decref(r);
		off = (size_t)(nl - buf) + 1;
	}
	memmove(buf, buf + off, buf_len - off);
	buf_len -= off;
	return end;
}

/* Read replies until ours came; false if the server closed the connection. */
static bool
client_read(void)
{
	for (unsigned spins = 0; spins < 100000; spins++) {
		ssize_t r;

		psw_control_poll(ctl, 0);
		if (buf_cap - buf_len < 65536) {
			buf_cap = buf_cap ? buf_cap * 2 : 1 << 20;
			buf = realloc(buf, buf_cap);
			if (buf == NULL)
				abort();
		}
		r = recv(cfd, buf + buf_len, buf_cap - buf_len, 0);
		if (r == 0)
			return false;
		if (r < 0) {
			if (errno != EAGAIN)
				return false;
			continue;
		}
		buf_len += (size_t)r;
		if (check_lines())
			return true;
	}
	fprintf(stderr, "fuzz_rpc: no answer to our request: the server stalled\n");
	abort();
}

/* Now and then, empty the tables so they do not just stay full. */
static void
reset_tables(void)
{
	struct psw_rpc_error err;
	char name[PSW_NAME_MAX];

	for (unsigned i = 0; i < PSW_MAX_PORTS; i++) {
		if (!psw_ports[i].used)
			continue;
		snprintf(name, sizeof(name), "%s", psw_ports[i].name);
		json_t *p = json_pack("{s:s}", "name", name), *r = psw_rpc_port_del(p, &err);

		json_decref(p);
		json_decref(r);
	}
	psw_flow_table_clear();
	for (uint16_t n = psw_l2_network_next(0); n != 0; n = psw_l2_network_next(0)) {
		char e[128];
		const char *nm = psw_l2_network_name(n);

		snprintf(name, sizeof(name), "%s", nm ? nm : "");
		if (psw_l2_network_del(name, e, sizeof(e)) != 0)
			break;
	}
	psw_rcu_reclaim();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char end[] = "\n{\"jsonrpc\":\"2.0\",\"id\":\"fuzz-end\",\"method\":\"switch.info\"}\n";
	bool ok;

	if (cfd < 0)
		client_open();
	ok = client_write((const char *)data, size) && client_write(end, sizeof(end) - 1) &&
	     client_read();
	if (!ok) {
		/* The server may close a connection (a line over 1 MiB, a write error); then
		 * a new one must be served. */
		client_open();
		if (!client_write(end + 1, sizeof(end) - 2) || !client_read()) {
			fprintf(stderr, "fuzz_rpc: a new connection is not served\n");
			abort();
		}
	}
	psw_rcu_reclaim();
	psw_l2_learn_drain();
	if (++runs % 256 == 0)
		reset_tables();
	return 0;
}
