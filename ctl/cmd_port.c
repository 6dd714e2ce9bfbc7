/*
 * cmd_port.c: podswitchctl's port commands (add, del, set, list, show), clients of the
 * port.* methods (switch/rpc_port.c). Runs in the podswitchctl process, never in the
 * switch. Human output is a table or key/value lines; --json prints the reply as sent.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "podswitchctl.h"

/* --rxq-pmd Q:CORE[,Q:CORE...] (or "none") -> rxq_pmd {"Q": CORE, ...}. */
static int parse_rxq_pmd(const char *s, json_t *params)
{
	json_t *o = json_object();
	char *copy = strdup(s), *save = NULL, *tok;
	int rc = 0;

	if (copy == NULL || !strcmp(s, "none") || !*s)
		goto done;
	for (tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		uint64_t q, core;

		if (colon == NULL) {
			rc = psw_ctl_usage("--rxq-pmd: '%s' is not QUEUE:CORE", tok);
			break;
		}
		*colon = '\0';
		if (psw_ctl_parse_uint("--rxq-pmd queue", tok, 15, &q) < 0 ||
		    psw_ctl_parse_uint("--rxq-pmd core", colon + 1, 1023, &core) < 0) {
			rc = 2;
			break;
		}
		char key[8];
		snprintf(key, sizeof(key), "%" PRIu64, q);
		json_object_set_new(o, key, json_integer((json_int_t)core));
	}
done:
	free(copy);
	if (rc == 0)
		json_object_set(params, "rxq_pmd", o);
	json_decref(o);
	return rc;
}

static int port_add(struct psw_client *c, int argc, char **argv, bool json)
{
	static const struct option opts[] = {
		{"devargs", required_argument, NULL, 'd'},
		{"type", required_argument, NULL, 't'},
		{"output", required_argument, NULL, 'o'},
		{"rxq", required_argument, NULL, 'r'},
		{"txq", required_argument, NULL, 'T'},
		{"mtu", required_argument, NULL, 'm'},
		{"mac", required_argument, NULL, 'M'},
		{"network", required_argument, NULL, 'n'},
		{"option", required_argument, NULL, 'O'},
		{"external-id", required_argument, NULL, 'e'},
		{"pod-mac", required_argument, NULL, 'A'},
		{"pod-ip", required_argument, NULL, 'I'},
		{"rxq-pmd", required_argument, NULL, 'P'},
		{NULL, 0, NULL, 0}
	};
	json_t *params = json_object(), *options = json_object(), *ext = json_object();
	json_t *addrs = json_object(), *ips = json_array();
	json_t *r;
	uint64_t v;
	int opt, rc = 2;

	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		const char *name = opt == 'r' ? "--rxq" : opt == 'T' ? "--txq" : "--mtu";
		switch (opt) {
		case 'd':
			json_object_set_new(params, "devargs", json_string(optarg));
			break;
		case 't':
			json_object_set_new(params, "type", json_string(optarg));
			break;
		case 'o':
			json_object_set_new(params, "output", json_string(optarg));
			break;
		case 'M':
			json_object_set_new(params, "mac", json_string(optarg));
			break;
		case 'n':
			json_object_set_new(params, "network", json_string(optarg));
			break;
		case 'r':
		case 'T':
		case 'm':
			if (psw_ctl_parse_uint(name, optarg, 65535, &v) < 0)
				goto out;
			json_object_set_new(params, opt == 'r' ? "rxq" : opt == 'T' ? "txq" : "mtu",
					    json_integer((json_int_t)v));
			break;
		case 'O':
			if (psw_ctl_parse_kv("--option", optarg, options) < 0)
				goto out;
			break;
		case 'e':
			if (psw_ctl_parse_kv("--external-id", optarg, ext) < 0)
				goto out;
			break;
		case 'A':
			json_object_set_new(addrs, "mac", json_string(optarg));
			break;
		case 'I':
			json_array_append_new(ips, json_string(optarg));
			break;
		case 'P':
			if (parse_rxq_pmd(optarg, params) != 0)
				goto out;
			break;
		default:
			psw_ctl_bad_option(opt, argv);
			goto out;
		}
	}
	if (json_object_size(addrs) || json_array_size(ips)) {
		json_object_set(addrs, "ips", ips);
		json_object_set(params, "addresses", addrs);
	}
	if (argc - optind < 1) {
		psw_ctl_usage("port add wants a port NAME");
		goto out;
	}
	if (argc - optind > 1) {
		psw_ctl_usage("port add takes one NAME, got '%s' too", argv[optind + 1]);
		goto out;
	}
	json_object_set_new(params, "name", json_string(argv[optind]));
	if (json_object_size(options))
		json_object_set(params, "options", options);
	if (json_object_size(ext))
		json_object_set(params, "external_ids", ext);

	r = psw_ctl_call(c, "port.add", params);
	params = NULL;
	if (!r) {
		rc = 1;
		goto out;
	}
	if (json) {
		rc = psw_ctl_print_json(r);
	} else {
		char id[32], drv[64];
		printf("added port %s (id %s, driver %s)\n", argv[optind],
		       psw_ctl_str(json_object_get(r, "id"), id, sizeof(id)),
		       psw_ctl_str(json_object_get(r, "driver"), drv, sizeof(drv)));
		rc = 0;
	}
	json_decref(r);
