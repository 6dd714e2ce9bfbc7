/*
 * rcu.c: publish and retire, the one update discipline (see rcu.h). Control thread only,
 * except psw_rcu_quiescent() (inline, PMDs). Retired objects wait on a small list with
 * the QSBR token taken at retire time; psw_rcu_reclaim() (control loop, every few ms)
 * frees those whose token every PMD has passed. rte_rcu_qsbr_check with wait=false never
 * blocks the control thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <rte_malloc.h>

#include "core/rcu.h"

struct retired {
	struct retired *next;
	void *obj;
	void (*fn)(void *);
	uint64_t token;
};

struct rte_rcu_qsbr *psw_rcu;
uint64_t psw_generation = 1;
static struct retired *retired_head;

int
psw_rcu_init(unsigned n_threads)
{
	size_t sz;

	if (n_threads == 0)
		n_threads = 1;
	sz = rte_rcu_qsbr_get_memsize(n_threads);
	psw_rcu = rte_zmalloc("psw_rcu", sz, RTE_CACHE_LINE_SIZE);
	if (psw_rcu == NULL)
		return -ENOMEM;
	if (rte_rcu_qsbr_init(psw_rcu, n_threads) != 0) {
		rte_free(psw_rcu);
		psw_rcu = NULL;
		return -EINVAL;
	}
	return 0;
}

void *
psw_publish_ptr(void **slot, void *new_ptr)
{
	void *old = __atomic_exchange_n(slot, new_ptr, __ATOMIC_ACQ_REL);

	psw_generation_bump();
	return old;
}

void
psw_generation_bump(void)
{
	/* Release: a PMD that sees the new generation also sees the tables published before. */
	__atomic_add_fetch(&psw_generation, 1, __ATOMIC_RELEASE);
}

void
psw_retire(void *old, void (*fn)(void *))
{
	struct retired *r;

	if (old == NULL)
		return;
	r = malloc(sizeof(*r));
	if (r == NULL) {
		/* Cannot queue it: wait for the grace period here instead. */
		psw_rcu_synchronize();
		fn(old);
		return;
	}
	r->obj = old;
	r->fn = fn;
	r->token = rte_rcu_qsbr_start(psw_rcu);
	r->next = retired_head;
	retired_head = r;
}

void
psw_rcu_synchronize(void)
{
	if (psw_rcu != NULL)
		rte_rcu_qsbr_synchronize(psw_rcu, RTE_QSBR_THRID_INVALID);
}

void
psw_rcu_reclaim(void)
{
	struct retired **pp = &retired_head, *r;

	while ((r = *pp) != NULL) {
		if (rte_rcu_qsbr_check(psw_rcu, r->token, false) == 1) {
			*pp = r->next;
			r->fn(r->obj);
			free(r);
		} else {
			pp = &r->next;
		}
	}
}

void
psw_rcu_fini(void)
{
	/* Called after the PMDs have stopped: nothing can still read retired objects. */
	while (retired_head != NULL) {
		struct retired *r = retired_head;

		retired_head = r->next;
		r->fn(r->obj);
		free(r);
	}
	rte_free(psw_rcu);
	psw_rcu = NULL;
}
