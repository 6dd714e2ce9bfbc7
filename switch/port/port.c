/*
 * port.c: the port registry (control thread). Adds a DPDK device under a podswitch
 * name: probe, configure one tx queue per PMD (fewer if the device has fewer; then PMDs
 * share under a spinlock, see txq.c), start, then hand its rx queues to the PMDs.
 * Removal runs the same steps backwards with an RCU grace period in the middle, so a
 * PMD never polls or sends on a stopped device and other ports never pause.
 * Tx queues: PMD i sends on txq_of[i]; where a peer enables fewer queues than the device
 * has (vhost-user), the PMDs are remapped onto the enabled ones, through grace periods
 * (psw_port_set_txqs_enabled). Rx queues may be pinned to cores (rxq_pinned); pmd.c
 * places them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "core/burst.h"
#include "core/mbuf_meta.h"
#include "core/rcu.h"
#include "port/backend.h"
#include "port/port.h"

#define DEFAULT_DESC 1024
#define MAX_HOOKS 4

struct psw_port psw_ports[PSW_MAX_PORTS];

static struct rte_mempool *pools[RTE_MAX_NUMA_NODES];
static unsigned pool_mbufs, pool_cache, n_pmd_threads;
static void (*remove_hooks[MAX_HOOKS])(uint16_t id);
static int (*queues_hook)(void);

/* The rx queues to poll changed: the datapath republishes its rx-queue sets. */
static int
queues_changed(void)
{
	return queues_hook != NULL ? queues_hook() : 0;
}

void
psw_port_on_queues_changed(int (*fn)(void))
{
	queues_hook = fn;
}

static int
errf(char *err, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return rc;
}

static struct rte_mempool *
pool_for_socket(int socket)
{
	char name[RTE_MEMPOOL_NAMESIZE];

	if (socket < 0 || socket >= RTE_MAX_NUMA_NODES)
		socket = 0;
	if (pools[socket] != NULL)
		return pools[socket];
	snprintf(name, sizeof(name), "psw_mbuf_%d", socket);
	pools[socket] = psw_mbuf_pool_create(name, pool_mbufs, pool_cache, socket);
	if (pools[socket] == NULL && socket != 0)
		return pool_for_socket(0);
	return pools[socket];
}

int
psw_port_init(unsigned n_pmds, unsigned mbufs, unsigned mbuf_cache)
{
	n_pmd_threads = n_pmds ? n_pmds : 1;
	pool_mbufs = mbufs;
	pool_cache = mbuf_cache;
	if (pool_for_socket((int)rte_socket_id()) == NULL)
		return -rte_errno;
	return 0;
}

struct rte_mempool *
psw_port_pool(void)
{
	return pool_for_socket((int)rte_socket_id());
}

void
psw_port_fini(void)
{
	for (unsigned i = 0; i < RTE_MAX_NUMA_NODES; i++) {
		rte_mempool_free(pools[i]);
		pools[i] = NULL;
	}
}

void
psw_port_on_remove(void (*fn)(uint16_t id))
{
	for (unsigned i = 0; i < MAX_HOOKS; i++) {
		if (remove_hooks[i] == NULL) {
			remove_hooks[i] = fn;
			return;
		}
	}
}

bool
psw_port_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= PSW_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

struct psw_port *
psw_port_get(uint16_t id)
{
	if (id >= PSW_MAX_PORTS || !psw_ports[id].used)
		return NULL;
	return &psw_ports[id];
}

struct psw_port *
psw_port_by_name(const char *name)
{
	for (unsigned i = 0; i < PSW_MAX_PORTS; i++)
		if (psw_ports[i].used && strcmp(psw_ports[i].name, name) == 0)
			return &psw_ports[i];
	return NULL;
}

unsigned
psw_port_count(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < PSW_MAX_PORTS; i++)
		n += psw_ports[i].used;
	return n;
}

static bool
dpdk_port_taken(uint16_t dpdk_port)
{
	for (unsigned i = 0; i < PSW_MAX_PORTS; i++)
		if (psw_ports[i].used && psw_ports[i].io == NULL &&
		    psw_ports[i].dpdk_port == dpdk_port)
			return true;
	return false;
}

