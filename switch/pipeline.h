/*
 * pipeline.h: set-up of the flow pipeline's per-PMD state (pipeline.c). The burst
 * function itself, psw_pipeline_burst(), is declared in pmd.h. Control thread.
 */
#ifndef PSW_PIPELINE_H
#define PSW_PIPELINE_H

#include <stdint.h>

#include "flow_cache.h"
#include "pmd.h"

#define PSW_PIPELINE_DEFAULT_CACHE 8192

/* Before psw_pipeline_pmd_init: exact-match cache entries per PMD (a power of two;
 * 0 = default) and its insertion probability 1/insert_inv_prob (0 or 1 = every miss). */
void psw_pipeline_configure(unsigned cache_entries, unsigned insert_inv_prob);

/* Per-PMD state (pmd->flow_ctx): the cache, the L2 result pool, the learn filter. Call
 * for every PMD before it starts. 0 or -errno. */
int psw_pipeline_pmd_init(struct psw_pmd *pmd);
void psw_pipeline_pmd_fini(struct psw_pmd *pmd);

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
