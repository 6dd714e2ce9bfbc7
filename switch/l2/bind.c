/*
 * bind.c: IP-to-MAC bindings per network (bind.h). The control thread keeps the pods'
 * addresses per port and the bindings learned from other nodes, and publishes one table
 * built from both whenever they change (a pod added or removed, a batch of learned ones):
 * rare, so a whole rebuild keeps the PMDs' lookup simple (open addressing, no tombstones).
 * A pod's own address always wins over one learned for the same IP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "core/clock.h"
#include "core/rcu.h"
#include "l2/bind.h"

#define PORT_IPS     8
#define LEARNED_MAX  16384
#define FILTER       64

struct port_addrs {
	bool set;
	struct rte_ether_addr mac;
	unsigned n;
	uint8_t ip[PORT_IPS][16];
	bool v6[PORT_IPS];
};

struct learned {
	uint16_t net, port;
	bool v6;
	uint8_t ip[16];
	struct rte_ether_addr mac;
	uint64_t seen;
};

struct bind_ev {
	uint16_t net, port;
	uint8_t v6;
	struct rte_ether_addr mac;
	uint8_t ip[16];
};

struct filter {
	uint32_t key[FILTER];
	uint64_t tsc[FILTER];
} __rte_cache_aligned;

struct psw_l2_bind_table *psw_l2_binds;
uint32_t psw_l2_net_binds[PSW_L2_MAX_NETS];

static struct port_addrs addrs[PSW_MAX_PORTS];
static struct learned *learned;
static unsigned n_learned;
static struct rte_ring *ring;
static struct filter filters[PSW_MAX_PMDS];
static uint64_t last_age;

static void
put(struct psw_l2_bind_table *t, uint16_t net, const uint8_t ip[16], bool v6,
    const struct rte_ether_addr *mac, uint16_t port)
{
	uint32_t i = psw_l2_bind_hash(net, ip) & t->mask;

	for (; t->slot[i].used; i = (i + 1) & t->mask)
		if (t->slot[i].net == net && t->slot[i].v6 == v6 && !memcmp(t->slot[i].ip, ip, 16))
			return;   /* taken (a pod's own address, put first) */
	memcpy(t->slot[i].ip, ip, 16);
	t->slot[i].net = net;
	t->slot[i].v6 = v6;
	t->slot[i].mac = *mac;
	t->slot[i].port = port;
	t->slot[i].used = 1;
	psw_l2_net_binds[net]++;
}

static void
publish(void)
{
	struct psw_l2_bind_table *t, *old;
	unsigned n = n_learned, slots = 64;

	for (unsigned p = 0; p < PSW_MAX_PORTS; p++)
		n += addrs[p].set ? addrs[p].n : 0;
	while (slots < 2 * n)
		slots *= 2;
	t = calloc(1, sizeof(*t) + slots * sizeof(t->slot[0]));
	if (t == NULL)
		return;
	t->mask = slots - 1;
	memset(psw_l2_net_binds, 0, sizeof(psw_l2_net_binds));
	for (uint16_t p = 0; p < PSW_MAX_PORTS; p++) {
		uint16_t net = psw_l2_port_net[p];

		for (unsigned i = 0; addrs[p].set && net != PSW_L2_NET_NONE && i < addrs[p].n; i++)
			put(t, net, addrs[p].ip[i], addrs[p].v6[i], &addrs[p].mac, p);
	}
	for (unsigned i = 0; i < n_learned; i++)
		put(t, learned[i].net, learned[i].ip, learned[i].v6, &learned[i].mac, learned[i].port);
	old = psw_publish(&psw_l2_binds, t);
	psw_retire(old, free);
}

bool
psw_l2_bind_post(unsigned pmd, uint64_t tsc, uint16_t net, const uint8_t ip[16], bool v6,
		 const struct rte_ether_addr *mac, uint16_t port)
{
	struct filter *f = &filters[pmd % PSW_MAX_PMDS];
	uint32_t key = psw_l2_bind_hash(net, ip) ^ port;
	unsigned i = key % FILTER;
	struct bind_ev ev = { .net = net, .port = port, .v6 = v6, .mac = *mac };

	if (f->key[i] == key && tsc - f->tsc[i] < psw_clock_hz())
		return true;
	f->key[i] = key;
	f->tsc[i] = tsc;
	memcpy(ev.ip, ip, 16);
	return ring != NULL && rte_ring_enqueue_elem(ring, &ev, sizeof(ev)) == 0;
}

static void
learn(const struct bind_ev *ev, uint64_t now)
{
	unsigned i;

	if (ev->net == PSW_L2_NET_NONE || ev->net >= PSW_L2_MAX_NETS)
		return;
	for (i = 0; i < n_learned; i++)
		if (learned[i].net == ev->net && learned[i].v6 == ev->v6 &&
		    !memcmp(learned[i].ip, ev->ip, 16))
			break;
	if (i == n_learned) {
		if (n_learned == LEARNED_MAX)
			return;
		n_learned++;
	}
	learned[i].net = ev->net;
	learned[i].port = ev->port;
	learned[i].v6 = ev->v6;
	memcpy(learned[i].ip, ev->ip, 16);
	learned[i].mac = ev->mac;
	learned[i].seen = now;
}

