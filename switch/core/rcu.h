/*
 * rcu.h: the one update discipline. The control thread builds a new table, publishes it
 * with an atomic release store (psw_publish), and retires the old one; it is freed once
 * every PMD has reported a quiescent state (rte_rcu_qsbr) after the swap. PMDs call
 * psw_rcu_quiescent() once per loop iteration and go offline around idle sleeps.
 * Every publish bumps psw_generation, so per-PMD caches can tell stale entries.
 */
#ifndef PSW_RCU_H
#define PSW_RCU_H

#include <stdint.h>
#include <rte_rcu_qsbr.h>

extern struct rte_rcu_qsbr *psw_rcu;
extern uint64_t psw_generation; /* read by PMDs with __atomic_load_n(..., ACQUIRE) */

int psw_rcu_init(unsigned n_threads);
void psw_rcu_fini(void);

/* Control thread: *slot = new (release), generation++; returns the old pointer. */
void *psw_publish_ptr(void **slot, void *new_ptr);
#define psw_publish(slot, new_ptr) \
	((__typeof__(*(slot)))psw_publish_ptr((void **)(slot), (void *)(new_ptr)))

/* Control thread: free `old` with fn(old) after a grace period (psw_rcu_reclaim frees). */
void psw_retire(void *old, void (*fn)(void *));
/* Control thread: bump the generation without a pointer swap (e.g. FDB changed). */
void psw_generation_bump(void);
/* Control thread: wait until every online PMD has passed a quiescent state. */
void psw_rcu_synchronize(void);
/* Control thread: free what is past its grace period; called from the control loop. */
void psw_rcu_reclaim(void);

/* PMD side. */
static inline void
psw_rcu_quiescent(unsigned thread_id)
{
	rte_rcu_qsbr_quiescent(psw_rcu, thread_id);
}

#endif
