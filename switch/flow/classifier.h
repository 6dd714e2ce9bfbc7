/*
 * classifier.h: the flow table lookup, tuple-space search. PMDs look it up lock-free after
 * an exact-match-cache miss (flow_cache.c -> classifier.c -> actions.c); the control thread
 * (flow_table.c) changes it in place, one rule at a time, while they do.
 *
 * One hash table per distinct mask ("subtable"), subtables visited in order of the best
 * rule they hold, stopping as soon as the best match found so far beats every rule in the
 * remaining subtables, so cost grows with the number of masks, not rules. The winner is
 * the matching rule with the highest priority; among equal priorities, the lowest seq
 * (psw_rule_better()). A rule whose mask and masked key equal a better rule's is shadowed:
 * it is kept aside and comes back when the better one goes. Rules are referenced, not
 * copied: a removed rule must outlive every lookup that may still return it (retire it
 * after a grace period, core/rcu.h).
 *
 * Two ways to make one:
 * - psw_classifier_new() + insert/remove/replace: what the flow table uses. A change costs
 *   the rules it touches (one subtable's hash table changed in place, or now and then
 *   rebuilt alone), never the whole table. Rules need priority <= 65535, seq < 2^48 and
 *   unique seqs; rule->cls_next belongs to the classifier while the rule is in it.
 * - psw_classifier_build(): all at once from a list, for tests and benchmarks. Any
 *   priorities and seqs (full ties go to the rule listed first); it cannot be changed.
 */
#ifndef PSW_CLASSIFIER_H
#define PSW_CLASSIFIER_H

#include <stdbool.h>
#include <stdint.h>

#include "flow/rule.h"

struct psw_classifier;

/* How a classifier hands memory back and tells about preempted rules (control thread).
 * retire(obj, fn): call fn(obj) once no lookup can still read obj (core/rcu.h psw_retire);
 * NULL frees at once (no concurrent readers). preempt(victim, arg): called while a rule is
 * inserted, before it becomes visible, for each rule whose flows the new rule may take
 * from now on (a better rule matching some of the same packets), so that whoever caches
 * lookups can forget what they cached for it; victim NULL means "any rule" (a new rule
 * overlaps a subtable more widely than one lookup can tell). */
struct psw_classifier_hooks {
	void (*retire)(void *obj, void (*fn)(void *));
	void (*preempt)(const struct psw_rule *victim, void *arg);
	void *arg;
};

/* Control thread. NULL and errno (ENOMEM) on failure; hooks may be NULL. */
struct psw_classifier *psw_classifier_new(const struct psw_classifier_hooks *hooks);
/* Control thread. NULL and errno (ENOMEM, EINVAL for a NULL rule) on failure. n may be
 * 0 (every lookup misses). rules[] itself may be freed after the call. */
struct psw_classifier *psw_classifier_build(const struct psw_rule *const *rules, unsigned n);
/* Once no lookup can run (or from a retire callback). */
void psw_classifier_free(struct psw_classifier *cls);
/* void * version for psw_retire(). */
void psw_classifier_free_cb(void *cls);

/* Control thread, PMDs looking up meanwhile; each call changes all or nothing.
 * insert: -ENOMEM, -EINVAL (priority, seq), -EPERM (a built classifier).
 * remove: -ENOENT (not in here), -ENOMEM (a shadowed rule could not be promoted: the rule
 *   stays), -EPERM.
 * replace: old and rule have the same match (masked key and mask); readers see one or the
 *   other, never neither; -ENOENT, -EINVAL, -ENOMEM, -EPERM. */
int psw_classifier_insert(struct psw_classifier *cls, struct psw_rule *rule);
int psw_classifier_remove(struct psw_classifier *cls, struct psw_rule *rule);
int psw_classifier_replace(struct psw_classifier *cls, struct psw_rule *old,
			   struct psw_rule *rule);

/* Any thread, lock-free. NULL when no rule matches. */
const struct psw_rule *psw_classifier_lookup(const struct psw_classifier *cls,
					     const struct psw_flow_key *key);
/* out[i] = best rule for keys[i] or NULL; any n. Returns the number of matches. */
uint16_t psw_classifier_lookup_burst(const struct psw_classifier *cls,
				     const struct psw_flow_key *keys, uint16_t n,
				     const struct psw_rule **out);

/* Introspection (control thread): rules held (the best of each mask and masked key),
 * shadowed rules, subtables, overflow, bytes allocated, tables rebuilt alone. */
struct psw_classifier_info {
	unsigned n_rules;
	unsigned n_shadowed;
	unsigned n_subtables;
	unsigned n_spilled;           /* entries stored past their home bucket (a full one) */
	size_t bytes;
	uint64_t rebuilds;            /* subtable hash tables rebuilt (grown or compacted) */
};
void psw_classifier_info(const struct psw_classifier *cls, struct psw_classifier_info *info);
/* Control thread: every subtable's mask OR-ed together (the fields some rule looks at). */
void psw_classifier_mask_union(const struct psw_classifier *cls, struct psw_flow_key *u);

/* Brute force: the best rule of rules[0..n) for key, by a linear scan. The reference the
 * tests compare with; also fine for tiny tables. */
const struct psw_rule *psw_classifier_reference(const struct psw_rule *const *rules,
						unsigned n, const struct psw_flow_key *key);

#endif
