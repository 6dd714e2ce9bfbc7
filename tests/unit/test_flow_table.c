/*
 * test_flow_table.c: the flow table as its users see it: flow.add / del / list / clear
 * through the RPC handlers (rpc_flow.c, flow_table.c), with canonical listing and an error
 * for every bad field; and the pipeline (pipeline.c, actions.c) on real DPDK vdevs
 * (net_null in, net_ring out, read back from the ring): bursts of 0, 1, 3, 4, 5 and 32,
 * priorities, the next burst following a changed table although its flows are cached,
 * several outputs, NORMAL flooding, learning and cached unicast, rule changes that cost
 * only the flows they concern (cached flows of other rules keep hitting), bulk strict
 * deletes, and no mbuf leaked.
 * The PMD loop is not launched: the test plays PMD 0's iteration (burst, then flush).
 */
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

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "control/startup.h"
#include "control/trace.h"
#include "core/rcu.h"
#include "ctl/flow_text.h"
#include "datapath/actions.h"
#include "datapath/ctx.h"
#include "datapath/pipeline.h"
#include "datapath/pmd.h"
#include "flow/flow_table.h"
#include "flow/rpc_flow.h"
#include "l2/l2.h"
#include "l2/rpc_network.h"
#include "port/port.h"

static struct rte_mempool *mp;
static int p_in, p_o1, p_o2, p_o3;
static struct psw_rpc_error rpc_err;

/* ---- RPC helpers ---- */

static json_t *
call(const char *method, const char *params_json)
{
	json_t *params = json_loads(params_json, 0, NULL), *r = NULL;

	assert_non_null(params);
	memset(&rpc_err, 0, sizeof(rpc_err));
	for (const struct psw_rpc_method *m = psw_rpc_flow_methods; m->name; m++)
		if (!strcmp(m->name, method))
			r = m->handler(params, &rpc_err);
	for (const struct psw_rpc_method *m = psw_rpc_network_methods; m->name; m++)
		if (!strcmp(m->name, method))
			r = m->handler(params, &rpc_err);
	if (!strcmp(method, "trace"))
		r = psw_rpc_trace(params, &rpc_err);
	json_decref(params);
	return r;
}

static void
call_ok(const char *method, const char *params_json)
{
	json_t *r = call(method, params_json);

	if (!r)
		fail_msg("%s %s: %s", method, params_json, rpc_err.message);
	json_decref(r);
}

static void
call_fails(const char *method, const char *params_json, int code, const char *needle)
{
	json_t *r = call(method, params_json);

	if (r) {
		json_decref(r);
		fail_msg("%s %s succeeded", method, params_json);
	}
	if (code)
		assert_int_equal(rpc_err.code, code);
	if (!strstr(rpc_err.message, needle))
		fail_msg("%s %s: '%s' does not name '%s'", method, params_json, rpc_err.message,
			 needle);
}

static json_t *
flows(void)
{
	json_t *r = call("flow.list", "{}");

	assert_non_null(r);
	return r;
}

static size_t
n_flows(void)
{
	json_t *r = flows();
	size_t n = json_array_size(json_object_get(r, "flows"));

	json_decref(r);
	return n;
}

/* ---- packet helpers ---- */

static struct rte_mbuf *
udp_pkt(const char *src_mac, const char *dst_mac, uint32_t dst_ip, uint16_t dport)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;

	assert_non_null(m);
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eh) + sizeof(*ip) +
							sizeof(*udp) + 18);
	assert_non_null(eh);
	memset(eh, 0, rte_pktmbuf_data_len(m));
	rte_ether_unformat_addr(src_mac, &eh->src_addr);
	rte_ether_unformat_addr(dst_mac, &eh->dst_addr);
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eh + 1);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*udp) + 18);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = RTE_BE32(0x0a000001);
	ip->dst_addr = rte_cpu_to_be_32(dst_ip);
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = RTE_BE16(1234);
	udp->dst_port = rte_cpu_to_be_16(dport);
	udp->dgram_len = rte_cpu_to_be_16(sizeof(*udp) + 18);
	return m;
}

#define MAC_A "02:00:00:00:00:0a"
#define MAC_B "02:00:00:00:00:0b"

/* Runs one PMD iteration with n packets to dst_ip (distinct source ports... by dport). */
static void
send_burst(int in_port, uint16_t n, uint32_t dst_ip, const char *src, const char *dst)
{
	struct rte_mbuf *pkts[PSW_BURST];
	struct psw_pmd *pmd = psw_pmds[0];

	for (uint16_t i = 0; i < n; i++)
		pkts[i] = udp_pkt(src, dst, dst_ip, (uint16_t)(1000 + i));
	psw_pmd_set_now(pmd, rte_rdtsc());
	psw_pipeline_burst(pmd, (uint16_t)in_port, pkts, n);
	psw_txq_flush_all(pmd);
}

/* Packets waiting on a ring output; drained and freed. Optionally the VLAN of the first. */
static unsigned
drain(int port)
{
	struct rte_mbuf *pkts[64];
	unsigned total = 0;
	uint16_t n;

	while ((n = rte_eth_rx_burst(psw_ports[port].dpdk_port, 0, pkts, 64)) > 0) {
		total += n;
		rte_pktmbuf_free_bulk(pkts, n);
	}
	return total;
}

static uint64_t
drops(int port, enum psw_drop_reason why)
{
	struct psw_port_counters c;

	psw_port_read_counters((uint16_t)port, &c);
	return c.drops[why];
}

/* A stand-in for the tunnels stage: counts and lets the packet go on. */
static unsigned tunnel_calls;

static int
fake_tunnel(struct psw_pmd *pmd, struct rte_mbuf **m, uint16_t in_port, const struct psw_action *a)
{
	(void)pmd;
	(void)m;
	(void)in_port;
	assert_int_equal(a->type, PSW_ACT_ENCAP_VXLAN);
	assert_int_equal(a->vxlan.vni, 42);
	tunnel_calls++;
	return 0;
}

/* ---- tests ---- */

