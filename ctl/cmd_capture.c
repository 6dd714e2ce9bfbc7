/*
 * cmd_capture.c: `podswitchctl capture`, client of capture.start/stop/status
 * (switch/control/rpc_capture.c). podswitchd writes the pcapng file itself; this command
 * starts the capture, then asks for its status every 200 ms (which also tells podswitchd
 * that someone is still waiting: a capture whose client went away ends after 10 s) until
 * it ends by itself (--count, --duration) or Ctrl-C stops it, and prints the summary as
 * tcpdump does. Runs in the podswitchctl process.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "podswitchctl.h"

#define POLL_MS 200
#define CLIENT_TIMEOUT_S 10

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void summary(json_t *st)
{
	char reason[256];

	fprintf(stderr, "%" PRIu64 " packets captured\n%" PRIu64 " packets matched\n"
		"%" PRIu64 " packets lost (capture buffers full)\n",
		psw_ctl_u64(st, "packets"), psw_ctl_u64(st, "matched"), psw_ctl_u64(st, "lost"));
	fprintf(stderr, "capture %" PRIu64 " ended: %s\n", psw_ctl_u64(st, "id"),
		psw_ctl_str(json_object_get(st, "reason"), reason, sizeof(reason)));
}

/* An ending that is not what the user asked for (a write error, the port removed). */
static bool ended_badly(json_t *st)
{
	const char *r = json_string_value(json_object_get(st, "reason"));

	return r == NULL || (strcmp(r, "stopped") != 0 && strcmp(r, "count reached") != 0 &&
			     strcmp(r, "duration reached") != 0);
}

