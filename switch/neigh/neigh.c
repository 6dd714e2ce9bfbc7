/*
 * neigh.c: the underlay's control side (neigh.h; control thread): the uplink and its
 * addresses, the neighbor table and next-hop resolution. PMDs post what they learn and
 * the packets they hold on one ring (neigh_dp.c); psw_neigh_poll() on the control loop
 * applies them, sends ARP requests and neighbor solicitations (through core/inject.h,
 * from PMD 0), refreshes resolved entries every PSW_NEIGH_REFRESH_S and gives up on a
 * next hop after PSW_NEIGH_PROBES unanswered requests, dropping what it held.
 *
 * The table PMDs read holds only resolved next hops: it is rebuilt and published whole
 * (RCU) when a MAC or an entry's usability changes, which is rare (a few entries: the
 * gateway and on-link peers), so lookups need no tombstones and no locks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "core/clock.h"
#include "core/inject.h"
#include "core/rcu.h"
#include "neigh/neigh.h"
#include "neigh/neigh_ev.h"
#include "neigh/pkt.h"
#include "port/port.h"

struct psw_underlay *psw_underlay;
uint16_t psw_uplink_port = PSW_PORT_NONE;
struct psw_neigh_table *psw_neigh_table;
struct rte_ring *psw_neigh_ring;
uint64_t psw_neigh_lost[PSW_MAX_PMDS];

struct entry {
	bool used;
	bool v6;
	uint8_t addr[16];
	struct rte_ether_addr mac;
	enum psw_neigh_state state;
	double updated;                /* last answer, or creation */
	double probed;                 /* last request sent */
	unsigned probes;
	unsigned n_held;
	struct rte_mbuf *held[PSW_NEIGH_HOLD];
	uint64_t dropped;
};

static struct entry entries[PSW_NEIGH_MAX];
static void (*uplink_hook)(void);
static struct psw_neigh_stats stats;
static double last_timers;

/* Netmask of a prefix length, network order. */
static rte_be32_t
prefix4(uint8_t plen)
{
	return rte_cpu_to_be_32(plen == 0 ? 0 : plen >= 32 ? UINT32_MAX : ~(UINT32_MAX >> plen));
}

static bool
usable(const struct entry *e)
{
	return e->used && (e->state == PSW_NEIGH_REACHABLE || e->state == PSW_NEIGH_STATIC);
}

/* Rebuild the PMDs' table from the usable entries and publish it. */
static void
publish(void)
{
	struct psw_neigh_table *t, *old;
	unsigned n = 0, slots = 64;

	for (unsigned i = 0; i < PSW_NEIGH_MAX; i++)
		n += usable(&entries[i]);
	while (slots < 2 * n)
		slots *= 2;
	t = calloc(1, sizeof(*t) + slots * sizeof(t->slot[0]));
	if (t == NULL)
		return;   /* the old table stays: lookups stay right, a change waits */
	t->mask = slots - 1;
	for (unsigned i = 0; i < PSW_NEIGH_MAX; i++) {
		const struct entry *e = &entries[i];
		uint32_t h;

		if (!usable(e))
			continue;
		for (h = psw_neigh_hash(e->addr) & t->mask; t->slot[h].used; h = (h + 1) & t->mask)
			;
		memcpy(t->slot[h].addr, e->addr, 16);
		t->slot[h].v6 = e->v6;
		t->slot[h].mac = e->mac;
		t->slot[h].used = 1;
	}
	old = psw_publish(&psw_neigh_table, t);
	psw_retire(old, free);
}

static struct entry *
find(const uint8_t addr[16], bool v6)
{
	for (unsigned i = 0; i < PSW_NEIGH_MAX; i++)
		if (entries[i].used && entries[i].v6 == v6 && memcmp(entries[i].addr, addr, 16) == 0)
			return &entries[i];
	return NULL;
}

static struct entry *
create(const uint8_t addr[16], bool v6, double now)
{
	for (unsigned i = 0; i < PSW_NEIGH_MAX; i++) {
		struct entry *e = &entries[i];

		if (e->used)
			continue;
		memset(e, 0, sizeof(*e));
		e->used = true;
		e->v6 = v6;
		memcpy(e->addr, addr, 16);
		e->state = PSW_NEIGH_INCOMPLETE;
		e->updated = now;
		e->probed = -1e9;
		return e;
	}
	return NULL;
}