/* The ethdev that devargs names: the iterator understands both "net_pcap0,..." and PCI
 * addresses with options; fall back to the device name before the first comma. */
static int
find_dpdk_port(const char *devargs, uint16_t *out)
{
	struct rte_dev_iterator it;
	char name[RTE_ETH_NAME_MAX_LEN];
	uint16_t pid;
	const char *comma;
	size_t n;

	RTE_ETH_FOREACH_MATCHING_DEV(pid, devargs, &it) {
		if (!dpdk_port_taken(pid)) {
			*out = pid;
			rte_eth_iterator_cleanup(&it);
			return 0;
		}
	}
	comma = strchr(devargs, ',');
	n = comma ? (size_t)(comma - devargs) : strlen(devargs);
	if (n >= sizeof(name))
		return -ENAMETOOLONG;
	memcpy(name, devargs, n);
	name[n] = '\0';
	if (rte_eth_dev_get_port_by_name(name, &pid) == 0 && !dpdk_port_taken(pid)) {
		*out = pid;
		return 0;
	}
	return -ENODEV;
}

/* The device name and bus in devargs ("net_pcap0,rx_pcap=..." -> vdev, net_pcap0). */
static int
devargs_dev(const char *devargs, char *name, size_t len, char *bus, size_t buslen)
{
	struct rte_devargs da;

	if (rte_devargs_parse(&da, devargs) != 0)
		return -EINVAL;
	snprintf(name, len, "%s", da.name);
	snprintf(bus, buslen, "%s", da.bus ? rte_bus_name(da.bus) : "");
	rte_devargs_reset(&da);
	return 0;
}

/* The port already using the device devargs names, if any. */
static const struct psw_port *
devargs_user(const char *devargs)
{
	char name[RTE_DEV_NAME_MAX_LEN], bus[32];

	if (devargs_dev(devargs, name, sizeof(name), bus, sizeof(bus)) != 0)
		return NULL;
	for (unsigned i = 0; i < PSW_MAX_PORTS; i++)
		if (psw_ports[i].used && strcmp(psw_ports[i].dev_name, name) == 0)
			return &psw_ports[i];
	return NULL;
}

static bool
devargs_probed(const char *devargs)
{
	char name[RTE_DEV_NAME_MAX_LEN], bus[32];
	uint16_t pid;

	if (devargs_dev(devargs, name, sizeof(name), bus, sizeof(bus)) != 0)
		return false;
	return rte_eth_dev_get_port_by_name(name, &pid) == 0;
}

static void
detach_device(const char *dev_name, const char *bus_name)
{
	if (dev_name[0] != '\0')
		rte_eal_hotplug_remove(bus_name, dev_name);
}

