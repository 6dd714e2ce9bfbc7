/*
 * test_pmd.c: more than one PMD (datapath/pmd.c, port.c's tx-queue mapping), with real
 * PMD threads: EAL lcores 1-4 share the machine's CPUs, each runs pmd.c's loop.
 *
 * Rx: ports served by the test (psw_port_io) record, in every rx_burst, which PMD is
 * inside which queue; across hundreds of port adds, deletes and pin changes with 2, 3 and
 * 4 PMDs, no queue may ever be polled by two PMDs at once (NIC, tap, af_xdp and memif rings
 * have one reader), and between changes every queue is in exactly one published set.
 * Placement: pinned queues on their core's PMD (which polls nothing else), adding a port
 * moves no queue that is within its PMD's share, pmd.rxq's counters.
 * Tx: a port whose peer enables fewer tx queues than there are PMDs (a vhost-user pod with
 * fewer queue pairs) is sent to on enabled queues only, never by two PMDs at once
 * without the lock, while the enabled set changes under traffic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <limits.h>
#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "control/startup.h"
#include "core/rcu.h"
#include "datapath/pmd.h"
#include "flow/classifier.h"
#include "port/port.h"

#define MAX_TPORTS 8
#define CYCLES     300

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t
rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

/* A port served by the test. */
struct tport {
	struct psw_port_io io;
	char name[16];
	int id;                          /* podswitch port id, -1: not added */
	unsigned in_rx[PSW_MAX_QUEUES];  /* lcore + 1 of the PMD in rx_burst, or 0 */
	unsigned in_tx[PSW_MAX_QUEUES];  /* the same for tx_burst */
	unsigned last[PSW_MAX_QUEUES];   /* lcore + 1 of the last PMD that polled it */
	uint16_t rx_pkts;                /* packets each rx_burst returns */
	uint32_t tx_used;                /* tx queues sent on since the last reset */
	uint64_t tx_count;               /* packets sent to it */
};

static struct tport tports[MAX_TPORTS];
static uint64_t overlaps, handovers, tx_overlaps;
static struct rte_mempool *mp;

/* Enter a queue: a second PMD already inside is an overlap. */
static void
enter(unsigned *inside, uint64_t *overlap)
{
	unsigned me = rte_lcore_id() + 1;
	unsigned prev = __atomic_exchange_n(inside, me, __ATOMIC_ACQ_REL);

	if (prev != 0 && prev != me)
		__atomic_fetch_add(overlap, 1, __ATOMIC_RELAXED);
}

static void
leave(unsigned *inside)
{
	__atomic_store_n(inside, 0, __ATOMIC_RELEASE);
}

static uint16_t
t_rx(void *ctx, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	struct tport *t = ctx;
	unsigned me = rte_lcore_id() + 1;
	uint16_t k = t->rx_pkts < n ? t->rx_pkts : n;

	enter(&t->in_rx[q], &overlaps);
	if (__atomic_load_n(&t->last[q], __ATOMIC_RELAXED) != me) {
		__atomic_fetch_add(&handovers, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&t->last[q], me, __ATOMIC_RELAXED);
	}
	/* A moment inside, as a real ring read takes: widens any overlap. */
	rte_delay_us_block(1);
	if (k > 0 && rte_pktmbuf_alloc_bulk(mp, pkts, k) == 0) {
		for (uint16_t i = 0; i < k; i++) {
			memset(rte_pktmbuf_mtod(pkts[i], void *), 0, 60);
			rte_pktmbuf_append(pkts[i], 60);
		}
	} else {
		k = 0;
	}
	leave(&t->in_rx[q]);
	return k;
}

static uint16_t
t_tx(void *ctx, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	struct tport *t = ctx;

	enter(&t->in_tx[q], &tx_overlaps);
	__atomic_fetch_or(&t->tx_used, 1u << q, __ATOMIC_RELAXED);
	__atomic_fetch_add(&t->tx_count, n, __ATOMIC_RELAXED);
	rte_delay_us_block(1);
	rte_pktmbuf_free_bulk(pkts, n);
	leave(&t->in_tx[q]);
	return n;
}

