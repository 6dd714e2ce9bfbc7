/*
 * fuzz_parse.c: the packet parser (switch/datapath/parse.c) on frames of any length and
 * content, in one or two segments, with or without a VLAN tag the device stripped and an
 * RSS hash. Besides ASan and UBSan, it checks the parser's own promises against each
 * other: psw_parse_keys() gives every packet the key psw_parse_one() gives it; keys
 * masked with an all-ones mask are the same keys; psw_parse_l2_runs() cuts the burst into
 * consecutive runs whose words 1 and 2 and bad flag are those of the full parse.
 *
 * Input: flags (1: two segments, 2: VLAN stripped, 4: RSS hash), TCI (2 bytes), RSS hash
 * (4), then frames: length (2 bytes, up to 1600), bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "core/mbuf_meta.h"
#include "datapath/parse.h"
#include "fuzz_common.h"

static struct rte_mempool *pool;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	psw_fuzz_eal("parse");
	pool = psw_mbuf_pool_create("fuzz_parse", 255, 0, 0);
	if (pool == NULL)
		abort();
	return 0;
}

/* One frame into one mbuf, or two chained ones cut at `cut`. */
static struct rte_mbuf *
frame(const uint8_t *b, uint16_t len, bool two, uint16_t cut)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool), *m2;
	uint16_t first = two ? (uint16_t)(cut % (len + 1u)) : len;

	if (m == NULL)
		abort();
	memcpy(rte_pktmbuf_append(m, first), b, first);
	if (first < len) {
		m2 = rte_pktmbuf_alloc(pool);
		if (m2 == NULL)
			abort();
		memcpy(rte_pktmbuf_append(m2, (uint16_t)(len - first)), b + first, len - first);
		if (rte_pktmbuf_chain(m, m2) != 0)
			abort();
	}
	return m;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct psw_fuzz_in in = { data, size };
	struct rte_mbuf *pkts[PSW_BURST];
	struct psw_flow_key keys[PSW_BURST], masked[PSW_BURST], one, ones;
	struct psw_l2_run runs[PSW_BURST];
	uint32_t hashes[PSW_BURST], mhashes[PSW_BURST];
	uint8_t flags = psw_fuzz_u8(&in);
	uint16_t tci = psw_fuzz_u16(&in), n = 0, nruns, next = 0;
	uint32_t rss = psw_fuzz_u32(&in);

	while (in.n > 0 && n < PSW_BURST) {
		uint16_t len = (uint16_t)(psw_fuzz_u16(&in) % 1601);
		const uint8_t *b;

		len = (uint16_t)psw_fuzz_take(&in, len, &b);
		pkts[n] = frame(b, len, flags & 1, (uint16_t)(len / 2 + n));
		if (flags & 2) {
			pkts[n]->ol_flags |= RTE_MBUF_F_RX_VLAN_STRIPPED | RTE_MBUF_F_RX_VLAN;
			pkts[n]->vlan_tci = tci;
		}
		if (flags & 4) {
			pkts[n]->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
			pkts[n]->hash.rss = rss;
		}
		n++;
	}

	psw_parse_keys(pkts, n, 7, keys, hashes);
	memset(&ones, 0xff, sizeof(ones));
	psw_parse_keys_masked(pkts, n, 7, &ones, masked, mhashes);
	for (uint16_t i = 0; i < n; i++) {
		memset(&one, 0, sizeof(one));
		psw_parse_one(pkts[i], 7, &one);
		if (memcmp(&one, &keys[i], sizeof(one)) != 0 ||
		    memcmp(&masked[i], &keys[i], sizeof(one)) != 0)
			abort();
		for (unsigned w = 0; w < sizeof(one.pad); w++)
			if (keys[i].pad[w] != 0)
				abort();
	}

	nruns = psw_parse_l2_runs(pkts, n, runs);
	if ((n == 0) != (nruns == 0) || nruns > n)
		abort();
	for (uint16_t r = 0; r < nruns; r++) {
		uint32_t bytes = 0;

		if (runs[r].start != next || runs[r].n == 0 || runs[r].start + runs[r].n > n)
			abort();
		for (uint16_t i = runs[r].start; i < runs[r].start + runs[r].n; i++) {
			const uint64_t *w = psw_flow_key_words(&keys[i]);

			if (runs[r].w1 != w[1] || runs[r].w2 != w[2] ||
			    runs[r].bad != (keys[i].flags & PSW_KEY_F_BAD))
				abort();
			bytes += pkts[i]->pkt_len;
		}
		/* A bad packet is a run of its own. */
		if (runs[r].bad && runs[r].n != 1)
			abort();
		if (runs[r].bytes != bytes)
			abort();
		next = (uint16_t)(runs[r].start + runs[r].n);
	}
	if (next != n)
		abort();
	rte_pktmbuf_free_bulk(pkts, n);
	return 0;
}
