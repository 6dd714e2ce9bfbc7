/*
 * pmd.h: poll-mode threads, the first stage of the packet path. Each PMD lcore owns a set
 * of rx queues (published by the control thread with RCU), its own tx queue on every
 * port, its own counters and its own per-port tx buffers (the context, core/burst.h).
 */
#ifndef PSW_DATAPATH_PMD_H
#define PSW_DATAPATH_PMD_H

#include <stdint.h>

#include "core/burst.h"
#include "port/port.h"

#define PSW_MAX_RXQS   (PSW_MAX_PORTS * 2)

struct psw_rxq {
	uint16_t port;       /* podswitch port id */
	uint16_t dpdk_port;
	uint16_t queue;
	const struct psw_port_io *io; /* NULL: rte_eth_rx_burst(dpdk_port, queue) */
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
/* Rebuild every PMD's rx queue set from the port registry and publish it. */
int psw_pmd_assign_rxqs(void);
void psw_pmd_read_stats(unsigned idx, struct psw_pmd_stats *out);
void psw_pmd_clear_stats(void);

#endif
