/*
 * l2.h: networks (bridge domains) and their MAC forwarding database (FDB), behind the
 * action NORMAL (datapath/actions.c and l2_path.c decide with psw_l2_decide_rcu).
 *
 * Threads. The control thread is the only writer: it creates networks, moves ports in and
 * out, learns, relearns (moves), ages and flushes entries (l2.c, learn.c). PMDs read
 * lock-free: the FDB is an open-addressing table of (network, MAC) -> entry pointers;
 * entries are freed only after an RCU grace period and a slot's entry is checked against
 * the key it was read for, so a reader never follows a recycled entry to a wrong port.
 * What a PMD learns it posts on a ring (psw_l2_learn_post); the control loop drains it
 * (psw_l2_learn_drain). A PMD writes one shared field: an entry's last-seen second, only
 * when the second changes.
 *
 * Generations: a move or a removal bumps psw_generation, so every cached L2 decision
 * (datapath/) becomes a miss; a new MAC bumps only psw_l2_learn_gen, which cached floods
 * depend on (the destination may be that MAC) and nothing else, so learning does not cost
 * the flows that did not change. New MACs from the learn ring bump it once per drain.
 */
#ifndef PSW_L2_L2_H
#define PSW_L2_L2_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_branch_prediction.h>
#include <rte_ether.h>

#include "core/drop.h"
#include "core/limits.h"
#include "port/port.h"

#define PSW_L2_MAX_NETS     1024      /* network ids 1..1023; 0 = no network */
#define PSW_L2_NET_NONE     0
#define PSW_L2_DEFAULT_AGING_S 300
#define PSW_L2_DEFAULT_MAX_MACS 4096  /* per port */
#define PSW_L2_DEFAULT_FDB_SIZE (1u << 16)

struct psw_fdb_entry {
	uint64_t key;        /* psw_l2_key(net, mac); immutable */
	uint16_t port;       /* written by the control thread (relaxed atomic) on a move */
	uint16_t net;
	uint8_t is_static;   /* configured (fdb.add): never aged, never moved by learning */
	uint8_t pad[3];
	uint64_t seen;       /* coarse seconds (psw_clock_s); PMDs store it when it changes */
	uint64_t created;
};

/* Members of a network: RCU-published whole, read by PMDs for floods. Pods' and hosts'
 * ports first (n_local of them), then the transport ports (tunnel/): a frame from a
 * transport port is flooded to the first n_local only (split horizon). */
struct psw_l2_members {
	uint16_t n;
	uint16_t n_local;
	uint16_t port[];
};

/* Fast-path view, indexed by network id / port id. */
extern uint16_t psw_l2_port_net[PSW_MAX_PORTS];          /* network of a port, 0 = none */
extern struct psw_l2_members *psw_l2_members[PSW_L2_MAX_NETS];
extern uint32_t psw_l2_port_macs[PSW_MAX_PORTS];         /* learned entries per port */
extern uint32_t psw_l2_max_macs;                         /* per-port limit */

static inline uint64_t
psw_l2_key(uint16_t net, const struct rte_ether_addr *mac)
{
	uint64_t k = (uint64_t)net << 48;

	for (int i = 0; i < 6; i++)
		k |= (uint64_t)mac->addr_bytes[i] << (40 - 8 * i);
	return k;
}

/* Lock-free lookup (PMDs, trace). NULL if absent. */
const struct psw_fdb_entry *psw_l2_fdb_lookup_rcu(uint16_t net, const struct rte_ether_addr *mac);

/* --- control thread ---------------------------------------------------------------- */

/* fdb_size: slots (a power of two; entries up to half of it). 0 = default. Needs no EAL
 * unless learning from PMDs (the ring is created by psw_l2_learn_init). */
int psw_l2_init(unsigned fdb_size);
void psw_l2_fini(void);
/* aging_s 0 = default; max_macs 0 = default. */
void psw_l2_set_limits(unsigned aging_s, unsigned max_macs_per_port);
unsigned psw_l2_aging_s(void);

/* Networks by name. 0 / -EEXIST / -ENOSPC / -EINVAL (bad name) / -ENOENT / -EBUSY
 * (del of a network with ports). err gets a message. */
int psw_l2_network_add(const char *name, char *err, size_t errlen);
int psw_l2_network_del(const char *name, char *err, size_t errlen);
uint16_t psw_l2_network_id(const char *name);          /* 0 if none */
const char *psw_l2_network_name(uint16_t net);        /* NULL if none */
/* Iterate networks in id order: returns the next id > after, 0 at the end. */
uint16_t psw_l2_network_next(uint16_t after);

/* A port joins one network (leaving the one it was in, its MACs flushed). network NULL
 * or "" = leave. For port.add's "network" and the port's removal (psw_l2_port_leave). */
