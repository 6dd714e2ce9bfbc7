/*
 * memif_server.c: the control side of podswitch's memif server (control thread, main
 * lcore). Each memif port has its own listening SOCK_SEQPACKET socket (a file or an
 * abstract name, created inside the pod's network namespace when asked). A client
 * connects; we send HELLO (versions, limits, name), and it sends INIT (version, interface
 * id, mode, secret, name), ADD_REGION (memfd + size) for each region, ADD_RING (ring
 * placement + interrupt eventfd) for each ring and CONNECT; every message gets an ACK,
 * CONNECT gets CONNECTED. Anything wrong gets DISCONNECT with a reason and the socket is
 * closed. On CONNECTED the connection (regions mapped, rings placed) is published to the
 * PMDs (memif_ring.c) and the port's link goes up; on disconnect it is unpublished, the
 * link goes down, and regions are unmapped after an RCU grace period.
 *
 * Everything a client sends is checked: message size and type for the state, interface
 * id and secret, region index and size (the memfd must be at least that large and sealed
 * against shrinking, F_SEAL_SHRINK, or a later ftruncate would turn our reads into
 * SIGBUS), ring index, region, placement (header and descriptors inside the region),
 * size (up to the ring_size option) and alignment. Descriptors are checked per packet in
 * memif_ring.c.
 *
 * All sockets are non-blocking and sit in one epoll set; psw_memif_server_poll() (from
 * psw_backend_poll_events() on the control loop) handles what is ready and never blocks.
 * Not on the packet path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_log.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "backends/backend_lib.h"
#include "backends/memif_proto.h"
#include "backends/memif_server.h"
#include "core/rcu.h"
#include "port/backend.h"

#define MSRV_MAX_PENDING 4 /* handshakes in progress per port */

/* A client that has not connected within this time is dropped, so that silent clients
 * cannot hold the handshake slots of a port (DPDK's client needs a few ms). */
static uint64_t handshake_timeout_ms = 5000;

enum cc_state {
	CC_HELLO_SENT,  /* waiting for INIT */
	CC_INIT_DONE,   /* regions and rings arriving */
	CC_CONNECTED,
};

struct msrv_cc {
	int fd;
	enum cc_state state;
	uint64_t deadline_ms;     /* handshake must be done by then */
	struct psw_memif_server *srv;
	struct msrv_conn *conn;   /* being built; published at CONNECT */
	char peer[MEMIF_NAME_SZ + 1];
};

struct psw_memif_server {
	struct msrv_dp dp;        /* first: the io ctx; PMDs read it */
	struct psw_port_io io;
	char name[PSW_NAME_MAX];
	char socket[PSW_SOCK_PATH_MAX + 1];
	bool abstract;
	uint32_t id;
	unsigned log2_ring, buffer_size;
	char secret[MEMIF_SECRET_SZ + 1];
	bool has_secret;
	int listen_fd;
	struct rte_mempool *mp;   /* receive mbufs come from here */
	struct msrv_cc *cc[MSRV_MAX_PENDING];
	struct msrv_cc *active;   /* the client that passed INIT (one at a time) */
	uint64_t connects, disconnects;
	char last_reason[96];
	struct psw_memif_server *next;
};

static struct psw_memif_server *servers;
static int ep_fd = -1;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- messages --- */

static int
send_msg(int fd, const struct memif_msg *m)
{
	ssize_t n = send(fd, m, sizeof(*m), MSG_DONTWAIT | MSG_NOSIGNAL);

	return n == (ssize_t)sizeof(*m) ? 0 : -1;
}

/* Receive one message and at most one file descriptor (*fd, or -1). Extra descriptors
 * are closed. Returns 1 with a message, 0 when nothing is waiting, -1 on EOF or error. */
static int
recv_msg(int sock, struct memif_msg *m, int *fd)
{
	char ctl[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			     .msg_controllen = sizeof(ctl) };
	struct cmsghdr *cm;
	ssize_t n;

	*fd = -1;
	memset(m, 0, sizeof(*m));
	n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int f;

			memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(f));
			if (*fd < 0)
				*fd = f;
			else
				close(f);
		}
	}
	if (n == 0 || n != (ssize_t)sizeof(*m) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return -1;
	}
	return 1;
}

/* --- connections --- */

