/*
 * test_state.c: the state file (switch/state.c, switch/rpc_state.c). Two fake sections
 * ("things" then "links") stand for ports and rules: their handlers record what is
 * replayed. Checks what an operator relies on: a restart replays every entry in section
 * order; the file is replaced atomically; a corrupt, unknown or unreadable file stops the
 * restore and is never overwritten; nothing is saved before or during a restore; a
 * refused entry is skipped and reported; an entry skipped on purpose is dropped without
 * being a failure; one podswitchd per state directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctl/rpc.h"
#include "control/state.h"

static char dir[256];
static char path[320];
static json_t *things, *links; /* the live "configuration" */
static int restore_calls, restored_calls;
static bool refuse_name_bad;
static const char *skip_name; /* a thing deleted while the switch was down */
static bool check_file_during_restore;

static char *
slurp(const char *p)
{
	FILE *f = fopen(p, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void
spit(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static json_t *
dump_things(void)
{
	return json_deep_copy(things);
}

static json_t *
dump_links(void)
{
	return json_deep_copy(links);
}

static json_t *
add_thing(json_t *params, struct psw_rpc_error *err)
{
	const char *name = json_string_value(json_object_get(params, "name"));

	restore_calls++;
	if (check_file_during_restore) {
		char *now = slurp(path);

		/* A save in the middle of a restore would write a partial state. */
		psw_state_changed();
		char *after = slurp(path);
		assert_string_equal(now, after);
		free(now);
		free(after);
	}
	if (name == NULL)
		return psw_rpc_err(err, PSW_RPC_INVALID_PARAMS, "name: required");
	if (refuse_name_bad && strcmp(name, "bad") == 0)
		return psw_rpc_err(err, PSW_RPC_FAILED, "thing bad: device refused");
	json_array_append(things, params);
	return json_object();
}

static json_t *
add_link(json_t *params, struct psw_rpc_error *err)
{
	const char *from = json_string_value(json_object_get(params, "from"));
	size_t i;
	json_t *t;

	restore_calls++;
	/* Links name things: they must be restored after every thing. */
	json_array_foreach(things, i, t)
		if (strcmp(json_string_value(json_object_get(t, "name")), from) == 0) {
			json_array_append(links, params);
			return json_object();
		}
	return psw_rpc_err(err, PSW_RPC_NOT_FOUND, "from: no thing \"%s\"", from);
}

static bool
skip_thing(json_t *entry, char *why, size_t len)
{
	const char *name = json_string_value(json_object_get(entry, "name"));

	if (skip_name == NULL || name == NULL || strcmp(name, skip_name) != 0)
		return false;
	snprintf(why, len, "thing %s was deleted meanwhile", name);
	return true;
}

static void
things_restored(void)
{
	restored_calls++;
}

static const struct psw_state_section things_section = { "things", dump_things, add_thing,
							  skip_thing, things_restored };
static const struct psw_state_section links_section = { "links", dump_links, add_link };

static void
reset_live(void)
{
	json_decref(things);
	json_decref(links);
	things = json_array();
	links = json_array();
	restore_calls = 0;
	restored_calls = 0;
	skip_name = NULL;
	refuse_name_bad = false;
	check_file_during_restore = false;
}

static int
setup(void **state)
{
	char err[512];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/psw-test-state.%d/a/b", (int)getpid());
	snprintf(path, sizeof(path), "%s/state.json", dir);
	reset_live();
	if (psw_state_open(dir, err, sizeof(err)) != 0) {
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
	snprintf(cmd, sizeof(cmd), "rm -rf /tmp/psw-test-state.%d", (int)getpid());
	return system(cmd) == 0 ? 0 : -1;
}

/* Simulated restart: forget the live configuration, open the directory again. */
static void
restart(void)
{
	char err[512];

	psw_state_close();
	reset_live();
	assert_int_equal(psw_state_open(dir, err, sizeof(err)), 0);
}

static void
add(const char *name)
{
	struct psw_rpc_error e;
	json_t *p = json_pack("{s:s}", "name", name), *r;

	r = add_thing(p, &e);
	assert_non_null(r);
	json_decref(r);
	json_decref(p);
	psw_state_changed();
}

static void
test_register(void **state)
{
	static const struct psw_state_section bad = { "version", dump_things, add_thing };

	(void)state;
	/* Registered once for the whole program (order = restore order). */
	assert_int_equal(psw_state_register(&things_section), 0);
	assert_int_equal(psw_state_register(&links_section), 0);
	assert_int_equal(psw_state_register(&things_section), -EEXIST);
	assert_int_equal(psw_state_register(&bad), -EINVAL);
}

static void
test_first_start_then_restart_replays(void **state)
{
	char err[512];
	struct stat st;
	json_t *doc, *l;
	struct psw_rpc_error e;

	(void)state;
	assert_int_equal(psw_state_restore(err, sizeof(err)), 0); /* no file: first start */
	assert_int_equal(restore_calls, 0);
	add("a");
	add("b");
	add("c");
	l = json_pack("{s:s,s:s}", "from", "c", "to", "a");
	json_decref(add_link(l, &e));
	json_decref(l);
	psw_state_changed();

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(access(strcat(strcpy(err, path), ".tmp"), F_OK), -1); /* no tmp left */
	doc = json_load_file(path, 0, NULL);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "format")), "podswitch-state");
	assert_int_equal(json_integer_value(json_object_get(doc, "version")), 1);
	assert_int_equal(json_array_size(json_object_get(doc, "things")), 3);
	json_decref(doc);

	restart();
	/* The link is stored after the things, but even if it were not, sections are
	 * restored in registration order. */
	assert_int_equal(psw_state_restore(err, sizeof(err)), 0);
	assert_int_equal(restore_calls, 4);
	assert_int_equal(json_array_size(things), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(things, 2), "name")), "c");
	assert_int_equal(json_array_size(links), 1);
}

