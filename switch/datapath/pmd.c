/*
 * pmd.c: poll-mode threads, the first stage of the packet path. Each PMD lcore loops:
 * read its rx-queue set (RCU-published), rx_burst each queue, hand each burst to the
 * pipeline (pipeline.c), flush its tx buffers (txq.c), report a quiescent state, and
 * account the iteration's cycles as busy or idle. With an idle back-off configured, a
 * PMD that found nothing for a while goes RCU-offline and sleeps, so small machines and
 * tests are not starved; the default is to spin (no sleeps, no system calls).
 * The control thread places rx queues on PMDs (pinned, sticky, balanced), builds and
 * publishes the sets, and reads counters; it never writes PMD state other than the
 * published set pointer and the stop flag. A queue that moves between PMDs leaves the old
 * one a grace period before it joins the new one: NIC, tap, af_xdp and memif rings have
 * one reader.
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

/* Per rx queue busy cycles (pmd.rxq's share; nothing decides on them) are timed in one
 * iteration of RXQ_SAMPLE and counted RXQ_SAMPLE times: an estimate, exact over many
 * iterations, that spares the others one rdtsc (45 cycles here) per queue with packets.
 * The PMD's own busy and idle cycles are timed in every iteration. */
#define RXQ_SAMPLE 16

static unsigned idle_sleep_us;
/* Per PMD, per port and rx queue: what that PMD counted for the queue (pmd.rxq). */
static struct psw_rxq_stats *rxq_stats[PSW_MAX_PMDS];
static int8_t owner[PSW_MAX_PORTS][PSW_MAX_QUEUES];

