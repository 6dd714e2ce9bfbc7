/*
 * config.h: podswitchd's startup configuration (config/podswitchd.json documents every
 * key). Parsed once on the main thread before EAL init; strict: unknown keys and bad
 * values are errors naming the key. "ports", "networks" and "flows" are kept as JSON:
 * they are the params of port.add, network.add and flow.add, applied through the same
 * validated handlers as RPCs.
 */
#ifndef PSW_CONFIG_H
#define PSW_CONFIG_H

#include <stdbool.h>
#include <jansson.h>

#include "core/limits.h"

#define PSW_PATH_MAX 256
#define PSW_EAL_ARGS_MAX 32

struct psw_config {
	/* eal */
	char lcores[128];
	int main_lcore;
	unsigned memory_mb;
	char file_prefix[64];
	char *eal_args[PSW_EAL_ARGS_MAX];
	unsigned n_eal_args;
	/* switch */
	unsigned pmd_cpus[PSW_MAX_PMDS];
	unsigned n_pmd_cpus;
	unsigned pmd_idle_sleep_us;
	unsigned mbufs;
	unsigned flow_cache_entries;
	unsigned mac_aging_s;
	unsigned mac_limit_per_port;
	char control_socket[PSW_PATH_MAX];
	unsigned control_socket_mode;
	char state_dir[PSW_PATH_MAX];
	char socket_dir[PSW_PATH_MAX];
	char log_level[16];
	json_t *ports;    /* array of port.add params */
	json_t *networks; /* array of network.add params */
	json_t *flows;    /* array of rule strings or flow.add params */
	json_t *uplink;   /* uplink.set params, or NULL */
	unsigned arp_answer_rate;
	char metrics_listen[64];  /* "metrics": {"listen"}: "" = no /metrics endpoint */
};

extern struct psw_config psw_conf;

void psw_config_defaults(struct psw_config *c);
/* Parse `path` into c (after defaults). 0, or -1 with a message naming the key. */
int psw_config_load(struct psw_config *c, const char *path, char *err, size_t errlen);
/* Several files, each merged over the ones before (objects key by key, other values
 * replaced): a ConfigMap's config, then a node's own file. */
#define PSW_CONFIG_FILES_MAX 4
int psw_config_load_files(struct psw_config *c, const char *const *paths, unsigned n,
			  char *err, size_t errlen);
int psw_config_parse(struct psw_config *c, json_t *root, char *err, size_t errlen);
void psw_config_free(struct psw_config *c);

#endif