static void
test_save_before_restore_is_off(void **state)
{
	char err[512];
	char *before, *after;

	(void)state;
	spit(path, "{\"format\":\"podswitch-state\",\"version\":1,\"things\":[{\"name\":\"x\"}]}");
	restart();
	before = slurp(path);
	add("early"); /* a change before restore must not replace the unread file */
	after = slurp(path);
	assert_string_equal(before, after);
	free(after);
	assert_int_equal(psw_state_restore(err, sizeof(err)), 0);
	after = slurp(path);
	assert_string_equal(before, after); /* a clean restore does not rewrite the file */
	free(before);
	free(after);
}

static void
expect_refused(const char *text, const char *needle)
{
	char err[1024];
	char *after;

	spit(path, text);
	restart();
	assert_int_equal(psw_state_restore(err, sizeof(err)), -1);
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", err, needle);
	assert_non_null(strstr(err, path));
	assert_int_equal(restore_calls, 0); /* nothing applied */
	/* Saving stays off: the file is never overwritten. */
	add("after");
	assert_int_equal(psw_state_save(), 0);
	after = slurp(path);
	assert_string_equal(after, text);
	free(after);
}

static void
test_corrupt_file_stops_and_is_kept(void **state)
{
	(void)state;
	expect_refused("{\"format\":\"podswitch-state\",\"version\":1,\"things\":[{\"name\":\"x\"}",
		       "corrupt");
	expect_refused("", "corrupt");
	expect_refused("[1,2,3]", "not a JSON object");
	expect_refused("{\"format\":\"something-else\",\"version\":1}", "format");
	expect_refused("{\"format\":\"podswitch-state\",\"version\":7}", "version");
	expect_refused("{\"format\":\"podswitch-state\",\"version\":1,\"gadgets\":[]}",
		       "unknown section \"gadgets\"");
	expect_refused("{\"format\":\"podswitch-state\",\"version\":1,\"things\":{}}",
		       "not an array");
	expect_refused("{\"format\":\"podswitch-state\",\"version\":1,\"things\":[{\"name\":\"a\"},3]}",
		       "things[1] is not an object");
	expect_refused("{\"format\":\"podswitch-state\",\"version\":1,\"things\":[],\"things\":[]}",
		       "corrupt");
}

static void
test_unreadable_file(void **state)
{
	char err[1024];

	(void)state;
	unlink(path);
	restart();
	assert_int_equal(mkdir(path, 0700), 0); /* state.json is a directory */
	assert_int_equal(psw_state_restore(err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	add("x");
	assert_int_equal(psw_state_save(), 0);
	assert_int_equal(rmdir(path), 0); /* still a (empty) directory: not replaced */
}

static void
test_refused_entry_is_skipped_and_reported(void **state)
{
	char err[512], failed[400];
	json_t *info, *errs;
	char *text;

	(void)state;
	text = "{\"format\":\"podswitch-state\",\"version\":1,"
	       "\"things\":[{\"name\":\"a\"},{\"name\":\"bad\"},{\"name\":\"c\"}],"
	       "\"links\":[{\"from\":\"bad\",\"to\":\"a\"},{\"from\":\"c\",\"to\":\"a\"}]}";
	spit(path, text);
	restart();
	refuse_name_bad = true;
	check_file_during_restore = true;
	assert_int_equal(psw_state_restore(err, sizeof(err)), 0);
	check_file_during_restore = false;
	assert_int_equal(json_array_size(things), 2);
	assert_int_equal(json_array_size(links), 1);
	/* The original is kept, the state file now says what the switch has. */
	snprintf(failed, sizeof(failed), "%s.failed", path);
	json_t *orig = json_load_file(failed, 0, NULL);
	assert_non_null(orig);
	assert_int_equal(json_array_size(json_object_get(orig, "things")), 3);
	json_decref(orig);
	json_t *now = json_load_file(path, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(now, "things")), 2);
	json_decref(now);
	info = psw_state_info();
	errs = json_object_get(info, "restore_errors");
	assert_int_equal(json_array_size(errs), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(errs, 0), "error")),
			    "thing bad: device refused");
	assert_string_equal(json_string_value(json_object_get(json_array_get(errs, 1), "section")),
			    "links");
	json_decref(info);
}

