/*
 * test_control.c: switch/control.c, the JSON-RPC server, against real Unix sockets. A
 * server thread runs psw_control_poll() on a temp socket with a small method table; the
 * tests are its clients: every bad-request class (invalid JSON, not a request, unknown
 * method, bad params, too large, hang-up mid-request), notifications, batches, ordering,
 * a client that never reads, the client cap and 200 idle connections, start-up checks
 * (live server, stale socket, not a socket).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctl/client.h"
#include "control/control.h"
#include "ctl/protocol.h"
#include "ctl/rpc.h"

/* ---- the server under test -------------------------------------------------------- */

static const struct psw_rpc_param echo_spec[] = {
	{"text", PSW_T_STRING, true},
	{"n", PSW_T_UINT, false},
	{NULL}
};

static int counter; /* touched only by the server thread while it runs */

static json_t *m_echo(json_t *params, struct psw_rpc_error *err)
{
	if (psw_rpc_check_params(params, echo_spec, err))
		return NULL;
	return json_deep_copy(params);
}

static json_t *m_count(json_t *params, struct psw_rpc_error *err)
{
	(void)params;
	(void)err;
	return json_pack("{s:i}", "count", ++counter);
}

static json_t *m_fail(json_t *params, struct psw_rpc_error *err)
{
	(void)params;
	return psw_rpc_err(err, PSW_RPC_NOT_FOUND, "no thing \"%s\"", "x");
}

static json_t *m_nomsg(json_t *params, struct psw_rpc_error *err)
{
	(void)params;
	(void)err;
	return NULL;
}

static json_t *m_big(json_t *params, struct psw_rpc_error *err)
{
	(void)params;
	(void)err;
	size_t n = 1 << 20;
	char *s = malloc(n + 1);
	memset(s, 'b', n);
	s[n] = '\0';
	json_t *r = json_pack("{s:s}", "blob", s);
	free(s);
	return r;
}

static const struct psw_rpc_method methods[] = {
	{"test.echo", m_echo},
	{"test.count", m_count},
	{"test.fail", m_fail},
	{"test.nomsg", m_nomsg},
	{"test.big", m_big},
	{NULL, NULL}
};

static char dir[64], sock_path[128];
static struct psw_control *srv;
static pthread_t thr;
static int stop_flag;

static void *serve(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE))
		psw_control_poll(srv, 5);
	return NULL;
}

static void server_run(void)
{
	__atomic_store_n(&stop_flag, 0, __ATOMIC_RELEASE);
	assert_int_equal(pthread_create(&thr, NULL, serve, NULL), 0);
}

static void server_pause(void)
{
	__atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
	pthread_join(thr, NULL);
}

static struct psw_control_stats stats(void)
{
	struct psw_control_stats st;
	server_pause();
	psw_control_get_stats(srv, &st);
	server_run();
	return st;
}

/* Waits (up to 2 s) for the server to see exactly n clients; a closed connection is
 * noticed on the server's next round. */
static void wait_clients(unsigned n)
{
	for (int i = 0; i < 200 && stats().clients != n; i++)
		usleep(10000);
	assert_int_equal(stats().clients, n);
}

static int setup(void **state)
{
	char err[256];
	(void)state;

	snprintf(dir, sizeof(dir), "/tmp/psw-ctl-test.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	/* A parent that does not exist yet: open must create it. */
	snprintf(sock_path, sizeof(sock_path), "%s/run/podswitch/ctl.sock", dir);
	srv = psw_control_open(sock_path, 0660, err, sizeof(err));
	if (!srv) {
		fprintf(stderr, "psw_control_open: %s\n", err);
		return -1;
	}
	if (psw_control_register(srv, methods) != 0)
		return -1;
	counter = 0;
	server_run();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	struct stat st;
	(void)state;

	server_pause();
	psw_control_close(srv);
	srv = NULL;
	bool left = stat(sock_path, &st) == 0; /* close must remove the socket */
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) != 0 || left ? -1 : 0;
}

/* ---- raw clients ------------------------------------------------------------------ */

struct conn {
	int fd;
	struct psw_linebuf lb;
};

static struct conn *conn_open(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 5};
	struct conn *c = calloc(1, sizeof(*c));

	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c->fd >= 0);
	strcpy(sa.sun_path, sock_path);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	psw_linebuf_init(&c->lb, 8u << 20);
	return c;
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	psw_linebuf_free(&c->lb);
	free(c);
}

