/*
 * classify.c: exact-match cache misses -> classifier (classify.h). PMD threads. What it
 * caches is tagged with the generations read before the lookup (b->gen, ctx->fgen).
 */
#include "datapath/classify.h"
#include "datapath/ctx.h"
#include "datapath/flow_cache.h"
#include "flow/classifier.h"
#include "flow/flow_table.h"

void
psw_classify_burst(struct psw_pmd *pmd, struct psw_burst *b)
{
	const struct psw_classifier *cls = b->view ? b->view->cls : NULL;
	struct psw_dp_ctx *ctx = pmd->ctx;
	const struct psw_rule *rules[PSW_BURST];
	struct psw_flow_key mkeys[PSW_BURST];
	uint16_t midx[PSW_BURST], nm = 0, n = b->n;

	for (uint16_t i = 0; i < n; i++)
		if (!b->hit[i] && !(b->keys[i].flags & PSW_KEY_F_BAD))
			midx[nm++] = i;
	if (nm == 0 || cls == NULL)
		return;
	pmd->perf.cls_lookups += nm;
	/* The misses go to the classifier as one burst: in place when the whole burst
	 * missed (many flows), else gathered. */
	if (nm == n) {
		psw_classifier_lookup_burst(cls, b->keys, n, rules);
	} else {
		for (uint16_t j = 0; j < nm; j++)
			mkeys[j] = b->keys[midx[j]];
		psw_classifier_lookup_burst(cls, mkeys, nm, rules);
	}
	for (uint16_t j = 0; j < nm; j++) {
		const struct psw_rule *rule = rules[nm == n ? midx[j] : j];
		uint16_t i = midx[j];

		if (rule == NULL)
			continue;
		if (psw_tracing(pmd))
			psw_trace_add(pmd->trace, PSW_TR_RULE, b->in_port, rule, NULL, 0);
		b->res[i] = rule->owner;
		/* NORMAL inserts its own result (the decision, or the rule's). */
		if (b->res[i]->kind != PSW_RES_NORMAL && psw_dp_may_insert(ctx))
			psw_flow_cache_insert(ctx->cache, &b->keys[i], b->hashes[i], b->gen,
					      ctx->fgen, b->res[i]);
	}
}