static void
test_add_list_canonical(void **state)
{
	json_t *r, *f;

	(void)state;
	r = call("flow.add", "{\"priority\":100,\"match\":{\"dl_type\":2048,\"nw_dst\":\"10.1.2.3/16\","
		 "\"dl_dst\":\"AA:BB:CC:DD:EE:FF\"},\"actions\":[{\"type\":\"output\",\"port\":\"o1\"}]}");
	assert_non_null(r);
	assert_true(json_integer_value(json_object_get(r, "id")) > 0);
	json_decref(r);
	call_ok("flow.add", "{\"match\":{\"dl_type\":2048,\"nw_src\":\"10.0.0.0/255.0.0.0\"},"
		"\"actions\":[{\"type\":\"drop\"}]}");
	call_ok("flow.add", "{\"cookie\":7,\"match\":{\"dl_type\":2048,\"nw_src\":\"10.0.0.0/255.0.255.0\","
		"\"nw_proto\":1,\"icmp_type\":8},\"actions\":[{\"type\":\"push_vlan\",\"vid\":9},"
		"{\"type\":\"output\",\"port\":\"o2\"}]}");
	call_ok("flow.add", "{\"match\":{\"in_port\":\"in\",\"dl_vlan\":5,\"dl_type\":34525,"
		"\"ipv6_dst\":\"fd00::1:2/64\"},\"actions\":[{\"type\":\"pop_vlan\"},{\"type\":\"normal\"}]}");
	r = flows();
	f = json_object_get(r, "flows");
	assert_int_equal(json_array_size(f), 4);
	/* Canonical: host bits cleared, MACs lower-case, contiguous masks as prefixes. */
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(f, 0),
		"match"), "nw_dst")), "10.1.0.0/16");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(f, 0),
		"match"), "dl_dst")), "aa:bb:cc:dd:ee:ff");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(f, 1), "priority")),
			 PSW_FLOW_DEFAULT_PRIORITY);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(f, 1),
		"match"), "nw_src")), "10.0.0.0/8");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(f, 2),
		"match"), "nw_src")), "10.0.0.0/255.0.255.0");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(f, 2),
		"match"), "icmp_type")), 8);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(f, 2), "cookie")), 7);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(
		json_array_get(f, 2), "actions"), 0), "vid")), 9);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(f, 3),
		"match"), "ipv6_dst")), "fd00::/64");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(f, 3),
		"match"), "in_port")), "in");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(f, 3),
		"match"), "dl_vlan")), 5);
	json_decref(r);

	/* Text through the same door (the config loader's path). */
	{
		char e[256];

		assert_int_equal(psw_flow_table_add_text("priority=1,udp,tp_dst=53,actions=output:o3",
							 e, sizeof(e)), 0);
		assert_int_not_equal(psw_flow_table_add_text("priority=1,udp,tp_dst=53,actions=output:zz",
							     e, sizeof(e)), 0);
		assert_non_null(strstr(e, "unknown port 'zz'"));
	}
	assert_int_equal(n_flows(), 5);
	/* Same match and priority: replaced (OpenFlow add), also within one bulk request. */
	call_ok("flow.add", "{\"rules\":[\"priority=1,udp,tp_dst=53,actions=output:o1\","
		"\"priority=1,udp,tp_dst=53,actions=output:o2\",\"priority=2,udp,tp_dst=53,actions=drop\"]}");
	assert_int_equal(n_flows(), 6);
	r = flows();
	f = json_object_get(r, "flows");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(
		json_array_get(f, 4), "actions"), 0), "port")), "o2");
	json_decref(r);
	call_ok("flow.clear", "{}");
	assert_int_equal(n_flows(), 0);
}

static void
test_bad_rules(void **state)
{
	(void)state;
	call_fails("flow.add", "{}", PSW_RPC_INVALID_PARAMS, "actions");
	call_fails("flow.add", "{\"actions\":[]}", PSW_RPC_INVALID_PARAMS, "actions: must be a non-empty array");
	call_fails("flow.add", "{\"actions\":[{\"type\":\"drop\"}],\"bogus\":1}", PSW_RPC_INVALID_PARAMS, "bogus");
	call_fails("flow.add", "{\"match\":{\"bogus\":1},\"actions\":[{\"type\":\"drop\"}]}",
		   PSW_RPC_INVALID_PARAMS, "match.bogus: unknown field");
	call_fails("flow.add", "{\"match\":{\"in_port\":\"nosuch\"},\"actions\":[{\"type\":\"drop\"}]}",
		   PSW_RPC_NOT_FOUND, "match.in_port: unknown port 'nosuch'");
	call_fails("flow.add", "{\"match\":{\"nw_dst\":\"10.0.0.0/8\"},\"actions\":[{\"type\":\"drop\"}]}",
		   PSW_RPC_INVALID_PARAMS, "match.nw_dst: needs dl_type=0x0800");
	call_fails("flow.add", "{\"match\":{\"dl_type\":2048,\"nw_dst\":\"10.0.0.0/33\"},"
		   "\"actions\":[{\"type\":\"drop\"}]}", PSW_RPC_INVALID_PARAMS, "match.nw_dst: bad IPv4");
	call_fails("flow.add", "{\"match\":{\"dl_type\":2048,\"nw_dst\":\"10.0.0.0/\"},"
		   "\"actions\":[{\"type\":\"drop\"}]}", PSW_RPC_INVALID_PARAMS, "match.nw_dst");
	call_fails("flow.add", "{\"match\":{\"dl_type\":34525,\"ipv6_src\":\"fd00::/200\"},"
		   "\"actions\":[{\"type\":\"drop\"}]}", PSW_RPC_INVALID_PARAMS, "match.ipv6_src");
	call_fails("flow.add", "{\"match\":{\"dl_type\":2048,\"tp_dst\":80},\"actions\":[{\"type\":\"drop\"}]}",
		   PSW_RPC_INVALID_PARAMS, "match.tp_dst: needs nw_proto");
	call_fails("flow.add", "{\"match\":{\"dl_type\":2048,\"nw_proto\":6,\"icmp_type\":3},"
		   "\"actions\":[{\"type\":\"drop\"}]}", PSW_RPC_INVALID_PARAMS, "match.icmp_type");
	call_fails("flow.add", "{\"match\":{\"dl_vlan\":4096},\"actions\":[{\"type\":\"drop\"}]}",
		   PSW_RPC_INVALID_PARAMS, "match.dl_vlan");
	call_fails("flow.add", "{\"match\":{\"dl_src\":\"02:00:00:00:00\"},\"actions\":[{\"type\":\"drop\"}]}",
		   PSW_RPC_INVALID_PARAMS, "match.dl_src: bad MAC");
	call_fails("flow.add", "{\"priority\":65536,\"actions\":[{\"type\":\"drop\"}]}",
		   PSW_RPC_INVALID_PARAMS, "priority");
	call_fails("flow.add", "{\"actions\":[{\"type\":\"output\"}]}", PSW_RPC_INVALID_PARAMS,
		   "actions[0].port: must be a port name");
	call_fails("flow.add", "{\"actions\":[{\"type\":\"output\",\"port\":\"zz\"}]}", PSW_RPC_NOT_FOUND,
		   "actions[0].port: unknown port 'zz'");
	call_fails("flow.add", "{\"actions\":[{\"type\":\"output\",\"port\":\"o1\",\"x\":1}]}",
		   PSW_RPC_INVALID_PARAMS, "actions[0].x: unknown key");
	call_fails("flow.add", "{\"actions\":[{\"type\":\"push_vlan\",\"vid\":5000}]}",
		   PSW_RPC_INVALID_PARAMS, "actions[0].vid");
	call_fails("flow.add", "{\"actions\":[{\"type\":\"set_eth_src\",\"mac\":\"zz\"}]}",
		   PSW_RPC_INVALID_PARAMS, "actions[0].mac: bad MAC");
	call_fails("flow.add", "{\"actions\":[{\"type\":\"teleport\"}]}", PSW_RPC_INVALID_PARAMS,
		   "actions[0].type: unknown action 'teleport'");
	call_fails("flow.add", "{\"actions\":[{\"type\":\"output\",\"port\":\"o1\"},{\"type\":\"drop\"}]}",
		   PSW_RPC_INVALID_PARAMS, "'drop' must be the only action");
	call_fails("flow.add", "{\"actions\":[{\"type\":\"normal\"},{\"type\":\"normal\"},{\"type\":\"normal\"},"
		   "{\"type\":\"normal\"},{\"type\":\"normal\"},{\"type\":\"normal\"},{\"type\":\"normal\"},"
		   "{\"type\":\"normal\"},{\"type\":\"normal\"}]}", PSW_RPC_INVALID_PARAMS, "at most 8");
	/* Bulk: all or nothing, the bad one named by its index. */
	call_fails("flow.add", "{\"rules\":[\"actions=output:o1\",{\"actions\":[{\"type\":\"drop\"}]},"
		   "\"in_port=nosuch,actions=drop\"]}", 0, "rules[2]");
	call_fails("flow.add", "{\"rules\":[\"actions=bogus\"]}", PSW_RPC_INVALID_PARAMS,
		   "rules[0]: unknown action 'bogus'");
	call_fails("flow.add", "{\"rules\":[],\"priority\":1}", PSW_RPC_INVALID_PARAMS, "rules");
	assert_int_equal(n_flows(), 0);
	/* del and trace check their params too. */
	call_fails("flow.del", "{\"cookie\":1,\"match\":{}}", PSW_RPC_INVALID_PARAMS, "cookie");
	call_fails("flow.del", "{\"match\":{\"nw_dst\":\"1.2.3.4\"}}", PSW_RPC_INVALID_PARAMS, "match.nw_dst");
	call_fails("trace", "{\"packet\":{}}", PSW_RPC_INVALID_PARAMS, "packet.in_port: required");
	call_fails("trace", "{\"packet\":{\"in_port\":\"in\",\"nw_dst\":\"10.0.0.0/8\"}}",
		   PSW_RPC_INVALID_PARAMS, "packet.nw_dst");
}

