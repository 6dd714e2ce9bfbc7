/*
 * cmd_network.c: podswitchctl's network and fdb commands, clients of network.* and fdb.*
 * (switch/l2/rpc_network.c, switch/tunnel/rpc_tunnel.c). Runs in the podswitchctl process.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "podswitchctl.h"

/* "a,b,c" -> ["a","b","c"] */
static json_t *
list_arg(const char *s)
{
	json_t *a = json_array();
	char *copy = strdup(s), *save = NULL;

	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		json_array_append_new(a, json_string(t));
	free(copy);
	return a;
}

static int
network_add(struct psw_client *c, int argc, char **argv, bool json)
{
	static const struct option opts[] = {
		{"vxlan", required_argument, NULL, 'x'},
		{"port", required_argument, NULL, 'p'},
		{"peers", required_argument, NULL, 'P'},
		{"vlan", required_argument, NULL, 'v'},
		{"gateway", required_argument, NULL, 'g'},
		{NULL, 0, NULL, 0}
	};
	json_t *params = json_object();
	uint64_t u;
	int opt;

	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (opt) {
		case 'x':
		case 'p':
		case 'v':
			if (psw_ctl_parse_uint(opt == 'x' ? "--vxlan" : opt == 'p' ? "--port" : "--vlan",
					       optarg, opt == 'x' ? 0xffffff : opt == 'p' ? 65535 : 4094,
					       &u) != 0) {
				json_decref(params);
				return 2;
			}
			json_object_set_new(params, opt == 'x' ? "vxlan" : opt == 'p' ? "udp_port" : "vlan",
					    json_integer((json_int_t)u));
			break;
		case 'P':
			json_object_set_new(params, "peers", list_arg(optarg));
			break;
		case 'g':
			json_object_set_new(params, "gateway", json_string(optarg));
			break;
		default:
			json_decref(params);
			return psw_ctl_bad_option(opt, argv);
		}
	}
	if (argc - optind != 1) {
		json_decref(params);
		return psw_ctl_usage("network add wants one NAME");
	}
	json_object_set_new(params, "name", json_string(argv[optind]));
	return psw_ctl_simple(c, "network.add", params, json, NULL);
}

static int
network_peer(struct psw_client *c, int argc, char **argv, bool json)
{
	const char *verb;

	if (psw_ctl_no_options(argc, argv))
		return 2;
	if (argc - optind != 3 || (strcmp(argv[optind], "add") && strcmp(argv[optind], "del")))
		return psw_ctl_usage("network peer wants add|del NETWORK ADDRESS");
	verb = argv[optind];
	return psw_ctl_simple(c, verb[0] == 'a' ? "network.peer_add" : "network.peer_del",
		      json_pack("{ss ss}", "network", argv[optind + 1], "peer", argv[optind + 2]),
		      json, NULL);
}

static int
network_del(struct psw_client *c, int argc, char **argv, bool json)
{
	if (psw_ctl_no_options(argc, argv))
		return 2;
	if (argc - optind != 1)
		return psw_ctl_usage("network del wants one NAME");
	return psw_ctl_simple(c, "network.del", json_pack("{ss}", "name", argv[optind]), json, NULL);
}

static int
network_join(struct psw_client *c, int argc, char **argv, bool json)
{
	if (psw_ctl_no_options(argc, argv))
		return 2;
	if (argc - optind != 2)
		return psw_ctl_usage("network join wants NETWORK PORT");
	return psw_ctl_simple(c, "network.join", json_pack("{ss ss}", "network", argv[optind],
						   "port", argv[optind + 1]), json, NULL);
}

static int
network_leave(struct psw_client *c, int argc, char **argv, bool json)
{
	if (psw_ctl_no_options(argc, argv))
		return 2;
	if (argc - optind != 1)
		return psw_ctl_usage("network leave wants one PORT");
	return psw_ctl_simple(c, "network.leave", json_pack("{ss}", "port", argv[optind]), json, NULL);
}

static const char *
net_transport(json_t *n, char *buf, size_t len)
{
	if (json_object_get(n, "vxlan"))
		snprintf(buf, len, "vxlan %" JSON_INTEGER_FORMAT " (%zu peers)",
			 json_integer_value(json_object_get(n, "vxlan")),
			 json_array_size(json_object_get(n, "peers")));
	else if (json_object_get(n, "vlan"))
		snprintf(buf, len, "vlan %" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(n, "vlan")));
	else
		snprintf(buf, len, "-");
	return buf;
}

static int
network_list(struct psw_client *c, int argc, char **argv, bool json)
{
	static const struct psw_ctl_col cols[] = {
		{"NAME", "name", NULL}, {"ID", "id", NULL}, {"TRANSPORT", NULL, net_transport},
		{"MTU", "mtu", NULL}, {"GATEWAY", "gateway", NULL}, {"PORTS", "ports", NULL},
		{"MACS", "macs", NULL},
	};
	int rc;

	if ((rc = psw_ctl_no_args(argc, argv)) != 0)
		return rc;
	return psw_ctl_list(c, "network.list", NULL, json, "networks", cols, 7);
}

