/*
 * inject.c: the control thread's packets out (inject.h). Control thread (post) and PMD 0
 * (the ring's one consumer, datapath/pmd.c).
 */
#include <errno.h>

#include <rte_errno.h>

#include "core/inject.h"
#include "core/mbuf_meta.h"

struct rte_ring *psw_inject_ring;
static uint64_t sent, lost;

int
psw_inject_init(void)
{
	if (psw_inject_ring != NULL)
		return 0;
	/* One producer (the control thread), one consumer (PMD 0). */
	psw_inject_ring = rte_ring_create("psw_inject", PSW_INJECT_RING, SOCKET_ID_ANY,
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
	return psw_inject_ring != NULL ? 0 : -rte_errno;
}

void
psw_inject_fini(void)
{
	struct rte_mbuf *m;

	if (psw_inject_ring == NULL)
		return;
	while (rte_ring_dequeue(psw_inject_ring, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(psw_inject_ring);
	psw_inject_ring = NULL;
}

int
psw_inject(uint16_t port, struct rte_mbuf *m)
{
	psw_mbuf_meta(m)->out_port = port;
	if (psw_inject_ring == NULL || rte_ring_enqueue(psw_inject_ring, m) != 0) {
		rte_pktmbuf_free(m);
		lost++;
		return -ENOBUFS;
	}
	sent++;
	return 0;
}

uint64_t
psw_inject_sent(void)
{
	return sent;
}

uint64_t
psw_inject_lost(void)
{
	return lost;
}