static void
test_del_semantics(void **state)
{
	json_t *r;

	(void)state;
	call_ok("flow.add", "{\"rules\":["
		"\"priority=10,ip,actions=output:o1\","
		"\"priority=10,ip,nw_dst=10.1.0.0/16,actions=output:o1\","
		"\"priority=20,ip,nw_dst=10.1.0.0/16,actions=output:o1\","
		"\"priority=10,ip,nw_dst=10.1.2.0/24,actions=output:o1\","
		"\"priority=10,ip,nw_dst=10.2.0.0/16,actions=output:o1\","
		"\"cookie=5,priority=10,ipv6,actions=output:o1\","
		"\"cookie=5,priority=11,arp,actions=output:o1\","
		"\"actions=output:o1\"]}");
	assert_int_equal(n_flows(), 8);
	/* Strict: same match and priority only (default priority 32768 when not given). */
	r = call("flow.del", "{\"match\":{\"dl_type\":2048,\"nw_dst\":\"10.1.0.0/16\"},\"strict\":true}");
	assert_int_equal(json_integer_value(json_object_get(r, "deleted")), 0);
	json_decref(r);
	r = call("flow.del", "{\"match\":{\"dl_type\":2048,\"nw_dst\":\"10.1.0.0/16\"},\"strict\":true,"
		 "\"priority\":20}");
	assert_int_equal(json_integer_value(json_object_get(r, "deleted")), 1);
	json_decref(r);
	/* Loose: every rule at least as specific as 10.1.0.0/16 (the /16 and the /24), not the
	 * wider `ip` one nor 10.2/16. */
	r = call("flow.del", "{\"match\":{\"dl_type\":2048,\"nw_dst\":\"10.1.0.0/16\"}}");
	assert_int_equal(json_integer_value(json_object_get(r, "deleted")), 2);
	json_decref(r);
	r = call("flow.del", "{\"cookie\":5}");
	assert_int_equal(json_integer_value(json_object_get(r, "deleted")), 2);
	json_decref(r);
	assert_int_equal(n_flows(), 3);
	/* An empty loose match is everything. */
	r = call("flow.del", "{}");
	assert_int_equal(json_integer_value(json_object_get(r, "deleted")), 3);
	json_decref(r);
	assert_int_equal(n_flows(), 0);
}

static void
test_pipeline_follows_table(void **state)
{
	static const uint16_t sizes[] = {0, 1, 3, 4, 5, 32};
	unsigned before = rte_mempool_avail_count(mp), total = 0;
	json_t *r;

	(void)state;
	call_ok("flow.add", "{\"rules\":[\"priority=10,ip,nw_dst=10.1.0.0/16,actions=output:o1\","
		"\"priority=5,udp,actions=drop\"]}");
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		send_burst(p_in, sizes[i], 0x0a010205, MAC_A, MAC_B);
		total += sizes[i];
	}
	assert_int_equal(drain(p_o1), total);
	/* The flows are cached now; a better rule takes them at the very next burst. */
	call_ok("flow.add", "{\"priority\":20,\"match\":{\"dl_type\":2048,\"nw_dst\":\"10.1.2.0/24\"},"
		"\"actions\":[{\"type\":\"output\",\"port\":\"o2\"}]}");
	send_burst(p_in, 32, 0x0a010205, MAC_A, MAC_B);
	assert_int_equal(drain(p_o1), 0);
	assert_int_equal(drain(p_o2), 32);
	call_ok("flow.del", "{\"match\":{\"dl_type\":2048,\"nw_dst\":\"10.1.2.0/24\"},\"strict\":true,"
		"\"priority\":20}");
	send_burst(p_in, 5, 0x0a010205, MAC_A, MAC_B);
	assert_int_equal(drain(p_o1), 5);
	assert_int_equal(drain(p_o2), 0);
	/* Counters: the /16 rule counted every packet it forwarded. */
	r = flows();
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(r, "flows"),
		0), "packets")), total + 5);
	json_decref(r);
	/* Drops by reason: the udp drop rule; no rule at all for non-UDP... all are UDP here. */
	send_burst(p_in, 3, 0x0b000001, MAC_A, MAC_B);
	assert_int_equal(drops(p_in, PSW_DROP_ACTION_DROP), 3);
	call_ok("flow.del", "{\"match\":{\"dl_type\":2048,\"nw_proto\":17},\"strict\":true,\"priority\":5}");
	send_burst(p_in, 4, 0x0b000001, MAC_A, MAC_B);
	assert_int_equal(drops(p_in, PSW_DROP_NO_RULE), 4);
	/* Several outputs: one copy each, the packet itself to the last. */
	call_ok("flow.add", "{\"priority\":30,\"match\":{\"dl_type\":2048,\"nw_dst\":\"10.3.0.1\"},"
		"\"actions\":[{\"type\":\"output\",\"port\":\"o1\"},{\"type\":\"push_vlan\",\"vid\":3},"
		"{\"type\":\"output\",\"port\":\"o2\"},{\"type\":\"output\",\"port\":\"o3\"},"
		"{\"type\":\"output\",\"port\":\"in\"}]}");
	send_burst(p_in, 4, 0x0a030001, MAC_A, MAC_B);
	assert_int_equal(drain(p_o1), 4);
	assert_int_equal(drain(p_o2), 4);
	assert_int_equal(drain(p_o3), 4);
	/* Tunnel actions: dropped as TUNNEL until the tunnels stage sets its hook. */
	call_ok("flow.add", "{\"priority\":40,\"match\":{\"dl_type\":2048,\"nw_dst\":\"10.4.0.1\"},"
		"\"actions\":[{\"type\":\"encap_vxlan\",\"vni\":42,\"remote\":\"192.0.2.1\"},"
		"{\"type\":\"output\",\"port\":\"o3\"}]}");
	send_burst(p_in, 2, 0x0a040001, MAC_A, MAC_B);
	assert_int_equal(drops(p_in, PSW_DROP_TUNNEL), 2);
	psw_actions_tunnel = fake_tunnel;
	send_burst(p_in, 3, 0x0a040001, MAC_A, MAC_B);
	psw_actions_tunnel = NULL;
	assert_int_equal(tunnel_calls, 3);
	assert_int_equal(drain(p_o3), 3);
	call_ok("flow.clear", "{}");
	psw_rcu_reclaim();
	assert_int_equal(rte_mempool_avail_count(mp), before);
}

