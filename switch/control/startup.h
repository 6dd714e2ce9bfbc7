/*
 * startup.h: the tables and the hooks between layers, set up once (main.c, and the unit
 * tests that run a switch without main). Control thread.
 */
#ifndef PSW_CONTROL_STARTUP_H
#define PSW_CONTROL_STARTUP_H

#include <stddef.h>

/* After rte_eal_init, psw_rcu_init, psw_pmd_init and psw_port_init: the rule table, the
 * networks and their learn ring, every PMD's datapath state, and the hooks by which lower
 * layers hear of higher ones (a port removed, rx queues changed, networks for port.add).
 * 0 = default for each number. 0 or -errno with a message. */
int psw_startup_tables(unsigned cache_entries, unsigned mac_aging_s, unsigned mac_limit,
		       char *err, size_t errlen);
/* After the PMDs have stopped and the ports are gone. */
void psw_startup_tables_fini(void);

#endif
