/*
 * port.h: the port registry. A port is a DPDK ethdev (any device: PCI, net_pcap, net_ring,
 * net_tap, vhost-user, memif...) under a podswitch name and a small stable id (0..MAX-1).
 * The control thread adds and removes ports; PMDs read the per-port fast-path fields
 * (dpdk_port, enabled, output) and never write them. Removal: the control thread clears
 * `enabled`, unpublishes the port's rx queues, waits one RCU grace period, then stops the
 * device, so no PMD touches a closed device.
 */
#ifndef PSW_PORT_PORT_H
#define PSW_PORT_PORT_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_spinlock.h>

#include "core/drop.h"
#include "core/limits.h"

#define PSW_TYPE_MAX    16
#define PSW_DEVARGS_MAX 1024
#define PSW_MAX_QUEUES  16
#define PSW_TXQ_NONE    UINT16_MAX

/* A port that podswitch serves itself instead of a DPDK driver (backends/memif_server.c):
 * PMDs call these in place of rte_eth_rx_burst / rte_eth_tx_burst. They run on PMD
 * threads (one PMD per rx queue; tx queue = PMD index, shared ones under tx_lock): no
 * lock, no system call, no log. tx_burst takes ownership of the packets it accepts. */
struct psw_port_io {
	uint16_t (*rx_burst)(void *ctx, uint16_t queue, struct rte_mbuf **pkts, uint16_t n);
	uint16_t (*tx_burst)(void *ctx, uint16_t queue, struct rte_mbuf **pkts, uint16_t n);
	void *ctx;
	const char *driver;             /* shown as the port's driver */
	uint16_t n_rxq, n_txq;
	uint16_t mtu;
	struct rte_ether_addr mac;
	uint8_t link_up;                /* its owner's view; read by psw_port_poll_links() */
};

/* What a caller asks for. Zero means "default". */
struct psw_port_conf {
	char name[PSW_NAME_MAX];
	char type[PSW_TYPE_MAX];     /* "dpdk", "vhost-user", "memif", "tap" */
	char devargs[PSW_DEVARGS_MAX];
	uint16_t output;             /* static output port id, or PSW_PORT_NONE */
	uint16_t n_rxq;              /* default 1 */
	uint16_t n_txq;              /* default: one per PMD (capped by the device) */
	uint16_t mtu;                /* default: the device's */
	uint16_t rx_desc, tx_desc;   /* default 1024 */
	bool mac_set;
	struct rte_ether_addr mac;
	uint16_t rxq_pinned;         /* bit q: rx queue q is pinned to core rxq_core[q] */
	uint16_t rxq_core[PSW_MAX_QUEUES];
};

/* Port counters, as read (summed over PMDs, minus the baseline of the last clear). */
struct psw_port_counters {
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;
	uint64_t drops[PSW_DROP_MAX];  /* by reason, counted at the port that received it */
	uint64_t tx_drops;             /* packets sent to this port that it did not take */
};

/* Transport ports (tunnel/): a network's way to other nodes, one port per VXLAN peer or
 * one per VLAN network. They have no device and no rx queue: the uplink stage hands them
 * their packets, and the tx stage encapsulates what is sent to them onto the uplink. */
enum psw_tunnel_kind {
	PSW_TUNNEL_NONE,
	PSW_TUNNEL_VXLAN,
	PSW_TUNNEL_VLAN,
};

struct psw_port {
	/* Fast-path fields, read by PMDs. */
	uint16_t dpdk_port;
	uint8_t enabled;               /* written with __atomic release by the control thread */
	uint8_t link_up;               /* last link state seen by the control thread */
	uint16_t output;               /* static output, or PSW_PORT_NONE */
	uint16_t n_txq;                /* tx queues */
	uint8_t tx_shared;             /* two PMDs map onto one tx queue: every PMD sends under
					* tx_lock */
	/* The tx queue PMD i sends on (PSW_TXQ_NONE: the peer enabled none, drop as
	 * port_down). Changed only with psw_port_set_txqs_enabled()'s grace periods. */
	uint16_t txq_of[PSW_MAX_PMDS];
	uint16_t mtu;
	rte_spinlock_t tx_lock;        /* only used when n_txq < number of PMDs */
	const struct psw_port_io *io;  /* NULL: an ethdev (dpdk_port) */
	/* What the PMDs call: io, or for an ethdev its back end's own bursts (a vhost-user
	 * port calls the vhost library directly: backend.h datapath()); NULL:
	 * rte_eth_rx_burst / rte_eth_tx_burst on dpdk_port. */
	const struct psw_port_io *dp_io;
	uint8_t tunnel;                /* PSW_TUNNEL_*: a network's transport port (no device) */
	const void *tunnel_ctx;        /* tunnel/: what its packets are encapsulated with */