static void
test_pipeline_normal(void **state)
{
	struct psw_pipeline_stats st0, st;
	unsigned before = rte_mempool_avail_count(mp);

	(void)state;
	call_ok("network.add", "{\"name\":\"n1\"}");
	assert_int_equal(psw_l2_port_join(p_in, "n1"), 0);
	assert_int_equal(psw_l2_port_join(p_o1, "n1"), 0);
	assert_int_equal(psw_l2_port_join(p_o2, "n1"), 0);
	call_ok("flow.add", "{\"priority\":0,\"actions\":[{\"type\":\"normal\"}]}");
	/* Unknown destination: flooded to the other members, never back to in. */
	send_burst(p_in, 5, 0x0a000002, MAC_A, MAC_B);
	assert_int_equal(drain(p_o1), 5);
	assert_int_equal(drain(p_o2), 5);
	assert_int_equal(drain(p_o3), 0);
	/* Learning goes through the ring to the control thread. */
	psw_l2_learn_drain();
	assert_non_null(psw_l2_fdb_lookup_rcu(psw_l2_network_id("n1"),
					      &(struct rte_ether_addr){{2, 0, 0, 0, 0, 0x0a}}));
	/* B answers from o1: A is known on in: unicast; B learned on o1. */
	send_burst(p_o1, 3, 0x0a000001, MAC_B, MAC_A);
	assert_int_equal(drain(p_in), 3);
	assert_int_equal(drain(p_o2), 0);
	psw_l2_learn_drain();
	/* Now A -> B is known unicast, and the decision is cached for the flow. */
	psw_pipeline_read_stats(psw_pmds[0], &st0);
	send_burst(p_in, 32, 0x0a000002, MAC_A, MAC_B);
	send_burst(p_in, 32, 0x0a000002, MAC_A, MAC_B);
	assert_int_equal(drain(p_o1), 64);
	assert_int_equal(drain(p_o2), 0);
	psw_pipeline_read_stats(psw_pmds[0], &st);
	/* The second burst hits cached decisions (but for cache collisions). */
	assert_true(st.l2_cached - st0.l2_cached >= 24);
	/* B moves to o2: relearned; the cached decision is dropped with the generation. */
	send_burst(p_o2, 1, 0x0a000001, MAC_B, MAC_A);
	assert_int_equal(drain(p_in), 1);
	psw_l2_learn_drain();
	send_burst(p_in, 4, 0x0a000002, MAC_A, MAC_B);
	assert_int_equal(drain(p_o2), 4);
	assert_int_equal(drain(p_o1), 0);
	/* A flood from a known source is cached too, and a destination learned meanwhile
	 * takes over at the next packet (learning bumps the generation). */
	psw_pipeline_read_stats(psw_pmds[0], &st0);
	send_burst(p_in, 8, 0x0a000002, MAC_A, "02:00:00:00:00:0c");
	send_burst(p_in, 8, 0x0a000002, MAC_A, "02:00:00:00:00:0c");
	assert_int_equal(drain(p_o1), 16);
	assert_int_equal(drain(p_o2), 16);
	psw_pipeline_read_stats(psw_pmds[0], &st);
	assert_true(st.l2_cached - st0.l2_cached >= 6);
	send_burst(p_o2, 1, 0x0a000001, "02:00:00:00:00:0c", MAC_A);
	assert_int_equal(drain(p_in), 1);
	psw_l2_learn_drain();
	send_burst(p_in, 8, 0x0a000002, MAC_A, "02:00:00:00:00:0c");
	assert_int_equal(drain(p_o2), 8);
	assert_int_equal(drain(p_o1), 0);
	/* Learning a new MAC does not cost the flows that did not change: on the full path (a
	 * rule on an L3 field), A -> C's cached decision still hits the exact-match cache right
	 * after D is learned. */
	call_ok("flow.add", "{\"priority\":10,\"match\":{\"dl_type\":2048,\"nw_proto\":17,"
		"\"tp_dst\":9},\"actions\":[{\"type\":\"drop\"}]}");
	send_burst(p_in, 32, 0x0a000002, MAC_A, "02:00:00:00:00:0c");
	send_burst(p_in, 32, 0x0a000002, MAC_A, "02:00:00:00:00:0c");
	assert_int_equal(drain(p_o2), 64);
	send_burst(p_o1, 1, 0x0a000001, "02:00:00:00:00:0d", MAC_A);
	assert_int_equal(drain(p_in), 1);
	psw_l2_learn_drain();
	assert_non_null(psw_l2_fdb_lookup_rcu(psw_l2_network_id("n1"),
					      &(struct rte_ether_addr){{2, 0, 0, 0, 0, 0x0d}}));
	psw_pipeline_read_stats(psw_pmds[0], &st0);
	send_burst(p_in, 32, 0x0a000002, MAC_A, "02:00:00:00:00:0c");
	assert_int_equal(drain(p_o2), 32);
	psw_pipeline_read_stats(psw_pmds[0], &st);
	assert_int_equal(st.cache.misses - st0.cache.misses, 0);
	assert_int_equal(st.cache.hits - st0.cache.hits, 32);
	call_ok("flow.del", "{\"match\":{\"dl_type\":2048,\"nw_proto\":17,\"tp_dst\":9}}");
	/* A port in no network: NO_NETWORK. */
	send_burst(p_o3, 2, 0x0a000002, MAC_A, MAC_B);
	assert_int_equal(drops(p_o3, PSW_DROP_NO_NETWORK), 2);
	/* Removing a port takes its rules and its MACs with it. */
	call_ok("flow.add", "{\"match\":{\"in_port\":\"o3\"},\"actions\":[{\"type\":\"drop\"}]}");
	assert_int_equal(n_flows(), 2);
	psw_flow_table_port_gone((uint16_t)p_o2);
	psw_l2_port_leave((uint16_t)p_o2);
	assert_int_equal(n_flows(), 2);   /* no rule names o2 */
	psw_flow_table_port_gone((uint16_t)p_o3);
	psw_l2_port_leave((uint16_t)p_o3);
	assert_int_equal(n_flows(), 1);
	assert_int_equal(psw_l2_port_macs[p_o2], 0);
	assert_int_equal(psw_l2_port_net[p_o2], 0);
	call_ok("flow.clear", "{}");
	psw_rcu_reclaim();
	assert_int_equal(rte_mempool_avail_count(mp), before);
}

