/*
 * control.h: podswitchd's JSON-RPC 2.0 server on a Unix stream socket (transport and
 * dispatch only; methods live in rpc_<noun>.c). Runs on the control thread (main lcore);
 * no DPDK inside, so it is unit-tested without an EAL.
 */
#ifndef PSW_CONTROL_H
#define PSW_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "ctl/rpc.h"

#define PSW_CONTROL_MAX_CLIENTS 1024
/* A client that lets more than this pile up unread is dropped (a single reply may be
 * larger; the limit applies to output still pending when the next reply is queued). */
#define PSW_CONTROL_OUT_MAX     (16u << 20)
#define PSW_CONTROL_MAX_TABLES  32

struct psw_control;

/* Counters since open, for switch.info and tests. */
struct psw_control_stats {
	unsigned clients;      /* connected now */
	uint64_t accepted;     /* connections accepted and served */
	uint64_t refused;      /* accepted and closed at once: over the client cap */
	uint64_t requests;     /* requests and notifications handled */
	uint64_t errors;       /* error replies sent */
	uint64_t dropped;      /* clients dropped: too large, output over limit, I/O error */
};

/* Creates the parent dir, refuses with a clear message if a live server already answers
 * on path ("another podswitchd is serving on PATH"), removes a stale socket file, binds,
 * listens, chmod(mode). NULL + err on failure. Also raises RLIMIT_NOFILE's soft limit to
 * the hard limit (at most 65536) so the client cap can be reached. */
struct psw_control *psw_control_open(const char *path, unsigned mode, char *err, size_t errlen);
/* Adds a method table (ends with {NULL, NULL}); the table must outlive the server.
 * 0, or -EEXIST when a method name is already registered, -ENOSPC when full. */
int psw_control_register(struct psw_control *c, const struct psw_rpc_method *table);
/* One round of the event loop: waits up to timeout_ms (-1: forever, 0: not at all) and
 * serves every ready client. Returns the number of events handled, or -errno. */
int psw_control_poll(struct psw_control *c, int timeout_ms);
/* The epoll fd, readable when psw_control_poll(c, 0) has work: for callers that wait on
 * several things at once. */
int psw_control_fd(const struct psw_control *c);
void psw_control_get_stats(const struct psw_control *c, struct psw_control_stats *st);
/* Closes every client and the listener, unlinks the socket. NULL is a no-op. */
void psw_control_close(struct psw_control *c);

#endif