	/* Control-thread fields. */
	bool used;
	uint16_t id;
	uint16_t n_rxq;
	char name[PSW_NAME_MAX];
	char type[PSW_TYPE_MAX];
	char devargs[PSW_DEVARGS_MAX];
	char dev_name[PSW_NAME_MAX];   /* rte_dev name, for removal */
	char driver[PSW_NAME_MAX];
	uint16_t rxq_pinned;           /* rx queue pinning (port.set rxq_pmd), read by pmd.c */
	uint16_t rxq_core[PSW_MAX_QUEUES];
	uint32_t txq_enabled;          /* tx queues the peer enabled (all, unless told) */
	bool probed_here;              /* removal also detaches the device */
	struct rte_ether_addr mac;
	uint32_t link_speed;
	bool link_full_duplex;
	struct psw_port_counters baseline;
};

extern struct psw_port psw_ports[PSW_MAX_PORTS];

/* Control thread. */
int psw_port_init(unsigned n_pmds, unsigned mbufs, unsigned mbuf_cache);
void psw_port_fini(void);
/* The packet pool of the caller's NUMA node (mbufs with the metadata area). */
struct rte_mempool *psw_port_pool(void);
/* Called after a port is removed, before its id can be reused (flow tables drop
 * references to it). At most a few hooks. */
void psw_port_on_remove(void (*fn)(uint16_t id));
/* Called after the set of rx queues to poll changed (a port added, removed, enabled): the
 * datapath republishes its rx-queue sets (datapath/pmd.c). 0 or -errno. */
void psw_port_on_queues_changed(int (*fn)(void));
/* Probe (unless probe_done or the device exists already), configure, start, assign rx
 * queues to PMDs, enable. Returns the new id, or -errno with a message in err. Leaves
 * nothing behind on failure (a device this call did not probe is never detached). */
int psw_port_add(const struct psw_port_conf *conf, bool probe_done, char *err, size_t errlen);
/* Add a transport port (no device, no rx queue; tunnel/). It is managed by its network:
 * port.del and port.set refuse it. Returns the new id or -errno with err. */
int psw_port_add_tunnel(const char *name, const char *type, uint8_t kind, const void *ctx,
			uint16_t mtu, char *err, size_t errlen);
/* Add a port served by `io` (no ethdev). Returns the new id or -errno with err. */
int psw_port_add_io(const struct psw_port_conf *conf, const struct psw_port_io *io,
		    char *err, size_t errlen);
int psw_port_del(uint16_t id, char *err, size_t errlen);
void psw_port_del_all(void);
struct psw_port *psw_port_by_name(const char *name);
struct psw_port *psw_port_get(uint16_t id); /* NULL if unused */
unsigned psw_port_count(void);
void psw_port_read_counters(uint16_t id, struct psw_port_counters *out);
void psw_port_clear_counters(uint16_t id);
void psw_port_poll_links(void);       /* refresh link state (control loop) */
int psw_port_set_output(uint16_t id, uint16_t output);
/* Pin rx queues to cores (bit q of `pinned`: queue q to cores[q]; the rest float) and
 * have the datapath move them. Cores that are no PMD leave their queue floating.
 * 0, -ENOENT, -EINVAL (a queue the port does not have), or the datapath's -errno. */
int psw_port_set_rxq_pins(uint16_t id, uint16_t pinned, const uint16_t *cores);
/* The tx queues the peer has enabled changed (bit q: queue q; 0: not known, use all):
 * remap every PMD onto an enabled queue (PMD i onto the (i mod n)-th), sharing under
 * tx_lock where two PMDs land on one. Changes go through grace periods so that no two
 * PMDs ever send on one queue without the lock. Control thread. */
void psw_port_set_txqs_enabled(uint16_t id, uint32_t enabled);
bool psw_port_name_valid(const char *name);
/* The name of port id, or "#id" for an unknown id, into buf (PSW_NAME_MAX bytes). */
const char *psw_port_name(uint16_t id, char *buf);
/* "aa:bb:cc:dd:ee:ff" of mac into buf (18 bytes). */
const char *psw_mac_str(const struct rte_ether_addr *mac, char *buf);

#endif