/* A rule change costs the flows it concerns and no others: on the full path, flows whose
 * rule did not change keep hitting the exact-match cache through adds and deletes of other
 * rules (the same subtable, new masked keys); a better rule takes only its flows at the
 * next burst; a deleted rule is not used again; only a rule that overlaps a subtable
 * widely (in_port over nw_dst rules) makes every cache forget. On the L2 path, the memo
 * follows deletes and adds the same way. */
static void
test_cache_follows_change(void **state)
{
	struct psw_pipeline_stats st0, st;
	struct psw_flow_table_stats f0, f;
	unsigned before = rte_mempool_avail_count(mp);

	(void)state;
	call_ok("flow.add", "{\"rules\":[\"priority=10,ip,nw_dst=10.1.0.1,actions=output:o1\","
		"\"priority=10,ip,nw_dst=10.1.0.2,actions=output:o2\","
		"\"priority=5,udp,tp_dst=9,actions=drop\",\"priority=1,in_port=o3,actions=drop\","
		"\"priority=0,actions=drop\"]}");
	/* 100 more in the nw_dst subtable: too many to look through for what a rule over
	 * other fields takes from it (below) */
	for (unsigned i = 0; i < 100; i++) {
		char r[128], e[256];

		snprintf(r, sizeof(r), "priority=10,ip,nw_dst=10.1.1.%u,actions=output:o3", i);
		assert_int_equal(psw_flow_table_add_text(r, e, sizeof(e)), 0);
	}
	for (int k = 0; k < 2; k++) {
		send_burst(p_in, 8, 0x0a010001, MAC_A, MAC_B);
		send_burst(p_in, 8, 0x0a010002, MAC_A, MAC_B);
	}
	assert_int_equal(drain(p_o1), 16);
	assert_int_equal(drain(p_o2), 16);
	psw_flow_table_stats(&f0);

#define BOTH_HIT(o1, o2) do { \
	psw_pipeline_read_stats(psw_pmds[0], &st0); \
	send_burst(p_in, 8, 0x0a010001, MAC_A, MAC_B); \
	send_burst(p_in, 8, 0x0a010002, MAC_A, MAC_B); \
	psw_pipeline_read_stats(psw_pmds[0], &st); \
	assert_int_equal(drain(p_o1), (o1)); \
	assert_int_equal(drain(p_o2), (o2)); \
} while (0)

	/* Another rule in the same subtable, added and deleted: every packet a cache hit (the
	 * udp rule, small subtable, is looked through: its flows to 10.1.0.3 would move). */
	call_ok("flow.add", "{\"priority\":10,\"match\":{\"dl_type\":2048,\"nw_dst\":\"10.1.0.3\"},"
		"\"actions\":[{\"type\":\"output\",\"port\":\"o3\"}]}");
	BOTH_HIT(8, 8);
	assert_int_equal(st.cache.misses - st0.cache.misses, 0);
	call_ok("flow.del", "{\"match\":{\"dl_type\":2048,\"nw_dst\":\"10.1.0.3\"},\"strict\":true,"
		"\"priority\":10}");
	BOTH_HIT(8, 8);
	assert_int_equal(st.cache.misses - st0.cache.misses, 0);
	/* A better rule for 10.1.0.1 only (a new subtable within the fields rules look at
	 * already): its flow moves at once, the other one still hits. */
	call_ok("flow.add", "{\"priority\":20,\"match\":{\"dl_type\":2048,\"nw_proto\":17,"
		"\"nw_dst\":\"10.1.0.1\"},\"actions\":[{\"type\":\"output\",\"port\":\"o3\"}]}");
	BOTH_HIT(0, 8);
	assert_int_equal(drain(p_o3), 8);
	assert_int_equal(st.cache.hits - st0.cache.hits, 8);
	/* Deleted: 10.1.0.1 goes back to its rule at once; 10.1.0.2 still hits. */
	call_ok("flow.del", "{\"match\":{\"dl_type\":2048,\"nw_proto\":17,\"nw_dst\":\"10.1.0.1\"},"
		"\"strict\":true,\"priority\":20}");
	BOTH_HIT(8, 8);
	assert_int_equal(drain(p_o3), 0);
	assert_true(st.cache.hits - st0.cache.hits >= 8);
	/* The flow's own rule deleted: the catch-all drops it from the next packet on. */
	call_ok("flow.del", "{\"match\":{\"dl_type\":2048,\"nw_dst\":\"10.1.0.1\"},\"strict\":true,"
		"\"priority\":10}");
	BOTH_HIT(0, 8);
	assert_int_equal(st.cache.hits - st0.cache.hits, 8);
	psw_flow_table_stats(&f);
	assert_int_equal(f.global_bumps - f0.global_bumps, 0);
	assert_int_equal(f.view_publishes - f0.view_publishes, 0);
	assert_true(f.preempted > f0.preempted);
	/* in_port over the nw_dst rules: which of their flows it takes is beyond one lookup,
	 * so every cache forgets (and the flows follow it). */
	call_ok("flow.add", "{\"priority\":30,\"match\":{\"in_port\":\"in\"},"
		"\"actions\":[{\"type\":\"output\",\"port\":\"o3\"}]}");
	BOTH_HIT(0, 0);
	assert_int_equal(drain(p_o3), 16);
	psw_flow_table_stats(&f);
	assert_int_equal(f.global_bumps - f0.global_bumps, 1);
	call_ok("flow.clear", "{}");

	/* The L2 path: a rule deleted or preempted is not used from the memo. */
	call_ok("flow.add", "{\"rules\":[\"priority=10,in_port=in,actions=output:o1\","
		"\"priority=1,dl_dst=02:00:00:00:00:0b,actions=output:o2\"]}");
	assert_int_equal(psw_flow_view->shape, PSW_SHAPE_L2);
	send_burst(p_in, 32, 0x0a010001, MAC_A, MAC_B);
	send_burst(p_in, 32, 0x0a010001, MAC_A, MAC_B);
	assert_int_equal(drain(p_o1), 64);
	call_ok("flow.add", "{\"priority\":20,\"match\":{\"in_port\":\"in\",\"dl_dst\":\"02:00:00:00:00:0b\"},"
		"\"actions\":[{\"type\":\"output\",\"port\":\"o3\"}]}");
	send_burst(p_in, 32, 0x0a010001, MAC_A, MAC_B);
	assert_int_equal(drain(p_o3), 32);
	call_ok("flow.del", "{\"match\":{\"in_port\":\"in\"},\"strict\":true,\"priority\":10}");
	call_ok("flow.del", "{\"match\":{\"in_port\":\"in\",\"dl_dst\":\"02:00:00:00:00:0b\"},"
		"\"strict\":true,\"priority\":20}");
	send_burst(p_in, 32, 0x0a010001, MAC_A, MAC_B);
	assert_int_equal(drain(p_o2), 32);
	assert_int_equal(drain(p_o1) + drain(p_o3), 0);
	call_ok("flow.clear", "{}");
	psw_rcu_reclaim();
	assert_int_equal(rte_mempool_avail_count(mp), before);