static void
conn_free(void *arg)
{
	struct msrv_conn *c = arg;

	for (unsigned i = 0; i < MSRV_MAX_REGIONS; i++) {
		if (c->region[i].addr != NULL)
			munmap(c->region[i].addr, c->region[i].size);
		if (c->region[i].fd >= 0)
			close(c->region[i].fd);
	}
	for (unsigned i = 0; i < PSW_MAX_QUEUES; i++) {
		if (c->c2s[i].intr_fd >= 0)
			close(c->c2s[i].intr_fd);
		if (c->s2c[i].intr_fd >= 0)
			close(c->s2c[i].intr_fd);
	}
	free(c);
}

static struct msrv_conn *
conn_new(const struct psw_memif_server *s)
{
	struct msrv_conn *c = aligned_alloc(RTE_CACHE_LINE_SIZE,
					    RTE_ALIGN_CEIL(sizeof(*c), RTE_CACHE_LINE_SIZE));

	if (c == NULL)
		return NULL;
	memset(c, 0, sizeof(*c));
	for (unsigned i = 0; i < MSRV_MAX_REGIONS; i++)
		c->region[i].fd = -1;
	for (unsigned i = 0; i < PSW_MAX_QUEUES; i++) {
		c->c2s[i].intr_fd = c->s2c[i].intr_fd = -1;
		rte_spinlock_init(&c->s2c[i].lock);
	}
	c->max_len = s->buffer_size;
	c->n_txq = s->io.n_txq;
	c->mp = s->mp;
	return c;
}

/* The port's link follows the client's connection; the registry reads it on the control
 * loop's next turn (psw_backend_link_event). */
static void
set_link(struct psw_memif_server *s, bool up)
{
	__atomic_store_n(&s->io.link_up, up, __ATOMIC_RELAXED);
	psw_backend_link_event();
}

static void
cc_close(struct msrv_cc *cc, const char *reason)
{
	struct psw_memif_server *s = cc->srv;

	if (reason != NULL) {
		struct memif_msg m = { .type = MEMIF_MSG_DISCONNECT };

		snprintf((char *)m.disconnect.string, sizeof(m.disconnect.string), "%s", reason);
		(void)send_msg(cc->fd, &m);
		snprintf(s->last_reason, sizeof(s->last_reason), "%s", reason);
		RTE_LOG(INFO, USER1, "memif %s: disconnect: %s\n", s->name, reason);
	}
	if (cc->state == CC_CONNECTED) {
		/* Unpublish, then unmap after every PMD has let go (psw_rcu_reclaim). */
		struct msrv_conn *old = __atomic_exchange_n(&s->dp.conn, NULL, __ATOMIC_ACQ_REL);

		set_link(s, false);
		s->disconnects++;
		psw_retire(old, conn_free);
		cc->conn = NULL;
	}
	if (cc->conn != NULL)
		conn_free(cc->conn); /* never published: nobody else saw it */
	if (s->active == cc)
		s->active = NULL;
	for (unsigned i = 0; i < MSRV_MAX_PENDING; i++)
		if (s->cc[i] == cc)
			s->cc[i] = NULL;
	epoll_ctl(ep_fd, EPOLL_CTL_DEL, cc->fd, NULL);
	close(cc->fd);
	free(cc);
}

