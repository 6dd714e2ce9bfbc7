/*
 * cmd_pmd_perf.c: `podswitchctl pmd perf [--clear]`, client of pmd.perf
 * (switch/control/rpc_pmd_perf.c): where each PMD's cycles and packets go, like OVS's
 * `ovs-appctl dpif-netdev/pmd-perf-show`. Runs in the podswitchctl process.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "podswitchctl.h"

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* Rx burst sizes in powers of two: "1:5 2-3:0 4-7:1 ... 32:100", sizes that occurred. */
static void print_bursts(json_t *hist)
{
	static const unsigned lo[] = {1, 2, 4, 8, 16, 32}, hi[] = {1, 3, 7, 15, 31, 32};

	printf("  %-30s", "rx burst sizes:");
	for (unsigned b = 0; b < 6; b++) {
		uint64_t n = 0;
		for (unsigned s = lo[b]; s <= hi[b]; s++)
			n += (uint64_t)json_integer_value(json_array_get(hist, s));
		if (lo[b] == hi[b])
			printf(" %u:%" PRIu64, lo[b], n);
		else
			printf(" %u-%u:%" PRIu64, lo[b], hi[b], n);
	}
	printf("\n");
}

static void print_pmd(json_t *p)
{
	json_t *lk = json_object_get(p, "lookups");
	uint64_t total = psw_ctl_u64(lk, "total");

	printf("pmd %" PRIu64 " (lcore %" PRIu64 "):\n", psw_ctl_u64(p, "index"),
	       psw_ctl_u64(p, "lcore"));
	printf("  %-30s %" PRIu64 "\n", "iterations:", psw_ctl_u64(p, "iterations"));
	printf("  %-30s %" PRIu64 "  (%.1f%% of cycles busy)\n", "busy iterations:",
	       psw_ctl_u64(p, "busy_iterations"),
	       json_number_value(json_object_get(p, "busy_pct")));
	printf("  %-30s %" PRIu64 "  (%.1f per busy iteration)\n", "packets:",
	       psw_ctl_u64(p, "packets"),
	       json_number_value(json_object_get(p, "packets_per_busy_iteration")));
	printf("  %-30s %.1f\n", "cycles per packet:",
	       json_number_value(json_object_get(p, "cycles_per_packet")));
	printf("  %-30s %" PRIu64 "  (%.1f packets on average)\n", "rx bursts:",
	       psw_ctl_u64(p, "rx_bursts"), json_number_value(json_object_get(p, "avg_burst")));
	print_bursts(json_object_get(p, "rx_burst_sizes"));
	printf("  %-30s %" PRIu64 "\n", "lookups:", total);
	printf("    %-28s %" PRIu64 "  (%.1f%%)\n", "exact-match cache hits:",
	       psw_ctl_u64(lk, "emc"), pct(psw_ctl_u64(lk, "emc"), total));
	printf("    %-28s %" PRIu64 "  (%.1f%%)\n", "L2 memo hits:",
	       psw_ctl_u64(lk, "l2_memo"), pct(psw_ctl_u64(lk, "l2_memo"), total));
	printf("    %-28s %" PRIu64 "  (%.1f%%)\n", "classifier lookups:",
	       psw_ctl_u64(lk, "classifier"), pct(psw_ctl_u64(lk, "classifier"), total));
	printf("    %-28s %" PRIu64 "  (%.1f%%)\n", "not looked up (malformed):",
	       psw_ctl_u64(lk, "none"), pct(psw_ctl_u64(lk, "none"), total));
}

static int pmd_perf(struct psw_client *c, int argc, char **argv, bool json)
{
	static const struct option opts[] = {
		{"clear", no_argument, NULL, 'c'},
		{NULL, 0, NULL, 0}
	};
	bool clear = false;
	int opt;

	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (opt != 'c')
			return psw_ctl_bad_option(opt, argv);
		clear = true;
	}
	if (optind < argc)
		return psw_ctl_usage("unexpected argument '%s'", argv[optind]);
	json_t *r = psw_ctl_call(c, "pmd.perf", clear ? json_pack("{s:b}", "clear", 1) : NULL);
	if (!r)
		return 1;
	if (json)
		psw_ctl_print_json(r);
	else if (clear)
		printf("pmd perf counters cleared\n");
	else {
		json_t *p;
		size_t i;
		json_array_foreach(json_object_get(r, "pmds"), i, p) {
			if (i)
				printf("\n");
			print_pmd(p);
		}
	}
	json_decref(r);
	return 0;
}

const struct psw_cmd psw_cmds_pmd_perf[] = {
	{"pmd", "perf", "[--clear]",
	 "Per PMD: iterations, busy share, cycles per packet, packets per burst, and what "
	 "decided each packet (exact-match cache, L2 memo, classifier); --clear restarts "
	 "the count.", pmd_perf},
	{NULL}
};
