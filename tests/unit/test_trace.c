/*
 * test_trace.c: `trace` says what the datapath does. Random rule sets (L2-only tables,
 * which take the L2 fast path, and tables with L3/L4 matches, which take the full path),
 * networks, static outputs and random frames; each frame is parsed, its fields handed to
 * the trace method (which builds its own packet from them and runs the real stages with a
 * trace sink), and the same frame is run through the PMD's pipeline. Both must send the
 * same frames (port, MACs, VLAN tags) and drop for the same reason. Also: trace sends
 * nothing, learns nothing and counts nothing; MTU drops are counted (and traced).
 * Real vdevs (net_ring), no PMD thread: the test plays PMD 0.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <limits.h>
#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "control/startup.h"
#include "control/trace.h"
#include "core/rcu.h"
#include "datapath/parse.h"
#include "datapath/pipeline.h"
#include "datapath/pmd.h"
#include "datapath/txq.h"
#include "flow/flow_table.h"
#include "l2/l2.h"
#include "port/port.h"

static struct rte_mempool *mp;
static int p_in, p_o1, p_o2, p_o3;
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

/* What happened to one packet: the frames sent (port and the first bytes: MACs and VLAN
 * tags), or the reason it was dropped. */
struct outcome {
	unsigned n;
	struct {
		uint16_t port;
		char hdr[64];      /* "dst src vlans" */
	} out[8];
	char drop[32];
};

static void
hdr_text(const uint8_t *d, unsigned len, char *buf, size_t size)
{
	char s[18], t[18];
	int n;

	psw_mac_str((const struct rte_ether_addr *)d, t);
	psw_mac_str((const struct rte_ether_addr *)(d + 6), s);
	n = snprintf(buf, size, "%s %s", t, s);
	for (unsigned off = 12; off + 4 <= len && n > 0 && (size_t)n < size; off += 4) {
		unsigned type = (unsigned)d[off] << 8 | d[off + 1];

		if (type != 0x8100 && type != 0x88a8)
			break;
		n += snprintf(buf + n, size - (size_t)n, " vlan%u", ((d[off + 2] << 8) | d[off + 3]) & 0xfff);
	}
}

static int
out_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(((struct outcome *)0)->out[0]));
}

static void
sort_outcome(struct outcome *o)
{
	qsort(o->out, o->n, sizeof(o->out[0]), out_cmp);
}

/* The datapath: PMD 0 runs the pipeline on m; what it queued is read from its tx buffers
 * (then freed), what it dropped from its counters. */
static void
run_datapath(struct rte_mbuf *m, uint16_t in_port, struct outcome *o)
{
	struct psw_pmd *pmd = psw_pmds[0];
	uint64_t before[PSW_DROP_MAX];

	memset(o, 0, sizeof(*o));
	memcpy(before, pmd->stats.drops, sizeof(before));
	psw_pmd_set_now(pmd, rte_rdtsc());
	psw_pipeline_burst(pmd, in_port, &m, 1);
	for (uint16_t i = 0; i < pmd->n_dirty; i++) {
		const struct psw_txbuf *b = &pmd->txbuf[pmd->dirty[i]];

		for (uint16_t j = 0; j < b->n && o->n < 8; j++, o->n++) {
			o->out[o->n].port = pmd->dirty[i];
			hdr_text(rte_pktmbuf_mtod(b->pkts[j], const uint8_t *),
				 rte_pktmbuf_data_len(b->pkts[j]), o->out[o->n].hdr,
				 sizeof(o->out[o->n].hdr));
		}
	}
	psw_txq_discard_all(pmd);
	for (unsigned r = 0; r < PSW_DROP_MAX; r++)
		if (pmd->stats.drops[r] != before[r])
			snprintf(o->drop, sizeof(o->drop), "%s", psw_drop_names[r]);
	sort_outcome(o);
}

/* The packet fields of key k, as a user gives them to trace. */
static json_t *
fields(const struct psw_flow_key *k)
{
	char s[18], d[18], a[INET6_ADDRSTRLEN];
	json_t *p = json_pack("{s:s s:s s:s s:i}", "in_port", psw_ports[k->in_port].name,
			      "dl_src", psw_mac_str(&k->dl_src, s), "dl_dst", psw_mac_str(&k->dl_dst, d),
			      "dl_type", rte_be_to_cpu_16(k->dl_type));

	if (k->vlan_tci)
		json_object_set_new(p, "dl_vlan",
				    json_integer(rte_be_to_cpu_16(k->vlan_tci) & PSW_VLAN_VID_MASK));
	if (k->dl_type == RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
		json_object_set_new(p, "nw_src", json_string(inet_ntop(AF_INET, &k->nw_src, a, sizeof(a))));
		json_object_set_new(p, "nw_dst", json_string(inet_ntop(AF_INET, &k->nw_dst, a, sizeof(a))));
		json_object_set_new(p, "nw_proto", json_integer(k->nw_proto));
		if (k->nw_proto == 17 || k->nw_proto == 6 || k->nw_proto == 1) {
			json_object_set_new(p, "tp_src", json_integer(rte_be_to_cpu_16(k->tp_src)));
			json_object_set_new(p, "tp_dst", json_integer(rte_be_to_cpu_16(k->tp_dst)));
		}
	}
	return p;
}

