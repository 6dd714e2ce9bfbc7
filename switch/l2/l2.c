/*
 * l2.c: networks (bridge domains), their member lists and the MAC forwarding database.
 * The control thread writes everything here; PMDs read the FDB and member lists lock-free
 * when a rule's action is NORMAL (classifier.c -> l2.c -> actions.c).
 *
 * The FDB is one open-addressing table (linear probing) of {key, entry pointer} slots,
 * key = network id << 48 | MAC, 0 = empty, TOMB = removed. Writer protocol: insert stores
 * the entry pointer, then the key (release); removal stores TOMB in the key and retires the
 * entry (freed after an RCU grace period). A reader loads the key (acquire), then the
 * entry, and accepts the entry only if the entry's own immutable key is the one it looks
 * for: a slot recycled between the two loads yields "not found" (a flood), never a wrong
 * port. When live plus removed slots pass half the table, the writer builds a fresh table
 * (growing it if live entries pass a quarter) and publishes it with RCU.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "l2/bind.h"
#include "l2/l2.h"
#include "core/rcu.h"

#define TOMB UINT64_MAX

struct fdb_slot {
	uint64_t key;
	struct psw_fdb_entry *e;
};

struct fdb_table {
	uint32_t mask;
	uint32_t live;
	uint32_t tomb;
	struct fdb_slot slot[];
};

struct net {
	bool used;
	char name[PSW_NAME_MAX];
	uint16_t n_ports;
};

uint16_t psw_l2_port_net[PSW_MAX_PORTS];
struct psw_l2_members *psw_l2_members[PSW_L2_MAX_NETS];
uint32_t psw_l2_port_macs[PSW_MAX_PORTS];
uint32_t psw_l2_max_macs = PSW_L2_DEFAULT_MAX_MACS;

static struct fdb_table *fdb;
static unsigned min_slots = PSW_L2_DEFAULT_FDB_SIZE;
static unsigned aging_s = PSW_L2_DEFAULT_AGING_S;
static uint32_t age_cursor;
static struct net nets[PSW_L2_MAX_NETS];
bool psw_l2_batch_learn;
uint64_t psw_l2_learn_gen = 1;

void
psw_l2_learn_gen_bump(void)
{
	/* Release: a PMD that sees the new value also sees the entries learned before. */
	__atomic_add_fetch(&psw_l2_learn_gen, 1, __ATOMIC_RELEASE);
}

static inline uint32_t
slot_hash(uint64_t key)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 32);
}

const struct psw_fdb_entry *
psw_l2_fdb_lookup_rcu(uint16_t net, const struct rte_ether_addr *mac)
{
	const struct fdb_table *t = __atomic_load_n(&fdb, __ATOMIC_ACQUIRE);
	uint64_t key = psw_l2_key(net, mac), k;
	uint32_t i, n;

	if (unlikely(t == NULL))
		return NULL;
	i = slot_hash(key) & t->mask;
	for (n = 0; n <= t->mask; n++, i = (i + 1) & t->mask) {
		k = __atomic_load_n(&t->slot[i].key, __ATOMIC_ACQUIRE);
		if (k == key) {
			const struct psw_fdb_entry *e =
				__atomic_load_n(&t->slot[i].e, __ATOMIC_ACQUIRE);

			return e != NULL && e->key == key ? e : NULL;
		}
		if (k == 0)
			return NULL;
	}
	return NULL;
}

/* Control thread: the slot holding key, or -1. */
static int64_t
find_slot(const struct fdb_table *t, uint64_t key)
{
	uint32_t i = slot_hash(key) & t->mask, n;

	for (n = 0; n <= t->mask; n++, i = (i + 1) & t->mask) {
		if (t->slot[i].key == key)
			return i;
		if (t->slot[i].key == 0)
			return -1;
	}
	return -1;
}

static struct fdb_table *
table_alloc(uint32_t slots)
{
	struct fdb_table *t = calloc(1, sizeof(*t) + slots * sizeof(struct fdb_slot));

	if (t)
		t->mask = slots - 1;
	return t;
}

/* Control thread: place e in a table nobody reads yet, or in the live one (release
 * order: entry first, then key). Takes an empty or removed slot. */
static void
table_put(struct fdb_table *t, struct psw_fdb_entry *e)
{
	uint32_t i = slot_hash(e->key) & t->mask;

	while (t->slot[i].key != 0 && t->slot[i].key != TOMB)
		i = (i + 1) & t->mask;
	if (t->slot[i].key == TOMB)
		t->tomb--;
	__atomic_store_n(&t->slot[i].e, e, __ATOMIC_RELEASE);
	__atomic_store_n(&t->slot[i].key, e->key, __ATOMIC_RELEASE);
	t->live++;
}

static void
free_table(void *p)
{
	free(p);
}

