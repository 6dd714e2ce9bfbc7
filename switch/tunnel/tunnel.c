/*
 * tunnel.c: networks' transports (tunnel.h; control thread): their ports, their peers,
 * and the decap map PMDs read. A change makes or removes ports (each a member of its
 * network) and publishes a new map; the old one is freed after a grace period. A peer's
 * port is removed the way any port is (port/port.c: disabled, unpolled, a grace period),
 * so its context can be freed right after.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "core/rcu.h"
#include "l2/l2.h"
#include "neigh/neigh.h"
#include "port/port.h"
#include "tunnel/tunnel.h"

struct transport {
	struct psw_transport_conf c;
	char name[PSW_NAME_MAX];
	struct psw_vxlan_peer *peer[PSW_TUNNEL_MAX_PEERS];   /* per c.peers[i] */
	struct psw_vlan_ctx *vlan;
};

struct psw_tunnel_map *psw_tunnel_map;
static struct transport nets[PSW_L2_MAX_NETS];

static int
errf(char *err, size_t len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
errf(char *err, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return rc;
}

static void
map_put(struct psw_tunnel_map *t, uint64_t key, uint16_t net, uint16_t port)
{
	uint32_t i = (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 40) & t->mask;

	while (t->slot[i].key != 0)
		i = (i + 1) & t->mask;
	t->slot[i] = (struct psw_tmap_slot){ .key = key, .net = net, .port = port };
}

/* Build the decap map from every transport and publish it. */
static int
publish_map(void)
{
	struct psw_tunnel_map *t, *old;
	unsigned n = 0, slots = 64;

	for (unsigned i = 1; i < PSW_L2_MAX_NETS; i++)
		n += nets[i].c.kind == PSW_TRANSPORT_NONE ? 0 : 1 + nets[i].c.n_peers;
	while (slots < 2 * n)
		slots *= 2;
	t = calloc(1, sizeof(*t) + slots * sizeof(t->slot[0]));
	if (t == NULL)
		return -ENOMEM;
	t->mask = slots - 1;
	for (uint16_t i = 1; i < PSW_L2_MAX_NETS; i++) {
		const struct transport *x = &nets[i];

		if (x->c.kind == PSW_TRANSPORT_VXLAN) {
			rte_be16_t up = rte_cpu_to_be_16(x->c.udp_port);
			unsigned k;

			for (k = 0; k < t->n_udp && t->udp[k] != up; k++)
				;
			if (k == t->n_udp)
				t->udp[t->n_udp++] = up;
			map_put(t, PSW_TMAP_VNI(x->c.udp_port, x->c.vni), i, PSW_PORT_NONE);
			for (unsigned p = 0; p < x->c.n_peers; p++)
				if (x->peer[p] != NULL)
					map_put(t, PSW_TMAP_PEER(i, rte_be_to_cpu_32(x->c.peers[p])), i,
						x->peer[p]->port);
		} else if (x->c.kind == PSW_TRANSPORT_VLAN) {
			map_put(t, PSW_TMAP_VLAN(x->c.vid), i, x->vlan->port);
		}
	}
	old = psw_publish(&psw_tunnel_map, t);
	psw_retire(old, free);
	return 0;
}

static void
del_port(uint16_t port)
{
	char msg[128];

	psw_port_del(port, msg, sizeof(msg));
}

/* Is a this node's own underlay address? */
static bool
is_self(rte_be32_t a)
{
	const struct psw_underlay *u = psw_underlay;

	return u != NULL && u->ip4 != 0 && u->ip4 == a;
}

/* A port for peer i of net x (none for this node itself). */
static int
add_peer_port(uint16_t net, struct transport *x, unsigned i, char *err, size_t errlen)
{
	struct psw_vxlan_peer *ctx = calloc(1, sizeof(*ctx));
	char name[PSW_NAME_MAX], ip[INET_ADDRSTRLEN];
	int id, rc;

	if (ctx == NULL)
		return errf(err, errlen, -ENOMEM, "out of memory");
	if (is_self(x->c.peers[i])) {
		/* This node itself (one peer list serves every node): no port. */
		free(ctx);
		x->peer[i] = NULL;
		return 0;
	}
	inet_ntop(AF_INET, &x->c.peers[i], ip, sizeof(ip));
	snprintf(name, sizeof(name), "vx%u-%s", x->c.vni, ip);
	ctx->net = net;
	ctx->vni = x->c.vni;
	ctx->remote = x->c.peers[i];
	ctx->udp_port = rte_cpu_to_be_16(x->c.udp_port);
	id = psw_port_add_tunnel(name, "vxlan", PSW_TUNNEL_VXLAN, ctx, 0, err, errlen);
	if (id < 0) {
		free(ctx);
		return id;
	}
	ctx->port = (uint16_t)id;
	rc = psw_l2_port_join((uint16_t)id, x->name);
	if (rc != 0) {
		del_port((uint16_t)id);
		free(ctx);
		return errf(err, errlen, rc, "cannot join network %s: %s", x->name, strerror(-rc));
	}
	x->peer[i] = ctx;
	return 0;
}

static void
remove_peer_port(struct transport *x, unsigned i)
{
	del_port(x->peer[i]->port);   /* leaves the network; a grace period passed */
	free(x->peer[i]);
	x->peer[i] = NULL;
}

/* Is udp_port in use already, or is there room for one more? */
static bool
udp_port_room(uint16_t udp_port)
{
	uint16_t seen[PSW_TMAP_UDP_PORTS];
	unsigned n = 0;

	for (unsigned i = 1; i < PSW_L2_MAX_NETS; i++) {
		unsigned k;

		if (nets[i].c.kind != PSW_TRANSPORT_VXLAN)
			continue;
		if (nets[i].c.udp_port == udp_port)
			return true;
		for (k = 0; k < n && seen[k] != nets[i].c.udp_port; k++)
			;
		if (k == n && n < PSW_TMAP_UDP_PORTS)
			seen[n++] = nets[i].c.udp_port;
	}
	return n < PSW_TMAP_UDP_PORTS;
}

static bool
addr_ok(rte_be32_t a)
{
	uint32_t h = rte_be_to_cpu_32(a);

	return h != 0 && h != UINT32_MAX && (h >> 28) != 0xe && (h >> 24) != 127;
}

int
psw_tunnel_set(uint16_t net, const char *name, const struct psw_transport_conf *c,
	       char *err, size_t errlen)
{
	struct transport *x;
	int rc;

	if (net == 0 || net >= PSW_L2_MAX_NETS)
		return errf(err, errlen, -EINVAL, "no such network");
	x = &nets[net];
	if (x->c.kind != PSW_TRANSPORT_NONE)
		return errf(err, errlen, -EEXIST, "network %s has a transport already", name);
	if (c->kind == PSW_TRANSPORT_VXLAN) {
		if (c->vni == 0 || c->vni > 0xffffff)
			return errf(err, errlen, -EINVAL, "vxlan: VNI %u is out of range 1..16777215",
				    c->vni);
		if (c->n_peers > PSW_TUNNEL_MAX_PEERS)
			return errf(err, errlen, -EINVAL, "peers: at most %d", PSW_TUNNEL_MAX_PEERS);
		for (unsigned i = 0; i < c->n_peers; i++) {
			if (!addr_ok(c->peers[i]))
				return errf(err, errlen, -EINVAL, "peers[%u]: not a unicast address", i);
			for (unsigned j = 0; j < i; j++)
				if (c->peers[j] == c->peers[i])
					return errf(err, errlen, -EINVAL, "peers[%u]: given twice", i);
		}
	} else if (c->kind == PSW_TRANSPORT_VLAN) {
		if (c->vid == 0 || c->vid > 4094)
			return errf(err, errlen, -EINVAL, "vlan: VLAN id %u is out of range 1..4094",
				    c->vid);
	} else {
		return 0;
	}
	if (c->kind == PSW_TRANSPORT_VXLAN && !udp_port_room(c->udp_port))
		return errf(err, errlen, -ENOSPC, "port: at most %d different VXLAN ports",
			    PSW_TMAP_UDP_PORTS);
	for (unsigned i = 1; i < PSW_L2_MAX_NETS; i++) {
		const struct transport *o = &nets[i];

		if (c->kind == PSW_TRANSPORT_VXLAN && o->c.kind == PSW_TRANSPORT_VXLAN &&
		    o->c.vni == c->vni && o->c.udp_port == c->udp_port)
			return errf(err, errlen, -EEXIST, "vxlan: VNI %u is network %s's", c->vni,
				    o->name);
		if (c->kind == PSW_TRANSPORT_VLAN && o->c.kind == PSW_TRANSPORT_VLAN &&
		    o->c.vid == c->vid)
			return errf(err, errlen, -EEXIST, "vlan: VLAN %u is network %s's", c->vid,
				    o->name);
	}
	memset(x, 0, sizeof(*x));
	x->c = *c;
	snprintf(x->name, sizeof(x->name), "%s", name);
	if (c->kind == PSW_TRANSPORT_VXLAN) {
		for (unsigned i = 0; i < c->n_peers; i++)
			if ((rc = add_peer_port(net, x, i, err, errlen)) != 0)
				goto fail;
	} else {
		char pname[PSW_NAME_MAX];
		int id;

		x->vlan = calloc(1, sizeof(*x->vlan));
		if (x->vlan == NULL) {
			rc = errf(err, errlen, -ENOMEM, "out of memory");
			goto fail;
		}
		x->vlan->port = PSW_PORT_NONE;
		x->vlan->net = net;
		x->vlan->vid = c->vid;
		snprintf(pname, sizeof(pname), "vlan%u", c->vid);
		id = psw_port_add_tunnel(pname, "vlan", PSW_TUNNEL_VLAN, x->vlan, 0, err, errlen);
		if (id < 0 || (rc = psw_l2_port_join((uint16_t)id, name)) != 0) {
			if (id >= 0)
				del_port((uint16_t)id);
			rc = id < 0 ? id : errf(err, errlen, -EIO, "cannot join network %s", name);
			goto fail;
		}
		x->vlan->port = (uint16_t)id;
	}
	if ((rc = publish_map()) != 0) {
		errf(err, errlen, rc, "out of memory");
		goto fail;
	}
	return 0;
fail:
	psw_tunnel_remove(net);
	return rc;
}

void
psw_tunnel_remove(uint16_t net)
{
	struct transport *x;

	if (net == 0 || net >= PSW_L2_MAX_NETS)
		return;
	x = &nets[net];
	/* Unmap first: no PMD hands a frame to a port about to go. */
	x->c.kind = PSW_TRANSPORT_NONE;
	publish_map();
	for (unsigned i = 0; i < PSW_TUNNEL_MAX_PEERS; i++)
		if (x->peer[i] != NULL)
			remove_peer_port(x, i);
	if (x->vlan != NULL) {
		if (x->vlan->port != PSW_PORT_NONE)
			del_port(x->vlan->port);
		free(x->vlan);
	}
	memset(x, 0, sizeof(*x));
}

int
psw_tunnel_peer_add(uint16_t net, rte_be32_t remote, char *err, size_t errlen)
{
	struct transport *x = net < PSW_L2_MAX_NETS ? &nets[net] : NULL;
	unsigned i;
	int rc;

	if (x == NULL || x->c.kind != PSW_TRANSPORT_VXLAN)
		return errf(err, errlen, -EINVAL, "network: has no VXLAN transport");
	if (!addr_ok(remote))
		return errf(err, errlen, -EINVAL, "peer: not a unicast address");
	for (i = 0; i < x->c.n_peers; i++)
		if (x->c.peers[i] == remote)
			return errf(err, errlen, -EEXIST, "peer: already a peer");
	if (x->c.n_peers == PSW_TUNNEL_MAX_PEERS)
		return errf(err, errlen, -ENOSPC, "peers: at most %d", PSW_TUNNEL_MAX_PEERS);
	x->c.peers[i] = remote;
	if ((rc = add_peer_port(net, x, i, err, errlen)) != 0) {
		x->c.peers[i] = 0;
		return rc;
	}
	x->c.n_peers++;
	if ((rc = publish_map()) != 0) {
		x->c.n_peers--;
		remove_peer_port(x, i);
		return errf(err, errlen, rc, "out of memory");
	}
	return 0;
}

int
psw_tunnel_peer_del(uint16_t net, rte_be32_t remote, char *err, size_t errlen)
{
	struct transport *x = net < PSW_L2_MAX_NETS ? &nets[net] : NULL;
	struct psw_vxlan_peer *gone;
	unsigned i;

	if (x == NULL || x->c.kind != PSW_TRANSPORT_VXLAN)
		return errf(err, errlen, -EINVAL, "network: has no VXLAN transport");
	for (i = 0; i < x->c.n_peers && x->c.peers[i] != remote; i++)
		;
	if (i == x->c.n_peers)
		return errf(err, errlen, -ENOENT, "peer: not a peer of this network");
	gone = x->peer[i];
	/* Keep the list dense: the last peer takes the place of the one going. */
	x->c.n_peers--;
	x->c.peers[i] = x->c.peers[x->c.n_peers];
	x->peer[i] = x->peer[x->c.n_peers];
	x->c.peers[x->c.n_peers] = 0;
	x->peer[x->c.n_peers] = NULL;
	publish_map();
	if (gone != NULL) {
		del_port(gone->port);
		free(gone);
	}
	return 0;
}

void
psw_tunnel_get(uint16_t net, struct psw_transport_conf *c)
{
	if (net == 0 || net >= PSW_L2_MAX_NETS)
		memset(c, 0, sizeof(*c));
	else
		*c = nets[net].c;
}

uint16_t
psw_tunnel_peer_port(uint16_t net, rte_be32_t remote)
{
	const struct transport *x = net < PSW_L2_MAX_NETS ? &nets[net] : NULL;

	for (unsigned i = 0; x != NULL && i < x->c.n_peers; i++)
		if (x->c.peers[i] == remote && x->peer[i] != NULL)
			return x->peer[i]->port;
	return PSW_PORT_NONE;
}

unsigned
psw_tunnel_mtu(uint16_t net)
{
	const struct psw_underlay *u = psw_underlay;
	unsigned mtu = u != NULL ? u->mtu : 1500;

	if (net == 0 || net >= PSW_L2_MAX_NETS)
		return 0;
	switch (nets[net].c.kind) {
	case PSW_TRANSPORT_VXLAN:
		return mtu - PSW_VXLAN_OVERHEAD;
	case PSW_TRANSPORT_VLAN:
		return mtu;
	default:
		return 0;
	}
}

/* The underlay address changed: a peer that is this node now has no port, one that was
 * and is not any more gets one. */
static void
underlay_changed(void)
{
	char msg[128];

	for (uint16_t n = 1; n < PSW_L2_MAX_NETS; n++) {
		struct transport *x = &nets[n];

		if (x->c.kind != PSW_TRANSPORT_VXLAN)
			continue;
		for (unsigned i = 0; i < x->c.n_peers; i++) {
			if (x->peer[i] != NULL && is_self(x->c.peers[i]))
				remove_peer_port(x, i);
			else if (x->peer[i] == NULL && !is_self(x->c.peers[i]))
				add_peer_port(n, x, i, msg, sizeof(msg));
		}
	}
	publish_map();
}

int
psw_tunnel_init(void)
{
	psw_neigh_on_uplink_change(underlay_changed);
	return publish_map();
}

void
psw_tunnel_fini(void)
{
	for (uint16_t i = 1; i < PSW_L2_MAX_NETS; i++)
		if (nets[i].c.kind != PSW_TRANSPORT_NONE)
			psw_tunnel_remove(i);
	free(psw_tunnel_map);
	psw_tunnel_map = NULL;
}
