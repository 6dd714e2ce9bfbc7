/*
 * bench_lookup.c: micro-benchmarks of the flow-lookup core, single-threaded, no EAL:
 * the parser on 64-byte UDP frames, the per-PMD exact-match cache and the tuple-space
 * classifier, for 1, 1K, 100K and 1M flows and 1, 8 and 32 masks, and the classifier
 * changed in place at 1K, 10K and 100K rules (rule changes per second, and the lookups
 * after them). One line per result:
 *
 *   <component> flows=<n> masks=<m> ... Mlookups/s=<x> cycles/lookup=<y>
 *
 * Time is this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), turned into cycles with the
 * TSC rate measured at start, so that a shared, loaded machine (the 2-core CI box) gives
 * figures close to an idle one; Mlookups/s is per CPU-second. Bursts of 32, as a PMD.
 * Keys are drawn at random from the flows, so big tables miss the CPU caches as real
 * traffic would.
 *
 * Usage: bench_lookup [--quick] | bench_lookup classifier FLOWS MASKS | bench_lookup churn
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "flow/classifier.h"
#include "flow/result.h"
#include "datapath/flow_cache.h"
#include "datapath/parse.h"

#define BURST     32
#define N_KEYS    (1u << 16)   /* distinct lookup keys cycled through */

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t
rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return (uint32_t)(x >> 11);
}

static double tsc_hz;