/* Rebuild into a table of `slots` slots without removed slots; publish it. */
static int
rehash(uint32_t slots)
{
	struct fdb_table *t = table_alloc(slots), *old = fdb;

	if (t == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; old && i <= old->mask; i++)
		if (old->slot[i].key != 0 && old->slot[i].key != TOMB)
			table_put(t, old->slot[i].e);
	old = psw_publish(&fdb, t);
	psw_retire(old, free_table);
	age_cursor = 0;
	return 0;
}

/* Make room for one more entry: at most half the slots in use (live + removed). */
static int
reserve_one(void)
{
	uint32_t slots = fdb->mask + 1;

	if ((fdb->live + fdb->tomb + 1) * 2 <= slots)
		return 0;
	if ((fdb->live + 1) * 4 > slots)
		slots *= 2;
	if (slots > (1u << 26))
		return -ENOSPC;
	return rehash(slots);
}

static void
remove_slot(uint32_t i)
{
	struct psw_fdb_entry *e = fdb->slot[i].e;

	__atomic_store_n(&fdb->slot[i].key, TOMB, __ATOMIC_RELEASE);
	fdb->live--;
	fdb->tomb++;
	if (!e->is_static && e->port < PSW_MAX_PORTS && psw_l2_port_macs[e->port] > 0)
		psw_l2_port_macs[e->port]--;
	/* Bump before the retire: a PMD's cached decision holds the entry (src_e) for as long
	 * as the generation it was made in is current, so the generation must move on before
	 * the grace period that frees the entry starts. */
	psw_generation_bump();
	psw_retire(e, free);
}

int
psw_l2_init(unsigned fdb_size)
{
	if (fdb_size == 0)
		fdb_size = PSW_L2_DEFAULT_FDB_SIZE;
	if (fdb_size & (fdb_size - 1) || fdb_size < 16)
		return -EINVAL;
	min_slots = fdb_size;
	if (fdb)
		return 0;
	fdb = table_alloc(fdb_size);
	if (fdb == NULL)
		return -ENOMEM;
	for (unsigned p = 0; p < PSW_MAX_PORTS; p++) {
		psw_l2_port_net[p] = PSW_L2_NET_NONE;
		psw_l2_port_macs[p] = 0;
	}
	return 0;
}

void
psw_l2_fini(void)
{
	/* After PMDs stopped: free directly. */
	if (fdb) {
		for (uint32_t i = 0; i <= fdb->mask; i++)
			if (fdb->slot[i].key != 0 && fdb->slot[i].key != TOMB)
				free(fdb->slot[i].e);
		free(fdb);
		fdb = NULL;
	}
	for (unsigned n = 0; n < PSW_L2_MAX_NETS; n++) {
		free(psw_l2_members[n]);
		psw_l2_members[n] = NULL;
		nets[n].used = false;
		nets[n].n_ports = 0;
	}
	memset(psw_l2_port_net, 0, sizeof(psw_l2_port_net));
	memset(psw_l2_port_macs, 0, sizeof(psw_l2_port_macs));
}

void
psw_l2_set_limits(unsigned aging, unsigned max_macs)
{
	aging_s = aging ? aging : PSW_L2_DEFAULT_AGING_S;
	psw_l2_max_macs = max_macs ? max_macs : PSW_L2_DEFAULT_MAX_MACS;
}

unsigned
psw_l2_aging_s(void)
{
	return aging_s;
}

static bool
net_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n >= PSW_NAME_MAX)
		return false;
	for (; *name; name++)
		if (!(*name >= 'a' && *name <= 'z') && !(*name >= 'A' && *name <= 'Z') &&
		    !(*name >= '0' && *name <= '9') && !strchr("-_.", *name))
			return false;
	return true;
}

uint16_t
psw_l2_network_id(const char *name)
{
	for (uint16_t n = 1; n < PSW_L2_MAX_NETS; n++)
		if (nets[n].used && !strcmp(nets[n].name, name))
			return n;
	return PSW_L2_NET_NONE;
}

const char *
psw_l2_network_name(uint16_t net)
{
	return net > 0 && net < PSW_L2_MAX_NETS && nets[net].used ? nets[net].name : NULL;
}

uint16_t
psw_l2_network_next(uint16_t after)
{
	for (uint16_t n = after + 1; n < PSW_L2_MAX_NETS; n++)
		if (nets[n].used)
			return n;
	return 0;
}

