/* change.c: the configuration-changed hook (change.h). Control thread. */
#include <stddef.h>

#include "core/change.h"

static void (*hook)(void);

void
psw_change_notify(void)
{
	if (hook != NULL)
		hook();
}

void
psw_change_set_hook(void (*fn)(void))
{
	hook = fn;
}
