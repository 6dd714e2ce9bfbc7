/*
 * pipeline.h: set-up of the flow pipeline's per-PMD state (pipeline.c). The burst
 * function itself, psw_pipeline_burst(), is declared in pmd.h. Control thread.
 */
#ifndef PSW_PIPELINE_H
#define PSW_PIPELINE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "flow_cache.h"
#include "pmd.h"

#define PSW_PIPELINE_DEFAULT_CACHE 8192

/* Before psw_pipeline_pmd_init: exact-match cache entries per PMD (rounded up to a
 * power of two; 0 = default) and its insertion probability 1/insert_inv_prob (0 or 1 = every miss). */
void psw_pipeline_configure(unsigned cache_entries, unsigned insert_inv_prob);

/* Per-PMD state (pmd->flow_ctx): the cache, the L2 result pool, the learn filter. Call
 * for every PMD before it starts. 0 or -errno. */
int psw_pipeline_pmd_init(struct psw_pmd *pmd);
void psw_pipeline_pmd_fini(struct psw_pmd *pmd);

/* --- set-up for main.c, in this order (control thread) ------------------------------- */

/* After psw_rcu_init, psw_pmd_init and rte_eal_init: the flow table, the FDB, the learn
 * ring and every PMD's pipeline state. cache_entries, aging_s, mac_limit: 0 = default. */
int psw_flow_pipeline_init(unsigned cache_entries, unsigned aging_s, unsigned mac_limit,
			   char *err, size_t errlen);
/* The config's "networks" (network.add params), BEFORE the ports that join them. */
int psw_flow_config_networks(json_t *networks, char *err, size_t errlen);
/* The config's "flows" (rule strings or flow.add objects), AFTER the ports they name. */
int psw_flow_config_flows(json_t *flows, char *err, size_t errlen);
/* port.del, before the port's id can be reused: drop the rules that name the port and
 * take it out of its network (its MACs flushed). */
void psw_flow_port_removed(uint16_t port);
/* After the PMDs have stopped. */
void psw_flow_pipeline_fini(void);

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