static int
on_init(struct msrv_cc *cc, const struct memif_msg_init *in, const char **why)
{
	struct psw_memif_server *s = cc->srv;
	char secret[MEMIF_SECRET_SZ + 1];

	if (in->version != MEMIF_VERSION)
		return *why = "Incompatible memif version", -1;
	if (in->id != s->id)
		return *why = "ID not found", -1;
	if (s->active != NULL)
		return *why = "Already connected", -1;
	if (in->mode != MEMIF_MODE_ETHERNET)
		return *why = "Only ethernet mode supported", -1;
	memcpy(secret, in->secret, MEMIF_SECRET_SZ);
	secret[MEMIF_SECRET_SZ] = '\0';
	if (s->has_secret) {
		if (secret[0] == '\0')
			return *why = "Secret required", -1;
		if (strcmp(secret, s->secret) != 0)
			return *why = "Incorrect secret", -1;
	}
	memcpy(cc->peer, in->name, MEMIF_NAME_SZ);
	cc->peer[MEMIF_NAME_SZ] = '\0';
	for (char *p = cc->peer; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	cc->conn = conn_new(s);
	if (cc->conn == NULL)
		return *why = "Out of memory", -1;
	cc->state = CC_INIT_DONE;
	s->active = cc;
	return 0;
}

static int
on_add_region(struct msrv_cc *cc, const struct memif_msg_add_region *ar, int fd,
	      const char **why)
{
	struct msrv_conn *c = cc->conn;
	struct msrv_region *r;
	struct stat st;
	int seals;
	void *addr;

	if (fd < 0)
		return *why = "Missing region fd", -1;
	if (ar->index != c->n_regions || ar->index >= MSRV_MAX_REGIONS)
		return close(fd), *why = "Invalid region index", -1;
	if (ar->size == 0 || ar->size > MSRV_MAX_REGION_SZ)
		return close(fd), *why = "Invalid region size", -1;
	/* The memory behind every byte we map must stay: a file shorter than the region,
	 * or one the client may shrink later, would fault (SIGBUS) in a PMD. */
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < ar->size)
		return close(fd), *why = "Region fd smaller than its size", -1;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return close(fd), *why = "Region must be sealed against shrinking", -1;
	addr = mmap(NULL, ar->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (addr == MAP_FAILED)
		return close(fd), *why = "Cannot map region", -1;
	r = &c->region[c->n_regions++];
	r->addr = addr;
	r->size = ar->size;
	r->fd = fd;
	return 0;
}

static int
on_add_ring(struct msrv_cc *cc, const struct memif_msg_add_ring *ar, int fd,
	    const char **why)
{
	struct psw_memif_server *s = cc->srv;
	struct msrv_conn *c = cc->conn;
	bool c2s = ar->flags & MEMIF_ADD_RING_FLAG_C2S;
	struct msrv_ring *r;
	uint64_t end;

	if (c2s ? ar->index >= s->io.n_rxq : ar->index >= s->io.n_txq)
		return *why = "Invalid ring index", -1;
	r = c2s ? &c->c2s[ar->index] : &c->s2c[ar->index];
	if (r->ring != NULL)
		return *why = "Ring added twice", -1;
	if (ar->region >= c->n_regions)
		return *why = "Invalid ring region", -1;
	if (ar->log2_ring_size > s->log2_ring || ar->log2_ring_size > 15)
		return *why = "Ring too large", -1;
	if (ar->private_hdr_size != 0)
		return *why = "Private header not supported", -1;
	if (ar->offset % 8 != 0)
		return *why = "Misaligned ring", -1;
	end = (uint64_t)ar->offset + MEMIF_RING_HDR_SIZE +
	      ((uint64_t)1 << ar->log2_ring_size) * sizeof(struct memif_desc);
	if (end > c->region[ar->region].size)
		return *why = "Ring outside its region", -1;
	r->ring = (struct memif_ring *)(c->region[ar->region].addr + ar->offset);
	r->size = (uint16_t)(1u << ar->log2_ring_size);
	r->mask = (uint16_t)(r->size - 1);
	r->intr_fd = fd; /* may be -1; kept so the client's eventfd lives as long as the ring */
	return 0;
}

static int
on_connect(struct msrv_cc *cc, const char **why)
{
	struct psw_memif_server *s = cc->srv;
	struct msrv_conn *c = cc->conn;
	struct msrv_conn *old;

	while (c->n_c2s < PSW_MAX_QUEUES && c->c2s[c->n_c2s].ring != NULL)
		c->n_c2s++;
	while (c->n_s2c < PSW_MAX_QUEUES && c->s2c[c->n_s2c].ring != NULL)
		c->n_s2c++;
	for (unsigned i = 0; i < PSW_MAX_QUEUES; i++)
		if ((i >= c->n_c2s && c->c2s[i].ring != NULL) ||
		    (i >= c->n_s2c && c->s2c[i].ring != NULL))
			return *why = "Ring indexes not contiguous", -1;
	if (c->n_c2s == 0 || c->n_s2c == 0)
		return *why = "No rings", -1;
	/* As DPDK's server does: both sides start at 0; the server polls its receive rings
	 * (c2s), so the client need not interrupt it. */
	for (unsigned i = 0; i < c->n_c2s; i++) {
		__atomic_store_n(&c->c2s[i].ring->head, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&c->c2s[i].ring->tail, 0, __ATOMIC_RELAXED);
		c->c2s[i].ring->flags = MEMIF_RING_FLAG_MASK_INT;
	}
	for (unsigned i = 0; i < c->n_s2c; i++) {
		__atomic_store_n(&c->s2c[i].ring->head, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&c->s2c[i].ring->tail, 0, __ATOMIC_RELAXED);
	}
	if (c->mp == NULL)
		c->mp = s->mp = psw_backend_switch_pool();
	if (c->mp == NULL)
		return *why = "No mbuf pool", -1;
	/* Release: PMDs that see the pointer see the rings set up above. */
	old = __atomic_exchange_n(&s->dp.conn, c, __ATOMIC_ACQ_REL);
	psw_retire(old, conn_free); /* none expected: one active client at a time */
	cc->state = CC_CONNECTED;
	s->connects++;
	s->last_reason[0] = '\0';
	set_link(s, true);
	RTE_LOG(INFO, USER1, "memif %s: %s connected (%u c2s, %u s2c rings of %u)\n", s->name,
		cc->peer, c->n_c2s, c->n_s2c, c->c2s[0].size);
	return 0;
}

/* Handle one message; -1 closes the channel (with *why sent as DISCONNECT when set). */
static int
cc_message(struct msrv_cc *cc, const struct memif_msg *m, int fd, const char **why)
{
	struct memif_msg reply = { .type = MEMIF_MSG_ACK };

	switch (cc->state == CC_HELLO_SENT ? (m->type == MEMIF_MSG_INIT ? 1 : 0) :
		cc->state == CC_INIT_DONE ? 2 : 3) {
	case 0:
		if (fd >= 0)
			close(fd);
		return *why = "Unexpected message", -1;
	case 1:
		if (fd >= 0)
			close(fd);
		if (on_init(cc, &m->init, why) < 0)
			return -1;
		break;
	case 2:
		switch (m->type) {
		case MEMIF_MSG_ADD_REGION:
			if (on_add_region(cc, &m->add_region, fd, why) < 0)
				return -1;
			break;
		case MEMIF_MSG_ADD_RING:
			if (on_add_ring(cc, &m->add_ring, fd, why) < 0) {
				if (fd >= 0)
					close(fd);
				return -1;
			}
			break;
		case MEMIF_MSG_CONNECT:
			if (fd >= 0)
				close(fd);
			if (on_connect(cc, why) < 0)
				return -1;
			reply.type = MEMIF_MSG_CONNECTED;
			snprintf((char *)reply.connect.if_name, sizeof(reply.connect.if_name),
				 "%.31s", cc->srv->name);
			break;
		case MEMIF_MSG_DISCONNECT:
			if (fd >= 0)
				close(fd);
			return *why = NULL, -1;
		default:
			if (fd >= 0)
				close(fd);
			return *why = "Unexpected message", -1;
		}
		break;
	default: /* connected: only DISCONNECT (or ACK) may come */
		if (fd >= 0)
			close(fd);
		if (m->type == MEMIF_MSG_ACK)
			return 0;
		if (m->type == MEMIF_MSG_DISCONNECT)
			return *why = NULL, -1;
		return *why = "Unexpected message", -1;
	}
	if (send_msg(cc->fd, &reply) < 0)
		return *why = NULL, -1;
	return 0;
}

static void
cc_readable(struct msrv_cc *cc)
{
	/* A few messages per wake-up: a slow client cannot hold the control thread. */
	for (int i = 0; i < 16; i++) {
		const char *why = NULL;
		struct memif_msg m;
		int fd, rc = recv_msg(cc->fd, &m, &fd);

		if (rc == 0)
			return;
		if (rc < 0) {
			cc_close(cc, NULL);
			return;
		}
		if (cc_message(cc, &m, fd, &why) < 0) {
			cc_close(cc, why);
			return;
		}
	}
}

static void
listener_readable(struct psw_memif_server *s)
{
	struct memif_msg hello = { .type = MEMIF_MSG_HELLO };
	struct epoll_event ev = { .events = EPOLLIN };
	struct msrv_cc *cc;
	unsigned slot;
	int fd;

	fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (slot = 0; slot < MSRV_MAX_PENDING && s->cc[slot] != NULL; slot++)
		;
	cc = slot < MSRV_MAX_PENDING ? calloc(1, sizeof(*cc)) : NULL;
	if (cc == NULL) {
		close(fd); /* too many at once: the client retries */
		return;
	}
	cc->fd = fd;
	cc->srv = s;
	cc->state = CC_HELLO_SENT;
	cc->deadline_ms = now_ms() + handshake_timeout_ms;
	ev.data.ptr = cc;
	snprintf((char *)hello.hello.name, sizeof(hello.hello.name), "podswitch");
	hello.hello.min_version = hello.hello.max_version = MEMIF_VERSION;
	hello.hello.max_region = MSRV_MAX_REGIONS - 1;
	hello.hello.max_c2s_ring = (uint16_t)(s->io.n_rxq - 1);
	hello.hello.max_s2c_ring = (uint16_t)(s->io.n_txq - 1);
	hello.hello.max_log2_ring_size = (uint8_t)s->log2_ring;
	if (epoll_ctl(ep_fd, EPOLL_CTL_ADD, fd, &ev) < 0 || send_msg(fd, &hello) < 0) {
		epoll_ctl(ep_fd, EPOLL_CTL_DEL, fd, NULL);
		close(fd);
		free(cc);
		return;
	}
	s->cc[slot] = cc;
}

/* The listener's epoll data is the server tagged with bit 0 (servers are aligned). */
#define LISTENER_TAG 1ul

/* Drop handshakes that are taking too long. */
static void
expire_handshakes(void)
{
	uint64_t now = now_ms();

	for (struct psw_memif_server *s = servers; s != NULL; s = s->next)
		for (unsigned i = 0; i < MSRV_MAX_PENDING; i++)
			if (s->cc[i] != NULL && s->cc[i]->state != CC_CONNECTED &&
			    now >= s->cc[i]->deadline_ms)
				cc_close(s->cc[i], "Connection timed out");
}

void
psw_memif_server_poll(void)
{
	static uint64_t next_expire;
	struct epoll_event evs[16];
	int n;

	if (ep_fd < 0)
		return;
	n = epoll_wait(ep_fd, evs, 16, 0);
	for (int i = 0; i < n; i++) {
		uintptr_t p = (uintptr_t)evs[i].data.ptr;

		if (p & LISTENER_TAG)
			listener_readable((struct psw_memif_server *)(p & ~LISTENER_TAG));
		else
			cc_readable((struct msrv_cc *)p);
	}
	if (now_ms() >= next_expire) {
		expire_handshakes();
		next_expire = now_ms() + RTE_MIN(handshake_timeout_ms, (uint64_t)200);
	}
}

void
psw_memif_server_set_handshake_timeout(unsigned ms)
{
	handshake_timeout_ms = ms;
}

int
psw_memif_server_fd(void)
{
	return ep_fd;
}

/* --- ports --- */

static int
listen_on(const struct psw_memif_server_conf *conf)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd, saved;

	if (conf->netns != NULL && psw_netns_enter(conf->netns, &saved, NULL) < 0)
		return -EINVAL;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (conf->netns != NULL && psw_netns_leave(saved) < 0)
		rte_panic("cannot return to podswitchd's network namespace\n");
	if (fd < 0)
		return -errno;
	if (conf->abstract) {
		/* As DPDK's memif binds and connects: the name, no trailing padding. */
		memcpy(sa.sun_path + 1, conf->socket, strlen(conf->socket));
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(conf->socket));
	} else {
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", conf->socket);
		len = sizeof(sa);
	}
	if (bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 8) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