/* Ask who has e's address (an ARP request, or a solicitation from our IPv6 address). */
static void
request(struct entry *e, double now)
{
	const struct psw_underlay *u = psw_underlay;
	struct rte_mbuf *m;
	int rc;

	e->probed = now;
	e->probes++;
	if (u == NULL || (e->v6 ? !u->has_ip6 : u->ip4 == 0))
		return;
	m = rte_pktmbuf_alloc(psw_port_pool());
	if (m == NULL)
		return;
	if (e->v6)
		rc = psw_nd_request(m, &u->mac, u->ip6, e->addr);
	else {
		rte_be32_t ip4;

		memcpy(&ip4, e->addr, sizeof(ip4)); /* e->addr is a byte array */
		rc = psw_arp_request(m, &u->mac, u->ip4, ip4);
	}
	if (rc != 0) {
		rte_pktmbuf_free(m);
		return;
	}
	if (psw_inject(u->port, m) == 0)
		stats.requests++;
}

/* Send what e held, now that its MAC is known (the frames are complete but for it). */
static void
release(struct entry *e)
{
	for (unsigned i = 0; i < e->n_held; i++) {
		struct rte_ether_hdr *eh = rte_pktmbuf_mtod(e->held[i], struct rte_ether_hdr *);

		eh->dst_addr = e->mac;
		if (psw_underlay != NULL && psw_inject(psw_underlay->port, e->held[i]) == 0)
			stats.sent_held++;
		else if (psw_underlay == NULL)
			rte_pktmbuf_free(e->held[i]);
	}
	e->n_held = 0;
}

static void
drop_held(struct entry *e)
{
	rte_pktmbuf_free_bulk(e->held, e->n_held);
	e->dropped += e->n_held;
	stats.dropped += e->n_held;
	e->n_held = 0;
}

static void
forget(struct entry *e)
{
	bool was_usable = usable(e);

	drop_held(e);
	e->used = false;
	if (was_usable)
		publish();
}

static void
learn(const struct neigh_ev *ev, double now)
{
	struct entry *e = find(ev->addr, ev->v6);
	bool was_usable, changed;

	if (e == NULL && (e = create(ev->addr, ev->v6, now)) == NULL)
		return;
	if (e->state == PSW_NEIGH_STATIC)
		return;
	was_usable = usable(e);
	changed = !rte_is_same_ether_addr(&e->mac, &ev->mac);
	e->mac = ev->mac;
	e->state = PSW_NEIGH_REACHABLE;
	e->updated = now;
	e->probes = 0;
	stats.learned++;
	if (!was_usable || changed)
		publish();
	release(e);
}

static void
hold(const struct neigh_ev *ev, double now)
{
	struct entry *e = find(ev->addr, ev->v6);

	if (e == NULL && (e = create(ev->addr, ev->v6, now)) == NULL) {
		rte_pktmbuf_free(ev->m);
		stats.dropped++;
		return;
	}
	if (e->n_held == PSW_NEIGH_HOLD) {
		rte_pktmbuf_free(ev->m);
		e->dropped++;
		stats.dropped++;
	} else {
		e->held[e->n_held++] = ev->m;
		stats.held++;
	}
	if (usable(e))
		release(e);   /* resolved meanwhile */
	else if (now - e->probed >= 1.0)
		request(e, now);
}

static void
timers(double now)
{
	for (unsigned i = 0; i < PSW_NEIGH_MAX; i++) {
		struct entry *e = &entries[i];

		if (!e->used || e->state == PSW_NEIGH_STATIC)
			continue;
		if (e->state == PSW_NEIGH_INCOMPLETE) {
			if (now - e->probed < 1.0)
				continue;
			if (e->probes >= PSW_NEIGH_PROBES)
				forget(e);      /* nobody answers: give up, drop what waited */
			else
				request(e, now);
		} else if (now - e->updated >= PSW_NEIGH_REFRESH_S && now - e->probed >= 1.0) {
			if (e->probes >= PSW_NEIGH_PROBES)
				forget(e);      /* it stopped answering */
			else
				request(e, now);
		}
	}
}

void
psw_neigh_poll(double now)
{
	struct neigh_ev ev[64];
	unsigned n;

	if (psw_neigh_ring == NULL)
		return;
	while ((n = rte_ring_dequeue_burst_elem(psw_neigh_ring, ev, sizeof(ev[0]), 64, NULL)) > 0)
		for (unsigned i = 0; i < n; i++) {
			if (ev[i].kind == NEIGH_EV_LEARN)
				learn(&ev[i], now);
			else
				hold(&ev[i], now);
		}
	if (now - last_timers >= 0.1) {
		last_timers = now;
		timers(now);
	}
}

