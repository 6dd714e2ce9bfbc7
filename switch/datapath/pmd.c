/*
 * pmd.c: poll-mode threads, the first stage of the packet path. Each PMD lcore loops:
 * read its rx-queue set (RCU-published), rx_burst each queue, hand each burst to the
 * pipeline (pipeline.c), flush its tx buffers (txq.c), report a quiescent state, and
 * account the iteration's cycles as busy or idle. With an idle back-off configured, a
 * PMD that found nothing for a while goes RCU-offline and sleeps, so small machines and
 * tests are not starved; the default is to spin (no sleeps, no system calls).
 * The control thread builds rx-queue sets and reads counters; it never writes PMD state
 * other than the published set pointer and the stop flag.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "core/clock.h"
#include "core/rcu.h"
#include "datapath/pipeline.h"
#include "datapath/pmd.h"
#include "datapath/txq.h"

/* Empty iterations before an idle PMD may sleep: ~1000 polls of every queue is well
 * under a millisecond, so a busy port never waits on a sleep. */
#define IDLE_ITERS_BEFORE_SLEEP 1000

static unsigned idle_sleep_us;

int
psw_pmd_init(const unsigned *lcores, unsigned n, unsigned sleep_us)
{
	if (n == 0 || n > PSW_MAX_PMDS)
		return -EINVAL;
	idle_sleep_us = sleep_us;
	for (unsigned i = 0; i < n; i++) {
		struct psw_pmd *pmd;

		pmd = rte_zmalloc_socket("psw_pmd", sizeof(*pmd), RTE_CACHE_LINE_SIZE,
					 (int)rte_lcore_to_socket_id(lcores[i]));
		if (pmd == NULL)
			return -ENOMEM;
		pmd->lcore = lcores[i];
		pmd->idx = i;
		pmd->rxqs = calloc(1, sizeof(struct psw_rxq_set));
		if (pmd->rxqs == NULL) {
			rte_free(pmd);
			return -ENOMEM;
		}
		psw_pmds[i] = pmd;
		psw_n_pmds = i + 1;
	}
	return 0;
}

static inline void
count_rx(struct psw_pmd *pmd, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	struct psw_pmd_port_stats *st = &pmd->port_stats[port];
	uint64_t bytes = 0;

	for (uint16_t i = 0; i < n; i++)
		bytes += pkts[i]->pkt_len;
	st->rx_packets += n;
	st->rx_bytes += bytes;
}

static void
idle_sleep(struct psw_pmd *pmd)
{
	/* Offline: the control thread's grace periods do not wait for a sleeping PMD. */
	rte_rcu_qsbr_thread_offline(psw_rcu, pmd->idx);
	psw_clock_sleep_us(idle_sleep_us);
	rte_rcu_qsbr_thread_online(psw_rcu, pmd->idx);
	pmd->stats.sleeps++;
}

static int
pmd_main(void *arg)
{
	struct psw_pmd *pmd = arg;
	struct rte_mbuf *pkts[PSW_BURST];
	unsigned idle_iters = 0;

	rte_rcu_qsbr_thread_register(psw_rcu, pmd->idx);
	rte_rcu_qsbr_thread_online(psw_rcu, pmd->idx);

	while (!__atomic_load_n(&pmd->stop, __ATOMIC_RELAXED)) {
		/* Acquire pairs with psw_publish's exchange: the set's contents are visible. */
		const struct psw_rxq_set *set = __atomic_load_n(&pmd->rxqs, __ATOMIC_ACQUIRE);
		uint64_t start = rte_rdtsc(), end;
		uint32_t got = 0;

		pmd->now = start;
		for (uint16_t i = 0; i < set->n; i++) {
			const struct psw_rxq *q = &set->q[i];
			uint16_t n = likely(q->io == NULL)
				? rte_eth_rx_burst(q->dpdk_port, q->queue, pkts, PSW_BURST)
				: q->io->rx_burst(q->io->ctx, q->queue, pkts, PSW_BURST);

			if (n == 0)
				continue;
			count_rx(pmd, q->port, pkts, n);
			psw_pipeline_burst(pmd, q->port, pkts, n);
			got += n;
		}
		if (pmd->idx == 0)
			got += psw_txq_inject_burst(pmd);
		psw_txq_flush_all(pmd);
		psw_rcu_quiescent(pmd->idx);

		end = rte_rdtsc();
		pmd->stats.iterations++;
		if (got) {
			pmd->perf.busy_iterations++;
			pmd->stats.packets += got;
			pmd->stats.busy_cycles += end - start;
			idle_iters = 0;
		} else {
			pmd->stats.idle_cycles += end - start;
			if (idle_sleep_us && ++idle_iters >= IDLE_ITERS_BEFORE_SLEEP)
				idle_sleep(pmd);
		}
	}
	rte_rcu_qsbr_thread_offline(psw_rcu, pmd->idx);
	rte_rcu_qsbr_thread_unregister(psw_rcu, pmd->idx);
	return 0;
}