int
psw_pmd_init(const unsigned *lcores, unsigned n, unsigned sleep_us)
{
	if (n == 0 || n > PSW_MAX_PMDS)
		return -EINVAL;
	idle_sleep_us = sleep_us;
	memset(owner, -1, sizeof(owner));
	for (unsigned i = 0; i < n; i++) {
		int socket = (int)rte_lcore_to_socket_id(lcores[i]);
		struct psw_pmd *pmd;

		pmd = rte_zmalloc_socket("psw_pmd", sizeof(*pmd), RTE_CACHE_LINE_SIZE, socket);
		if (pmd == NULL)
			return -ENOMEM;
		pmd->lcore = lcores[i];
		pmd->idx = i;
		pmd->rxqs = calloc(1, sizeof(struct psw_rxq_set));
		rxq_stats[i] = rte_zmalloc_socket("psw_rxq_stats", sizeof(struct psw_rxq_stats) *
						  PSW_MAX_PORTS * PSW_MAX_QUEUES,
						  RTE_CACHE_LINE_SIZE, socket);
		if (pmd->rxqs == NULL || rxq_stats[i] == NULL) {
			free(pmd->rxqs);
			rte_free(rxq_stats[i]);
			rxq_stats[i] = NULL;
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
	/* One iteration's end is the next one's start: rdtsc costs tens of cycles (45 on
	 * this project's AMD EPYC machines), each one saved is ~0.7 cycles per packet at
	 * 64 packets an iteration. */
	uint64_t start;

	rte_rcu_qsbr_thread_register(psw_rcu, pmd->idx);
	rte_rcu_qsbr_thread_online(psw_rcu, pmd->idx);
	start = rte_rdtsc();

	while (!__atomic_load_n(&pmd->stop, __ATOMIC_RELAXED)) {
		/* Acquire pairs with psw_publish's exchange: the set's contents are visible. */
		const struct psw_rxq_set *set = __atomic_load_n(&pmd->rxqs, __ATOMIC_ACQUIRE);
		uint64_t end, t = start, t1;
		uint32_t got = 0;
		/* This iteration times its queues (see RXQ_SAMPLE)? */
		const bool stamp = (pmd->stats.iterations & (RXQ_SAMPLE - 1)) == 0;

		psw_pmd_set_now(pmd, start);
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
			/* In a timed iteration, one rdtsc per queue that had packets (as
			 * OVS's pmd-rxq-show, which times every iteration): the queue is
			 * charged since the last such stamp, so the empty polls before it
			 * (tens of cycles each) count as its own. */
			if (unlikely(stamp)) {
				t1 = rte_rdtsc();
				q->st->cycles += (t1 - t) * RXQ_SAMPLE;
				t = t1;
			}
			q->st->packets += n;
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
			if (idle_sleep_us && ++idle_iters >= IDLE_ITERS_BEFORE_SLEEP) {
				idle_sleep(pmd);
				end = rte_rdtsc();   /* the sleep is neither busy nor idle */
			}
		}
		start = end;
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
		rte_free(rxq_stats[i]);
		rxq_stats[i] = NULL;
	}
	psw_n_pmds = 0;
	memset(owner, -1, sizeof(owner));
}

/* ---- rx queue placement (control thread) -------------------------------------------
 * owner[p][q]: the PMD whose published set holds queue q of port p, or -1. */
/* Counters of a queue when it arrived on its PMD (or at the last clear): pmd.rxq shows
 * what it cost since. */
static struct {
	uint64_t packets, cycles, busy;
} base[PSW_MAX_PORTS][PSW_MAX_QUEUES];

static inline struct psw_rxq_stats *
rxq_slot(unsigned pmd, unsigned port, unsigned q)
{
	return &rxq_stats[pmd][port * PSW_MAX_QUEUES + q];
}

int
psw_pmd_of_core(unsigned lcore)
{
	for (unsigned i = 0; i < psw_n_pmds; i++)
		if (psw_pmds[i]->lcore == lcore)
			return (int)i;
	return -1;
}

static bool
queue_polled(const struct psw_port *p)
{
	return p->used && __atomic_load_n(&p->enabled, __ATOMIC_RELAXED);
}

/* Where each queue should be polled (want[][], -1: nowhere). Pinned queues go to their
 * core's PMD, which is then isolated: it polls no floating queue unless every PMD has
 * pins. Floating queues stay on their PMD while it is within its share and otherwise go
 * to the least loaded usable PMD (lowest index on a tie): one port's queues spread
 * over the PMDs, and a port added or removed moves only what balance needs. */
static void
place(int8_t want[PSW_MAX_PORTS][PSW_MAX_QUEUES])
{
	unsigned load[PSW_MAX_PMDS] = {0}, n_float = 0, n_usable = 0, total, quota;
	bool isolated[PSW_MAX_PMDS] = {0}, usable[PSW_MAX_PMDS];

	memset(want, -1, sizeof(int8_t) * PSW_MAX_PORTS * PSW_MAX_QUEUES);
	for (unsigned i = 0; i < PSW_MAX_PORTS; i++) {
		const struct psw_port *p = &psw_ports[i];

		if (!queue_polled(p))
			continue;
		for (uint16_t q = 0; q < p->n_rxq && q < PSW_MAX_QUEUES; q++) {
			int k = (p->rxq_pinned & (1u << q)) ? psw_pmd_of_core(p->rxq_core[q]) : -1;

			if (k < 0) {
				n_float++;
				continue;
			}
			want[i][q] = (int8_t)k;
			isolated[k] = true;
			load[k]++;
		}
	}
	for (unsigned k = 0; k < psw_n_pmds; k++)
		n_usable += !isolated[k];
	total = n_float;
	for (unsigned k = 0; k < psw_n_pmds; k++) {
		usable[k] = n_usable == 0 || !isolated[k];
		if (n_usable == 0)
			total += load[k];
	}
	if (n_usable == 0)
		n_usable = psw_n_pmds;
	quota = (total + n_usable - 1) / n_usable;

	/* Floating queues that may stay where they are. */
	for (unsigned i = 0; i < PSW_MAX_PORTS; i++) {
		const struct psw_port *p = &psw_ports[i];

		if (!queue_polled(p))
			continue;
		for (uint16_t q = 0; q < p->n_rxq && q < PSW_MAX_QUEUES; q++) {
			int o = owner[i][q];

			if (want[i][q] >= 0 || o < 0 || (unsigned)o >= psw_n_pmds || !usable[o] ||
			    load[o] >= quota)
				continue;
			want[i][q] = (int8_t)o;
			load[o]++;
		}
	}
	/* The rest: the least loaded usable PMD. */
	for (unsigned i = 0; i < PSW_MAX_PORTS; i++) {
		const struct psw_port *p = &psw_ports[i];

		if (!queue_polled(p))
			continue;
		for (uint16_t q = 0; q < p->n_rxq && q < PSW_MAX_QUEUES; q++) {
			unsigned best = PSW_MAX_PMDS;

			if (want[i][q] >= 0 || (p->rxq_pinned & (1u << q) &&
						psw_pmd_of_core(p->rxq_core[q]) >= 0))
				continue;
			for (unsigned k = 0; k < psw_n_pmds; k++)
				if (usable[k] && (best == PSW_MAX_PMDS || load[k] < load[best]))
					best = k;
			want[i][q] = (int8_t)best;
			load[best]++;
		}
	}
}

/* Queues of PMD k: those that stay there (`all` false) or all it should poll. */
static void
fill_set(struct psw_rxq_set *s, unsigned k, int8_t want[PSW_MAX_PORTS][PSW_MAX_QUEUES],
	 bool all)
{
	s->n = 0;
	for (unsigned i = 0; i < PSW_MAX_PORTS; i++) {
		const struct psw_port *p = &psw_ports[i];

		for (uint16_t q = 0; q < PSW_MAX_QUEUES; q++) {
			if (want[i][q] != (int8_t)k || (!all && owner[i][q] != (int8_t)k))
				continue;
			s->q[s->n++] = (struct psw_rxq){ .port = (uint16_t)i,
							 .dpdk_port = p->dpdk_port,
							 .queue = q, .io = p->dp_io,
							 .st = rxq_slot(k, i, q) };
		}
	}
}

static bool
same_set(const struct psw_rxq_set *a, const struct psw_rxq_set *b)
{
	if (a->n != b->n)
		return false;
	for (uint16_t i = 0; i < a->n; i++)
		if (a->q[i].port != b->q[i].port || a->q[i].queue != b->q[i].queue ||
		    a->q[i].dpdk_port != b->q[i].dpdk_port || a->q[i].io != b->q[i].io)
			return false;
	return true;
}

/* Publish s as PMD k's set unless it holds the same queues; either way s is used up. */
static void
publish_set(unsigned k, struct psw_rxq_set *s)
{
	if (same_set(s, psw_pmds[k]->rxqs)) {
		free(s);
		return;
	}
	psw_retire(psw_publish(&psw_pmds[k]->rxqs, s), free);
}

int
psw_pmd_assign_rxqs(void)
{
	static int8_t want[PSW_MAX_PORTS][PSW_MAX_QUEUES];
	struct psw_rxq_set *stay[PSW_MAX_PMDS] = {0}, *next[PSW_MAX_PMDS] = {0};
	size_t size = sizeof(struct psw_rxq_set) +
		      PSW_MAX_PORTS * PSW_MAX_QUEUES * sizeof(struct psw_rxq);
	bool moving = false;

	for (unsigned k = 0; k < psw_n_pmds; k++) {
		stay[k] = malloc(size);
		next[k] = malloc(size);
		if (stay[k] == NULL || next[k] == NULL) {
			for (unsigned j = 0; j <= k; j++) {
				free(stay[j]);
				free(next[j]);
			}
			return -ENOMEM;
		}
	}
	place(want);
	for (unsigned k = 0; k < psw_n_pmds; k++) {
		fill_set(stay[k], k, want, false);
		fill_set(next[k], k, want, true);
	}
	for (unsigned i = 0; i < PSW_MAX_PORTS; i++)
		for (unsigned q = 0; q < PSW_MAX_QUEUES; q++)
			moving |= owner[i][q] >= 0 && want[i][q] >= 0 && owner[i][q] != want[i][q];

	/* 1. Every queue that leaves a PMD leaves it; 2. once every PMD has passed a
	 * quiescent state, none is still polling a queue it left (a PMD reads its set
	 * once per iteration); 3. queues join their new PMD. Queues that stay are polled
	 * throughout; only a moving queue waits, for one grace period. */
	for (unsigned k = 0; k < psw_n_pmds; k++)
		publish_set(k, stay[k]);
	if (moving)
		psw_rcu_synchronize();
	for (unsigned i = 0; i < PSW_MAX_PORTS; i++) {
		for (unsigned q = 0; q < PSW_MAX_QUEUES; q++) {
			int k = want[i][q];

			if (k >= 0 && owner[i][q] != k) {
				/* Not polled by k yet: its counters stand still. */
				base[i][q].packets = rxq_slot((unsigned)k, i, q)->packets;
				base[i][q].cycles = rxq_slot((unsigned)k, i, q)->cycles;
				base[i][q].busy = psw_pmds[k]->stats.busy_cycles;
			}
		}
	}
	for (unsigned k = 0; k < psw_n_pmds; k++)
		publish_set(k, next[k]);
	memcpy(owner, want, sizeof(owner));
	return 0;
}

unsigned
psw_pmd_rxq_info(struct psw_rxq_info *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned k = 0; k < psw_n_pmds; k++) {
		const struct psw_rxq_set *set = psw_pmds[k]->rxqs; /* only this thread frees it */

		for (uint16_t i = 0; i < set->n && n < max; i++) {
			const struct psw_rxq *q = &set->q[i];
			const struct psw_port *p = &psw_ports[q->port];

			out[n] = (struct psw_rxq_info){
				.port = q->port, .queue = q->queue, .pmd = k,
				.pinned = (p->rxq_pinned & (1u << q->queue)) &&
					  psw_pmd_of_core(p->rxq_core[q->queue]) == (int)k,
				.packets = q->st->packets - base[q->port][q->queue].packets,
				.cycles = q->st->cycles - base[q->port][q->queue].cycles,
				.pmd_busy = psw_pmds[k]->stats.busy_cycles -
					    base[q->port][q->queue].busy,
			};
			n++;
		}
	}
	return n;
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
	for (unsigned i = 0; i < PSW_MAX_PORTS; i++) {
		for (unsigned q = 0; q < PSW_MAX_QUEUES; q++) {
			int k = owner[i][q];

			if (k < 0)
				continue;
			base[i][q].packets = rxq_slot((unsigned)k, i, q)->packets;
			base[i][q].cycles = rxq_slot((unsigned)k, i, q)->cycles;
			base[i][q].busy = psw_pmds[k]->stats.busy_cycles;
		}
	}
}