static int
configure_port(struct psw_port *p, const struct psw_port_conf *conf, char *err, size_t errlen)
{
	struct rte_eth_conf econf;
	struct rte_eth_dev_info info;
	uint16_t rxd = conf->rx_desc ? conf->rx_desc : DEFAULT_DESC;
	uint16_t txd = conf->tx_desc ? conf->tx_desc : DEFAULT_DESC;
	struct rte_mempool *mp;
	int socket, rc;

	rc = rte_eth_dev_info_get(p->dpdk_port, &info);
	if (rc != 0)
		return errf(err, errlen, rc, "cannot read device info: %s", rte_strerror(-rc));
	snprintf(p->driver, sizeof(p->driver), "%s", info.driver_name);

	p->n_rxq = conf->n_rxq ? conf->n_rxq : 1;
	if (p->n_rxq > info.max_rx_queues)
		return errf(err, errlen, -EINVAL, "rxq %u: device supports at most %u",
			    p->n_rxq, info.max_rx_queues);
	p->n_txq = conf->n_txq ? conf->n_txq : n_pmd_threads;
	if (p->n_txq > info.max_tx_queues) {
		if (conf->n_txq)
			return errf(err, errlen, -EINVAL, "txq %u: device supports at most %u",
				    p->n_txq, info.max_tx_queues);
		p->n_txq = info.max_tx_queues; /* PMDs share under tx_lock */
	}

	memset(&econf, 0, sizeof(econf));
	if (p->n_rxq > 1 && info.flow_type_rss_offloads != 0) {
		econf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		econf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) &
			info.flow_type_rss_offloads;
	}
	rc = rte_eth_dev_configure(p->dpdk_port, p->n_rxq, p->n_txq, &econf);
	if (rc != 0 && conf->n_txq == 0 && p->n_txq != p->n_rxq) {
		/* Some drivers want as many tx as rx queues (net_tap: one fd per queue
		 * pair): with more PMDs than rx queues, they share the tx queues instead. */
		p->n_txq = p->n_rxq;
		rc = rte_eth_dev_configure(p->dpdk_port, p->n_rxq, p->n_txq, &econf);
	}
	if (rc != 0)
		return errf(err, errlen, rc, "cannot configure %u rx / %u tx queues: %s",
			    p->n_rxq, p->n_txq, rte_strerror(-rc));
	if (conf->mtu) {
		rc = rte_eth_dev_set_mtu(p->dpdk_port, conf->mtu);
		if (rc != 0)
			return errf(err, errlen, rc, "cannot set mtu %u: %s", conf->mtu,
				    rte_strerror(-rc));
	}
	if (conf->mac_set) {
		rc = rte_eth_dev_default_mac_addr_set(p->dpdk_port,
						      (struct rte_ether_addr *)&conf->mac);
		if (rc != 0)
			return errf(err, errlen, rc, "cannot set mac: %s", rte_strerror(-rc));
	}
	rte_eth_dev_adjust_nb_rx_tx_desc(p->dpdk_port, &rxd, &txd);

	socket = rte_eth_dev_socket_id(p->dpdk_port);
	mp = pool_for_socket(socket);
	if (mp == NULL)
		return errf(err, errlen, -ENOMEM, "no mbuf pool");
	if (socket < 0)
		socket = (int)rte_socket_id();
	for (uint16_t q = 0; q < p->n_rxq; q++) {
		rc = rte_eth_rx_queue_setup(p->dpdk_port, q, rxd, socket, NULL, mp);
		if (rc != 0)
			return errf(err, errlen, rc, "rx queue %u: %s", q, rte_strerror(-rc));
	}
	for (uint16_t q = 0; q < p->n_txq; q++) {
		rc = rte_eth_tx_queue_setup(p->dpdk_port, q, txd, socket, NULL);
		if (rc != 0)
			return errf(err, errlen, rc, "tx queue %u: %s", q, rte_strerror(-rc));
	}
	rc = rte_eth_dev_start(p->dpdk_port);
	if (rc != 0)
		return errf(err, errlen, rc, "cannot start device: %s", rte_strerror(-rc));
	/* Software devices without promiscuous mode are fine: they see everything anyway. */
	rte_eth_promiscuous_enable(p->dpdk_port);
	rte_eth_macaddr_get(p->dpdk_port, &p->mac);
	rte_eth_dev_get_mtu(p->dpdk_port, &p->mtu);
	return 0;
}

/* PMD i sends on the (i mod n)-th of the n enabled tx queues (all of them when none are
 * known); shared when two PMDs land on one queue. */
static bool
txq_map(const struct psw_port *p, uint32_t enabled, uint16_t *map)
{
	uint16_t q[PSW_MAX_QUEUES];
	unsigned n = 0;

	for (uint16_t i = 0; i < p->n_txq && i < PSW_MAX_QUEUES; i++)
		if (enabled & (1u << i))
			q[n++] = i;
	if (n == 0)
		for (uint16_t i = 0; i < p->n_txq && i < PSW_MAX_QUEUES; i++)
			q[n++] = i;
	for (unsigned i = 0; i < PSW_MAX_PMDS; i++)
		map[i] = n ? q[i % n] : 0;
	return n < psw_n_pmds;
}

/* The first mapping, before any PMD can see the port. */
static void
txq_init(struct psw_port *p)
{
	p->txq_enabled = 0;
	p->tx_shared = txq_map(p, 0, p->txq_of);
	rte_spinlock_init(&p->tx_lock);
}