int
psw_pmd_start(void)
{
	for (unsigned i = 0; i < psw_n_pmds; i++) {
		int rc = rte_eal_remote_launch(pmd_main, psw_pmds[i], psw_pmds[i]->lcore);

		if (rc != 0)
			return rc;
	}
	return 0;
}

void
psw_pmd_stop(void)
{
	for (unsigned i = 0; i < psw_n_pmds; i++)
		__atomic_store_n(&psw_pmds[i]->stop, 1, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < psw_n_pmds; i++)
		rte_eal_wait_lcore(psw_pmds[i]->lcore);
}

void
psw_pmd_fini(void)
{
	for (unsigned i = 0; i < psw_n_pmds; i++) {
		free(psw_pmds[i]->rxqs);
		rte_free(psw_pmds[i]);
		psw_pmds[i] = NULL;
	}
	psw_n_pmds = 0;
}

/* Round-robin every rx queue of every enabled port over the PMDs, then publish each
 * PMD's new set and retire its old one. */
int
psw_pmd_assign_rxqs(void)
{
	struct psw_rxq_set *sets[PSW_MAX_PMDS] = {0};
	unsigned total = 0, next = 0;
	int rc = 0;

	for (unsigned i = 0; i < PSW_MAX_PORTS; i++)
		if (psw_ports[i].used && psw_ports[i].enabled)
			total += psw_ports[i].n_rxq;
	for (unsigned i = 0; i < psw_n_pmds; i++) {
		sets[i] = calloc(1, sizeof(struct psw_rxq_set) + total * sizeof(struct psw_rxq));
		if (sets[i] == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	for (unsigned i = 0; i < PSW_MAX_PORTS; i++) {
		const struct psw_port *p = &psw_ports[i];

		if (!p->used || !p->enabled)
			continue;
		for (uint16_t q = 0; q < p->n_rxq; q++) {
			struct psw_rxq_set *s = sets[next++ % psw_n_pmds];

			s->q[s->n++] = (struct psw_rxq){ .port = (uint16_t)i,
							 .dpdk_port = p->dpdk_port,
							 .queue = q, .io = p->io };
		}
	}
	for (unsigned i = 0; i < psw_n_pmds; i++)
		psw_retire(psw_publish(&psw_pmds[i]->rxqs, sets[i]), free);
	return 0;
fail:
	for (unsigned i = 0; i < psw_n_pmds; i++)
		free(sets[i]);
	return rc;
}

/* PMDs own their counters, so a clear records a baseline (control thread) instead. */
static struct psw_pmd_stats stats_base[PSW_MAX_PMDS];

void
psw_pmd_read_stats(unsigned idx, struct psw_pmd_stats *out)
{
	const struct psw_pmd_stats *s = &psw_pmds[idx]->stats, *b = &stats_base[idx];

	out->packets = s->packets - b->packets;
	out->busy_cycles = s->busy_cycles - b->busy_cycles;
	out->idle_cycles = s->idle_cycles - b->idle_cycles;
	out->iterations = s->iterations - b->iterations;
	out->sleeps = s->sleeps - b->sleeps;
	for (unsigned r = 0; r < PSW_DROP_MAX; r++)
		out->drops[r] = s->drops[r] - b->drops[r];
}

void
psw_pmd_clear_stats(void)
{
	for (unsigned i = 0; i < psw_n_pmds; i++)
		stats_base[i] = psw_pmds[i]->stats;
}