/* Sends all of buf; returns 0, or -errno (the server may close on us). */
static int conn_send_buf(struct conn *c, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void conn_send(struct conn *c, const char *s)
{
	assert_int_equal(conn_send_buf(c, s, strlen(s)), 0);
}

/* The next reply line, parsed; NULL on EOF or a 5 s timeout. */
static json_t *conn_reply(struct conn *c)
{
	char buf[65536], *line;
	size_t len;

	for (;;) {
		if (psw_linebuf_next(&c->lb, &line, &len) == 1) {
			json_error_t jerr;
			json_t *j = json_loadb(line, len, JSON_DECODE_ANY, &jerr);
			assert_non_null(j);
			return j;
		}
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		if (n <= 0)
			return NULL;
		assert_int_equal(psw_linebuf_append(&c->lb, buf, (size_t)n), 0);
	}
}

/* True when the server closed the connection (EOF or reset) with nothing more to say. */
static bool conn_closed(struct conn *c)
{
	char b;
	ssize_t n = recv(c->fd, &b, 1, 0);
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

static void check_error(json_t *r, int code, const char *substr)
{
	assert_non_null(r);
	json_t *e = json_object_get(r, "error");
	if (!e)
		fail_msg("expected error %d, got %s", code, json_dumps(r, JSON_COMPACT));
	if (json_integer_value(json_object_get(e, "code")) != code ||
	    !strstr(json_string_value(json_object_get(e, "message")), substr))
		fail_msg("expected error %d '%s', got %s", code, substr,
			 json_dumps(r, JSON_COMPACT));
	assert_string_equal(json_string_value(json_object_get(r, "jsonrpc")), "2.0");
}

/* Sends one line, expects an error reply with that code, message part and id. */
static void expect_error(struct conn *c, const char *req, int code, const char *substr,
			 const char *id_json)
{
	conn_send(c, req);
	json_t *r = conn_reply(c);
	check_error(r, code, substr);
	char *id = json_dumps(json_object_get(r, "id"), JSON_ENCODE_ANY);
	assert_string_equal(id, id_json);
	free(id);
	json_decref(r);
}

/* The connection still works: a good request gets its result. */
static void expect_usable(struct conn *c)
{
	conn_send(c, "{\"jsonrpc\":\"2.0\",\"id\":\"ok\",\"method\":\"test.echo\",\"params\":{\"text\":\"hi\"}}\n");
	json_t *r = conn_reply(c);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "id")), "ok");
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "result"), "text")), "hi");
	json_decref(r);
}

/* A fresh connection through the client library gets served (within 5 s: generous for
 * valgrind; natively it takes well under a millisecond). */
static void expect_served(void)
{
	char err[256];
	struct psw_rpc_error rerr;
	struct psw_client *cl = psw_client_connect(sock_path, 5000, err, sizeof(err));
	if (!cl)
		fail_msg("connect: %s", err);
	json_t *r = psw_client_call(cl, "test.echo", json_pack("{s:s}", "text", "x"), &rerr);
	if (!r)
		fail_msg("call: %s", rerr.message);
	assert_string_equal(json_string_value(json_object_get(r, "text")), "x");
	json_decref(r);
	psw_client_close(cl);
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_client_library(void **state)
{
	struct psw_rpc_error err;
	char e[256];
	(void)state;

	struct psw_client *cl = psw_client_connect(sock_path, 2000, e, sizeof(e));
	assert_non_null(cl);
	json_t *r = psw_client_call(cl, "test.echo", json_pack("{s:s,s:i}", "text", "t", "n", 3), &err);
	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r, "n")), 3);
	json_decref(r);
	/* Server errors come back with their code and message, the connection stays. */
	assert_null(psw_client_call(cl, "test.fail", NULL, &err));
	assert_int_equal(err.code, PSW_RPC_NOT_FOUND);
	assert_string_equal(err.message, "no thing \"x\"");
	assert_null(psw_client_call(cl, "test.echo", json_pack("{s:i}", "text", 1), &err));
	assert_int_equal(err.code, PSW_RPC_INVALID_PARAMS);
	assert_string_equal(err.message, "parameter 'text' must be a string, got an integer");
	r = psw_client_call(cl, "test.count", NULL, &err);
	assert_non_null(r);
	json_decref(r);
	/* Over the line limit: refused before sending, the connection stays good. */
	char *huge = malloc(PSW_LINE_MAX + 1);
	memset(huge, 'h', PSW_LINE_MAX);
	huge[PSW_LINE_MAX] = '\0';
	assert_null(psw_client_call(cl, "test.echo", json_pack("{s:s}", "text", huge), &err));
	free(huge);
	assert_int_equal(err.code, PSW_RPC_TOO_LARGE);
	assert_non_null(strstr(err.message, "over the limit of 1048576"));
	r = psw_client_call(cl, "test.count", NULL, &err);
	assert_non_null(r);
	json_decref(r);
	psw_client_close(cl);

	/* Transport failures: a clear message naming the socket. */
	char missing[160];
	snprintf(missing, sizeof(missing), "%s/nosuch.sock", dir);
	assert_null(psw_client_connect(missing, 500, e, sizeof(e)));
	assert_non_null(strstr(e, "cannot connect to"));
	assert_non_null(strstr(e, "nosuch.sock"));
	assert_non_null(strstr(e, "No such file or directory"));
}

