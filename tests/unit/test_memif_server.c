/*
 * test_memif_server.c: podswitch's memif server (vhost/memif_server.c, memif_ring.c)
 * against a client written here, which builds its region and rings in a sealed memfd
 * and speaks the control protocol by hand. The client is hostile: descriptors with
 * region, offset and length out of range, 32-bit offset + length wrap-around, endless
 * chains, a head far ahead of the tail, offered tx buffers outside the region, and a
 * handshake that places rings outside regions or passes unsealed memory. Nothing
 * crashes (run it under ASan: meson setup build-asan -Db_sanitize=address), bad
 * descriptors are counted in bad_desc, good packets still arrive, bad set-ups get a
 * DISCONNECT with the reason and leave the link down.
 *
 * The port is made through the "memif" back end (create, psw_port_add_io, started) as
 * rpc_port.c does; the test thread plays the PMD (io->rx_burst/tx_burst) and the
 * control loop (psw_backend_poll_events: the memif server's poll, then link state).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "port/backend.h"
#include "backends/backends.h"
#include "backends/memif_proto.h"
#include "backends/memif_server.h"
#include "datapath/pmd.h"
#include "port/port.h"
#include "core/rcu.h"

#define LOG2   6                      /* 64 descriptors per ring */
#define NDESC  (1u << LOG2)
#define BUFSZ  2048u
#define RING_BYTES (MEMIF_RING_HDR_SIZE + NDESC * sizeof(struct memif_desc))
#define BUF0   (2 * RING_BYTES)       /* buffers start after the two rings */
#define REGION (BUF0 + 2 * NDESC * BUFSZ)

static char sock_path[108];
static struct rte_mempool *mp;

struct client {
	int fd;
	uint8_t *mem;
	int mem_fd;
	struct memif_ring *c2s, *s2c;
	const struct psw_port_io *io;
	uint16_t port;
	uint16_t head;                /* c2s: next descriptor we fill */
};

/* --- the port --- */

static const struct psw_port_io *
make_port(const char *name, const char *extra_opts, uint16_t *id)
{
	const struct psw_backend *be = psw_backend_find("memif");
	struct psw_port_conf conf = { .output = PSW_PORT_NONE, .type = "memif" };
	const struct psw_port_io *io;
	struct psw_rpc_error err;
	char opts[512], msg[256];
	json_t *o;
	int rc;

	snprintf(opts, sizeof(opts), "{\"socket\":\"%s\",\"abstract\":false%s}", sock_path,
		 extra_opts ? extra_opts : "");
	o = json_loads(opts, 0, NULL);
	assert_non_null(o);
	snprintf(conf.name, sizeof(conf.name), "%s", name);
	if (be->create(name, o, &conf, &io, &err) != 0)
		fail_msg("create: %s", err.message);
	rc = psw_port_add_io(&conf, io, msg, sizeof(msg));
	if (rc < 0)
		fail_msg("psw_port_add_io: %s", msg);
	assert_int_equal(be->started(name, UINT16_MAX, o, &err), 0);
	json_decref(o);
	*id = (uint16_t)rc;
	return io;
}

static void
drop_port(const char *name)
{
	const struct psw_backend *be = psw_backend_find("memif");
	struct psw_port *p = psw_port_by_name(name);
	json_t *o = json_pack("{s:s, s:b}", "socket", sock_path, "abstract", 0);
	char msg[256];

	assert_non_null(p);
	assert_int_equal(psw_port_del(p->id, msg, sizeof(msg)), 0);
	be->removed(name, o);
	json_decref(o);
	psw_rcu_reclaim();
	assert_int_equal(access(sock_path, F_OK), -1); /* the socket file is gone */
}

/* --- the client's side of the control channel --- */

static void
send_msg(struct client *c, const struct memif_msg *m, int fd)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(ctl, 0, sizeof(ctl));
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof(ctl);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	assert_int_equal(sendmsg(c->fd, &mh, 0), (ssize_t)sizeof(*m));
}

