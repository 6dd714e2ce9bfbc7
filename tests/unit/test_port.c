/*
 * test_port.c: the port registry (port.c) and the fast-path stages around it (pipeline.c
 * static output, txq.c batching, counters), on real DPDK vdevs (net_null, net_ring) with
 * EAL in memory and without hugepages. The PMD loop is not launched: the test plays one
 * PMD iteration itself (pipeline burst, then flush), which is exactly what pmd.c does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "datapath/pipeline.h"
#include "datapath/pmd.h"
#include "datapath/txq.h"
#include "port/port.h"
#include "core/rcu.h"

static struct rte_mempool *mp;

static int
add(const char *name, const char *devargs, uint16_t output)
{
	struct psw_port_conf c = { .output = output };
	char err[256];
	int rc;

	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(c.devargs, sizeof(c.devargs), "%s", devargs);
	rc = psw_port_add(&c, false, err, sizeof(err));
	if (rc < 0)
		print_message("# port_add %s: %s\n", name, err);
	return rc;
}

static void
del(const char *name)
{
	char err[256];
	struct psw_port *p = psw_port_by_name(name);

	assert_non_null(p);
	assert_int_equal(psw_port_del(p->id, err, sizeof(err)), 0);
}

static uint16_t
burst(struct rte_mbuf **pkts, uint16_t n, uint16_t len)
{
	for (uint16_t i = 0; i < n; i++) {
		pkts[i] = rte_pktmbuf_alloc(mp);
		assert_non_null(pkts[i]);
		assert_non_null(rte_pktmbuf_append(pkts[i], len));
		memset(rte_pktmbuf_mtod(pkts[i], void *), 0xab, len);
	}
	return n;
}

static void
test_add_del(void **state)
{
	char err[256];
	struct psw_port_conf c = { .output = PSW_PORT_NONE };
	int a, b;

	(void)state;
	a = add("a", "net_null0", PSW_PORT_NONE);
	assert_true(a >= 0);
	b = add("b", "net_ring0", PSW_PORT_NONE);
	assert_true(b >= 0);
	assert_int_not_equal(a, b);
	assert_int_equal(psw_port_count(), 2);
	assert_ptr_equal(psw_port_by_name("b"), psw_port_get((uint16_t)b));
	assert_string_equal(psw_ports[b].driver, "net_ring");
	assert_true(psw_ports[a].enabled);

	/* Duplicate name, unknown driver, bad name, same device twice: refused, nothing changes. */
	assert_true(add("a", "net_null1", PSW_PORT_NONE) < 0);
	assert_true(add("c", "net_nosuchdriver0", PSW_PORT_NONE) < 0);
	assert_true(add("bad name", "net_null2", PSW_PORT_NONE) < 0);
	assert_true(add("c", "net_null0", PSW_PORT_NONE) < 0);
	snprintf(c.name, sizeof(c.name), "c");
	assert_true(psw_port_add(&c, false, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "devargs"));
	assert_int_equal(psw_port_count(), 2);
	assert_int_equal(rte_eth_dev_count_avail(), 2);

	del("a");
	del("b");
	assert_int_equal(psw_port_count(), 0);
	assert_int_equal(rte_eth_dev_count_avail(), 0);
	assert_true(psw_port_del(3, err, sizeof(err)) < 0);
}

/* Add and remove the same devices many times: ids and ethdevs are reused, nothing leaks. */
static void
test_cycles(void **state)
{
	unsigned before = rte_mempool_avail_count(mp);

	(void)state;
	for (int i = 0; i < 50; i++) {
		assert_true(add("x", "net_null5", PSW_PORT_NONE) >= 0);
		assert_true(add("y", "net_ring5", PSW_PORT_NONE) >= 0);
		del("x");
		del("y");
	}
	assert_int_equal(psw_port_count(), 0);
	assert_int_equal(rte_eth_dev_count_avail(), 0);
	assert_int_equal(rte_mempool_avail_count(mp), before);
}

static void
test_names(void **state)
{
	(void)state;
	assert_true(psw_port_name_valid("pod-1_a.b"));
	assert_false(psw_port_name_valid(""));
	assert_false(psw_port_name_valid("a,b"));
	assert_false(psw_port_name_valid("a/b"));
	assert_false(psw_port_name_valid(
		"0123456789012345678901234567890123456789012345678901234567890123"));
}

/* One PMD iteration by hand: static output, drops by reason, tx counters, bursts of
 * every awkward size (and more than one tx buffer's worth). */