struct psw_memif_server *
psw_memif_server_find(const char *name)
{
	for (struct psw_memif_server *s = servers; s != NULL; s = s->next)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

struct psw_memif_server *
psw_memif_server_by_socket(const char *socket)
{
	for (struct psw_memif_server *s = servers; s != NULL; s = s->next)
		if (strcmp(s->socket, socket) == 0)
			return s;
	return NULL;
}

const char *
psw_memif_server_name(const struct psw_memif_server *s)
{
	return s->name;
}

struct psw_memif_server *
psw_memif_server_create(const struct psw_memif_server_conf *conf)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct psw_memif_server *s;
	int e;

	for (s = servers; s != NULL; s = s->next)
		if (strcmp(s->socket, conf->socket) == 0 || strcmp(s->name, conf->name) == 0) {
			errno = EEXIST;
			return NULL;
		}
	if (ep_fd < 0) {
		ep_fd = epoll_create1(EPOLL_CLOEXEC);
		if (ep_fd < 0)
			return NULL;
	}
	s = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(sizeof(*s), RTE_CACHE_LINE_SIZE));
	if (s == NULL)
		return NULL;
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", conf->name);
	snprintf(s->socket, sizeof(s->socket), "%s", conf->socket);
	s->abstract = conf->abstract;
	s->id = conf->id;
	s->log2_ring = conf->log2_ring;
	s->buffer_size = conf->buffer_size;
	if (conf->secret != NULL && conf->secret[0] != '\0') {
		snprintf(s->secret, sizeof(s->secret), "%s", conf->secret);
		s->has_secret = true;
	}
	s->io.rx_burst = psw_memif_rx_burst;
	s->io.tx_burst = psw_memif_tx_burst;
	s->io.ctx = &s->dp;
	s->io.driver = "podswitch_memif";
	s->io.n_rxq = conf->n_rxq ? conf->n_rxq : 1;
	s->io.n_txq = conf->n_txq ? conf->n_txq : 1;
	s->io.mtu = conf->mtu ? conf->mtu : RTE_ETHER_MTU;
	s->io.mac = conf->mac;
	s->mp = psw_backend_switch_pool();
	s->listen_fd = listen_on(conf);
	if (s->listen_fd < 0) {
		e = -s->listen_fd;
		free(s);
		errno = e;
		return NULL;
	}
	ev.data.ptr = (void *)((uintptr_t)s | LISTENER_TAG);
	if (epoll_ctl(ep_fd, EPOLL_CTL_ADD, s->listen_fd, &ev) < 0) {
		e = errno;
		close(s->listen_fd);
		free(s);
		errno = e;
		return NULL;
	}
	s->next = servers;
	servers = s;
	return s;
}