/* Run the server's control loop until it answers; returns the type (0: closed). */
static uint16_t
reply(struct client *c, struct memif_msg *m)
{
	for (int i = 0; i < 2000; i++) {
		ssize_t n;

		psw_backend_poll_events();
		n = recv(c->fd, m, sizeof(*m), MSG_DONTWAIT);
		if (n == (ssize_t)sizeof(*m))
			return m->type;
		if (n == 0)
			return 0;
		usleep(1000);
	}
	fail_msg("no answer from the server");
	return 0;
}

static void
expect(struct client *c, uint16_t type)
{
	struct memif_msg m;
	uint16_t t = reply(c, &m);

	if (t != type)
		fail_msg("expected message %u, got %u (%s)", type, t,
			 t == MEMIF_MSG_DISCONNECT ? (char *)m.disconnect.string : "");
}

/* The server says DISCONNECT with this reason and closes. */
static void
expect_disconnect(struct client *c, const char *reason)
{
	struct memif_msg m;

	assert_int_equal(reply(c, &m), MEMIF_MSG_DISCONNECT);
	if (strstr((char *)m.disconnect.string, reason) == NULL)
		fail_msg("disconnect reason \"%s\", expected \"%s\"", m.disconnect.string, reason);
	assert_int_equal(reply(c, &m), 0);
}

static void
client_connect(struct client *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct memif_msg m;

	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(reply(c, &m), MEMIF_MSG_HELLO);
	assert_int_equal(m.hello.min_version, MEMIF_VERSION);
	assert_int_equal(m.hello.max_version, MEMIF_VERSION);
	assert_true(m.hello.max_log2_ring_size >= LOG2);
	assert_int_equal(m.hello.max_c2s_ring, 0);
	assert_string_equal((char *)m.hello.name, "podswitch");
}

static void
send_init(struct client *c, uint32_t id, const char *secret)
{
	struct memif_msg m = { .type = MEMIF_MSG_INIT };

	m.init.version = MEMIF_VERSION;
	m.init.id = id;
	m.init.mode = MEMIF_MODE_ETHERNET;
	if (secret != NULL)
		memcpy(m.init.secret, secret, strlen(secret));
	snprintf((char *)m.init.name, sizeof(m.init.name), "hostile-client");
	send_msg(c, &m, -1);
}

/* A memfd region, sealed against shrinking unless told otherwise. */
static void
make_region(struct client *c, uint64_t size, bool seal)
{
	c->mem_fd = memfd_create("memif-test", MFD_ALLOW_SEALING);
	assert_true(c->mem_fd >= 0);
	assert_int_equal(ftruncate(c->mem_fd, (off_t)size), 0);
	if (seal)
		assert_int_equal(fcntl(c->mem_fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	c->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, c->mem_fd, 0);
	assert_true(c->mem != MAP_FAILED);
}

static void
send_region(struct client *c, uint64_t size)
{
	struct memif_msg m = { .type = MEMIF_MSG_ADD_REGION };

	m.add_region.index = 0;
	m.add_region.size = size;
	send_msg(c, &m, c->mem_fd);
}

static void
send_ring(struct client *c, bool c2s, uint32_t offset, uint8_t log2)
{
	struct memif_msg m = { .type = MEMIF_MSG_ADD_RING };
	int efd = eventfd(0, EFD_NONBLOCK);

	m.add_ring.flags = c2s ? MEMIF_ADD_RING_FLAG_C2S : 0;
	m.add_ring.index = 0;
	m.add_ring.region = 0;
	m.add_ring.offset = offset;
	m.add_ring.log2_ring_size = log2;
	send_msg(c, &m, efd);
	close(efd);
}

static void
client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	if (c->mem != NULL)
		munmap(c->mem, REGION);
	if (c->mem_fd > 0)
		close(c->mem_fd);
	c->fd = -1;
	c->mem = NULL;
	c->mem_fd = -1;
	psw_backend_poll_events();
}