static double
clock_s(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double
now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static double
cpu_s(void)
{
	return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static void
calibrate_tsc(void)
{
	double t0 = now_s();
	uint64_t c0 = rte_rdtsc();
	struct timespec d = { 0, 200 * 1000 * 1000 };

	nanosleep(&d, NULL);
	tsc_hz = (rte_rdtsc() - c0) / (now_s() - t0);
}

/* secs: CPU seconds of the measured loop. */
static void
report(const char *what, const char *params, uint64_t lookups, double secs, const char *extra)
{
	printf("%-10s %-42s Mlookups/s=%7.2f cycles/lookup=%7.1f%s%s\n", what, params,
	       lookups / secs / 1e6, secs * tsc_hz / lookups, extra[0] ? " " : "", extra);
	fflush(stdout);
}

/* The base packet every flow varies: in_port 1, UDP 10.0.0.1:1000 -> id:53, VNI 5. */
static void
base_key(struct psw_flow_key *k, uint32_t id)
{
	memset(k, 0, sizeof(*k));
	k->in_port = 1;
	k->tun_id = 5;
	k->dl_src.addr_bytes[0] = 0x02;
	k->dl_src.addr_bytes[5] = 0x01;
	k->dl_dst.addr_bytes[0] = 0x02;
	k->dl_dst.addr_bytes[5] = 0x02;
	k->dl_type = RTE_BE16(0x0800);
	k->nw_src = RTE_BE32(0x0a000001);
	k->nw_dst = rte_cpu_to_be_32(id);
	k->nw_proto = 17;
	k->tp_src = RTE_BE16(1000);
	k->tp_dst = RTE_BE16(53);
}

/* Mask j (0..31): dl_type and nw_dst always (nw_dst carries the flow id), plus one field
 * group per bit of j: in_port, dl_dst, nw_proto+tp_dst, nw_src/24, tun_id. */
static void
mask_for(struct psw_flow_key *m, unsigned j)
{
	memset(m, 0, sizeof(*m));
	m->dl_type = 0xffff;
	m->nw_dst = UINT32_MAX;
	if (j & 1)
		m->in_port = 0xffff;
	if (j & 2)
		memset(&m->dl_dst, 0xff, sizeof(m->dl_dst));
	if (j & 4) {
		m->nw_proto = 0xff;
		m->tp_dst = 0xffff;
	}
	if (j & 8)
		m->nw_src = psw_prefix_mask32(24);
	if (j & 16)
		m->tun_id = UINT32_MAX;
}

/* ---- parser ------------------------------------------------------------------------- */

static void
bench_parse(uint64_t iters)
{
	static uint8_t frames[BURST][64];
	static struct rte_mbuf mbufs[BURST];
	struct rte_mbuf *pkts[BURST];
	struct psw_flow_key keys[BURST];
	uint32_t hashes[BURST];
	uint64_t i;
	double s0;
	unsigned j;

	for (j = 0; j < BURST; j++) {
		static const uint8_t hdr[] = {
			0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
			0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
			0x03, 0xe8, 0, 53, 0, 26, 0, 0 };

		memcpy(frames[j], hdr, sizeof(hdr));
		frames[j][33] = j;
		memset(&mbufs[j], 0, sizeof(mbufs[j]));
		mbufs[j].buf_addr = frames[j];
		mbufs[j].data_len = mbufs[j].pkt_len = 64;
		mbufs[j].nb_segs = 1;
		pkts[j] = &mbufs[j];
	}
	s0 = cpu_s();
	for (i = 0; i < iters; i++)
		psw_parse_keys(pkts, BURST, 1, keys, hashes);
	report("parse", "udp64 burst=32 (crc hash)", iters * BURST, cpu_s() - s0, "");
	for (j = 0; j < BURST; j++)
		mbufs[j].ol_flags = RTE_MBUF_F_RX_RSS_HASH;
	s0 = cpu_s();
	for (i = 0; i < iters; i++)
		psw_parse_keys(pkts, BURST, 1, keys, hashes);
	report("parse", "udp64 burst=32 (rss hash)", iters * BURST, cpu_s() - s0, "");
}

/* ---- exact-match cache -------------------------------------------------------------- */

static void
bench_cache(uint32_t flows, unsigned entries, unsigned inv_prob, uint64_t lookups)
{
	struct psw_flow_cache *fc = psw_flow_cache_create(entries, inv_prob, SOCKET_ID_ANY);
	struct psw_flow_key *keys = malloc(sizeof(*keys) * N_KEYS);
	uint32_t *hashes = malloc(sizeof(*hashes) * N_KEYS);
	struct psw_flow_result *res = calloc(N_KEYS, sizeof(*res));
	const struct psw_flow_result *out[BURST];
	struct psw_flow_cache_stats st;
	uint64_t done = 0, hits0, looked0;
	char params[64], extra[64];
	double s0;
	uint32_t i;

	if (!fc || !keys || !hashes || !res) {
		fprintf(stderr, "bench_cache: out of memory\n");
		exit(1);
	}
	for (i = 0; i < N_KEYS; i++) {
		base_key(&keys[i], flows == 1 ? 1 : rnd() % flows);
		hashes[i] = psw_flow_key_hash(&keys[i]);
		res[i].rule_res = &res[i];          /* a rule's result, usable from the start */
	}
	/* warm up: one pass inserting the misses */
	for (i = 0; i < N_KEYS; i += BURST) {
		unsigned j;

		psw_flow_cache_lookup_burst(fc, keys + i, hashes + i, BURST, 1, 1, out);
		for (j = 0; j < BURST; j++)
			if (!out[j])
				psw_flow_cache_insert(fc, &keys[i + j], hashes[i + j], 1, 1,
						      &res[i + j]);
	}
	psw_flow_cache_read_stats(fc, &st);
	hits0 = st.hits;
	looked0 = st.hits + st.misses;
	s0 = cpu_s();
	while (done < lookups) {
		for (i = 0; i < N_KEYS; i += BURST) {
			unsigned j;

			psw_flow_cache_lookup_burst(fc, keys + i, hashes + i, BURST, 1, 1, out);
			for (j = 0; j < BURST; j++)
				if (unlikely(!out[j]))
					psw_flow_cache_insert(fc, &keys[i + j], hashes[i + j], 1,
							      1, &res[i + j]);
		}
		done += N_KEYS;
	}
	psw_flow_cache_read_stats(fc, &st);
	snprintf(params, sizeof(params), "flows=%u entries=%u%s", flows, entries,
		 inv_prob > 1 ? " insert=1/100" : "");
	snprintf(extra, sizeof(extra), "hit=%.1f%% (misses inserted)",
		 100.0 * (st.hits - hits0) / (st.hits + st.misses - looked0));
	report("emc", params, done, cpu_s() - s0, extra);
	psw_flow_cache_free(fc);
	free(keys);
	free(hashes);
	free(res);
}

/* ---- classifier --------------------------------------------------------------------- */

static void
bench_classifier(uint32_t flows, unsigned masks, bool same_prio, uint64_t lookups)
{
	struct psw_rule *rules = calloc(flows, sizeof(*rules));
	const struct psw_rule **ptrs = malloc(sizeof(*ptrs) * flows);
	struct psw_flow_key *keys = malloc(sizeof(*keys) * N_KEYS);
	const struct psw_rule *out[BURST];
	struct psw_classifier *cls;
	struct psw_classifier_info info;
	uint64_t done = 0, hits = 0;
	char params[64], extra[96];
	double s0, build_ms;
	uint32_t i;

	if (!rules || !ptrs || !keys) {
		fprintf(stderr, "bench_classifier: out of memory\n");
		exit(1);
	}
	if (masks > flows)
		masks = flows;
	/* flow i: nw_dst = i in subtable i % masks; a mask's rules share one priority, masks
	 * ranked so that a packet visits (its subtable + 1) subtables, or all of them with
	 * same_prio (no early exit possible: a later subtable could hold an older rule) */
	for (i = 0; i < flows; i++) {
		struct psw_rule *r = &rules[i];

		base_key(&r->match.key, i);
		mask_for(&r->match.mask, i % masks);
		r->priority = same_prio ? 100 : 1000 - i % masks;
		r->seq = i;
		r->stats_idx = PSW_RULE_STATS_NONE;
		r->n_actions = 1;
		r->actions[0].type = PSW_ACT_OUTPUT;
		r->actions[0].port = 2;
		ptrs[i] = r;
	}
	s0 = now_s();
	cls = psw_classifier_build(ptrs, flows);
	build_ms = (now_s() - s0) * 1e3;
	if (!cls) {
		perror("psw_classifier_build");
		exit(1);
	}
	psw_classifier_info(cls, &info);
	for (i = 0; i < N_KEYS; i++)
		base_key(&keys[i], rnd() % flows);
	s0 = cpu_s();
	while (done < lookups) {
		for (i = 0; i < N_KEYS; i += BURST)
			hits += psw_classifier_lookup_burst(cls, keys + i, BURST, out);
		done += N_KEYS;
	}
	if (hits != done) {
		fprintf(stderr, "bench_classifier: %lu of %lu lookups missed\n",
			(unsigned long)(done - hits), (unsigned long)done);
		exit(1);
	}
	snprintf(params, sizeof(params), "flows=%u masks=%u%s", flows, info.n_subtables,
		 same_prio ? " same-prio" : "");
	snprintf(extra, sizeof(extra), "build_ms=%.1f table_MB=%.1f", build_ms,
		 info.bytes / 1048576.0);
	report("classifier", params, done, cpu_s() - s0, extra);
	psw_classifier_free(cls);
	free(rules);
	free(ptrs);
	free(keys);
}

/* ---- classifier changed in place (issue 11, churn) ------------------------------------ */

/* flows rules over `masks` masks go in one by one (as the flow table adds them), then
 * `changes` changes in place: the oldest rule out, a new one in (ids flows, flows+1, ...:
 * new masked keys, the same masks). Reports the changes per second (control-thread CPU
 * time of the classifier alone: no JSON, no RPC), what each change cost before (a whole
 * build of the table: build_ms), and the lookup cost afterwards, to compare with a table
 * built at once (the "classifier" lines). */
static void
bench_churn(uint32_t flows, unsigned masks, uint64_t lookups)
{
	uint32_t changes = flows < 100000 ? 200000 : 2 * flows, total = flows + changes;
	struct psw_rule *rules = calloc(total, sizeof(*rules));
	const struct psw_rule **ptrs = malloc(sizeof(*ptrs) * flows);
	struct psw_flow_key *keys = malloc(sizeof(*keys) * N_KEYS);
	const struct psw_rule *out[BURST];
	struct psw_classifier *cls, *built;
	struct psw_classifier_info info;
	uint64_t done = 0, hits = 0;
	char params[64], extra[160];
	double s0, load_s, churn_s, build_ms;
	uint32_t i;

	if (!rules || !ptrs || !keys) {
		fprintf(stderr, "bench_churn: out of memory\n");
		exit(1);
	}
	for (i = 0; i < total; i++) {
		struct psw_rule *r = &rules[i];

		base_key(&r->match.key, i);
		mask_for(&r->match.mask, i % masks);
		psw_flow_match_normalize(&r->match);
		r->priority = 1000 - i % masks;
		r->seq = i + 1;
		r->stats_idx = PSW_RULE_STATS_NONE;
		r->n_actions = 1;
		r->actions[0].type = PSW_ACT_OUTPUT;
		r->actions[0].port = 2;
	}
	for (i = 0; i < flows; i++)
		ptrs[i] = &rules[i];
	s0 = now_s();
	built = psw_classifier_build(ptrs, flows);
	build_ms = (now_s() - s0) * 1e3;
	psw_classifier_free(built);

	cls = psw_classifier_new(NULL);
	s0 = cpu_s();
	for (i = 0; i < flows; i++)
		if (psw_classifier_insert(cls, &rules[i]) != 0) {
			fprintf(stderr, "bench_churn: insert failed\n");
			exit(1);
		}
	load_s = cpu_s() - s0;
	s0 = cpu_s();
	for (i = 0; i < changes / 2; i++)
		if (psw_classifier_remove(cls, &rules[i]) != 0 ||
		    psw_classifier_insert(cls, &rules[flows + i]) != 0) {
			fprintf(stderr, "bench_churn: change failed\n");
			exit(1);
		}
	churn_s = cpu_s() - s0;
	psw_classifier_info(cls, &info);
	/* lookups of the rules now in: ids changes/2 .. changes/2 + flows */
	for (i = 0; i < N_KEYS; i++)
		base_key(&keys[i], changes / 2 + rnd() % flows);
	s0 = cpu_s();
	while (done < lookups) {
		for (i = 0; i < N_KEYS; i += BURST)
			hits += psw_classifier_lookup_burst(cls, keys + i, BURST, out);
		done += N_KEYS;
	}
	if (hits != done) {
		fprintf(stderr, "bench_churn: %lu of %lu lookups missed\n",
			(unsigned long)(done - hits), (unsigned long)done);
		exit(1);
	}
	snprintf(params, sizeof(params), "flows=%u masks=%u after-churn", flows, info.n_subtables);
	snprintf(extra, sizeof(extra), "inserts/s=%.0f changes/s=%.0f us/change=%.2f "
		 "before:changes/s=%.0f (build_ms=%.1f) rebuilds=%llu",
		 flows / load_s, changes / churn_s, churn_s / changes * 1e6, 1e3 / build_ms,
		 build_ms, (unsigned long long)info.rebuilds);
	report("classifier", params, done, cpu_s() - s0, extra);
	psw_classifier_free(cls);
	free(rules);
	free(ptrs);
	free(keys);
}

int
main(int argc, char **argv)
{
	static const uint32_t flows[] = { 1, 1000, 100000, 1000000 };
	static const unsigned masks[] = { 1, 8, 32 };
	bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	uint64_t n = quick ? 1u << 20 : 1u << 23;
	unsigned f, m;

	calibrate_tsc();
	printf("# TSC %.2f GHz; cycles = CPU time x TSC rate\n", tsc_hz / 1e9);
	if (argc == 4 && strcmp(argv[1], "classifier") == 0) {  /* one case, for perf */
		bench_classifier(atoi(argv[2]), atoi(argv[3]), false, n);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "churn") == 0) {       /* the churn cases alone */
		bench_churn(1000, 8, n);
		bench_churn(10000, 8, n);
		bench_churn(100000, 8, n);
		return 0;
	}

	bench_parse(n / BURST);
	for (f = 0; f < RTE_DIM(flows); f++)
		bench_cache(flows[f], 8192, 1, n);
	bench_cache(100000, 8192, 100, n);
	bench_cache(100000, 1u << 17, 1, n);
	bench_cache(1000000, 1u << 20, 1, n);
	for (f = 0; f < RTE_DIM(flows); f++)
		for (m = 0; m < RTE_DIM(masks); m++)
			if (masks[m] <= flows[f] || masks[m] == 1)
				bench_classifier(flows[f], masks[m], false, n);
	bench_classifier(100000, 32, true, n);
	bench_classifier(1000000, 32, true, quick ? n : n / 4);
	bench_churn(1000, 8, n);
	bench_churn(10000, 8, n);
	bench_churn(100000, 8, n);
	return 0;
}
