/*
 * protocol.c: JSON-RPC 2.0 framing shared by the server (switch/control.c, on the main
 * lcore) and the clients (ctl/client.c: podswitchctl, the CNI plugin). Never on the packet
 * path. It cuts byte streams into lines with a size limit and builds and reads the three
 * message shapes (request, result, error).
 *
 * The line buffer never searches a byte twice: `scan` remembers how far the current
 * partial line has been searched and `tail` where the last complete line ended, so a peer
 * that trickles a long line one byte at a time costs O(n), not O(n^2).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

void psw_linebuf_init(struct psw_linebuf *lb, size_t limit)
{
	memset(lb, 0, sizeof(*lb));
	lb->limit = limit;
}

void psw_linebuf_free(struct psw_linebuf *lb)
{
	free(lb->buf);
	psw_linebuf_init(lb, lb->limit);
}

size_t psw_linebuf_pending(const struct psw_linebuf *lb)
{
	return lb->len - lb->start;
}

/* Room for n more bytes: drop what was consumed, then grow. */
static int reserve(struct psw_linebuf *lb, size_t n)
{
	if (lb->start == lb->len) {
		lb->start = lb->len = lb->tail = 0;
		lb->scan = 0;
	}
	if (lb->cap - lb->len >= n)
		return 0;
	if (lb->start > 0) {
		memmove(lb->buf, lb->buf + lb->start, lb->len - lb->start);
		lb->len -= lb->start;
		lb->tail -= lb->start;
		lb->start = 0;
		if (lb->cap - lb->len >= n)
			return 0;
	}
	size_t cap = lb->cap ? lb->cap : 4096;
	while (cap - lb->len < n)
		cap *= 2;
	char *nb = realloc(lb->buf, cap);
	if (!nb)
		return -ENOMEM;
	lb->buf = nb;
	lb->cap = cap;
	return 0;
}

int psw_linebuf_append(struct psw_linebuf *lb, const void *data, size_t n)
{
	const char *nl = n ? memrchr(data, '\n', n) : NULL;
	/* The partial line after this append: from the last '\n' (new or held) to the end.
	 * One byte of slack for a '\r' before the '\n' still to come. */
	size_t partial = nl ? (size_t)((const char *)data + n - nl - 1)
			    : lb->len - lb->tail + n;
	if (partial > lb->limit + 1)
		return -EMSGSIZE;
	int rc = reserve(lb, n + 1); /* +1: room to NUL-terminate a line ending at len */
	if (rc < 0)
		return rc;
	memcpy(lb->buf + lb->len, data, n);
	if (nl)
		lb->tail = lb->len + (size_t)(nl - (const char *)data) + 1;
	lb->len += n;
	return 0;
}

int psw_linebuf_next(struct psw_linebuf *lb, char **line, size_t *len)
{
	size_t held = lb->len - lb->start;
	char *from = lb->buf + lb->start + lb->scan;
	char *nl = held > lb->scan ? memchr(from, '\n', held - lb->scan) : NULL;

	if (!nl) {
		lb->scan = held;
		return held > lb->limit + 1 ? -EMSGSIZE : 0;
	}
	char *s = lb->buf + lb->start;
	size_t n = (size_t)(nl - s);
	lb->start += n + 1;
	lb->scan = 0;
	*nl = '\0';
	if (n > 0 && s[n - 1] == '\r')
		s[--n] = '\0';
	if (n > lb->limit)
		return -EMSGSIZE;
	*line = s;
	*len = n;
	return 1;
}

char *psw_proto_dump_line(json_t *msg, size_t *len)
{
	char *s = json_dumps(msg, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	if (len)
		*len = n + 1;
	return line;
}

json_t *psw_proto_request(const char *method, json_t *params, json_int_t id)
{
	json_t *req = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", method);
	if (!req)
		return NULL;
	if (id >= 0 && json_object_set_new(req, "id", json_integer(id)) < 0)
		goto fail;
	if (params && json_object_set(req, "params", params) < 0)
		goto fail;
	return req;
fail:
	json_decref(req);
	return NULL;
}

json_t *psw_proto_result(json_t *id, json_t *result)
{
	json_t *msg = json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0",
				"id", id ? id : json_null(),
				"result", result ? result : json_object());
	return msg;
}

json_t *psw_proto_error(json_t *id, int code, const char *message)
{
	return json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0",
			 "id", id ? id : json_null(),
			 "error", "code", code, "message", message ? message : "");
}

static json_t *set_err(struct psw_rpc_error *err, int code, const char *msg, const char *detail)
{
	err->code = code;
	snprintf(err->message, sizeof(err->message), "%s%s%s", msg,
		 detail ? ": " : "", detail ? detail : "");
	return NULL;
}

json_t *psw_proto_parse_response(const char *line, size_t len, json_int_t id,
				 struct psw_rpc_error *err)
{
	json_error_t jerr;
	json_t *msg = json_loadb(line, len, 0, &jerr);
	if (!msg)
		return set_err(err, PSW_RPC_INTERNAL_ERROR, "server sent invalid JSON", jerr.text);

	json_t *result = NULL;
	json_t *v = json_object_get(msg, "jsonrpc");
	json_t *rid = json_object_get(msg, "id");
	json_t *e = json_object_get(msg, "error");

	if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0) {
		set_err(err, PSW_RPC_INTERNAL_ERROR, "server reply is not JSON-RPC 2.0", NULL);
		goto out;
	}
	if (e) {
		/* An error with a null id answers a request the server could not read (too
		 * large, invalid JSON): it is still the answer to ours. */
		json_t *code = json_object_get(e, "code");
		json_t *m = json_object_get(e, "message");
		if (!json_is_integer(code) || !json_is_string(m)) {
			set_err(err, PSW_RPC_INTERNAL_ERROR, "server sent a malformed error", NULL);
			goto out;
		}
		if (!json_is_null(rid) && !(json_is_integer(rid) && json_integer_value(rid) == id)) {
			set_err(err, PSW_RPC_INTERNAL_ERROR, "server answered another request", NULL);
			goto out;
		}
		err->code = (int)json_integer_value(code);
		snprintf(err->message, sizeof(err->message), "%s", json_string_value(m));
		goto out;
	}
	if (!json_is_integer(rid) || json_integer_value(rid) != id) {
		set_err(err, PSW_RPC_INTERNAL_ERROR, "server answered another request", NULL);
		goto out;
	}
	result = json_object_get(msg, "result");
	if (!result) {
		set_err(err, PSW_RPC_INTERNAL_ERROR, "server reply has neither result nor error", NULL);
		goto out;
	}
	json_incref(result);
out:
	json_decref(msg);
	return result;
}

const char *psw_proto_socket_path(const char *explicit_path)
{
	if (explicit_path && *explicit_path)
		return explicit_path;
	const char *env = getenv(PSW_SOCKET_ENV);
	if (env && *env)
		return env;
	return PSW_DEFAULT_SOCKET;
}