int
psw_neigh_init(void)
{
	if (psw_neigh_ring != NULL)
		return 0;
	psw_neigh_ring = rte_ring_create_elem("psw_neigh", sizeof(struct neigh_ev), 4096,
					      SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (psw_neigh_ring == NULL)
		return -rte_errno;
	publish();
	return 0;
}

void
psw_neigh_fini(void)
{
	struct neigh_ev ev;

	for (unsigned i = 0; i < PSW_NEIGH_MAX; i++)
		if (entries[i].used)
			drop_held(&entries[i]);
	memset(entries, 0, sizeof(entries));
	if (psw_neigh_ring != NULL) {
		while (rte_ring_dequeue_elem(psw_neigh_ring, &ev, sizeof(ev)) == 0)
			if (ev.kind == NEIGH_EV_HOLD)
				rte_pktmbuf_free(ev.m);
		rte_ring_free(psw_neigh_ring);
		psw_neigh_ring = NULL;
	}
	free(psw_neigh_table);
	psw_neigh_table = NULL;
	free(psw_underlay);
	psw_underlay = NULL;
	psw_uplink_port = PSW_PORT_NONE;
}

int
psw_neigh_set_uplink(uint16_t port, rte_be32_t ip4, uint8_t plen4, rte_be32_t gw4,
		     const uint8_t *ip6, uint8_t plen6, const uint8_t *gw6, char *err,
		     size_t errlen)
{
	const struct psw_port *p = psw_port_get(port);
	struct psw_underlay *u, *old;

	if (p == NULL || p->tunnel != PSW_TUNNEL_NONE) {
		snprintf(err, errlen, "port: not a port with a device");
		return -EINVAL;
	}
	u = calloc(1, sizeof(*u));
	if (u == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	u->port = port;
	u->mtu = p->mtu ? p->mtu : 1500;
	u->mac = p->mac;
	u->ip4 = ip4;
	u->plen4 = plen4;
	u->mask4 = prefix4(plen4);
	u->gw4 = gw4;
	if (ip6 != NULL) {
		u->has_ip6 = 1;
		memcpy(u->ip6, ip6, 16);
		u->plen6 = plen6;
		if (gw6 != NULL) {
			u->has_gw6 = 1;
			memcpy(u->gw6, gw6, 16);
		}
	}
	old = psw_publish(&psw_underlay, u);
	if (old == NULL || old->port != port || old->ip4 != ip4)
		psw_neigh_flush();
	psw_retire(old, free);
	__atomic_store_n(&psw_uplink_port, port, __ATOMIC_RELEASE);
	if (uplink_hook != NULL)
		uplink_hook();
	return 0;
}

void
psw_neigh_on_uplink_change(void (*fn)(void))
{
	uplink_hook = fn;
}

void
psw_neigh_clear_uplink(void)
{
	__atomic_store_n(&psw_uplink_port, PSW_PORT_NONE, __ATOMIC_RELEASE);
	psw_retire(psw_publish(&psw_underlay, NULL), free);
	psw_neigh_flush();
	if (uplink_hook != NULL)
		uplink_hook();
}

int
psw_neigh_add_static(const uint8_t addr[16], bool v6, const struct rte_ether_addr *mac)
{
	struct entry *e = find(addr, v6);

	if (e == NULL && (e = create(addr, v6, psw_clock_mono_s())) == NULL)
		return -ENOSPC;
	e->state = PSW_NEIGH_STATIC;
	e->mac = *mac;
	e->probes = 0;
	publish();
	release(e);
	return 0;
}

int
psw_neigh_del(const uint8_t addr[16], bool v6)
{
	struct entry *e = find(addr, v6);

	if (e == NULL)
		return -ENOENT;
	forget(e);
	return 0;
}

unsigned
psw_neigh_flush(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < PSW_NEIGH_MAX; i++)
		if (entries[i].used && entries[i].state != PSW_NEIGH_STATIC) {
			drop_held(&entries[i]);
			entries[i].used = false;
			n++;
		}
	publish();
	return n;
}

int
psw_neigh_foreach(int (*fn)(const struct psw_neigh_info *, void *), void *arg)
{
	double now = psw_clock_mono_s();

	for (unsigned i = 0; i < PSW_NEIGH_MAX; i++) {
		const struct entry *e = &entries[i];
		struct psw_neigh_info in;
		int rc;

		if (!e->used)
			continue;
		memcpy(in.addr, e->addr, 16);
		in.v6 = e->v6;
		in.mac = e->mac;
		in.state = e->state;
		in.age_s = now - e->updated;
		in.probes = e->probes;
		in.held = e->n_held;
		in.dropped = e->dropped;
		if ((rc = fn(&in, arg)) != 0)
			return rc;
	}
	return 0;
}

void
psw_neigh_read_stats(struct psw_neigh_stats *s)
{
	*s = stats;
	s->lost_events = 0;
	for (unsigned i = 0; i < PSW_MAX_PMDS; i++)
		s->lost_events += psw_neigh_lost[i];
}