/* An entry a section skips on purpose (a pod deleted while podswitchd was down) is not
 * a failure: listed by state.show, dropped from the file, no .failed copy. */
static void
test_skipped_entry_is_dropped(void **state)
{
	char err[512], failed[400];
	json_t *info, *sk, *now;

	(void)state;
	snprintf(failed, sizeof(failed), "%s.failed", path);
	unlink(failed);
	spit(path, "{\"format\":\"podswitch-state\",\"version\":1,"
		   "\"things\":[{\"name\":\"a\"},{\"name\":\"gone\"},{\"name\":\"c\"}],"
		   "\"links\":[{\"from\":\"c\",\"to\":\"a\"}]}");
	restart();
	skip_name = "gone";
	assert_int_equal(psw_state_restore(err, sizeof(err)), 0);
	assert_int_equal(json_array_size(things), 2);
	assert_int_equal(json_array_size(links), 1);
	assert_int_equal(restore_calls, 3);   /* "gone" never reached its handler */
	assert_int_equal(restored_calls, 1);  /* after the replay */
	assert_int_not_equal(access(failed, F_OK), 0);
	now = json_load_file(path, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(now, "things")), 2);
	json_decref(now);
	info = psw_state_info();
	assert_int_equal(json_array_size(json_object_get(info, "restore_errors")), 0);
	sk = json_object_get(info, "restore_skipped");
	assert_int_equal(json_array_size(sk), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(sk, 0), "reason")),
			    "thing gone was deleted meanwhile");
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(json_array_get(sk, 0), "entry"), "name")), "gone");
	json_decref(info);
	/* A first start (no file) runs the hook too: a section may clean up after it. */
	unlink(path);
	restart();
	assert_int_equal(psw_state_restore(err, sizeof(err)), 0);
	assert_int_equal(restored_calls, 1);
}

static void
test_one_switch_per_directory(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[512];
		int rc;

		/* psw_state_open() first closes the inherited lock fd; that does not
		 * release the lock, which the parent's descriptor still holds. */
		rc = psw_state_open(dir, err, sizeof(err));
		_exit(rc == -1 && strstr(err, "in use by another podswitchd") ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_rpc_show_export(void **state)
{
	char err[512];
	struct psw_rpc_error e;
	json_t *params = json_object(), *r, *bad;
	const struct psw_rpc_method *show = NULL, *export = NULL;

	(void)state;
	unlink(path);
	restart();
	assert_int_equal(psw_state_restore(err, sizeof(err)), 0);
	add("p1");
	for (const struct psw_rpc_method *m = psw_rpc_state_methods; m->name; m++) {
		if (strcmp(m->name, "state.show") == 0)
			show = m;
		if (strcmp(m->name, "state.export") == 0)
			export = m;
	}
	assert_non_null(show);
	assert_non_null(export);
	r = show->handler(params, &e);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "path")), path);
	assert_true(json_is_true(json_object_get(r, "saving")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(json_object_get(r, "state"), "things"), 0), "name")), "p1");
	json_decref(r);
	/* export = what would be saved now, even before it is */
	json_array_append_new(things, json_pack("{s:s}", "name", "unsaved"));
	r = export->handler(params, &e);
	assert_int_equal(json_array_size(json_object_get(r, "things")), 2);
	json_decref(r);
	bad = json_pack("{s:i}", "verbose", 1);
	assert_null(show->handler(bad, &e));
	assert_int_equal(e.code, PSW_RPC_INVALID_PARAMS);
	assert_non_null(strstr(e.message, "verbose"));
	json_decref(bad);
	json_decref(params);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register),
		cmocka_unit_test(test_first_start_then_restart_replays),
		cmocka_unit_test(test_save_before_restore_is_off),
		cmocka_unit_test(test_corrupt_file_stops_and_is_kept),
		cmocka_unit_test(test_unreadable_file),
		cmocka_unit_test(test_refused_entry_is_skipped_and_reported),
		cmocka_unit_test(test_skipped_entry_is_dropped),
		cmocka_unit_test(test_one_switch_per_directory),
		cmocka_unit_test(test_rpc_show_export),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