#undef BOTH_HIT
}

/* Bulk strict deletes (flow.del "rules"): every entry checked first (the bad one named),
 * then all in one change; one named twice or not there is simply not counted. */
static void
test_del_many(void **state)
{
	json_t *r;

	(void)state;
	call_ok("flow.add", "{\"rules\":[\"priority=10,ip,nw_dst=10.1.0.1,actions=output:o1\","
		"\"priority=10,ip,nw_dst=10.1.0.2,actions=output:o1\","
		"\"priority=11,ip,nw_dst=10.1.0.2,actions=output:o2\","
		"\"priority=10,ip,nw_dst=10.1.0.3,actions=output:o1\"]}");
	call_fails("flow.del", "{\"rules\":[{\"match\":{\"dl_type\":2048,\"nw_dst\":\"10.1.0.1\"},"
		   "\"priority\":10},{\"match\":{\"nw_dst\":\"10.1.0.2\"}}]}", PSW_RPC_INVALID_PARAMS,
		   "rules[1].match.nw_dst");
	call_fails("flow.del", "{\"rules\":[{\"priority\":70000}]}", PSW_RPC_INVALID_PARAMS,
		   "rules[0].priority");
	call_fails("flow.del", "{\"rules\":[{\"bogus\":1}]}", PSW_RPC_INVALID_PARAMS,
		   "rules[0]: unknown parameter 'bogus'");
	call_fails("flow.del", "{\"rules\":[7]}", PSW_RPC_INVALID_PARAMS, "rules[0]");
	call_fails("flow.del", "{\"rules\":[],\"cookie\":1}", PSW_RPC_INVALID_PARAMS, "rules");
	assert_int_equal(n_flows(), 4);
	r = call("flow.del", "{\"rules\":[{\"match\":{\"dl_type\":2048,\"nw_dst\":\"10.1.0.1\"},"
		 "\"priority\":10},{\"match\":{\"dl_type\":2048,\"nw_dst\":\"10.1.0.2\"},\"priority\":11},"
		 "{\"match\":{\"dl_type\":2048,\"nw_dst\":\"10.1.0.1\"},\"priority\":10},"
		 "{\"match\":{\"dl_type\":2048,\"nw_dst\":\"10.9.9.9\"},\"priority\":10}]}");
	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r, "deleted")), 2);
	json_decref(r);
	assert_int_equal(n_flows(), 2);
	/* the one left at 10.1.0.2 is the priority-10 rule: traffic follows it */
	send_burst(p_in, 4, 0x0a010002, MAC_A, MAC_B);
	assert_int_equal(drain(p_o1), 4);
	call_ok("flow.clear", "{}");
	psw_rcu_reclaim();
}

/* The published view says which path the PMDs take: L2 only while every rule looks at
 * the Ethernet header only. */
static void
test_view_shape(void **state)
{
	char e[256];

	(void)state;
	call_ok("flow.clear", "{}");
	assert_int_equal(psw_flow_view->shape, PSW_SHAPE_L2);
	assert_int_equal(psw_flow_table_add_text("in_port=in,actions=output:o1", e, sizeof(e)), 0);
	assert_int_equal(psw_flow_view->shape, PSW_SHAPE_L2);
	assert_int_equal(psw_flow_table_add_text("priority=0,actions=normal", e, sizeof(e)), 0);
	assert_int_equal(psw_flow_view->shape, PSW_SHAPE_L2);
	assert_int_equal(psw_flow_table_add_text("priority=5,dl_dst=02:00:00:00:00:01,dl_vlan=3,"
						 "actions=pop_vlan,output:o2", e, sizeof(e)), 0);
	assert_int_equal(psw_flow_view->shape, PSW_SHAPE_L2);
	assert_int_equal(psw_flow_table_add_text("priority=7,ip,actions=drop", e, sizeof(e)), 0);
	assert_int_equal(psw_flow_view->shape, PSW_SHAPE_L2);
	assert_int_equal(psw_flow_table_add_text("priority=9,ip,nw_dst=10.0.0.1,actions=drop", e,
						 sizeof(e)), 0);
	assert_int_equal(psw_flow_view->shape, PSW_SHAPE_FULL);
	call_ok("flow.del", "{\"match\":{\"dl_type\":2048,\"nw_dst\":\"10.0.0.1\"}}");
	assert_int_equal(psw_flow_view->shape, PSW_SHAPE_L2);
	assert_int_equal(psw_flow_table_count(), 4);
	call_ok("flow.clear", "{}");
	psw_rcu_reclaim();
}

/* ---- property: the L2 fast path decides as the full path does ---- */

static uint64_t rng_state;

static uint32_t
rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static const char *const prop_macs[] = {
	"02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03", "ff:ff:ff:ff:ff:ff",
};

/* A random frame: MACs from a small pool, sometimes a VLAN tag, IPv4/UDP or ARP-ish,
 * now and then truncated or malformed (the full path drops those before any rule). */
