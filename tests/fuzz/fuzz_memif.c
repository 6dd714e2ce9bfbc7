/*
 * fuzz_memif.c: podswitch's memif server (backends/memif_server.c: control messages,
 * regions, rings; memif_ring.c: the descriptor checks on the PMD side) against a client
 * the fuzzer writes: control messages of any content with or without a file descriptor
 * (a sealed or unsealed memfd of any size, an eventfd), a well-formed handshake to reach
 * the rings, then descriptors, ring indexes and ring headers of any value while the
 * server receives (rx_burst) and sends (tx_burst). Nothing may crash or read outside the
 * client's regions (ASan), and every mbuf comes back to the pool.
 *
 * The port is made through the "memif" back end (create, psw_port_add_io, started) as
 * rpc_port.c does, with a socket file in a private temp directory; the fuzzer's thread
 * plays the client, the control loop and PMD 0. Input: a script of operations, one byte
 * each followed by its operands (see run_op).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_mbuf.h>

#include "backends/backends.h"
#include "backends/memif_proto.h"
#include "backends/memif_server.h"
#include "core/rcu.h"
#include "datapath/pmd.h"
#include "port/backend.h"
#include "port/port.h"
#include "fuzz_common.h"

#define LOG2       5                    /* 32 descriptors per ring */
#define NDESC      (1u << LOG2)
#define BUFSZ      2048u
#define RING_BYTES (MEMIF_RING_HDR_SIZE + NDESC * sizeof(struct memif_desc))
#define BUF0       (2 * RING_BYTES)
#define REGION     (BUF0 + 2 * NDESC * BUFSZ)

static char dir[256], sock[300];
static const struct psw_port_io *io;
static struct rte_mempool *pool;

static struct {
	int fd;
	uint8_t *mem;                  /* the region of a good handshake */
	struct memif_ring *c2s, *s2c;
} cl = { .fd = -1 };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct psw_port_conf conf = { .output = PSW_PORT_NONE, .type = "memif", .name = "m" };
	const struct psw_backend *be;
	struct psw_rpc_error err;
	unsigned lcore = 0;
	char opts[256], msg[256];
	json_t *o;

	(void)argc;
	(void)argv;
	psw_fuzz_eal("memif");
	psw_fuzz_tmpdir(dir, sizeof(dir), "memif");
	snprintf(sock, sizeof(sock), "%s/m.sock", dir);
	if (psw_rcu_init(1) || psw_pmd_init(&lcore, 1, 0) || psw_port_init(1, 4095, 0) ||
	    psw_backends_init(dir) != 0)
		abort();
	be = psw_backend_find("memif");
	snprintf(opts, sizeof(opts), "{\"socket\":\"%s\",\"abstract\":false,\"ring_size\":%u,"
		 "\"buffer_size\":%u}", sock, NDESC, BUFSZ);
	o = json_loads(opts, 0, NULL);
	if (be == NULL || o == NULL || be->create("m", o, &conf, &io, &err) != 0 ||
	    psw_port_add_io(&conf, io, msg, sizeof(msg)) < 0 ||
	    be->started("m", UINT16_MAX, o, &err) != 0)
		abort();
	json_decref(o);
	pool = psw_port_pool();
	return 0;
}

static void
serve(void)
{
	for (int i = 0; i < 3; i++)
		psw_backend_poll_events();
}

/* Whatever the server said: read and forget (it may also have closed). */
static void
drain(void)
{
	struct memif_msg m;

	serve();
	while (cl.fd >= 0 && recv(cl.fd, &m, sizeof(m), MSG_DONTWAIT) > 0)
		;
}

static void
client_close(void)
{
	if (cl.fd >= 0)
		close(cl.fd);
	if (cl.mem != NULL)
		munmap(cl.mem, REGION);
	cl.fd = -1;
	cl.mem = NULL;
	cl.c2s = cl.s2c = NULL;
	serve();
	psw_rcu_reclaim();
}

static void
client_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	client_close();
	cl.fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (cl.fd < 0 || connect(cl.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		abort();
	drain(); /* HELLO */
}

static void
send_msg(const struct memif_msg *m, int fd)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (cl.fd < 0)
		return;
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
	(void)sendmsg(cl.fd, &mh, MSG_NOSIGNAL);
}

