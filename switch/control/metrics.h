/*
 * metrics.h: podswitchd's counters for readers on other threads (metrics.c): the
 * Prometheus endpoint (metrics_http.c, libmicrohttpd's thread) and DPDK telemetry
 * (telemetry.c, DPDK's telemetry thread). Neither may block the control loop nor touch
 * what the control thread edits, and the PMDs must not notice them:
 *
 * - PMD-owned counters (core/burst.h: per port, per PMD, the perf counters; the
 *   datapath caches' counters) are read live, exactly as the stats RPCs read them: each
 *   is a 64-bit aligned word only its PMD writes, loaded relaxed, summed over PMDs.
 * - What the control thread owns (port names and types, table sizes, the control
 *   socket's counters) is copied by the control thread itself into a snapshot
 *   (psw_metrics_tick, every control-loop round for ports, every second for table sizes)
 *   behind sequence counters (rte_seqcount): the control thread never waits, a reader
 *   retries in the rare case that it overlapped a change. A port's name is at most one
 *   control-loop round (10 ms) old; table sizes at most one second.
 *
 * Counters here count since podswitchd started (a port's: since it was added); unlike
 * `stats`, `stats --clear` and `pmd stats --clear` do not reset them, as Prometheus
 * expects of a counter. Until a clear, they are the numbers `stats` shows.
 */
#ifndef PSW_CONTROL_METRICS_H
#define PSW_CONTROL_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/burst.h"
#include "datapath/pipeline.h"
#include "port/port.h"

struct psw_metrics_port {
	uint16_t id;
	char name[PSW_NAME_MAX];
	char type[PSW_TYPE_MAX];
	struct psw_port_counters c;
};

struct psw_metrics_pmd {
	unsigned index, lcore;
	struct psw_pmd_stats s;
	struct psw_pmd_perf perf;
	struct psw_pipeline_stats p;    /* exact-match cache, L2 decisions */
};

struct psw_metrics_net {
	char name[PSW_NAME_MAX];
	uint64_t macs;
};

struct psw_metrics_tables {
	uint64_t rules;
	uint64_t fdb_entries;
	uint64_t neigh_entries;
	uint64_t networks;
	uint64_t ctl_requests, ctl_errors, ctl_accepted, ctl_clients;
};

/* Any thread, between psw_metrics_begin() (false: podswitchd is stopping, read nothing)
 * and psw_metrics_end(). */
bool psw_metrics_begin(void);
void psw_metrics_end(void);
/* Every port, in id order, into out[0..max); returns how many. */
unsigned psw_metrics_ports(struct psw_metrics_port *out, unsigned max);
/* One port by name: 0, or -1 if there is none. */
int psw_metrics_port(const char *name, struct psw_metrics_port *out);
unsigned psw_metrics_pmds(struct psw_metrics_pmd *out, unsigned max);
/* Table sizes, and the networks with their MAC counts (nets may be NULL). */
unsigned psw_metrics_tables(struct psw_metrics_tables *t, struct psw_metrics_net *nets,
			    unsigned max);

struct psw_control;
/* Control thread: before readers start; the snapshot's source of control counters. */
void psw_metrics_init(const struct psw_control *ctl);
/* Control loop: refresh the snapshot. */
void psw_metrics_tick(void);
/* Control thread, at stop: waits for readers in progress, then refuses new ones. */
void psw_metrics_fini(void);

#endif
