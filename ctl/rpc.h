/*
 * rpc.h: the contract between the JSON-RPC server (control.c) and the methods of
 * each noun (rpc_<noun>.c). Control thread only.
 *
 * A method receives its params (always a JSON object; an absent "params" arrives as an
 * empty object) and returns a new reference to its result, or NULL with the error set.
 * A method that fails changes nothing. Error messages name the bad field.
 */
#ifndef PSW_RPC_H
#define PSW_RPC_H

#include <stdbool.h>
#include <jansson.h>

/* JSON-RPC 2.0 reserved codes. */
#define PSW_RPC_PARSE_ERROR      -32700
#define PSW_RPC_INVALID_REQUEST  -32600
#define PSW_RPC_METHOD_NOT_FOUND -32601
#define PSW_RPC_INVALID_PARAMS   -32602
#define PSW_RPC_INTERNAL_ERROR   -32603
/* podswitch application codes (-32000 .. -32099 is the implementation range). */
#define PSW_RPC_NOT_FOUND        -32001 /* no such port, flow, network ... */
#define PSW_RPC_EXISTS           -32002 /* name already in use */
#define PSW_RPC_FAILED           -32003 /* a device or resource refused */
#define PSW_RPC_BUSY             -32004 /* in use (e.g. port still referenced) */
#define PSW_RPC_TOO_LARGE        -32005 /* request line over the size limit */

#define PSW_RPC_MSG_MAX 512

struct psw_rpc_error {
	int code;
	char message[PSW_RPC_MSG_MAX];
};

/* Sets err (printf-style message) and returns NULL, so handlers can `return psw_rpc_err(...)`. */
json_t *psw_rpc_err(struct psw_rpc_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

typedef json_t *(*psw_rpc_handler)(json_t *params, struct psw_rpc_error *err);

struct psw_rpc_method {
	const char *name; /* "noun.verb"; a table ends with {NULL, NULL} */
	psw_rpc_handler handler;
};

/* Strict parameter checking: unknown keys, missing required keys and wrong types are
 * errors (PSW_RPC_INVALID_PARAMS) whose message names the key. */
enum psw_rpc_type {
	PSW_T_STRING,
	PSW_T_INT,    /* any JSON integer */
	PSW_T_UINT,   /* integer >= 0 */
	PSW_T_BOOL,
	PSW_T_OBJECT,
	PSW_T_ARRAY,
	PSW_T_ANY,
};

struct psw_rpc_param {
	const char *name; /* a spec ends with {NULL} */
	enum psw_rpc_type type;
	bool required;
};

/* 0 when params match spec, else -1 with err set. */
int psw_rpc_check_params(json_t *params, const struct psw_rpc_param *spec,
			 struct psw_rpc_error *err);

#endif