static int
memfd(uint64_t size, bool seal)
{
	int fd = memfd_create("fuzz-memif", MFD_ALLOW_SEALING | MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, (off_t)size) != 0)
		abort();
	if (seal)
		(void)fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);
	return fd;
}

/* Op 1: a message of any content, with a descriptor chosen by the input. */
static void
raw_msg(struct psw_fuzz_in *in)
{
	struct memif_msg m;
	const uint8_t *p;
	uint8_t what = psw_fuzz_u8(in);
	int fd = -1;

	memset(&m, 0, sizeof(m));
	m.type = (uint16_t)(1 + psw_fuzz_u8(in) % 9);
	psw_fuzz_take(in, sizeof(m.pad), &p);
	memcpy(m.pad, p, (size_t)(in->p - p));
	switch (what % 4) {
	case 1:
		fd = memfd((uint64_t)psw_fuzz_u16(in) * 64, true);
		break;
	case 2:
		fd = memfd((uint64_t)psw_fuzz_u16(in) * 64, false);
		break;
	case 3:
		fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		break;
	}
	send_msg(&m, fd);
	if (fd >= 0)
		close(fd);
	drain();
}

/* Op 2: the handshake a good client makes (region: the two rings, then buffers). */
static void
good_handshake(void)
{
	struct memif_msg m;
	int fd, efd;

	client_connect();
	memset(&m, 0, sizeof(m));
	m.type = MEMIF_MSG_INIT;
	m.init.version = MEMIF_VERSION;
	m.init.mode = MEMIF_MODE_ETHERNET;
	send_msg(&m, -1);
	drain();
	fd = memfd(REGION, true);
	cl.mem = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (cl.mem == MAP_FAILED)
		abort();
	cl.c2s = (struct memif_ring *)cl.mem;
	cl.s2c = (struct memif_ring *)(cl.mem + RING_BYTES);
	for (unsigned i = 0; i < NDESC; i++)
		cl.s2c->desc[i] = (struct memif_desc){ .length = BUFSZ,
			.offset = (uint32_t)(BUF0 + (NDESC + i) * BUFSZ) };
	cl.c2s->cookie = cl.s2c->cookie = MEMIF_COOKIE;
	memset(&m, 0, sizeof(m));
	m.type = MEMIF_MSG_ADD_REGION;
	m.add_region.size = REGION;
	send_msg(&m, fd);
	close(fd);
	drain();
	for (int c2s = 1; c2s >= 0; c2s--) {
		memset(&m, 0, sizeof(m));
		m.type = MEMIF_MSG_ADD_RING;
		m.add_ring.flags = c2s ? MEMIF_ADD_RING_FLAG_C2S : 0;
		m.add_ring.offset = c2s ? 0 : RING_BYTES;
		m.add_ring.log2_ring_size = LOG2;
		efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		send_msg(&m, efd);
		close(efd);
		drain();
	}
	memset(&m, 0, sizeof(m));
	m.type = MEMIF_MSG_CONNECT;
	send_msg(&m, -1);
	drain();
}

/* A descriptor from the input: raw, or (bit 0 of its first byte) pointing at a buffer
 * of the region with a length and flags from the input. */
static struct memif_desc
desc(struct psw_fuzz_in *in, unsigned slot)
{
	uint8_t kind = psw_fuzz_u8(in);
	struct memif_desc d;

	if (kind & 1)
		return (struct memif_desc){ .flags = kind & 2 ? MEMIF_DESC_FLAG_NEXT : 0,
			.length = psw_fuzz_u16(in) % (BUFSZ + 2),
			.offset = (uint32_t)(BUF0 + (slot % (2 * NDESC)) * BUFSZ) };
	d.flags = psw_fuzz_u16(in);
	d.region = psw_fuzz_u16(in);
	d.length = psw_fuzz_u32(in);
	d.offset = psw_fuzz_u32(in);
	d.metadata = 0;
	return d;
}

/* Op 3: the client sends k descriptors (head moves by k, or to a value of the input);
 * the server receives. */