/* The trace of the same packet. */
static void
run_trace(const struct psw_flow_key *k, struct outcome *o)
{
	struct psw_rpc_error err;
	json_t *params = json_pack("{s:o}", "packet", fields(k)), *r, *out;
	size_t i;

	memset(o, 0, sizeof(*o));
	r = psw_rpc_trace(params, &err);
	json_decref(params);
	if (r == NULL)
		fail_msg("trace: %s", err.message);
	json_array_foreach(json_object_get(r, "outputs"), i, out) {
		const struct psw_port *p = psw_port_by_name(json_string_value(json_object_get(out, "port")));
		json_t *v, *tags = json_object_get(out, "vlans");
		size_t j;
		int n;

		assert_non_null(p);
		if (json_object_get(out, "note") != NULL || o->n == 8)
			continue;  /* traced, then dropped (MTU) */
		o->out[o->n].port = p->id;
		n = snprintf(o->out[o->n].hdr, sizeof(o->out[0].hdr), "%s %s",
			     json_string_value(json_object_get(out, "dl_dst")),
			     json_string_value(json_object_get(out, "dl_src")));
		json_array_foreach(tags, j, v)
			n += snprintf(o->out[o->n].hdr + n, sizeof(o->out[0].hdr) - (size_t)n,
				      " vlan%d", (int)json_integer_value(v));
		o->n++;
	}
	if (json_object_get(r, "drop"))
		snprintf(o->drop, sizeof(o->drop), "%s", json_string_value(json_object_get(r, "drop")));
	json_decref(r);
	sort_outcome(o);
}

static const char *const macs[] = {
	"02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03", "ff:ff:ff:ff:ff:ff",
	"01:00:5e:00:00:01",
};

/* A valid random frame: MACs from a small pool (a multicast source now and then), maybe
 * a VLAN tag, IPv4 UDP/TCP/ICMP, ARP or another ethertype. */
static struct rte_mbuf *
frame(void)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *b;
	unsigned off = 12, kind = rnd(8);

	assert_non_null(m);
	b = (uint8_t *)rte_pktmbuf_append(m, 64);
	assert_non_null(b);
	memset(b, 0, 64);
	rte_ether_unformat_addr(macs[rnd(5)], (struct rte_ether_addr *)b);
	rte_ether_unformat_addr(macs[rnd(8) ? rnd(3) : 4], (struct rte_ether_addr *)(b + 6));
	if (rnd(3) == 0) {   /* one tag: a second one (QinQ) is not a trace field */
		b[off] = 0x81;
		b[off + 3] = (uint8_t)(1 + rnd(3));     /* VLAN 1..3 */
		off += 4;
	}
	if (kind == 0) {
		b[off] = 0x08, b[off + 1] = 0x06;       /* ARP */
	} else if (kind == 1) {
		b[off] = 0x88, b[off + 1] = 0xb5;       /* an experimental ethertype */
	} else {
		uint8_t *ip = b + off + 2;

		b[off] = 0x08;
		ip[0] = 0x45;
		ip[3] = 28;
		ip[8] = 64;
		ip[9] = kind == 2 ? 1 : kind == 3 ? 6 : 17;
		ip[12] = 10, ip[15] = (uint8_t)(1 + rnd(3));
		ip[16] = 10, ip[19] = (uint8_t)(1 + rnd(3));
		ip[21] = (uint8_t)rnd(4);               /* source port / ICMP code */
		ip[20] = kind == 2 ? 8 : 0;             /* ICMP echo request */
		ip[23] = rnd(2) ? 53 : 80;
	}
	return m;
}

static const char *const l2_matches[] = {
	"", "in_port=in,", "in_port=o1,", "dl_dst=02:00:00:00:00:02,", "dl_src=02:00:00:00:00:01,",
	"dl_vlan=2,", "arp,", "ip,", "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,",
	"in_port=in,dl_vlan=1,",
};
static const char *const l3_matches[] = {
	"udp,tp_dst=53,", "ip,nw_dst=10.0.0.2,", "tcp,", "icmp,", "ip,nw_src=10.0.0.0/30,",
	"in_port=in,udp,tp_src=1,",
};
static const char *const actions[] = {
	"normal", "output:o1", "output:o2", "drop", "push_vlan:7,output:o2", "pop_vlan,output:o1",
	"mod_dl_dst:02:00:00:00:00:09,output:o2", "output:o1,output:o2", "output:in",
	"pop_vlan,normal", "mod_dl_src:02:00:00:00:00:07,normal", "output:o3",
};

