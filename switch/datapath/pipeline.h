/*
 * pipeline.h: the packet path of one rx burst (pipeline.c lists its stages in order) and
 * the set-up of each PMD's datapath state (datapath/ctx.h). The stages run on PMD threads;
 * set-up, fini and stats run on the control thread.
 */
#ifndef PSW_DATAPATH_PIPELINE_H
#define PSW_DATAPATH_PIPELINE_H

#include <stdint.h>
#include <rte_mbuf.h>

#include "core/burst.h"
#include "datapath/flow_cache.h"

#define PSW_PIPELINE_DEFAULT_CACHE 8192

/* PMD: the forwarding decision for n packets received on in_port (any n; cut into
 * bursts of PSW_BURST). Every packet is queued for output or dropped and counted. */
void psw_pipeline_burst(struct psw_pmd *pmd, uint16_t in_port, struct rte_mbuf **pkts,
			uint16_t n);

/* PMD: the same for a burst some stage already holds (decapsulated: b->tun_id set).
 * The trace runs this. */
void psw_pipeline_run(struct psw_pmd *pmd, struct psw_burst *b);

/* Before psw_pipeline_pmd_init: exact-match cache entries per PMD (rounded up to a
 * power of two; 0 = default) and its insertion probability 1/insert_inv_prob (0 or 1 =
 * every miss). */
void psw_pipeline_configure(unsigned cache_entries, unsigned insert_inv_prob);

/* Per-PMD state (pmd->ctx): the cache, the L2 result pool, the learn filter. Call for
 * every PMD before it starts (and for a trace context). 0 or -errno. */
int psw_pipeline_pmd_init(struct psw_pmd *pmd);
void psw_pipeline_pmd_fini(struct psw_pmd *pmd);

/* Control thread, after psw_pmd_init and rte_eal_init: every PMD's datapath state.
 * cache_entries 0 = default. After the PMDs have stopped: psw_pipeline_fini. */
int psw_pipeline_init(unsigned cache_entries, char *err, size_t errlen);
void psw_pipeline_fini(void);

struct psw_pipeline_stats {
	struct psw_flow_cache_stats cache;
	unsigned cache_entries;
	uint64_t l2_cached;       /* packets forwarded by a cached L2 decision */
	uint64_t floods;          /* packets flooded */
	uint64_t copies;          /* copies made (floods, several outputs) */
	uint64_t learn_posted;    /* learn events posted */
	uint64_t learn_lost;      /* learn events lost to a full ring */
};
/* Any thread (a snapshot). -ENOENT if the PMD has no pipeline state. */
int psw_pipeline_read_stats(const struct psw_pmd *pmd, struct psw_pipeline_stats *st);

#endif
