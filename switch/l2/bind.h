/*
 * bind.h: which IP address is at which MAC in a network: the pods' own addresses, given
 * by the CNI plugin with their port (port.add "addresses"), and the bindings learned from
 * ARP and neighbor advertisements that come from other nodes through a transport port.
 * With them NORMAL answers ARP requests and neighbor solicitations itself instead of
 * flooding them (ARP suppression: a request does not cross nodes once its answer is
 * known); anti-spoofing will enforce the same bindings later.
 *
 * Threads: the control thread is the only writer and publishes the table whole (RCU);
 * PMDs look it up lock-free and post what they learn from other nodes on a ring
 * (psw_l2_bind_post), applied by psw_l2_bind_drain on the control loop.
 */
#ifndef PSW_L2_BIND_H
#define PSW_L2_BIND_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <rte_ether.h>

#include "core/limits.h"
#include "l2/l2.h"

#define PSW_L2_BIND_MAX 65536

struct psw_l2_bind_slot {
	uint8_t ip[16];                /* IPv4 in the first 4 bytes */
	uint16_t net;
	uint8_t v6;
	uint8_t used;
	struct rte_ether_addr mac;
	uint16_t port;                 /* the pod's port, or the transport port it came by */
};

struct psw_l2_bind_table {
	uint32_t mask;
	struct psw_l2_bind_slot slot[];
};

extern struct psw_l2_bind_table *psw_l2_binds;
/* Bindings per network; 0: nothing to answer from, flood as usual. */
extern uint32_t psw_l2_net_binds[PSW_L2_MAX_NETS];

static inline uint32_t
psw_l2_bind_hash(uint16_t net, const uint8_t ip[16])
{
	uint64_t a, b;

	memcpy(&a, ip, 8);
	memcpy(&b, ip + 8, 8);
	return (uint32_t)(((a ^ (b * 0x9e3779b97f4a7c15ull) ^ net) * 0xc2b2ae3d27d4eb4full) >> 40);
}

/* PMD (lock-free): the binding of ip in net, or NULL. */
static inline const struct psw_l2_bind_slot *
psw_l2_bind_lookup_rcu(uint16_t net, const uint8_t ip[16], bool v6)
{
	const struct psw_l2_bind_table *t = __atomic_load_n(&psw_l2_binds, __ATOMIC_ACQUIRE);

	if (t == NULL)
		return NULL;
	for (uint32_t i = psw_l2_bind_hash(net, ip) & t->mask;; i = (i + 1) & t->mask) {
		const struct psw_l2_bind_slot *s = &t->slot[i];

		if (!s->used)
			return NULL;
		if (s->net == net && s->v6 == v6 && memcmp(s->ip, ip, 16) == 0)
			return s;
	}
}

/* PMD: a binding seen on transport port `port` of net (an ARP or NA from another node).
 * Filtered per PMD (one event per binding every second at most); false if the ring was
 * full. */
bool psw_l2_bind_post(unsigned pmd, uint64_t tsc, uint16_t net, const uint8_t ip[16], bool v6,
		      const struct rte_ether_addr *mac, uint16_t port);

/* --- control thread ------------------------------------------------------------------- */

int psw_l2_bind_init(void);
void psw_l2_bind_fini(void);
/* The control loop: apply posted bindings, age learned ones (psw_l2_aging_s()). */
void psw_l2_bind_drain(uint64_t now_s);

/* A pod's addresses on its port: replaces what the port had. ips are "a.b.c.d[/len]" or
 * IPv6; mac is the pod's. They count in the port's network (none: kept, used when it
 * joins one). 0 or -errno with a message. */
int psw_l2_bind_set_port(uint16_t port, const struct rte_ether_addr *mac, const char *const *ips,
			 unsigned n_ips, char *err, size_t errlen);
/* The port's network changed (join, leave, removal): its bindings follow. */
void psw_l2_bind_port_moved(uint16_t port);
/* The port is gone: its addresses too. */
void psw_l2_bind_port_gone(uint16_t port);

struct psw_l2_bind_info {
	uint16_t net;
	uint16_t port;
	bool v6;
	bool learned;                  /* from another node, not given with a port */
	uint8_t ip[16];
	struct rte_ether_addr mac;
	uint64_t age_s;
};
int psw_l2_bind_foreach(uint16_t net, int (*fn)(const struct psw_l2_bind_info *, void *),
			void *arg);

#endif
