/*
 * parse.h: mbuf -> struct psw_flow_key (core/key.h), a burst at a time: the first stage of
 * the full path (pipeline.c: parse -> flow_cache -> classify -> actions). Reads only the
 * first segment, never past rte_pktmbuf_data_len; a packet whose headers end early or are
 * invalid gets PSW_KEY_F_TRUNCATED or PSW_KEY_F_MALFORMED in key.flags and the pipeline
 * drops it (drop.h TRUNCATED / MALFORMED).
 */
#ifndef PSW_DATAPATH_PARSE_H
#define PSW_DATAPATH_PARSE_H

#include <stdint.h>
#include <rte_mbuf.h>

#include "core/burst.h"
#include "core/key.h"

/* Fill keys[0..n) and hashes[0..n) for pkts[0..n) received on podswitch port in_port.
 * tun_id is 0 (the decap path sets it and rehashes with psw_flow_key_hash()). The hash is
 * the mbuf's RSS hash when the device set RTE_MBUF_F_RX_RSS_HASH, else psw_flow_key_hash().
 * hashes may be NULL. A VLAN tag the device stripped (RTE_MBUF_F_RX_VLAN_STRIPPED) counts
 * as the packet's tag. */
void psw_parse_keys(struct rte_mbuf **pkts, uint16_t n, uint16_t in_port,
		    struct psw_flow_key *keys, uint32_t *hashes);

/* The same, with every key ANDed with mask (the flow table's cache mask) and hashed after
 * the mask (never the device's hash, which covers fields the mask leaves out). */
void psw_parse_keys_masked(struct rte_mbuf **pkts, uint16_t n, uint16_t in_port,
			   const struct psw_flow_key *mask, struct psw_flow_key *keys,
			   uint32_t *hashes);

/* What the L2 fast path (l2_path.c, a table of PSW_SHAPE_L2) needs of a burst: runs of
 * consecutive packets with the same key words 1 and 2, exactly as psw_parse_burst() would
 * fill them (dl_dst, dl_src, vlan_tci, dl_type), and whether the full parse would find a
 * packet bad (PSW_KEY_F_TRUNCATED or PSW_KEY_F_MALFORMED, the only flags that decide
 * anything without a rule matching on flags; a bad packet is a run of its own). Words,
 * not bytes: the pipeline compares them as words, and a word read back from byte stores
 * would stall on store forwarding. */
struct psw_l2_run {
	uint64_t w1;                   /* key word 1: dl_dst, dl_src[0..1] */
	uint64_t w2;                   /* key word 2: dl_src[2..5], vlan_tci, dl_type */
	uint32_t bytes;                /* sum of the packets' pkt_len */
	uint16_t start, n;             /* pkts[start .. start + n) */
	uint8_t bad;                   /* flags & PSW_KEY_F_BAD of the full parse */
};

/* PMD: fill runs[] for pkts[0..n) (the L3/L4 headers are checked, not kept); returns the
 * number of runs (1 <= runs <= n, 0 for n = 0). */
uint16_t psw_parse_l2_runs(struct rte_mbuf **pkts, uint16_t n, struct psw_l2_run *runs);

/* The same for one packet (tests, slow paths). Returns key->flags. */
uint8_t psw_parse_one(const struct rte_mbuf *m, uint16_t in_port, struct psw_flow_key *key);

/* The stage: b->keys and b->hashes for the burst; keyed on the view's cache mask while the
 * exact-match cache misses on whole keys (ctx->mask_on, flow_cache.c); tun_id from the
 * burst (a decapsulated one). */
void psw_parse_burst(struct psw_pmd *pmd, struct psw_burst *b);

#endif