void
psw_l2_bind_drain(uint64_t now)
{
	struct bind_ev ev[32];
	unsigned n, total = 0, aged = 0;

	if (ring == NULL)
		return;
	while ((n = rte_ring_dequeue_burst_elem(ring, ev, sizeof(ev[0]), 32, NULL)) > 0) {
		for (unsigned i = 0; i < n; i++)
			learn(&ev[i], now);
		total += n;
	}
	if (now != last_age) {
		last_age = now;
		for (unsigned i = 0; i < n_learned;) {
			if (now - learned[i].seen >= psw_l2_aging_s()) {
				learned[i] = learned[--n_learned];
				aged++;
			} else {
				i++;
			}
		}
	}
	if (total || aged)
		publish();
}

static int
parse_ip(const char *s, uint8_t ip[16], bool *v6)
{
	char buf[INET6_ADDRSTRLEN + 1];
	size_t n = strcspn(s, "/");

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(ip, 0, 16);
	if (inet_pton(AF_INET, buf, ip) == 1) {
		*v6 = false;
		return 0;
	}
	*v6 = true;
	return inet_pton(AF_INET6, buf, ip) == 1 ? 0 : -1;
}

int
psw_l2_bind_set_port(uint16_t port, const struct rte_ether_addr *mac, const char *const *ips,
		     unsigned n_ips, char *err, size_t errlen)
{
	struct port_addrs a = { .set = true, .mac = *mac, .n = n_ips };

	if (port >= PSW_MAX_PORTS)
		return -EINVAL;
	if (n_ips > PORT_IPS) {
		snprintf(err, errlen, "addresses.ips: at most %d", PORT_IPS);
		return -EINVAL;
	}
	for (unsigned i = 0; i < n_ips; i++)
		if (parse_ip(ips[i], a.ip[i], &a.v6[i]) != 0) {
			snprintf(err, errlen, "addresses.ips[%u]: '%s' is not an IP address", i, ips[i]);
			return -EINVAL;
		}
	addrs[port] = a;
	publish();
	return 0;
}

void
psw_l2_bind_port_moved(uint16_t port)
{
	if (port < PSW_MAX_PORTS && addrs[port].set)
		publish();
}

void
psw_l2_bind_port_gone(uint16_t port)
{
	bool changed = false;

	if (port >= PSW_MAX_PORTS)
		return;
	changed = addrs[port].set;
	memset(&addrs[port], 0, sizeof(addrs[port]));
	for (unsigned i = 0; i < n_learned;) {
		if (learned[i].port == port) {
			learned[i] = learned[--n_learned];
			changed = true;
		} else {
			i++;
		}
	}
	if (changed)
		publish();
}

int
psw_l2_bind_foreach(uint16_t net, int (*fn)(const struct psw_l2_bind_info *, void *), void *arg)
{
	const struct psw_l2_bind_table *t = psw_l2_binds;
	uint64_t now = psw_clock_s();

	for (uint32_t i = 0; t != NULL && i <= t->mask; i++) {
		const struct psw_l2_bind_slot *s = &t->slot[i];
		struct psw_l2_bind_info in = { .net = s->net, .port = s->port, .v6 = s->v6,
					       .mac = s->mac };
		int rc;

		if (!s->used || (net != 0 && s->net != net))
			continue;
		memcpy(in.ip, s->ip, 16);
		for (unsigned j = 0; j < n_learned; j++)
			if (learned[j].net == s->net && learned[j].v6 == s->v6 &&
			    !memcmp(learned[j].ip, s->ip, 16) && learned[j].port == s->port &&
			    !(addrs[s->port].set)) {
				in.learned = true;
				in.age_s = now - learned[j].seen;
			}
		if ((rc = fn(&in, arg)) != 0)
			return rc;
	}
	return 0;
}

int
psw_l2_bind_init(void)
{
	if (ring != NULL)
		return 0;
	learned = calloc(LEARNED_MAX, sizeof(*learned));
	if (learned == NULL)
		return -ENOMEM;
	ring = rte_ring_create_elem("psw_l2_bind", sizeof(struct bind_ev), 4096, SOCKET_ID_ANY,
				    RING_F_SC_DEQ);
	if (ring == NULL) {
		free(learned);
		learned = NULL;
		return -rte_errno;
	}
	publish();
	return 0;
}

void
psw_l2_bind_fini(void)
{
	rte_ring_free(ring);
	ring = NULL;
	free(learned);
	learned = NULL;
	n_learned = 0;
	memset(addrs, 0, sizeof(addrs));
	free(psw_l2_binds);
	psw_l2_binds = NULL;
}
