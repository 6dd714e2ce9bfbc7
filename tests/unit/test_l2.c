/*
 * test_l2.c: networks and the MAC table (l2.c, l2_learn.c): network add/del, ports
 * joining and leaving, learning, moves, the per-port limit, aging, flushes, table
 * growth, the learn ring, and the NORMAL decision (psw_l2_decide_rcu) for every case.
 * EAL in memory without hugepages (the learn ring and RCU need it); no ports or PMDs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <rte_eal.h>

#include "l2/l2.h"
#include "core/rcu.h"

static struct rte_ether_addr
mac(uint32_t n)
{
	struct rte_ether_addr m = {{0x02, 0x00, (uint8_t)(n >> 24), (uint8_t)(n >> 16),
				    (uint8_t)(n >> 8), (uint8_t)n}};
	return m;
}

static char err[256];

static int
reset(void **state)
{
	(void)state;
	psw_l2_fini();
	assert_int_equal(psw_l2_init(64), 0);
	psw_l2_set_limits(300, 0);
	return 0;
}

static void
test_networks(void **state)
{
	int n1, n2;

	(void)state;
	n1 = psw_l2_network_add("n1", err, sizeof(err));
	assert_true(n1 > 0);
	assert_int_equal(psw_l2_network_add("n1", err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "network 'n1' exists"));
	assert_int_equal(psw_l2_network_add("", err, sizeof(err)), -EINVAL);
	assert_int_equal(psw_l2_network_add("a/b", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a valid network name"));
	n2 = psw_l2_network_add("n2", err, sizeof(err));
	assert_true(n2 > n1);
	assert_int_equal(psw_l2_network_id("n2"), n2);
	assert_string_equal(psw_l2_network_name(n1), "n1");
	assert_int_equal(psw_l2_network_next(0), n1);
	assert_int_equal(psw_l2_network_next(n1), n2);
	assert_int_equal(psw_l2_network_next(n2), 0);

	/* Membership, published lists, one network per port. */
	assert_int_equal(psw_l2_port_join(3, "n1"), 0);
	assert_int_equal(psw_l2_port_join(1, "n1"), 0);
	assert_int_equal(psw_l2_port_join(2, "n2"), 0);
	assert_int_equal(psw_l2_port_join(4, "nosuch"), -ENOENT);
	assert_int_equal(psw_l2_port_net[4], 0);
	assert_int_equal(psw_l2_members[n1]->n, 2);
	assert_int_equal(psw_l2_members[n1]->port[0], 1);
	assert_int_equal(psw_l2_members[n1]->port[1], 3);
	assert_int_equal(psw_l2_port_join(3, "n2"), 0);    /* moves */
	assert_int_equal(psw_l2_members[n1]->n, 1);
	assert_int_equal(psw_l2_members[n2]->n, 2);
	assert_int_equal(psw_l2_port_net[3], n2);

	assert_int_equal(psw_l2_network_del("n2", err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "still has 2 port(s)"));
	psw_l2_port_leave(2);
	assert_int_equal(psw_l2_port_join(3, NULL), 0);     /* leave */
	assert_int_equal(psw_l2_network_del("n2", err, sizeof(err)), 0);
	assert_int_equal(psw_l2_network_id("n2"), 0);
	assert_int_equal(psw_l2_network_del("n2", err, sizeof(err)), -ENOENT);
	/* Ids are reused after a delete. */
	assert_int_equal(psw_l2_network_add("n3", err, sizeof(err)), n2);
}

