/*
 * test_rpc.c: switch/rpc.c, the strict parameter check every method runs first and the
 * error helper. What a script writer sees: the message names the bad key and says what
 * was expected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ctl/rpc.h"

static const struct psw_rpc_param spec[] = {
	{"name", PSW_T_STRING, true},
	{"count", PSW_T_INT, false},
	{"rxq", PSW_T_UINT, false},
	{"up", PSW_T_BOOL, false},
	{"options", PSW_T_OBJECT, false},
	{"list", PSW_T_ARRAY, false},
	{"output", PSW_T_ANY, false},
	{NULL}
};

/* Checks params (JSON text) against spec; returns the error message or NULL when ok. */
static const char *check(const char *text, const struct psw_rpc_param *sp)
{
	static struct psw_rpc_error err;
	json_error_t jerr;
	json_t *p = text ? json_loads(text, JSON_DECODE_ANY, &jerr) : NULL;
	int rc;

	if (text)
		assert_non_null(p);
	memset(&err, 0, sizeof(err));
	rc = psw_rpc_check_params(p, sp, &err);
	json_decref(p);
	if (rc == 0) {
		assert_int_equal(err.code, 0);
		return NULL;
	}
	assert_int_equal(rc, -1);
	assert_int_equal(err.code, PSW_RPC_INVALID_PARAMS);
	return err.message;
}

static void test_accepts_valid(void **state)
{
	(void)state;
	assert_null(check("{\"name\":\"a\"}", spec));
	assert_null(check("{\"name\":\"a\",\"count\":-3,\"rxq\":0,\"up\":false,\"options\":{},"
			  "\"list\":[1],\"output\":null}", spec));
	assert_null(check("{\"name\":\"a\",\"output\":\"b\"}", spec));
	assert_null(check("{}", (const struct psw_rpc_param[]){{NULL}}));
	assert_null(check(NULL, (const struct psw_rpc_param[]){{NULL}}));
}

static void test_missing_required(void **state)
{
	(void)state;
	assert_string_equal(check("{}", spec), "missing required parameter 'name'");
	assert_string_equal(check("{\"rxq\":1}", spec), "missing required parameter 'name'");
	assert_string_equal(check(NULL, spec), "missing required parameter 'name'");
}

static void test_unknown_key(void **state)
{
	const char *m;
	(void)state;

	m = check("{\"name\":\"a\",\"ouptut\":\"b\"}", spec);
	assert_non_null(m);
	assert_non_null(strstr(m, "unknown parameter 'ouptut'"));
	assert_non_null(strstr(m, "name, count, rxq, up, options, list, output"));
	m = check("{\"x\":1}", (const struct psw_rpc_param[]){{NULL}});
	assert_string_equal(m, "unknown parameter 'x' (accepted: none)");
}

static void test_wrong_types(void **state)
{
	(void)state;
	assert_string_equal(check("{\"name\":5}", spec), "parameter 'name' must be a string, got an integer");
	assert_string_equal(check("{\"name\":null}", spec), "parameter 'name' must be a string, got null");
	assert_string_equal(check("{\"name\":\"a\",\"count\":1.5}", spec),
			    "parameter 'count' must be an integer, got a number with a fraction");
	assert_string_equal(check("{\"name\":\"a\",\"rxq\":-1}", spec),
			    "parameter 'rxq' must be a non-negative integer, got a negative integer");
	assert_string_equal(check("{\"name\":\"a\",\"rxq\":\"2\"}", spec),
			    "parameter 'rxq' must be a non-negative integer, got a string");
	assert_string_equal(check("{\"name\":\"a\",\"up\":1}", spec),
			    "parameter 'up' must be a boolean, got an integer");
	assert_string_equal(check("{\"name\":\"a\",\"options\":[]}", spec),
			    "parameter 'options' must be an object, got an array");
	assert_string_equal(check("{\"name\":\"a\",\"list\":{}}", spec),
			    "parameter 'list' must be an array, got an object");
}

static void test_params_not_object(void **state)
{
	(void)state;
	assert_string_equal(check("[1,2]", spec), "params must be an object, got an array");
	assert_string_equal(check("\"x\"", spec), "params must be an object, got a string");
}

static void test_err_helper(void **state)
{
	struct psw_rpc_error err = {0};
	char big[2000];
	(void)state;

	assert_null(psw_rpc_err(&err, PSW_RPC_NOT_FOUND, "no port \"%s\"", "x"));
	assert_int_equal(err.code, PSW_RPC_NOT_FOUND);
	assert_string_equal(err.message, "no port \"x\"");

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	psw_rpc_err(&err, PSW_RPC_FAILED, "%s", big); /* truncated, never overflows */
	assert_int_equal(strlen(err.message), PSW_RPC_MSG_MAX - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_valid),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_params_not_object),
		cmocka_unit_test(test_err_helper),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