const struct psw_port_io *
psw_memif_server_io(struct psw_memif_server *s)
{
	return &s->io;
}

void
psw_memif_server_started(struct psw_memif_server *s)
{
	set_link(s, s->dp.conn != NULL);
}

void
psw_memif_server_destroy(struct psw_memif_server *s)
{
	struct psw_memif_server **pp;
	struct msrv_conn *c;

	for (unsigned i = 0; i < MSRV_MAX_PENDING; i++)
		if (s->cc[i] != NULL)
			cc_close(s->cc[i], "Interface deleted");
	/* cc_close retired the connection; the port is gone from the PMDs already
	 * (psw_port_del waited a grace period), so nothing reads it. */
	c = __atomic_exchange_n(&s->dp.conn, NULL, __ATOMIC_ACQ_REL);
	if (c != NULL)
		conn_free(c);
	epoll_ctl(ep_fd, EPOLL_CTL_DEL, s->listen_fd, NULL);
	close(s->listen_fd);
	for (pp = &servers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	free(s);
	if (servers == NULL && ep_fd >= 0) {
		close(ep_fd);
		ep_fd = -1;
	}
}

uint64_t
psw_memif_server_bad_desc(struct psw_memif_server *s)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < PSW_MAX_QUEUES; i++)
		n += __atomic_load_n(&s->dp.rx[i].bad_desc, __ATOMIC_RELAXED) +
		     __atomic_load_n(&s->dp.tx[i].bad_desc, __ATOMIC_RELAXED);
	return n;
}