static void test_invalid_json(void **state)
{
	struct conn *c = conn_open();
	(void)state;

	expect_error(c, "{\"jsonrpc\":\n", PSW_RPC_PARSE_ERROR, "invalid JSON", "null");
	expect_error(c, "\x01\x02\xff\xfe garbage\n", PSW_RPC_PARSE_ERROR, "invalid JSON", "null");
	expect_error(c, "{\"a\":1,\"a\":2}\n", PSW_RPC_PARSE_ERROR, "duplicate", "null");
	conn_send_buf(c, "{\"x\0\":1}\n", 9);
	json_t *r = conn_reply(c);
	check_error(r, PSW_RPC_PARSE_ERROR, "NUL byte at column 4");
	json_decref(r);
	expect_usable(c);
	/* Blank lines are not requests: no reply (the next reply is the next request's). */
	conn_send(c, "\n  \n\r\n");
	expect_usable(c);
	conn_close(c);
}

static void test_invalid_request(void **state)
{
	struct conn *c = conn_open();
	(void)state;

	expect_error(c, "42\n", PSW_RPC_INVALID_REQUEST, "must be a JSON object", "null");
	expect_error(c, "\"port.list\"\n", PSW_RPC_INVALID_REQUEST, "must be a JSON object", "null");
	expect_error(c, "{\"id\":1,\"method\":\"test.count\"}\n", PSW_RPC_INVALID_REQUEST,
		     "missing \"jsonrpc\"", "1");
	expect_error(c, "{\"jsonrpc\":\"1.0\",\"id\":2,\"method\":\"test.count\"}\n",
		     PSW_RPC_INVALID_REQUEST, "'jsonrpc' must be the string \"2.0\"", "2");
	expect_error(c, "{\"jsonrpc\":2.0,\"id\":2,\"method\":\"test.count\"}\n",
		     PSW_RPC_INVALID_REQUEST, "'jsonrpc' must be", "2");
	expect_error(c, "{\"jsonrpc\":\"2.0\",\"id\":3}\n", PSW_RPC_INVALID_REQUEST,
		     "missing 'method'", "3");
	expect_error(c, "{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":5}\n", PSW_RPC_INVALID_REQUEST,
		     "'method' must be a string, got a number", "\"s\"");
	expect_error(c, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"test.count\",\"params\":[1]}\n",
		     PSW_RPC_INVALID_REQUEST, "'params' must be an object", "4");
	expect_error(c, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"test.count\",\"params\":\"x\"}\n",
		     PSW_RPC_INVALID_REQUEST, "'params' must be an object", "4");
	expect_error(c, "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"test.count\"}\n",
		     PSW_RPC_INVALID_REQUEST, "'id' must be a string, an integer or null", "null");
	expect_error(c, "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"test.count\"}\n",
		     PSW_RPC_INVALID_REQUEST, "'id' must be", "null");
	expect_error(c, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"test.count\",\"extra\":1}\n",
		     PSW_RPC_INVALID_REQUEST, "unknown member 'extra'", "5");
	expect_error(c, "[]\n", PSW_RPC_INVALID_REQUEST, "empty batch", "null");
	/* A malformed request without an id is still answered: the server cannot know
	 * it was meant as a notification. */
	expect_error(c, "{\"jsonrpc\":\"2.0\",\"method\":7}\n", PSW_RPC_INVALID_REQUEST,
		     "'method' must be a string", "null");
	expect_usable(c);
	conn_close(c);
	/* Nothing ran. */
	wait_clients(0);
	server_pause();
	assert_int_equal(counter, 0);
	server_run();
}

