/*
 * vhost_user_dp.c: a vhost-user port's packet path (PMD threads; vhost_user_dp.h). The
 * PMDs call rte_vhost_dequeue_burst and rte_vhost_enqueue_burst on the pod's connection
 * themselves, as OVS-DPDK's netdev-dpdk does, rather than rte_eth_rx_burst/tx_burst
 * through net_vhost: net_vhost's bursts add per packet its byte, size-bucket and
 * multicast counters and one rte_pktmbuf_free each, and per burst two atomics, on top of
 * the counting podswitch does anyway (pmd.c, txq.c). net_vhost still owns the device:
 * socket, connection, features, guest notifications off, link and vring-state events.
 *
 * Per ethdev one word: (vid + 1) << 32 | vrings, 0 when no pod is connected. A queue pair
 * q is used only when its vring exists (2q: the pod's rx, 2q + 1: its tx; the vhost
 * library logs an error for every burst on a vring beyond its count). When the pod goes,
 * net_vhost's destroy_device raises the link event before the vhost library frees the
 * connection: vhost_user.c clears the word and waits a grace period (core/rcu.h), so no
 * PMD is inside a burst on that vid once the callback returns (net_vhost waits for its own
 * bursts there the same way).
 */
#include <rte_mbuf.h>
#include <rte_vhost.h>

#include "backends/vhost_user_dp.h"
#include "core/mbuf_free.h"

#define VHOST_BURST 32   /* the vhost library's MAX_PKT_BURST */

struct vu_dp {
	struct psw_port_io io;
	struct rte_mempool *mp;          /* the switch's mbufs, for what the pod sends */
	uint64_t state;
};

static struct vu_dp slots[RTE_MAX_ETHPORTS];

static uint16_t
vu_rx(void *ctx, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	const struct vu_dp *d = ctx;
	uint64_t s = __atomic_load_n(&d->state, __ATOMIC_ACQUIRE);
	uint32_t vring = 2u * q + 1;

	if (unlikely(vring >= (uint32_t)s))      /* also: not connected (s == 0) */
		return 0;
	return rte_vhost_dequeue_burst((int)(s >> 32) - 1, (uint16_t)vring, d->mp, pkts, n);
}

static uint16_t
vu_tx(void *ctx, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	const struct vu_dp *d = ctx;
	uint64_t s = __atomic_load_n(&d->state, __ATOMIC_ACQUIRE);
	uint32_t vring = 2u * q;
	uint16_t sent = 0;

	if (unlikely(vring >= (uint32_t)s))
		return 0;
	/* The library takes at most VHOST_BURST per call. */
	while (sent < n) {
		uint16_t c = RTE_MIN((uint16_t)(n - sent), (uint16_t)VHOST_BURST);
		uint16_t k = rte_vhost_enqueue_burst((int)(s >> 32) - 1, (uint16_t)vring,
						     pkts + sent, c);

		/* Copied into the pod's buffers: ours to free; the caller frees the rest. */
		psw_mbuf_free_bulk(pkts + sent, k);
		sent += k;
		if (k < c)
			break;
	}
	return sent;
}

const struct psw_port_io *
psw_vu_dp_io(uint16_t dpdk_port, struct rte_mempool *mp)
{
	struct vu_dp *d;

	if (dpdk_port >= RTE_MAX_ETHPORTS)
		return NULL;
	d = &slots[dpdk_port];
	d->io.rx_burst = vu_rx;
	d->io.tx_burst = vu_tx;
	d->io.ctx = d;
	d->io.driver = "net_vhost";
	d->mp = mp;
	return &d->io;
}

bool
psw_vu_dp_set(uint16_t dpdk_port, int vid, uint16_t vrings)
{
	uint64_t s = vid >= 0 && vrings > 0 ? ((uint64_t)(vid + 1) << 32) | vrings : 0;

	if (dpdk_port >= RTE_MAX_ETHPORTS)
		return false;
	return __atomic_exchange_n(&slots[dpdk_port].state, s, __ATOMIC_ACQ_REL) != 0 && s == 0;
}
