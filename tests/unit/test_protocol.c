/*
 * test_protocol.c: the JSON-RPC framing of ctl/protocol.c: cutting streams into lines
 * (split, partial, CRLF, blank), the size limit (whole and trickled), bounded memory,
 * the request/result/error shapes, response parsing and the socket path precedence.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctl/protocol.h"

static void expect_line(struct psw_linebuf *lb, const char *want)
{
	char *line;
	size_t len;

	assert_int_equal(psw_linebuf_next(lb, &line, &len), 1);
	assert_int_equal(len, strlen(want));
	assert_string_equal(line, want);
}

static void expect_none(struct psw_linebuf *lb)
{
	char *line;
	size_t len;

	assert_int_equal(psw_linebuf_next(lb, &line, &len), 0);
}

static void test_split_lines(void **state)
{
	struct psw_linebuf lb;
	(void)state;

	psw_linebuf_init(&lb, 100);
	assert_int_equal(psw_linebuf_append(&lb, "a\nbb\nccc", 8), 0);
	expect_line(&lb, "a");
	expect_line(&lb, "bb");
	expect_none(&lb);
	assert_int_equal(psw_linebuf_pending(&lb), 3);
	assert_int_equal(psw_linebuf_append(&lb, "c\r\n\nlast\n", 9), 0);
	expect_line(&lb, "cccc");   /* CRLF: the '\r' is not part of the line */
	expect_line(&lb, "");       /* blank lines come through; the server skips them */
	expect_line(&lb, "last");
	expect_none(&lb);
	assert_int_equal(psw_linebuf_pending(&lb), 0);
	psw_linebuf_free(&lb);
}

static void test_partial_bytewise(void **state)
{
	const char *msg = "{\"jsonrpc\":\"2.0\",\"id\":1}\n{\"x\":2}\n";
	struct psw_linebuf lb;
	int lines = 0;
	(void)state;

	psw_linebuf_init(&lb, 1000);
	for (size_t i = 0; i < strlen(msg); i++) {
		char *line;
		size_t len;
		assert_int_equal(psw_linebuf_append(&lb, msg + i, 1), 0);
		int rc = psw_linebuf_next(&lb, &line, &len);
		assert_true(rc == 0 || rc == 1);
		if (rc == 1) {
			lines++;
			assert_string_equal(line, lines == 1 ? "{\"jsonrpc\":\"2.0\",\"id\":1}" : "{\"x\":2}");
			assert_int_equal(msg[i], '\n');
		}
	}
	assert_int_equal(lines, 2);
	psw_linebuf_free(&lb);
}

static void test_limit_whole_line(void **state)
{
	struct psw_linebuf lb;
	char buf[64];
	char *line;
	size_t len;
	(void)state;

	/* Exactly the limit passes, also with a CR; one byte more does not. */
	psw_linebuf_init(&lb, 10);
	assert_int_equal(psw_linebuf_append(&lb, "0123456789\n0123456789\r\n", 23), 0);
	expect_line(&lb, "0123456789");
	expect_line(&lb, "0123456789");
	memset(buf, 'x', 11);
	buf[11] = '\n';
	assert_int_equal(psw_linebuf_append(&lb, buf, 12), 0);
	assert_int_equal(psw_linebuf_next(&lb, &line, &len), -EMSGSIZE);
	psw_linebuf_free(&lb);

	/* A long partial line in one append is refused without being buffered. */
	psw_linebuf_init(&lb, 10);
	memset(buf, 'y', sizeof(buf));
	assert_int_equal(psw_linebuf_append(&lb, buf, sizeof(buf)), -EMSGSIZE);
	assert_int_equal(psw_linebuf_pending(&lb), 0);
	psw_linebuf_free(&lb);
}

static void test_limit_trickled(void **state)
{
	struct psw_linebuf lb;
	int rc = 0, n = 0;
	(void)state;

	/* One byte at a time: refused as soon as the partial line passes the limit. */
	psw_linebuf_init(&lb, 100);
	while (n < 1000 && (rc = psw_linebuf_append(&lb, "z", 1)) == 0) {
		char *line;
		size_t len;
		n++;
		assert_int_equal(psw_linebuf_next(&lb, &line, &len), n > 101 ? -EMSGSIZE : 0);
	}
	assert_int_equal(rc, -EMSGSIZE);
	assert_int_equal(n, 101); /* limit + 1 byte of slack for a '\r' */
	psw_linebuf_free(&lb);
}

static void test_limit_not_fooled_by_earlier_lines(void **state)
{
	struct psw_linebuf lb;
	char buf[300];
	(void)state;

	/* Many short complete lines in one append are fine even if their sum is over
	 * the limit: the limit is per line. */
	psw_linebuf_init(&lb, 16);
	for (int i = 0; i < 100; i++)
		memcpy(buf + 3 * i, "ab\n", 3);
	assert_int_equal(psw_linebuf_append(&lb, buf, 300), 0);
	for (int i = 0; i < 100; i++)
		expect_line(&lb, "ab");
	expect_none(&lb);
	psw_linebuf_free(&lb);
}