static void test_unknown_method(void **state)
{
	struct conn *c = conn_open();
	(void)state;

	expect_error(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.frobnicate\"}\n",
		     PSW_RPC_METHOD_NOT_FOUND, "unknown method 'port.frobnicate'", "1");
	expect_usable(c);
	conn_close(c);
}

static void test_bad_params(void **state)
{
	struct conn *c = conn_open();
	(void)state;

	expect_error(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test.echo\"}\n",
		     PSW_RPC_INVALID_PARAMS, "missing required parameter 'text'", "1");
	expect_error(c, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"test.echo\",\"params\":{}}\n",
		     PSW_RPC_INVALID_PARAMS, "missing required parameter 'text'", "2");
	expect_error(c, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"test.echo\",\"params\":"
		     "{\"text\":\"a\",\"colour\":\"red\"}}\n",
		     PSW_RPC_INVALID_PARAMS, "unknown parameter 'colour' (accepted: text, n)", "3");
	expect_error(c, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"test.echo\",\"params\":"
		     "{\"text\":\"a\",\"n\":-1}}\n",
		     PSW_RPC_INVALID_PARAMS, "parameter 'n' must be a non-negative integer", "4");
	expect_error(c, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"test.echo\",\"params\":"
		     "{\"text\":[]}}\n",
		     PSW_RPC_INVALID_PARAMS, "parameter 'text' must be a string, got an array", "5");
	/* Handler errors: its code and message; no message at all is an internal error. */
	expect_error(c, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"test.fail\"}\n",
		     PSW_RPC_NOT_FOUND, "no thing \"x\"", "6");
	expect_error(c, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"test.nomsg\"}\n",
		     PSW_RPC_INTERNAL_ERROR, "method 'test.nomsg' failed", "7");
	expect_usable(c);
	conn_close(c);
}

static void test_notifications_and_batch(void **state)
{
	struct conn *c = conn_open();
	json_t *r;
	(void)state;

	/* Notifications run but get no reply, not even for an unknown method. */
	conn_send(c, "{\"jsonrpc\":\"2.0\",\"method\":\"test.count\"}\n");
	conn_send(c, "{\"jsonrpc\":\"2.0\",\"method\":\"no.such\"}\n");
	conn_send(c, "{\"jsonrpc\":\"2.0\",\"method\":\"test.fail\"}\n");
	conn_send(c, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"test.count\"}\n");
	r = conn_reply(c);
	assert_non_null(r);
	assert_true(json_is_null(json_object_get(r, "id"))); /* id null is a request, not a notification */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "result"), "count")), 2);
	json_decref(r);

	/* Batch: one reply array, notifications left out, bad members answered. */
	conn_send(c, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test.count\"},"
		  "{\"jsonrpc\":\"2.0\",\"method\":\"test.count\"},"
		  "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\"}, 5]\n");
	r = conn_reply(c);
	assert_true(json_is_array(r));
	assert_int_equal(json_array_size(r), 3);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(r, 0), "result"), "count")), 3);
	check_error(json_array_get(r, 1), PSW_RPC_METHOD_NOT_FOUND, "unknown method 'nope'");
	check_error(json_array_get(r, 2), PSW_RPC_INVALID_REQUEST, "must be a JSON object");
	json_decref(r);

	/* A batch of notifications only: no reply at all. */
	conn_send(c, "[{\"jsonrpc\":\"2.0\",\"method\":\"test.count\"}]\n");
	conn_send(c, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"test.count\"}\n");
	r = conn_reply(c);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 9);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "result"), "count")), 6);
	json_decref(r);
	conn_close(c);
}

