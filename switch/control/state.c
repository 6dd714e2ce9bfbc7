/*
 * state.c: the persisted state file (state.h). Control thread only; not on the packet
 * path, and independent of DPDK (its unit test runs without EAL).
 *
 * Save: a successful mutating RPC notes a change (core/change.h -> psw_state_note_change).
 * Ports, networks, peers and neighbors are saved before the RPC answers. Rule changes are
 * batched: the control loop saves (psw_state_tick) once changes are pending and the last save is
 * SAVE_INTERVAL_S (100 ms) old, or longer ago than SAVE_COST_FACTOR times its duration
 * when saving takes longer than that (a big table: the control thread spends at most a
 * fifth of its time saving), and once more at shutdown (psw_state_flush). So a crash loses
 * at most the rule changes of that last interval, and a burst of 100,000 rule changes costs a
 * few saves, not 100,000. A save dumps the registered sections into one JSON document,
 * writes it to state.json.tmp, fsyncs it, renames it over state.json and fsyncs the
 * directory, so a crash at any point leaves either the old or the new file, never a torn
 * one. psw_state_changed() saves at once (restore, tests).
 *
 * Restore: at start, before PMDs forward. The file is read whole and checked (format,
 * version, every key a registered section, every section an array of objects) before
 * anything is applied, so a corrupt file changes nothing and stops the start. Saving is
 * off until restore has run and stays off after a failed restore: a file we could not
 * read is never overwritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "control/state.h"

#define STATE_FORMAT "podswitch-state"

static const struct psw_state_section *sections[PSW_STATE_MAX_SECTIONS];
static unsigned n_sections;

static char dir_path[4096];
static char file_path[4096 + 16];
static char tmp_path[4096 + 32];
static int lock_fd = -1;

static bool restore_done;   /* saving allowed */
static bool restoring;      /* handlers call psw_state_changed(): ignore */
static json_t *restore_errors; /* array of {"section", "index", "entry", "error"} */
static json_t *restore_skipped; /* array of {"section", "index", "entry", "reason"} */
static char save_error[sizeof(file_path) + 128];
static unsigned long saves;
/* Batched saves: changes noted since the last save, when it ended and what it cost. */
#define SAVE_INTERVAL_S   0.1
#define SAVE_COST_FACTOR  5
static unsigned long pending;
static double last_save_at, last_save_cost;

static double
mono_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int
fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int
psw_state_register(const struct psw_state_section *s)
{
	for (unsigned i = 0; i < n_sections; i++)
		if (strcmp(sections[i]->key, s->key) == 0)
			return -EEXIST;
	if (n_sections == PSW_STATE_MAX_SECTIONS)
		return -ENOSPC;
	if (strcmp(s->key, "format") == 0 || strcmp(s->key, "version") == 0 ||
	    strcmp(s->key, "saved_at") == 0)
		return -EINVAL;
	sections[n_sections++] = s;
	return 0;
}

static int
mkdir_p(const char *path)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *c = buf + 1; ; c++) {
		bool last = *c == '\0';

		if (*c != '/' && !last)
			continue;
		*c = '\0';
		if (mkdir(buf, 0750) < 0 && errno != EEXIST)
			return -errno;
		if (last)
			break;
		*c = '/';
	}
	return 0;
}

int
psw_state_open(const char *state_dir, char *err, size_t errlen)
{
	char lock_path[4096 + 16];
	int rc, fd;

	if (state_dir == NULL || state_dir[0] != '/' || strlen(state_dir) >= sizeof(dir_path))
		return fail(err, errlen, "state_dir: must be an absolute path");
	psw_state_close();
	snprintf(dir_path, sizeof(dir_path), "%s", state_dir);
	snprintf(file_path, sizeof(file_path), "%s/state.json", dir_path);
	snprintf(tmp_path, sizeof(tmp_path), "%s/state.json.tmp", dir_path);
	rc = mkdir_p(dir_path);
	if (rc < 0)
		return fail(err, errlen, "state_dir %s: %s", dir_path, strerror(-rc));
	snprintf(lock_path, sizeof(lock_path), "%s/lock", dir_path);
	fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(err, errlen, "state_dir %s: %s", dir_path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK)
			return fail(err, errlen,
				    "state_dir %s is in use by another podswitchd (lock held)",
				    dir_path);
		return fail(err, errlen, "state_dir %s: lock: %s", dir_path, strerror(e));
	}
	lock_fd = fd;
	/* A save interrupted before its rename leaves only the temporary file. */
	if (unlink(tmp_path) < 0 && errno != ENOENT)
		return fail(err, errlen, "%s: %s", tmp_path, strerror(errno));
	restore_done = false;
	json_decref(restore_errors);
	restore_errors = json_array();
	json_decref(restore_skipped);
	restore_skipped = json_array();
	save_error[0] = '\0';
	return 0;
}

