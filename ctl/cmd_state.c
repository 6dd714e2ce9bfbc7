/*
 * cmd_state.c: podswitchctl's state commands, clients of state.show and state.export
 * (switch/rpc_state.c). `state show` prints where the state file is, whether saving
 * works, how many changes it does not hold yet, what it holds and what could not be
 * restored; `state export [FILE]` prints the
 * configuration as podswitchd would save it now, or writes it to FILE (atomically, mode
 * 0600), usable as another switch's state.json. Runs in the podswitchctl process.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "podswitchctl.h"

static int
state_show(struct psw_client *c, int argc, char **argv, bool json)
{
	json_t *r, *st, *v;
	const char *key;
	size_t i;

	(void)argv;
	if (argc > 1)
		return psw_ctl_usage("state show takes no arguments");
	r = psw_ctl_call(c, "state.show", NULL);
	if (r == NULL)
		return 1;
	if (json) {
		psw_ctl_print_json(r);
		json_decref(r);
		return 0;
	}
	st = json_object_get(r, "state");
	psw_ctl_kv_print(stdout, "file", "%s", json_string_value(json_object_get(r, "path")));
	psw_ctl_kv_print(stdout, "saving", "%s",
			 json_is_true(json_object_get(r, "saving")) ? "on" : "off");
	psw_ctl_kv_print(stdout, "saves", "%" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(r, "saves")));
	/* changes are saved in batches: what the file does not hold yet */
	psw_ctl_kv_print(stdout, "pending", "%" JSON_INTEGER_FORMAT " change(s) not saved yet",
			 json_integer_value(json_object_get(r, "pending")));
	v = json_object_get(r, "save_error");
	if (json_is_string(v))
		psw_ctl_kv_print(stdout, "last save error", "%s", json_string_value(v));
	if (!json_is_object(st)) {
		psw_ctl_kv_print(stdout, "saved", "nothing yet");
	} else {
		psw_ctl_kv_print(stdout, "saved at", "%s",
				 json_string_value(json_object_get(st, "saved_at")));
		json_object_foreach(st, key, v)
			if (json_is_array(v))
				psw_ctl_kv_print(stdout, key, "%zu", json_array_size(v));
	}
	json_array_foreach(json_object_get(r, "restore_errors"), i, v) {
		if (i == 0)
			printf("not restored at start:\n");
		printf("  %s[%" JSON_INTEGER_FORMAT "]: %s\n",
		       json_string_value(json_object_get(v, "section")),
		       json_integer_value(json_object_get(v, "index")),
		       json_string_value(json_object_get(v, "error")));
	}
	json_array_foreach(json_object_get(r, "restore_skipped"), i, v) {
		if (i == 0)
			printf("left out at start:\n");
		printf("  %s[%" JSON_INTEGER_FORMAT "]: %s\n",
		       json_string_value(json_object_get(v, "section")),
		       json_integer_value(json_object_get(v, "index")),
		       json_string_value(json_object_get(v, "reason")));
	}
	json_decref(r);
	return 0;
}

static int
write_file(const char *path, const char *text)
{
	char tmp[4096];
	size_t n = strlen(text);
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (n > 0) {
		ssize_t w = write(fd, text, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		text += w;
		n -= (size_t)w;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	n = (size_t)errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -(int)n;
}

static int
state_export(struct psw_client *c, int argc, char **argv, bool json)
{
	json_t *r;
	char *text;
	int rc;

	(void)json; /* the export is JSON either way */
	if (argc > 2)
		return psw_ctl_usage("state export takes at most one FILE");
	r = psw_ctl_call(c, "state.export", NULL);
	if (r == NULL)
		return 1;
	text = json_dumps(r, JSON_INDENT(1));
	json_decref(r);
	if (text == NULL)
		return psw_ctl_error("out of memory");
	if (argc < 2 || strcmp(argv[1], "-") == 0) {
		printf("%s\n", text);
		free(text);
		return 0;
	}
	rc = write_file(argv[1], text);
	free(text);
	if (rc < 0)
		return psw_ctl_error("%s: %s", argv[1], strerror(-rc));
	return 0;
}

const struct psw_cmd psw_cmds_state[] = {
	{"state", "show", "", "show the saved state file and any save or restore problems",
	 state_show},
	{"state", "export", "[FILE]",
	 "print the configuration as it would be saved (or write it to FILE)", state_export},
	{NULL},
};
