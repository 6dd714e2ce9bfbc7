/*
 * memif_leaks.c: make DPDK 22.11's net_memif give back what a removed server port held.
 * memif.c calls this around the life of each memif port; nothing here is on the packet
 * path.
 *
 * Two bugs of net_memif in 22.11, both measured by tests/unit/test_backend.c:
 *  - memif_socket_remove_device() frees the listening socket's state but neither
 *    unregisters its interrupt callback nor closes the listening fd. Every port.del leaked
 *    an fd, kept the socket name bound (adding the port again failed with "Address already
 *    in use"), and left a callback whose argument is freed memory: a client connecting to
 *    the orphan listener would crash podswitchd.
 *  - memif_tx_queue_release() does not free the queue's interrupt instance: 27 KB of DPDK
 *    heap per tx queue per port.
 * The functions involved are static inside the driver plugin, so this file interposes two
 * EAL functions the driver calls, rte_intr_callback_register() and
 * rte_intr_instance_alloc()/_free() (the executable exports them, see vhost/meson.build;
 * every call is passed on unchanged). While a memif port is being created (from probe()
 * to started(), on the control thread) the registrations and the interrupt instances the
 * driver makes are recorded for that port. Before the device closes, the listener's
 * callback is unregistered and its fd closed; after it closed, instances the driver did
 * not free are freed. If a later DPDK frees them itself, nothing is left to do.
 *
 * Threads: the interposed functions run on any thread (DPDK's interrupt thread allocates
 * for pod connections); they take `lock`, and record only calls from the control thread
 * inside a capture window. Everything else runs on the control thread.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_debug.h>
#include <rte_interrupts.h>
#include <rte_log.h>

#include "backend_lib.h"
#include "port.h"

#define MAX_INSTANCES 16 /* socket + rx and tx queues (PSW_MAX_QUEUES is 16; 1 each is usual) */

