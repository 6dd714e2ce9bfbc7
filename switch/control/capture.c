/*
 * capture.c: capture sessions (capture.h) on the control thread, and their writer
 * threads. The control thread allocates everything (pool, rings, filter, the thread),
 * publishes and unpublishes the set the PMDs read (datapath/capture_dp.h) and frees;
 * a writer thread only moves copies from the rings to the file and frees the copies.
 *
 * Between the threads (all relaxed or acquire/release atomics on a session's fields):
 * the writer publishes `written`, `bytes` and `want_stop` (count reached, write error)
 * and finally `finished`; the control thread sets `closing` once no PMD can still copy
 * (after a grace period), and the writer then drains the rings and exits.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_bpf.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "control/capture.h"
#include "control/pcapng.h"
#include "core/clock.h"
#include "core/rcu.h"
#include "datapath/capture_dp.h"
#include "port/port.h"

#define RING_SIZE    1024        /* per PMD: ~1 ms of a busy port between drains */
#define POOL_SIZE    4095
#define POOL_CACHE   64
#define DONE_KEEP_S  60.0        /* a finished session's summary stays this long */
#define WRITER_IDLE_NS 1000000L  /* the writer sleeps 1 ms when the rings are empty */

enum state { S_FREE, S_RUNNING, S_DONE };

struct session {
	enum state state;
	unsigned id;
	struct psw_capture_dp *dp;
	struct rte_bpf *bpf;
	struct psw_pcapng out;
	pthread_t thread;
	char port[PSW_NAME_MAX];
	char file[256];
	char filter[256];
	char reason[128];
	uint64_t count;
	double started, ends_at, timeout_s, last_poll, done_at;
	uint64_t tsc0, ns0, hz;         /* TSC -> wall clock, taken at start */
	uint64_t matched, lost;         /* final, once S_DONE */
	/* writer -> control */
	uint64_t written, bytes;
	int want_stop;
	int finished;
	char write_error[96];
	/* control -> writer */
	int closing;
};

static struct session sessions[PSW_CAPTURE_MAX];
static unsigned next_id = 1;
static unsigned pool_seq;

static uint64_t
tsc_to_ns(const struct session *s, uint64_t tsc)
{
	int64_t d = (int64_t)(tsc - s->tsc0);

	return s->ns0 + (uint64_t)((__int128)d * 1000000000 / (__int128)s->hz);
}

/* Writes a batch of copies (each: struct psw_capture_rec, then the packet) and frees
 * them. Past the count limit or after a write error, copies are only freed. */
static void
write_batch(struct session *s, struct rte_mbuf **m, unsigned n)
{
	struct psw_pcapng_pkt pk[PSW_PCAPNG_BATCH];
	unsigned k = 0;
	int rc;

	for (unsigned i = 0; i < n; i++) {
		const struct psw_capture_rec *r = rte_pktmbuf_mtod(m[i], const struct psw_capture_rec *);
		struct psw_pcapng_pkt *p = &pk[k];
		const struct rte_mbuf *seg = m[i];
		uint32_t off = sizeof(*r);

		if (s->write_error[0] != '\0' || (s->count && s->written + k >= s->count))
			continue;
		p->ts_ns = tsc_to_ns(s, r->tsc);
		p->orig_len = r->orig_len;
		p->cap_len = 0;
		p->dir = r->dir == PSW_CAPTURE_RX ? PSW_PCAPNG_DIR_IN : PSW_PCAPNG_DIR_OUT;
		p->n_seg = 0;
		for (; seg != NULL && p->n_seg < PSW_PCAPNG_SEGS; seg = seg->next, off = 0)
			if (seg->data_len > off) {
				p->seg[p->n_seg++] = (struct iovec){
					rte_pktmbuf_mtod_offset(seg, void *, off), seg->data_len - off };
				p->cap_len += seg->data_len - off;
			}
		k++;
	}
	if (k > 0) {
		rc = psw_pcapng_write(&s->out, pk, k);
		if (rc != 0)
			snprintf(s->write_error, sizeof(s->write_error), "write error: %s",
				 strerror(-rc));
		else
			__atomic_store_n(&s->written, s->written + k, __ATOMIC_RELAXED);
		__atomic_store_n(&s->bytes, s->out.bytes, __ATOMIC_RELAXED);
	}
	rte_pktmbuf_free_bulk(m, n);
	if (s->write_error[0] != '\0' || (s->count && s->written >= s->count)) {
		/* The PMDs copy no more; the control thread ends the session. */
		__atomic_store_n(&s->dp->stop, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&s->want_stop, 1, __ATOMIC_RELEASE);
	}
}

