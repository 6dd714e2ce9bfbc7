/*
 * flow_table.h: the rule set, owned by the control thread. A change touches only what it
 * changes: each added or deleted rule goes into or out of the one classifier in place
 * (classifier_update.c), caches forget only the results the change concerns (result.h),
 * and the change's stores are visible to every core before it returns, so that once an
 * RPC has answered, the next packet follows the new table (control: rpc_flow.c ->
 * flow_table.c -> classifier*.c -> core/rcu.c; PMDs read psw_flow_view and psw_flow_gen).
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
	struct psw_rule rule;              /* immutable once published (but rule.cls_next) */
	struct psw_flow_result *res;       /* its result (result.h), from the table's pool */
	uint64_t id;                       /* handed out at add, never reused */
	uint64_t added_s;                  /* psw_clock_s() when added */
	/* the table's indexes (flow_table.c) */
	uint32_t pos;                      /* in the list in the order added */
	struct psw_flow_entry *mnext;      /* same (match, priority) hash */
	struct psw_flow_entry *cnext, *cprev;   /* same cookie hash */
};

/* The entry a rule of the table belongs to (trace). */
static inline const struct psw_flow_entry *
psw_flow_entry_of(const struct psw_rule *r)
{
	return (const struct psw_flow_entry *)((const char *)r - offsetof(struct psw_flow_entry,
									 rule));
}

/* The classifier (one for the switch's life; control thread readers: trace, flow stats). */
extern struct psw_classifier *psw_flow_cls;

/* What PMDs read: the classifier together with what its rules look at, published as one
 * pointer (megaflow idea, OVS: classify on no more of the packet than some rule matches
 * on). It changes only when the fields the rules look at do (a new mask with new fields,
 * the last rule on a field gone), not with every rule: then it is published before the
 * rules that need it become visible (and a grace period passes in between), or after the
 * last rule that needed it is gone.
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

/* flow_table.c (flow_view.c): publish the view of psw_flow_cls's rules, plus `extra` (the
 * masks of rules about to go in) and `tunnel` (some rule has a tunnel action), if it
 * differs from the published one. 1 if published, 0 if the same, -ENOMEM. */
int psw_flow_view_update(const struct psw_flow_key *extra, bool tunnel);

/* PMDs load it with __atomic_load_n(..., __ATOMIC_ACQUIRE) after psw_generation. */
extern struct psw_flow_view *psw_flow_view;

/* Number of rules (for the drop reason of a miss: NO_OUTPUT when the table is empty). */
extern uint32_t psw_flow_n_rules;

/* Control thread. init: after rte_eal_init and RCU, with the number of PMDs (rule
 * counters); publishes the empty table. */
int psw_flow_table_init(unsigned n_pmds);
void psw_flow_table_fini(void);

/* A new, zeroed entry (rule.stats_idx = NONE); fill rule.match/actions/priority/cookie. */
struct psw_flow_entry *psw_flow_entry_new(void);
void psw_flow_entry_free(struct psw_flow_entry *e);

/* Adds entries[0..n) all or none; takes them over on success (ids written back),
 * leaves them to the caller on failure. 0 or -errno with a message. As in OpenFlow, a
 * rule with the same match and priority as an existing one (or an earlier one of the
 * same batch) replaces it, and a packet sees the one or the other, never neither; its
 * counters start from zero. While a batch goes in, packets may see some of its rules
 * before the others. */
int psw_flow_table_add(struct psw_flow_entry **entries, unsigned n, char *err, size_t errlen);

/* Deletions; each returns the number of rules removed (0 is not an error).
 * Loose: rules at least as specific as m that agree with it on m's fields.
 * Strict: rules whose match equals m and whose priority equals priority. */
unsigned psw_flow_table_del(const struct psw_flow_match *m, bool strict, uint32_t priority);
unsigned psw_flow_table_del_cookie(uint64_t cookie);
/* Strict deletions of many (match, priority) pairs as one change: one grace period for
 * all. Returns the number removed. */
unsigned psw_flow_table_del_strict_many(const struct psw_flow_match *m, const uint32_t *prio,
					unsigned n);
unsigned psw_flow_table_clear(void);
/* Removes every rule that matches on port or outputs to it (the port is going away and
 * its id will be reused). Call before the id can be given to another port. */
unsigned psw_flow_table_port_gone(uint16_t port);

unsigned psw_flow_table_count(void);
/* The i-th rule in the order added (0 <= i < count), for listing. */
const struct psw_flow_entry *psw_flow_table_at(unsigned i);

/* What the table's changes cost the caches (tests, flow.stats). */
struct psw_flow_table_stats {
	uint64_t changes;             /* calls that changed the table */
	uint64_t view_publishes;      /* the view changed: every cache of every PMD forgot */
	uint64_t global_bumps;        /* an added rule overlapped too widely: the same */
	uint64_t preempted;           /* results made stale because a better rule came */
};
void psw_flow_table_stats(struct psw_flow_table_stats *s);

/* Config loader and tests (rpc_flow.c): add one rule given in the text syntax
 * ("priority=0,actions=normal"). 0 or -errno with a message naming the field. */
int psw_flow_table_add_text(const char *rule, char *err, size_t errlen);

#endif
