/*
 * client.h: a blocking JSON-RPC client of podswitchd's control socket, used by
 * podswitchctl and the CNI plugin. One request at a time per connection; every wait is
 * bounded by the timeout given at connect.
 */
#ifndef PSW_CLIENT_H
#define PSW_CLIENT_H

#include <stddef.h>
#include <jansson.h>

#include "protocol.h"
#include "rpc.h"

struct psw_client;

/* path NULL or "" = $PODSWITCH_SOCKET or PSW_DEFAULT_SOCKET. timeout_ms <= 0 = 30 s.
 * NULL with a message such as "cannot connect to /run/...: No such file or directory". */
struct psw_client *psw_client_connect(const char *path, int timeout_ms, char *err, size_t errlen);

/* Sends {"jsonrpc":"2.0","id":N,"method":method,"params":params} (params is STOLEN; NULL =
 * no params) and waits up to the timeout for the reply. Returns the new-reference result,
 * or NULL with err filled: the server's code and message, or PSW_RPC_INTERNAL_ERROR with a
 * clear message for transport failures (timeout, connection closed). */
json_t *psw_client_call(struct psw_client *c, const char *method, json_t *params,
			struct psw_rpc_error *err);

/* The path this client is connected to (for messages). */
const char *psw_client_path(const struct psw_client *c);

void psw_client_close(struct psw_client *c);

#endif