static void *
writer_main(void *arg)
{
	struct session *s = arg;
	struct rte_mbuf *m[PSW_PCAPNG_BATCH];
	const struct timespec idle = { 0, WRITER_IDLE_NS };

	for (;;) {
		/* Read closing before draining: after it is set, the rings only shrink. */
		int closing = __atomic_load_n(&s->closing, __ATOMIC_ACQUIRE);
		unsigned got = 0;

		for (unsigned i = 0; i < PSW_MAX_PMDS; i++) {
			unsigned n;

			if (s->dp->ring[i] == NULL)
				continue;
			n = rte_ring_sc_dequeue_burst(s->dp->ring[i], (void **)m, PSW_PCAPNG_BATCH,
						      NULL);
			if (n > 0)
				write_batch(s, m, n);
			got += n;
		}
		if (got > 0)
			continue;
		if (closing)
			break;
		nanosleep(&idle, NULL);
	}
	return NULL;
}

static void
publish_set(void)
{
	struct psw_capture_set *set = NULL, *old;

	for (unsigned i = 0; i < PSW_CAPTURE_MAX; i++) {
		if (sessions[i].state != S_RUNNING)
			continue;
		if (set == NULL) {
			set = calloc(1, sizeof(*set));
			if (set == NULL)
				abort();    /* a few bytes; nothing sensible to do without them */
		}
		set->s[set->n++] = sessions[i].dp;
	}
	old = __atomic_exchange_n(&psw_capture_set, set, __ATOMIC_RELEASE);
	if (old != NULL)
		psw_retire(old, free);
}

static void
free_dp(struct psw_capture_dp *dp)
{
	if (dp == NULL)
		return;
	for (unsigned i = 0; i < PSW_MAX_PMDS; i++)
		rte_ring_free(dp->ring[i]);
	rte_mempool_free(dp->pool);
	rte_free(dp);
}

static void
sum_stats(const struct session *s, uint64_t *matched, uint64_t *lost)
{
	*matched = *lost = 0;
	for (unsigned i = 0; i < PSW_MAX_PMDS; i++) {
		*matched += __atomic_load_n(&s->dp->st[i].matched, __ATOMIC_RELAXED);
		*lost += __atomic_load_n(&s->dp->st[i].lost, __ATOMIC_RELAXED);
	}
}

/* Ends a running session: no PMD copies any more, the writer finishes the file. */
static void
finish(struct session *s, const char *reason)
{
	struct timespec now;

	if (s->state != S_RUNNING)
		return;
	s->state = S_DONE;
	publish_set();
	/* After this no PMD is inside psw_capture_burst with the old set. */
	psw_rcu_synchronize();
	__atomic_store_n(&s->closing, 1, __ATOMIC_RELEASE);
	pthread_join(s->thread, NULL);
	sum_stats(s, &s->matched, &s->lost);
	clock_gettime(CLOCK_REALTIME, &now);
	if (s->write_error[0] == '\0')
		psw_pcapng_write_stats(&s->out, (uint64_t)now.tv_sec * 1000000000 +
				       (uint64_t)now.tv_nsec, s->matched, s->lost);
	s->bytes = s->out.bytes;
	psw_pcapng_close(&s->out);
	snprintf(s->reason, sizeof(s->reason), "%s",
		 s->write_error[0] ? s->write_error : reason);
	free_dp(s->dp);
	s->dp = NULL;
	if (s->bpf != NULL)
		rte_bpf_destroy(s->bpf);
	s->bpf = NULL;
	s->done_at = psw_clock_mono_s();
}