static void
test_learn_move_limit(void **state)
{
	struct rte_ether_addr a = mac(1), b = mac(2), bc;
	const struct psw_fdb_entry *e;
	uint16_t n1, n2;
	uint64_t g;

	(void)state;
	memset(&bc, 0xff, sizeof(bc));
	n1 = psw_l2_network_add("n1", err, sizeof(err));
	n2 = psw_l2_network_add("n2", err, sizeof(err));
	psw_l2_port_join(1, "n1");
	psw_l2_port_join(2, "n1");
	psw_l2_port_join(3, "n2");

	assert_int_equal(psw_l2_fdb_learn(n1, &a, 1, 10), 1);           /* new */
	assert_int_equal(psw_l2_fdb_learn(n1, &a, 1, 11), 0);           /* refresh */
	e = psw_l2_fdb_lookup_rcu(n1, &a);
	assert_non_null(e);
	assert_int_equal(e->port, 1);
	assert_int_equal(e->seen, 11);
	/* Same MAC, other network: a separate entry; not visible across networks. */
	assert_null(psw_l2_fdb_lookup_rcu(n2, &a));
	assert_int_equal(psw_l2_fdb_learn(n2, &a, 3, 10), 1);
	assert_int_equal(psw_l2_fdb_lookup_rcu(n2, &a)->port, 3);
	/* A move is relearned at once and bumps the generation (cached decisions die). */
	g = psw_generation;
	assert_int_equal(psw_l2_fdb_learn(n1, &a, 2, 12), 2);
	assert_int_equal(psw_l2_fdb_lookup_rcu(n1, &a)->port, 2);
	assert_true(psw_generation > g);
	assert_int_equal(psw_l2_port_macs[1], 0);
	assert_int_equal(psw_l2_port_macs[2], 1);
	/* Refused: multicast source, a port not in that network, no network. */
	assert_int_equal(psw_l2_fdb_learn(n1, &bc, 1, 12), -EINVAL);
	assert_int_equal(psw_l2_fdb_learn(n1, &b, 3, 12), -EINVAL);
	assert_int_equal(psw_l2_fdb_learn(0, &b, 1, 12), -EINVAL);

	/* The per-port limit: port 1 may learn 2 MACs. */
	psw_l2_set_limits(300, 2);
	assert_int_equal(psw_l2_fdb_learn(n1, &b, 1, 13), 1);
	{
		struct rte_ether_addr c = mac(3), d = mac(4);

		assert_int_equal(psw_l2_fdb_learn(n1, &c, 1, 13), 1);
		assert_int_equal(psw_l2_fdb_learn(n1, &d, 1, 13), -ENOSPC);
		assert_null(psw_l2_fdb_lookup_rcu(n1, &d));
		/* A move onto a full port forgets the MAC rather than keep a stale port. */
		assert_int_equal(psw_l2_fdb_learn(n1, &a, 1, 14), -ENOSPC);
		assert_null(psw_l2_fdb_lookup_rcu(n1, &a));
	}
	assert_int_equal(psw_l2_port_macs[1], 2);
	assert_int_equal(psw_l2_fdb_count(), 3);
	/* Leaving the network flushes the port's MACs. */
	psw_l2_port_leave(1);
	assert_int_equal(psw_l2_port_macs[1], 0);
	assert_null(psw_l2_fdb_lookup_rcu(n1, &b));
	assert_int_equal(psw_l2_fdb_count(), 1);
}

static void
test_age_flush_grow(void **state)
{
	uint16_t n1;
	unsigned n = 5000;

	(void)state;
	n1 = psw_l2_network_add("n1", err, sizeof(err));
	psw_l2_port_join(1, "n1");
	psw_l2_port_join(2, "n1");
	psw_l2_set_limits(100, 100000);
	/* 5000 entries in a 64-slot table: it grows, every entry stays findable. */
	for (unsigned i = 0; i < n; i++) {
		struct rte_ether_addr m = mac(i + 10);

		assert_int_equal(psw_l2_fdb_learn(n1, &m, 1 + i % 2, i < n / 2 ? 0 : 50), 1);
	}
	assert_int_equal(psw_l2_fdb_count(), n);
	psw_rcu_reclaim();
	for (unsigned i = 0; i < n; i++) {
		struct rte_ether_addr m = mac(i + 10);
		const struct psw_fdb_entry *e = psw_l2_fdb_lookup_rcu(n1, &m);

		assert_non_null(e);
		assert_int_equal(e->port, 1 + i % 2);
	}
	/* Aging: the first half was last seen at 0, the second at 50; aging is 100 s. */
	assert_int_equal(psw_l2_fdb_age(99, 0), 0);
	assert_int_equal(psw_l2_fdb_age(100, 0), n / 2);
	assert_int_equal(psw_l2_fdb_count(), n / 2);
	{
		struct rte_ether_addr old = mac(10), young = mac(10 + n - 1);

		assert_null(psw_l2_fdb_lookup_rcu(n1, &old));
		assert_non_null(psw_l2_fdb_lookup_rcu(n1, &young));
	}
	/* Flush by port, then all. */
	assert_int_equal(psw_l2_fdb_flush(n1, 1), n / 4);
	assert_int_equal(psw_l2_port_macs[1], 0);
	assert_int_equal(psw_l2_fdb_flush(0, PSW_PORT_NONE), n / 4);
	assert_int_equal(psw_l2_fdb_count(), 0);
	assert_int_equal(psw_l2_port_macs[2], 0);
	/* Relearning after removals reuses the table. */
	for (unsigned i = 0; i < 100; i++) {
		struct rte_ether_addr m = mac(i + 10);

		assert_int_equal(psw_l2_fdb_learn(n1, &m, 2, 200), 1);
	}
	assert_int_equal(psw_l2_fdb_count(), 100);
	psw_rcu_reclaim();
}