static int
tport_add(struct tport *t, unsigned slot, uint16_t n_rxq, uint16_t n_txq, uint16_t output)
{
	struct psw_port_conf c = { .output = output, .type = "test" };
	char err[256];

	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "t%u", slot);
	snprintf(c.name, sizeof(c.name), "%s", t->name);
	t->io = (struct psw_port_io){ .rx_burst = t_rx, .tx_burst = t_tx, .ctx = t,
				      .driver = "test", .n_rxq = n_rxq, .n_txq = n_txq,
				      .mtu = 1500, .link_up = 1 };
	t->id = psw_port_add_io(&c, &t->io, err, sizeof(err));
	if (t->id < 0)
		print_message("# port add %s: %s\n", t->name, err);
	return t->id;
}

static void
tport_del(struct tport *t)
{
	char err[256];

	assert_int_equal(psw_port_del((uint16_t)t->id, err, sizeof(err)), 0);
	t->id = -1;
}

/* Between changes: every queue of every port in exactly one published set. */
static void
check_sets(void)
{
	unsigned seen[PSW_MAX_PORTS][PSW_MAX_QUEUES];

	memset(seen, 0, sizeof(seen));
	for (unsigned k = 0; k < psw_n_pmds; k++) {
		const struct psw_rxq_set *s = psw_pmds[k]->rxqs;

		for (uint16_t i = 0; i < s->n; i++)
			seen[s->q[i].port][s->q[i].queue]++;
	}
	for (unsigned i = 0; i < PSW_MAX_PORTS; i++) {
		const struct psw_port *p = psw_port_get((uint16_t)i);

		for (unsigned q = 0; q < PSW_MAX_QUEUES; q++)
			assert_int_equal(seen[i][q], p != NULL && q < p->n_rxq ? 1 : 0);
	}
}

static unsigned
pmd_of(int port, uint16_t queue)
{
	for (unsigned k = 0; k < psw_n_pmds; k++) {
		const struct psw_rxq_set *s = psw_pmds[k]->rxqs;

		for (uint16_t i = 0; i < s->n; i++)
			if (s->q[i].port == port && s->q[i].queue == queue)
				return k;
	}
	fail_msg("port %d queue %u polled by no PMD", port, queue);
	return 0;
}

static bool started;

static void
start(unsigned n_pmds)
{
	unsigned lcores[4] = {1, 2, 3, 4};
	char e[256];

	assert_int_equal(psw_rcu_init(n_pmds), 0);
	assert_int_equal(psw_pmd_init(lcores, n_pmds, 0), 0);
	assert_int_equal(psw_port_init(n_pmds, 4096, 32), 0);
	if (psw_startup_tables(256, 300, 0, e, sizeof(e)) != 0)
		fail_msg("startup tables: %s", e);
	mp = psw_port_pool();
	assert_non_null(mp);
	overlaps = handovers = tx_overlaps = 0;
	for (unsigned i = 0; i < MAX_TPORTS; i++)
		tports[i].id = -1;
	started = true;
	assert_int_equal(psw_pmd_start(), 0);
}

static void
stop(void)
{
	if (!started)
		return;
	started = false;
	psw_pmd_stop();
	psw_port_del_all();
	psw_rcu_reclaim();
	psw_startup_tables_fini();
	psw_rule_stats_fini(); /* flow_table_fini keeps the PMD count; this test changes it */
	psw_pmd_fini();
	psw_port_fini();
	psw_rcu_fini();
}

static int
teardown(void **state)
{
	(void)state;
	stop();
	return 0;
}

/* Ports of 1-4 rx queues come and go, queues are pinned and unpinned, while every PMD
 * polls: no queue is ever polled by two PMDs at once. */
