/*
 * test_state_save.c: batched state saves (switch/control/state.c's save path): a change is
 * noted (psw_state_note_change, the change hook), the control loop saves
 * (psw_state_tick) at most every 100 ms while changes are pending, and at shutdown
 * (psw_state_flush); `state show` says how many changes are not saved yet. A burst of
 * 10,000 changes costs one or two saves, not 10,000; nothing is noted before the restore
 * has run; a change that may not wait (ports, networks) is saved at once. One fake section
 * stands for the rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctl/rpc.h"
#include "control/state.h"

static char dir[256];
static char path[320];
static json_t *rules;

static json_t *
dump_rules(void)
{
	return json_deep_copy(rules);
}

static json_t *
add_rule(json_t *params, struct psw_rpc_error *err)
{
	(void)err;
	json_array_append(rules, params);
	return json_object();
}

static const struct psw_state_section rules_section = { "rules", dump_rules, add_rule };

/* A change, as an RPC makes it: the live table changes, then the hook notes it. */
static void
change(int i)
{
	json_array_append_new(rules, json_pack("{s:i}", "n", i));
	psw_state_note_change(true);
}

static size_t
saved_rules(void)
{
	json_t *doc = json_load_file(path, 0, NULL);
	size_t n;

	assert_non_null(doc);
	n = json_array_size(json_object_get(doc, "rules"));
	json_decref(doc);
	return n;
}

static json_int_t
info(const char *key)
{
	json_t *o = psw_state_info();
	json_int_t v = json_integer_value(json_object_get(o, key));

	json_decref(o);
	return v;
}

static void
sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

static void
test_batched(void **state)
{
	char err[512];
	json_int_t saves;

	(void)state;
	/* Before the restore has run nothing is noted (nor saved). */
	change(0);
	assert_int_equal(info("pending"), 0);
	assert_int_equal(psw_state_restore(err, sizeof(err)), 0);   /* no file: first start */
	assert_int_equal(access(path, F_OK), -1);
	saves = info("saves");

	/* The first change after a quiet while is saved at the next tick. */
	change(1);
	assert_int_equal(info("pending"), 1);
	psw_state_tick();
	assert_int_equal(info("pending"), 0);
	assert_int_equal(info("saves"), saves + 1);
	assert_int_equal(saved_rules(), 2);

	/* A burst right after: noted, not saved, until 100 ms have passed. */
	for (int i = 0; i < 10000; i++) {
		change(2 + i);
		psw_state_tick();
	}
	assert_int_equal(info("saves"), saves + 1);
	assert_int_equal(info("pending"), 10000);
	assert_int_equal(saved_rules(), 2);
	sleep_ms(30);
	psw_state_tick();
	assert_int_equal(info("pending"), 10000);
	sleep_ms(100);
	psw_state_tick();
	assert_int_equal(info("pending"), 0);
	assert_int_equal(info("saves"), saves + 2);
	assert_int_equal(saved_rules(), 10002);

	/* Shutdown saves what is pending at once; with nothing pending it writes nothing. */
	change(99999);
	psw_state_flush();
	assert_int_equal(info("pending"), 0);
	assert_int_equal(info("saves"), saves + 3);
	assert_int_equal(saved_rules(), 10003);
	psw_state_flush();
	assert_int_equal(info("saves"), saves + 3);

	/* A change that may not wait (a port, a network): saved before the RPC answers, with
	 * the rule changes pending, even right after a save. */
	change(100000);
	psw_state_note_change(false);
	assert_int_equal(info("pending"), 0);
	assert_int_equal(info("saves"), saves + 4);
	assert_int_equal(saved_rules(), 10004);
}

static int
setup(void **state)
{
	char err[512];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/psw-test-state-save.%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/state.json", dir);
	rules = json_array();
	if (psw_state_register(&rules_section) != 0 || psw_state_open(dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "open: %s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	psw_state_close();
	json_decref(rules);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batched),
	};

	return cmocka_run_group_tests_name("state_save", tests, setup, teardown);
}