static void
client_tx(struct psw_fuzz_in *in)
{
	struct rte_mbuf *pkts[PSW_BURST];
	uint8_t k = psw_fuzz_u8(in) % (NDESC + 1);
	uint16_t head, n;

	if (cl.c2s == NULL)
		return;
	head = cl.c2s->head;
	for (uint8_t i = 0; i < k; i++)
		cl.c2s->desc[(head + i) & (NDESC - 1)] = desc(in, (unsigned)(head + i));
	head = (psw_fuzz_u8(in) & 1) ? psw_fuzz_u16(in) : (uint16_t)(head + k);
	__atomic_store_n(&cl.c2s->head, head, __ATOMIC_RELEASE);
	n = io->rx_burst(io->ctx, 0, pkts, PSW_BURST);
	rte_pktmbuf_free_bulk(pkts, n);
}

/* Op 4: the client offers k buffers (or sets head from the input); the server sends. */
static void
client_rx(struct psw_fuzz_in *in)
{
	struct rte_mbuf *pkts[PSW_BURST];
	uint8_t k = psw_fuzz_u8(in) % (NDESC + 1), want = psw_fuzz_u8(in) % (PSW_BURST + 1);
	uint16_t head, sent, n = 0;

	if (cl.s2c == NULL)
		return;
	head = cl.s2c->head;
	for (uint8_t i = 0; i < k; i++)
		cl.s2c->desc[(head + i) & (NDESC - 1)] = desc(in, (unsigned)(NDESC + head + i));
	head = (psw_fuzz_u8(in) & 1) ? psw_fuzz_u16(in) : (uint16_t)(head + k);
	__atomic_store_n(&cl.s2c->head, head, __ATOMIC_RELEASE);
	while (n < want) {
		uint16_t len = (uint16_t)(1 + psw_fuzz_u16(in) % 9000);
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool), *last = m;

		if (m == NULL)
			abort();
		/* Jumbo frames are chains of mbufs. */
		while (len > 0) {
			uint16_t c = len < 2000 ? len : 2000;

			if (rte_pktmbuf_append(last, c) == NULL)
				abort();
			len = (uint16_t)(len - c);
			if (len > 0) {
				struct rte_mbuf *s = rte_pktmbuf_alloc(pool);

				if (s == NULL || rte_pktmbuf_chain(m, s) != 0)
					abort();
				last = s;
			}
		}
		pkts[n++] = m;
	}
	sent = io->tx_burst(io->ctx, 0, pkts, n);
	rte_pktmbuf_free_bulk(pkts + sent, (unsigned)(n - sent));
	/* The client takes what it got. */
	if (cl.s2c != NULL && (psw_fuzz_u8(in) & 1))
		cl.s2c->tail = psw_fuzz_u16(in);
}

/* Op 5: scribble on a ring header (cookie, flags, head, tail). */
static void
scribble(struct psw_fuzz_in *in)
{
	struct memif_ring *r = psw_fuzz_u8(in) & 1 ? cl.c2s : cl.s2c;
	const uint8_t *p;
	size_t off = psw_fuzz_u8(in) % MEMIF_RING_HDR_SIZE, n;

	if (r == NULL)
		return;
	n = psw_fuzz_take(in, 8, &p);
	if (off + n > MEMIF_RING_HDR_SIZE)
		n = MEMIF_RING_HDR_SIZE - off;
	memcpy((uint8_t *)r + off, p, n);
}

static void
run_op(struct psw_fuzz_in *in)
{
	switch (psw_fuzz_u8(in) % 6) {
	case 0:
		client_connect();
		break;
	case 1:
		raw_msg(in);
		break;
	case 2:
		good_handshake();
		break;
	case 3:
		client_tx(in);
		break;
	case 4:
		client_rx(in);
		break;
	case 5:
		scribble(in);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct psw_fuzz_in in = { data, size };

	for (unsigned ops = 0; in.n > 0 && ops < 64; ops++)
		run_op(&in);
	client_close();
	if (rte_mempool_in_use_count(pool) != 0) {
		fprintf(stderr, "fuzz_memif: %u mbufs not returned\n", rte_mempool_in_use_count(pool));
		abort();
	}
	return 0;
}