static void
churn(unsigned n_pmds)
{
	start(n_pmds);
	for (unsigned c = 0; c < CYCLES; c++) {
		struct tport *t = &tports[rnd(MAX_TPORTS)];
		unsigned r = rnd(10);

		if (t->id < 0) {
			assert_true(tport_add(t, (unsigned)(t - tports), (uint16_t)(1 + rnd(4)), 1,
					      PSW_PORT_NONE) >= 0);
		} else if (r < 4) {
			tport_del(t);
		} else {
			/* Pin a random subset of its queues to random PMD cores, or unpin. */
			const struct psw_port *p = psw_port_get((uint16_t)t->id);
			uint16_t cores[PSW_MAX_QUEUES] = {0}, pinned = 0;

			for (uint16_t q = 0; q < p->n_rxq && r < 8; q++) {
				if (rnd(2)) {
					pinned |= (uint16_t)(1u << q);
					cores[q] = psw_pmds[rnd(n_pmds)]->lcore;
				}
			}
			assert_int_equal(psw_port_set_rxq_pins((uint16_t)t->id, pinned, cores), 0);
		}
		check_sets();
		/* Let the PMDs run a little, as between two RPCs. */
		rte_delay_us_sleep(200 + rnd(800));
		psw_rcu_reclaim();
	}
	print_message("# %u PMDs, %u changes: %" PRIu64 " queue hand-overs seen, %" PRIu64
		      " overlaps\n", n_pmds, CYCLES, handovers, overlaps);
	assert_int_equal(overlaps, 0);
	/* The test saw queues move between PMDs, so it could have seen overlaps. */
	assert_true(handovers > CYCLES / 4);
	stop();
}

static void
test_churn_2(void **state)
{
	(void)state;
	churn(2);
}

static void
test_churn_3(void **state)
{
	(void)state;
	churn(3);
}

static void
test_churn_4(void **state)
{
	(void)state;
	churn(4);
}

/* Placement: balance, stickiness, pins and isolation, pmd.rxq's view. */
static void
test_placement(void **state)
{
	struct psw_rxq_info info[16];
	uint16_t cores[PSW_MAX_QUEUES] = {0};
	unsigned n, a0, a1, a2, a3;
	int a, b;

	(void)state;
	start(2);
	a = tport_add(&tports[0], 0, 4, 1, PSW_PORT_NONE);
	assert_true(a >= 0);
	/* Four queues over two PMDs: two each. */
	a0 = pmd_of(a, 0), a1 = pmd_of(a, 1), a2 = pmd_of(a, 2), a3 = pmd_of(a, 3);
	assert_int_equal((a0 == 0) + (a1 == 0) + (a2 == 0) + (a3 == 0), 2);
	/* Another port: its queue goes to a PMD, nothing of a moves (each is within its
	 * PMD's share). */
	b = tport_add(&tports[1], 1, 1, 1, PSW_PORT_NONE);
	assert_true(b >= 0);
	assert_int_equal(pmd_of(a, 0), a0);
	assert_int_equal(pmd_of(a, 1), a1);
	assert_int_equal(pmd_of(a, 2), a2);
	assert_int_equal(pmd_of(a, 3), a3);

	/* Pin b's queue to PMD 1's core: PMD 1 polls only it; a's queues all go to PMD 0. */
	cores[0] = psw_pmds[1]->lcore;
	assert_int_equal(psw_port_set_rxq_pins((uint16_t)b, 1, cores), 0);
	assert_int_equal(pmd_of(b, 0), 1);
	for (uint16_t q = 0; q < 4; q++)
		assert_int_equal(pmd_of(a, q), 0);
	assert_int_equal(psw_pmds[1]->rxqs->n, 1);
	/* A queue the port does not have cannot be pinned; nothing changes. */
	assert_int_equal(psw_port_set_rxq_pins((uint16_t)b, 2, cores), -EINVAL);
	assert_int_equal(pmd_of(b, 0), 1);
	/* A pin to a core that runs no PMD leaves the queue floating. */
	cores[0] = 0;
	assert_int_equal(psw_port_set_rxq_pins((uint16_t)b, 1, cores), 0);
	assert_int_equal(psw_pmds[0]->rxqs->n + psw_pmds[1]->rxqs->n, 5);
	assert_true(psw_pmds[1]->rxqs->n >= 2);

	/* pmd.rxq: each queue once, with its PMD; packets and cycles counted per queue. */
	cores[0] = psw_pmds[1]->lcore;
	assert_int_equal(psw_port_set_rxq_pins((uint16_t)b, 1, cores), 0);
	tports[1].rx_pkts = 4;
	/* Until PMD 1 has finished a busy iteration on it (a loaded machine may keep it
	 * off its CPU for a while). */
	for (unsigned tries = 0; tries < 500; tries++) {
		rte_delay_us_sleep(10000);
		n = psw_pmd_rxq_info(info, 16);
		for (unsigned i = 0; i < n; i++)
			if (info[i].port == b && info[i].packets > 0 && info[i].pmd_busy > 0)
				tries = 500;
	}
	assert_int_equal(n, 5);
	for (unsigned i = 0; i < n; i++) {
		if (info[i].port == b) {
			assert_int_equal(info[i].pmd, 1);
			assert_true(info[i].pinned);
			assert_true(info[i].packets > 0);
			assert_true(info[i].cycles > 0);
			assert_true(info[i].pmd_busy > 0);
		} else {
			assert_int_equal(info[i].pmd, 0);
			assert_false(info[i].pinned);
			assert_int_equal(info[i].packets, 0);
		}
	}
	tports[1].rx_pkts = 0;
	rte_delay_us_sleep(1000);
	psw_pmd_clear_stats();
	n = psw_pmd_rxq_info(info, 16);
	for (unsigned i = 0; i < n; i++)
		assert_true(info[i].packets <= 4 * 2); /* at most a burst in flight at the clear */
	stop();
}

