/*
 * clock.c: the one clock (clock.h). Any thread.
 */
#include <time.h>

#include <rte_cycles.h>

#include "core/clock.h"

static uint64_t tsc_hz;
static double start_s;

uint64_t
psw_clock_hz(void)
{
	if (tsc_hz == 0)
		tsc_hz = rte_get_tsc_hz();
	return tsc_hz ? tsc_hz : 1;
}

uint64_t
psw_clock_s(void)
{
	return rte_get_tsc_cycles() / psw_clock_hz();
}

double
psw_clock_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
psw_clock_mark_start(void)
{
	start_s = psw_clock_mono_s();
}

double
psw_clock_uptime_s(void)
{
	return psw_clock_mono_s() - start_s;
}

void
psw_clock_sleep_us(unsigned us)
{
	struct timespec ts = {
		.tv_sec = us / 1000000,
		.tv_nsec = (long)(us % 1000000) * 1000,
	};

	nanosleep(&ts, NULL);
}
