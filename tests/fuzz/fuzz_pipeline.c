/*
 * fuzz_pipeline.c: whole bursts through the real pipeline (switch/datapath/pipeline.c:
 * parse, exact-match cache, classifier, NORMAL with learning and floods, actions, tx to
 * real net_null devices), on frames of any length and content: VLAN stacks, IPv6 with
 * extension headers, truncated L4, anything. Two fixed rule sets take turns (chosen by
 * the input): an L2-only table (the L2 fast path) and one with L3/L4 matches, VLAN
 * push/pop, MAC rewrites, several outputs, drops and a tunnel action (the full path).
 * Four ports in two networks, one with a static output; learning is drained by the
 * control side between bursts, so FDB changes and the MAC limit play their part.
 * Every packet must leave as sent or as a counted drop: the mbuf pool is full again
 * after each input (no leak, no double free).
 *
 * Input: flags (bit 0: rule set; bits 1-7: bursts), then per burst: in_port (1 byte),
 * frame count (1 byte, up to 32), frames: length (2 bytes, up to 1600), bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "control/startup.h"
#include "core/rcu.h"
#include "datapath/pipeline.h"
#include "datapath/pmd.h"
#include "datapath/txq.h"
#include "flow/flow_table.h"
#include "l2/l2.h"
#include "port/port.h"
#include "fuzz_common.h"

#define NPORTS 4
#define POOL   8191

static const char *const l2_rules[] = {
	"priority=10,in_port=p3,actions=output:p0",
	"priority=0,actions=normal",
};

static const char *const full_rules[] = {
	"priority=100,ip,nw_dst=10.0.0.0/8,actions=output:p1",
	"priority=95,ip,nw_src=10.9.0.0/16,nw_dst=10.0.0.1,actions=drop",
	"priority=90,tcp,tp_dst=80,actions=mod_dl_src:02:00:00:00:00:01,mod_dl_dst:02:00:00:00:00:02,output:p2",
	"priority=85,udp,tp_src=53,actions=push_vlan:100,output:p3",
	"priority=80,udp6,actions=push_vlan:5,output:p3",
	"priority=75,tcp6,tp_dst=443,actions=output:p0,output:p1,output:p2",
	"priority=70,dl_vlan=7,actions=strip_vlan,normal",
	"priority=65,icmp,icmp_type=8,actions=normal",
	"priority=60,icmp6,actions=drop",
	"priority=55,in_port=p2,ipv6,ipv6_dst=fd00::/8,actions=encap_vxlan:42,output:p0",
	"priority=50,in_port=p0,ip,nw_proto=47,actions=output:p1,output:p2,output:p3",
	"priority=40,arp,actions=normal",
	"priority=30,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=normal",
	"priority=20,dl_type=0x88cc,actions=decap_vxlan,normal",
	"priority=1,ip,actions=normal",
};

static struct rte_mempool *pool;
static int port_id[NPORTS];
static int rule_set = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
load_rules(int set)
{
	const char *const *r = set ? full_rules : l2_rules;
	unsigned n = set ? RTE_DIM(full_rules) : RTE_DIM(l2_rules);
	char err[256];

	psw_flow_table_clear();
	for (unsigned i = 0; i < n; i++) {
		if (psw_flow_table_add_text(r[i], err, sizeof(err)) != 0) {
			fprintf(stderr, "fuzz_pipeline: rule \"%s\": %s\n", r[i], err);
			abort();
		}
	}
	psw_rcu_reclaim();
	rule_set = set;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned lcore = 0;
	char err[256];

	(void)argc;
	(void)argv;
	psw_fuzz_eal("pipeline");
	if (psw_rcu_init(1) || psw_pmd_init(&lcore, 1, 0) || psw_port_init(1, POOL, 0))
		abort();
	/* 64 MACs per port: the learning limit is reached too. */
	if (psw_startup_tables(256, 300, 64, err, sizeof(err)) != 0 ||
	    psw_l2_network_add("a", err, sizeof(err)) < 0 ||
	    psw_l2_network_add("b", err, sizeof(err)) < 0)
		abort();
	for (unsigned i = 0; i < NPORTS; i++) {
		struct psw_port_conf c = { .output = PSW_PORT_NONE, .mtu = i == 1 ? 1000 : 0 };

		snprintf(c.name, sizeof(c.name), "p%u", i);
		snprintf(c.devargs, sizeof(c.devargs), "net_null%u", i);
		port_id[i] = psw_port_add(&c, false, err, sizeof(err));
		if (port_id[i] < 0 || psw_l2_port_join((uint16_t)port_id[i], i < 3 ? "a" : "b") != 0) {
			fprintf(stderr, "fuzz_pipeline: port p%u: %s\n", i, err);
			abort();
		}
	}
	psw_port_set_output((uint16_t)port_id[3], (uint16_t)port_id[0]);
	pool = psw_port_pool();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct psw_fuzz_in in = { data, size };
	struct psw_pmd *pmd = psw_pmds[0];
	uint8_t flags = psw_fuzz_u8(&in);
	unsigned bursts = 1 + (flags >> 1) % 4;

	if ((flags & 1) != rule_set)
		load_rules(flags & 1);
	for (unsigned b = 0; b < bursts && in.n > 0; b++) {
		struct rte_mbuf *pkts[PSW_BURST];
		uint16_t in_port = (uint16_t)port_id[psw_fuzz_u8(&in) % NPORTS];
		uint16_t want = psw_fuzz_u8(&in) % (PSW_BURST + 1), n = 0;

		while (n < want && in.n > 0) {
			uint16_t len = (uint16_t)(psw_fuzz_u16(&in) % 1601);
			const uint8_t *p;
			struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

			if (m == NULL)
				abort();
			len = (uint16_t)psw_fuzz_take(&in, len, &p);
			memcpy(rte_pktmbuf_append(m, len), p, len);
			pkts[n++] = m;
		}
		psw_pmd_set_now(pmd, rte_rdtsc());
		psw_pipeline_burst(pmd, in_port, pkts, n);
		psw_txq_flush_all(pmd);
		psw_rcu_quiescent(0);
		/* The control thread's turn: learn what the PMD posted. */
		psw_l2_learn_drain();
		psw_rcu_reclaim();
	}
	/* Every mbuf is back: sent (net_null frees) or dropped and freed. */
	if (rte_mempool_in_use_count(pool) != 0) {
		fprintf(stderr, "fuzz_pipeline: %u mbufs not returned\n",
			rte_mempool_in_use_count(pool));
		abort();
	}
	return 0;
}
