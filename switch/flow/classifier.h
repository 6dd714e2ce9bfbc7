/*
 * classifier.h: the flow table lookup, tuple-space search. The control thread builds an
 * immutable classifier from a rule list and publishes it with RCU (rcu.h); PMDs look it up
 * lock-free after an exact-match-cache miss (flow_cache.c -> classifier.c -> actions.c).
 *
 * One hash table per distinct mask ("subtable"), subtables visited in order of the best
 * rule they hold, stopping as soon as the best match found so far beats every rule in the
 * remaining subtables, so cost grows with the number of masks, not rules. The winner is
 * the matching rule with the highest priority; among equal priorities, the lowest seq
 * (psw_rule_better()). Rules are referenced, not copied: they must outlive the classifier
 * (retire them after it).
 */
#ifndef PSW_CLASSIFIER_H
#define PSW_CLASSIFIER_H

#include <stdint.h>

#include "flow/rule.h"

struct psw_classifier;

/* Control thread. NULL and errno (ENOMEM, EINVAL for a NULL rule) on failure. n may be
 * 0 (every lookup misses). rules[] itself may be freed after the call. */
struct psw_classifier *psw_classifier_build(const struct psw_rule *const *rules, unsigned n);
void psw_classifier_free(struct psw_classifier *cls);
/* void * version for psw_retire(). */
void psw_classifier_free_cb(void *cls);

/* Any thread, lock-free (the classifier is immutable). NULL when no rule matches. */
const struct psw_rule *psw_classifier_lookup(const struct psw_classifier *cls,
					     const struct psw_flow_key *key);
/* out[i] = best rule for keys[i] or NULL; any n. Returns the number of matches. */
uint16_t psw_classifier_lookup_burst(const struct psw_classifier *cls,
				     const struct psw_flow_key *keys, uint16_t n,
				     const struct psw_rule **out);

/* Introspection (control thread): rules held (after dropping rules shadowed by a better
 * rule with the same mask and masked key), subtables, overflow, bytes allocated. */
struct psw_classifier_info {
	unsigned n_rules;
	unsigned n_shadowed;
	unsigned n_subtables;
	unsigned n_spilled;           /* entries stored past their home bucket (a full one) */
	size_t bytes;
};
void psw_classifier_info(const struct psw_classifier *cls, struct psw_classifier_info *info);

/* Brute force: the best rule of rules[0..n) for key, by a linear scan. The reference the
 * tests compare with; also fine for tiny tables. */
const struct psw_rule *psw_classifier_reference(const struct psw_rule *const *rules,
						unsigned n, const struct psw_flow_key *key);

#endif