static void test_pipelined_in_order(void **state)
{
	char *buf = malloc(100 * 128), *p = buf;
	struct conn *c = conn_open();
	(void)state;

	/* 100 requests in one write, good and bad mixed: 100 replies, in order. */
	for (int i = 0; i < 100; i++)
		p += sprintf(p, i % 3 ? "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"test.count\"}\n"
				      : "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"bad\"}\n", i);
	assert_int_equal(conn_send_buf(c, buf, (size_t)(p - buf)), 0);
	for (int i = 0; i < 100; i++) {
		json_t *r = conn_reply(c);
		assert_non_null(r);
		assert_int_equal(json_integer_value(json_object_get(r, "id")), i);
		assert_true(json_object_get(r, i % 3 ? "result" : "error") != NULL);
		json_decref(r);
	}
	free(buf);
	conn_close(c);
}

static void test_too_large(void **state)
{
	size_t n = PSW_LINE_MAX + 100;
	char *big = malloc(n + 1);
	struct conn *c;
	(void)state;

	/* No newline: refused once past the limit, the connection closed. */
	memset(big, 'a', n);
	c = conn_open();
	(void)conn_send_buf(c, big, n); /* may fail half-way: the server hung up */
	json_t *r = conn_reply(c);
	check_error(r, PSW_RPC_TOO_LARGE, "request line over 1048576 bytes");
	json_decref(r);
	assert_true(conn_closed(c));
	conn_close(c);

	/* A complete line over the limit, in one write. */
	big[n - 1] = '\n';
	c = conn_open();
	(void)conn_send_buf(c, big, n);
	r = conn_reply(c);
	check_error(r, PSW_RPC_TOO_LARGE, "closing the connection");
	json_decref(r);
	assert_true(conn_closed(c));
	conn_close(c);

	/* Just under the limit is a request like any other. */
	const char *head = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test.echo\",\"params\":{\"text\":\"";
	size_t hl = strlen(head), total = PSW_LINE_MAX - 10;
	memcpy(big, head, hl);
	memset(big + hl, 'c', total - hl - 3);
	memcpy(big + total - 3, "\"}}", 3);
	big[total] = '\n';
	c = conn_open();
	assert_int_equal(conn_send_buf(c, big, total + 1), 0);
	r = conn_reply(c);
	assert_non_null(json_object_get(r, "result"));
	assert_int_equal(strlen(json_string_value(json_object_get(json_object_get(r, "result"), "text"))),
			 total - hl - 3);
	json_decref(r);
	expect_usable(c);
	conn_close(c);
	free(big);
	expect_served();
}

static void test_hangup_mid_request(void **state)
{
	(void)state;

	for (int i = 0; i < 10; i++) {
		struct conn *c = conn_open();
		conn_send(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"meth");
		conn_close(c);
	}
	/* Killed while its reply is on the way: the write fails, the client is dropped. */
	struct conn *c = conn_open();
	conn_send(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test.big\"}\n");
	conn_close(c);
	expect_served();
	wait_clients(0);
	server_pause();
	assert_int_equal(counter, 0); /* no half request ran */
	server_run();

	/* Half-close after a complete request: the reply still comes, then EOF. */
	c = conn_open();
	conn_send(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test.count\"}\n");
	shutdown(c->fd, SHUT_WR);
	json_t *r = conn_reply(c);
	assert_non_null(json_object_get(r, "result"));
	json_decref(r);
	assert_true(conn_closed(c));
	conn_close(c);
}

static void test_slow_reader_dropped(void **state)
{
	struct conn *slow = conn_open();
	char buf[65536];
	size_t got = 0;
	(void)state;

	/* 40 replies of 1 MiB asked for and never read: the server drops the client when
	 * its pending output passes PSW_CONTROL_OUT_MAX, and serves others meanwhile. */
	for (int i = 0; i < 40; i++)
		conn_send(slow, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test.big\"}\n");
	expect_served();
	for (int i = 0; i < 200 && stats().dropped == 0; i++)
		usleep(10000);
	assert_true(stats().dropped >= 1);
	expect_served();
	/* What it can still read is what was in flight, then EOF. */
	for (;;) {
		ssize_t n = recv(slow->fd, buf, sizeof(buf), 0);
		if (n <= 0) {
			assert_true(n == 0 || errno == ECONNRESET);
			break;
		}
		got += (size_t)n;
	}
	assert_true(got < 40u * (1u << 20));
	conn_close(slow);
}