void
psw_state_close(void)
{
	if (lock_fd >= 0)
		close(lock_fd);
	lock_fd = -1;
	restore_done = false;
	json_decref(restore_errors);
	restore_errors = NULL;
	json_decref(restore_skipped);
	restore_skipped = NULL;
}

const char *
psw_state_path(void)
{
	return file_path;
}

json_t *
psw_state_dump(void)
{
	char when[32];
	struct tm tm;
	time_t now = time(NULL);
	json_t *doc;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	doc = json_pack("{s:s,s:i,s:s}", "format", STATE_FORMAT, "version", PSW_STATE_VERSION,
			"saved_at", when);
	if (doc == NULL)
		return NULL;
	for (unsigned i = 0; i < n_sections; i++) {
		json_t *a = sections[i]->dump();

		if (a == NULL || !json_is_array(a)) {
			json_decref(a);
			json_decref(doc);
			return NULL;
		}
		json_object_set_new(doc, sections[i]->key, a);
	}
	return doc;
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int
write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Atomically replace `path` with `text` (tmp file in the same directory). */
static int
write_atomic(const char *path, const char *tmp, const char *text)
{
	int fd, rc;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, text, strlen(text));
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc != 0) {
		unlink(tmp);
		return rc;
	}
	return fsync_dir(dir_path);
}

int
psw_state_save(void)
{
	double t0 = mono_s();
	json_t *doc;
	char *text;
	int rc;

	if (restoring || !restore_done || lock_fd < 0)
		return 0;
	doc = psw_state_dump();
	if (doc == NULL) {
		snprintf(save_error, sizeof(save_error), "cannot build the state document");
		return -ENOMEM;
	}
	text = json_dumps(doc, JSON_INDENT(1));
	json_decref(doc);
	if (text == NULL)
		return -ENOMEM;
	rc = write_atomic(file_path, tmp_path, text);
	free(text);
	if (rc < 0) {
		snprintf(save_error, sizeof(save_error), "%s: %s", file_path, strerror(-rc));
		return rc;
	}
	save_error[0] = '\0';
	saves++;
	pending = 0;
	last_save_at = mono_s();
	last_save_cost = last_save_at - t0;
	return 0;
}

void
psw_state_changed(void)
{
	int rc = psw_state_save();

	if (rc < 0)
		fprintf(stderr, "podswitchd: state: save failed, the previous state file is kept: %s\n",
			save_error);
	/* a failed save is tried again at the next interval */
	last_save_at = mono_s();
}

void
psw_state_note_change(bool batched)
{
	if (restoring || !restore_done || lock_fd < 0)
		return;
	pending++;
	if (!batched)
		psw_state_changed(); /* with whatever rule changes were pending */
}

void
psw_state_tick(void)
{
	double wait = SAVE_INTERVAL_S;

	if (pending == 0)
		return;
	if (last_save_cost * SAVE_COST_FACTOR > wait)
		wait = last_save_cost * SAVE_COST_FACTOR;
	if (mono_s() - last_save_at >= wait)
		psw_state_changed();
}

void
psw_state_flush(void)
{
	if (pending)
		psw_state_changed();
}

static const struct psw_state_section *
section_by_key(const char *key)
{
	for (unsigned i = 0; i < n_sections; i++)
		if (strcmp(sections[i]->key, key) == 0)
			return sections[i];
	return NULL;
}

/* Everything about the document that can be checked before applying any of it. */
static int
check_doc(json_t *doc, char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	if (!json_is_object(doc))
		return fail(err, errlen, "not a JSON object");
	v = json_object_get(doc, "format");
	if (!json_is_string(v) || strcmp(json_string_value(v), STATE_FORMAT) != 0)
		return fail(err, errlen, "\"format\" is not \"%s\"", STATE_FORMAT);
	v = json_object_get(doc, "version");
	if (!json_is_integer(v) || json_integer_value(v) != PSW_STATE_VERSION)
		return fail(err, errlen, "\"version\" is not %d", PSW_STATE_VERSION);
	json_object_foreach(doc, key, v) {
		size_t i;
		json_t *e;

		if (strcmp(key, "format") == 0 || strcmp(key, "version") == 0)
			continue;
		if (strcmp(key, "saved_at") == 0) {
			if (!json_is_string(v))
				return fail(err, errlen, "\"saved_at\" is not a string");
			continue;
		}
		if (section_by_key(key) == NULL)
			return fail(err, errlen, "unknown section \"%s\"", key);
		if (!json_is_array(v))
			return fail(err, errlen, "section \"%s\" is not an array", key);
		json_array_foreach(v, i, e)
			if (!json_is_object(e))
				return fail(err, errlen, "%s[%zu] is not an object", key, i);
	}
	return 0;
}