static int capture(struct psw_client *c, int argc, char **argv, bool json)
{
	static const struct option opts[] = {
		{"direction", required_argument, NULL, 'd'},
		{"count", required_argument, NULL, 'c'},
		{"filter", required_argument, NULL, 'f'},
		{"snaplen", required_argument, NULL, 's'},
		{"duration", required_argument, NULL, 't'},
		{"write", required_argument, NULL, 'w'},
		{NULL, 0, NULL, 0}
	};
	json_t *params = json_object();
	const char *file = NULL;
	char path[PATH_MAX];
	uint64_t v;
	int opt;

	while ((opt = getopt_long(argc, argv, ":w:c:", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			json_object_set_new(params, "direction", json_string(optarg));
			break;
		case 'c':
			if (psw_ctl_parse_uint("--count", optarg, INT64_MAX, &v) < 0)
				goto usage;
			json_object_set_new(params, "count", json_integer((json_int_t)v));
			break;
		case 'f':
			json_object_set_new(params, "filter", json_string(optarg));
			break;
		case 's':
			if (psw_ctl_parse_uint("--snaplen", optarg, 65535, &v) < 0)
				goto usage;
			json_object_set_new(params, "snaplen", json_integer((json_int_t)v));
			break;
		case 't':
			if (psw_ctl_parse_uint("--duration", optarg, 86400 * 365, &v) < 0)
				goto usage;
			json_object_set_new(params, "duration_s", json_integer((json_int_t)v));
			break;
		case 'w':
			file = optarg;
			break;
		default:
			json_decref(params);
			return psw_ctl_bad_option(opt, argv);
		}
	}
	if (argc - optind != 1) {
		json_decref(params);
		return psw_ctl_usage("capture wants one PORT");
	}
	if (file == NULL) {
		json_decref(params);
		return psw_ctl_usage("capture wants -w FILE (a pcapng file, written by podswitchd)");
	}
	/* podswitchd writes the file: a relative name is taken from here. */
	if (file[0] != '/') {
		if (getcwd(path, sizeof(path)) == NULL ||
		    strlen(path) + 1 + strlen(file) >= sizeof(path)) {
			json_decref(params);
			return psw_ctl_error("-w %s: cannot make it an absolute path", file);
		}
		strcat(strcat(path, "/"), file);
		file = path;
	}
	json_object_set_new(params, "port", json_string(argv[optind]));
	json_object_set_new(params, "file", json_string(file));
	json_object_set_new(params, "client_timeout_s", json_integer(CLIENT_TIMEOUT_S));

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;   /* no SA_RESTART: the sleep below ends at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	json_t *st = psw_ctl_call(c, "capture.start", params);
	if (!st)
		return 1;
	unsigned id = (unsigned)psw_ctl_u64(st, "id");
	fprintf(stderr, "podswitchctl: capturing on %s into %s (capture %u); Ctrl-C stops\n",
		argv[optind], file, id);
	while (strcmp(json_string_value(json_object_get(st, "state")), "running") == 0) {
		struct timespec ts = { 0, POLL_MS * 1000000L };
		json_t *next;

		nanosleep(&ts, NULL);
		if (interrupted)
			next = psw_ctl_call(c, "capture.stop", json_pack("{s:i}", "id", (int)id));
		else
			next = psw_ctl_call(c, "capture.status", json_pack("{s:i}", "id", (int)id));
		if (!next) {
			json_decref(st);
			return 1;
		}
		json_decref(st);
		st = next;
	}
	if (json)
		psw_ctl_print_json(st);
	summary(st);
	int rc = ended_badly(st) ? 1 : 0;
	json_decref(st);
	return rc;
usage:
	json_decref(params);
	return 2;
}

static int capture_list(struct psw_client *c, int argc, char **argv, bool json)
{
	int rc = psw_ctl_no_args(argc, argv);

	if (rc)
		return rc;
	json_t *r = psw_ctl_call(c, "capture.status", NULL);
	if (!r)
		return 1;
	if (json) {
		psw_ctl_print_json(r);
		json_decref(r);
		return 0;
	}
	static const char *const hdr[] = {"ID", "PORT", "STATE", "PACKETS", "LOST", "FILTER",
					  "FILE", "REASON"};
	static const char *const keys[] = {"id", "port", "state", "packets", "lost", "filter",
					   "file", "reason"};
	struct psw_table *t = psw_table_new(8, hdr);
	json_t *s;
	size_t i;
	json_array_foreach(json_object_get(r, "captures"), i, s) {
		char b[8][300];
		const char *cells[8];
		for (int k = 0; k < 8; k++) {
			json_t *v = json_object_get(s, keys[k]);
			cells[k] = psw_ctl_str(json_is_string(v) && !json_string_length(v) ? NULL : v,
					       b[k], sizeof(b[k]));
		}
		psw_table_row(t, cells);
	}
	psw_table_print(t, stdout);
	psw_table_free(t);
	json_decref(r);
	return 0;
}

static int capture_stop(struct psw_client *c, int argc, char **argv, bool json)
{
	uint64_t id;
	int rc = psw_ctl_no_options(argc, argv);

	if (rc)
		return rc;
	if (argc - optind != 1)
		return psw_ctl_usage("capture stop wants one ID (podswitchctl capture list)");
	if (psw_ctl_parse_uint("ID", argv[optind], UINT32_MAX, &id) < 0)
		return 2;
	json_t *r = psw_ctl_call(c, "capture.stop", json_pack("{s:I}", "id", (json_int_t)id));
	if (!r)
		return 1;
	if (json)
		psw_ctl_print_json(r);
	else
		summary(r);
	json_decref(r);
	return 0;
}

const struct psw_cmd psw_cmds_capture[] = {
	{"capture", "list", "", "Captures running and recently finished.", capture_list},
	{"capture", "stop", "ID", "Stop a capture (its file is complete when this returns).",
	 capture_stop},
	{"capture", NULL,
	 "PORT [--direction rx|tx|both] [--count N] [--filter EXPR] [--snaplen N] "
	 "[--duration SEC] -w FILE",
	 "Write the packets of PORT (any type) to a pcapng file, without stopping traffic; "
	 "--filter in tcpdump syntax; ends after --count packets, --duration or Ctrl-C.",
	 capture},
	{NULL}
};
