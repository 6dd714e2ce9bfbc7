/*
 * flow_view.c: the view PMDs read (flow_table.h): the classifier with the union of its
 * rules' masks, the path that follows from it (L2 only, or full) and the exact-match
 * cache's key mask, published as one pointer so that the pipeline picks its path from the
 * very table it classifies with. Control thread (flow_table.c calls it after changes); it
 * publishes only when something in it changes, and then every cached answer of every PMD
 * goes stale (psw_publish bumps psw_generation): they were made for another view.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/rcu.h"
#include "flow/flow_table.h"

struct psw_flow_view *psw_flow_view;
bool psw_flow_cache_masking = true;

/* The fields a PSW_SHAPE_L2 table may look at: in_port and dl_dst up to dl_type (key
 * words 1 and 2). Byte by byte: a char may alias the key, a word store may not. */
static bool
mask_within_l2(const struct psw_flow_key *m)
{
	const uint8_t *b = (const uint8_t *)m;

	for (size_t i = 0; i < sizeof(*m); i++) {
		bool l2 = (i >= offsetof(struct psw_flow_key, in_port) &&
			   i < offsetof(struct psw_flow_key, in_port) + sizeof(m->in_port)) ||
			  (i >= offsetof(struct psw_flow_key, dl_dst) &&
			   i < offsetof(struct psw_flow_key, dl_type) + sizeof(m->dl_type));

		if (b[i] && !l2)
			return false;
	}
	return true;
}

/* The cache mask of a view (flow_table.h). Bytes, not words: see mask_within_l2(). */
static void
cache_mask(struct psw_flow_view *v)
{
	uint8_t *c = (uint8_t *)&v->cache_mask;
	const size_t l3 = offsetof(struct psw_flow_key, tp_src);

	v->cache_mask = v->mask_union;
	memset(c + offsetof(struct psw_flow_key, in_port), 0xff, sizeof(v->cache_mask.in_port));
	c[offsetof(struct psw_flow_key, flags)] = 0xff;
	memset(c + offsetof(struct psw_flow_key, dl_dst), 0xff,
	       offsetof(struct psw_flow_key, tp_src) - offsetof(struct psw_flow_key, dl_dst));
	v->cache_masked = 0;
	if (!psw_flow_cache_masking) {
		memset(c, 0xff, sizeof(v->cache_mask));
		return;
	}
	/* nw_proto and tp_src .. ipv6_dst are what the parser fills beyond L2. */
	if (c[offsetof(struct psw_flow_key, nw_proto)] != 0xff)
		v->cache_masked = 1;
	for (size_t i = l3; i < offsetof(struct psw_flow_key, pad); i++)
		if (c[i] != 0xff)
			v->cache_masked = 1;
}

int
psw_flow_view_update(const struct psw_flow_key *extra, bool tunnel)
{
	struct psw_flow_view v, *nv, *old = psw_flow_view;
	uint64_t *u = (uint64_t *)&v.mask_union;

	memset(&v, 0, sizeof(v));
	v.cls = psw_flow_cls;
	psw_classifier_mask_union(psw_flow_cls, &v.mask_union);
	if (extra)
		for (unsigned w = 0; w < PSW_FLOW_KEY_WORDS; w++)
			u[w] |= psw_flow_key_words(extra)[w];
	v.shape = !tunnel && mask_within_l2(&v.mask_union) ?
		  PSW_SHAPE_L2 : PSW_SHAPE_FULL;
	cache_mask(&v);
	if (old && old->shape == v.shape && old->cache_masked == v.cache_masked &&
	    psw_flow_key_equal(&old->mask_union, &v.mask_union) &&
	    psw_flow_key_equal(&old->cache_mask, &v.cache_mask))
		return 0;
	nv = malloc(sizeof(*nv));
	if (nv == NULL)
		return -ENOMEM;
	*nv = v;
	/* psw_publish bumps psw_generation: every cached answer was made for another view */
	psw_retire(psw_publish(&psw_flow_view, nv), free);
	return 1;
}
