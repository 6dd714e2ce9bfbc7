/*
 * pipeline.c: the forwarding decision for one rx burst (PMD threads), between pmd.c's
 * rx and txq.c's tx. For now: a port's static output, or a counted drop.
 */
#include "pmd.h"

void
psw_pipeline_burst(struct psw_pmd *pmd, uint16_t in_port, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t out = __atomic_load_n(&psw_ports[in_port].output, __ATOMIC_RELAXED);
	enum psw_drop_reason why = PSW_DROP_NO_OUTPUT;

	if (likely(out != PSW_PORT_NONE && out != in_port)) {
		for (uint16_t i = 0; i < n; i++)
			psw_txq_enqueue(pmd, out, pkts[i], in_port);
		return;
	}
	if (out == in_port)
		why = PSW_DROP_HAIRPIN;
	for (uint16_t i = 0; i < n; i++)
		psw_pmd_drop(pmd, pkts[i], in_port, why);
}