/* A full, well-formed handshake: rings at 0 and RING_BYTES, buffers after them. */
static void
client_up(struct client *c, const char *name, uint16_t port, const struct psw_port_io *io)
{
	struct memif_msg m = { .type = MEMIF_MSG_CONNECT };

	client_connect(c);
	c->io = io;
	c->port = port;
	send_init(c, 0, NULL);
	expect(c, MEMIF_MSG_ACK);
	make_region(c, REGION, true);
	c->c2s = (struct memif_ring *)c->mem;
	c->s2c = (struct memif_ring *)(c->mem + RING_BYTES);
	for (unsigned i = 0; i < NDESC; i++) {
		/* Every slot starts bad (region 9): anything the server reads that we did
		 * not write on purpose is counted, never followed. */
		c->c2s->desc[i] = (struct memif_desc){ .region = 9 };
		c->s2c->desc[i] = (struct memif_desc){ .region = 0, .length = BUFSZ,
			.offset = BUF0 + (NDESC + i) * BUFSZ };
	}
	c->c2s->cookie = c->s2c->cookie = MEMIF_COOKIE;
	send_region(c, REGION);
	expect(c, MEMIF_MSG_ACK);
	send_ring(c, true, 0, LOG2);
	expect(c, MEMIF_MSG_ACK);
	send_ring(c, false, RING_BYTES, LOG2);
	expect(c, MEMIF_MSG_ACK);
	send_msg(c, &m, -1);
	expect(c, MEMIF_MSG_CONNECTED);
	assert_true(psw_ports[port].link_up);
	assert_true(psw_memif_server_connected(psw_memif_server_find(name)));
	/* The server polls: it tells us not to interrupt it. */
	assert_int_equal(c->c2s->flags & MEMIF_RING_FLAG_MASK_INT, MEMIF_RING_FLAG_MASK_INT);
}

/* Client transmit: one descriptor into slot head. */
static void
put(struct client *c, struct memif_desc d)
{
	c->c2s->desc[c->head & (NDESC - 1)] = d;
	c->head++;
}

/* A good descriptor: its own buffer, filled with a byte pattern. */
static struct memif_desc
good(struct client *c, uint32_t len, uint8_t fill, uint16_t flags)
{
	uint32_t off = BUF0 + (c->head & (NDESC - 1)) * BUFSZ;

	memset(c->mem + off, fill, len);
	return (struct memif_desc){ .flags = flags, .region = 0, .length = len, .offset = off };
}

static void
publish(struct client *c, uint16_t head)
{
	__atomic_store_n(&c->c2s->head, head, __ATOMIC_RELEASE);
}

static uint16_t
rx(struct client *c, struct rte_mbuf **pkts, uint16_t n)
{
	return c->io->rx_burst(c->io->ctx, 0, pkts, n);
}

static uint64_t
bad_desc(const char *name)
{
	return psw_memif_server_bad_desc(psw_memif_server_find(name));
}

static bool
all_bytes(const struct rte_mbuf *m, uint8_t v)
{
	for (; m != NULL; m = m->next)
		for (uint16_t i = 0; i < m->data_len; i++)
			if (rte_pktmbuf_mtod(m, const uint8_t *)[i] != v)
				return false;
	return true;
}

/* --- tests --- */

