/*
 * backend_stubs.c: the switch functions the back ends in vhost/ call besides
 * psw_port_poll_links() (which test_backend.c counts), for tests that link the back ends
 * without the switch (unit_backend). memif_server.c publishes connections with RCU and
 * sets the link of its port; test_backend never connects a memif client, so none of
 * these is reached there. Retired objects are freed at once (no PMD runs).
 */
#include <stddef.h>

#include "port.h"
#include "rcu.h"

unsigned psw_n_pmds = 1;

struct psw_port *
psw_port_by_name(const char *name)
{
	(void)name;
	return NULL;
}

void
psw_port_set_link(uint16_t id, bool up)
{
	(void)id;
	(void)up;
}

void
psw_retire(void *old, void (*fn)(void *))
{
	if (old != NULL)
		fn(old);
}