static void test_memory_bounded(void **state)
{
	struct psw_linebuf lb;
	char chunk[4000]; /* whole lines of 99 bytes + newline */
	(void)state;

	/* A long stream of lines never grows the buffer past limit + one chunk. */
	psw_linebuf_init(&lb, 1000);
	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = (i % 100 == 99) ? '\n' : 'q';
	for (int round = 0; round < 2000; round++) {
		char *line;
		size_t len;
		assert_int_equal(psw_linebuf_append(&lb, chunk, sizeof(chunk)), 0);
		while (psw_linebuf_next(&lb, &line, &len) == 1)
			assert_int_equal(len, 99);
	}
	assert_true(lb.cap <= 2 * (1000 + sizeof(chunk)));
	psw_linebuf_free(&lb);
}

static void test_request_shapes(void **state)
{
	json_t *params = json_pack("{s:s}", "name", "a\nb");
	json_t *req;
	char *line;
	size_t len;
	(void)state;

	req = psw_proto_request("port.get", params, 7);
	json_decref(params);
	line = psw_proto_dump_line(req, &len);
	json_decref(req);
	assert_string_equal(line, "{\"jsonrpc\":\"2.0\",\"method\":\"port.get\",\"id\":7,"
			    "\"params\":{\"name\":\"a\\nb\"}}\n");
	assert_int_equal(len, strlen(line));
	assert_ptr_equal(strchr(line, '\n'), line + len - 1); /* the only newline ends it */
	free(line);

	req = psw_proto_request("switch.info", NULL, -1); /* notification */
	line = psw_proto_dump_line(req, NULL);
	json_decref(req);
	assert_string_equal(line, "{\"jsonrpc\":\"2.0\",\"method\":\"switch.info\"}\n");
	free(line);

	json_t *id = json_string("abc");
	json_t *msg = psw_proto_result(id, json_pack("{s:i}", "ports", 2));
	line = psw_proto_dump_line(msg, NULL);
	json_decref(msg);
	assert_string_equal(line, "{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"result\":{\"ports\":2}}\n");
	free(line);
	msg = psw_proto_error(NULL, PSW_RPC_PARSE_ERROR, "bad");
	line = psw_proto_dump_line(msg, NULL);
	json_decref(msg);
	assert_string_equal(line, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
			    "{\"code\":-32700,\"message\":\"bad\"}}\n");
	free(line);
	json_decref(id);
}

static json_t *parse(const char *s, json_int_t id, struct psw_rpc_error *err)
{
	memset(err, 0, sizeof(*err));
	return psw_proto_parse_response(s, strlen(s), id, err);
}

static void test_parse_response(void **state)
{
	struct psw_rpc_error err;
	json_t *r;
	(void)state;

	r = parse("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"a\":1}}", 3, &err);
	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r, "a")), 1);
	json_decref(r);

	r = parse("{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32001,\"message\":\"no port \\\"x\\\"\"}}",
		  3, &err);
	assert_null(r);
	assert_int_equal(err.code, PSW_RPC_NOT_FOUND);
	assert_string_equal(err.message, "no port \"x\"");

	/* An error with a null id answers a request the server could not read. */
	r = parse("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32005,\"message\":\"too big\"}}",
		  9, &err);
	assert_null(r);
	assert_int_equal(err.code, PSW_RPC_TOO_LARGE);
	assert_string_equal(err.message, "too big");

	r = parse("{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{}}", 3, &err);
	assert_null(r);
	assert_int_equal(err.code, PSW_RPC_INTERNAL_ERROR);
	assert_non_null(strstr(err.message, "another request"));

	r = parse("garbage", 1, &err);
	assert_null(r);
	assert_int_equal(err.code, PSW_RPC_INTERNAL_ERROR);
	assert_non_null(strstr(err.message, "invalid JSON"));

	r = parse("{\"jsonrpc\":\"1.0\",\"id\":1,\"result\":{}}", 1, &err);
	assert_null(r);
	assert_non_null(strstr(err.message, "not JSON-RPC 2.0"));

	r = parse("{\"jsonrpc\":\"2.0\",\"id\":1}", 1, &err);
	assert_null(r);
	assert_non_null(strstr(err.message, "neither result nor error"));

	r = parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":\"x\"}}", 1, &err);
	assert_null(r);
	assert_non_null(strstr(err.message, "malformed error"));

	/* A result may be any JSON value, also null. */
	r = parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}", 1, &err);
	assert_non_null(r);
	assert_true(json_is_null(r));
	json_decref(r);
}

static void test_socket_path(void **state)
{
	(void)state;

	unsetenv(PSW_SOCKET_ENV);
	assert_string_equal(psw_proto_socket_path(NULL), PSW_DEFAULT_SOCKET);
	assert_string_equal(psw_proto_socket_path(""), PSW_DEFAULT_SOCKET);
	assert_string_equal(PSW_DEFAULT_SOCKET, "/run/podswitch/podswitchd.sock");
	setenv(PSW_SOCKET_ENV, "/tmp/env.sock", 1);
	assert_string_equal(psw_proto_socket_path(NULL), "/tmp/env.sock");
	assert_string_equal(psw_proto_socket_path("/tmp/flag.sock"), "/tmp/flag.sock");
	unsetenv(PSW_SOCKET_ENV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_lines),
		cmocka_unit_test(test_partial_bytewise),
		cmocka_unit_test(test_limit_whole_line),
		cmocka_unit_test(test_limit_trickled),
		cmocka_unit_test(test_limit_not_fooled_by_earlier_lines),
		cmocka_unit_test(test_memory_bounded),
		cmocka_unit_test(test_request_shapes),
		cmocka_unit_test(test_parse_response),
		cmocka_unit_test(test_socket_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