out:
	json_decref(params);
	json_decref(options);
	json_decref(ext);
	json_decref(addrs);
	json_decref(ips);
	return rc;
}

/* Commands that take exactly one NAME and no option. */
static int one_name(int argc, char **argv, const char **name)
{
	int rc;

	if ((rc = psw_ctl_no_options(argc, argv)) != 0)
		return rc;
	if (argc - optind != 1)
		return psw_ctl_usage(argc - optind < 1 ? "missing port NAME"
				     : "too many arguments");
	*name = argv[optind];
	return 0;
}

static int port_del(struct psw_client *c, int argc, char **argv, bool json)
{
	const char *name = NULL;
	int rc = one_name(argc, argv, &name);

	if (rc)
		return rc;
	json_t *r = psw_ctl_call(c, "port.del", json_pack("{s:s}", "name", name));
	if (!r)
		return 1;
	if (json)
		psw_ctl_print_json(r);
	json_decref(r);
	return 0;
}

static int port_set(struct psw_client *c, int argc, char **argv, bool json)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"rxq-pmd", required_argument, NULL, 'P'},
		{NULL, 0, NULL, 0}
	};
	json_t *params = json_object();
	int opt, rc;

	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (opt == 'P') {
			/* "none" (or "") unpins every queue. */
			if ((rc = parse_rxq_pmd(optarg, params)) != 0) {
				json_decref(params);
				return rc;
			}
			continue;
		}
		if (opt != 'o') {
			json_decref(params);
			return psw_ctl_bad_option(opt, argv);
		}
		/* "none" (or "") removes the static output. */
		json_object_set_new(params, "output", strcmp(optarg, "none") && *optarg
				    ? json_string(optarg) : json_null());
	}
	if (argc - optind != 1) {
		json_decref(params);
		return psw_ctl_usage(argc - optind < 1 ? "missing port NAME" : "too many arguments");
	}
	json_object_set_new(params, "name", json_string(argv[optind]));
	json_t *r = psw_ctl_call(c, "port.set", params);
	if (!r)
		return 1;
	if (json)
		psw_ctl_print_json(r);
	json_decref(r);
	return 0;
}

static const char *link_str(json_t *port, char *buf, size_t len)
{
	json_t *link = json_object_get(port, "link");

	if (!json_is_object(link))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s", json_is_true(json_object_get(link, "up")) ? "up" : "down");
	return buf;
}

/* {"k":"v",...} as "k=v,k=v"; "-" when empty. */
static const char *kv_str(json_t *obj, char *buf, size_t len)
{
	const char *k;
	json_t *v;
	size_t off = 0;
	char val[256];

	buf[0] = '\0';
	json_object_foreach(obj, k, v) {
		if (off >= len)
			break;
		off += (size_t)snprintf(buf + off, len - off, "%s%s=%s", off ? "," : "", k,
					psw_ctl_str(v, val, sizeof(val)));
	}
	if (!buf[0])
		snprintf(buf, len, "-");
	return buf;
}

static int port_list(struct psw_client *c, int argc, char **argv, bool json)
{
	int rc;

	if ((rc = psw_ctl_no_args(argc, argv)) != 0)
		return rc;

	json_t *r = psw_ctl_call(c, "port.list", NULL);
	if (!r)
		return 1;
	if (json) {
		psw_ctl_print_json(r);
		json_decref(r);
		return 0;
	}
	json_t *ports = json_object_get(r, "ports"), *p;
	bool any_ext = false;
	size_t i;
	json_array_foreach(ports, i, p)
		if (json_object_size(json_object_get(p, "external_ids")))
			any_ext = true;

	static const char *const hdr[] = {"NAME", "ID", "TYPE", "DRIVER", "LINK", "MAC", "MTU",
					  "RXQ", "TXQ", "OUTPUT", "NETWORK", "EXTERNAL_IDS"};
	struct psw_table *t = psw_table_new(any_ext ? 12 : 11, hdr);
	json_array_foreach(ports, i, p) {
		char b[12][512];
		const char *cells[12] = {
			psw_ctl_str(json_object_get(p, "name"), b[0], sizeof(b[0])),
			psw_ctl_str(json_object_get(p, "id"), b[1], sizeof(b[1])),
			psw_ctl_str(json_object_get(p, "type"), b[2], sizeof(b[2])),
			psw_ctl_str(json_object_get(p, "driver"), b[3], sizeof(b[3])),
			link_str(p, b[4], sizeof(b[4])),
			psw_ctl_str(json_object_get(p, "mac"), b[5], sizeof(b[5])),
			psw_ctl_str(json_object_get(p, "mtu"), b[6], sizeof(b[6])),
			psw_ctl_str(json_object_get(p, "rxq"), b[7], sizeof(b[7])),
			psw_ctl_str(json_object_get(p, "txq"), b[8], sizeof(b[8])),
			psw_ctl_str(json_object_get(p, "output"), b[9], sizeof(b[9])),
			psw_ctl_str(json_object_get(p, "network"), b[10], sizeof(b[10])),
			kv_str(json_object_get(p, "external_ids"), b[11], sizeof(b[11])),
		};
		psw_table_row(t, cells);
	}
	psw_table_print(t, stdout);
	psw_table_free(t);
	json_decref(r);
	return 0;
}