static struct session *
find(unsigned id)
{
	for (unsigned i = 0; i < PSW_CAPTURE_MAX; i++)
		if (sessions[i].state != S_FREE && sessions[i].id == id)
			return &sessions[i];
	return NULL;
}

static struct session *
free_slot(void)
{
	struct session *oldest = NULL;

	for (unsigned i = 0; i < PSW_CAPTURE_MAX; i++) {
		if (sessions[i].state == S_FREE)
			return &sessions[i];
		if (sessions[i].state == S_DONE &&
		    (oldest == NULL || sessions[i].done_at < oldest->done_at))
			oldest = &sessions[i];
	}
	return oldest;  /* a finished one's summary makes room */
}

static struct psw_capture_dp *
make_dp(const struct psw_capture_params *p, int *rc)
{
	struct psw_capture_dp *dp;
	char name[RTE_MEMPOOL_NAMESIZE];
	/* The copy, its record in front, in buffers of this size (at most 8 per packet). */
	uint16_t room = RTE_MBUF_DEFAULT_BUF_SIZE;

	dp = rte_zmalloc("psw_capture", sizeof(*dp), RTE_CACHE_LINE_SIZE);
	if (dp == NULL) {
		*rc = -ENOMEM;
		return NULL;
	}
	dp->port = p->port;
	dp->dirs = p->dirs;
	dp->snaplen = p->snaplen;
	snprintf(name, sizeof(name), "psw_cap%u", pool_seq++);
	dp->pool = rte_pktmbuf_pool_create(name, POOL_SIZE, POOL_CACHE, 0, room,
					   (int)rte_socket_id());
	if (dp->pool == NULL)
		goto nomem;
	for (unsigned i = 0; i < psw_n_pmds && i < PSW_MAX_PMDS; i++) {
		snprintf(name, sizeof(name), "psw_cap%u_%u", pool_seq, i);
		dp->ring[i] = rte_ring_create(name, RING_SIZE, (int)rte_socket_id(),
					      RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (dp->ring[i] == NULL)
			goto nomem;
	}
	return dp;
nomem:
	*rc = -ENOMEM;
	free_dp(dp);
	return NULL;
}

int
psw_capture_start(const struct psw_capture_params *p, char *err, size_t errlen)
{
	struct session *s = free_slot();
	const struct psw_port *port = psw_port_get(p->port);
	struct timespec now;
	char desc[128];
	int rc = 0;

	if (port == NULL) {
		snprintf(err, errlen, "port: no port %u", p->port);
		return -ENOENT;
	}
	if (s == NULL) {
		snprintf(err, errlen, "at most %d captures run at once (podswitchctl capture list)",
			 PSW_CAPTURE_MAX);
		return -EBUSY;
	}
	if (s->state == S_DONE)
		memset(s, 0, sizeof(*s));
	if (p->filter != NULL && p->filter[0] != '\0') {
		s->bpf = psw_capture_filter_compile(p->filter, p->snaplen, err, errlen);
		if (s->bpf == NULL)
			return -EINVAL;
	}
	s->dp = make_dp(p, &rc);
	if (s->dp == NULL) {
		snprintf(err, errlen, "no memory for the capture's buffers (%d of %u bytes)",
			 POOL_SIZE, RTE_MBUF_DEFAULT_BUF_SIZE);
		goto fail;
	}
	s->dp->bpf = s->bpf;
	if (s->bpf != NULL) {
		struct rte_bpf_jit jit;

		if (rte_bpf_get_jit(s->bpf, &jit) == 0 && jit.func != NULL)
			s->dp->jit = jit.func;
	}
	snprintf(desc, sizeof(desc), "podswitch %s port", port->type);
	rc = psw_pcapng_open(&s->out, p->file, port->name, desc, p->snaplen, err, errlen);
	if (rc != 0)
		goto fail;
	snprintf(s->port, sizeof(s->port), "%s", port->name);
	snprintf(s->file, sizeof(s->file), "%s", p->file);
	snprintf(s->filter, sizeof(s->filter), "%s", p->filter ? p->filter : "");
	s->count = p->count;
	s->started = s->last_poll = psw_clock_mono_s();
	s->ends_at = p->duration_s ? s->started + p->duration_s : 0;
	s->timeout_s = p->client_timeout_s;
	s->hz = rte_get_tsc_hz();
	s->tsc0 = rte_rdtsc();
	clock_gettime(CLOCK_REALTIME, &now);
	s->ns0 = (uint64_t)now.tv_sec * 1000000000 + (uint64_t)now.tv_nsec;
	rc = -pthread_create(&s->thread, NULL, writer_main, s);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the capture's writer: %s", strerror(-rc));
		psw_pcapng_close(&s->out);
		goto fail;
	}
	s->id = next_id++;
	s->state = S_RUNNING;
	publish_set();
	return (int)s->id;
fail:
	free_dp(s->dp);
	if (s->bpf != NULL)
		rte_bpf_destroy(s->bpf);
	memset(s, 0, sizeof(*s));
	return rc ? rc : -ENOMEM;
}

