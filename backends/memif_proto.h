/*
 * memif_proto.h: the memif protocol 2.0 as its peers speak it (libmemif, VPP, DPDK
 * net_memif), and the connection state shared by the control side (memif_server.c,
 * control thread) and the data path (memif_ring.c, PMD threads).
 *
 * Wire facts: every control message is 128 bytes on a SOCK_SEQPACKET socket, a 16-bit
 * type then a packed body; file descriptors (regions, interrupt eventfds) ride along as
 * SCM_RIGHTS. A ring is a 128-byte header (cookie, flags, head on the first cache line,
 * tail on the second) followed by 16-byte descriptors. The client owns all shared memory:
 * it sends the regions and places the rings. c2s (client to server, "S2M" in older
 * names): the client fills descriptors and advances head, the server consumes and
 * advances tail. s2c ("M2S"): the client offers empty buffers by advancing head, the
 * server fills them and advances tail.
 */
#ifndef PSW_MEMIF_PROTO_H
#define PSW_MEMIF_PROTO_H

#include <stdint.h>
#include <rte_common.h>
#include <rte_mempool.h>
#include <rte_spinlock.h>

#include "port/port.h"

#define MEMIF_COOKIE          0x3E31F20u
#define MEMIF_VERSION         0x0200u /* 2.0 */
#define MEMIF_NAME_SZ         32
#define MEMIF_SECRET_SZ       24
#define MEMIF_MSG_SIZE        128

enum {
	MEMIF_MSG_ACK = 1,
	MEMIF_MSG_HELLO = 2,
	MEMIF_MSG_INIT = 3,
	MEMIF_MSG_ADD_REGION = 4,
	MEMIF_MSG_ADD_RING = 5,
	MEMIF_MSG_CONNECT = 6,
	MEMIF_MSG_CONNECTED = 7,
	MEMIF_MSG_DISCONNECT = 8,
};

#define MEMIF_MODE_ETHERNET       0
#define MEMIF_ADD_RING_FLAG_C2S   1      /* else s2c */
#define MEMIF_DESC_FLAG_NEXT      1      /* chained buffer */
#define MEMIF_RING_FLAG_MASK_INT  1      /* receiver polls: no interrupt wanted */

struct __rte_packed memif_msg_hello {
	uint8_t name[MEMIF_NAME_SZ];
	uint16_t min_version, max_version;
	uint16_t max_region;          /* highest region index */
	uint16_t max_s2c_ring;        /* highest ring index */
	uint16_t max_c2s_ring;
	uint8_t max_log2_ring_size;
};

struct __rte_packed memif_msg_init {
	uint16_t version;
	uint32_t id;
	uint8_t mode;
	uint8_t secret[MEMIF_SECRET_SZ];
	uint8_t name[MEMIF_NAME_SZ];
};

struct __rte_packed memif_msg_add_region {
	uint16_t index;
	uint64_t size;
};

struct __rte_packed memif_msg_add_ring {
	uint16_t flags;
	uint16_t index;
	uint16_t region;
	uint32_t offset;
	uint8_t log2_ring_size;
	uint16_t private_hdr_size;
};

struct __rte_packed memif_msg_name {   /* CONNECT, CONNECTED */
	uint8_t if_name[MEMIF_NAME_SZ];
};

struct __rte_packed memif_msg_disconnect {
	uint32_t code;
	uint8_t string[96];
};

struct __rte_packed memif_msg {
	uint16_t type;
	union __rte_packed {
		struct memif_msg_hello hello;
		struct memif_msg_init init;
		struct memif_msg_add_region add_region;
		struct memif_msg_add_ring add_ring;
		struct memif_msg_name connect;
		struct memif_msg_disconnect disconnect;
		uint8_t pad[MEMIF_MSG_SIZE - 2];
	};
};

struct __rte_packed memif_desc {
	uint16_t flags;
	uint16_t region;
	uint32_t length;
	uint32_t offset;
	uint32_t metadata;
};

struct memif_ring {
	uint32_t cookie;
	uint16_t flags;
	uint16_t head;
	uint8_t pad0[56];
	uint16_t tail;
	uint8_t pad1[62];
	struct memif_desc desc[];
};

#define MEMIF_RING_HDR_SIZE 128

_Static_assert(sizeof(struct memif_msg) == MEMIF_MSG_SIZE, "memif message size");
_Static_assert(sizeof(struct memif_desc) == 16, "memif descriptor size");
_Static_assert(sizeof(struct memif_ring) == MEMIF_RING_HDR_SIZE, "memif ring header");
_Static_assert(offsetof(struct memif_ring, tail) == 64, "memif tail offset");
_Static_assert(offsetof(struct memif_msg_init, secret) == 7, "memif init layout");
_Static_assert(offsetof(struct memif_msg_add_ring, private_hdr_size) == 11, "add_ring layout");

/* Limits we offer in HELLO (and enforce). */
#define MSRV_MAX_REGIONS   16
#define MSRV_MAX_CHAIN     32          /* descriptors per packet */
#define MSRV_MAX_REGION_SZ (1ull << 36) /* 64 GiB of address space per region */

struct msrv_region {
	uint8_t *addr;
	uint64_t size;
	int fd;
};

/* One ring as the data path sees it. `cursor` is the server's own position (c2s: next
 * descriptor to read; s2c: next to fill); the copy in shared memory is only written,
 * never trusted. */
struct msrv_ring {
	struct memif_ring *ring;   /* NULL: not added */
	uint16_t size, mask;
	uint16_t cursor;
	int intr_fd;               /* the client's eventfd, kept open, never written */
	rte_spinlock_t lock;       /* s2c only, when PMDs outnumber rings */
} __rte_cache_aligned;

/* A connection, published to PMDs (RCU): immutable once published except the cursors
 * and locks, which only the ring's PMD (or the lock holder) touches. */
struct msrv_conn {
	uint16_t n_regions, n_c2s, n_s2c;
	uint16_t n_txq;            /* the port's tx queues: > n_s2c means PMDs share rings */
	uint32_t max_len;          /* longest descriptor accepted */
	struct rte_mempool *mp;
	struct msrv_region region[MSRV_MAX_REGIONS];
	struct msrv_ring c2s[PSW_MAX_QUEUES];
	struct msrv_ring s2c[PSW_MAX_QUEUES];
};

/* Per-queue counters, written by the queue's PMD only (a shared s2c ring under its lock). */
struct msrv_qstats {
	uint64_t bad_desc;
} __rte_cache_aligned;

/* What the data path needs of a port: the published connection and the counters. */
struct msrv_dp {
	struct msrv_conn *conn;    /* RCU-published; NULL while no client is connected */
	struct msrv_qstats rx[PSW_MAX_QUEUES];
	struct msrv_qstats tx[PSW_MAX_QUEUES];
};

/* memif_ring.c, PMD threads: ctx is a struct msrv_dp. */
uint16_t psw_memif_rx_burst(void *ctx, uint16_t queue, struct rte_mbuf **pkts, uint16_t n);
uint16_t psw_memif_tx_burst(void *ctx, uint16_t queue, struct rte_mbuf **pkts, uint16_t n);

#endif
