/*
 * pmd.h: poll-mode threads, the first stage of the packet path. Each PMD lcore owns a set
 * of rx queues (published by the control thread with RCU), its own tx queue on every
 * port, its own counters and its own per-port tx buffers (the context, core/burst.h).
 */
#ifndef PSW_DATAPATH_PMD_H
#define PSW_DATAPATH_PMD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/burst.h"
#include "port/port.h"

#define PSW_MAX_RXQS   (PSW_MAX_PORTS * 2)

/* What a PMD counts per rx queue: written by that PMD only, read by pmd.rxq. */
struct psw_rxq_stats {
	uint64_t packets;
	uint64_t cycles;     /* busy cycles spent on the queue's bursts */
};

struct psw_rxq {
	uint16_t port;       /* podswitch port id */
	uint16_t dpdk_port;
	uint16_t queue;
	const struct psw_port_io *io; /* NULL: rte_eth_rx_burst(dpdk_port, queue) */
	struct psw_rxq_stats *st;     /* this PMD's counters for the queue */
};

/* A PMD's rx queues: built by the control thread, swapped in whole (core/rcu.h). */
struct psw_rxq_set {
	uint16_t n;
	struct psw_rxq q[];
};

/* Control thread. */
int psw_pmd_init(const unsigned *lcores, unsigned n, unsigned idle_sleep_us);
int psw_pmd_start(void);
void psw_pmd_stop(void);
void psw_pmd_fini(void);
/* Place every rx queue of every enabled port on a PMD and publish the PMDs' sets. A queue
 * stays where it is unless its pin says otherwise or its PMD has more than its share; a
 * queue that moves leaves its old PMD (publish, grace period) before it joins the new
 * one, so no two PMDs ever poll it at once. Other queues keep being polled throughout.
 * Pinned queues (port.c rxq_pinned) go to their core's PMD, which then polls only
 * pinned queues (as OVS's pmd-rxq-affinity isolates its PMDs) while another PMD is left
 * for the rest. 0 or -ENOMEM (nothing changed). */
int psw_pmd_assign_rxqs(void);

/* One rx queue as pmd.rxq shows it: where it is polled and what it cost there since it
 * arrived (or the last clear). */
struct psw_rxq_info {
	uint16_t port, queue;
	unsigned pmd;            /* PMD index */
	bool pinned;             /* on its pinned core's PMD */
	uint64_t packets, cycles;
	uint64_t pmd_busy;       /* the PMD's busy cycles over the same time */
};
/* Every polled rx queue, by PMD, then port and queue. Returns how many (at most max). */
unsigned psw_pmd_rxq_info(struct psw_rxq_info *out, unsigned max);
/* The PMD index of core `lcore`, or -1. */
int psw_pmd_of_core(unsigned lcore);
void psw_pmd_read_stats(unsigned idx, struct psw_pmd_stats *out);
void psw_pmd_clear_stats(void);

#endif