struct memif_res {
	bool used;
	char name[PSW_NAME_MAX];
	/* the listener's interrupt registration */
	bool have_listener, unregistered;
	int fd;
	rte_intr_callback_fn fn;
	void *arg;
	/* interrupt instances the driver allocated for this port, NULL once freed */
	unsigned n_inst;
	struct rte_intr_handle *inst[MAX_INSTANCES * 3];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct memif_res res[PSW_MAX_PORTS];
static struct memif_res *capture;   /* the port being created, or NULL */
static pthread_t capture_thread;
static bool capture_register;       /* only during rte_dev_probe */

typedef int (*register_fn)(const struct rte_intr_handle *, rte_intr_callback_fn, void *);
typedef struct rte_intr_handle *(*alloc_fn)(uint32_t);
typedef void (*free_fn)(struct rte_intr_handle *);

static void *
real_fn(const char *sym)
{
	void *f = dlsym(RTLD_NEXT, sym);

	if (f == NULL)
		rte_panic("podswitchd: cannot find EAL's %s: %s\n", sym, dlerror());
	return f;
}

static bool
capturing(void)
{
	return capture != NULL && pthread_equal(pthread_self(), capture_thread);
}

/* Was the caller's code in the net_memif plugin (not EAL itself, e.g. the copy
 * rte_intr_callback_register keeps)? */
static bool
from_memif(const void *ret_addr)
{
	Dl_info info;

	return dladdr(ret_addr, &info) != 0 && info.dli_fname != NULL &&
	       strstr(info.dli_fname, "net_memif") != NULL;
}

int
rte_intr_callback_register(const struct rte_intr_handle *h, rte_intr_callback_fn fn,
			   void *arg)
{
	static register_fn real;
	int rc;

	if (real == NULL)
		real = (register_fn)real_fn("rte_intr_callback_register");
	rc = real(h, fn, arg);
	pthread_mutex_lock(&lock);
	if (rc == 0 && capturing() && capture_register) {
		/* net_memif's probe registers exactly one callback: its listener's. */
		capture->have_listener = true;
		capture->fd = rte_intr_fd_get(h);
		capture->fn = fn;
		capture->arg = arg;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

struct rte_intr_handle *
rte_intr_instance_alloc(uint32_t flags)
{
	static alloc_fn real;
	struct rte_intr_handle *h;

	if (real == NULL)
		real = (alloc_fn)real_fn("rte_intr_instance_alloc");
	h = real(flags);
	pthread_mutex_lock(&lock);
	if (h != NULL && capturing() && capture->n_inst < RTE_DIM(capture->inst) &&
	    from_memif(__builtin_return_address(0)))
		capture->inst[capture->n_inst++] = h;
	pthread_mutex_unlock(&lock);
	return h;
}

void
rte_intr_instance_free(struct rte_intr_handle *h)
{
	static free_fn real;

	if (real == NULL)
		real = (free_fn)real_fn("rte_intr_instance_free");
	if (h != NULL) {
		pthread_mutex_lock(&lock);
		for (unsigned i = 0; i < PSW_MAX_PORTS; i++) {
			if (!res[i].used)
				continue;
			for (unsigned j = 0; j < res[i].n_inst; j++)
				if (res[i].inst[j] == h)
					res[i].inst[j] = NULL;
		}
		pthread_mutex_unlock(&lock);
	}
	real(h);
}

static struct memif_res *
res_find(const char *name)
{
	for (unsigned i = 0; i < PSW_MAX_PORTS; i++)
		if (res[i].used && strcmp(res[i].name, name) == 0)
			return &res[i];
	return NULL;
}

void
psw_memif_track_begin(const char *name)
{
	struct memif_res *r;

	pthread_mutex_lock(&lock);
	r = res_find(name);
	for (unsigned i = 0; r == NULL && i < PSW_MAX_PORTS; i++)
		if (!res[i].used)
			r = &res[i];
	if (r != NULL) {
		memset(r, 0, sizeof(*r));
		r->used = true;
		snprintf(r->name, sizeof(r->name), "%s", name);
		capture_thread = pthread_self();
		capture_register = true;
	}
	capture = r;
	pthread_mutex_unlock(&lock);
}

void
psw_memif_track_probed(void)
{
	pthread_mutex_lock(&lock);
	capture_register = false;
	pthread_mutex_unlock(&lock);
}

void
psw_memif_track_end(void)
{
	pthread_mutex_lock(&lock);
	capture = NULL;
	capture_register = false;
	pthread_mutex_unlock(&lock);
}

/* Unregister the listener's callback (waiting while the interrupt thread runs it), then
 * close the fd: in that order the interrupt thread never polls a closed fd, and once the
 * driver frees its socket no client can reach the callback. */
static void
listener_unregister(struct memif_res *r)
{
	struct rte_intr_handle *h;
	int rc = -ENOMEM;

	if (r->unregistered)
		return;
	r->unregistered = true;
	if (!r->have_listener) {
		RTE_LOG(WARNING, USER1, "memif %s: no listener was recorded at probe\n", r->name);
		return;
	}
	h = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
	if (h != NULL && rte_intr_fd_set(h, r->fd) == 0 &&
	    rte_intr_type_set(h, RTE_INTR_HANDLE_EXT) == 0)
		rc = rte_intr_callback_unregister_sync(h, r->fn, r->arg);
	rte_intr_instance_free(h);
	if (rc < 0) {
		RTE_LOG(WARNING, USER1, "memif %s: cannot unregister listener fd %d: %s\n",
			r->name, r->fd, strerror(-rc));
		return;
	}
	close(r->fd);
}

void
psw_memif_release_before_close(const char *name)
{
	struct memif_res *r = res_find(name);

	psw_memif_track_end();
	if (r != NULL)
		listener_unregister(r);
}

void
psw_memif_release_after_close(const char *name)
{
	struct memif_res *r = res_find(name);
	struct rte_intr_handle *left[RTE_DIM(r->inst)];
	unsigned n = 0;

	psw_memif_track_end();
	if (r == NULL)
		return;
	listener_unregister(r);
	pthread_mutex_lock(&lock);
	for (unsigned j = 0; j < r->n_inst; j++)
		if (r->inst[j] != NULL)
			left[n++] = r->inst[j];
	r->used = false;
	pthread_mutex_unlock(&lock);
	for (unsigned j = 0; j < n; j++)
		rte_intr_instance_free(left[j]);
}