static void
test_forward_and_count(void **state)
{
	static const uint16_t sizes[] = {0, 1, 3, 4, 5, 32, 32, 32};
	struct psw_pmd *pmd = psw_pmds[0];
	struct rte_mbuf *pkts[PSW_BURST];
	struct psw_port_counters ca, cb;
	unsigned total = 0;
	int a, b, c;

	(void)state;
	b = add("out", "net_null1", PSW_PORT_NONE);
	a = add("in", "net_null2", (uint16_t)b);
	c = add("lonely", "net_null3", PSW_PORT_NONE);
	assert_true(a >= 0 && b >= 0 && c >= 0);

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint16_t n = burst(pkts, sizes[i], 100);

		psw_pipeline_burst(pmd, (uint16_t)a, pkts, n);
		total += n;
	}
	psw_txq_flush_all(pmd);
	psw_port_read_counters((uint16_t)b, &cb);
	assert_int_equal(cb.tx_packets, total);
	assert_int_equal(cb.tx_bytes, total * 100);
	assert_int_equal(cb.tx_drops, 0);

	/* No output: every packet a NO_OUTPUT drop charged to its input port. */
	psw_pipeline_burst(pmd, (uint16_t)c, pkts, burst(pkts, 5, 60));
	psw_port_read_counters((uint16_t)c, &ca);
	assert_int_equal(ca.drops[PSW_DROP_NO_OUTPUT], 5);

	/* Hairpin. */
	assert_int_equal(psw_port_set_output((uint16_t)c, (uint16_t)c), 0);
	psw_pipeline_burst(pmd, (uint16_t)c, pkts, burst(pkts, 3, 60));
	psw_port_read_counters((uint16_t)c, &ca);
	assert_int_equal(ca.drops[PSW_DROP_HAIRPIN], 3);

	/* Output removed: the reference is cleared, packets are drops, not sent anywhere. */
	del("out");
	assert_int_equal(psw_ports[a].output, PSW_PORT_NONE);
	psw_pipeline_burst(pmd, (uint16_t)a, pkts, burst(pkts, 4, 60));
	psw_port_read_counters((uint16_t)a, &ca);
	assert_int_equal(ca.drops[PSW_DROP_NO_OUTPUT], 4);

	/* Clear moves the baseline. */
	psw_port_clear_counters((uint16_t)a);
	psw_port_read_counters((uint16_t)a, &ca);
	assert_int_equal(ca.drops[PSW_DROP_NO_OUTPUT], 0);
	del("in");
	del("lonely");
}

/* An io port (psw_port_io): packets it is given land on a ring, and it receives
 * what is on the ring, so a PMD iteration can be checked end to end without an ethdev. */
static uint16_t
ring_rx(void *ctx, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	(void)q;
	return (uint16_t)rte_ring_dequeue_burst(ctx, (void **)pkts, n, NULL);
}

static uint16_t
ring_tx(void *ctx, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	(void)q;
	return (uint16_t)rte_ring_enqueue_burst(ctx, (void **)pkts, n, NULL);
}

static void
test_io_port(void **state)
{
	struct rte_ring *r = rte_ring_create("io_test", 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct psw_port_io io = { .rx_burst = ring_rx, .tx_burst = ring_tx, .ctx = r,
				  .driver = "test-io", .n_rxq = 1, .n_txq = 1, .mtu = 1500 };
	struct psw_port_conf c = { .output = PSW_PORT_NONE, .name = "io", .type = "memif" };
	struct psw_pmd *pmd = psw_pmds[0];
	struct rte_mbuf *pkts[PSW_BURST];
	struct psw_port_counters cnt;
	char err[256];
	int id, in;

	(void)state;
	assert_non_null(r);
	id = psw_port_add_io(&c, &io, err, sizeof(err));
	assert_true(id >= 0);
	assert_string_equal(psw_ports[id].driver, "test-io");
	assert_true(psw_port_add_io(&c, &io, err, sizeof(err)) < 0); /* same name */
	/* Its rx queue is handed to the PMD with the io functions. */
	assert_int_equal(pmd->rxqs->n, 1);
	assert_ptr_equal(pmd->rxqs->q[0].io, &io);

	/* 40 packets forwarded to it: the ring takes 63, so all go out; counted as tx. */
	in = add("src", "net_null6", (uint16_t)id);
	assert_true(in >= 0);
	psw_pipeline_burst(pmd, (uint16_t)in, pkts, burst(pkts, 32, 80));
	psw_pipeline_burst(pmd, (uint16_t)in, pkts, burst(pkts, 8, 80));
	psw_txq_flush_all(pmd);
	psw_port_read_counters((uint16_t)id, &cnt);
	assert_int_equal(cnt.tx_packets, 40);
	assert_int_equal(rte_ring_count(r), 40);
	/* 30 more: the ring is full after 23, the rest are tx_full drops at the io port. */
	psw_pipeline_burst(pmd, (uint16_t)in, pkts, burst(pkts, 30, 80));
	psw_txq_flush_all(pmd);
	psw_port_read_counters((uint16_t)id, &cnt);
	assert_int_equal(cnt.tx_packets, 63);
	assert_int_equal(cnt.tx_drops, 7);

	del("src");
	del("io");
	assert_null(psw_port_by_name("io"));
	for (unsigned k; (k = rte_ring_dequeue_burst(r, (void **)pkts, PSW_BURST, NULL)) > 0;)
		rte_pktmbuf_free_bulk(pkts, k);
	rte_ring_free(r);
}

static int
setup(void **state)
{
	char *argv[] = {"test_port", "-l", "0", "--no-huge", "--no-pci",
			"-m", "128", "--log-level", "error", "--file-prefix", "test_port"};
	unsigned lcore = 0;

	(void)state;
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])), argv) < 0)
		return -1;
	psw_port_on_queues_changed(psw_pmd_assign_rxqs);
	if (psw_rcu_init(1) || psw_pmd_init(&lcore, 1, 0) || psw_port_init(1, 4096, 0))
		return -1;
	mp = rte_mempool_lookup("psw_mbuf_0");
	return mp == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	psw_pmd_fini();
	psw_port_fini();
	psw_rcu_fini();
	rte_eal_cleanup();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_add_del),
		cmocka_unit_test(test_cycles),
		cmocka_unit_test(test_forward_and_count),
		cmocka_unit_test(test_io_port),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
