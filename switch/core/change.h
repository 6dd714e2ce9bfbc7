/*
 * change.h: "the configuration changed" (control thread). Every feature's RPC calls
 * psw_change_notify() after a successful change; control/ registers the state file's save
 * as the hook (main.c), so features need not know about the state file.
 *
 * Two kinds: psw_change_notify() is saved before the RPC answers (ports, networks, peers,
 * neighbors: what a CNI result or an operator's command promises to survive a crash);
 * psw_change_notify_batched() may be saved with later ones, within the state file's save
 * interval (rule changes: a controller pushing 100,000 of them pays a few saves).
 */
#ifndef PSW_CORE_CHANGE_H
#define PSW_CORE_CHANGE_H

#include <stdbool.h>

void psw_change_notify(void);
void psw_change_notify_batched(void);
/* NULL: changes are not saved (tests, start-up before restore, shutdown). The hook is
 * told whether the change may wait (batched). */
void psw_change_set_hook(void (*fn)(bool batched));

#endif
