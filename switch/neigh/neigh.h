/*
 * neigh.h: the underlay. One port is the uplink: the node's underlay addresses (IPv4 and
 * IPv6, with prefix and gateway) live on it, and podswitchd owns them: it answers ARP
 * and neighbor solicitations for them (neigh_dp.c, on PMDs), and resolves the next hops
 * its tunnels send to itself (neigh.c, the control thread: requests, refresh, aging, a
 * few packets held per unresolved next hop).
 *
 * Tables: psw_underlay (the uplink and its addresses) and the neighbor table (next hop ->
 * MAC) are built by the control thread and published whole with RCU; PMDs read them
 * lock-free. What PMDs learn (a reply, a request for our address) and the packets they
 * cannot send yet go to the control thread on one ring; the control thread is the only
 * writer. Held packets leave through core/inject.h.
 */
#ifndef PSW_NEIGH_NEIGH_H
#define PSW_NEIGH_NEIGH_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "core/limits.h"

#define PSW_NEIGH_HOLD        4      /* packets held per unresolved next hop */
#define PSW_NEIGH_MAX         1024   /* neighbor entries */
#define PSW_NEIGH_PROBES      3      /* requests before a next hop is given up (1 s apart) */
#define PSW_NEIGH_REFRESH_S   60     /* a resolved entry is asked again after this long */

struct psw_underlay {
	uint16_t port;                 /* the uplink's port id */
	uint16_t mtu;                  /* the uplink's MTU */
	struct rte_ether_addr mac;     /* the uplink's MAC */
	rte_be32_t ip4;                /* 0: none */
	rte_be32_t mask4;
	rte_be32_t gw4;                /* 0: none (every VTEP is on-link) */
	uint8_t plen4;
	uint8_t has_ip6;
	uint8_t plen6;
	uint8_t has_gw6;
	uint8_t ip6[16];
	uint8_t gw6[16];
};

/* RCU-published; NULL while there is no uplink. */
extern struct psw_underlay *psw_underlay;
/* The uplink's port id, or PSW_PORT_NONE: what the pipeline compares a burst's port with. */
extern uint16_t psw_uplink_port;

/* A neighbor as PMDs see it: only resolved next hops are in the published table. */
struct psw_neigh_slot {
	uint8_t addr[16];              /* IPv4 in the first 4 bytes, the rest zero */
	uint8_t used;
	uint8_t v6;
	struct rte_ether_addr mac;
};

struct psw_neigh_table {
	uint32_t mask;                 /* slots - 1 */
	struct psw_neigh_slot slot[];
};

extern struct psw_neigh_table *psw_neigh_table;

static inline uint32_t
psw_neigh_hash(const uint8_t addr[16])
{
	uint64_t a, b;

	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	return (uint32_t)(((a ^ (b * 0x9e3779b97f4a7c15ull)) * 0xc2b2ae3d27d4eb4full) >> 40);
}

/* PMD (lock-free): the MAC of a resolved next hop, or NULL. */
static inline const struct rte_ether_addr *
psw_neigh_lookup_rcu(const uint8_t addr[16], bool v6)
{
	const struct psw_neigh_table *t = __atomic_load_n(&psw_neigh_table, __ATOMIC_ACQUIRE);

	if (t == NULL)
		return NULL;
	for (uint32_t i = psw_neigh_hash(addr) & t->mask;; i = (i + 1) & t->mask) {
		const struct psw_neigh_slot *s = &t->slot[i];

		if (!s->used)
			return NULL;
		if (s->v6 == v6 && memcmp(s->addr, addr, 16) == 0)
			return &s->mac;
	}
}

/* The next hop towards an IPv4 underlay address: itself when on-link, else the gateway. */
static inline rte_be32_t
psw_neigh_next_hop4(const struct psw_underlay *u, rte_be32_t dst)
{
	if (u->gw4 == 0 || ((dst ^ u->ip4) & u->mask4) == 0)
		return dst;
	return u->gw4;
}

/* --- PMD -> control ----------------------------------------------------------------- */

/* PMD: a resolved binding seen on the uplink (a reply, or a request for our address). */
void psw_neigh_post_learn(unsigned pmd, const uint8_t addr[16], bool v6,
			  const struct rte_ether_addr *mac);
/* PMD: m (an encapsulated packet whose destination MAC is still to be filled) waits for
 * next hop addr; false when it cannot (the caller drops it as NEIGH_UNRESOLVED). At most
 * PSW_NEIGH_HOLD packets per next hop and second per PMD are handed over. */
bool psw_neigh_post_hold(unsigned pmd, uint64_t tsc, const uint8_t addr[16], bool v6,
			 struct rte_mbuf *m);

/* --- control thread ------------------------------------------------------------------- */

int psw_neigh_init(void);
void psw_neigh_fini(void);
/* The control loop's turn: apply what PMDs posted, send requests, age and give up. */
void psw_neigh_poll(double now_s);

/* The uplink: port id, addresses (ip4 0 / ip6 NULL: none). -errno with a message. */
int psw_neigh_set_uplink(uint16_t port, rte_be32_t ip4, uint8_t plen4, rte_be32_t gw4,
			 const uint8_t *ip6, uint8_t plen6, const uint8_t *gw6, char *err,
			 size_t errlen);
void psw_neigh_clear_uplink(void);
/* fn is called after the uplink or its addresses changed (tunnel/: a peer that is this
 * node itself gets no port). One hook. */
void psw_neigh_on_uplink_change(void (*fn)(void));

/* Static neighbors (never aged or asked). */
int psw_neigh_add_static(const uint8_t addr[16], bool v6, const struct rte_ether_addr *mac);
int psw_neigh_del(const uint8_t addr[16], bool v6);
/* Forget every learned neighbor (static ones stay); returns how many. */
unsigned psw_neigh_flush(void);

enum psw_neigh_state {
	PSW_NEIGH_INCOMPLETE,          /* asked, no answer yet */
	PSW_NEIGH_REACHABLE,           /* answered */
	PSW_NEIGH_STATIC,              /* configured */
};

struct psw_neigh_info {
	uint8_t addr[16];
	bool v6;
	struct rte_ether_addr mac;
	enum psw_neigh_state state;
	double age_s;                  /* since the last answer (or creation) */
	unsigned probes;               /* requests sent since */
	unsigned held;                 /* packets waiting */
	uint64_t dropped;              /* packets given up */
};
/* Call fn for every entry; stops when fn returns non-zero. */
int psw_neigh_foreach(int (*fn)(const struct psw_neigh_info *, void *), void *arg);

struct psw_neigh_stats {
	uint64_t requests;             /* ARP requests and solicitations sent */
	uint64_t learned;              /* answers applied */
	uint64_t held, sent_held;      /* packets held; sent once resolved */
	uint64_t dropped;              /* held packets given up (neigh_unresolved) */
	uint64_t lost_events;          /* PMD posts the ring could not take */
};
void psw_neigh_read_stats(struct psw_neigh_stats *s);

#endif