void
psw_port_set_txqs_enabled(uint16_t id, uint32_t enabled)
{
	struct psw_port *p = psw_port_get(id);
	uint16_t map[PSW_MAX_PMDS];
	bool shared;

	if (p == NULL || p->txq_enabled == enabled)
		return;
	p->txq_enabled = enabled;
	shared = txq_map(p, enabled, map);
	if (memcmp(map, p->txq_of, sizeof(map)) != 0) {
		/* A PMD reads its queue and tx_shared once per flush (txq.c), and a flush
		 * sees at most two of these steps, a grace period lying between them. Lock
		 * first and wait until every PMD has seen it; then move; then wait again:
		 * no PMD still sends unlocked on its old queue when another lands on it,
		 * and none sends unlocked on a queue another one now uses. */
		if (!p->tx_shared) {
			__atomic_store_n(&p->tx_shared, 1, __ATOMIC_RELEASE);
			psw_rcu_synchronize();
		}
		for (unsigned i = 0; i < PSW_MAX_PMDS; i++)
			__atomic_store_n(&p->txq_of[i], map[i], __ATOMIC_RELAXED);
		psw_rcu_synchronize();
	}
	__atomic_store_n(&p->tx_shared, shared, __ATOMIC_RELEASE);
}

int
psw_port_set_rxq_pins(uint16_t id, uint16_t pinned, const uint16_t *cores)
{
	struct psw_port *p = psw_port_get(id);
	uint16_t old_pinned, old_core[PSW_MAX_QUEUES];
	int rc;

	if (p == NULL)
		return -ENOENT;
	if (p->n_rxq < PSW_MAX_QUEUES && (pinned >> p->n_rxq) != 0)
		return -EINVAL;
	old_pinned = p->rxq_pinned;
	memcpy(old_core, p->rxq_core, sizeof(old_core));
	p->rxq_pinned = pinned;
	for (unsigned q = 0; q < PSW_MAX_QUEUES; q++)
		p->rxq_core[q] = (pinned & (1u << q)) ? cores[q] : 0;
	rc = queues_changed();
	if (rc != 0) {
		p->rxq_pinned = old_pinned;
		memcpy(p->rxq_core, old_core, sizeof(old_core));
	}
	return rc;
}

static void
pins_from_conf(struct psw_port *p, const struct psw_port_conf *conf)
{
	p->rxq_pinned = conf->rxq_pinned;
	if (p->n_rxq < PSW_MAX_QUEUES)
		p->rxq_pinned &= (uint16_t)((1u << p->n_rxq) - 1);
	for (unsigned q = 0; q < PSW_MAX_QUEUES; q++)
		p->rxq_core[q] = (p->rxq_pinned & (1u << q)) ? conf->rxq_core[q] : 0;
}

static int
free_id(void)
{
	for (unsigned i = 0; i < PSW_MAX_PORTS; i++)
		if (!psw_ports[i].used)
			return (int)i;
	return -1;
}

/* The bursts the PMDs call for p: its back end's own (vhost-user), or NULL for the
 * ethdev's rte_eth_rx_burst/tx_burst. */
static const struct psw_port_io *
backend_io(const struct psw_port *p)
{
	const struct psw_backend *be = psw_backend_find(p->type);

	return be != NULL && be->datapath != NULL ? be->datapath(p->dpdk_port) : NULL;
}

