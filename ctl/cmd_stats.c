/*
 * cmd_stats.c: podswitchctl's counter commands: `stats` (per-port counters and drops by
 * reason), `pmd stats` (per-PMD packets and cycles) and `info` (what the switch is).
 * Clients of stats.get/stats.clear, pmd.stats and switch.info (switch/rpc_switch.c);
 * they run in the podswitchctl process.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "podswitchctl.h"

static const struct option clear_opts[] = {
	{"clear", no_argument, NULL, 'c'},
	{NULL, 0, NULL, 0}
};

static void print_drops(json_t *drops, const char *title)
{
	const char *reason;
	json_t *v;
	bool any = false;

	json_object_foreach(drops, reason, v) {
		if (!json_integer_value(v))
			continue;
		if (!any)
			printf("%s\n", title);
		any = true;
		printf("  %-24s %" JSON_INTEGER_FORMAT "\n", reason, json_integer_value(v));
	}
}

static int stats(struct psw_client *c, int argc, char **argv, bool json)
{
	bool clear = false;
	int opt;

	while ((opt = getopt_long(argc, argv, ":", clear_opts, NULL)) != -1) {
		if (opt != 'c')
			return psw_ctl_bad_option(opt, argv);
		clear = true;
	}
	if (argc - optind > 1)
		return psw_ctl_usage("stats takes at most one PORT");
	const char *port = argc > optind ? argv[optind] : NULL;
	json_t *params = port ? json_pack("{s:s}", "port", port) : NULL;

	if (clear) {
		json_t *r = psw_ctl_call(c, "stats.clear", params);
		if (!r)
			return 1;
		if (json)
			psw_ctl_print_json(r);
		else
			printf("counters of %s cleared\n", port ? port : "every port");
		json_decref(r);
		return 0;
	}

	json_t *r = psw_ctl_call(c, "stats.get", params);
	if (!r)
		return 1;
	if (json) {
		psw_ctl_print_json(r);
		json_decref(r);
		return 0;
	}
	static const char *const hdr[] = {"PORT", "RX_PACKETS", "RX_BYTES", "TX_PACKETS",
					  "TX_BYTES", "TX_DROPS", "DROPS"};
	static const char *const keys[] = {"rx_packets", "rx_bytes", "tx_packets", "tx_bytes",
					   "tx_drops", "drops"};
	struct psw_table *t = psw_table_new(7, hdr);
	json_t *p;
	size_t i;
	json_array_foreach(json_object_get(r, "ports"), i, p) {
		char b[7][128];
		const char *cells[7];
		cells[0] = psw_ctl_str(json_object_get(p, "name"), b[0], sizeof(b[0]));
		for (int k = 0; k < 6; k++) {
			snprintf(b[k + 1], sizeof(b[k + 1]), "%" PRIu64, psw_ctl_u64(p, keys[k]));
			cells[k + 1] = b[k + 1];
		}
		psw_table_row(t, cells);
	}
	psw_table_print(t, stdout);
	psw_table_free(t);
	print_drops(json_object_get(r, "drops_by_reason"), "\ndrops by reason:");
	json_decref(r);
	return 0;
}

/* "in:0,out:1": the rx queues a PMD polls. */
static const char *rxqs_str(json_t *rxqs, char *buf, size_t len)
{
	size_t off = 0, i;
	json_t *q;
	char port[128];

	buf[0] = '\0';
	json_array_foreach(rxqs, i, q) {
		if (off >= len)
			break;
		off += (size_t)snprintf(buf + off, len - off, "%s%s:%" PRIu64, off ? "," : "",
					psw_ctl_str(json_object_get(q, "port"), port, sizeof(port)),
					psw_ctl_u64(q, "queue"));
	}
	if (!buf[0])
		snprintf(buf, len, "-");
	return buf;
}

static int pmd_stats(struct psw_client *c, int argc, char **argv, bool json)
{
	bool clear = false;
	int opt;

	while ((opt = getopt_long(argc, argv, ":", clear_opts, NULL)) != -1) {
		if (opt != 'c')
			return psw_ctl_bad_option(opt, argv);
		clear = true;
	}
	if (optind < argc)
		return psw_ctl_usage("unexpected argument '%s'", argv[optind]);

	json_t *r = psw_ctl_call(c, "pmd.stats", clear ? json_pack("{s:b}", "clear", 1) : NULL);
	if (!r)
		return 1;
	if (json) {
		psw_ctl_print_json(r);
		json_decref(r);
		return 0;
	}
	if (clear) {
		printf("PMD counters cleared\n");
		json_decref(r);
		return 0;
	}
	static const char *const hdr[] = {"LCORE", "PACKETS", "ITERATIONS", "BUSY%",
		"CYCLES/PKT", "BUSY_CYCLES", "IDLE_CYCLES", "SLEEPS", "RXQS"};
	struct psw_table *t = psw_table_new(9, hdr);
	json_t *pmd;
	size_t i;
	json_array_foreach(json_object_get(r, "pmds"), i, pmd) {
		char b[9][512];
		json_t *cpp = json_object_get(pmd, "cycles_per_packet");
		json_t *busy = json_object_get(pmd, "busy_pct");
		snprintf(b[0], sizeof(b[0]), "%" PRIu64, psw_ctl_u64(pmd, "lcore"));
		snprintf(b[1], sizeof(b[1]), "%" PRIu64, psw_ctl_u64(pmd, "packets"));
		snprintf(b[2], sizeof(b[2]), "%" PRIu64, psw_ctl_u64(pmd, "iterations"));
		snprintf(b[3], sizeof(b[3]), "%.1f", json_number_value(busy));
		snprintf(b[4], sizeof(b[4]), "%.1f", json_number_value(cpp));
		snprintf(b[5], sizeof(b[5]), "%" PRIu64, psw_ctl_u64(pmd, "busy_cycles"));
		snprintf(b[6], sizeof(b[6]), "%" PRIu64, psw_ctl_u64(pmd, "idle_cycles"));
		snprintf(b[7], sizeof(b[7]), "%" PRIu64, psw_ctl_u64(pmd, "sleeps"));
		rxqs_str(json_object_get(pmd, "rxqs"), b[8], sizeof(b[8]));
		const char *cells[9] = {b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8]};
		psw_table_row(t, cells);
	}
	psw_table_print(t, stdout);
	psw_table_free(t);
	json_decref(r);
	return 0;
}

