/*
 * state.h: the saved configuration (control thread only). podswitchd writes what it was
 * told (ports with their options, static outputs, networks, rules) to
 * <state_dir>/state.json shortly after every successful change (batched: at most every
 * 100 ms; state.c), and replays it at start, before
 * forwarding begins. The saved entries ARE the RPC params: restoring a section calls the
 * same validated handler (port.add, network.add, flow.add...) once per entry, so a
 * restored switch is built exactly like a live one.
 *
 * File: {"format": "podswitch-state", "version": 1, "saved_at": "...",
 *        "<section key>": [ <params>, ... ], ...}
 */
#ifndef PSW_STATE_H
#define PSW_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "ctl/rpc.h"

#define PSW_STATE_VERSION 1
#define PSW_STATE_MAX_SECTIONS 16

struct psw_state_section {
	const char *key;             /* top-level key in state.json */
	json_t *(*dump)(void);       /* new reference: array of params, in replay order */
	psw_rpc_handler restore_one; /* applies one entry; NULL + err on failure */
	/* Optional: an entry not to restore because what it served was deleted while
	 * podswitchd was down (a pod's port after a CNI DEL): true, and why. Skipped entries
	 * are not errors: they are logged, listed by state.show and dropped from the file. */
	bool (*skip)(json_t *entry, char *why, size_t len);
	/* Optional: after every section was replayed (also on a first start). */
	void (*restored)(void);
};

/* Order of registration = restore order (ports before the outputs and rules naming
 * them). s must stay valid (static). 0, -EEXIST or -ENOSPC. */
int psw_state_register(const struct psw_state_section *s);

/* mkdir -p state_dir, lock it (one podswitchd per state directory), remove a temporary
 * file left by an interrupted save. 0 or -1 with a message. */
int psw_state_open(const char *state_dir, char *err, size_t errlen);
void psw_state_close(void);

/* Replay state.json through the sections' handlers. A missing file is a first start
 * (0). An unreadable or corrupt file, an unknown format or version, or an unknown section
 * is an error: the start must stop, and the file is left untouched (saving stays off).
 * An entry its handler refuses (a pod's namespace that vanished while podswitchd was
 * down...) is logged and skipped; the file as it was is kept as state.json.failed and
 * the reasons are in state.show. An entry a section skips on purpose is logged, listed in
 * state.show ("restore_skipped") and dropped from the file. Until restore has run, saving is off, so an early
 * change can never overwrite a state file that was not read yet. */
int psw_state_restore(char *err, size_t errlen);

/* Write the current configuration atomically: state.json.tmp, fsync, rename, fsync the
 * directory. 0 or -errno (the previous file is then intact). A no-op (0) while restoring
 * or before restore ran. */
int psw_state_save(void);
/* Save now, and log a failed save. */
void psw_state_changed(void);
/* The change hook (core/change.h): note a change; saved now, or (batched) by
 * psw_state_tick(). */
void psw_state_note_change(bool batched);
/* Control loop, every iteration: save when changes are pending and the last save is 100 ms
 * old (longer for a state file that takes long to write: see state.c). */
void psw_state_tick(void);
/* Shutdown: save pending changes now. */
void psw_state_flush(void);

/* The document psw_state_save() would write now (new reference). */
json_t *psw_state_dump(void);
/* For state.show: path, the file as saved, changes not saved yet (pending), last save
 * error, restore errors. */
json_t *psw_state_info(void);
const char *psw_state_path(void);

/* rpc_state.c: state.show, state.export. */
extern const struct psw_rpc_method psw_rpc_state_methods[];

#endif
