/*
 * clock.h: the one clock (any thread). psw_clock_s() is coarse seconds from the TSC: what
 * the FDB's last-seen times, rule hit times and rule ages are in; PMDs keep it per
 * iteration (psw_pmd_set_now() in core/burst.h: a division only when the second turns).
 * psw_clock_mono_s() is CLOCK_MONOTONIC for the control thread (uptime, timeouts). psw_clock_sleep_us() is the one sleep a PMD may take, when it
 * is idle and back-off is configured (datapath/pmd.c): the only system call on a PMD, kept
 * here so that datapath/ makes none.
 */
#ifndef PSW_CORE_CLOCK_H
#define PSW_CORE_CLOCK_H

#include <stdint.h>

/* TSC ticks per second (rte_get_tsc_hz(), 1 before the EAL is up). */
uint64_t psw_clock_hz(void);
/* Coarse seconds since boot, from the TSC. */
uint64_t psw_clock_s(void);
/* CLOCK_MONOTONIC seconds (control thread). */
double psw_clock_mono_s(void);
/* Seconds since psw_clock_mark_start() (switch.info's uptime). */
void psw_clock_mark_start(void);
double psw_clock_uptime_s(void);
/* Sleep us microseconds (nanosleep). */
void psw_clock_sleep_us(unsigned us);

#endif
