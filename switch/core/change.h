/*
 * change.h: "the configuration changed" (control thread). Every feature's RPC calls
 * psw_change_notify() after a successful change; control/ registers the state file's save
 * as the hook (main.c), so features need not know about the state file.
 */
#ifndef PSW_CORE_CHANGE_H
#define PSW_CORE_CHANGE_H

void psw_change_notify(void);
/* NULL: changes are not saved (tests, start-up before restore, shutdown). */
void psw_change_set_hook(void (*fn)(void));

#endif
