/*
 * learn.c: how PMDs learn without writing the FDB. A PMD that sees an unknown or moved
 * source MAC posts a (network, MAC, port) event on one multi-producer ring
 * (psw_l2_learn_post, through a per-PMD filter that posts one event per MAC and port
 * every 10 ms at most); the control loop drains it (psw_l2_learn_drain) and applies the
 * events with psw_l2_fdb_learn, the FDB's only writer. The drain also ages entries once a
 * second. The path: datapath/actions.c or l2_path.c (PMD) -> ring -> the control loop
 * (main.c) -> l2.c.
 */
#include <errno.h>
#include <string.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "core/clock.h"
#include "l2/l2.h"
#include "core/rcu.h"

#define RING_SIZE     8192      /* events; a full ring loses events (counted), not packets */
#define DRAIN_MAX     2048      /* events applied per drain call, to bound its latency */
#define DRAIN_BURST   64

struct learn_ev {
	uint64_t key;             /* psw_l2_key(net, mac) */
	uint16_t port;
	uint16_t pad[3];
};

static struct rte_ring *ring;
static uint64_t lost;          /* posts refused by a full ring (PMDs add atomically) */
static uint64_t last_age_s;

int
psw_l2_learn_init(void)
{
	if (ring)
		return 0;
	ring = rte_ring_create_elem("psw_l2_learn", sizeof(struct learn_ev), RING_SIZE,
				    SOCKET_ID_ANY, RING_F_SC_DEQ);
	return ring ? 0 : -rte_errno;
}

void
psw_l2_learn_fini(void)
{
	rte_ring_free(ring);
	ring = NULL;
}

uint64_t
psw_l2_learn_lost(void)
{
	return __atomic_load_n(&lost, __ATOMIC_RELAXED);
}

bool
psw_l2_learn_post(uint16_t net, const struct rte_ether_addr *mac, uint16_t port)
{
	struct learn_ev ev = {.key = psw_l2_key(net, mac), .port = port};

	if (unlikely(ring == NULL ||
		     rte_ring_mp_enqueue_elem(ring, &ev, sizeof(ev)) != 0)) {
		__atomic_fetch_add(&lost, 1, __ATOMIC_RELAXED);
		return false;
	}
	return true;
}

void
psw_l2_learn_filter_init(struct psw_l2_learn_filter *f)
{
	uint64_t hz = rte_get_tsc_hz();

	memset(f, 0, sizeof(*f));
	f->window = hz ? hz / 100 : 1;
}

void
psw_l2_learn_drain(void)
{
	struct learn_ev ev[DRAIN_BURST];
	uint64_t now_s = psw_clock_s();
	unsigned n, total = 0;
	bool learned = false;

	while (ring && total < DRAIN_MAX &&
	       (n = rte_ring_sc_dequeue_burst_elem(ring, ev, sizeof(ev[0]), DRAIN_BURST,
						   NULL)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			struct rte_ether_addr mac;
			uint16_t net = ev[i].key >> 48;

			for (int b = 0; b < 6; b++)
				mac.addr_bytes[b] = (uint8_t)(ev[i].key >> (40 - 8 * b));
			psw_l2_batch_learn = true;
			learned |= psw_l2_fdb_learn(net, &mac, ev[i].port, now_s) == 1;
			psw_l2_batch_learn = false;
		}
		total += n;
	}
	/* New MACs change what a flood means: one bump makes every cached decision stale. */
	if (learned)
		psw_l2_learn_gen_bump();
	if (now_s != last_age_s) {
		last_age_s = now_s;
		psw_l2_fdb_age(now_s, 0);
	}
}
