/*
 * result.c: a rule's resolved result (result.h), made when the rule is added, and the pool
 * rule results come from. Control thread.
 *
 * The pool: chunks of RES_CHUNK results, never given back to the system until shutdown,
 * so that a PMD may check a cached result (psw_flow_result_usable) at any time after its
 * rule went: a released slot keeps valid_from DEAD and rule_res itself until it is used
 * again, and then gets a valid_from newer than anything cached from its former rule.
 */
#include <stdlib.h>
#include <string.h>
#include <rte_common.h>

#include "flow/result.h"

#define RES_CHUNK 4096u

static struct psw_flow_result **chunks;
static unsigned n_chunks, chunk_used = RES_CHUNK;
static struct psw_flow_result **free_slots;
static unsigned n_free, cap_free;
static bool pool_gone;          /* after fini: released slots are forgotten */

struct psw_flow_result *
psw_flow_result_alloc(void)
{
	pool_gone = false;
	if (n_free)
		return free_slots[--n_free];
	if (chunk_used == RES_CHUNK) {
		struct psw_flow_result **v = realloc(chunks, sizeof(*v) * (n_chunks + 1));
		struct psw_flow_result *c;

		if (v == NULL)
			return NULL;
		chunks = v;
		c = aligned_alloc(RTE_CACHE_LINE_SIZE, sizeof(*c) * RES_CHUNK);
		if (c == NULL)
			return NULL;
		memset(c, 0, sizeof(*c) * RES_CHUNK);
		chunks[n_chunks++] = c;
		chunk_used = 0;
	}
	return &chunks[n_chunks - 1][chunk_used++];
}

void
psw_flow_result_release(struct psw_flow_result *r)
{
	if (pool_gone)
		return;
	__atomic_store_n(&r->valid_from, PSW_RESULT_DEAD, __ATOMIC_RELAXED);
	if (n_free == cap_free) {
		unsigned cap = cap_free ? cap_free * 2 : 1024;
		struct psw_flow_result **v = realloc(free_slots, sizeof(*v) * cap);

		if (v == NULL)
			return;    /* the slot is not used again; harmless */
		free_slots = v;
		cap_free = cap;
	}
	free_slots[n_free++] = r;
}

void
psw_flow_result_pool_fini(void)
{
	for (unsigned i = 0; i < n_chunks; i++)
		free(chunks[i]);
	free(chunks);
	free(free_slots);
	chunks = free_slots = NULL;
	n_chunks = n_free = cap_free = 0;
	chunk_used = RES_CHUNK;
	pool_gone = true;
}

void
psw_flow_result_init(struct psw_flow_result *res, const struct psw_rule *rule,
		     uint64_t valid_from)
{
	/* res may be a slot of a deleted rule that caches still point to (valid_from DEAD,
	 * rule_res itself): the new valid_from, newer than anything they hold, goes first,
	 * then the rest; rule_res (what their check reads) is never anything but res. */
	__atomic_store_n(&res->valid_from, valid_from, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	res->rule = rule;
	res->out_port = PSW_PORT_NONE;
	res->net = 0;
	res->in_port = PSW_PORT_NONE;
	res->hash = 0;
	memset(&res->src, 0, sizeof(res->src));
	memset(&res->dst, 0, sizeof(res->dst));
	res->src_e = NULL;
	res->flood = 0;
	res->learn_gen = 0;
	res->rule_res = res;
	res->kind = PSW_RES_ACTIONS;
	if (rule->n_actions == 1) {
		switch (rule->actions[0].type) {
		case PSW_ACT_OUTPUT:
			res->kind = PSW_RES_OUTPUT;
			res->out_port = rule->actions[0].port;
			break;
		case PSW_ACT_DROP:
			res->kind = PSW_RES_DROP;
			break;
		case PSW_ACT_NORMAL:
			res->kind = PSW_RES_NORMAL;
			break;
		default:
			break;
		}
	} else if (rule->n_actions == 0) {
		res->kind = PSW_RES_DROP;
	}
}