static const char *
fdb_type(json_t *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s", json_is_true(json_object_get(e, "static")) ? "static" : "learned");
	return buf;
}

/* An optional NETWORK argument as the "network" parameter; NULL after a usage error. */
static json_t *
network_param(int argc, char **argv, const char *what)
{
	if (psw_ctl_no_options(argc, argv))
		return NULL;
	if (argc - optind > 1) {
		psw_ctl_usage("%s takes at most one NETWORK", what);
		return NULL;
	}
	return argc - optind == 1 ? json_pack("{ss}", "network", argv[optind]) : json_object();
}

static int
fdb_list(struct psw_client *c, int argc, char **argv, bool json)
{
	static const struct psw_ctl_col cols[] = {
		{"NETWORK", "network", NULL}, {"MAC", "mac", NULL}, {"PORT", "port", NULL},
		{"TYPE", NULL, fdb_type}, {"AGE", "age_s", NULL},
	};
	json_t *params = network_param(argc, argv, "fdb list");

	return params ? psw_ctl_list(c, "fdb.list", params, json, "entries", cols, 5) : 2;
}

static int
fdb_add(struct psw_client *c, int argc, char **argv, bool json)
{
	if (psw_ctl_no_options(argc, argv))
		return 2;
	if (argc - optind != 3)
		return psw_ctl_usage("fdb add wants NETWORK MAC PORT");
	return psw_ctl_simple(c, "fdb.add", json_pack("{ss ss ss}", "network", argv[optind],
					      "mac", argv[optind + 1], "port", argv[optind + 2]),
		      json, NULL);
}

static int
fdb_flush(struct psw_client *c, int argc, char **argv, bool json)
{
	static const struct option opts[] = {
		{"port", required_argument, NULL, 'p'},
		{NULL, 0, NULL, 0}
	};
	json_t *params = json_object(), *r;
	int opt;

	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (opt != 'p') {
			json_decref(params);
			return psw_ctl_bad_option(opt, argv);
		}
		json_object_set_new(params, "port", json_string(optarg));
	}
	if (argc - optind > 1) {
		json_decref(params);
		return psw_ctl_usage("fdb flush takes at most one NETWORK");
	}
	if (argc - optind == 1)
		json_object_set_new(params, "network", json_string(argv[optind]));
	r = psw_ctl_call(c, "fdb.flush", params);
	if (!r)
		return 1;
	if (json)
		psw_ctl_print_json(r);
	else
		printf("flushed %" JSON_INTEGER_FORMAT " entr%s\n",
		       json_integer_value(json_object_get(r, "flushed")),
		       json_integer_value(json_object_get(r, "flushed")) == 1 ? "y" : "ies");
	json_decref(r);
	return 0;
}

static const char *
bind_source(json_t *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s", json_is_true(json_object_get(e, "learned")) ? "learned" : "port");
	return buf;
}

static const char *
bind_age(json_t *e, char *buf, size_t len)
{
	if (!json_is_true(json_object_get(e, "learned")))
		return "-";
	return psw_ctl_str(json_object_get(e, "age_s"), buf, len);
}

static int
network_bindings(struct psw_client *c, int argc, char **argv, bool json)
{
	static const struct psw_ctl_col cols[] = {
		{"NETWORK", "network", NULL}, {"IP", "ip", NULL}, {"MAC", "mac", NULL},
		{"PORT", "port", NULL}, {"SOURCE", NULL, bind_source}, {"AGE", NULL, bind_age},
	};
	json_t *params = network_param(argc, argv, "network bindings");

	return params ? psw_ctl_list(c, "network.bindings", params, json, "bindings", cols, 6)
		      : 2;
}

const struct psw_cmd psw_cmds_network[] = {
	{"network", "add", "NAME [--vxlan VNI [--port UDP] [--peers IP,...] | --vlan ID] "
	 "[--gateway IP/LEN]",
	 "Create a network (an isolated L2 domain for action normal), with its transport to "
	 "other nodes.", network_add},
	{"network", "peer", "add|del NETWORK ADDRESS", "Add or remove a VXLAN peer (a node's "
	 "underlay address).", network_peer},
	{"network", "del", "NAME", "Delete a network that has no ports.", network_del},
	{"network", "list", "", "List networks with their ports and learned MACs.", network_list},
	{"network", "join", "NETWORK PORT", "Move a port into a network.", network_join},
	{"network", "bindings", "[NETWORK]", "IP -> MAC bindings ARP/ND suppression answers "
	 "from: pods' addresses and those learned from other nodes.", network_bindings},
	{"network", "leave", "PORT", "Take a port out of its network.", network_leave},
	{"fdb", "list", "[NETWORK]", "List learned MAC addresses.", fdb_list},
	{"fdb", "add", "NETWORK MAC PORT", "Add a static MAC entry (never aged or moved).", fdb_add},
	{"fdb", "flush", "[NETWORK] [--port PORT]", "Forget MAC addresses (static ones too).",
	 fdb_flush},
	{NULL}
};