/* pmd rxq: each rx queue, its PMD and its share of that PMD's busy cycles. */
static int pmd_rxq(struct psw_client *c, int argc, char **argv, bool json)
{
	int rc;

	if ((rc = psw_ctl_no_args(argc, argv)) != 0)
		return rc;
	json_t *r = psw_ctl_call(c, "pmd.rxq", NULL);
	if (!r)
		return 1;
	if (json) {
		psw_ctl_print_json(r);
		json_decref(r);
		return 0;
	}
	static const char *const hdr[] = {"PMD", "CORE", "PORT", "QUEUE", "PINNED", "PACKETS",
		"CYCLES", "BUSY%"};
	struct psw_table *t = psw_table_new(8, hdr);
	json_t *q;
	size_t i;
	json_array_foreach(json_object_get(r, "rxqs"), i, q) {
		char b[8][128];
		snprintf(b[0], sizeof(b[0]), "%" PRIu64, psw_ctl_u64(q, "pmd"));
		snprintf(b[1], sizeof(b[1]), "%" PRIu64, psw_ctl_u64(q, "core"));
		psw_ctl_str(json_object_get(q, "port"), b[2], sizeof(b[2]));
		snprintf(b[3], sizeof(b[3]), "%" PRIu64, psw_ctl_u64(q, "queue"));
		snprintf(b[4], sizeof(b[4]), "%s",
			 json_is_true(json_object_get(q, "pinned")) ? "yes" : "no");
		snprintf(b[5], sizeof(b[5]), "%" PRIu64, psw_ctl_u64(q, "packets"));
		snprintf(b[6], sizeof(b[6]), "%" PRIu64, psw_ctl_u64(q, "cycles"));
		snprintf(b[7], sizeof(b[7]), "%.1f", json_number_value(json_object_get(q, "busy_pct")));
		const char *cells[8] = {b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]};
		psw_table_row(t, cells);
	}
	psw_table_print(t, stdout);
	psw_table_free(t);
	json_decref(r);
	return 0;
}

static const char *uptime_str(uint64_t s, char *buf, size_t len)
{
	if (s >= 86400)
		snprintf(buf, len, "%" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64,
			 s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600, s / 60 % 60,
			 s % 60);
	return buf;
}

static int info(struct psw_client *c, int argc, char **argv, bool json)
{
	int rc;

	if ((rc = psw_ctl_no_args(argc, argv)) != 0)
		return rc;

	json_t *r = psw_ctl_call(c, "switch.info", NULL);
	if (!r)
		return 1;
	if (json) {
		psw_ctl_print_json(r);
		json_decref(r);
		return 0;
	}
	static const char *const known[] = {"version", "dpdk", "pid", "uptime_s",
		"control_socket", "state_dir", "file_prefix", "pmd_cpus", "ports", NULL};
	char buf[1024], key[80];
	const char *k;
	json_t *v;

	for (const char *const *f = known; *f; f++) {
		v = json_object_get(r, *f);
		if (!v)
			continue;
		snprintf(key, sizeof(key), "%s", *f);
		if (!strcmp(*f, "uptime_s"))
			psw_ctl_kv_print(stdout, "uptime", "%s",
					 uptime_str(psw_ctl_u64(r, *f), buf, sizeof(buf)));
		else
			psw_ctl_kv_print(stdout, key, "%s", psw_ctl_str(v, buf, sizeof(buf)));
	}
	json_object_foreach(r, k, v) {
		bool is_known = false;
		for (const char *const *f = known; *f; f++)
			is_known |= !strcmp(*f, k);
		if (is_known)
			continue;
		snprintf(key, sizeof(key), "%s", k);
		psw_ctl_kv_print(stdout, key, "%s", psw_ctl_str(v, buf, sizeof(buf)));
	}
	json_decref(r);
	return 0;
}

const struct psw_cmd psw_cmds_stats[] = {
	{"stats", NULL, "[--clear] [PORT]",
	 "Port counters (all ports or one) and drops by reason; --clear resets them.", stats},
	{"pmd", "stats", "[--clear]",
	 "Per-PMD packets, iterations, busy share, cycles per packet and rx queues; "
	 "--clear resets them.", pmd_stats},
	{"pmd", "rxq", "",
	 "Each rx queue: its PMD and core, pinned or not, packets, cycles and share of its "
	 "PMD's busy cycles (since it arrived there or pmd stats --clear).", pmd_rxq},
	{"info", NULL, "", "What the switch is: version, DPDK, pid, uptime, socket, PMD cores.",
	 info},
	{NULL}
};