int
psw_port_add(const struct psw_port_conf *conf, bool probe_done, char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	struct psw_port *p = NULL;
	char bus_name[32] = "";
	uint16_t dpdk_port;
	int rc, id = -1;

	if (!psw_port_name_valid(conf->name))
		return errf(err, errlen, -EINVAL,
			    "name \"%s\": use 1-63 characters of A-Z a-z 0-9 _ . -", conf->name);
	if (psw_port_by_name(conf->name) != NULL)
		return errf(err, errlen, -EEXIST, "port \"%s\" exists", conf->name);
	if (conf->devargs[0] == '\0')
		return errf(err, errlen, -EINVAL, "devargs: empty");
	id = free_id();
	if (id < 0)
		return errf(err, errlen, -ENOSPC, "no free port (at most %d)", PSW_MAX_PORTS);

	if (!probe_done) {
		const struct psw_port *user = devargs_user(conf->devargs);

		if (user != NULL)
			return errf(err, errlen, -EBUSY, "devargs \"%s\": device in use by port %s",
				    conf->devargs, user->name);
		if (devargs_probed(conf->devargs)) {
			probe_done = true; /* probed before (not by us): never detach it */
		} else {
			rc = rte_dev_probe(conf->devargs);
			if (rc != 0)
				return errf(err, errlen, rc, "devargs \"%s\": cannot probe device (%s): "
					    "check the driver name and its arguments",
					    conf->devargs, rte_strerror(-rc));
		}
	}
	rc = find_dpdk_port(conf->devargs, &dpdk_port);
	if (rc != 0) {
		errf(err, errlen, rc, "devargs \"%s\": no ethernet device found", conf->devargs);
		goto fail_detach;
	}

	p = &psw_ports[id];
	memset(p, 0, sizeof(*p));
	p->id = (uint16_t)id;
	p->dpdk_port = dpdk_port;
	p->output = conf->output;
	p->probed_here = !probe_done;
	snprintf(p->name, sizeof(p->name), "%s", conf->name);
	snprintf(p->type, sizeof(p->type), "%s", conf->type[0] ? conf->type : "dpdk");
	snprintf(p->devargs, sizeof(p->devargs), "%s", conf->devargs);
	if (rte_eth_dev_info_get(dpdk_port, &info) == 0 && info.device != NULL) {
		snprintf(p->dev_name, sizeof(p->dev_name), "%s", rte_dev_name(info.device));
		snprintf(bus_name, sizeof(bus_name), "%s", rte_bus_name(rte_dev_bus(info.device)));
	}

	rc = configure_port(p, conf, err, errlen);
	if (rc != 0)
		goto fail_close;

	txq_init(p);
	pins_from_conf(p, conf);
	p->dp_io = backend_io(p);
	p->used = true;
	psw_port_poll_links();
	__atomic_store_n(&p->enabled, 1, __ATOMIC_RELEASE);
	rc = queues_changed();
	if (rc != 0) {
		errf(err, errlen, rc, "cannot assign rx queues: %s", strerror(-rc));
		__atomic_store_n(&p->enabled, 0, __ATOMIC_RELEASE);
		p->used = false;
		queues_changed();
		psw_rcu_synchronize();
		goto fail_close;
	}
	return id;

fail_close:
	rte_eth_dev_stop(dpdk_port);
	rte_eth_dev_close(dpdk_port);
	if (!probe_done)
		detach_device(p->dev_name, bus_name);
	memset(p, 0, sizeof(*p));
	return rc;
fail_detach:
	if (!probe_done) {
		/* Our probe made a device but no ethdev we can use: detach it by its name. */
		char name[RTE_DEV_NAME_MAX_LEN], bus[32];

		if (devargs_dev(conf->devargs, name, sizeof(name), bus, sizeof(bus)) == 0 && bus[0])
			rte_eal_hotplug_remove(bus, name);
	}
	return rc;
}