bool
psw_memif_server_connected(struct psw_memif_server *s)
{
	return s->dp.conn != NULL;
}

void
psw_memif_server_describe(struct psw_memif_server *s, json_t *out)
{
	const struct msrv_conn *c = s->dp.conn;
	uint64_t rx = 0, tx = 0;

	for (unsigned i = 0; i < PSW_MAX_QUEUES; i++) {
		rx += __atomic_load_n(&s->dp.rx[i].bad_desc, __ATOMIC_RELAXED);
		tx += __atomic_load_n(&s->dp.tx[i].bad_desc, __ATOMIC_RELAXED);
	}
	json_object_set_new(out, "connected", json_boolean(c != NULL));
	json_object_set_new(out, "bad_desc", json_integer((json_int_t)(rx + tx)));
	json_object_set_new(out, "rx_bad_desc", json_integer((json_int_t)rx));
	json_object_set_new(out, "tx_bad_desc", json_integer((json_int_t)tx));
	json_object_set_new(out, "connects", json_integer((json_int_t)s->connects));
	json_object_set_new(out, "disconnects", json_integer((json_int_t)s->disconnects));
	if (s->last_reason[0] != '\0')
		json_object_set_new(out, "last_disconnect", json_string(s->last_reason));
	if (c != NULL && s->active != NULL) {
		json_object_set_new(out, "peer", json_string(s->active->peer));
		json_object_set_new(out, "c2s_rings", json_integer(c->n_c2s));
		json_object_set_new(out, "s2c_rings", json_integer(c->n_s2c));
		json_object_set_new(out, "peer_ring_size", json_integer(c->c2s[0].size));
		json_object_set_new(out, "regions", json_integer(c->n_regions));
	}
}