static void
test_learn_ring(void **state)
{
	struct psw_l2_learn_filter f;
	struct rte_ether_addr a = mac(1), b = mac(2);
	uint16_t n1;

	(void)state;
	n1 = psw_l2_network_add("n1", err, sizeof(err));
	psw_l2_port_join(5, "n1");
	psw_l2_port_join(6, "n1");
	psw_l2_learn_filter_init(&f);
	/* A burst from one MAC posts one event. */
	for (int i = 0; i < 32; i++)
		psw_l2_learn_post_filtered(&f, 1000, n1, &a, 5);
	psw_l2_learn_post_filtered(&f, 1000, n1, &b, 6);
	assert_int_equal(f.posted, 2);
	/* A move is a new (mac, port) pair: posted at once. */
	psw_l2_learn_post_filtered(&f, 1001, n1, &a, 6);
	assert_int_equal(f.posted, 3);
	/* ...and after the window the same pair is posted again. */
	psw_l2_learn_post_filtered(&f, 1001 + f.window, n1, &a, 6);
	assert_int_equal(f.posted, 4);
	psw_l2_learn_drain();
	assert_int_equal(psw_l2_fdb_lookup_rcu(n1, &a)->port, 6);
	assert_int_equal(psw_l2_fdb_lookup_rcu(n1, &b)->port, 6);
	assert_int_equal(psw_l2_learn_lost(), 0);
	/* A stale event (the port left the network meanwhile) is ignored. */
	assert_true(psw_l2_learn_post(n1, &b, 5));
	psw_l2_port_leave(5);
	psw_l2_learn_drain();
	assert_int_equal(psw_l2_fdb_lookup_rcu(n1, &b)->port, 6);
}

static void
test_decide(void **state)
{
	struct rte_ether_addr a = mac(1), b = mac(2), u = mac(99), bc, mc = {{0x01, 0, 0x5e, 0, 0, 1}};
	struct rte_ether_addr zero = {{0}};
	struct psw_l2_decision d;
	uint16_t n1;

	(void)state;
	memset(&bc, 0xff, sizeof(bc));
	n1 = psw_l2_network_add("n1", err, sizeof(err));
	psw_l2_port_join(1, "n1");
	psw_l2_port_join(2, "n1");
	psw_l2_fdb_learn(n1, &a, 1, 0);
	psw_l2_fdb_learn(n1, &b, 2, 0);

	psw_l2_decide_rcu(1, &a, &b, &d);             /* known -> known */
	assert_int_equal(d.verdict, PSW_L2_UNICAST);
	assert_int_equal(d.out_port, 2);
	assert_int_equal(d.src_state, PSW_L2_SRC_KNOWN);
	assert_ptr_equal(d.src_e, psw_l2_fdb_lookup_rcu(n1, &a));
	psw_l2_decide_rcu(1, &a, &u, &d);             /* unknown destination */
	assert_int_equal(d.verdict, PSW_L2_FLOOD);
	assert_false(d.dst_multicast);
	psw_l2_decide_rcu(1, &a, &bc, &d);            /* broadcast */
	assert_int_equal(d.verdict, PSW_L2_FLOOD);
	assert_true(d.dst_multicast);
	psw_l2_decide_rcu(1, &a, &mc, &d);            /* multicast */
	assert_int_equal(d.verdict, PSW_L2_FLOOD);
	psw_l2_decide_rcu(2, &u, &a, &d);             /* new source */
	assert_int_equal(d.src_state, PSW_L2_SRC_NEW);
	assert_int_equal(d.verdict, PSW_L2_UNICAST);
	psw_l2_decide_rcu(2, &a, &b, &d);             /* a seen on 2: moved; b on 2: hairpin */
	assert_int_equal(d.src_state, PSW_L2_SRC_MOVED);
	assert_int_equal(d.verdict, PSW_L2_DROP);
	assert_int_equal(d.drop_reason, PSW_DROP_HAIRPIN);
	psw_l2_decide_rcu(7, &a, &b, &d);             /* port in no network */
	assert_int_equal(d.verdict, PSW_L2_DROP);
	assert_int_equal(d.drop_reason, PSW_DROP_NO_NETWORK);
	psw_l2_decide_rcu(1, &bc, &b, &d);            /* bad source */
	assert_int_equal(d.drop_reason, PSW_DROP_MALFORMED);
	psw_l2_decide_rcu(1, &zero, &b, &d);
	assert_int_equal(d.src_state, PSW_L2_SRC_INVALID);
	psw_l2_set_limits(300, 1);                    /* port 1 full: new sources dropped */
	psw_l2_decide_rcu(1, &u, &b, &d);
	assert_int_equal(d.src_state, PSW_L2_SRC_LIMIT);
	assert_int_equal(d.drop_reason, PSW_DROP_LEARN_LIMIT);
	psw_l2_decide_rcu(1, &a, &b, &d);             /* known ones still pass */
	assert_int_equal(d.verdict, PSW_L2_UNICAST);
}