static struct rte_mbuf *
prop_pkt(void)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *b;
	unsigned off = 12, len = 64, kind = rnd(16);

	assert_non_null(m);
	b = (uint8_t *)rte_pktmbuf_append(m, len);
	assert_non_null(b);
	memset(b, 0, len);
	rte_ether_unformat_addr(prop_macs[rnd(4)], (struct rte_ether_addr *)b);
	rte_ether_unformat_addr(prop_macs[rnd(3)], (struct rte_ether_addr *)(b + 6));
	if (rnd(3) == 0) {
		b[off] = 0x81;
		b[off + 1] = 0x00;
		b[off + 3] = (uint8_t)(1 + rnd(3));    /* VLAN 1..3 */
		off += 4;
	}
	if (rnd(4) == 0) {
		b[off] = 0x08;
		b[off + 1] = 0x06;
	} else {
		b[off] = 0x08;
		b[off + 1] = 0x00;
		b[off + 2] = kind == 0 ? 0x55 : 0x45;    /* kind 0: malformed */
		b[off + 4] = 0;
		b[off + 5] = 40;
		b[off + 11] = 17;
		b[off + 14] = 10;
		b[off + 17] = 1;
		b[off + 18] = 10;
		b[off + 21] = (uint8_t)rnd(4);
		b[off + 23] = (uint8_t)rnd(8);           /* UDP source port 0..7 */
		b[off + 25] = rnd(2) ? 53 : 80;          /* UDP destination port */
	}
	if (kind == 1)
		rte_pktmbuf_trim(m, len - 30);          /* truncated UDP */
	return m;
}

static const char *const prop_matches[] = {
	"", "in_port=in,", "in_port=o1,", "dl_dst=02:00:00:00:00:02,", "dl_src=02:00:00:00:00:01,",
	"dl_vlan=2,", "arp,", "ip,", "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,",
	"in_port=in,dl_vlan=1,", "dl_src=02:00:00:00:00:03,dl_dst=02:00:00:00:00:01,",
};
static const char *const prop_actions[] = {
	"normal", "output:o1", "output:o2", "drop", "push_vlan:7,output:o2", "pop_vlan,output:o1",
	"mod_dl_dst:02:00:00:00:00:09,output:o2", "output:o1,output:o2", "output:in",
	"pop_vlan,normal",
};

struct prop_out {
	uint64_t frames[4], digest[4];
	uint64_t drops[4][PSW_DROP_MAX];
	uint64_t rule_packets[8];
};

static void
prop_drain(int port, unsigned slot, struct prop_out *o)
{
	struct rte_mbuf *pkts[64];
	uint16_t n;

	while ((n = rte_eth_rx_burst(psw_ports[port].dpdk_port, 0, pkts, 64)) > 0) {
		for (uint16_t i = 0; i < n; i++) {
			const uint8_t *d = rte_pktmbuf_mtod(pkts[i], const uint8_t *);

			o->frames[slot]++;
			for (uint32_t j = 0; j < rte_pktmbuf_data_len(pkts[i]); j++)
				o->digest[slot] = (o->digest[slot] ^ d[j]) * 0x100000001b3ull;
		}
		rte_pktmbuf_free_bulk(pkts, n);
	}
}

/* One case in one mode: the rules, then the same packets (seeded) in a few bursts. full:
 * add a rule that matches nothing on L3 fields, so that the table takes the full path. */
static void
prop_run(uint64_t seed, char rules[][160], unsigned nr, bool full, struct prop_out *o)
{
	const int ports[4] = {p_in, p_o1, p_o2, p_o3};
	struct psw_pmd *pmd = psw_pmds[0];
	struct psw_dp_ctx *ctx = pmd->ctx;
	char e[256];
	json_t *r;

	memset(o, 0, sizeof(*o));
	call_ok("flow.clear", "{}");
	psw_l2_fdb_flush(0, PSW_PORT_NONE);
	psw_l2_learn_filter_init(&ctx->learn);
	for (unsigned i = 0; i < nr; i++)
		if (psw_flow_table_add_text(rules[i], e, sizeof(e)) != 0)
			fail_msg("%s: %s", rules[i], e);
	/* A rule no packet matches, on L3 fields: the table takes the full path. */
	if (full)
		assert_int_equal(psw_flow_table_add_text("priority=0,udp,nw_src=203.0.113.9,"
							 "actions=drop", e, sizeof(e)), 0);
	if (full || psw_flow_view->shape != PSW_SHAPE_FULL)
		assert_int_equal(psw_flow_view->shape, full ? PSW_SHAPE_FULL : PSW_SHAPE_L2);
	for (unsigned p = 0; p < 4; p++)
		for (unsigned d = 0; d < PSW_DROP_MAX; d++)
			o->drops[p][d] = drops(ports[p], (enum psw_drop_reason)d);
	rng_state = seed;
	for (unsigned b = 0; b < 6; b++) {
		struct rte_mbuf *pkts[PSW_BURST];
		uint16_t n = (uint16_t)rnd(PSW_BURST + 1);
		int in = rnd(4) == 0 ? p_o1 : rnd(8) == 0 ? p_o3 : p_in;
		/* Runs of equal frames, as real traffic has them. */
		for (uint16_t i = 0; i < n; i++) {
			uint64_t keep = rng_state;

			pkts[i] = prop_pkt();
			if (i + 1 < n && rnd(2))
				rng_state = keep;
		}
		psw_pmd_set_now(pmd, rte_rdtsc());
		psw_pipeline_burst(pmd, (uint16_t)in, pkts, n);
		psw_txq_flush_all(pmd);
		psw_l2_learn_drain();
	}
	for (unsigned p = 0; p < 4; p++) {
		prop_drain(ports[p], p, o);
		for (unsigned d = 0; d < PSW_DROP_MAX; d++)
			o->drops[p][d] = drops(ports[p], (enum psw_drop_reason)d) - o->drops[p][d];
	}
	r = flows();
	for (unsigned i = 0; i < nr; i++)
		o->rule_packets[i] = (uint64_t)json_integer_value(json_object_get(
			json_array_get(json_object_get(r, "flows"), i), "packets"));
	json_decref(r);
}

/* Randomized rule sets on Ethernet fields only, and random traffic: the L2 fast path and
 * the full path (forced by one extra rule that matches nothing) send the same frames to
 * the same ports, drop the same packets for the same reasons and count the same rule
 * hits; packets no rule takes go to the port's static output, when it has one. */