int
psw_port_add_io(const struct psw_port_conf *conf, const struct psw_port_io *io,
		char *err, size_t errlen)
{
	struct psw_port *p;
	int id, rc;

	if (!psw_port_name_valid(conf->name))
		return errf(err, errlen, -EINVAL,
			    "name \"%s\": use 1-63 characters of A-Z a-z 0-9 _ . -", conf->name);
	if (psw_port_by_name(conf->name) != NULL)
		return errf(err, errlen, -EEXIST, "port \"%s\" exists", conf->name);
	if (io->n_rxq == 0 || io->n_rxq > PSW_MAX_QUEUES || io->n_txq == 0 ||
	    io->n_txq > PSW_MAX_QUEUES)
		return errf(err, errlen, -EINVAL, "queues: 1..%d rx and tx", PSW_MAX_QUEUES);
	id = free_id();
	if (id < 0)
		return errf(err, errlen, -ENOSPC, "no free port (at most %d)", PSW_MAX_PORTS);
	p = &psw_ports[id];
	memset(p, 0, sizeof(*p));
	p->id = (uint16_t)id;
	p->io = p->dp_io = io;
	p->dpdk_port = UINT16_MAX;
	p->output = conf->output;
	p->n_rxq = io->n_rxq;
	p->n_txq = io->n_txq;
	p->mtu = io->mtu;
	p->mac = io->mac;
	snprintf(p->name, sizeof(p->name), "%s", conf->name);
	snprintf(p->type, sizeof(p->type), "%s", conf->type);
	snprintf(p->driver, sizeof(p->driver), "%s", io->driver ? io->driver : "podswitch");
	txq_init(p);
	pins_from_conf(p, conf);
	p->used = true;
	__atomic_store_n(&p->enabled, 1, __ATOMIC_RELEASE);
	rc = queues_changed();
	if (rc != 0) {
		__atomic_store_n(&p->enabled, 0, __ATOMIC_RELEASE);
		p->used = false;
		queues_changed();
		psw_rcu_synchronize();
		memset(p, 0, sizeof(*p));
		return errf(err, errlen, rc, "cannot assign rx queues: %s", strerror(-rc));
	}
	return id;
}

int
psw_port_del(uint16_t id, char *err, size_t errlen)
{
	struct psw_port *p = psw_port_get(id);
	struct rte_eth_dev_info info;
	char bus_name[32] = "";

	if (p == NULL)
		return errf(err, errlen, -ENOENT, "no port %u", id);

	/* 1. No new packets towards it; 2. no PMD polls it; 3. wait until every PMD has
	 * finished the iteration that might still have seen it (including its tx flush). */
	__atomic_store_n(&p->enabled, 0, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < PSW_MAX_PORTS; i++)
		if (psw_ports[i].used && psw_ports[i].output == id)
			__atomic_store_n(&psw_ports[i].output, PSW_PORT_NONE, __ATOMIC_RELAXED);
	p->used = false;
	queues_changed();
	psw_rcu_synchronize();

	if (p->io == NULL && p->tunnel == PSW_TUNNEL_NONE) {
		if (rte_eth_dev_info_get(p->dpdk_port, &info) == 0 && info.device != NULL)
			snprintf(bus_name, sizeof(bus_name), "%s",
				 rte_bus_name(rte_dev_bus(info.device)));
		rte_eth_dev_stop(p->dpdk_port);
		rte_eth_dev_close(p->dpdk_port);
		if (p->probed_here)
			detach_device(p->dev_name, bus_name);
	}

	for (unsigned i = 0; i < psw_n_pmds; i++)
		memset(&psw_pmds[i]->port_stats[id], 0, sizeof(psw_pmds[i]->port_stats[id]));
	for (unsigned i = 0; i < MAX_HOOKS && remove_hooks[i] != NULL; i++)
		remove_hooks[i](id);
	memset(p, 0, sizeof(*p));
	return 0;
}

int
psw_port_add_tunnel(const char *name, const char *type, uint8_t kind, const void *ctx,
		    uint16_t mtu, char *err, size_t errlen)
{
	struct psw_port *p;
	int id;

	if (!psw_port_name_valid(name))
		return errf(err, errlen, -EINVAL, "port name \"%s\" is not valid", name);
	if (psw_port_by_name(name) != NULL)
		return errf(err, errlen, -EEXIST, "port \"%s\" exists", name);
	id = free_id();
	if (id < 0)
		return errf(err, errlen, -ENOSPC, "no free port (at most %d)", PSW_MAX_PORTS);
	p = &psw_ports[id];
	memset(p, 0, sizeof(*p));
	p->id = (uint16_t)id;
	p->dpdk_port = UINT16_MAX;
	p->output = PSW_PORT_NONE;
	p->n_txq = (uint16_t)psw_n_pmds;
	p->mtu = mtu;
	p->link_up = 1;
	p->tunnel = kind;
	p->tunnel_ctx = ctx;
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->type, sizeof(p->type), "%s", type);
	snprintf(p->driver, sizeof(p->driver), "podswitch-%s", type);
	rte_spinlock_init(&p->tx_lock);
	p->used = true;
	__atomic_store_n(&p->enabled, 1, __ATOMIC_RELEASE);
	return id;
}

