/*
 * telemetry.h: podswitchd's commands in DPDK telemetry, /podswitch/... (telemetry.c).
 */
#ifndef PSW_CONTROL_TELEMETRY_H
#define PSW_CONTROL_TELEMETRY_H

/* Control thread, after rte_eal_init and psw_metrics_init: registers the commands.
 * 0, or non-zero when DPDK refused one (telemetry off: --no-telemetry). */
int psw_telemetry_init(void);

#endif
