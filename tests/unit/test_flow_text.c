/*
 * test_flow_text.c: the ovs-ofctl-like rule text (ctl/flow_text.c). Round trips text ->
 * JSON -> text, the exact JSON each form maps to, and every class of error with the
 * field it must name.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "ctl/flow_text.h"

static char *
round_trip(const char *text, enum psw_flow_text_mode mode)
{
	char err[256] = "";
	json_t *j = psw_flow_text_parse(text, mode, err, sizeof(err));
	char *out;

	if (!j)
		fail_msg("parse '%s': %s", text, err);
	out = mode == PSW_FT_PACKET ? psw_flow_text_format_match(j) : psw_flow_text_format(j);
	assert_non_null(out);
	json_decref(j);
	return out;
}

static void
expect_text(const char *in, const char *want, enum psw_flow_text_mode mode)
{
	char *out = round_trip(in, mode);
	char *again;

	assert_string_equal(out, want);
	/* The canonical form is a fixed point. */
	again = round_trip(out, mode);
	assert_string_equal(again, want);
	free(again);
	free(out);
}

static void
expect_json(const char *text, enum psw_flow_text_mode mode, const char *want_json)
{
	char err[256] = "";
	json_t *j = psw_flow_text_parse(text, mode, err, sizeof(err));
	json_t *want = json_loads(want_json, 0, NULL);

	assert_non_null(want);
	if (!j)
		fail_msg("parse '%s': %s", text, err);
	if (!json_equal(j, want)) {
		char *got = json_dumps(j, JSON_SORT_KEYS);

		fail_msg("'%s' -> %s, want %s", text, got, want_json);
	}
	json_decref(j);
	json_decref(want);
}

static void
expect_error(const char *text, enum psw_flow_text_mode mode, const char *needle)
{
	char err[256] = "";
	json_t *j = psw_flow_text_parse(text, mode, err, sizeof(err));

	if (j) {
		json_decref(j);
		fail_msg("'%s' parsed, expected an error naming '%s'", text, needle);
	}
	if (!strstr(err, needle))
		fail_msg("'%s': error '%s' does not name '%s'", text, err, needle);
}

static void
test_issue_example(void **state)
{
	(void)state;
	expect_json("priority=100,in_port=pod1,ip,nw_dst=10.1.0.0/16,actions=output:uplink",
		    PSW_FT_RULE,
		    "{\"priority\":100,\"match\":{\"in_port\":\"pod1\",\"dl_type\":2048,"
		    "\"nw_dst\":\"10.1.0.0/16\"},\"actions\":[{\"type\":\"output\","
		    "\"port\":\"uplink\"}]}");
	expect_text("priority=100,in_port=pod1,ip,nw_dst=10.1.0.0/16,actions=output:uplink",
		    "priority=100,in_port=pod1,ip,nw_dst=10.1.0.0/16,actions=output:uplink",
		    PSW_FT_RULE);
}

