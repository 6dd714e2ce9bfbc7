/*
 * backend.c: the back-end registry (psw_backend_register, psw_backend_find) and the
 * link-event relay (backend.h).
 *
 * Threads: everything runs on the control thread (main lcore) except the callers of
 * psw_backend_link_event(): DPDK calls lsc_event() from its interrupt thread (or the
 * vhost-user events thread for net_vhost, also for its queue-state events). They only add to an eventfd;
 * psw_backend_poll_events() on the control loop reads it and refreshes link state, so no
 * other thread ever touches switch state. Not on the packet path.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include "port/backend.h"
#include "port/port.h"

#define MAX_BACKENDS 8

static const struct psw_backend *backends[MAX_BACKENDS];
static unsigned n_backends;
static int event_fd = -1;
static bool restoring;

void
psw_backend_set_restoring(bool on)
{
	restoring = on;
}

bool
psw_backend_restoring(void)
{
	return restoring;
}

int
psw_backend_register(const struct psw_backend *be)
{
	for (unsigned i = 0; i < n_backends; i++)
		if (strcmp(backends[i]->type, be->type) == 0)
			return backends[i] == be ? 0 : -EEXIST;
	if (n_backends == MAX_BACKENDS)
		return -ENOSPC;
	backends[n_backends++] = be;
	return 0;
}

void
psw_backend_link_event(void)
{
	uint64_t one = 1;
	ssize_t rc;

	if (event_fd < 0)
		return;
	rc = write(event_fd, &one, sizeof(one));
	(void)rc; /* EAGAIN: the counter is saturated, an event is pending anyway */
}

/* DPDK's interrupt thread (or the vhost events thread). Only posts; see the file comment. */
static int
lsc_event(uint16_t port_id, enum rte_eth_event_type type, void *arg, void *ret_param)
{
	(void)port_id;
	(void)type;
	(void)arg;
	(void)ret_param;
	psw_backend_link_event();
	return 0;
}

int
psw_backend_init(void)
{
	int rc;

	if (event_fd >= 0)
		return 0;
	event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (event_fd < 0)
		return -errno;
	/* RTE_ETH_ALL: the callback stays on every port id, including ports probed later. */
	rc = rte_eth_dev_callback_register(RTE_ETH_ALL, RTE_ETH_EVENT_INTR_LSC, lsc_event,
					   NULL);
	/* A vhost-user pod enabling or disabling a queue pair (net_vhost's vring state):
	 * the same relay, so the control loop remaps the PMDs' tx queues. */
	if (rc == 0) {
		rc = rte_eth_dev_callback_register(RTE_ETH_ALL, RTE_ETH_EVENT_QUEUE_STATE,
						   lsc_event, NULL);
		if (rc < 0)
			rte_eth_dev_callback_unregister(RTE_ETH_ALL, RTE_ETH_EVENT_INTR_LSC,
							lsc_event, NULL);
	}
	if (rc < 0) {
		close(event_fd);
		event_fd = -1;
		return rc;
	}
	return 0;
}

void
psw_backend_fini(void)
{
	if (event_fd < 0)
		return;
	rte_eth_dev_callback_unregister(RTE_ETH_ALL, RTE_ETH_EVENT_INTR_LSC, lsc_event, NULL);
	rte_eth_dev_callback_unregister(RTE_ETH_ALL, RTE_ETH_EVENT_QUEUE_STATE, lsc_event, NULL);
	close(event_fd);
	event_fd = -1;
}

int
psw_backend_event_fd(void)
{
	return event_fd;
}

void
psw_backend_poll_events(void)
{
	uint64_t n;

	for (unsigned i = 0; i < n_backends; i++)
		if (backends[i]->poll != NULL)
			backends[i]->poll();
	if (event_fd < 0)
		return;
	if (read(event_fd, &n, sizeof(n)) == (ssize_t)sizeof(n) && n > 0)
		psw_port_poll_links();
}

const struct psw_backend *
psw_backend_find(const char *type)
{
	if (type == NULL)
		return NULL;
	/* Link events are wanted before the first pod port; init is idempotent and a
	 * failure here only means link changes are seen by the periodic poll instead. */
	(void)psw_backend_init();
	for (unsigned i = 0; i < n_backends; i++)
		if (strcmp(backends[i]->type, type) == 0)
			return backends[i];
	return NULL;
}
