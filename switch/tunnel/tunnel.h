/*
 * tunnel.h: the transports that carry a network between nodes over the uplink: VXLAN
 * (a VNI, head-end replication to a list of peers) or an 802.1Q VLAN.
 *
 * Each VXLAN peer of a network is a port of its own (port/port.h PSW_TUNNEL_VXLAN, named
 * vx<VNI>-<peer address>), a member of the network like a pod's port: NORMAL learns the
 * MACs behind a peer on its port, a known remote MAC is a unicast to that port, and a
 * flood reaches every peer port once (head-end replication). A frame that arrived from a
 * peer is never flooded to another peer (split horizon: l2's member lists keep transport
 * ports apart). A VLAN network has one such port (vlan<VID>). Their counters are the
 * per-peer counters.
 *
 * Packet path: the uplink's bursts go through psw_tunnel_decap_burst (tunnel_dp.c), which
 * checks and strips the outer headers and hands the inner frames on as received on the
 * peer's port; what is sent to a transport port is encapsulated by
 * psw_tunnel_encap_burst in the tx stage (datapath/txq.c) and leaves by the uplink.
 *
 * Tables: the decap map (which VNI is which network, which source address is which peer
 * port, which VLAN id is which port) is built by the control thread and published whole
 * (RCU); a transport port's context is immutable while the port exists.
 */
#ifndef PSW_TUNNEL_TUNNEL_H
#define PSW_TUNNEL_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <rte_byteorder.h>

#include "core/limits.h"

#define PSW_VXLAN_UDP_PORT 4789
#define PSW_VXLAN_OVERHEAD 50          /* outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8 */
#define PSW_TUNNEL_MAX_PEERS 128       /* per network */

/* A VXLAN peer port's context (port->tunnel_ctx). */
struct psw_vxlan_peer {
	uint16_t port;                 /* its port id */
	uint16_t net;
	uint32_t vni;
	rte_be32_t remote;             /* the peer's underlay IPv4 address */
	rte_be16_t udp_port;           /* VXLAN destination port */
};

/* A VLAN network's port context. */
struct psw_vlan_ctx {
	uint16_t port;
	uint16_t net;
	uint16_t vid;
};

/* The decap map, published whole. Keys (0 = empty): */
#define PSW_TMAP_VNI(udp_port, vni) (1ull << 62 | (uint64_t)(udp_port) << 24 | (vni))
#define PSW_TMAP_PEER(net, remote)  (2ull << 62 | (uint64_t)(net) << 32 | (remote))
#define PSW_TMAP_VLAN(vid)          (3ull << 62 | (vid))

struct psw_tmap_slot {
	uint64_t key;
	uint16_t net;                  /* VNI: the network */
	uint16_t port;                 /* PEER, VLAN: the transport port */
};

#define PSW_TMAP_UDP_PORTS 8

struct psw_tunnel_map {
	uint32_t mask;
	uint16_t n_udp;                /* VXLAN destination ports in use */
	rte_be16_t udp[PSW_TMAP_UDP_PORTS];
	struct psw_tmap_slot slot[];
};

extern struct psw_tunnel_map *psw_tunnel_map;

static inline const struct psw_tmap_slot *
psw_tunnel_map_find(const struct psw_tunnel_map *t, uint64_t key)
{
	for (uint32_t i = (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 40) & t->mask;;
	     i = (i + 1) & t->mask) {
		const struct psw_tmap_slot *s = &t->slot[i];

		if (s->key == key)
			return s;
		if (s->key == 0)
			return NULL;
	}
}

/* --- control thread ------------------------------------------------------------------- */

enum psw_transport {
	PSW_TRANSPORT_NONE,
	PSW_TRANSPORT_VXLAN,
	PSW_TRANSPORT_VLAN,
};

struct psw_transport_conf {
	enum psw_transport kind;
	uint32_t vni;
	uint16_t udp_port;             /* host order */
	uint16_t vid;
	unsigned n_peers;
	rte_be32_t peers[PSW_TUNNEL_MAX_PEERS];
};

int psw_tunnel_init(void);
void psw_tunnel_fini(void);
/* Give network net (named name) its transport: its ports made and joined, the map
 * published. Refuses a VNI or VLAN id another network uses, and more than one transport.
 * 0 or -errno with a message naming the field. */
int psw_tunnel_set(uint16_t net, const char *name, const struct psw_transport_conf *c,
		   char *err, size_t errlen);
/* Remove net's transport and its ports (network.del). */
void psw_tunnel_remove(uint16_t net);
int psw_tunnel_peer_add(uint16_t net, rte_be32_t remote, char *err, size_t errlen);
int psw_tunnel_peer_del(uint16_t net, rte_be32_t remote, char *err, size_t errlen);
/* net's transport (kind NONE if it has none). */
void psw_tunnel_get(uint16_t net, struct psw_transport_conf *c);
/* The port of net's peer remote, or PSW_PORT_NONE. */
uint16_t psw_tunnel_peer_port(uint16_t net, rte_be32_t remote);
/* The MTU pods of net get: the uplink's, less the VXLAN overhead (0: no transport). */
unsigned psw_tunnel_mtu(uint16_t net);

#endif