int
psw_l2_network_add(const char *name, char *err, size_t errlen)
{
	uint16_t n;

	if (!net_name_ok(name)) {
		snprintf(err, errlen, "name: '%s' is not a valid network name (1-%d of A-Z a-z 0-9 - _ .)",
			 name ? name : "", PSW_NAME_MAX - 1);
		return -EINVAL;
	}
	if (psw_l2_network_id(name)) {
		snprintf(err, errlen, "name: network '%s' exists", name);
		return -EEXIST;
	}
	for (n = 1; n < PSW_L2_MAX_NETS && nets[n].used; n++)
		;
	if (n == PSW_L2_MAX_NETS) {
		snprintf(err, errlen, "too many networks (at most %d)", PSW_L2_MAX_NETS - 1);
		return -ENOSPC;
	}
	memset(&nets[n], 0, sizeof(nets[n]));
	snprintf(nets[n].name, sizeof(nets[n].name), "%s", name);
	nets[n].used = true;
	return n;
}

int
psw_l2_network_del(const char *name, char *err, size_t errlen)
{
	uint16_t n = psw_l2_network_id(name ? name : "");
	struct psw_l2_members *old;

	if (!n) {
		snprintf(err, errlen, "name: no network '%s'", name ? name : "");
		return -ENOENT;
	}
	if (nets[n].n_ports) {
		snprintf(err, errlen, "name: network '%s' still has %u port(s)", name,
			 nets[n].n_ports);
		return -EBUSY;
	}
	psw_l2_fdb_flush(n, PSW_PORT_NONE);
	old = psw_publish(&psw_l2_members[n], NULL);
	psw_retire(old, free);
	nets[n].used = false;
	return 0;
}

/* Publish the member list of net from psw_l2_port_net (ports in id order). */
static int
publish_members(uint16_t net)
{
	struct psw_l2_members *m, *old;
	uint16_t cnt = 0;

	m = malloc(sizeof(*m) + PSW_MAX_PORTS * sizeof(uint16_t));
	if (m == NULL)
		return -ENOMEM;
	/* Pods' and hosts' ports first, transport ports after (split horizon, l2.h). */
	for (uint16_t p = 0; p < PSW_MAX_PORTS; p++)
		if (psw_l2_port_net[p] == net && psw_ports[p].tunnel == PSW_TUNNEL_NONE)
			m->port[cnt++] = p;
	m->n_local = cnt;
	for (uint16_t p = 0; p < PSW_MAX_PORTS; p++)
		if (psw_l2_port_net[p] == net && psw_ports[p].tunnel != PSW_TUNNEL_NONE)
			m->port[cnt++] = p;
	m->n = cnt;
	nets[net].n_ports = cnt;
	old = psw_publish(&psw_l2_members[net], m);
	psw_retire(old, free);
	return 0;
}

void
psw_l2_port_leave(uint16_t port)
{
	uint16_t net;

	if (port >= PSW_MAX_PORTS || (net = psw_l2_port_net[port]) == PSW_L2_NET_NONE)
		return;
	__atomic_store_n(&psw_l2_port_net[port], PSW_L2_NET_NONE, __ATOMIC_RELEASE);
	psw_l2_fdb_flush(net, port);
	publish_members(net);
	psw_l2_bind_port_moved(port);
}

int
psw_l2_port_join(uint16_t port, const char *network)
{
	uint16_t net;
	int rc;

	if (port >= PSW_MAX_PORTS)
		return -EINVAL;
	if (network == NULL || network[0] == '\0') {
		psw_l2_port_leave(port);
		return 0;
	}
	net = psw_l2_network_id(network);
	if (net == PSW_L2_NET_NONE)
		return -ENOENT;
	if (psw_l2_port_net[port] == net)
		return 0;
	psw_l2_port_leave(port);
	__atomic_store_n(&psw_l2_port_net[port], net, __ATOMIC_RELEASE);
	rc = publish_members(net);
	if (rc < 0)
		__atomic_store_n(&psw_l2_port_net[port], PSW_L2_NET_NONE, __ATOMIC_RELEASE);
	psw_l2_bind_port_moved(port);
	return rc;
}

