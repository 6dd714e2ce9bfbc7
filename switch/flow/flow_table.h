/*
 * flow_table.h: the rule set, owned by the control thread. Every change (add, delete,
 * clear) builds a new classifier from the whole rule list, publishes it with RCU, retires
 * the old classifier and the removed rules, and waits for a grace period before it
 * returns, so that once an RPC has answered, the next packet follows the new table
 * (control: rpc_flow.c -> flow_table.c -> classifier.c -> core/rcu.c; PMDs read
 * psw_flow_view).
 */
#ifndef PSW_FLOW_FLOW_TABLE_H
#define PSW_FLOW_FLOW_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/classifier.h"
#include "flow/result.h"
#include "flow/rule.h"

/* One rule and what the control thread knows of it. rule.owner points to res. */
struct psw_flow_entry {
	struct psw_rule rule;              /* immutable once published */
	struct psw_flow_result res;        /* precomputed result (result.h) */
	uint64_t id;                       /* handed out at add, never reused */
	uint64_t added_s;                  /* psw_clock_s() when added */
};

/* The published classifier (control thread readers: trace, flow stats). */
extern struct psw_classifier *psw_flow_cls;

/* What PMDs read: the classifier together with what its rules look at, published as one
 * pointer so that a PMD never pairs a table with another table's shape (megaflow idea,
 * OVS: classify on no more of the packet than some rule matches on).
 * PSW_SHAPE_L2: every rule's mask lies within in_port, dl_dst, dl_src, vlan_tci and
 * dl_type, and no action needs more than the Ethernet header: the pipeline may classify
 * on a key holding only those fields (the rest zero) and skip the L3/L4 parse and the
 * exact-match cache. PSW_SHAPE_FULL: anything else. An empty table is L2. */
enum psw_flow_shape {
	PSW_SHAPE_FULL,
	PSW_SHAPE_L2,
};

struct psw_flow_view {
	const struct psw_classifier *cls;
	uint32_t n_rules;
	uint8_t shape;                     /* enum psw_flow_shape */
	struct psw_flow_key mask_union;    /* every rule's mask OR-ed together */
	/* FULL: the exact-match cache's key mask, mask_union plus in_port, flags and the
	 * Ethernet fields (NORMAL decides on them); cache_masked when it leaves out some
	 * L3/L4 field the parser fills, so that flows differing only there share an entry. */
	struct psw_flow_key cache_mask;
	uint8_t cache_masked;
};

/* Tests: false makes the full path key its cache on the whole key (as before masks). */
extern bool psw_flow_cache_masking;

/* PMDs load it with __atomic_load_n(..., __ATOMIC_ACQUIRE) after psw_generation. */
extern struct psw_flow_view *psw_flow_view;

/* The shape of a rule list (for the table and the tests). */
void psw_flow_view_shape(const struct psw_rule *const *rules, unsigned n,
			 struct psw_flow_view *v);
/* Number of rules (for the drop reason of a miss: NO_OUTPUT when the table is empty). */
extern uint32_t psw_flow_n_rules;

/* Control thread. init: after rte_eal_init, with the number of PMDs (rule counters). */
int psw_flow_table_init(unsigned n_pmds);
void psw_flow_table_fini(void);

/* A new, zeroed entry (rule.stats_idx = NONE); fill rule.match/actions/priority/cookie. */
struct psw_flow_entry *psw_flow_entry_new(void);
void psw_flow_entry_free(struct psw_flow_entry *e);

/* Adds entries[0..n) all or none; takes them over on success (ids written back),
 * leaves them to the caller on failure. 0 or -errno with a message. As in OpenFlow, a
 * rule with the same match and priority as an existing one (or an earlier one of the
 * same batch) replaces it; its counters start from zero. */
int psw_flow_table_add(struct psw_flow_entry **entries, unsigned n, char *err, size_t errlen);

/* Deletions; each returns the number of rules removed (0 is not an error).
 * Loose: rules at least as specific as m that agree with it on m's fields.
 * Strict: rules whose match equals m and whose priority equals priority. */
unsigned psw_flow_table_del(const struct psw_flow_match *m, bool strict, uint32_t priority);
unsigned psw_flow_table_del_cookie(uint64_t cookie);
unsigned psw_flow_table_clear(void);
/* Removes every rule that matches on port or outputs to it (the port is going away and
 * its id will be reused). Call before the id can be given to another port. */
unsigned psw_flow_table_port_gone(uint16_t port);

unsigned psw_flow_table_count(void);
/* The i-th rule in the order added (0 <= i < count), for listing. */
const struct psw_flow_entry *psw_flow_table_at(unsigned i);

/* Config loader and tests (rpc_flow.c): add one rule given in the text syntax
 * ("priority=0,actions=normal"). 0 or -errno with a message naming the field. */
int psw_flow_table_add_text(const char *rule, char *err, size_t errlen);

#endif
