/* mbuf_meta.c: pools with room for the per-packet metadata (mbuf_meta.h). */
#include "core/mbuf_meta.h"

struct rte_mempool *
psw_mbuf_pool_create(const char *name, unsigned n, unsigned cache, int socket)
{
	return rte_pktmbuf_pool_create(name, n, cache, PSW_MBUF_PRIV_SIZE,
				       RTE_MBUF_DEFAULT_BUF_SIZE, socket);
}
