/* change.c: the configuration-changed hook (change.h). Control thread. */
#include <stddef.h>

#include "core/change.h"

static void (*hook)(bool batched);

void
psw_change_notify(void)
{
	if (hook != NULL)
		hook(false);
}

void
psw_change_notify_batched(void)
{
	if (hook != NULL)
		hook(true);
}

void
psw_change_set_hook(void (*fn)(bool batched))
{
	hook = fn;
}