static void
test_round_trips(void **state)
{
	(void)state;
	expect_text("priority=0,actions=normal", "priority=0,actions=normal", PSW_FT_RULE);
	expect_text("actions=drop", "actions=drop", PSW_FT_RULE);
	/* Blanks separate too; field order is canonicalised; MACs are lower-cased. */
	expect_text("tcp  tp_dst=80 in_port=a priority=5 actions=output:b output:c",
		    "priority=5,in_port=a,tcp,tp_dst=80,actions=output:b,output:c", PSW_FT_RULE);
	expect_text("dl_dst=AA:BB:CC:DD:EE:FF/FF:FF:FF:00:00:00,dl_src=02:00:00:00:00:01,"
		    "dl_vlan=10,actions=pop_vlan,normal",
		    "dl_src=02:00:00:00:00:01,dl_dst=aa:bb:cc:dd:ee:ff/ff:ff:ff:00:00:00,"
		    "dl_vlan=10,actions=pop_vlan,normal", PSW_FT_RULE);
	expect_text("cookie=0x2a,priority=7,udp6,ipv6_dst=fd00::/64,ipv6_src=fd00::1,tp_src=53,"
		    "actions=mod_dl_src:02:00:00:00:00:aa,mod_dl_dst:02:00:00:00:00:bb,"
		    "push_vlan:100,output:up",
		    "priority=7,cookie=0x2a,udp6,ipv6_src=fd00::1,ipv6_dst=fd00::/64,tp_src=53,"
		    "actions=mod_dl_src:02:00:00:00:00:aa,mod_dl_dst:02:00:00:00:00:bb,"
		    "push_vlan:100,output:up", PSW_FT_RULE);
	/* Each shorthand comes back as itself. */
	expect_text("ip,actions=drop", "ip,actions=drop", PSW_FT_RULE);
	expect_text("ipv6,actions=drop", "ipv6,actions=drop", PSW_FT_RULE);
	expect_text("arp,actions=drop", "arp,actions=drop", PSW_FT_RULE);
	expect_text("tcp,actions=drop", "tcp,actions=drop", PSW_FT_RULE);
	expect_text("udp,actions=drop", "udp,actions=drop", PSW_FT_RULE);
	expect_text("icmp,icmp_type=8,actions=drop", "icmp,icmp_type=8,actions=drop", PSW_FT_RULE);
	expect_text("tcp6,actions=drop", "tcp6,actions=drop", PSW_FT_RULE);
	expect_text("udp6,actions=drop", "udp6,actions=drop", PSW_FT_RULE);
	expect_text("icmp6,actions=drop", "icmp6,actions=drop", PSW_FT_RULE);
	/* Spelled-out forms fold into shorthands; others stay numeric. */
	expect_text("dl_type=0x0800,nw_proto=6,actions=drop", "tcp,actions=drop", PSW_FT_RULE);
	expect_text("dl_type=2048,nw_proto=47,actions=drop", "ip,nw_proto=47,actions=drop",
		    PSW_FT_RULE);
	expect_text("dl_type=0x88cc,actions=drop", "dl_type=0x88cc,actions=drop", PSW_FT_RULE);
	/* Aliases; strip_vlan and mod_vlan_vid map to pop_vlan and push_vlan. */
	expect_text("eth_dst=02:00:00:00:00:01,ip,ip_src=1.2.3.4,udp_dst=9,ip_proto=17,"
		    "tunnel_id=5,actions=strip_vlan,mod_vlan_vid:3",
		    "dl_dst=02:00:00:00:00:01,udp,nw_src=1.2.3.4,tp_dst=9,tun_id=5,"
		    "actions=pop_vlan,push_vlan:3", PSW_FT_RULE);
	expect_text("ip,actions=encap_vxlan:100@192.0.2.1,output:up",
		    "ip,actions=encap_vxlan:100@192.0.2.1,output:up", PSW_FT_RULE);
	expect_text("tun_id=100,actions=decap_vxlan,normal", "tun_id=100,actions=decap_vxlan,normal",
		    PSW_FT_RULE);
	expect_text("ip,nw_src=10.0.0.0/255.0.0.0,actions=drop",
		    "ip,nw_src=10.0.0.0/255.0.0.0,actions=drop", PSW_FT_RULE);
}

static void
test_match_and_packet(void **state)
{
	(void)state;
	expect_json("in_port=pod1,ip", PSW_FT_MATCH,
		    "{\"match\":{\"in_port\":\"pod1\",\"dl_type\":2048}}");
	expect_json("priority=9,cookie=0x10", PSW_FT_MATCH,
		    "{\"priority\":9,\"cookie\":16,\"match\":{}}");
	expect_json("", PSW_FT_MATCH, "{\"match\":{}}");
	expect_json("in_port=pod1,dl_dst=02:00:00:00:00:02,tcp,nw_dst=10.0.0.2,tp_dst=80",
		    PSW_FT_PACKET,
		    "{\"in_port\":\"pod1\",\"dl_dst\":\"02:00:00:00:00:02\",\"dl_type\":2048,"
		    "\"nw_proto\":6,\"nw_dst\":\"10.0.0.2\",\"tp_dst\":80}");
	expect_text("tp_dst=80,in_port=p,tcp", "in_port=p,tcp,tp_dst=80", PSW_FT_PACKET);
	/* Bounds are inclusive. */
	expect_json("dl_vlan=4095,tp_src=65535,nw_proto=255,priority=65535,actions=drop",
		    PSW_FT_RULE,
		    "{\"priority\":65535,\"match\":{\"dl_vlan\":4095,\"tp_src\":65535,"
		    "\"nw_proto\":255},\"actions\":[{\"type\":\"drop\"}]}");
}