int
psw_capture_stop(unsigned id, const char *reason)
{
	struct session *s = find(id);

	if (s == NULL)
		return -ENOENT;
	finish(s, reason);
	return 0;
}

json_t *
psw_capture_json(unsigned id, bool poll)
{
	struct session *s = find(id);
	uint64_t matched, lost;
	json_t *o;

	if (s == NULL)
		return NULL;
	if (s->state == S_RUNNING) {
		sum_stats(s, &matched, &lost);
		if (poll)
			s->last_poll = psw_clock_mono_s();
	} else {
		matched = s->matched;
		lost = s->lost;
	}
	o = json_pack("{s:i,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:f}",
		      "id", (int)s->id, "port", s->port, "file", s->file,
		      "state", s->state == S_RUNNING ? "running" : "done",
		      "filter", s->filter, "count", (json_int_t)s->count,
		      "packets", (json_int_t)__atomic_load_n(&s->written, __ATOMIC_RELAXED),
		      "bytes", (json_int_t)__atomic_load_n(&s->bytes, __ATOMIC_RELAXED),
		      "matched", (json_int_t)matched, "lost", (json_int_t)lost,
		      "elapsed_s", (s->state == S_RUNNING ? psw_clock_mono_s() : s->done_at) -
				   s->started);
	json_object_set_new(o, "reason", s->state == S_DONE ? json_string(s->reason) : json_null());
	return o;
}

json_t *
psw_capture_list_json(void)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < PSW_CAPTURE_MAX; i++)
		if (sessions[i].state != S_FREE)
			json_array_append_new(a, psw_capture_json(sessions[i].id, false));
	return a;
}

void
psw_capture_tick(void)
{
	double now = psw_clock_mono_s();

	for (unsigned i = 0; i < PSW_CAPTURE_MAX; i++) {
		struct session *s = &sessions[i];

		if (s->state == S_DONE && now - s->done_at > DONE_KEEP_S)
			memset(s, 0, sizeof(*s));
		if (s->state != S_RUNNING)
			continue;
		if (__atomic_load_n(&s->want_stop, __ATOMIC_ACQUIRE))
			finish(s, "count reached");
		else if (s->ends_at && now >= s->ends_at)
			finish(s, "duration reached");
		else if (s->timeout_s && now - s->last_poll > s->timeout_s)
			finish(s, "client gone (no capture.status within client_timeout_s)");
	}
}

static void
port_removed(uint16_t id)
{
	for (unsigned i = 0; i < PSW_CAPTURE_MAX; i++)
		if (sessions[i].state == S_RUNNING && sessions[i].dp->port == id)
			finish(&sessions[i], "port removed");
}

void
psw_capture_init(void)
{
	psw_port_on_remove(port_removed);
}

void
psw_capture_fini(void)
{
	for (unsigned i = 0; i < PSW_CAPTURE_MAX; i++)
		finish(&sessions[i], "podswitchd stopping");
	memset(sessions, 0, sizeof(sessions));
}
