/*
 * neigh_ev.h: what PMDs post to the control thread about neighbors (neigh_dp.c ->
 * neigh.c), on one multi-producer ring. Internal to neigh/.
 */
#ifndef PSW_NEIGH_NEIGH_EV_H
#define PSW_NEIGH_NEIGH_EV_H

#include <stdint.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "core/limits.h"

enum neigh_ev_kind {
	NEIGH_EV_LEARN,                /* addr is at mac */
	NEIGH_EV_HOLD,                 /* m waits for addr */
};

struct neigh_ev {
	uint8_t kind;
	uint8_t v6;
	struct rte_ether_addr mac;
	uint8_t addr[16];
	struct rte_mbuf *m;
};

extern struct rte_ring *psw_neigh_ring;
/* Posts the ring could not take, per PMD (each PMD writes its own). */
extern uint64_t psw_neigh_lost[PSW_MAX_PMDS];

#endif
