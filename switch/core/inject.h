/*
 * inject.h: packets the control thread sends (ARP and ND requests for next hops, packets
 * held until their next hop resolved). The control thread never touches a device's tx
 * queues: it posts the packet with its output port on a ring, and PMD 0 sends it from its
 * own tx buffers in its next iteration, as any other packet (DESIGN.md: one writer per
 * queue). What the ring cannot take is freed and counted.
 */
#ifndef PSW_CORE_INJECT_H
#define PSW_CORE_INJECT_H

#include <stdint.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#define PSW_INJECT_RING 1024

/* Dequeued by PMD 0 (datapath/pmd.c); NULL before psw_inject_init. */
extern struct rte_ring *psw_inject_ring;

/* Control thread, after rte_eal_init. 0 or -errno. */
int psw_inject_init(void);
void psw_inject_fini(void);
/* Control thread: send m (consumed) out of port. 0, or -ENOBUFS when the ring is full
 * (m freed and counted in psw_inject_lost). */
int psw_inject(uint16_t port, struct rte_mbuf *m);
uint64_t psw_inject_sent(void);
uint64_t psw_inject_lost(void);

#endif