static void
test_good_packets(void **state)
{
	static const uint16_t bursts[] = { 0, 1, 3, 4, 5, 32 };
	struct rte_mbuf *pkts[64];
	struct client c;
	uint16_t id, n;
	const struct psw_port_io *io = make_port("mg", NULL, &id);

	(void)state;
	client_up(&c, "mg", id, io);
	for (unsigned b = 0; b < RTE_DIM(bursts); b++) {
		for (uint16_t i = 0; i < bursts[b]; i++)
			put(&c, good(&c, (uint32_t)(60 + i), (uint8_t)(b * 16 + i), 0));
		publish(&c, c.head);
		n = rx(&c, pkts, 32);
		assert_int_equal(n, bursts[b]);
		for (uint16_t i = 0; i < n; i++) {
			assert_int_equal(pkts[i]->pkt_len, 60 + i);
			assert_true(all_bytes(pkts[i], (uint8_t)(b * 16 + i)));
		}
		rte_pktmbuf_free_bulk(pkts, n);
		/* The server gave the slots back. */
		assert_int_equal(__atomic_load_n(&c.c2s->tail, __ATOMIC_ACQUIRE), c.head);
	}
	/* A chained packet (3 descriptors) arrives as one multi-segment mbuf. */
	put(&c, good(&c, 1000, 0x11, MEMIF_DESC_FLAG_NEXT));
	put(&c, good(&c, 2048, 0x11, MEMIF_DESC_FLAG_NEXT));
	put(&c, good(&c, 500, 0x11, 0));
	publish(&c, c.head);
	assert_int_equal(rx(&c, pkts, 32), 1);
	assert_int_equal(pkts[0]->pkt_len, 3548);
	assert_true(all_bytes(pkts[0], 0x11));
	rte_pktmbuf_free(pkts[0]);
	/* A chain whose end is not published yet waits. */
	put(&c, good(&c, 100, 0x22, MEMIF_DESC_FLAG_NEXT));
	publish(&c, c.head);
	assert_int_equal(rx(&c, pkts, 32), 0);
	put(&c, good(&c, 100, 0x22, 0));
	publish(&c, c.head);
	assert_int_equal(rx(&c, pkts, 32), 1);
	assert_int_equal(pkts[0]->pkt_len, 200);
	rte_pktmbuf_free(pkts[0]);
	assert_int_equal(bad_desc("mg"), 0);

	/* The client goes: link down, nothing more received. */
	client_close(&c);
	assert_false(psw_ports[id].link_up);
	assert_int_equal(rx(&c, pkts, 32), 0);
	psw_rcu_reclaim();
	drop_port("mg");
}

static void
test_hostile_rx(void **state)
{
	struct rte_mbuf *pkts[64];
	struct client c;
	uint16_t id, n;
	const struct psw_port_io *io = make_port("mh", NULL, &id);

	(void)state;
	client_up(&c, "mh", id, io);
	put(&c, good(&c, 64, 1, 0));
	put(&c, (struct memif_desc){ .region = 1, .length = 64, .offset = BUF0 });   /* no region 1 */
	put(&c, (struct memif_desc){ .region = 0, .length = 64, .offset = REGION - 32 }); /* past the end */
	put(&c, (struct memif_desc){ .region = 0, .length = 0x20, .offset = 0xfffffff0 }); /* 32-bit wrap */
	put(&c, (struct memif_desc){ .region = 0, .length = 0xffffffff, .offset = 0 }); /* huge */
	put(&c, (struct memif_desc){ .region = 0, .length = BUFSZ + 1, .offset = BUF0 }); /* > buffer_size */
	put(&c, (struct memif_desc){ .region = 0, .length = 0, .offset = BUF0 });    /* empty */
	put(&c, good(&c, 64, 2, 0));
	/* A chain with one bad link: the whole packet goes. */
	put(&c, good(&c, 64, 3, MEMIF_DESC_FLAG_NEXT));
	put(&c, (struct memif_desc){ .region = 0, .length = 64, .offset = REGION,
				     .flags = MEMIF_DESC_FLAG_NEXT });
	put(&c, good(&c, 64, 3, 0));
	put(&c, good(&c, 64, 4, 0));
	publish(&c, c.head);
	n = rx(&c, pkts, 32);
	assert_int_equal(n, 3);
	assert_true(all_bytes(pkts[0], 1) && all_bytes(pkts[1], 2) && all_bytes(pkts[2], 4));
	rte_pktmbuf_free_bulk(pkts, n);
	assert_int_equal(bad_desc("mh"), 7);
	assert_int_equal(c.c2s->tail, c.head);

	/* An endless chain (every slot NEXT): cut at the chain limit, counted, ring moves on. */
	for (int i = 0; i < 40; i++)
		put(&c, good(&c, 64, 5, MEMIF_DESC_FLAG_NEXT));
	put(&c, good(&c, 64, 6, 0));
	put(&c, good(&c, 64, 7, 0));
	publish(&c, c.head);
	for (int i = 0; i < 4 && c.c2s->tail != c.head; i++) {
		n = rx(&c, pkts, 32);
		for (uint16_t k = 0; k < n; k++)
			assert_true(pkts[k]->pkt_len <= MSRV_MAX_CHAIN * 64);
		rte_pktmbuf_free_bulk(pkts, n);
	}
	assert_int_equal(c.c2s->tail, c.head);
	assert_int_equal(bad_desc("mh"), 8);

	/* A head far ahead of the tail: at most one ring's worth is read; every slot the
	 * client did not fill on purpose is bad (region 9) and counted, not followed. */
	for (unsigned i = 0; i < NDESC; i++)
		c.c2s->desc[i] = (struct memif_desc){ .region = 9, .length = 64 };
	c.c2s->desc[c.head & (NDESC - 1)] = good(&c, 64, 8, 0);
	publish(&c, (uint16_t)(c.head + 40000));
	n = rx(&c, pkts, 32);
	assert_int_equal(n, 1);
	assert_true(all_bytes(pkts[0], 8));
	rte_pktmbuf_free(pkts[0]);
	assert_int_equal(bad_desc("mh"), 8 + NDESC - 1);
	/* The server's tail moved by exactly one ring's worth, not by the claimed 40000. */
	assert_int_equal(c.c2s->tail, (uint16_t)(c.head + NDESC));

	client_close(&c);
	drop_port("mh");
}

