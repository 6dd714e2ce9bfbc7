/*
 * cmd_uplink.c: podswitchctl's uplink and neigh commands, clients of uplink.* and neigh.*
 * (switch/neigh/rpc_neigh.c). Runs in the podswitchctl process.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "podswitchctl.h"

static int
uplink_set(struct psw_client *c, int argc, char **argv, bool json)
{
	static const struct option opts[] = {
		{"ip", required_argument, NULL, 'i'},
		{"gateway", required_argument, NULL, 'g'},
		{"ip6", required_argument, NULL, '6'},
		{"gateway6", required_argument, NULL, 'G'},
		{NULL, 0, NULL, 0}
	};
	static const char *const keys[128] = {['i'] = "ip", ['g'] = "gateway", ['6'] = "ip6",
					      ['G'] = "gateway6"};
	json_t *params = json_object();
	int opt;

	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (opt < 0 || opt >= 128 || keys[opt] == NULL) {
			json_decref(params);
			return psw_ctl_bad_option(opt, argv);
		}
		json_object_set_new(params, keys[opt], json_string(optarg));
	}
	if (argc - optind != 1) {
		json_decref(params);
		return psw_ctl_usage("uplink set wants one PORT");
	}
	json_object_set_new(params, "port", json_string(argv[optind]));
	return psw_ctl_simple(c, "uplink.set", params, json, NULL);
}

static int
uplink_show(struct psw_client *c, int argc, char **argv, bool json)
{
	static const char *const keys[] = {"port", "mac", "mtu", "ip", "gateway", "ip6",
					   "gateway6", "requests", "learned", "held", "sent_held",
					   "dropped", "lost_events", NULL};
	json_t *r;
	int rc;

	if ((rc = psw_ctl_no_args(argc, argv)) != 0)
		return rc;
	r = psw_ctl_call(c, "uplink.show", NULL);
	if (!r)
		return 1;
	if (json) {
		psw_ctl_print_json(r);
	} else if (json_is_null(json_object_get(r, "port"))) {
		printf("no uplink\n");
	} else {
		for (const char *const *k = keys; *k; k++) {
			char b[256];

			if (json_object_get(r, *k))
				psw_ctl_kv_print(stdout, *k, "%s",
						 psw_ctl_str(json_object_get(r, *k), b, sizeof(b)));
		}
	}
	json_decref(r);
	return 0;
}

static int
uplink_clear(struct psw_client *c, int argc, char **argv, bool json)
{
	int rc;

	if ((rc = psw_ctl_no_args(argc, argv)) != 0)
		return rc;
	return psw_ctl_simple(c, "uplink.clear", NULL, json, NULL);
}

static const char *
neigh_age(json_t *e, char *buf, size_t len)
{
	snprintf(buf, len, "%.0fs", json_real_value(json_object_get(e, "age_s")));
	return buf;
}

static int
neigh_list(struct psw_client *c, int argc, char **argv, bool json)
{
	static const struct psw_ctl_col cols[] = {
		{"IP", "ip", NULL}, {"MAC", "mac", NULL}, {"STATE", "state", NULL},
		{"AGE", NULL, neigh_age}, {"PROBES", "probes", NULL}, {"HELD", "held", NULL},
		{"DROPPED", "dropped", NULL},
	};
	int rc;

	if ((rc = psw_ctl_no_args(argc, argv)) != 0)
		return rc;
	return psw_ctl_list(c, "neigh.list", NULL, json, "neighbors", cols, 7);
}

static int
neigh_add(struct psw_client *c, int argc, char **argv, bool json)
{
	if (psw_ctl_no_options(argc, argv))
		return 2;
	if (argc - optind != 2)
		return psw_ctl_usage("neigh add wants IP MAC");
	return psw_ctl_simple(c, "neigh.add", json_pack("{ss ss}", "ip", argv[optind], "mac",
						   argv[optind + 1]), json, NULL);
}

static int
neigh_del(struct psw_client *c, int argc, char **argv, bool json)
{
	if (psw_ctl_no_options(argc, argv))
		return 2;
	if (argc - optind != 1)
		return psw_ctl_usage("neigh del wants one IP");
	return psw_ctl_simple(c, "neigh.del", json_pack("{ss}", "ip", argv[optind]), json, NULL);
}

static int
neigh_flush(struct psw_client *c, int argc, char **argv, bool json)
{
	int rc;

	if ((rc = psw_ctl_no_args(argc, argv)) != 0)
		return rc;
	return psw_ctl_simple(c, "neigh.flush", NULL, json, NULL);
}

const struct psw_cmd psw_cmds_uplink[] = {
	{"uplink", "set", "PORT [--ip IP/LEN] [--gateway IP] [--ip6 IP6/LEN] [--gateway6 IP6]",
	 "Make PORT the uplink, with this node's underlay addresses (podswitchd answers ARP "
	 "and ND for them).", uplink_set},
	{"uplink", "show", "", "The uplink, its addresses and the next-hop resolver's counters.",
	 uplink_show},
	{"uplink", "clear", "", "No uplink any more.", uplink_clear},
	{"neigh", "list", "", "Next hops on the underlay: address, MAC, state, age, packets held.",
	 neigh_list},
	{"neigh", "add", "IP MAC", "A static next hop (never asked or aged; saved).", neigh_add},
	{"neigh", "del", "IP", "Forget a next hop.", neigh_del},
	{"neigh", "flush", "", "Forget every learned next hop.", neigh_flush},
	{NULL}
};