static void
test_l2_path_property(void **state)
{
	unsigned before = rte_mempool_avail_count(mp), cases = 300;
	struct prop_out a, b;
	char rules[8][160];

	(void)state;
	assert_int_equal(psw_l2_port_join(p_in, "n1"), 0);
	assert_int_equal(psw_l2_port_join(p_o1, "n1"), 0);
	assert_int_equal(psw_l2_port_join(p_o2, "n1"), 0);
	rng_state = 0x9e3779b97f4a7c15ull;
	for (unsigned c = 0; c < cases; c++) {
		unsigned nr = 1 + rnd(6);
		uint64_t seed;

		for (unsigned i = 0; i < nr; i++)
			snprintf(rules[i], sizeof(rules[i]), "priority=%u,%sactions=%s", rnd(4),
				 prop_matches[rnd(RTE_DIM(prop_matches))],
				 prop_actions[rnd(RTE_DIM(prop_actions))]);
		seed = rng_state | 1;
		/* No rule: the port's static output (or a hairpin) or a NO_RULE drop. */
		__atomic_store_n(&psw_ports[p_in].output, c % 3 ? (uint16_t)p_o2 : PSW_PORT_NONE,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&psw_ports[p_o1].output, c % 5 ? PSW_PORT_NONE : (uint16_t)p_o1,
				 __ATOMIC_RELAXED);
		prop_run(seed, rules, nr, false, &a);
		prop_run(seed, rules, nr, true, &b);
		rng_state = seed;
		rnd(2);
		if (memcmp(&a, &b, sizeof(a))) {
			for (unsigned i = 0; i < nr; i++)
				print_message("# rule %s\n", rules[i]);
			for (unsigned p = 0; p < 4; p++)
				print_message("# port %u: frames %lu / %lu\n", p,
					      (unsigned long)a.frames[p], (unsigned long)b.frames[p]);
			fail_msg("case %u: the L2 path and the full path differ", c);
		}
	}
	psw_ports[p_in].output = PSW_PORT_NONE;
	psw_ports[p_o1].output = PSW_PORT_NONE;
	call_ok("flow.clear", "{}");
	psw_l2_fdb_flush(0, PSW_PORT_NONE);
	psw_rcu_reclaim();
	assert_int_equal(rte_mempool_avail_count(mp), before);
}

static const char *const prop_l3_matches[] = {
	"ip,nw_dst=10.0.0.1,", "udp,tp_dst=53,", "ip,nw_src=10.0.0.0/8,", "udp,tp_src=3,",
	"udp,nw_dst=10.0.0.2,tp_dst=80,", "in_port=in,ip,nw_dst=10.0.0.0/31,",
	"dl_dst=02:00:00:00:00:02,udp,tp_src=5,",
};

/* The full path's cache keyed on the rules' mask union (plus what NORMAL needs) decides
 * as the cache keyed on whole keys: random rule sets on L2, L3 and L4 fields, random
 * traffic with several 5-tuples per MAC pair, both ways, same frames, drops and counts. */
static void
test_cache_mask_property(void **state)
{
	unsigned before = rte_mempool_avail_count(mp), masked = 0;
	struct prop_out a, b;
	char rules[8][160];

	(void)state;
	rng_state = 0x2545f4914f6cdd1dull;
	for (unsigned c = 0; c < 300; c++) {
		unsigned nr = 1 + rnd(6);
		uint64_t seed;

		for (unsigned i = 0; i < nr; i++)
			snprintf(rules[i], sizeof(rules[i]), "priority=%u,%sactions=%s", rnd(4),
				 i == 0 || rnd(2) ? prop_l3_matches[rnd(RTE_DIM(prop_l3_matches))]
						  : prop_matches[rnd(RTE_DIM(prop_matches))],
				 prop_actions[rnd(RTE_DIM(prop_actions))]);
		seed = rng_state | 1;
		__atomic_store_n(&psw_ports[p_in].output, c % 3 ? (uint16_t)p_o2 : PSW_PORT_NONE,
				 __ATOMIC_RELAXED);
		psw_flow_cache_masking = true;
		psw_pmds[0]->ctx->mask_on = 1;
		prop_run(seed, rules, nr, false, &a);
		assert_int_equal(psw_flow_view->shape, PSW_SHAPE_FULL);
		masked += psw_flow_view->cache_masked;
		psw_flow_cache_masking = false;
		prop_run(seed, rules, nr, false, &b);
		assert_int_equal(psw_flow_view->cache_masked, 0);
		psw_flow_cache_masking = true;
		rng_state = seed;
		rnd(2);
		if (memcmp(&a, &b, sizeof(a))) {
			for (unsigned i = 0; i < nr; i++)
				print_message("# rule %s\n", rules[i]);
			fail_msg("case %u: the masked cache and the whole-key cache differ", c);
		}
	}
	assert_true(masked > 250);
	psw_pmds[0]->ctx->mask_on = 0;
	psw_ports[p_in].output = PSW_PORT_NONE;
	call_ok("flow.clear", "{}");
	psw_l2_fdb_flush(0, PSW_PORT_NONE);
	psw_rcu_reclaim();
	assert_int_equal(rte_mempool_avail_count(mp), before);
}

static int
add_port(const char *name, const char *devargs)
{
	struct psw_port_conf c = { .output = PSW_PORT_NONE };
	char e[256];
	int rc;

	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(c.devargs, sizeof(c.devargs), "%s", devargs);
	rc = psw_port_add(&c, false, e, sizeof(e));
	if (rc < 0)
		print_message("# port_add %s: %s\n", name, e);
	return rc;
}

static int
setup(void **state)
{
	static char prefix[64];
	char *argv[] = {"test_flow_table", "-l", "0", "--no-huge", "--no-pci", "-m", "128",
			"--log-level", "error", "--file-prefix", prefix};
	unsigned lcore = 0;
	char e[256];

	(void)state;
	snprintf(prefix, sizeof(prefix), "test_flow_table_%d", (int)getpid());
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])), argv) < 0)
		return -1;
	if (psw_rcu_init(1) || psw_pmd_init(&lcore, 1, 0) || psw_port_init(1, 4096, 0))
		return -1;
	if (psw_startup_tables(256, 300, 0, e, sizeof(e)) != 0) {
		print_message("# %s\n", e);
		return -1;
	}
	mp = rte_mempool_lookup("psw_mbuf_0");
	p_in = add_port("in", "net_ring0");
	p_o1 = add_port("o1", "net_ring1");
	p_o2 = add_port("o2", "net_ring2");
	p_o3 = add_port("o3", "net_ring3");
	return mp && p_in >= 0 && p_o1 >= 0 && p_o2 >= 0 && p_o3 >= 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_list_canonical),
		cmocka_unit_test(test_bad_rules),
		cmocka_unit_test(test_del_semantics),
		cmocka_unit_test(test_pipeline_follows_table),
		cmocka_unit_test(test_pipeline_normal),
		cmocka_unit_test(test_cache_follows_change),
		cmocka_unit_test(test_del_many),
		cmocka_unit_test(test_view_shape),
		cmocka_unit_test(test_l2_path_property),
		cmocka_unit_test(test_cache_mask_property),
	};
	int rc = cmocka_run_group_tests(tests, setup, NULL);
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", rte_eal_get_runtime_dir());
	psw_startup_tables_fini();
	psw_port_del_all();
	psw_pmd_fini();
	psw_rcu_fini();
	rte_eal_cleanup();
	if (strstr(cmd, "test_flow_table_") && system(cmd) != 0)
		rc = rc ? rc : 1;
	return rc;
}
