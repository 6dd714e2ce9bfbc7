/*
 * metrics.c: counters for other threads (metrics.h): the control thread's snapshot and
 * the readers' live sums. The snapshot has one sequence counter per port (a port changes
 * alone) and one for the table sizes and networks. A reader that overlapped a write sees
 * an odd or changed sequence number and reads again; the writer never waits.
 *
 * Start and stop: readers run on threads podswitchd does not join (DPDK's telemetry
 * thread), so they enter through a reader-writer lock; psw_metrics_fini takes it for
 * writing once, before the tables and PMD contexts are freed, and readers see "stopping"
 * from then on. The lock is never taken on the packet path.
 */
#include <pthread.h>
#include <string.h>

#include <rte_seqcount.h>

#include "control/control.h"
#include "control/metrics.h"
#include "core/clock.h"
#include "datapath/pmd.h"
#include "flow/flow_table.h"
#include "l2/l2.h"
#include "neigh/neigh.h"

#define TABLES_EVERY_S 1.0

struct snap_port {
	rte_seqcount_t sc;
	bool used;
	char name[PSW_NAME_MAX];
	char type[PSW_TYPE_MAX];
};

static struct snap_port snap_ports[PSW_MAX_PORTS];
static rte_seqcount_t tables_sc;
static struct psw_metrics_tables snap_tables;
static unsigned snap_n_nets;
static struct psw_metrics_net snap_nets[PSW_L2_MAX_NETS];
/* The tick's scratch: MAC counts by network id (control thread only). */
static uint64_t macs_by_net[PSW_L2_MAX_NETS];

static const struct psw_control *control;
static double next_tables;
static pthread_rwlock_t life = PTHREAD_RWLOCK_INITIALIZER;
static bool alive;

bool
psw_metrics_begin(void)
{
	pthread_rwlock_rdlock(&life);
	if (alive)
		return true;
	pthread_rwlock_unlock(&life);
	return false;
}

void
psw_metrics_end(void)
{
	pthread_rwlock_unlock(&life);
}

static uint64_t
ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* A port's counters since it was added: every PMD's, summed (port.c's raw counters). */
static void
port_counters(uint16_t id, struct psw_port_counters *c)
{
	memset(c, 0, sizeof(*c));
	for (unsigned i = 0; i < psw_n_pmds; i++) {
		const struct psw_pmd_port_stats *s = &psw_pmds[i]->port_stats[id];

		c->rx_packets += ld(&s->rx_packets);
		c->rx_bytes += ld(&s->rx_bytes);
		c->tx_packets += ld(&s->tx_packets);
		c->tx_bytes += ld(&s->tx_bytes);
		c->tx_drops += ld(&s->tx_drops);
		for (unsigned r = 0; r < PSW_DROP_MAX; r++)
			c->drops[r] += ld(&s->drops[r]);
	}
}

/* Port id's name and type from the snapshot; false if it is not in use. */
static bool
read_port(uint16_t id, struct psw_metrics_port *out)
{
	const struct snap_port *sp = &snap_ports[id];
	uint32_t sn;

	do {
		sn = rte_seqcount_read_begin(&sp->sc);
		out->id = id;
		if (sp->used) {
			memcpy(out->name, sp->name, sizeof(out->name));
			memcpy(out->type, sp->type, sizeof(out->type));
		}
		out->name[sizeof(out->name) - 1] = '\0';
		out->type[sizeof(out->type) - 1] = '\0';
	} while (rte_seqcount_read_retry(&sp->sc, sn));
	return __atomic_load_n(&sp->used, __ATOMIC_RELAXED) && out->name[0] != '\0';
}

unsigned
psw_metrics_ports(struct psw_metrics_port *out, unsigned max)
{
	unsigned n = 0;

	for (uint16_t i = 0; i < PSW_MAX_PORTS && n < max; i++) {
		if (!__atomic_load_n(&snap_ports[i].used, __ATOMIC_RELAXED) ||
		    !read_port(i, &out[n]))
			continue;
		port_counters(i, &out[n].c);
		n++;
	}
	return n;
}

int
psw_metrics_port(const char *name, struct psw_metrics_port *out)
{
	for (uint16_t i = 0; i < PSW_MAX_PORTS; i++) {
		if (!__atomic_load_n(&snap_ports[i].used, __ATOMIC_RELAXED) ||
		    !read_port(i, out) || strcmp(out->name, name) != 0)
			continue;
		port_counters(i, &out->c);
		return 0;
	}
	return -1;
}

unsigned
psw_metrics_pmds(struct psw_metrics_pmd *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < psw_n_pmds && n < max; i++, n++) {
		const struct psw_pmd *pmd = psw_pmds[i];
		const uint64_t *src;
		uint64_t *dst;

		out[n].index = i;
		out[n].lcore = pmd->lcore;
		/* Both structs are uint64_t words only (core/burst.h). */
		src = (const uint64_t *)&pmd->stats;
		dst = (uint64_t *)&out[n].s;
		for (size_t w = 0; w < sizeof(pmd->stats) / 8; w++)
			dst[w] = ld(&src[w]);
		src = (const uint64_t *)&pmd->perf;
		dst = (uint64_t *)&out[n].perf;
		for (size_t w = 0; w < sizeof(pmd->perf) / 8; w++)
			dst[w] = ld(&src[w]);
		psw_pipeline_read_stats(pmd, &out[n].p);
	}
	return n;
}