static void
one_case(unsigned c, bool l3)
{
	unsigned nr = 1 + rnd(4);
	char rules[4][160], e[256];

	psw_flow_table_clear();
	psw_l2_fdb_flush(0, PSW_PORT_NONE);
	psw_ports[p_in].output = rnd(3) == 0 ? (uint16_t)p_o2 : PSW_PORT_NONE;
	for (unsigned i = 0; i < nr; i++) {
		snprintf(rules[i], sizeof(rules[i]), "priority=%u,%sactions=%s", rnd(4),
			 l3 && (i == 0 || rnd(2)) ? l3_matches[rnd(RTE_DIM(l3_matches))]
						  : l2_matches[rnd(RTE_DIM(l2_matches))],
			 actions[rnd(RTE_DIM(actions))]);
		if (psw_flow_table_add_text(rules[i], e, sizeof(e)) != 0)
			fail_msg("%s: %s", rules[i], e);
	}
	if (rnd(8) == 0)
		psw_flow_table_clear();   /* an empty table: no_output */
	for (unsigned k = 0; k < 12; k++) {
		const uint16_t ins[] = {(uint16_t)p_in, (uint16_t)p_o1, (uint16_t)p_o3};
		uint16_t in = ins[rnd(3)];
		struct rte_mbuf *m = frame();
		struct psw_flow_key key;
		struct outcome dp, tr;

		assert_int_equal(psw_parse_one(m, in, &key) & PSW_KEY_F_BAD, 0);
		run_trace(&key, &tr);
		run_datapath(m, in, &dp);
		if (dp.n != tr.n || memcmp(dp.out, tr.out, sizeof(dp.out[0]) * dp.n) ||
		    (dp.n == 0 && strcmp(dp.drop, tr.drop))) {
			for (unsigned i = 0; i < nr; i++)
				print_message("# rule %s\n", rules[i]);
			print_message("# in_port %s, frame %u\n", psw_ports[in].name, k);
			for (unsigned i = 0; i < dp.n; i++)
				print_message("# datapath: %s %s\n", psw_ports[dp.out[i].port].name, dp.out[i].hdr);
			for (unsigned i = 0; i < tr.n; i++)
				print_message("# trace:    %s %s\n", psw_ports[tr.out[i].port].name, tr.out[i].hdr);
			fail_msg("case %u: datapath %u frames, drop '%s'; trace %u frames, drop '%s'", c,
				 dp.n, dp.drop, tr.n, tr.drop);
		}
		/* Both saw the same FDB; now let the datapath's learning land. */
		psw_l2_learn_drain();
	}
}

static void
test_trace_is_the_datapath(void **state)
{
	unsigned before = rte_mempool_avail_count(mp), full = 0;

	(void)state;
	for (unsigned c = 0; c < 400; c++) {
		one_case(c, c % 2);
		full += psw_flow_view->shape == PSW_SHAPE_FULL;
	}
	assert_true(full > 100);     /* both paths were compared */
	psw_flow_table_clear();
	psw_ports[p_in].output = PSW_PORT_NONE;
	psw_rcu_reclaim();
	assert_int_equal(rte_mempool_avail_count(mp), before);
}

/* Trace has no side effects: nothing sent, no MAC learned, no rule counted. */
static void
test_trace_changes_nothing(void **state)
{
	struct psw_rule_counters c;
	struct psw_rpc_error err;
	char e[256];
	json_t *p, *r;

	(void)state;
	psw_flow_table_clear();
	psw_l2_fdb_flush(0, PSW_PORT_NONE);
	assert_int_equal(psw_flow_table_add_text("priority=0,actions=normal", e, sizeof(e)), 0);
	p = json_pack("{s:{s:s,s:s,s:s}}", "packet", "in_port", "in",
		      "dl_src", "02:00:00:00:00:0a", "dl_dst", "02:00:00:00:00:0b");
	r = psw_rpc_trace(p, &err);
	assert_non_null(r);
	/* Unknown destination: flooded to o1 and o2, the source to be learned. */
	assert_int_equal(json_array_size(json_object_get(r, "outputs")), 2);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "l2"), "source")),
			    "unknown: will be learned on the input port");
	json_decref(r);
	json_decref(p);
	psw_l2_learn_drain();
	assert_int_equal(psw_l2_fdb_count(), 0);
	psw_rule_stats_read(psw_flow_table_at(0)->rule.stats_idx, &c);
	assert_int_equal(c.packets, 0);
	assert_int_equal(psw_pmds[0]->n_dirty, 0);
	psw_flow_table_clear();
}