static void show_stats(json_t *st)
{
	const char *reason;
	json_t *v;

	printf("statistics:\n");
	printf("  rx  %" PRIu64 " packets  %" PRIu64 " bytes\n", psw_ctl_u64(st, "rx_packets"),
	       psw_ctl_u64(st, "rx_bytes"));
	printf("  tx  %" PRIu64 " packets  %" PRIu64 " bytes  %" PRIu64 " dropped\n",
	       psw_ctl_u64(st, "tx_packets"), psw_ctl_u64(st, "tx_bytes"),
	       psw_ctl_u64(st, "tx_drops"));
	printf("  drops %" PRIu64 "\n", psw_ctl_u64(st, "drops"));
	json_object_foreach(json_object_get(st, "drops_by_reason"), reason, v)
		if (json_integer_value(v))
			printf("    %-20s %" JSON_INTEGER_FORMAT "\n", reason, json_integer_value(v));
}

static int port_show(struct psw_client *c, int argc, char **argv, bool json)
{
	const char *name = NULL;
	int rc = one_name(argc, argv, &name);

	if (rc)
		return rc;
	json_t *p = psw_ctl_call(c, "port.get", json_pack("{s:s}", "name", name));
	if (!p)
		return 1;
	if (json) {
		psw_ctl_print_json(p);
		json_decref(p);
		return 0;
	}
	/* The fields podswitchctl knows, in a readable order, then any the switch added. */
	static const char *const known[] = {"name", "id", "type", "devargs", "dpdk_port",
		"driver", "mac", "mtu", "rxq", "txq", "rxq_pmd", "link", "output", "network", "options",
		"external_ids", "stats", NULL};
	char buf[1024], b2[64];
	json_t *link = json_object_get(p, "link"), *v;
	const char *k;

	for (const char *const *f = known; *f; f++) {
		v = json_object_get(p, *f);
		if (!v || !strcmp(*f, "stats"))
			continue;
		if (!strcmp(*f, "link") && json_is_object(link)) {
			json_t *sp = json_object_get(link, "speed_mbps");
			psw_ctl_kv_print(stdout, "link", "%s, %s Mb/s, %s duplex",
					 json_is_true(json_object_get(link, "up")) ? "up" : "down",
					 psw_ctl_str(sp, b2, sizeof(b2)),
					 psw_ctl_str(json_object_get(link, "duplex"), buf, sizeof(buf)));
		} else if (json_is_object(v)) {
			snprintf(b2, sizeof(b2), "%s", *f);
			psw_ctl_kv_print(stdout, b2, "%s", kv_str(v, buf, sizeof(buf)));
		} else {
			snprintf(b2, sizeof(b2), "%s", *f);
			psw_ctl_kv_print(stdout, b2, "%s", psw_ctl_str(v, buf, sizeof(buf)));
		}
	}
	json_object_foreach(p, k, v) {
		bool is_known = false;
		for (const char *const *f = known; *f; f++)
			is_known |= !strcmp(*f, k);
		if (is_known)
			continue;
		snprintf(b2, sizeof(b2), "%s", k);
		psw_ctl_kv_print(stdout, b2, "%s", json_is_object(v) ? kv_str(v, buf, sizeof(buf))
				 : psw_ctl_str(v, buf, sizeof(buf)));
	}
	if (json_is_object(json_object_get(p, "stats")))
		show_stats(json_object_get(p, "stats"));
	json_decref(p);
	return 0;
}

const struct psw_cmd psw_cmds_port[] = {
	{"port", "add", "NAME --devargs ARGS [--type T] [--output PORT] [--rxq N] [--txq N] "
	 "[--mtu N] [--mac MAC] [--network NET] [--option KEY=VALUE ...] "
	 "[--external-id KEY=VALUE ...] [--pod-mac MAC --pod-ip IP[/LEN] ...] "
	 "[--rxq-pmd Q:CORE[,Q:CORE...]]",
	 "Add a port: a DPDK device by devargs (type dpdk, the default), a pod port type or a "
	 "host port; --pod-mac/--pod-ip: the pod's addresses (ARP suppression); --rxq-pmd: "
	 "pin rx queues to PMD cores.",
	 port_add},
	{"port", "del", "NAME", "Remove a port.", port_del},
	{"port", "set", "NAME [--output PORT|none] [--rxq-pmd Q:CORE[,Q:CORE...]|none]",
	 "Change a live port's static output; pin its rx queues to PMD cores (none: unpin).",
	 port_set},
	{"port", "list", "", "List ports: id, type, driver, link, MAC, MTU, queues, output.",
	 port_list},
	{"port", "show", "NAME", "Show one port with its counters and drops by reason.", port_show},
	{NULL}
};