static void test_random_garbage(void **state)
{
	static const char base[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test.echo\","
				   "\"params\":{\"text\":\"abc\",\"n\":[1,{\"x\":null}]}}";
	struct conn *c = conn_open();
	char line[256];
	unsigned seed = 12345;
	int replies = 0;
	(void)state;

	/* 3000 mutations of a good request (bytes flipped, cut, doubled): every reply is
	 * a well-formed JSON-RPC 2.0 message, and the server keeps answering. */
	for (int i = 0; i < 3000; i++) {
		size_t n = strlen(base);
		memcpy(line, base, n);
		for (int k = 0, muts = 1 + rand_r(&seed) % 4; k < muts; k++) {
			size_t at = (size_t)rand_r(&seed) % n;
			switch (rand_r(&seed) % 3) {
			case 0: line[at] = (char)(rand_r(&seed) & 0xff); break;
			case 1: n = at + 1; break;
			default:
				if (n < sizeof(line) / 2) {
					memcpy(line + n, line, n);
					n *= 2;
				}
			}
		}
		for (size_t k = 0; k < n; k++)
			if (line[k] == '\n')
				line[k] = ' ';
		line[n++] = '\n';
		assert_int_equal(conn_send_buf(c, line, n), 0);
	}
	conn_send(c, "{\"jsonrpc\":\"2.0\",\"id\":\"end\",\"method\":\"test.count\"}\n");
	for (;;) {
		json_t *r = conn_reply(c);
		assert_non_null(r);
		json_t *one = json_is_array(r) ? json_array_get(r, 0) : r;
		if (one) {
			assert_string_equal(json_string_value(json_object_get(one, "jsonrpc")), "2.0");
			assert_true(json_object_get(one, "result") || json_object_get(one, "error"));
			assert_non_null(json_object_get(one, "id"));
		}
		replies++;
		bool end = json_is_string(json_object_get(r, "id")) &&
			   !strcmp(json_string_value(json_object_get(r, "id")), "end");
		json_decref(r);
		if (end)
			break;
	}
	assert_true(replies > 1000);
	expect_usable(c);
	conn_close(c);
	expect_served();
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_idle_connections(void **state)
{
	struct conn *idle[200];
	(void)state;

	/* 200 idle connections, half of them in the middle of a line: others are served
	 * at once. */
	for (int i = 0; i < 200; i++) {
		idle[i] = conn_open();
		if (i % 2)
			conn_send(idle[i], "{\"jsonrpc\":\"2.0\",");
	}
	double t0 = now_s();
	for (int i = 0; i < 20; i++)
		expect_served();
	assert_true(now_s() - t0 < 2.0);
	wait_clients(200);
	/* The half lines are still good requests when they are finished. */
	conn_send(idle[1], "\"id\":7,\"method\":\"test.count\"}\n");
	json_t *r = conn_reply(idle[1]);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 7);
	json_decref(r);
	for (int i = 0; i < 200; i++)
		conn_close(idle[i]);
}

static void test_client_cap(void **state)
{
	enum { EXTRA = 10, N = PSW_CONTROL_MAX_CLIENTS + EXTRA };
	struct conn **cs = calloc(N, sizeof(*cs));
	int refused = 0;
	(void)state;

	for (int i = 0; i < N; i++)
		cs[i] = conn_open();
	for (int i = 0; i < 300; i++) {
		struct psw_control_stats st = stats();
		if (st.accepted + st.refused >= N)
			break;
		usleep(10000);
	}
	struct psw_control_stats st = stats();
	assert_int_equal(st.clients, PSW_CONTROL_MAX_CLIENTS);
	assert_int_equal(st.refused, EXTRA);
	/* The ones over the cap were told why, then closed. */
	for (int i = 0; i < N; i++) {
		char b[256];
		ssize_t n = recv(cs[i]->fd, b, sizeof(b) - 1, MSG_DONTWAIT);
		if (n > 0) {
			b[n] = '\0';
			assert_non_null(strstr(b, "too many control connections"));
			assert_non_null(strstr(b, "-32004"));
			refused++;
		}
	}
	assert_int_equal(refused, EXTRA);
	/* Through the client library, the refusal reads as the server's reason. */
	char e[256];
	struct psw_rpc_error rerr;
	struct psw_client *cl = psw_client_connect(sock_path, 2000, e, sizeof(e));
	assert_non_null(cl);
	assert_null(psw_client_call(cl, "test.count", NULL, &rerr));
	assert_int_equal(rerr.code, PSW_RPC_BUSY);
	assert_non_null(strstr(rerr.message, "too many control connections"));
	psw_client_close(cl);
	/* Room again after some leave. */
	conn_close(cs[0]);
	cs[0] = NULL;
	for (int i = 0; i < 100 && stats().clients >= PSW_CONTROL_MAX_CLIENTS; i++)
		usleep(10000);
	expect_served();
	for (int i = 0; i < N; i++)
		if (cs[i])
			conn_close(cs[i]);
	free(cs);
	expect_served();
}

static int highest_fd(void)
{
	int hi = 0;
	for (int fd = 0; fd < 4096; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			hi = fd;
	return hi;
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_fd_exhaustion(void **state)
{
	enum { N = 20 };
	struct conn *cs[N];
	struct rlimit old, low;
	int served = 0, refused = 0;
	(void)state;

	/* Connections wait in the backlog while the process has almost no descriptor
	 * left: the server must accept-and-close the surplus (with a message), not spin
	 * on EMFILE with the listener forever readable. */
	server_pause();
	for (int i = 0; i < N; i++)
		cs[i] = conn_open();
	getrlimit(RLIMIT_NOFILE, &old);
	low = old;
	low.rlim_cur = (rlim_t)highest_fd() + 1;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	int fill[4096], nfill = 0, fd;
	while (nfill < 4096 && (fd = open("/dev/null", O_RDONLY)) >= 0)
		fill[nfill++] = fd; /* fill every gap below the limit ... */
	low.rlim_cur += 3;     /* ... then allow exactly three more */
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	server_run();
	usleep(200000);
	double c0 = cpu_s();
	usleep(300000);
	double spent = cpu_s() - c0;
	server_pause();
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	while (nfill > 0)
		close(fill[--nfill]);
	server_run();
	assert_true(spent < 0.1); /* an EMFILE spin would burn the whole 0.3 s */

	for (int i = 0; i < N; i++) {
		char b[256];
		ssize_t n = recv(cs[i]->fd, b, sizeof(b) - 1, MSG_DONTWAIT);
		if (n > 0) {
			b[n] = '\0';
			assert_non_null(strstr(b, "too many control connections"));
			refused++;
		} else {
			expect_usable(cs[i]);
			served++;
		}
		conn_close(cs[i]);
	}
	assert_true(served >= 1);
	assert_true(refused >= N - 4);
	assert_int_equal(served + refused, N);
	assert_true(stats().refused >= (uint64_t)refused);
	expect_served();
}

static void test_open_checks(void **state)
{
	char err[256], path[160];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct psw_control *c2;
	struct stat st;
	(void)state;

	/* A live server on the path: refused, and the live socket is left alone. */
	assert_null(psw_control_open(sock_path, 0660, err, sizeof(err)));
	assert_non_null(strstr(err, "another podswitchd is serving on"));
	assert_non_null(strstr(err, sock_path));
	expect_served();
	assert_int_equal(stat(sock_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);

	/* A stale socket file (its server died): removed and replaced. */
	snprintf(path, sizeof(path), "%s/stale.sock", dir);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sa.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	c2 = psw_control_open(path, 0600, err, sizeof(err));
	if (!c2)
		fail_msg("stale socket: %s", err);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	psw_control_close(c2);
	assert_int_not_equal(stat(path, &st), 0);

	/* Not a socket: never removed. */
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_null(psw_control_open(path, 0600, err, sizeof(err)));
	assert_non_null(strstr(err, "is not a socket"));
	assert_int_equal(stat(path, &st), 0);

	/* Too long for sun_path. */
	char longp[200];
	memset(longp, 'x', sizeof(longp));
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_null(psw_control_open(longp, 0600, err, sizeof(err)));
	assert_non_null(strstr(err, "longer than"));

	/* One method name, one handler. */
	server_pause();
	assert_int_equal(psw_control_register(srv, methods), -EEXIST);
	server_run();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_client_library, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_method, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notifications_and_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hangup_mid_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_reader_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_connections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_exhaustion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_checks, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