static void
keep_failed_copy(void)
{
	char failed[sizeof(file_path) + 8];
	char *text;
	json_error_t jerr;
	json_t *doc = json_load_file(file_path, 0, &jerr);

	snprintf(failed, sizeof(failed), "%s.failed", file_path);
	if (doc == NULL)
		return;
	text = json_dumps(doc, JSON_INDENT(1));
	json_decref(doc);
	if (text != NULL && write_atomic(failed, tmp_path, text) == 0)
		fprintf(stderr, "podswitchd: state: the state file as it was is kept as %s\n",
			failed);
	free(text);
}

static void
sections_restored(void)
{
	for (unsigned s = 0; s < n_sections; s++)
		if (sections[s]->restored != NULL)
			sections[s]->restored();
}

/* Replay one entry of section s; 1 applied, 0 skipped on purpose, -1 refused. */
static int
restore_entry(unsigned s, size_t i, json_t *e)
{
	struct psw_rpc_error rerr = { 0 };
	json_t *params, *res;
	char why[PSW_RPC_MSG_MAX];

	if (sections[s]->skip != NULL && sections[s]->skip(e, why, sizeof(why))) {
		fprintf(stderr, "podswitchd: state: %s[%zu] not restored: %s\n", sections[s]->key,
			i, why);
		json_array_append_new(restore_skipped,
				      json_pack("{s:s,s:i,s:O,s:s}", "section", sections[s]->key,
						"index", (int)i, "entry", e, "reason", why));
		return 0;
	}
	params = json_deep_copy(e);
	res = sections[s]->restore_one(params, &rerr);
	json_decref(params);
	if (res != NULL) {
		json_decref(res);
		return 1;
	}
	fprintf(stderr, "podswitchd: state: %s[%zu] not restored: %s\n", sections[s]->key, i,
		rerr.message);
	json_array_append_new(restore_errors,
			      json_pack("{s:s,s:i,s:O,s:s}", "section", sections[s]->key,
					"index", (int)i, "entry", e, "error", rerr.message));
	return -1;
}

int
psw_state_restore(char *err, size_t errlen)
{
	json_error_t jerr;
	struct stat st;
	json_t *doc;
	unsigned applied = 0, failed = 0, skipped = 0;

	if (lock_fd < 0)
		return fail(err, errlen, "state: psw_state_open() was not called");
	restore_done = false;
	if (stat(file_path, &st) < 0) {
		if (errno != ENOENT)
			return fail(err, errlen, "state file %s: %s", file_path, strerror(errno));
		sections_restored();
		restore_done = true; /* first start */
		return 0;
	}
	doc = json_load_file(file_path, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL)
		return fail(err, errlen,
			    "state file %s is unreadable or corrupt (line %d, column %d: %s); "
			    "podswitchd will not start nor overwrite it: repair it, or move it "
			    "away to start empty", file_path, jerr.line, jerr.column, jerr.text);
	if (check_doc(doc, err, errlen) != 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", err ? err : "");
		json_decref(doc);
		return fail(err, errlen,
			    "state file %s is not valid: %s; podswitchd will not start nor "
			    "overwrite it: repair it, or move it away to start empty",
			    file_path, why);
	}

	restoring = true;
	for (unsigned s = 0; s < n_sections; s++) {
		json_t *a = json_object_get(doc, sections[s]->key), *e;
		size_t i;

		json_array_foreach(a, i, e) {
			int r = restore_entry(s, i, e);

			applied += r > 0;
			skipped += r == 0;
			failed += r < 0;
		}
	}
	restoring = false;
	json_decref(doc);
	sections_restored();
	restore_done = true;
	fprintf(stderr, "podswitchd: state: restored %u entries from %s%s%s\n", applied,
		file_path, skipped ? " (some skipped, see above)" : "",
		failed ? " (some failed, see above)" : "");
	if (failed > 0)
		keep_failed_copy();
	if (failed > 0 || skipped > 0)
		psw_state_changed(); /* the file now says what the switch really has */
	return 0;
}

json_t *
psw_state_info(void)
{
	json_error_t jerr;
	json_t *saved = NULL, *o;
	struct stat st;

	if (file_path[0] != '\0' && stat(file_path, &st) == 0)
		saved = json_load_file(file_path, 0, &jerr);
	o = json_pack("{s:s,s:o,s:b,s:I,s:I,s:o,s:o}", "path", file_path,
		      "state", saved ? saved : json_null(), "saving", restore_done && !restoring,
		      "saves", (json_int_t)saves, "pending", (json_int_t)pending,
		      "restore_errors", restore_errors ? json_deep_copy(restore_errors)
						       : json_array(),
		      "restore_skipped", restore_skipped ? json_deep_copy(restore_skipped)
							 : json_array());
	if (o != NULL) {
		json_object_set_new(o, "save_error",
				    save_error[0] ? json_string(save_error) : json_null());
		/* what the last save took: a big one is made less often (psw_state_tick) */
		json_object_set_new(o, "last_save_ms", json_real(last_save_cost * 1e3));
	}
	return o;
}