/* A port that offers 4 tx queues, of which its peer enables some: 2 PMDs forward to it
 * from a 2-queue source (one queue each) and send only on enabled queues, never both on
 * one without the lock, while the enabled set changes. */
static void
test_tx_remap(void **state)
{
	static const uint32_t masks[] = {0x1, 0x3, 0x2, 0x0, 0xc, 0x8, 0xf, 0x4, 0x1};
	const struct psw_port *p;
	int src, dst;

	(void)state;
	start(2);
	dst = tport_add(&tports[1], 1, 1, 4, PSW_PORT_NONE);
	assert_true(dst >= 0);
	p = psw_port_get((uint16_t)dst);
	assert_int_equal(p->n_txq, 4);
	/* Every queue usable before the peer says anything: PMD i on queue i. */
	assert_int_equal(p->txq_of[0], 0);
	assert_int_equal(p->txq_of[1], 1);
	assert_false(p->tx_shared);
	src = tport_add(&tports[0], 0, 2, 1, (uint16_t)dst);
	assert_true(src >= 0);
	assert_int_not_equal(pmd_of(src, 0), pmd_of(src, 1));
	tports[0].rx_pkts = 8;

	for (unsigned round = 0; round < 20; round++) {
		for (unsigned i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
			uint32_t m = masks[i], want = m ? m : 0xf;

			psw_port_set_txqs_enabled((uint16_t)dst, m);
			/* Both PMDs on enabled queues; shared exactly when they meet. */
			assert_true(want & (1u << p->txq_of[0]));
			assert_true(want & (1u << p->txq_of[1]));
			assert_int_equal(p->tx_shared, p->txq_of[0] == p->txq_of[1]);
			/* Once settled, only enabled queues are sent on. */
			__atomic_store_n(&tports[1].tx_used, 0, __ATOMIC_RELAXED);
			psw_rcu_synchronize();
			__atomic_store_n(&tports[1].tx_used, 0, __ATOMIC_RELAXED);
			rte_delay_us_sleep(500);
			assert_int_equal(__atomic_load_n(&tports[1].tx_used, __ATOMIC_RELAXED) & ~want,
					 0);
		}
		psw_rcu_reclaim();
	}
	assert_int_equal(tx_overlaps, 0);
	assert_true(tports[1].tx_count > 0);
	tports[0].rx_pkts = 0;
	stop();
}

int
main(void)
{
	static char prefix[64];
	char *argv[] = {"test_pmd", "--lcores", "0@0,(1-4)@(0-1)", "--no-huge", "--no-pci",
			"-m", "128", "--log-level", "error", "--file-prefix", prefix};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_placement, teardown),
		cmocka_unit_test_teardown(test_tx_remap, teardown),
		cmocka_unit_test_teardown(test_churn_2, teardown),
		cmocka_unit_test_teardown(test_churn_3, teardown),
		cmocka_unit_test_teardown(test_churn_4, teardown),
	};
	char cmd[PATH_MAX + 16];
	int rc;

	snprintf(prefix, sizeof(prefix), "test_pmd_%d", (int)getpid());
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])), argv) < 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	if (strstr(cmd, "test_pmd_") && system(cmd) != 0)
		rc = rc ? rc : 1;
	return rc;
}
