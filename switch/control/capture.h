/*
 * capture.h: packet captures (`podswitchctl capture`), the control side (capture.c):
 * sessions, their writer threads, and the capture.* RPCs (rpc_capture.c). A session
 * copies the packets of one port (rx, tx or both; optionally a tcpdump filter) on the
 * PMDs (datapath/capture_dp.c) and a thread of its own writes them to a pcapng file
 * (pcapng.c), so a slow disk never holds up the control loop or the packet path.
 *
 * Life of a session (control thread): start publishes it in psw_capture_set; it ends on
 * capture.stop, when --count packets are written, after duration_s, when its client has
 * not asked for its status for client_timeout_s, on a write error, or when its port is
 * removed. Ending: out of the set, one grace period (no PMD copies any more), the writer
 * drains the rings, writes the statistics block and closes the file; then the rings and
 * pool are freed. A finished session's summary stays for capture.status for a minute.
 */
#ifndef PSW_CONTROL_CAPTURE_H
#define PSW_CONTROL_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "ctl/rpc.h"

#define PSW_CAPTURE_SNAPLEN_MAX 16384   /* 8 pool buffers (pcapng.h: PSW_PCAPNG_SEGS) */

struct psw_capture_params {
	uint16_t port;
	uint8_t dirs;                    /* PSW_CAPTURE_RX | PSW_CAPTURE_TX */
	uint32_t snaplen;
	uint64_t count;                  /* 0: no limit */
	unsigned duration_s;             /* 0: no limit */
	unsigned client_timeout_s;       /* 0: none */
	const char *file;                /* absolute */
	const char *filter;              /* NULL or "": every packet */
};

struct rte_bpf;
/* The tcpdump expression expr as an eBPF program over an mbuf; NULL with err naming
 * "filter" (libpcap's message) and errno set. capture_filter.c. */
struct rte_bpf *psw_capture_filter_compile(const char *expr, uint32_t snaplen, char *err,
					   size_t errlen);

/* Control thread. Starts a capture: >0, its id; or -errno with err naming the field. */
int psw_capture_start(const struct psw_capture_params *p, char *err, size_t errlen);
/* Ends capture id (waits for its file to be complete). 0 or -ENOENT. */
int psw_capture_stop(unsigned id, const char *reason);
/* A capture as JSON (id, port, file, state, packets...), NULL if none; poll = true
 * counts as its client asking (client_timeout_s). */
json_t *psw_capture_json(unsigned id, bool poll);
/* Every capture, running and recently finished. */
json_t *psw_capture_list_json(void);
/* Control loop: ends captures whose time is up or whose writer is done. */
void psw_capture_tick(void);
/* After start-up (registers the port-removal hook) and at exit (ends every capture). */
void psw_capture_init(void);
void psw_capture_fini(void);

extern const struct psw_rpc_method psw_rpc_capture_methods[];

#endif
