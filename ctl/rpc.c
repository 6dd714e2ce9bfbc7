/*
 * rpc.c: helpers every JSON-RPC method uses (control thread only): setting an error and
 * strict parameter checking. Strict means unknown keys, missing required keys and wrong
 * types are all refused with a message naming the key, before a method changes anything,
 * so a typo in a script ("ouptut") fails loudly instead of being silently ignored.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rpc.h"

json_t *psw_rpc_err(struct psw_rpc_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return NULL;
}

static const char *type_name(enum psw_rpc_type t)
{
	switch (t) {
	case PSW_T_STRING: return "a string";
	case PSW_T_INT:    return "an integer";
	case PSW_T_UINT:   return "a non-negative integer";
	case PSW_T_BOOL:   return "a boolean";
	case PSW_T_OBJECT: return "an object";
	case PSW_T_ARRAY:  return "an array";
	case PSW_T_ANY:    return "any value";
	}
	return "?";
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:  return "an object";
	case JSON_ARRAY:   return "an array";
	case JSON_STRING:  return "a string";
	case JSON_INTEGER: return json_integer_value(v) < 0 ? "a negative integer" : "an integer";
	case JSON_REAL:    return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE:   return "a boolean";
	case JSON_NULL:    return "null";
	}
	return "?";
}

static bool type_ok(const json_t *v, enum psw_rpc_type t)
{
	switch (t) {
	case PSW_T_STRING: return json_is_string(v);
	case PSW_T_INT:    return json_is_integer(v);
	case PSW_T_UINT:   return json_is_integer(v) && json_integer_value(v) >= 0;
	case PSW_T_BOOL:   return json_is_boolean(v);
	case PSW_T_OBJECT: return json_is_object(v);
	case PSW_T_ARRAY:  return json_is_array(v);
	case PSW_T_ANY:    return true;
	}
	return false;
}

static const struct psw_rpc_param *find(const struct psw_rpc_param *spec, const char *key)
{
	for (; spec && spec->name; spec++)
		if (strcmp(spec->name, key) == 0)
			return spec;
	return NULL;
}

/* "name, type, devargs" for the unknown-key message; "none" for an empty spec. */
static void list_names(const struct psw_rpc_param *spec, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (; spec && spec->name && off < len; spec++) {
		int n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "", spec->name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	if (off >= len && len > 4)
		strcpy(buf + len - 4, "...");
	if (!buf[0])
		snprintf(buf, len, "none");
}

int psw_rpc_check_params(json_t *params, const struct psw_rpc_param *spec,
			 struct psw_rpc_error *err)
{
	const char *key;
	json_t *v;

	if (params && !json_is_object(params)) {
		psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "params must be an object, got %s",
			    json_type_name(params));
		return -1;
	}
	json_object_foreach(params, key, v) {
		const struct psw_rpc_param *p = find(spec, key);
		if (!p) {
			char names[256];
			list_names(spec, names, sizeof(names));
			psw_rpc_err(err, PSW_RPC_INVALID_PARAMS,
				    "unknown parameter '%s' (accepted: %s)", key, names);
			return -1;
		}
		if (!type_ok(v, p->type)) {
			psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "parameter '%s' must be %s, got %s",
				    key, type_name(p->type), json_type_name(v));
			return -1;
		}
	}
	for (; spec && spec->name; spec++) {
		if (spec->required && !json_object_get(params, spec->name)) {
			psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "missing required parameter '%s'",
				    spec->name);
			return -1;
		}
	}
	return 0;
}
