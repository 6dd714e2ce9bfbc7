/*
 * backend.h: the one interface behind which every pod-side port type lives (vhost-user,
 * memif, tap: backends/). rpc_port.c calls it on the control thread (main lcore) when a
 * port of a non-"dpdk" type is added or removed; a back end turns the port's options into
 * DPDK devargs (or serves the port itself, psw_port_io) and owns whatever it creates
 * outside DPDK (socket directories, permissions, network namespaces). Back ends register
 * themselves (psw_backend_register, from main.c) and never touch the port registry: the
 * link state of a port they serve is in its psw_port_io, and DPDK callback threads only
 * post events to the main lcore (psw_backend_link_event).
 */
#ifndef PSW_PORT_BACKEND_H
#define PSW_PORT_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "ctl/rpc.h"
#include "port/port.h"

struct psw_backend {
	const char *type; /* "vhost-user", "memif", "tap" */
	/* The port's MAC is the pod's own (a tap): port.add without "mac" saves the MAC the
	 * port got, so a restored port has it again (not for devices that cannot set one). */
	bool keep_mac;

	/* Check `options` strictly (unknown keys and bad values are errors that name the
	 * key) and write the devargs that create the device for port `name` into
	 * devargs[len]. May create directories; on failure leaves nothing behind.
	 * Returns 0 or -1 with err set. Not set (and not called) when create is set. */
	int (*prepare)(const char *name, json_t *options, char *devargs, size_t len,
		       struct psw_rpc_error *err);

	/* Optional: a back end that serves the port itself, without a DPDK device
	 * (backends/memif_server.c). Fills *io (valid until removed() returns) from options
	 * and conf (its mac, mtu); prepare and probe are then not called. 0 or -1 + err. */
	int (*create)(const char *name, json_t *options, const struct psw_port_conf *conf,
		      const struct psw_port_io **io, struct psw_rpc_error *err);

	/* Optional: the device must be probed, configured and started inside another
	 * network namespace (a tap re-attached to its pod's interface after a restart:
	 * net_tap opens its fds and sockets in the calling thread's namespace and finds the
	 * interface there by name). Called after prepare: 1 when the calling thread was
	 * switched (*saved to give to leave() once the port is started), 0 when nothing is
	 * needed, -1 + err. setns() changes only the calling thread. */
	int (*enter)(const char *name, json_t *options, int *saved, struct psw_rpc_error *err);
	void (*leave)(int saved);

	/* Optional: after the device is probed and started (chown/chmod sockets...). */
	int (*started)(const char *name, uint16_t dpdk_port, json_t *options,
		       struct psw_rpc_error *err);

	/* Optional: after the device is closed and removed: delete sockets, files, dirs. */
	void (*removed)(const char *name, json_t *options);

	/* Optional (issue 4): link state where ethdev cannot tell. A tap whose netdev was
	 * moved into a pod's namespace reads "down" through ethdev (net_tap asks the kernel
	 * by name in our namespace); tap answers "up" then, the device being open. Returns
	 * 1 up, 0 down, -1 "ask ethdev". For psw_port_poll_links(). */
	int (*link)(uint16_t dpdk_port);

	/* Optional: the tx queues the peer has enabled (bit q: queue q), 0 when not known
	 * (then every queue is used). A vhost-user pod enables as many queue pairs as it
	 * negotiated; PMDs send only on those (port.c remaps them). For
	 * psw_port_poll_links(), after a link or queue-state event. */
	uint32_t (*txqs)(uint16_t dpdk_port);

	/* Optional: the PMDs' own rx/tx calls for this ethdev, instead of rte_eth_rx_burst
	 * and rte_eth_tx_burst (vhost-user: the vhost library's bursts, without net_vhost's
	 * per-packet statistics and per-packet frees). Called by port.c once the device
	 * is started, before any PMD polls it; valid while the ethdev exists. The io's
	 * tx_burst frees what it sent. NULL: the ethdev's bursts. */
	const struct psw_port_io *(*datapath)(uint16_t dpdk_port);

	/* Optional: add type-specific facts (socket path, mode...) to a port.get reply. */
	void (*describe)(const char *name, json_t *options, json_t *out);

	/* Optional: the control loop's turn (a server's control channels), every ~10 ms. */
	void (*poll)(void);

	/* The port carries its network's gateway: port.add without options.address(6) gives
	 * it the network's (a host port). */
	bool gateway;
};

/* Make `type` available to port.add (control thread, at start). 0, -EEXIST, -ENOSPC. */
int psw_backend_register(const struct psw_backend *be);

/* The back end for `type`, or NULL. */
const struct psw_backend *psw_backend_find(const char *type);

/* The state file's replay of port.add (control/state_sections.c) sets this around each
 * port it restores: the port existed before podswitchd stopped, and its back end may find
 * what it left (a tap finds its pod's interface and re-attaches). Control thread. */
void psw_backend_set_restoring(bool on);
bool psw_backend_restoring(void);

/* Control thread. init: after rte_eal_init, before any port: registers a link-state
 * callback for every ethdev (it runs in DPDK's interrupt or vhost thread and only writes an
 * eventfd). Safe to call twice; psw_backend_find() calls it too. */
int psw_backend_init(void);
void psw_backend_fini(void);
/* Readable when a link event is pending (for poll/epoll in the control loop), or -1. */
int psw_backend_event_fd(void);
/* Any thread: a port's link may have changed (ethdev callbacks, a back end's own
 * thread or the control thread): the control loop refreshes link state soon. */
void psw_backend_link_event(void);
/* Control loop: every back end's poll(), then, if a link event is pending, refresh link
 * state (psw_port_poll_links()). Cheap when nothing is pending. */
void psw_backend_poll_events(void);

#endif