int psw_l2_port_join(uint16_t port, const char *network);
void psw_l2_port_leave(uint16_t port);

/* FDB writes (l2.c; the learn ring calls these). now_s = psw_clock_s(). Returns 1 for
 * a new entry, 2 for a move, 0 for a refresh; -ENOSPC at the port's limit, -EINVAL for a
 * stale or bad event. Bumps the generation on every change, except for new entries while
 * psw_l2_batch_learn is set (the drain bumps once for the batch). */
extern bool psw_l2_batch_learn;
/* Bumped when a MAC is added (learned or static): a cached flood (a destination that was
 * unknown) is valid only for the learn generation it was made in; other cached decisions
 * do not depend on it. Moves and removals bump psw_generation (they change unicasts).
 * PMDs load it with acquire once per burst. */
extern uint64_t psw_l2_learn_gen;
void psw_l2_learn_gen_bump(void);
int psw_l2_fdb_learn(uint16_t net, const struct rte_ether_addr *mac, uint16_t port,
		     uint64_t now_s);
/* A configured entry for mac in net at port (which must be in net): never aged, not
 * counted against the port's limit, not moved by learning. 0 or -EINVAL/-ENOMEM. */
int psw_l2_fdb_add_static(uint16_t net, const struct rte_ether_addr *mac, uint16_t port);
/* Remove entries of network net (0 = all) and, if port != PSW_PORT_NONE, of that port
 * only. Returns how many. */
unsigned psw_l2_fdb_flush(uint16_t net, uint16_t port);
/* Remove entries not seen for aging seconds; scans at most max_slots slots per call
 * (a rolling cursor). Returns how many were removed. */
unsigned psw_l2_fdb_age(uint64_t now_s, unsigned max_slots);
/* Call fn for every entry of net (0 = all); stops when fn returns non-zero. */
int psw_l2_fdb_foreach(uint16_t net, int (*fn)(const struct psw_fdb_entry *, void *),
		       void *arg);
unsigned psw_l2_fdb_count(void);

/* --- learning (learn.c) ----------------------------------------------------------- */

/* Control thread, after rte_eal_init: the ring PMDs post on. */
int psw_l2_learn_init(void);
void psw_l2_learn_fini(void);
/* Control loop: apply posted events, age entries. Cheap when there is nothing to do. */
void psw_l2_learn_drain(void);
/* Events posted but lost because the ring was full (a counter for stats). */
uint64_t psw_l2_learn_lost(void);

/* PMD: ask the control thread to learn mac at port in net. false if the ring is full. */
bool psw_l2_learn_post(uint16_t net, const struct rte_ether_addr *mac, uint16_t port);

/* PMD: a small per-PMD filter so that a burst from one new MAC posts one event, not one
 * per packet: an event for the same (net, mac, port) is posted again only after
 * `window` TSC ticks (psw_l2_learn_filter_init: 10 ms). */
#define PSW_L2_LEARN_FILTER 256
struct psw_l2_learn_filter {
	uint64_t window;
	uint64_t key[PSW_L2_LEARN_FILTER];
	uint64_t tsc[PSW_L2_LEARN_FILTER];
	uint16_t port[PSW_L2_LEARN_FILTER];
	uint64_t posted, lost;
};
void psw_l2_learn_filter_init(struct psw_l2_learn_filter *f);

static inline void
psw_l2_learn_post_filtered(struct psw_l2_learn_filter *f, uint64_t tsc, uint16_t net,
			   const struct rte_ether_addr *mac, uint16_t port)
{
	uint64_t key = psw_l2_key(net, mac);
	unsigned i = (unsigned)((key * 0x9e3779b97f4a7c15ull) >> 56) % PSW_L2_LEARN_FILTER;

	if (f->key[i] == key && f->port[i] == port && tsc - f->tsc[i] < f->window)
		return;
	f->key[i] = key;
	f->port[i] = port;
	f->tsc[i] = tsc;
	if (psw_l2_learn_post(net, mac, port))
		f->posted++;
	else
		f->lost++;
}

/* --- the NORMAL decision (PMDs, trace) ----------------------------------------------- */

enum psw_l2_src_state {
	PSW_L2_SRC_KNOWN,      /* learned on this port */
	PSW_L2_SRC_NEW,        /* unknown: to be learned */
	PSW_L2_SRC_MOVED,      /* learned on another port: to be relearned */
	PSW_L2_SRC_LIMIT,      /* unknown and the port is at its MAC limit: dropped */
	PSW_L2_SRC_INVALID,    /* multicast or zero source: dropped */
};

enum psw_l2_verdict {
	PSW_L2_UNICAST,        /* known destination: out_port */
	PSW_L2_FLOOD,          /* broadcast, multicast, unknown unicast: the other members */
	PSW_L2_DROP,           /* drop_reason */
};