void
psw_port_del_all(void)
{
	char err[256];

	for (unsigned i = 0; i < PSW_MAX_PORTS; i++)
		if (psw_ports[i].used)
			psw_port_del((uint16_t)i, err, sizeof(err));
}

int
psw_port_set_output(uint16_t id, uint16_t output)
{
	struct psw_port *p = psw_port_get(id);

	if (p == NULL || (output != PSW_PORT_NONE && psw_port_get(output) == NULL))
		return -ENOENT;
	__atomic_store_n(&p->output, output, __ATOMIC_RELEASE);
	return 0;
}

static void
raw_counters(uint16_t id, struct psw_port_counters *c)
{
	memset(c, 0, sizeof(*c));
	for (unsigned i = 0; i < psw_n_pmds; i++) {
		const struct psw_pmd_port_stats *s = &psw_pmds[i]->port_stats[id];

		c->rx_packets += s->rx_packets;
		c->rx_bytes += s->rx_bytes;
		c->tx_packets += s->tx_packets;
		c->tx_bytes += s->tx_bytes;
		c->tx_drops += s->tx_drops;
		for (unsigned r = 0; r < PSW_DROP_MAX; r++)
			c->drops[r] += s->drops[r];
	}
}

void
psw_port_read_counters(uint16_t id, struct psw_port_counters *out)
{
	const struct psw_port_counters *b = &psw_ports[id].baseline;

	raw_counters(id, out);
	out->rx_packets -= b->rx_packets;
	out->rx_bytes -= b->rx_bytes;
	out->tx_packets -= b->tx_packets;
	out->tx_bytes -= b->tx_bytes;
	out->tx_drops -= b->tx_drops;
	for (unsigned r = 0; r < PSW_DROP_MAX; r++)
		out->drops[r] -= b->drops[r];
}

/* PMDs own their counters, so a clear records a baseline instead of writing them. */
void
psw_port_clear_counters(uint16_t id)
{
	raw_counters(id, &psw_ports[id].baseline);
}

void
psw_port_poll_links(void)
{
	const struct psw_backend *be;
	struct rte_eth_link link;
	int up;

	for (unsigned i = 0; i < PSW_MAX_PORTS; i++) {
		struct psw_port *p = &psw_ports[i];

		if (!p->used || p->tunnel != PSW_TUNNEL_NONE)
			continue;
		if (p->io != NULL) {    /* io ports: their owner knows */
			p->link_up = __atomic_load_n(&p->io->link_up, __ATOMIC_RELAXED);
			continue;
		}
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(p->dpdk_port, &link) != 0)
			continue;
		p->link_up = link.link_status == RTE_ETH_LINK_UP;
		/* Where ethdev cannot tell (a tap moved into a pod), its back end answers. */
		be = psw_backend_find(p->type);
		if (be != NULL && be->link != NULL && (up = be->link(p->dpdk_port)) >= 0)
			p->link_up = up == 1;
		/* Where the peer enables fewer queues than the device has (a vhost-user pod
		 * with fewer queue pairs), PMDs send only on the enabled ones. */
		if (be != NULL && be->txqs != NULL && p->enabled)
			psw_port_set_txqs_enabled(p->id, be->txqs(p->dpdk_port));
		p->link_speed = link.link_speed;
		p->link_full_duplex = link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX;
	}
}

const char *
psw_port_name(uint16_t id, char *buf)
{
	const struct psw_port *p = psw_port_get(id);

	if (p)
		snprintf(buf, PSW_NAME_MAX, "%s", p->name);
	else
		snprintf(buf, PSW_NAME_MAX, "#%u", id);
	return buf;
}

const char *
psw_mac_str(const struct rte_ether_addr *mac, char *buf)
{
	const uint8_t *b = mac->addr_bytes;

	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
	return buf;
}