static void
test_hostile_tx(void **state)
{
	struct rte_mbuf *pkts[4];
	struct client c;
	uint16_t id;
	const struct psw_port_io *io = make_port("mt", NULL, &id);

	(void)state;
	client_up(&c, "mt", id, io);
	/* The client offers 4 buffers: good, outside any region, offset past the end,
	 * good. */
	c.s2c->desc[1] = (struct memif_desc){ .region = 3, .length = BUFSZ, .offset = 0 };
	c.s2c->desc[2] = (struct memif_desc){ .region = 0, .length = BUFSZ, .offset = REGION - 8 };
	__atomic_store_n(&c.s2c->head, 4, __ATOMIC_RELEASE);
	for (int i = 0; i < 3; i++) {
		pkts[i] = rte_pktmbuf_alloc(mp);
		memset(rte_pktmbuf_append(pkts[i], 100), 0x40 + i, 100);
	}
	assert_int_equal(io->tx_burst(io->ctx, 0, pkts, 3), 2);
	rte_pktmbuf_free(pkts[2]);
	assert_int_equal(c.s2c->tail, 4);
	assert_int_equal(c.s2c->desc[0].length, 100);
	assert_int_equal(c.s2c->desc[1].length, 0); /* handed back empty */
	assert_int_equal(c.s2c->desc[2].length, 0);
	assert_int_equal(c.s2c->desc[3].length, 100);
	assert_int_equal(c.mem[c.s2c->desc[0].offset], 0x40);
	assert_int_equal(c.mem[c.s2c->desc[3].offset + 99], 0x41);
	assert_int_equal(bad_desc("mt"), 2);

	/* A packet longer than one buffer is chained over two. */
	for (unsigned i = 4; i < 8; i++)
		c.s2c->desc[i] = (struct memif_desc){ .region = 0, .length = 1024,
			.offset = BUF0 + (NDESC + i) * BUFSZ };
	__atomic_store_n(&c.s2c->head, 8, __ATOMIC_RELEASE);
	pkts[0] = rte_pktmbuf_alloc(mp);
	memset(rte_pktmbuf_append(pkts[0], 1500), 0x55, 1500);
	assert_int_equal(io->tx_burst(io->ctx, 0, pkts, 1), 1);
	assert_int_equal(c.s2c->tail, 6);
	assert_int_equal(c.s2c->desc[4].flags, MEMIF_DESC_FLAG_NEXT);
	assert_int_equal(c.s2c->desc[4].length, 1024);
	assert_int_equal(c.s2c->desc[5].flags, 0);
	assert_int_equal(c.s2c->desc[5].length, 476);

	/* A head that claims 60000 free slots: at most one ring's worth is used. */
	__atomic_store_n(&c.s2c->head, (uint16_t)(6 + 60000), __ATOMIC_RELEASE);
	for (unsigned i = 0; i < NDESC; i++)
		c.s2c->desc[i] = (struct memif_desc){ .region = 0, .length = 0xffffffff,
						      .offset = 0xffffff00 };
	pkts[0] = rte_pktmbuf_alloc(mp);
	memset(rte_pktmbuf_append(pkts[0], 60), 0x66, 60);
	assert_int_equal(io->tx_burst(io->ctx, 0, pkts, 1), 0);
	rte_pktmbuf_free(pkts[0]);
	assert_true((uint16_t)(c.s2c->tail - 6) <= NDESC);
	assert_true(bad_desc("mt") >= 2 + 1);

	client_close(&c);
	drop_port("mt");
}

