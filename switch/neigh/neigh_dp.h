/*
 * neigh_dp.h: the underlay's stage (neigh_dp.c), first on every burst from the uplink.
 * PMD threads.
 */
#ifndef PSW_NEIGH_NEIGH_DP_H
#define PSW_NEIGH_NEIGH_DP_H

#include <stdbool.h>

#include "core/burst.h"

#define PSW_NEIGH_DEFAULT_ANSWER_RATE 5000

/* ARP and ND answers each PMD gives per second (the underlay's and pods', l2); beyond,
 * requests are dropped as ARP_LIMIT. Set at start (config arp_answer_rate). */
extern unsigned psw_neigh_answer_rate;

/* Answer ARP/ND for the underlay addresses (b->tx), learn what the uplink says, leave the
 * rest in b. */
void psw_neigh_burst(struct psw_pmd *pmd, struct psw_burst *b);

/* May pmd give one more answer this second (counted)? For other stages that answer
 * ARP/ND (the pods' addresses). */
bool psw_neigh_answer_ok(struct psw_pmd *pmd);

#endif
