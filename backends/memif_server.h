/*
 * memif_server.h: podswitch's own memif server (memif protocol 2.0, copy mode), in place
 * of DPDK's net_memif. memif.c (the "memif" back end) parses options and calls this; the
 * switch polls the port through psw_port_io (rx/tx burst functions on PMD threads).
 * Control channel, regions and rings are set up on the control thread (main lcore):
 * psw_memif_server_poll() runs from psw_backend_poll_events() on the control loop.
 */
#ifndef PSW_MEMIF_SERVER_H
#define PSW_MEMIF_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "port/port.h"

struct psw_memif_server;

struct psw_memif_server_conf {
	const char *name;        /* port name */
	const char *socket;      /* path, or abstract name without the leading NUL */
	bool abstract;
	const char *netns;       /* NULL: the calling thread's namespace */
	uint32_t id;             /* memif interface id the client must ask for */
	unsigned log2_ring;      /* largest ring the client may use */
	unsigned buffer_size;    /* largest descriptor length accepted */
	const char *secret;      /* NULL: none */
	uint16_t n_rxq, n_txq;   /* client-to-server and server-to-client rings offered */
	uint16_t mtu;
	struct rte_ether_addr mac;
};

/* Control thread. Creates the listening socket (inside conf->netns when given). NULL and
 * errno on failure (EADDRINUSE: the name is taken, EEXIST: another port uses it). */
struct psw_memif_server *psw_memif_server_create(const struct psw_memif_server_conf *conf);
const struct psw_port_io *psw_memif_server_io(struct psw_memif_server *s);
/* The server of port `name`, or NULL. */
struct psw_memif_server *psw_memif_server_find(const char *name);
/* The server listening on socket name/path `socket` (any namespace), or NULL. */
struct psw_memif_server *psw_memif_server_by_socket(const char *socket);
const char *psw_memif_server_name(const struct psw_memif_server *s);
/* The port now has its switch id: push the link state to it. */
void psw_memif_server_started(struct psw_memif_server *s);
/* Close the listener and any client (DISCONNECT sent), unmap. The caller guarantees that
 * no PMD uses the port any more (psw_port_del waited a grace period). */
void psw_memif_server_destroy(struct psw_memif_server *s);
/* Facts for port.get: connected, peer name, rings, bad_desc counters. */
void psw_memif_server_describe(struct psw_memif_server *s, json_t *out);
/* Counters of descriptors refused (hostile or broken peer), summed over queues. */
uint64_t psw_memif_server_bad_desc(struct psw_memif_server *s);
bool psw_memif_server_connected(struct psw_memif_server *s);

/* Control loop: accept clients, run their handshakes. Never blocks. */
void psw_memif_server_poll(void);
/* A client must finish its handshake within this time (default 5000 ms). */
void psw_memif_server_set_handshake_timeout(unsigned ms);
/* For poll()/epoll: readable when psw_memif_server_poll() has work, or -1. */
int psw_memif_server_fd(void);

#endif