/* Each bad set-up: DISCONNECT with its reason, the link stays down. */
static void
test_bad_handshakes(void **state)
{
	struct memif_msg m;
	struct client c;
	uint16_t id;

	(void)state;
	make_port("mb", ",\"id\":4,\"secret\":\"s3cret\",\"ring_size\":64", &id);
	{
		/* Another port on the same socket: refused, naming the user. */
		struct psw_port_conf conf = { .output = PSW_PORT_NONE, .name = "mb2" };
		const struct psw_port_io *io;
		struct psw_rpc_error err;
		json_t *o = json_pack("{s:s, s:b}", "socket", sock_path, "abstract", 0);

		assert_int_equal(psw_backend_find("memif")->create("mb2", o, &conf, &io, &err), -1);
		if (strstr(err.message, "already used by port mb") == NULL)
			fail_msg("duplicate socket: %s", err.message);
		json_decref(o);
	}

	client_connect(&c);
	send_init(&c, 5, "s3cret");
	expect_disconnect(&c, "ID not found");
	client_close(&c);

	client_connect(&c);
	send_init(&c, 4, "wrong");
	expect_disconnect(&c, "Incorrect secret");
	client_close(&c);

	client_connect(&c);
	send_init(&c, 4, NULL);
	expect_disconnect(&c, "Secret required");
	client_close(&c);

	/* A message before INIT. */
	client_connect(&c);
	m = (struct memif_msg){ .type = MEMIF_MSG_CONNECT };
	send_msg(&c, &m, -1);
	expect_disconnect(&c, "Unexpected message");
	client_close(&c);

	/* Unsealed memory could shrink under us. */
	client_connect(&c);
	send_init(&c, 4, "s3cret");
	expect(&c, MEMIF_MSG_ACK);
	make_region(&c, REGION, false);
	send_region(&c, REGION);
	expect_disconnect(&c, "sealed");
	client_close(&c);

	/* A region larger than its memfd. */
	client_connect(&c);
	send_init(&c, 4, "s3cret");
	expect(&c, MEMIF_MSG_ACK);
	make_region(&c, REGION, true);
	send_region(&c, REGION * 2);
	expect_disconnect(&c, "smaller");
	client_close(&c);

	/* Rings outside the region, too large, misplaced. */
	static const struct { uint32_t off; uint8_t log2; const char *why; } rings[] = {
		{ REGION - 64, LOG2, "outside" },
		{ 0xffffff80, LOG2, "outside" },
		{ 0, 7, "too large" },      /* ring_size 64 was configured */
		{ 4, LOG2, "Misaligned" },
	};
	for (unsigned i = 0; i < RTE_DIM(rings); i++) {
		client_connect(&c);
		send_init(&c, 4, "s3cret");
		expect(&c, MEMIF_MSG_ACK);
		make_region(&c, REGION, true);
		send_region(&c, REGION);
		expect(&c, MEMIF_MSG_ACK);
		send_ring(&c, true, rings[i].off, rings[i].log2);
		expect_disconnect(&c, rings[i].why);
		client_close(&c);
	}

	/* CONNECT without rings. */
	client_connect(&c);
	send_init(&c, 4, "s3cret");
	expect(&c, MEMIF_MSG_ACK);
	m = (struct memif_msg){ .type = MEMIF_MSG_CONNECT };
	send_msg(&c, &m, -1);
	expect_disconnect(&c, "No rings");
	client_close(&c);

	/* A client that says nothing is dropped after the handshake timeout; until then
	 * at most 4 handshakes wait, further clients are closed at once. */
	{
		struct client q[5];

		psw_memif_server_set_handshake_timeout(300);
		for (int i = 0; i < 4; i++)
			client_connect(&q[i]);
		memset(&q[4], 0, sizeof(q[4]));
		q[4].fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		{
			struct sockaddr_un sa = { .sun_family = AF_UNIX };

			snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
			assert_int_equal(connect(q[4].fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		}
		assert_int_equal(reply(&q[4], &m), 0); /* no slot: closed without HELLO */
		client_close(&q[4]);
		for (int i = 0; i < 4; i++) {
			expect_disconnect(&q[i], "timed out");
			client_close(&q[i]);
		}
		psw_memif_server_set_handshake_timeout(5000);
	}

	/* A short message. */
	client_connect(&c);
	assert_int_equal(send(c.fd, "xx", 2, 0), 2);
	assert_int_equal(reply(&c, &m), 0);
	client_close(&c);

	assert_false(psw_ports[id].link_up);
	assert_false(psw_memif_server_connected(psw_memif_server_find("mb")));
	psw_rcu_reclaim();
	drop_port("mb");
}

/* A second client while one is connected is refused; the first keeps working; after
 * it goes, a new one connects (a pod restart). port.del with a client connected. */
static void
test_reconnect(void **state)
{
	struct rte_mbuf *pkts[4];
	struct client a, b;
	uint16_t id;
	const struct psw_port_io *io = make_port("mr", NULL, &id);

	(void)state;
	client_up(&a, "mr", id, io);
	client_connect(&b);
	send_init(&b, 0, NULL);
	expect_disconnect(&b, "Already connected");
	client_close(&b);
	put(&a, good(&a, 64, 9, 0));
	publish(&a, a.head);
	assert_int_equal(rx(&a, pkts, 4), 1);
	rte_pktmbuf_free(pkts[0]);
	client_close(&a);
	psw_rcu_reclaim();

	client_up(&b, "mr", id, io);
	put(&b, good(&b, 64, 10, 0));
	publish(&b, b.head);
	assert_int_equal(rx(&b, pkts, 4), 1);
	rte_pktmbuf_free(pkts[0]);
	/* port.del while connected: the client is told. */
	drop_port("mr");
	assert_int_equal(reply(&b, (struct memif_msg[1]){}), MEMIF_MSG_DISCONNECT);
	client_close(&b);
}

static int
setup(void **state)
{
	char *argv[] = {"test_memif_server", "-l", "0", "--no-huge", "--no-pci", "-m", "128",
			"--log-level", "error", "--file-prefix", "test_memif_server"};
	unsigned lcore = 0;

	(void)state;
	snprintf(sock_path, sizeof(sock_path), "/tmp/psw-memif-test-%d.sock", getpid());
	if (rte_eal_init((int)RTE_DIM(argv), argv) < 0)
		return -1;
	psw_port_on_queues_changed(psw_pmd_assign_rxqs);
	if (psw_rcu_init(1) || psw_pmd_init(&lcore, 1, 0) || psw_port_init(1, 4096, 0) ||
	    psw_backends_init("/tmp"))
		return -1;
	mp = rte_mempool_lookup("psw_mbuf_0");
	return mp == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	psw_backend_fini();
	psw_pmd_fini();
	psw_port_fini();
	psw_rcu_fini();
	rte_eal_cleanup();
	unlink(sock_path);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_packets),
		cmocka_unit_test(test_hostile_rx),
		cmocka_unit_test(test_hostile_tx),
		cmocka_unit_test(test_bad_handshakes),
		cmocka_unit_test(test_reconnect),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