static void
test_errors(void **state)
{
	(void)state;
	/* Unknown names. */
	expect_error("foo=1,actions=drop", PSW_FT_RULE, "unknown field 'foo'");
	expect_error("bogus,actions=drop", PSW_FT_RULE, "unknown field 'bogus'");
	expect_error("actions=frobnicate", PSW_FT_RULE, "unknown action 'frobnicate'");
	/* Structure. */
	expect_error("priority=1,ip", PSW_FT_RULE, "missing 'actions='");
	expect_error("actions=", PSW_FT_RULE, "'actions=' is empty");
	expect_error("ip,actions=drop", PSW_FT_MATCH, "'actions=' not allowed");
	expect_error("ip,actions=drop", PSW_FT_PACKET, "'actions=' not allowed");
	expect_error("priority=1", PSW_FT_PACKET, "'priority' is not a packet field");
	expect_error("nw_dst,actions=drop", PSW_FT_RULE, "field 'nw_dst' needs a value");
	expect_error("in_port=,actions=drop", PSW_FT_RULE, "field 'in_port' has an empty value");
	expect_error("in_port=a,in_port=b,actions=drop", PSW_FT_RULE, "field 'in_port' given twice");
	expect_error("tcp_dst=1,udp_dst=2,actions=drop", PSW_FT_RULE, "field 'tp_dst' given twice");
	expect_error("priority=1,priority=2,actions=drop", PSW_FT_RULE, "field 'priority' given twice");
	/* Numbers and ranges. */
	expect_error("priority=65536,actions=drop", PSW_FT_RULE, "field 'priority'");
	expect_error("priority=-1,actions=drop", PSW_FT_RULE, "field 'priority'");
	expect_error("dl_vlan=4096,actions=drop", PSW_FT_RULE, "field 'dl_vlan'");
	expect_error("tp_dst=80x,actions=drop", PSW_FT_RULE, "field 'tp_dst'");
	expect_error("nw_proto=256,actions=drop", PSW_FT_RULE, "field 'nw_proto'");
	expect_error("dl_type=0x,actions=drop", PSW_FT_RULE, "field 'dl_type'");
	expect_error("cookie=abc,actions=drop", PSW_FT_RULE, "field 'cookie'");
	/* Addresses and prefixes. */
	expect_error("dl_src=02:00:00:00:00,actions=drop", PSW_FT_RULE, "field 'dl_src': bad MAC");
	expect_error("dl_dst=02:00:00:00:00:0g,actions=drop", PSW_FT_RULE, "field 'dl_dst'");
	expect_error("dl_dst=02:00:00:00:00:01/ff,actions=drop", PSW_FT_RULE, "field 'dl_dst'");
	expect_error("ip,nw_dst=10.1.0.0/33,actions=drop", PSW_FT_RULE, "field 'nw_dst'");
	expect_error("ip,nw_src=10.1.0/8,actions=drop", PSW_FT_RULE, "field 'nw_src'");
	expect_error("ip,nw_src=fd00::1,actions=drop", PSW_FT_RULE, "field 'nw_src'");
	expect_error("ipv6,ipv6_dst=fd00::/129,actions=drop", PSW_FT_RULE, "field 'ipv6_dst'");
	expect_error("ipv6,ipv6_src=10.0.0.1,actions=drop", PSW_FT_RULE, "field 'ipv6_src'");
	expect_error("ip,nw_dst=10.0.0.0/8", PSW_FT_PACKET, "field 'nw_dst'");
	expect_error("dl_dst=02:00:00:00:00:01/ff:ff:ff:ff:ff:ff", PSW_FT_PACKET, "no mask");
	/* Shorthand conflicts. */
	expect_error("ipv6,tcp,actions=drop", PSW_FT_RULE, "'tcp' conflicts with dl_type");
	expect_error("udp,tcp,actions=drop", PSW_FT_RULE, "'tcp' conflicts with nw_proto");
	expect_error("dl_type=0x0806,ip,actions=drop", PSW_FT_RULE, "'ip' conflicts");
	/* Action arguments. */
	expect_error("actions=output", PSW_FT_RULE, "action 'output' needs an argument");
	expect_error("actions=output:", PSW_FT_RULE, "action 'output' needs an argument");
	expect_error("actions=drop:1", PSW_FT_RULE, "action 'drop' takes no argument");
	expect_error("actions=mod_dl_src:zz", PSW_FT_RULE, "action 'mod_dl_src': bad MAC");
	expect_error("actions=push_vlan:5000", PSW_FT_RULE, "action 'push_vlan'");
	expect_error("actions=mod_vlan_vid:x", PSW_FT_RULE, "action 'mod_vlan_vid'");
	expect_error("actions=encap_vxlan:16777216", PSW_FT_RULE, "action 'encap_vxlan': VNI");
	expect_error("actions=encap_vxlan:5@nowhere", PSW_FT_RULE, "bad remote 'nowhere'");
	/* Port names. */
	expect_error("in_port=a\"b,actions=drop", PSW_FT_RULE, "field 'in_port': bad port name");
	expect_error("in_port=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,"
		     "actions=drop", PSW_FT_RULE, "field 'in_port'");
}

static void
test_format_rejects(void **state)
{
	json_t *j;

	(void)state;
	j = json_loads("{\"match\":{\"bogus\":1},\"actions\":[]}", 0, NULL);
	assert_null(psw_flow_text_format(j));
	json_decref(j);
	j = json_loads("{\"actions\":[{\"type\":\"output\"}]}", 0, NULL);
	assert_null(psw_flow_text_format(j));
	json_decref(j);
	j = json_loads("[{\"type\":\"normal\"},{\"type\":\"output\",\"port\":\"x\"}]", 0, NULL);
	{
		char *s = psw_flow_text_format_actions(j);

		assert_string_equal(s, "normal,output:x");
		free(s);
	}
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue_example),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_match_and_packet),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_format_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