static void
test_static(void **state)
{
	struct rte_ether_addr a = mac(1), bc;
	uint16_t n1;

	(void)state;
	memset(&bc, 0xff, sizeof(bc));
	n1 = psw_l2_network_add("n1", err, sizeof(err));
	psw_l2_port_join(1, "n1");
	psw_l2_port_join(2, "n1");
	/* A new MAC (static or learned) bumps the learn generation only: cached floods become
	 * stale, every other cached decision stays; a removal bumps the generation. */
	{
		struct rte_ether_addr b = mac(2);
		uint64_t g = psw_generation, lg = psw_l2_learn_gen;

		assert_int_equal(psw_l2_fdb_add_static(n1, &b, 1), 0);
		assert_true(psw_l2_learn_gen > lg);
		assert_true(psw_generation == g);
		lg = psw_l2_learn_gen;
		assert_int_equal(psw_l2_fdb_learn(n1, &a, 1, 0), 1);
		assert_true(psw_l2_learn_gen > lg);
		assert_true(psw_generation == g);
		assert_int_equal(psw_l2_fdb_flush(n1, 1), 2);
		assert_true(psw_generation > g);
	}
	assert_int_equal(psw_l2_fdb_learn(n1, &a, 1, 0), 1);
	/* A learned entry made static: not counted against the port any more. */
	assert_int_equal(psw_l2_fdb_add_static(n1, &a, 2), 0);
	assert_int_equal(psw_l2_port_macs[1], 0);
	assert_int_equal(psw_l2_fdb_lookup_rcu(n1, &a)->port, 2);
	/* Learning never moves it, aging never removes it. */
	assert_int_equal(psw_l2_fdb_learn(n1, &a, 1, 5), 0);
	assert_int_equal(psw_l2_fdb_lookup_rcu(n1, &a)->port, 2);
	assert_int_equal(psw_l2_fdb_age(100000, 0), 0);
	assert_non_null(psw_l2_fdb_lookup_rcu(n1, &a));
	/* Refused: broadcast, a port outside the network. */
	assert_int_equal(psw_l2_fdb_add_static(n1, &bc, 2), -EINVAL);
	assert_int_equal(psw_l2_fdb_add_static(n1, &a, 3), -EINVAL);
	/* The port leaving takes it away. */
	psw_l2_port_leave(2);
	assert_null(psw_l2_fdb_lookup_rcu(n1, &a));
}

static int
setup(void **state)
{
	char prefix[64];
	char *argv[] = {"test_l2", "-l", "0", "--no-huge", "--no-pci", "-m", "64",
			"--log-level", "error", "--file-prefix", prefix};

	(void)state;
	snprintf(prefix, sizeof(prefix), "test_l2_%d", (int)getpid());
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])), argv) < 0)
		return -1;
	if (psw_rcu_init(1) != 0 || psw_l2_learn_init() != 0)
		return -1;
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_networks, reset),
		cmocka_unit_test_setup(test_learn_move_limit, reset),
		cmocka_unit_test_setup(test_age_flush_grow, reset),
		cmocka_unit_test_setup(test_learn_ring, reset),
		cmocka_unit_test_setup(test_decide, reset),
		cmocka_unit_test_setup(test_static, reset),
	};

	int rc = cmocka_run_group_tests(tests, setup, NULL);
	char cmd[PATH_MAX + 16];

	/* Leave nothing behind: EAL's runtime directory of this process. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	if (strstr(cmd, "test_l2_") && system(cmd) != 0)
		rc = rc ? rc : 1;
	return rc;
}