struct psw_l2_decision {
	uint16_t net;
	uint16_t out_port;
	uint8_t verdict;       /* enum psw_l2_verdict */
	uint8_t src_state;     /* enum psw_l2_src_state */
	uint8_t drop_reason;   /* enum psw_drop_reason */
	uint8_t dst_multicast;
	const struct psw_fdb_entry *src_e;  /* KNOWN/MOVED: the entry */
};

/* Decide, without side effects, what NORMAL does with a frame src -> dst arriving on
 * in_port. The caller learns (psw_l2_learn_post) for NEW and MOVED and refreshes
 * src_e->seen for KNOWN. */
static inline void
psw_l2_decide_rcu(uint16_t in_port, const struct rte_ether_addr *src,
		  const struct rte_ether_addr *dst, struct psw_l2_decision *d)
{
	const struct psw_fdb_entry *e;
	uint16_t net = __atomic_load_n(&psw_l2_port_net[in_port], __ATOMIC_RELAXED);

	d->net = net;
	d->out_port = PSW_PORT_NONE;
	d->src_e = NULL;
	d->dst_multicast = rte_is_multicast_ether_addr(dst);
	d->src_state = PSW_L2_SRC_NEW;
	if (unlikely(net == PSW_L2_NET_NONE)) {
		d->verdict = PSW_L2_DROP;
		d->drop_reason = PSW_DROP_NO_NETWORK;
		return;
	}
	if (unlikely(!rte_is_valid_assigned_ether_addr(src))) {
		d->src_state = PSW_L2_SRC_INVALID;
		d->verdict = PSW_L2_DROP;
		d->drop_reason = PSW_DROP_MALFORMED;
		return;
	}
	e = psw_l2_fdb_lookup_rcu(net, src);
	if (likely(e != NULL)) {
		d->src_e = e;
		d->src_state = __atomic_load_n(&e->port, __ATOMIC_RELAXED) == in_port ?
			       PSW_L2_SRC_KNOWN : PSW_L2_SRC_MOVED;
	} else if (unlikely(__atomic_load_n(&psw_l2_port_macs[in_port], __ATOMIC_RELAXED) >=
			    psw_l2_max_macs)) {
		d->src_state = PSW_L2_SRC_LIMIT;
		d->verdict = PSW_L2_DROP;
		d->drop_reason = PSW_DROP_LEARN_LIMIT;
		return;
	}
	if (d->dst_multicast) {
		d->verdict = PSW_L2_FLOOD;
		return;
	}
	e = psw_l2_fdb_lookup_rcu(net, dst);
	if (e == NULL) {
		d->verdict = PSW_L2_FLOOD;
		return;
	}
	d->out_port = __atomic_load_n(&e->port, __ATOMIC_RELAXED);
	if (unlikely(d->out_port == in_port)) {
		d->verdict = PSW_L2_DROP;
		d->drop_reason = PSW_DROP_HAIRPIN;
		return;
	}
	/* Split horizon: what came from another node is for this node's ports; nodes do
	 * not relay between each other (every node sends to every peer itself). */
	if (unlikely(psw_ports[in_port].tunnel != PSW_TUNNEL_NONE &&
		     psw_ports[d->out_port].tunnel != PSW_TUNNEL_NONE)) {
		d->verdict = PSW_L2_DROP;
		d->drop_reason = PSW_DROP_SPLIT_HORIZON;
		return;
	}
	d->verdict = PSW_L2_UNICAST;
}

/* PMD: a known source was seen at second now_s. Its entry's line is shared with every
 * PMD: written only when the second changes (STYLE.md). */
static inline void
psw_l2_fdb_refresh(const struct psw_fdb_entry *e, uint64_t now_s)
{
	if (unlikely(e->seen != now_s))
		__atomic_store_n(&((struct psw_fdb_entry *)e)->seen, now_s, __ATOMIC_RELAXED);
}

/* PMD: the one port a flood from in_port in net reaches, or PSW_PORT_NONE if there are
 * more (or none). A member list change is published with a generation bump, so an answer
 * cached with the generation never outlives the list it was read from. */
static inline uint16_t
psw_l2_flood_single(uint16_t net, uint16_t in_port)
{
	const struct psw_l2_members *mem = __atomic_load_n(&psw_l2_members[net], __ATOMIC_ACQUIRE);

	if (mem == NULL)
		return PSW_PORT_NONE;
	if (psw_ports[in_port].tunnel != PSW_TUNNEL_NONE)
		return mem->n_local == 1 ? mem->port[0] : PSW_PORT_NONE;
	if (mem->n != 2 || (mem->port[0] != in_port && mem->port[1] != in_port))
		return PSW_PORT_NONE;
	return mem->port[0] == in_port ? mem->port[1] : mem->port[0];
}

#endif
