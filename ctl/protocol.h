/*
 * protocol.h: the JSON-RPC 2.0 framing shared by the server (switch/control.c) and every
 * client (ctl/client.c, so podswitchctl and the CNI plugin). Control path only, never the
 * packet path.
 *
 * On the wire: one JSON value per line, UTF-8, ended by '\n' (a '\r' before it is
 * ignored). JSON strings escape their newlines, so a compact dump never contains one.
 * A line longer than the limit is refused (PSW_RPC_TOO_LARGE) without being buffered
 * whole, so a client cannot make either side hold more than limit + one read chunk.
 */
#ifndef PSW_PROTOCOL_H
#define PSW_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "rpc.h"

#define PSW_DEFAULT_SOCKET "/run/podswitch/podswitchd.sock"
#define PSW_SOCKET_ENV     "PODSWITCH_SOCKET"
/* Largest request or response line: 1 MiB holds a bulk load of thousands of rules. */
#define PSW_LINE_MAX       (1u << 20)

/* A receive buffer that cuts a byte stream into lines. */
struct psw_linebuf {
	char *buf;
	size_t start; /* first byte not yet returned as a line */
	size_t scan;  /* bytes from start already searched for '\n' */
	size_t tail;  /* just after the last '\n' held (start <= tail <= len) */
	size_t len;   /* bytes held (from 0) */
	size_t cap;
	size_t limit; /* longest line accepted, without its '\n' */
};

void psw_linebuf_init(struct psw_linebuf *lb, size_t limit);
void psw_linebuf_free(struct psw_linebuf *lb);
/* Appends n bytes. 0, -ENOMEM, or -EMSGSIZE when the pending partial line already
 * exceeds the limit (the caller then refuses the stream). */
int psw_linebuf_append(struct psw_linebuf *lb, const void *data, size_t n);
/* Next complete line: 1 with *line (NUL-terminated, '\n' and a trailing '\r' removed) and
 * *len set, valid until the next append; 0 when no complete line is held; -EMSGSIZE when
 * the line being received is over the limit. */
int psw_linebuf_next(struct psw_linebuf *lb, char **line, size_t *len);
/* Bytes of an incomplete line held (a peer that hangs up with pending > 0 hung up
 * mid-request). */
size_t psw_linebuf_pending(const struct psw_linebuf *lb);

/* Serialise one message to a malloc'd compact line ending in '\n'. NULL on ENOMEM. */
char *psw_proto_dump_line(json_t *msg, size_t *len);

/* {"jsonrpc":"2.0","id":id,"method":method,"params":params}; params is borrowed and may be
 * NULL (omitted). id < 0 makes a notification (no "id"). New reference or NULL. */
json_t *psw_proto_request(const char *method, json_t *params, json_int_t id);
/* {"jsonrpc":"2.0","id":id,"result":result}: id (borrowed; NULL means null), result stolen. */
json_t *psw_proto_result(json_t *id, json_t *result);
/* {"jsonrpc":"2.0","id":id,"error":{"code":code,"message":message}}: id borrowed. */
json_t *psw_proto_error(json_t *id, int code, const char *message);

/* Parse one response line for the request `id`. Returns the new-reference result, or NULL
 * with err set: the server's error as sent, or PSW_RPC_INTERNAL_ERROR when the line is
 * not a JSON-RPC 2.0 response to that id. */
json_t *psw_proto_parse_response(const char *line, size_t len, json_int_t id,
				 struct psw_rpc_error *err);

/* The socket path a client uses: explicit (non-NULL, non-empty), else $PODSWITCH_SOCKET,
 * else PSW_DEFAULT_SOCKET. */
const char *psw_proto_socket_path(const char *explicit_path);

#endif