int
psw_l2_fdb_learn(uint16_t net, const struct rte_ether_addr *mac, uint16_t port,
		 uint64_t now_s)
{
	uint64_t key = psw_l2_key(net, mac);
	struct psw_fdb_entry *e;
	int64_t i;
	int rc;

	if (net == PSW_L2_NET_NONE || net >= PSW_L2_MAX_NETS || !nets[net].used ||
	    port >= PSW_MAX_PORTS || psw_l2_port_net[port] != net ||
	    !rte_is_unicast_ether_addr(mac) || fdb == NULL)
		return -EINVAL;  /* a stale event: the port left, or a bad source */
	i = find_slot(fdb, key);
	if (i >= 0) {
		e = fdb->slot[i].e;
		if (e->is_static)
			return 0;   /* configured: learning never moves it */
		if (e->port == port) {
			e->seen = now_s;
			return 0;
		}
		/* A move: relearn at once. Over the new port's limit, forget the MAC. */
		if (psw_l2_port_macs[port] >= psw_l2_max_macs) {
			remove_slot(i);
			psw_generation_bump();
			return -ENOSPC;
		}
		psw_l2_port_macs[e->port]--;
		psw_l2_port_macs[port]++;
		__atomic_store_n(&e->port, port, __ATOMIC_RELAXED);
		e->seen = now_s;
		psw_generation_bump();
		return 2;
	}
	if (psw_l2_port_macs[port] >= psw_l2_max_macs)
		return -ENOSPC;
	rc = reserve_one();
	if (rc < 0)
		return rc;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	e->key = key;
	e->net = net;
	e->port = port;
	e->seen = e->created = now_s;
	table_put(fdb, e);
	psw_l2_port_macs[port]++;
	/* A new MAC changes only what a flood means (its destination may be this MAC): the
	 * learn generation, not the generation every cached decision depends on. */
	if (!psw_l2_batch_learn)
		psw_l2_learn_gen_bump();
	return 1;
}

int
psw_l2_fdb_add_static(uint16_t net, const struct rte_ether_addr *mac, uint16_t port)
{
	uint64_t key = psw_l2_key(net, mac);
	struct psw_fdb_entry *e;
	int64_t i;
	int rc;

	if (net == PSW_L2_NET_NONE || net >= PSW_L2_MAX_NETS || !nets[net].used ||
	    port >= PSW_MAX_PORTS || psw_l2_port_net[port] != net ||
	    !rte_is_unicast_ether_addr(mac) || rte_is_zero_ether_addr(mac) || fdb == NULL)
		return -EINVAL;
	i = find_slot(fdb, key);
	if (i >= 0) {
		e = fdb->slot[i].e;
		if (!e->is_static && psw_l2_port_macs[e->port] > 0)
			psw_l2_port_macs[e->port]--;
		e->is_static = 1;
		__atomic_store_n(&e->port, port, __ATOMIC_RELAXED);
		psw_generation_bump();
		return 0;
	}
	rc = reserve_one();
	if (rc < 0)
		return rc;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	e->key = key;
	e->net = net;
	e->port = port;
	e->is_static = 1;
	e->seen = e->created = psw_clock_s();
	table_put(fdb, e);
	psw_l2_learn_gen_bump();  /* a cached flood to this MAC is stale now */
	return 0;
}

unsigned
psw_l2_fdb_flush(uint16_t net, uint16_t port)
{
	unsigned n = 0;

	if (fdb == NULL)
		return 0;
	for (uint32_t i = 0; i <= fdb->mask; i++) {
		struct psw_fdb_entry *e;

		if (fdb->slot[i].key == 0 || fdb->slot[i].key == TOMB)
			continue;
		e = fdb->slot[i].e;
		if ((net && e->net != net) || (port != PSW_PORT_NONE && e->port != port))
			continue;
		remove_slot(i);
		n++;
	}
	if (n)
		psw_generation_bump();
	if (fdb->tomb > (fdb->mask + 1) / 4 && fdb->live * 4 < fdb->mask + 1)
		rehash(fdb->mask + 1 > min_slots && fdb->live * 8 < fdb->mask + 1 ?
		       (fdb->mask + 1) / 2 : fdb->mask + 1);
	return n;
}

unsigned
psw_l2_fdb_age(uint64_t now_s, unsigned max_slots)
{
	unsigned n = 0;

	if (fdb == NULL)
		return 0;
	if (max_slots == 0 || max_slots > fdb->mask + 1)
		max_slots = fdb->mask + 1;
	for (unsigned s = 0; s < max_slots; s++) {
		uint32_t i = age_cursor;
		struct psw_fdb_entry *e;

		age_cursor = (age_cursor + 1) & fdb->mask;
		if (fdb->slot[i].key == 0 || fdb->slot[i].key == TOMB)
			continue;
		e = fdb->slot[i].e;
		if (e->is_static || now_s < __atomic_load_n(&e->seen, __ATOMIC_RELAXED) + aging_s)
			continue;
		remove_slot(i);
		n++;
	}
	if (n)
		psw_generation_bump();
	return n;
}

int
psw_l2_fdb_foreach(uint16_t net, int (*fn)(const struct psw_fdb_entry *, void *), void *arg)
{
	int rc;

	if (fdb == NULL)
		return 0;
	for (uint32_t i = 0; i <= fdb->mask; i++) {
		if (fdb->slot[i].key == 0 || fdb->slot[i].key == TOMB)
			continue;
		if (net && fdb->slot[i].e->net != net)
			continue;
		rc = fn(fdb->slot[i].e, arg);
		if (rc)
			return rc;
	}
	return 0;
}

unsigned
psw_l2_fdb_count(void)
{
	return fdb ? fdb->live : 0;
}