unsigned
psw_metrics_tables(struct psw_metrics_tables *t, struct psw_metrics_net *nets, unsigned max)
{
	unsigned n;
	uint32_t sn;

	do {
		sn = rte_seqcount_read_begin(&tables_sc);
		*t = snap_tables;
		n = snap_n_nets < max ? snap_n_nets : max;
		if (nets != NULL)
			memcpy(nets, snap_nets, n * sizeof(*nets));
	} while (rte_seqcount_read_retry(&tables_sc, sn));
	return nets != NULL ? n : 0;
}

/* ---- control thread ---------------------------------------------------------------- */

static void
snap_port_write(uint16_t id, bool used, const char *name, const char *type)
{
	struct snap_port *sp = &snap_ports[id];

	rte_seqcount_write_begin(&sp->sc);
	__atomic_store_n(&sp->used, used, __ATOMIC_RELAXED);
	snprintf(sp->name, sizeof(sp->name), "%s", used ? name : "");
	snprintf(sp->type, sizeof(sp->type), "%s", used ? type : "");
	rte_seqcount_write_end(&sp->sc);
}

static void
snap_ports_refresh(void)
{
	for (uint16_t i = 0; i < PSW_MAX_PORTS; i++) {
		const struct psw_port *p = &psw_ports[i];
		const struct snap_port *sp = &snap_ports[i];

		if (p->used == sp->used && (!p->used || (strcmp(p->name, sp->name) == 0 &&
							 strcmp(p->type, sp->type) == 0)))
			continue;
		snap_port_write(i, p->used, p->name, p->type);
	}
}

static int
count_mac(const struct psw_fdb_entry *e, void *arg)
{
	(void)arg;
	if (e->net < PSW_L2_MAX_NETS)
		macs_by_net[e->net]++;
	return 0;
}

static int
count_neigh(const struct psw_neigh_info *n, void *arg)
{
	(void)n;
	(*(uint64_t *)arg)++;
	return 0;
}

static void
snap_tables_refresh(void)
{
	struct psw_control_stats cs = {0};
	struct psw_metrics_tables t = {0};
	unsigned n = 0;

	memset(macs_by_net, 0, sizeof(macs_by_net));
	psw_l2_fdb_foreach(0, count_mac, NULL);
	psw_neigh_foreach(count_neigh, &t.neigh_entries);
	if (control != NULL)
		psw_control_get_stats(control, &cs);
	t.rules = psw_flow_table_count();
	t.fdb_entries = psw_l2_fdb_count();
	t.ctl_requests = cs.requests;
	t.ctl_errors = cs.errors;
	t.ctl_accepted = cs.accepted;
	t.ctl_clients = cs.clients;

	rte_seqcount_write_begin(&tables_sc);
	for (uint16_t net = psw_l2_network_next(0); net && n < PSW_L2_MAX_NETS;
	     net = psw_l2_network_next(net), n++) {
		snprintf(snap_nets[n].name, sizeof(snap_nets[n].name), "%s",
			 psw_l2_network_name(net));
		snap_nets[n].macs = macs_by_net[net];
	}
	t.networks = n;
	snap_n_nets = n;
	snap_tables = t;
	rte_seqcount_write_end(&tables_sc);
}

static void
port_removed(uint16_t id)
{
	/* Before the id can be reused: no new port's counters under the old name. */
	snap_port_write(id, false, "", "");
}

void
psw_metrics_init(const struct psw_control *ctl)
{
	control = ctl;
	for (unsigned i = 0; i < PSW_MAX_PORTS; i++)
		rte_seqcount_init(&snap_ports[i].sc);
	rte_seqcount_init(&tables_sc);
	snap_ports_refresh();
	snap_tables_refresh();
	next_tables = psw_clock_mono_s() + TABLES_EVERY_S;
	psw_port_on_remove(port_removed);
	pthread_rwlock_wrlock(&life);
	alive = true;
	pthread_rwlock_unlock(&life);
}

void
psw_metrics_tick(void)
{
	double now;

	if (!alive)
		return;
	snap_ports_refresh();
	now = psw_clock_mono_s();
	if (now >= next_tables) {
		snap_tables_refresh();
		next_tables = now + TABLES_EVERY_S;
	}
}

void
psw_metrics_fini(void)
{
	pthread_rwlock_wrlock(&life);
	alive = false;
	pthread_rwlock_unlock(&life);
}