/* A frame larger than the output port's MTU is dropped and counted as mtu at that port;
 * trace says so. One VLAN tag does not count against the MTU. */
static void
test_mtu_drop(void **state)
{
	struct psw_pmd *pmd = psw_pmds[0];
	struct psw_port_counters cnt;
	uint16_t mtu = psw_ports[p_o1].mtu;
	struct rte_mbuf *m[3];
	char e[256];

	(void)state;
	assert_true(mtu >= 68);
	psw_flow_table_clear();
	assert_int_equal(psw_flow_table_add_text("in_port=in,actions=output:o1", e, sizeof(e)), 0);
	psw_port_clear_counters((uint16_t)p_o1);
	for (int i = 0; i < 3; i++) {
		uint16_t len = (uint16_t)(i == 0 ? mtu + 14 : mtu + 15);
		uint8_t *b;

		m[i] = rte_pktmbuf_alloc(mp);
		assert_non_null(m[i]);
		b = (uint8_t *)rte_pktmbuf_append(m[i], (uint16_t)(len + (i == 2 ? 4 : 0)));
		assert_non_null(b);
		memset(b, 0, rte_pktmbuf_data_len(m[i]));
		b[0] = 2, b[6] = 2, b[11] = 1;
		if (i == 2)   /* tagged: mtu + 15 + 4 */
			b[12] = 0x81, b[15] = 5, b[16] = 0x88, b[17] = 0xb5;
		else          /* an experimental ethertype: no L3 header to check */
			b[12] = 0x88, b[13] = 0xb5;
	}
	/* m[0]: exactly the MTU; m[1]: one byte over; m[2]: one byte over plus a tag. */
	psw_pmd_set_now(pmd, rte_rdtsc());
	psw_pipeline_burst(pmd, (uint16_t)p_in, m, 3);
	psw_txq_flush_all(pmd);
	psw_port_read_counters((uint16_t)p_o1, &cnt);
	assert_int_equal(cnt.tx_packets, 1);
	assert_int_equal(cnt.drops[PSW_DROP_MTU], 2);
	{
		struct rte_mbuf *got[4];
		uint16_t n = rte_eth_rx_burst(psw_ports[p_o1].dpdk_port, 0, got, 4);

		assert_int_equal(n, 1);
		assert_int_equal(got[0]->pkt_len, mtu + 14);
		rte_pktmbuf_free_bulk(got, n);
	}
	psw_flow_table_clear();
}

static int
add_port(const char *name, const char *devargs, const char *network)
{
	struct psw_port_conf c = { .output = PSW_PORT_NONE };
	char e[256];
	int rc;

	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(c.devargs, sizeof(c.devargs), "%s", devargs);
	rc = psw_port_add(&c, false, e, sizeof(e));
	if (rc < 0)
		print_message("# port_add %s: %s\n", name, e);
	else if (network && psw_l2_port_join((uint16_t)rc, network) != 0)
		return -1;
	return rc;
}

static int
setup(void **state)
{
	static char prefix[64];
	char *argv[] = {"test_trace", "-l", "0", "--no-huge", "--no-pci", "-m", "128",
			"--log-level", "error", "--file-prefix", prefix};
	unsigned lcore = 0;
	char e[256];

	(void)state;
	snprintf(prefix, sizeof(prefix), "test_trace_%d", (int)getpid());
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])), argv) < 0)
		return -1;
	if (psw_rcu_init(1) || psw_pmd_init(&lcore, 1, 0) || psw_port_init(1, 8192, 0))
		return -1;
	if (psw_startup_tables(256, 300, 0, e, sizeof(e)) != 0) {
		print_message("# %s\n", e);
		return -1;
	}
	if (psw_l2_network_add("a", e, sizeof(e)) < 0)
		return -1;
	mp = rte_mempool_lookup("psw_mbuf_0");
	p_in = add_port("in", "net_ring0", "a");
	p_o1 = add_port("o1", "net_ring1", "a");
	p_o2 = add_port("o2", "net_ring2", "a");
	p_o3 = add_port("o3", "net_ring3", NULL);   /* in no network */
	return mp && p_in >= 0 && p_o1 >= 0 && p_o2 >= 0 && p_o3 >= 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trace_changes_nothing),
		cmocka_unit_test(test_trace_is_the_datapath),
		cmocka_unit_test(test_mtu_drop),
	};
	int rc = cmocka_run_group_tests(tests, setup, NULL);
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", rte_eal_get_runtime_dir());
	psw_port_del_all();
	psw_startup_tables_fini();
	psw_pmd_fini();
	psw_rcu_fini();
	rte_eal_cleanup();
	if (strstr(cmd, "test_trace_") && system(cmd) != 0)
		rc = rc ? rc : 1;
	return rc;
}
